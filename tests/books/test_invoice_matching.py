"""The invoice matcher: money in suggested against open invoices by number (first) and by
exact open amount; confirming pays the invoice once, into the bank account's ledger account,
and links the line to the payment's entry. Figures are checked by hand in the comments."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collective.books.bank import matching, services
from collective.books.bank.models import BankLine
from collective.books.invoices import matching as invoice_matching
from collective.books.invoices import payments
from collective.books.invoices.queries import Status, standing
from collective.errors import Conflict, DomainError
from collective.extensions import db
from collective.ledger.models import JournalEntry
from collective.pool.models import ClientPayment, PitchState
from tests.books.bank.factories import SAMPLE_MAPPING, make_bank
from tests.books.invoice_factories import TODAY, delivered_work, issued, set_up_invoicing
from tests.factories import make_collective
from tests.pool.factories import found_rule

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)
IMPORTED_ON = date(2026, 11, 15)
_clients = itertools.count(1)


def _amount(cents: int) -> str:
    return f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"


def import_lines(treasurer, account, rows) -> list[BankLine]:
    """Import (day, description, reference, amount) rows as a CSV statement; its lines."""
    text = "Booking date;Description;Reference;Debit;Credit\n" + "".join(
        f"{day:%d.%m.%Y};{text};{ref};{_amount(-amount) if amount < 0 else ''};"
        f"{_amount(amount) if amount > 0 else ''}\n" for day, text, ref, amount in rows)
    result = services.import_statement(treasurer, account, fmt="csv", data=text.encode(),
                                       filename="s.csv", mapping=SAMPLE_MAPPING,
                                       today=IMPORTED_ON)
    return list(db.session.scalars(sa.select(BankLine).filter_by(
        statement_id=result.statement.id).order_by(BankLine.id)))


@pytest.fixture
def books(ctx):
    treasurer, account = make_bank("EUR")
    # 10% to the common fund, no finder's fee, the rest equally (the founder leads the work)
    found_rule(treasurer, common_fund_bp=1000, finder_fee_bp=0, method="equal")
    return treasurer, account, set_up_invoicing(treasurer)


def _invoice(treasurer, vat):
    """BRC-2026-000n, issued on 10 Oct 2026: 2,500.00 + 240.00 VAT = 2,740.00."""
    return issued(treasurer, _work(treasurer), vat)


def _work(treasurer, currency=None):
    return delivered_work(treasurer, currency=currency,
                          client_name=f"Harbour Dental {next(_clients)}")


def _suggested(account, line):
    return [(s.matcher, s.target, s.distance)
            for s in matching.suggestions(account, [line]).get(line.id, [])]


def _postings(entry_id: int) -> dict[str, int]:
    result: dict[str, int] = {}
    for p in db.session.get(JournalEntry, entry_id).postings:
        code = "2100" if p.account.code.startswith("2100-") else p.account.code
        result[code] = result.get(code, 0) + p.amount
    return result


def test_the_invoice_matcher_is_registered_at_start_up(app):
    assert isinstance(matching.MATCHERS["invoice"], invoice_matching.InvoiceMatcher)


def test_an_invoice_number_in_the_line_is_suggested_first_even_for_a_part(books):
    treasurer, account, vat = books
    first, second = _invoice(treasurer, vat), _invoice(treasurer, vat)
    assert (first.number, second.number) == ("BRC-2026-0001", "BRC-2026-0002")
    by_amount, by_number, spaced, glued = import_lines(treasurer, account, [
        (date(2026, 10, 20), "Harbour Dental", "", 274_000),
        (date(2026, 10, 21), "Payment brc 2026 0002 thanks", "", 100_000),
        (date(2026, 10, 22), "Harbour Dental", "BRC/2026/0002", 274_000),
        (date(2026, 10, 23), "Harbour Dental", "brc202600021", 274_000)])
    amount_only = invoice_matching.AMOUNT_ONLY
    assert _suggested(account, by_amount) == [("invoice", first.id, amount_only),
                                             ("invoice", second.id, amount_only)]
    # a part of what is open, with the number: only that invoice
    assert _suggested(account, by_number) == [("invoice", second.id, invoice_matching.NAMED_PART)]
    # the whole amount with the number: that invoice first, the other by amount after it
    assert _suggested(account, spaced) == [("invoice", second.id, invoice_matching.NAMED_EXACT),
                                           ("invoice", first.id, amount_only)]
    # BRC-2026-00021 is not BRC-2026-0002: by amount only
    assert [s[2] for s in _suggested(account, glued)] == [amount_only, amount_only]


def test_no_suggestion_for_a_paid_invoice_another_collective_or_currency_or_money_out(books):
    treasurer, account, vat = books
    paid = _invoice(treasurer, vat)
    payments.pay_invoice(treasurer, paid, amount=274_000, received_on=TODAY, today=TODAY)
    theirs = make_collective(currency="EUR")
    found_rule(theirs)
    their_vat = set_up_invoicing(theirs)
    their_invoice = _invoice(theirs, their_vat)
    assert their_invoice.number == "BRC-2026-0001"
    dollars = issued(treasurer, _work(treasurer, "USD"), vat,
                     rate=Decimal("0.9"))
    assert dollars.gross_amount == 274_000
    lines = import_lines(treasurer, account, [
        (date(2026, 10, 20), "Harbour Dental BRC-2026-0001", "", 274_000),
        (date(2026, 10, 20), "Refund BRC-2026-0003", "", -274_000),
        (date(2026, 10, 9), "Early BRC-2026-0003", "", 1_000)])
    assert [_suggested(account, line) for line in lines] == [[], [], []]
    assert standing(paid).status == Status.PAID


def test_a_bank_account_in_another_currency_than_the_base_gets_no_invoice_suggestion(books):
    treasurer, _account, vat = books
    invoice = issued(treasurer, _work(treasurer, "USD"), vat,
                     rate=Decimal("0.9"))
    dollars = services.create_bank_account(treasurer, name="Dollars", currency="USD",
                                           ledger_account_id=0)
    line, = import_lines(treasurer, dollars, [
        (date(2026, 10, 20), f"Payment {invoice.number}", "", 274_000)])
    assert _suggested(dollars, line) == []
    with pytest.raises(DomainError, match="no match"):
        matching.confirm_match(treasurer, line, "invoice", invoice.id, now=NOW)


def test_confirming_pays_the_invoice_and_links_the_line(books):
    treasurer, account, vat = books
    invoice = _invoice(treasurer, vat)
    part, rest = import_lines(treasurer, account, [
        (date(2026, 10, 20), "Harbour Dental", "BRC-2026-0001 part 1", 74_000),
        (date(2026, 10, 28), "Harbour Dental rest", "BRC-2026-0001", 200_000)])
    entry = matching.confirm_match(treasurer, part, "invoice", invoice.id, now=NOW)
    # 740.00 clears 740.00 of the receivable; net part 740 x 2,500/2,740 = 675.18..., 675.18
    # split: 90% = 607.66 to the founder (the only member), the fund's 10% stays.
    assert _postings(entry.id) == {"1000": 74_000, "1100": -74_000,
                                   "5100": 60_766, "2100": -60_766}
    payment = db.session.scalar(sa.select(ClientPayment).filter_by(entry_id=entry.id))
    assert (payment.amount, payment.received_on, payment.reference, payment.request_key) == (
        74_000, date(2026, 10, 20), "BRC-2026-0001 part 1", f"bank-line:{part.id}")
    assert (part.entry_id, part.resolved_by_id) == (entry.id, treasurer.user_id)
    found = standing(invoice)
    assert (found.status, found.open_amount) == (Status.PARTLY_PAID, 200_000)
    assert invoice.pitch.pitch_state == PitchState.INVOICED
    last = matching.confirm_match(treasurer, rest, "invoice", invoice.id, now=NOW)
    assert _postings(last.id)["1100"] == -200_000
    assert standing(invoice).status == Status.PAID
    assert invoice.pitch.pitch_state == PitchState.PAID


def test_confirming_twice_records_one_payment(books):
    treasurer, account, vat = books
    invoice = _invoice(treasurer, vat)
    line, = import_lines(treasurer, account, [
        (date(2026, 10, 20), "Harbour Dental", "BRC-2026-0001", 274_000)])
    entry = matching.confirm_match(treasurer, line, "invoice", invoice.id, now=NOW)
    with pytest.raises(Conflict, match="matched or explained already"):
        matching.confirm_match(treasurer, line, "invoice", invoice.id, now=NOW)
    services.reopen_line(treasurer, line)  # undone, then confirmed again: the same payment
    assert matching.confirm_match(treasurer, line, "invoice", invoice.id, now=NOW).id == entry.id
    assert db.session.scalar(sa.select(sa.func.count(ClientPayment.id)).filter_by(
        pitch_id=invoice.pitch_id)) == 1
    assert standing(invoice).paid == 274_000


def test_a_payment_goes_to_the_bank_accounts_own_ledger_account(books):
    treasurer, _account, vat = books
    invoice = _invoice(treasurer, vat)
    second = services.create_bank_account(treasurer, name="Savings", currency="EUR",
                                          ledger_account_id=0)
    line, = import_lines(treasurer, second, [
        (date(2026, 10, 20), "Harbour Dental", "BRC-2026-0001", 274_000)])
    entry = matching.confirm_match(treasurer, line, "invoice", invoice.id, now=NOW)
    code = second.ledger_account.code
    assert code != "1000"
    assert _postings(entry.id) == {code: 274_000, "1100": -274_000,
                                   "5100": 225_000, "2100": -225_000}
