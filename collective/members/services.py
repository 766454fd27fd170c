"""Collectives, memberships and roles: founding, joining, role and status changes, and the
member directory. Flush, never commit. People's accounts are in members/accounts.py,
invitations in members/invitations.py."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective import audit
from collective.audit.queries import AuditFilter, csv_chunks
from collective.database import named_like
from collective.errors import Conflict, DomainError, NotAllowed, NotFound
from collective.extensions import db
from collective.ledger.services import create_standard_chart, open_member_account
from collective.members.accounts import check_name, check_timezone
from collective.members.models import (
    Collective,
    Membership,
    MembershipRole,
    MembershipStatus,
    Role,
    User,
)
from collective.money import MoneyError, check_currency

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
MANAGERS = (Role.COORDINATOR, Role.TREASURER)

#: What the domains above set up in every new collective, after its chart of accounts
#: (the books: the default expense categories); registered from the app factory.
FOUNDING_STEPS: list[Callable[[Collective], None]] = []


def register_founding_step(step: Callable[[Collective], None]) -> None:
    """Say what a domain sets up in each new collective (called with the collective)."""
    if step not in FOUNDING_STEPS:
        FOUNDING_STEPS.append(step)


def create_collective(
    founder: User, *, name: str, slug: str, base_currency: str, timezone: str | None = None
) -> Membership:
    """Create a collective with its chart of accounts; the founder holds every role. Its
    timezone is the founder's unless another is given."""
    slug = (slug or "").strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise DomainError(
            "a slug is 1 to 40 lower-case letters, digits and dashes, "
            "not starting or ending with a dash", field="slug")
    if db.session.scalar(sa.select(Collective.id).filter_by(slug=slug)) is not None:
        raise Conflict(f"the slug {slug!r} is taken", field="slug")
    name = check_name(name)
    try:
        currency = check_currency(base_currency)
    except MoneyError as exc:
        raise DomainError(str(exc), field="base_currency") from exc
    collective = Collective(name=name, slug=slug, base_currency=currency,
                            timezone=check_timezone(timezone or founder.timezone))
    db.session.add(collective)
    db.session.flush()
    create_standard_chart(collective.id)
    for step in FOUNDING_STEPS:
        step(collective)
    audit.record("collective.created", collective=collective, subject=collective,
                 actor=founder, name=collective.name, slug=slug, base_currency=currency)
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
    roles = check_roles(roles)
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


def check_roles(roles: Iterable[Role | str]) -> set[Role]:
    """The roles as a non-empty set of Role, or DomainError."""
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
    wanted = check_roles(roles)
    treasurer_changes = (Role.TREASURER in wanted) != (Role.TREASURER in membership.roles)
    if treasurer_changes and not actor.has_role(Role.TREASURER):
        raise NotAllowed(Role.TREASURER.value, "give or take away the treasurer role")
    _lock_memberships(membership.collective_id)
    _keep_a_treasurer(membership, Role.TREASURER in wanted, membership.is_active)
    before = sorted(r.value for r in membership.roles)
    _replace_roles(membership, wanted)
    after = sorted(r.value for r in wanted)
    if before != after:
        audit.record("membership.role_changed", collective=membership.collective_id,
                     subject=membership, actor=actor.user_id, member=membership.user.name,
                     before=before, after=after)
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
    before = membership.status
    membership.status = status.value
    membership.status_note = (note or "").strip()[:200]
    db.session.flush()
    if before != status.value:
        audit.record("membership.status_changed", collective=membership.collective_id,
                     subject=membership, actor=actor.user_id, member=membership.user.name,
                     before=str(before), after=status.value, note=membership.status_note)
    return membership


def update_capacity(membership: Membership, hours: int) -> Membership:
    """Set the hours a week the member offers this collective; a person's whole week
    (User.weekly_capacity_hours), once set, grows to hold it."""
    membership.weekly_capacity_hours = _check_capacity(hours)
    person = membership.user
    if person.weekly_capacity_hours is not None and person.weekly_capacity_hours < hours:
        person.weekly_capacity_hours = hours
    db.session.flush()
    return membership


