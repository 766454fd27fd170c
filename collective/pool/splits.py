"""A client payment's split as its page shows it: who got what and why (the share rule in
force, the common fund's part, the finder's fee, each member's hours or weight and share),
and the collective's setting that hides other members' lines from plain members.

The amounts come from the payment's journal entry, which is the truth. The breakdown of
each member's amount (the finder's fee, the share of the rest) is the split computed again
from what the payment used: the pitch's allocations and the hours linked to the payment.
When that no longer gives the posted amounts (an allocation was taken off since), the page
shows the posted amounts and says the breakdown cannot be rebuilt.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import Account, JournalEntry, Posting
from collective.members.models import Collective, Membership
from collective.members.services import require_role
from collective.pool import compute
from collective.pool.checks import COORDINATOR, TREASURER
from collective.pool.kinds import SplitMethod
from collective.pool.models import Allocation, ClientPayment, TimeEntry, TimeEntryPayment
from collective.pool.queries import frame, member_names
from collective.pool.rules import rule_terms


@dataclass(frozen=True)
class SplitLine:
    """One member's part of a payment."""

    membership_id: int
    name: str
    #: Minutes of their logged time the payment used, and their allocation weight.
    minutes: int
    weight: int
    #: Their share of the members' part, and the finder's fee when they found the work
    #: (None for both when the breakdown cannot be rebuilt).
    share: int | None
    finder_fee: int | None
    #: What the payment's entry credited them: share plus finder's fee.
    total: int


@dataclass(frozen=True)
class PaymentSplit:
    """Who got what from one payment, as far as the viewer may see."""

    payment: ClientPayment
    recorded_by: str
    is_reversed: bool
    #: How the members' part was divided: a SplitMethod (weights when no hours were logged).
    method: str
    common_fund: int
    #: What went to a partner collective, for a shared pitch (0 otherwise).
    partner_part: int
    finder_fee: int | None
    finder_name: str | None
    members_part: int | None
    #: The lines the viewer may see, and how many others (and their total) are hidden.
    lines: list[SplitLine]
    hidden_count: int
    hidden_total: int
    #: True when the breakdown was computed again and gives exactly the posted amounts.
    is_rebuilt: bool


def can_see_every_line(viewer: Membership) -> bool:
    """Coordinators and treasurers always; other members unless the collective hides
    other members' lines."""
    return (not viewer.collective.is_split_private
            or viewer.has_role(COORDINATOR, TREASURER))


def payment_split(viewer: Membership, payment: ClientPayment) -> PaymentSplit:
    """The payment's split as `viewer` may see it (their own line always)."""
    posted = _posted(payment)
    fund = posted.pop(0, 0)
    partner = posted.pop(-1, 0)
    participants = _participants(payment)
    if partner:
        own = _own(payment)
        participants = [p for p in participants if p.membership_id in own]
    method = SplitMethod(payment.share_rule.method)
    if method == SplitMethod.HOURS and sum(p.minutes for p in participants) == 0:
        method = SplitMethod.WEIGHTS
    rebuilt = _rebuilt(payment, participants, fund, posted, partner)
    by_id = {p.membership_id: p for p in participants}
    names = member_names(payment.collective_id,
                         {*posted, *by_id, payment.recorded_by_id,
                          *([rebuilt.finder_id] if rebuilt and rebuilt.finder_id else [])})
    lines = []
    for membership_id in [*by_id, *(m for m in posted if m not in by_id)]:
        who = by_id.get(membership_id, compute.Participant(membership_id, 0, 0))
        is_finder = rebuilt is not None and rebuilt.finder_id == membership_id
        lines.append(SplitLine(
            membership_id, names.get(membership_id, "?"), who.minutes, who.weight,
            rebuilt.members.get(membership_id, 0) if rebuilt else None,
            (rebuilt.finder_fee if is_finder else 0) if rebuilt else None,
            posted.get(membership_id, 0)))
    every = can_see_every_line(viewer)
    shown = [line for line in lines if every or line.membership_id == viewer.id]
    hidden = [line for line in lines if not every and line.membership_id != viewer.id]
    finder_id = rebuilt.finder_id if rebuilt else None
    finder_shown = finder_id is not None and (every or finder_id == viewer.id)
    return PaymentSplit(
        payment=payment, recorded_by=names.get(payment.recorded_by_id, "?"),
        is_reversed=_is_reversed(payment), method=method, common_fund=fund,
        partner_part=partner,
        finder_fee=rebuilt.finder_fee if rebuilt else None,
        finder_name=names.get(finder_id) if finder_shown else None,
        members_part=sum(rebuilt.members.values()) if rebuilt else None,
        lines=shown, hidden_count=len(hidden),
        hidden_total=sum(line.total for line in hidden), is_rebuilt=rebuilt is not None)


