"""Accounts of people, collectives, memberships, roles and invitations. Flush, never commit."""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import timedelta
from zoneinfo import available_timezones

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import orm as so

from collective.errors import Conflict, DomainError, NotAllowed, NotFound
from collective.extensions import db, utcnow
from collective.ledger.services import create_standard_chart, open_member_account
from collective.members.models import (
    Collective,
    Invitation,
    Membership,
    MembershipRole,
    MembershipStatus,
    Role,
    Skill,
    User,
)
from collective.money import MoneyError, check_currency

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
MIN_PASSWORD_LENGTH = 10
MAX_SKILLS = 30
MANAGERS = (Role.COORDINATOR, Role.TREASURER)

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


def check_timezone(name: str) -> str:
    """Return the IANA timezone name, or raise DomainError."""
    if name not in available_timezones():
        raise DomainError(f"{name!r} is not a known timezone", field="timezone")
    return name


def _check_name(name: str, field: str = "name", limit: int = 120) -> str:
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


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )


# --- People -----------------------------------------------------------------------------


def register_user(
    email: str, name: str, password: str, *, timezone: str = "UTC", country: str | None = None
) -> User:
    """Create a person who can sign in."""
    email = normalise_email(email)
    if db.session.scalar(sa.select(User.id).filter_by(email=email)) is not None:
        raise Conflict("an account with this e-mail already exists; sign in instead",
                       field="email")
    if len(email) > 254 or "@" not in email:
        raise DomainError("give a valid e-mail address", field="email")
    _check_password(password)
    user = User(email=email, name=_check_name(name), timezone=check_timezone(timezone),
                country=_check_country(country))
    user.set_password(password, password_method())
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user with this e-mail and password, or None (taking the same time either way)."""
    user = db.session.scalar(sa.select(User).filter_by(email=normalise_email(email)))
    if user is None:
        _dummy_user().check_password(password or "")
        return None
    return user if user.check_password(password or "") else None


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one."""
    if not user.check_password(current or ""):
        raise DomainError("the current password is not right", field="current_password")
    _check_password(new)
    user.set_password(new, password_method())
    db.session.flush()


def _clean_skills(skills: Mapping[str, int]) -> dict[str, int]:
    cleaned: dict[str, int] = {}
    for raw_name, level in skills.items():
        name = " ".join((raw_name or "").lower().split())
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
    name = _check_name(name)
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


# --- Collectives and memberships --------------------------------------------------------


def create_collective(
    founder: User, *, name: str, slug: str, base_currency: str, timezone: str
) -> Membership:
    """Create a collective with its chart of accounts; the founder holds every role."""
    slug = (slug or "").strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise DomainError(
            "a slug is 1 to 40 lower-case letters, digits and dashes, "
            "not starting or ending with a dash", field="slug")
    if db.session.scalar(sa.select(Collective.id).filter_by(slug=slug)) is not None:
        raise Conflict(f"the slug {slug!r} is taken", field="slug")
    name = _check_name(name)
    try:
        currency = check_currency(base_currency)
    except MoneyError as exc:
        raise DomainError(str(exc), field="base_currency") from exc
    collective = Collective(name=name, slug=slug, base_currency=currency,
                            timezone=check_timezone(timezone))
    db.session.add(collective)
    db.session.flush()
    create_standard_chart(collective.id)
    return add_member(collective, founder, {Role.MEMBER, Role.COORDINATOR, Role.TREASURER})


def add_member(
    collective: Collective,
    user: User,
    roles: Iterable[Role],
    *,
    weekly_capacity_hours: int = 0,
    status: MembershipStatus = MembershipStatus.ACTIVE,
    status_note: str = "",
) -> Membership:
    """Make `user` a member of `collective` (or bring a removed membership back)."""
    roles = _check_roles(roles)
    membership = db.session.scalar(
        sa.select(Membership).filter_by(collective_id=collective.id, user_id=user.id)
    )
    if membership is not None and membership.status != MembershipStatus.REMOVED:
        raise Conflict(f"{user.name} is already a member of {collective.name}")
    if membership is None:
        membership = Membership(collective_id=collective.id, user_id=user.id)
        db.session.add(membership)
    membership.status = status.value
    membership.status_note = status_note
    membership.weekly_capacity_hours = _check_capacity(weekly_capacity_hours)
    _replace_roles(membership, roles)
    open_member_account(collective.id, membership.id, user.name)
    return membership


