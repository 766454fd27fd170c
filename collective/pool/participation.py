"""Who shares a client payment: the pitch's allocated members, with the hours they logged
since the pitch's previous payment. Loaded in a fixed number of queries however many
payments are asked about; the rule itself is compute.payment_participants."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
import sqlalchemy as sa

from collective.ledger.models import JournalEntry
from collective.pool import compute
from collective.pool.models import Allocation, ClientPayment, Pitch, TimeEntry
from collective.pool.queries import frame


def counted():
    """Condition: the payment was posted and its entry has not been reversed."""
    return sa.and_(ClientPayment.entry_id.is_not(None), ClientPayment.entry_id.not_in(
        sa.select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.is_not(None))))


def participants_of(payments: pd.DataFrame, pitch_ids: sa.Select | Sequence[int],
                    until: date) -> pd.DataFrame:
    """`compute.payment_participants` for `payments` (payment_id, pitch_id, received_on, all
    on the pitches `pitch_ids` names and received by `until`), in three queries."""
    earlier = frame(
        sa.select(ClientPayment.pitch_id, ClientPayment.received_on)
        .where(ClientPayment.pitch_id.in_(pitch_ids), ClientPayment.received_on <= until,
               counted()),
        ["pitch_id", "received_on"])
    allocations = frame(
        sa.select(Allocation.id, Allocation.pitch_id, Allocation.membership_id,
                  Allocation.weight).where(Allocation.pitch_id.in_(pitch_ids)),
        ["allocation_id", "pitch_id", "membership_id", "weight"])
    minutes = frame(
        sa.select(TimeEntry.allocation_id, TimeEntry.worked_on, sa.func.sum(TimeEntry.minutes))
        .join(Allocation, Allocation.id == TimeEntry.allocation_id)
        .where(Allocation.pitch_id.in_(pitch_ids), TimeEntry.worked_on <= until)
        .group_by(TimeEntry.allocation_id, TimeEntry.worked_on),
        ["allocation_id", "worked_on", "minutes"])
    return compute.payment_participants(payments, earlier, allocations, minutes)


def participants_for_payment(pitch: Pitch, received_on: date) -> list[compute.Participant]:
    """Who shares a payment on `pitch` received on `received_on`, with their minutes."""
    payment = pd.DataFrame({"payment_id": [0], "pitch_id": [pitch.id],
                            "received_on": [received_on]})
    table = participants_of(payment, [pitch.id], received_on)
    return compute.participants_by_payment(table).get(0, [])