def set_rule_proposers(actor: Membership, *, every_member: bool) -> Collective:
    """A treasurer's setting: every active member may propose share-rule changes (the
    default), or only coordinators and treasurers."""
    require_role(actor, Role.TREASURER, action="change the collective's settings")
    collective = actor.collective
    collective.is_rule_proposing_open = bool(every_member)
    db.session.flush()
    return collective


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


def directory(collective_id: int, *, include_removed: bool = False, limit: int | None = None,
              offset: int = 0) -> list[Membership]:
    """Members of a collective with their users, skills and roles, by name; `limit` and
    `offset` page through them."""
    query = (
        sa.select(Membership)
        .join(User, Membership.user_id == User.id)
        .where(Membership.collective_id == collective_id)
        .options(so.selectinload(Membership.user).selectinload(User.skills),
                 so.selectinload(Membership.role_rows))
        .order_by(User.name, Membership.id)
    )
    if not include_removed:
        query = query.where(Membership.status != MembershipStatus.REMOVED.value)
    return list(db.session.scalars(query.offset(offset).limit(limit)).unique())


def _members_named(collective_id: int, active_only: bool, with_removed: bool = False
                   ) -> sa.Select:
    """(membership id, name) of the collective's members by name: everyone not removed,
    only the active members, or (`with_removed`) everyone who ever was a member."""
    query = (
        sa.select(Membership.id, User.name)
        .join(User, Membership.user_id == User.id)
        .where(Membership.collective_id == collective_id)
        .order_by(User.name, Membership.id)
    )
    if active_only:
        return query.where(Membership.status == MembershipStatus.ACTIVE.value)
    if with_removed:  # a removed member is named as one
        removed = Membership.status == MembershipStatus.REMOVED.value
        return query.with_only_columns(
            Membership.id, sa.case((removed, User.name + " (removed)"), else_=User.name),
            maintain_column_froms=True)
    return query.where(Membership.status != MembershipStatus.REMOVED.value)


def member_choices(collective_id: int, *, active_only: bool = False,
                   with_removed: bool = False,
                   limit: int | None = None) -> list[tuple[int, str]]:
    """(membership id, name) of the collective's members by name, for a form's choices:
    everyone not removed, only the active members, or (`with_removed`) removed ones too;
    at most `limit`."""
    query = _members_named(collective_id, active_only, with_removed).limit(limit)
    return [(membership_id, name) for membership_id, name in db.session.execute(query)]


def find_members(collective_id: int, text: str, *, active_only: bool = False,
                 with_removed: bool = False, limit: int | None = 20) -> list[tuple[int, str]]:
    """(membership id, name) of at most `limit` members whose name contains `text` (any
    case), the names starting with it first; "#12" or "12" finds membership 12. Removed
    members are found only `with_removed`."""
    query = named_like(_members_named(collective_id, active_only, with_removed), User.name,
                       Membership.id, text)
    if query is None:
        return []
    return [(membership_id, found) for membership_id, found
            in db.session.execute(query.limit(limit))]


def member_accounts(collective_id: int) -> sa.Select:
    """A query of the user ids of everyone who is or was a member of the collective (the
    accounts whose account-level events its audit log shows)."""
    return sa.select(Membership.user_id).where(Membership.collective_id == collective_id)


def audit_log_csv(collective_id: int, wanted: AuditFilter) -> Iterator[str]:
    """The collective's audit log as CSV chunks (audit.queries.csv_chunks), its members'
    account events included and every actor named: the page's download and the API's."""
    names = {user_id: name for _, user_id, name in member_accounts_named(collective_id)}
    return csv_chunks(collective_id, member_accounts(collective_id), wanted, names)


def member_accounts_named(collective_id: int) -> list[tuple[int, int, str]]:
    """(membership id, user id, name) of everyone who is or was a member, by name."""
    return [tuple(row) for row in db.session.execute(
        sa.select(Membership.id, Membership.user_id, User.name)
        .join(User, Membership.user_id == User.id)
        .where(Membership.collective_id == collective_id)
        .order_by(User.name, Membership.id))]