def _check_roles(roles: Iterable[Role | str]) -> set[Role]:
    try:
        checked = {Role(r) for r in roles}
    except ValueError as exc:
        raise DomainError(str(exc), field="roles") from exc
    if not checked:
        raise DomainError("choose at least one role", field="roles")
    return checked


def _check_capacity(hours: int) -> int:
    if isinstance(hours, bool) or not isinstance(hours, int) or not 0 <= hours <= 168:
        raise DomainError("weekly capacity is 0 to 168 hours", field="weekly_capacity_hours")
    return hours


def require_role(actor: Membership, *roles: Role, action: str = "do this") -> None:
    """Raise NotAllowed unless the acting membership holds one of `roles`."""
    if not actor.has_role(*roles):
        raise NotAllowed(" or ".join(r.value for r in roles), action)


def _active_treasurer_ids(collective_id: int) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(Membership.id)
            .join(MembershipRole)
            .where(
                Membership.collective_id == collective_id,
                Membership.status == MembershipStatus.ACTIVE.value,
                MembershipRole.role == Role.TREASURER.value,
            )
        )
    )


def _keep_a_treasurer(membership: Membership, still_treasurer: bool, still_active: bool) -> None:
    treasurers = _active_treasurer_ids(membership.collective_id)
    if treasurers == {membership.id} and not (still_treasurer and still_active):
        raise DomainError(
            "this is the collective's last active treasurer; make someone else treasurer first",
            field="roles",
        )


def _lock_memberships(collective_id: int) -> None:
    # Serialise role and status changes within a collective, so two coordinators cannot
    # each remove one of the last two treasurers at the same time.
    db.session.execute(
        sa.select(Collective.id).where(Collective.id == collective_id).with_for_update()
    )


def set_roles(actor: Membership, membership: Membership, roles: Iterable[Role | str]) -> Membership:
    """Replace a membership's roles; a coordinator or treasurer may do this."""
    require_role(actor, *MANAGERS, action="change roles")
    _same_collective(actor, membership)
    wanted = _check_roles(roles)
    treasurer_changes = (Role.TREASURER in wanted) != (Role.TREASURER in membership.roles)
    if treasurer_changes and not actor.has_role(Role.TREASURER):
        raise NotAllowed(Role.TREASURER.value, "give or take away the treasurer role")
    _lock_memberships(membership.collective_id)
    _keep_a_treasurer(membership, Role.TREASURER in wanted, membership.is_active)
    _replace_roles(membership, wanted)
    return membership


def _replace_roles(membership: Membership, wanted: set[Role]) -> None:
    """Delete the roles no longer wanted before adding new ones (the pair is unique)."""
    current = {row.role: row for row in membership.role_rows}
    for name, row in current.items():
        if Role(name) not in wanted:
            membership.role_rows.remove(row)
    db.session.flush()
    for role in sorted(wanted):
        if role.value not in current:
            membership.role_rows.append(MembershipRole(role=role.value))
    db.session.flush()


def set_status(
    actor: Membership, membership: Membership, status: MembershipStatus | str, note: str = ""
) -> Membership:
    """Pause, resume or remove a membership; the last active treasurer stays."""
    require_role(actor, *MANAGERS, action="pause or remove members")
    _same_collective(actor, membership)
    try:
        status = MembershipStatus(status)
    except ValueError as exc:
        raise DomainError(str(exc), field="status") from exc
    if Role.TREASURER in membership.roles and not actor.has_role(Role.TREASURER):
        raise NotAllowed(Role.TREASURER.value, "pause or remove a treasurer")
    _lock_memberships(membership.collective_id)
    _keep_a_treasurer(membership, Role.TREASURER in membership.roles,
                      status == MembershipStatus.ACTIVE)
    membership.status = status.value
    membership.status_note = (note or "").strip()[:200]
    db.session.flush()
    return membership


