"""Client payments and their splits, and payouts: read, and payments recorded through the
pool's own service (with an Idempotency-Key, once)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g

from collective.api.idempotency import PARAMETER
from collective.api.paging import DatedPageArgs, day_range, page_body, page_of, page_schema
from collective.api.schemas import PaymentIn, PaymentOut, PayoutOut, SplitOut
from collective.api.views import api_blueprint, written
from collective.api.views.auth import scoped
from collective.ledger.models import Account, EntryKind, JournalEntry, Posting
from collective.members.models import Membership, Role, User
from collective.pool import payments, splits
from collective.pool.models import ClientPayment
from collective.pool.pitches import get_pitch

C, T = Role.COORDINATOR, Role.TREASURER
blp = api_blueprint("api_money", "Client payments with their splits, and payouts.",
                    "Payments and payouts")

PaymentPage = page_schema(PaymentOut, "PaymentPage")
PayoutPage = page_schema(PayoutOut, "PayoutPage")


@blp.route("/collectives/<slug>/payments")
@scoped(C, T)
@blp.arguments(DatedPageArgs, location="query")
@blp.response(200, PaymentPage)
def payment_list(args: dict):
    """Client payments; `since` and `until` filter by the day each was received."""
    query = sa.select(ClientPayment).where(ClientPayment.collective_id == g.collective.id,
                                           *day_range(ClientPayment.received_on, args))
    return page_body(page_of(query, ClientPayment.id, "payments", args))


@blp.route("/collectives/<slug>/payments", methods=["POST"])
@scoped(C, T)
@blp.arguments(PaymentIn)
@blp.response(201, PaymentOut)
@blp.doc(parameters=[PARAMETER])
def record_payment(data: dict):
    """Record a client payment against a pitch (coordinators and treasurers): it is split
    by the share rule in force and posted at once. Send an Idempotency-Key to make sure a
    retry records nothing twice."""

    def record():
        work = get_pitch(g.collective.id, data["pitch_id"])
        payment = payments.record_payment(
            g.membership, work, amount=data["amount"], currency=data["currency"],
            received_on=data["received_on"], reference=data["reference"], rate=data["rate"],
            confirm_duplicate=data["confirm_duplicate"], today=g.today)
        return PaymentOut().dump(payment), 201

    return written(record)


@blp.route("/collectives/<slug>/payments/<int:payment_id>")
@scoped()
@blp.response(200, PaymentOut)
def payment(payment_id: int):
    """One client payment."""
    return payments.get_payment(g.collective.id, payment_id)


@blp.route("/collectives/<slug>/payments/<int:payment_id>/split")
@scoped()
@blp.response(200, SplitOut)
def payment_split(payment_id: int):
    """Who got what from a payment, and why: as the payment's page shows it to the caller
    (other members' lines hidden when the collective says so)."""
    split = splits.payment_split(g.membership, payments.get_payment(g.collective.id,
                                                                    payment_id))
    return {"payment_id": payment_id, "currency": g.collective.base_currency,
            "method": str(split.method), "is_reversed": split.is_reversed,
            "is_rebuilt": split.is_rebuilt, "common_fund": split.common_fund,
            "finder_fee": split.finder_fee, "members_part": split.members_part,
            "lines": split.lines, "hidden_count": split.hidden_count,
            "hidden_total": split.hidden_total}


def _payout_body(row) -> dict:
    posting, entry, membership_id, name = row
    return {"entry_id": entry.id, "membership_id": membership_id, "name": name,
            "amount": posting.amount, "currency": posting.currency,
            "paid_on": entry.occurred_on, "memo": entry.memo}


@blp.route("/collectives/<slug>/payouts")
@scoped()
@blp.arguments(DatedPageArgs, location="query")
@blp.response(200, PayoutPage)
def payout_list(args: dict):
    """Payouts to members (treasurers see everyone's, others their own); `since` and
    `until` filter by the day paid."""
    query = (sa.select(Posting, JournalEntry, Account.membership_id, User.name)
             .join(JournalEntry, Posting.entry_id == JournalEntry.id)
             .join(Account, Posting.account_id == Account.id)
             .join(Membership, Membership.id == Account.membership_id)
             .join(User, User.id == Membership.user_id)
             .where(JournalEntry.collective_id == g.collective.id,
                    JournalEntry.kind == EntryKind.PAYOUT, Posting.amount > 0,
                    *day_range(JournalEntry.occurred_on, args)))
    if not g.membership.has_role(T):
        query = query.where(Account.membership_id == g.membership.id)
    return page_body(page_of(query, Posting.id, "payouts", args, convert=_payout_body,
                             scalars=False))