def _posted(payment: ClientPayment) -> dict[int, int]:
    """What the payment's entry credited each member: {membership_id: amount}, a partner
    collective's part of a shared pitch as -1, and the common fund's part as 0: what of the
    split neither a member nor the partner got. (Entries posted before the books' income
    model credited the common fund directly; the difference is the same.)"""
    rows = db.session.execute(
        sa.select(Account.membership_id, Account.code, Posting.amount)
        .join(Posting, Posting.account_id == Account.id)
        .where(Posting.entry_id == payment.entry_id,
               sa.or_(sa.and_(Posting.amount < 0, Account.membership_id.is_not(None)),
                      Account.code == ledger.PARTNER_SHARES))).all()
    credited: dict[int, int] = {}
    partner = 0
    for membership_id, code, amount in rows:
        if code == ledger.PARTNER_SHARES:
            partner += int(amount)
        else:
            credited[membership_id] = credited.get(membership_id, 0) - int(amount)
    credited[0] = payment.split_amount - sum(credited.values()) - partner
    if partner:
        credited[-1] = partner
    return credited


def _own(payment: ClientPayment) -> set[int]:
    """The memberships of the payment's own collective allocated to its pitch (a shared
    pitch has a partner's members on it too, who are split in the partner's books)."""
    return set(db.session.scalars(
        sa.select(Allocation.membership_id)
        .join(Membership, Membership.id == Allocation.membership_id)
        .where(Allocation.pitch_id == payment.pitch_id,
               Membership.collective_id == payment.collective_id)))


def _participants(payment: ClientPayment) -> list[compute.Participant]:
    """The pitch's allocated members with the minutes this payment used (released links
    too: a reversed payment used them when it was split), in allocation order."""
    import pandas as pd
    allocations = frame(
        sa.select(Allocation.id, Allocation.pitch_id, Allocation.membership_id,
                  Allocation.weight).where(Allocation.pitch_id == payment.pitch_id),
        ["allocation_id", "pitch_id", "membership_id", "weight"])
    minutes = frame(
        sa.select(TimeEntryPayment.payment_id, TimeEntry.allocation_id,
                  sa.func.sum(TimeEntry.minutes))
        .join(TimeEntry, TimeEntry.id == TimeEntryPayment.time_entry_id)
        .where(TimeEntryPayment.payment_id == payment.id)
        .group_by(TimeEntryPayment.payment_id, TimeEntry.allocation_id),
        ["payment_id", "allocation_id", "minutes"])
    table = compute.payment_participants(
        pd.DataFrame({"payment_id": [payment.id], "pitch_id": [payment.pitch_id]}),
        allocations, minutes)
    return compute.participants_by_payment(table).get(payment.id, [])


def _rebuilt(payment: ClientPayment, participants: list[compute.Participant], fund: int,
             posted: dict[int, int], partner: int = 0) -> compute.Split | None:
    """The split computed again (of what the collective kept, for a shared pitch), if it
    gives exactly what was posted; else None."""
    if not participants or partner >= payment.split_amount:
        return None
    earlier = db.session.scalar(sa.select(sa.func.count(ClientPayment.id)).where(
        ClientPayment.pitch_id == payment.pitch_id, ClientPayment.id < payment.id))
    result = compute.split_payment(
        payment.split_amount - partner, rule_terms(payment.share_rule), participants,
        payment.pitch.finder_id, seed=compute.split_seed(payment.pitch_id, int(earlier or 0)))
    shares = {m: amount for m, amount in result.by_member().items() if amount}
    return result if result.common_fund == fund and shares == posted else None


def _is_reversed(payment: ClientPayment) -> bool:
    return payment.entry_id is not None and db.session.scalar(
        sa.select(sa.func.count(JournalEntry.id))
        .where(JournalEntry.reverses_id == payment.entry_id)) > 0


def set_split_privacy(actor: Membership, *, is_private: bool) -> Collective:
    """Say whether plain members see only their own line of a payment's split."""
    require_role(actor, COORDINATOR, TREASURER, action="change the collective's settings")
    collective = actor.collective
    collective.is_split_private = bool(is_private)
    db.session.flush()
    return collective