def update_capacity(membership: Membership, hours: int) -> Membership:
    """Set the hours a week the member offers this collective."""
    membership.weekly_capacity_hours = _check_capacity(hours)
    db.session.flush()
    return membership


def _same_collective(actor: Membership, membership: Membership) -> None:
    if actor.collective_id != membership.collective_id:
        raise NotFound("no such member in this collective")


def memberships_of(user: User) -> list[Membership]:
    """The user's current memberships, in collectives that are not archived, by name."""
    return list(
        db.session.scalars(
            sa.select(Membership)
            .join(Collective)
            .where(
                Membership.user_id == user.id,
                Membership.status != MembershipStatus.REMOVED.value,
                Collective.archived_at.is_(None),
            )
            .options(so.contains_eager(Membership.collective))
            .order_by(Collective.name)
        ).unique()
    )


def membership_in(user_id: int, slug: str) -> Membership | None:
    """The user's current membership in the collective with this slug, if any."""
    return db.session.scalar(
        sa.select(Membership)
        .join(Collective)
        .where(
            Membership.user_id == user_id,
            Collective.slug == slug,
            Collective.archived_at.is_(None),
            Membership.status != MembershipStatus.REMOVED.value,
        )
        .options(so.contains_eager(Membership.collective))
    )


def base_currency(collective_id: int) -> str:
    """The currency a collective keeps its books in."""
    return db.session.scalar(sa.select(Collective.base_currency).filter_by(id=collective_id))


def get_membership(collective_id: int, membership_id: int) -> Membership:
    """A membership of this collective, or NotFound."""
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.collective_id != collective_id:
        raise NotFound("no such member in this collective")
    return membership


def directory(collective_id: int, *, include_removed: bool = False) -> list[Membership]:
    """Members of a collective with their users and skills, by name."""
    query = (
        sa.select(Membership)
        .join(User, Membership.user_id == User.id)
        .where(Membership.collective_id == collective_id)
        .options(so.selectinload(Membership.user).selectinload(User.skills))
        .order_by(User.name)
    )
    if not include_removed:
        query = query.where(Membership.status != MembershipStatus.REMOVED.value)
    return list(db.session.scalars(query).unique())


# --- Invitations ------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(
    actor: Membership, *, email: str, roles: Iterable[Role | str], ttl: timedelta
) -> tuple[Invitation, str]:
    """Make a single-use invitation link; returns it and the token (shown once)."""
    require_role(actor, *MANAGERS, action="invite people")
    wanted = _check_roles(roles)
    if Role.TREASURER in wanted and not actor.has_role(Role.TREASURER):
        raise NotAllowed(Role.TREASURER.value, "invite a treasurer")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        collective_id=actor.collective_id,
        token_hash=_token_hash(token),
        email=normalise_email(email),
        roles=",".join(sorted(r.value for r in wanted)),
        created_by_id=actor.user_id,
        expires_at=utcnow() + ttl,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def find_invitation(token: str) -> Invitation:
    """The invitation behind a token, if it can still be accepted."""
    invitation = db.session.scalar(
        sa.select(Invitation).filter_by(token_hash=_token_hash(token or ""))
    )
    if invitation is None or invitation.collective.archived_at is not None:
        raise NotFound("this invitation link is not valid")
    if invitation.accepted_at is not None:
        raise Conflict("this invitation has already been used")
    if invitation.expires_at <= utcnow():
        raise DomainError("this invitation has expired; ask for a new one")
    return invitation


def accept_invitation(token: str, user: User) -> Membership:
    """Join the invitation's collective; each link works once."""
    invitation = find_invitation(token)
    claimed = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow(), accepted_by_id=user.id)
    )
    if claimed.rowcount != 1:
        raise Conflict("this invitation has already been used")
    return add_member(invitation.collective, user, invitation.role_set)


def open_invitations(collective_id: int) -> list[Invitation]:
    """Invitations not yet accepted nor expired, newest first."""
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.collective_id == collective_id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.id.desc())
        )
    )
