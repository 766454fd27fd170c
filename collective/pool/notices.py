"""Telling members about their money and work: a client payment's split (each member who
got a share, only their own line), a payout (to its member), an allocation to a pitch (to
the member), a deadline within three days on active work (to each member on it); and the
collective's webhooks about payments recorded and payouts sent. Flush, never commit."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.clock import date_at
from collective.extensions import db
from collective.ledger.models import JournalEntry
from collective.members.models import Collective, Membership, MembershipStatus
from collective.members.proposals import remind_voters
from collective.notifications.kinds import Kind
from collective.notifications.service import notify
from collective.notifications.wording import day, format_money, page
from collective.pool.models import ACTIVE_STATES, Allocation, ClientPayment, Pitch, ShareRule
from collective.webhooks.events import EventType
from collective.webhooks.outbox import emit

#: How many days before a deadline on active work its members are told.
DEADLINE_WARNING_DAYS = 3


def _members(ids) -> list[Membership]:
    return list(db.session.scalars(sa.select(Membership).options(
        so.joinedload(Membership.user)).where(Membership.id.in_(list(ids)))
        .order_by(Membership.id)))


def payment_split(collective: Collective, payment: ClientPayment, pitch: Pitch,
                  rule: ShareRule, shares: Mapping[int, int]) -> None:
    """Tell each member with a share of the payment their own amount and the rule."""
    base = collective.base_currency
    for member in _members(m for m, share in shares.items() if share > 0):
        notify(member, kind=Kind.PAYMENT_SPLIT, event_key=f"payment-split:{payment.id}",
               title=f"A payment for {pitch.title} brought you "
                     f"{format_money(shares[member.id], base)}",
               body=f"Split by share rule version {rule.version}, from the client's "
                    f"payment received on {day(payment.received_on)}.",
               link=page("pool.my_shares", slug=collective.slug))


def payment_recorded(collective: Collective, payment: ClientPayment) -> None:
    """Tell the collective's webhooks a client payment was recorded and split."""
    emit(collective, EventType.PAYMENT_RECORDED, key=str(payment.id), data={
        "payment_id": payment.id, "pitch_id": payment.pitch_id,
        "amount": payment.amount, "currency": payment.currency,
        "base_amount": payment.base_amount, "base_currency": collective.base_currency,
        "rate": str(payment.rate), "received_on": payment.received_on.isoformat(),
        "reference": payment.reference, "entry_id": payment.entry_id},
        link=page("pool.payment", slug=collective.slug, payment_id=payment.id))


def payment_reversed(collective: Collective, payment: ClientPayment,
                     reversal: JournalEntry) -> None:
    """Tell the collective's webhooks a client payment's entry was reversed (entered by
    mistake, or refunded): its split no longer stands."""
    emit(collective, EventType.PAYMENT_REVERSED, key=str(payment.id), data={
        "payment_id": payment.id, "pitch_id": payment.pitch_id,
        "amount": payment.amount, "currency": payment.currency,
        "base_amount": payment.base_amount, "base_currency": collective.base_currency,
        "entry_id": payment.entry_id, "reversal_entry_id": reversal.id,
        "reversed_on": reversal.occurred_on.isoformat()},
        link=page("pool.payment", slug=collective.slug, payment_id=payment.id))


def payouts_sent(entry: JournalEntry, slug: str, currency: str,
                 amounts: Mapping[int, int]) -> None:
    """Tell each member paid by a payout entry how much was sent to them, and the
    collective's webhooks that the payout was sent."""
    collective = db.session.get(Collective, entry.collective_id)
    emit(collective, EventType.PAYOUT_SENT, key=str(entry.id), data={
        "entry_id": entry.id, "paid_on": entry.occurred_on.isoformat(),
        "amount": sum(amounts.values()), "currency": currency,
        "payouts": [{"membership_id": member_id, "amount": amount}
                    for member_id, amount in sorted(amounts.items())]},
        link=page("ledger.entry", slug=slug, entry_id=entry.id))
    for member in _members(amounts):
        notify(member, kind=Kind.PAYOUT_SENT, event_key=f"payout:{entry.id}:{member.id}",
               title=f"A payout of {format_money(amounts[member.id], currency)} was sent "
                     "to you",
               body=f"Paid on {day(entry.occurred_on)}.",
               link=page("reports.statement", slug=slug))


def allocated(collective: Collective, allocation: Allocation, pitch: Pitch) -> None:
    """Tell a member they were given a part in a pitch."""
    [member] = _members([allocation.membership_id])
    notify(member, kind=Kind.PITCH_ALLOCATED, event_key=f"allocated:{allocation.id}",
           title=f"You were allocated to {pitch.title} as {allocation.role}",
           body=f"{allocation.weekly_hours} hours a week planned." if allocation.weekly_hours
           else "", link=page("pool.pitch", slug=collective.slug, pitch_id=pitch.id))


def _no_partner_link(pitch: Pitch, member: Membership) -> str | None:
    return None


#: The page where a member of another collective (a partner's, on a shared pitch) sees the
#: pitch, or None: the federation package registers it; the pitch's own page is a 404 for
#: them.
_partner_link: list = [_no_partner_link]


def register_partner_link(link) -> None:
    """Say where a member of another collective sees a pitch they are allocated to."""
    _partner_link[:] = [link]


def _pitch_link(collective: Collective, pitch: Pitch, member: Membership) -> str | None:
    """Where `member` opens the pitch: its page, or for another collective's member the
    page their own collective shows it on (None: nowhere, so no link)."""
    if member.collective_id == collective.id:
        return page("pool.pitch", slug=collective.slug, pitch_id=pitch.id)
    return _partner_link[0](pitch, member)


def remind_work_deadlines(collective: Collective, today: date) -> list[Pitch]:
    """Tell each member allocated to active work (won or in progress) whose deadline is
    within DEADLINE_WARNING_DAYS of `today` (the collective's day), once per pitch and
    deadline (a moved deadline is told again). The pitches told about."""
    due = list(db.session.scalars(
        sa.select(Pitch).where(
            Pitch.collective_id == collective.id,
            Pitch.state.in_([s.value for s in ACTIVE_STATES]),
            Pitch.deadline_on >= today,
            Pitch.deadline_on <= today + timedelta(days=DEADLINE_WARNING_DAYS))
        .order_by(Pitch.deadline_on, Pitch.id)))
    for pitch in due:
        days = (pitch.deadline_on - today).days
        when = {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")
        for member in _members(a.membership_id for a in pitch.allocations):
            if member.status == MembershipStatus.REMOVED:
                continue
            notify(member, kind=Kind.WORK_DEADLINE,
                   event_key=f"work-deadline:{pitch.id}:{pitch.deadline_on.isoformat()}",
                   title=f"{pitch.title} is due {when}",
                   body=f"The deadline is {day(pitch.deadline_on)}.",
                   link=_pitch_link(collective, pitch, member) or "")
    return due


def send_reminders(now: datetime) -> tuple[int, int]:
    """The scheduler's reminders as of `now`: votes closing within a day, and work due
    within DEADLINE_WARNING_DAYS in each collective's own today. (Proposals reminded,
    pitches reminded.)"""
    votes = remind_voters(now)
    pitches = 0
    for collective in db.session.scalars(sa.select(Collective).order_by(Collective.id)):
        pitches += len(remind_work_deadlines(collective, date_at(now, collective.timezone)))
    return len(votes), pitches
