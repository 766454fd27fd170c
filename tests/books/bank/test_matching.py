"""Suggestions and confirmation: payouts and client payments by amount and date, fees by
rule (posting an expense), explanations, and a line or entry matched only once."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from collective.books.bank import matching, services
from collective.books.bank.models import BankLine
from collective.errors import Conflict, DomainError
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind
from tests.books.bank.factories import import_sample, make_bank, post_bank

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)


@pytest.fixture
def bank(ctx):
    treasurer, account = make_bank()
    import_sample(treasurer, account, "camt053")
    lines = {line.amount: line for line in db.session.scalars(
        sa.select(BankLine).filter_by(bank_account_id=account.id))}
    return treasurer, account, lines


def _suggested(account, line):
    return matching.suggestions(account, [line]).get(line.id, [])


def test_a_payout_is_suggested_by_amount_within_a_few_days_and_confirmed(bank):
    treasurer, account, lines = bank
    cid = treasurer.collective_id
    payout = post_bank(cid, date(2026, 10, 3), -40000)
    post_bank(cid, date(2026, 10, 20), -40000, key="too-late")  # 15 days off: not suggested
    post_bank(cid, date(2026, 10, 5), -39999, key="other-amount")
    line = lines[-40000]
    suggested = _suggested(account, line)
    assert [(s.matcher, s.target, s.distance) for s in suggested] == [("payout", payout.id, 2)]
    entry = matching.confirm_match(treasurer, line, "payout", payout.id, now=NOW)
    assert entry.id == payout.id
    assert (line.entry_id, line.resolved_by_id, line.resolved_at) == (payout.id,
                                                                      treasurer.user_id, NOW)
    assert _suggested(account, line) == []


def test_a_client_payment_is_suggested_for_money_in_only(bank):
    treasurer, account, lines = bank
    payment = post_bank(treasurer.collective_id, date(2026, 10, 2), 125000,
                        kind=EntryKind.PAYMENT, other=ledger.CLIENT_INCOME)
    assert [(s.matcher, s.target) for s in _suggested(account, lines[125000])] == [
        ("payment", payment.id)]
    assert _suggested(account, lines[-40000]) == []


def test_an_entry_matches_one_line_at_most(bank):
    treasurer, account, lines = bank
    payout = post_bank(treasurer.collective_id, date(2026, 10, 5), -40000)
    matching.confirm_match(treasurer, lines[-40000], "payout", payout.id, now=NOW)
    services.reopen_line(treasurer, lines[-40000])
    other = lines[-40000]
    matching.confirm_match(treasurer, other, "payout", payout.id, now=NOW)
    # A second line of the same amount cannot take the entry.
    twin = BankLine(collective_id=other.collective_id, bank_account_id=account.id,
                    statement_id=other.statement_id, booked_on=other.booked_on,
                    amount=-40000, line_key="x" * 64)
    db.session.add(twin)
    db.session.flush()
    assert _suggested(account, twin) == []
    with pytest.raises(DomainError, match="does not match this line"):
        matching.confirm_match(treasurer, twin, "payout", payout.id, now=NOW)
    with pytest.raises(Conflict, match="matched or explained already"):
        matching.confirm_match(treasurer, other, "payout", payout.id, now=NOW)


def test_a_fee_rule_suggests_and_confirming_posts_the_expense(bank):
    treasurer, account, lines = bank
    cid = treasurer.collective_id
    expenses = ledger.account_by_code(cid, ledger.EXPENSES)
    rule = services.add_fee_rule(treasurer, pattern="account FEE",
                                 expense_account_id=expenses.id)
    fee = lines[-750]
    assert [(s.matcher, s.target) for s in _suggested(account, fee)] == [("fee", rule.id)]
    assert _suggested(account, lines[-5999]) == []
    entry = matching.confirm_match(treasurer, fee, "fee", rule.id, now=NOW)
    bank_account = ledger.account_by_code(cid, ledger.BANK)
    assert (entry.kind, entry.occurred_on, entry.idempotency_key) == (
        EntryKind.EXPENSE, date(2026, 10, 31), f"bank-fee:{fee.id}")
    assert sorted((p.account_id, p.amount, p.currency) for p in entry.postings) == sorted(
        [(expenses.id, 750, "EUR"), (bank_account.id, -750, "EUR")])
    assert fee.entry_id == entry.id and entry.created_by_id == treasurer.user_id


def test_a_fee_rule_does_not_confirm_a_line_it_does_not_describe(bank):
    treasurer, _account, lines = bank
    expenses = ledger.account_by_code(treasurer.collective_id, ledger.EXPENSES)
    rule = services.add_fee_rule(treasurer, pattern="account fee",
                                 expense_account_id=expenses.id)
    with pytest.raises(DomainError, match="does not apply"):
        matching.confirm_match(treasurer, lines[-5999], "fee", rule.id, now=NOW)
    assert lines[-5999].entry_id is None


def test_a_fee_rule_needs_an_expense_account(bank):
    treasurer, _account, _lines = bank
    income = ledger.account_by_code(treasurer.collective_id, ledger.CLIENT_INCOME)
    with pytest.raises(DomainError) as caught:
        services.add_fee_rule(treasurer, pattern="fee", expense_account_id=income.id)
    assert caught.value.field == "expense_account"


def test_an_unknown_line_is_explained_with_a_note(bank):
    treasurer, _account, lines = bank
    line = lines[-5999]
    with pytest.raises(DomainError) as caught:
        services.explain_line(treasurer, line, "  ", now=NOW)
    assert caught.value.field == "note"
    services.explain_line(treasurer, line, "Transfer between own accounts", now=NOW)
    assert line.is_resolved and line.explanation == "Transfer between own accounts"
    with pytest.raises(Conflict):
        services.explain_line(treasurer, line, "again", now=NOW)


def test_an_unknown_matcher_is_a_field_error(bank):
    treasurer, _account, lines = bank
    with pytest.raises(DomainError) as caught:
        matching.confirm_match(treasurer, lines[-5999], "no-such", 1, now=NOW)
    assert caught.value.field == "matcher"
