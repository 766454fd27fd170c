"""A small but varied ledger for the report tests, built through the real services.

Five months of a USD collective: client payments (one paid in EUR at a rate), a deposit, a
payout, entries made by hand (kind 'opening') in EUR and JPY, reversals, and entries before,
inside and after the range the tests export (RANGE_FROM to RANGE_TO).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import Account, JournalEntry, Posting
from collective.ledger.services import Line
from collective.members.models import Membership
from collective.pool import payments, payouts, pitches
from collective.pool.models import ClientPayment, PitchState
from tests.factories import make_collective, make_member, make_user
from tests.pool.factories import (
    NOW,
    TODAY,
    allocate,
    found_rule,
    log,
    make_client,
    make_pitch,
    move_to,
)

#: The range the tests export: it starts after the first entries and ends before the last.
RANGE_FROM = date(2026, 3, 1)
RANGE_TO = date(2026, 5, 31)
#: The clock a second export or download of the same thing runs at (time_machine): a day and
#: a second on, so a file that took a time or a date from the clock would differ.
LATER = datetime.now(UTC) + timedelta(days=1, seconds=1)
#: A memo that CSV must quote and Beancount must escape.
AWKWARD_MEMO = 'Desk rent "March", Zoë\'s share \\ split; 100% paid'


@dataclass
class Books:
    """The collective, its people, and the entries the tests look for by name."""

    treasurer: Membership  # the founder: member, coordinator and treasurer
    ann: Membership
    bob: Membership
    entries: dict[str, JournalEntry] = field(default_factory=dict)
    foreign: ClientPayment | None = None

    @property
    def collective_id(self) -> int:
        return self.treasurer.collective_id

    @property
    def slug(self) -> str:
        return self.treasurer.collective.slug

    def account(self, code: str) -> Account:
        """The collective's account with this code."""
        return ledger.account_by_code(self.collective_id, code)

    def payable(self, member: Membership) -> Account:
        """A member's payable account."""
        return ledger.member_account(member.id)


def _manual(books: Books, key: str, on: date, lines: list[Line], memo: str) -> JournalEntry:
    return ledger.post_entry(books.collective_id, kind="opening", occurred_on=on,
                             idempotency_key=key, lines=lines, memo=memo)


def make_books() -> Books:
    """The ledger described at the top of this module (inside the caller's transaction)."""
    treasurer = make_collective()
    collective = treasurer.collective
    ann = make_member(collective, user=make_user(name="Zoë Ångström-Ruiz"))
    bob = make_member(collective, user=make_user(name="Bob O'Neill"))
    books = Books(treasurer, ann, bob)
    found_rule(treasurer)
    pitch = make_pitch(treasurer, client=make_client(treasurer, "Harbour Dental"))
    move_to(treasurer, pitch, PitchState.WON)
    ann_work = allocate(treasurer, pitch, ann, role="lead")
    bob_work = allocate(treasurer, pitch, bob)
    pitches.transition_pitch(treasurer, pitch, PitchState.IN_PROGRESS, at=NOW)
    bank, fund = books.account(ledger.BANK), books.account(ledger.COMMON_FUND)
    benefits = books.account(ledger.BENEFITS_FUND)
    entries = books.entries

    def pay(amount: int, on: date, currency: str = "USD", rate: Decimal | None = None):
        # Ann and Bob log 3 h and 1 h before each payment, which uses them: every payment
        # splits the members' part 3:1.
        log(ann, ann_work, 180, worked_on=on)
        log(bob, bob_work, 60, worked_on=on)
        payment = payments.record_payment(treasurer, pitch, amount=amount, currency=currency,
                                          rate=rate, received_on=on, today=TODAY)
        return payment, db.session.get(JournalEntry, payment.entry_id)

    # Before the range.
    _, entries["february_payment"] = pay(1_000_000, date(2026, 2, 10))
    entries["bob_deposit"] = payouts.record_deposit(
        treasurer, bob, amount=5_000, received_on=date(2026, 2, 20), request_key="bob-1",
        today=TODAY)
    entries["eur_opening"] = _manual(books, "manual:eur-1", date(2026, 2, 25),
                                     [Line(bank.id, 40_000, "EUR"),
                                      Line(fund.id, -40_000, "EUR")], "Euro float")
    # Inside the range.
    entries["eur_grant"] = _manual(books, "manual:eur-2", date(2026, 3, 5),
                                   [Line(bank.id, 25_000, "EUR"),
                                    Line(fund.id, -20_000, "EUR"),
                                    Line(benefits.id, -5_000, "EUR")], AWKWARD_MEMO)
    books.foreign, entries["eur_payment"] = pay(123_450, date(2026, 3, 15), "EUR",
                                                Decimal("1.085"))
    entries["ann_payout"] = payouts.pay_member(treasurer, ann, amount=50_000,
                                               paid_on=date(2026, 4, 1), request_key="ann-1",
                                               today=TODAY)
    entries["jpy_gift"] = _manual(books, "manual:jpy-1", date(2026, 4, 12),
                                  [Line(bank.id, 5_000, "JPY"),
                                   Line(benefits.id, -5_000, "JPY")], "Gift from Tokyo")
    _, entries["may_payment"] = pay(200_000, date(2026, 5, 2))
    entries["may_reversal"] = ledger.reverse_entry(entries["may_payment"],
                                                   occurred_on=date(2026, 5, 20),
                                                   memo="Paid twice by the client")
    entries["february_fix"] = ledger.reverse_entry(entries["bob_deposit"],
                                                   occurred_on=date(2026, 5, 31))
    # After the range.
    entries["eur_grant_reversal"] = ledger.reverse_entry(entries["eur_grant"],
                                                         occurred_on=date(2026, 6, 15))
    entries["july_deposit"] = payouts.record_deposit(
        treasurer, ann, amount=7_500, received_on=date(2026, 7, 1), request_key="ann-2",
        today=TODAY)
    return books


def postings_in_range(collective_id: int, date_from: date, date_to: date
                      ) -> list[tuple[int, str, str, int, str, str]]:
    """(entry id, kind, account code, amount, currency, account type) of every posting in
    the range, straight from the tables."""
    return [tuple(r) for r in db.session.execute(
        sa.select(JournalEntry.id, JournalEntry.kind, Account.code, Posting.amount,
                  Posting.currency, Account.type)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(Account, Account.id == Posting.account_id)
        .where(JournalEntry.collective_id == collective_id,
               JournalEntry.occurred_on >= date_from, JournalEntry.occurred_on <= date_to)
        .order_by(JournalEntry.occurred_on, JournalEntry.id, Posting.id))]
