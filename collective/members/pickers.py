"""Setting up the member fields of forms (`collective.web.member_field.MemberField`) for one
collective: every member in a `<select>` while the collective is small, a search box with
at most SEARCH_LIMIT suggestions above that. The page's statements do not grow with the
collective: one count, then a bounded list."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from collective.extensions import db
from collective.members.models import Collective, Membership, MembershipStatus
from collective.members.services import find_members, member_choices
from collective.web.member_field import MemberField, offer_choices

#: Up to this many members a form lists them all; above, it searches.
SELECT_LIMIT = 100
#: Suggestions a search gives at most.
SEARCH_LIMIT = 20


def _is_small(collective_id: int, active_only: bool, with_removed: bool) -> bool:
    statuses = ([MembershipStatus.ACTIVE.value] if active_only else
                [s.value for s in MembershipStatus
                 if with_removed or s != MembershipStatus.REMOVED])
    count = db.session.scalar(
        sa.select(sa.func.count(Membership.id))
        .where(Membership.collective_id == collective_id, Membership.status.in_(statuses)))
    return count <= SELECT_LIMIT


def offer_members(field: MemberField, collective: Collective, *, active_only: bool = False,
                  with_removed: bool = False, small: bool | None = None,
                  search_url: str | None = None) -> None:
    """Offer the collective's members (not removed, only the active ones, or everyone who
    ever was one `with_removed`) in `field`: all of them as a `<select>` when few, else a
    search box (web.member_field.offer_choices). `small` forces one or the other;
    `search_url` answers the box instead of the collective's own member search (for a page
    of another collective, such as a partner's)."""
    collective_id = collective.id
    which = {"active_only": active_only, "with_removed": with_removed}
    offer_choices(
        field, small=_is_small(collective_id, active_only, with_removed) if small is None
        else small,
        everything=lambda: member_choices(collective_id, **which),
        find=lambda text, limit: find_members(collective_id, text, **which, limit=limit),
        search_url=search_url or url_for("members.search", slug=collective.slug,
                                         active=1 if active_only else None,
                                         removed=1 if with_removed else None),
        script_url=url_for("static", filename="member-search.js"), limit=SEARCH_LIMIT)
