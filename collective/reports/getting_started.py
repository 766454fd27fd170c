"""A new collective's first steps, ticked as they are done: the dashboard shows them until
every one is, instead of a wall of zeros."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from collective.benefits.models import BenefitPlan
from collective.extensions import db
from collective.ledger.models import JournalEntry
from collective.members.models import Invitation, Membership
from collective.pool.models import Pitch, ShareRule


@dataclass(frozen=True)
class Step:
    """One first step: what to do, the page where it is done, why, and whether it is."""

    label: str
    endpoint: str
    why: str
    done: bool


def _exists(*where) -> bool:
    return bool(db.session.scalar(sa.select(sa.exists().where(*where))))


def first_steps(collective_id: int) -> list[Step]:
    """The founding share rule, the fund's plan, the first invitations, the first client and
    pitch, each with whether it is done (read in one statement: the dashboard asks on every
    view)."""
    def exists(model: type) -> sa.ScalarSelect:
        return sa.exists().where(model.collective_id == collective_id).correlate(None)
    two_members = sa.select(Membership.id).where(
        Membership.collective_id == collective_id).limit(2).subquery()
    rule, plan, members, invited, pitch = db.session.execute(sa.select(
        exists(ShareRule), exists(BenefitPlan),
        sa.select(sa.func.count()).select_from(two_members).scalar_subquery(),
        exists(Invitation), exists(Pitch))).one()
    return [
        Step("Agree the founding share rule", "pool.rules",
             "How a client's payment is shared: the common fund, the finder's fee and the "
             "members' part.", bool(rule)),
        Step("Set up the benefits fund", "fund.plan",
             "The levels members choose, what they contribute and what the fund pays for.",
             bool(plan)),
        Step("Invite the first members", "members.invitations",
             "A link for each person; they join with their own account.",
             members > 1 or bool(invited)),
        Step("Record the first client and pitch", "pool.clients",
             "The work you pitch for together; the pool allocates it.", bool(pitch)),
    ]


def is_fresh(collective_id: int) -> bool:
    """True while nothing has happened yet: no work in the pool and no money in the books,
    so the dashboard has no numbers worth a tile."""
    return not (_exists(Pitch.collective_id == collective_id)
                or _exists(JournalEntry.collective_id == collective_id))
