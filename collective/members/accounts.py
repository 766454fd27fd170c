"""People's accounts: registering, signing in, passwords and profiles. Flush, never commit."""
from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context

from collective import audit
from collective.clock import canonical_timezone
from collective.errors import Conflict, DomainError
from collective.extensions import db
from collective.members.models import Skill, User
from collective.money import MoneyError, check_currency

MIN_PASSWORD_LENGTH = 10
MAX_SKILLS = 30

#: Hashes to compare against when the e-mail is unknown (one per hash method), so that a
#: failed sign-in takes as long whether or not the account exists.
_DUMMY_USERS: dict[str, User] = {}


def password_method() -> str:
    """The configured hash method: scrypt at werkzeug's work factor unless the app sets
    PASSWORD_HASH_METHOD (the test suite uses a lighter scrypt to stay fast)."""
    if has_app_context():
        return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return "scrypt"


def _dummy_user() -> User:
    method = password_method()
    if method not in _DUMMY_USERS:
        dummy = User(email="", name="")
        dummy.set_password(secrets.token_hex(16), method)
        _DUMMY_USERS[method] = dummy
    return _DUMMY_USERS[method]


def normalise_email(email: str) -> str:
    """Trim and lower-case an e-mail address."""
    return (email or "").strip().lower()


def check_timezone(name: str | None) -> str:
    """The IANA spelling of a timezone name (matched case-insensitively), or DomainError."""
    canonical = canonical_timezone(name or "")
    if canonical is None:
        raise DomainError(f"{(name or '').strip()!r} is not a timezone we know; pick one from "
                          "the list, like Asia/Manila", field="timezone")
    return canonical


def check_name(name: str, field: str = "name", limit: int = 120) -> str:
    """A name with its spaces tidied, or DomainError naming `field`."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise DomainError("a name is needed", field=field)
    if len(cleaned) > limit:
        raise DomainError(f"a name has at most {limit} characters", field=field)
    return cleaned


def _check_country(country: str | None) -> str | None:
    code = (country or "").strip().upper()
    if code and not re.fullmatch(r"[A-Z]{2}", code):
        raise DomainError("a country is two letters, like PH", field="country")
    return code or None


def check_new_password(password: str) -> None:
    """DomainError unless the password is long enough (the rule for every new password)."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )


def email_confirmed(user: User) -> bool:
    """True when the account's address was confirmed by a mailed link (or the account is
    older than confirmation links)."""
    return user.email_confirmed_at is not None


def may_email(user: User) -> bool:
    """True when the app may mail the account's address about anything but the account
    itself (notifications): only once the address is confirmed. Confirmation links, password
    resets and invitations go to an address whatever its state."""
    return email_confirmed(user)


def register_user(
    email: str, name: str, password: str, *, timezone: str = "UTC", country: str | None = None,
    confirmed_at: datetime | None = None,
) -> User:
    """Create a person who can sign in; their address is unconfirmed unless `confirmed_at`
    says when it was (the demo's people, and accounts made by tests)."""
    email = normalise_email(email)
    if db.session.scalar(sa.select(User.id).filter_by(email=email)) is not None:
        raise Conflict("an account with this e-mail already exists; sign in instead",
                       field="email")
    if len(email) > 254 or "@" not in email:
        raise DomainError("give a valid e-mail address", field="email")
    check_new_password(password)
    user = User(email=email, name=check_name(name), timezone=check_timezone(timezone),
                country=_check_country(country), email_confirmed_at=confirmed_at)
    user.set_password(password, password_method())
    db.session.add(user)
    db.session.flush()
    audit.record("account.registered", subject=user, actor=user)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user with this e-mail and password, or None (taking the same time either way)."""
    user = db.session.scalar(sa.select(User).filter_by(email=normalise_email(email)))
    if user is None:
        _dummy_user().check_password(password or "")
        return None
    return user if user.check_password(password or "") else None


def record_sign_in(user: User) -> None:
    """Put a sign-in in the audit log (the caller commits)."""
    audit.record("account.signed_in", subject=user, actor=user)


def record_failed_sign_in(email: str) -> None:
    """Put a failed sign-in in the audit log, committed on its own: against the account when
    the address is one (its collectives' treasurers see it), else against no one. The
    address typed is kept only if it looks like one (someone may type a password into the
    e-mail field), and is never said back to whoever signs in."""
    address = normalise_email(email)
    user_id = db.session.scalar(sa.select(User.id).filter_by(email=address))
    looks_like_address = "@" in address and " " not in address and len(address) <= 254
    audit.record_apart("account.login_failed",
                       subject=("user", user_id) if user_id is not None else None,
                       actor=None, email=address if looks_like_address else "")


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one."""
    if not user.check_password(current or ""):
        raise DomainError("the current password is not right", field="current_password")
    check_new_password(new)
    user.set_password(new, password_method())
    db.session.flush()
    audit.record("account.password_changed", subject=user, actor=user)


def skill_name(raw_name: str | None) -> str:
    """A skill's name as it is stored: lower case, single spaces ('Book keeping ' ->
    'book keeping')."""
    return " ".join((raw_name or "").lower().split())


def _clean_skills(skills: Mapping[str, int]) -> dict[str, int]:
    cleaned: dict[str, int] = {}
    for raw_name, level in skills.items():
        name = skill_name(raw_name)
        if not name:
            continue
        if len(name) > 60:
            raise DomainError(f"skill name {name[:20]!r}... is too long", field="skills")
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
            raise DomainError(f"the level of {name!r} must be 1 to 5", field="skills")
        cleaned[name] = level
    if len(cleaned) > MAX_SKILLS:
        raise DomainError(f"at most {MAX_SKILLS} skills", field="skills")
    return cleaned


def update_profile(
    user: User, *, name: str, timezone: str, country: str | None, skills: Mapping[str, int]
) -> User:
    """Change a person's name, timezone, country and skills with their levels."""
    name = check_name(name)
    wanted = _clean_skills(skills)
    user.name = name
    user.timezone = check_timezone(timezone)
    user.country = _check_country(country)
    existing = {skill.name: skill for skill in user.skills}
    for skill_name, skill in existing.items():
        if skill_name not in wanted:
            user.skills.remove(skill)
    for skill_name, level in wanted.items():
        if skill_name in existing:
            existing[skill_name].level = level
        else:
            user.skills.append(Skill(name=skill_name, level=level))
    db.session.flush()
    return user


def update_week_settings(user: User, *, weekly_capacity_hours: int | None,
                         display_currency: str | None, is_other_work_private: bool) -> User:
    """Set a person's own settings across their collectives: their whole week in hours
    (None: the largest of their memberships' capacities), the currency /me adds their
    earnings up in (None: their first collective's), and whether coordinators see their
    work elsewhere only as hours."""
    hours = weekly_capacity_hours
    if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int)
                              or not 0 <= hours <= 168):
        raise DomainError("your week is 0 to 168 hours", field="weekly_capacity_hours")
    currency = None
    if display_currency:
        try:
            currency = check_currency(display_currency)
        except MoneyError as exc:
            raise DomainError(str(exc), field="display_currency") from None
    user.weekly_capacity_hours = hours
    user.display_currency = currency
    user.is_other_work_private = bool(is_other_work_private)
    db.session.flush()
    return user
