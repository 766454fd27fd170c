"""The reconciliation of an account on a day: statement balance against the ledger's bank
balance, and the difference explained line by line; and what makes a month reconciled."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from collective.books.bank import matching, queries, services
from collective.books.bank.models import BankLine
from collective.extensions import db
from collective.ledger import periods
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind
from tests.books.bank.factories import TODAY, import_sample, make_bank, post_bank

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)
OCTOBER = date(2026, 10, 1)


@pytest.fixture
def october(ctx):
    """The CAMT sample imported; the ledger holds the opening 1,000.00, the client payment
    and the payout (matched), and a 20.00 deposit the bank never saw."""
    treasurer, account = make_bank()
    import_sample(treasurer, account, "camt053")
    cid = treasurer.collective_id
    post_bank(cid, date(2026, 9, 30), 100000, kind=EntryKind.OPENING)
    payment = post_bank(cid, date(2026, 10, 2), 125000, kind=EntryKind.PAYMENT,
                        other=ledger.CLIENT_INCOME)
    payout = post_bank(cid, date(2026, 10, 5), -40000)
    deposit = post_bank(cid, date(2026, 10, 10), 2000, kind=EntryKind.DEPOSIT)
    lines = {line.amount: line for line in db.session.scalars(
        sa.select(BankLine).filter_by(bank_account_id=account.id))}
    matching.confirm_match(treasurer, lines[125000], "payment", payment.id, now=NOW)
    matching.confirm_match(treasurer, lines[-40000], "payout", payout.id, now=NOW)
    return treasurer, account, lines, deposit


def test_the_difference_is_explained_by_unmatched_lines_and_postings(october):
    _treasurer, account, lines, deposit = october
    result = queries.reconciliation(account, date(2026, 10, 31))
    # The bank: 1,000.00 + 1,250.00 - 400.00 - 59.99 - 7.50 = 1,782.51 (its CLBD too).
    assert result.statement_balance == 178251
    # The ledger: 1,000.00 + 1,250.00 - 400.00 + 20.00.
    assert result.ledger_balance == 187000
    assert result.difference == -8749
    assert sorted((row.amount, row.line.id if row.line else None, row.entry_id)
                  for row in result.rows) == sorted([
        (-5999, lines[-5999].id, None), (-750, lines[-750].id, None),
        (-2000, None, deposit.id)])
    assert result.unexplained == 0


def test_mid_month_the_statement_balance_is_the_opening_plus_the_lines(october):
    _treasurer, account, _lines, _deposit = october
    result = queries.reconciliation(account, date(2026, 10, 6))
    assert result.statement_balance == 100000 + 125000 - 40000
    assert result.ledger_balance == 185000 and result.difference == 0 and result.rows == []


def test_a_month_is_reconciled_once_every_line_is_resolved_and_nothing_differs(october):
    treasurer, account, lines, deposit = october
    cid = treasurer.collective_id
    problems = queries.month_problems(cid, OCTOBER, date(2026, 10, 31))
    assert problems == ["Main account: 2 statement lines not matched or explained",
                        "Main account: statement and ledger differ by -€87.49 on 2026-10-31"]
    with pytest.raises(Exception, match="is not reconciled"):
        periods.close_month(treasurer, cid, OCTOBER, today=TODAY)
    expenses = ledger.account_by_code(cid, ledger.EXPENSES)
    rule = services.add_fee_rule(treasurer, pattern="fee", expense_account_id=expenses.id)
    matching.confirm_match(treasurer, lines[-750], "fee", rule.id, now=NOW)
    services.explain_line(treasurer, lines[-5999], "Paid by a member's card by mistake; "
                          "repaid below", now=NOW)
    ledger.reverse_entry(deposit, occurred_on=date(2026, 10, 12))
    # The explained line still differs from the ledger: the treasurer books it.
    post_bank(cid, date(2026, 10, 20), -5999, kind=EntryKind.EXPENSE, other=ledger.EXPENSES)
    assert queries.month_problems(cid, OCTOBER, date(2026, 10, 31)) == []
    assert periods.period_states(cid, 2026, TODAY)[9].state == "reconciled"
    closed = periods.close_month(treasurer, cid, OCTOBER, today=TODAY)
    assert (closed.starts_on, closed.ends_on, closed.closed_by_id) == (
        OCTOBER, date(2026, 10, 31), treasurer.user_id)
    assert periods.period_states(cid, 2026, TODAY)[9].state == "closed"


def test_a_month_with_no_statement_reaching_its_end_is_not_reconciled(october):
    treasurer, _account, _lines, _deposit = october
    assert queries.month_problems(treasurer.collective_id, date(2026, 11, 1),
                                  date(2026, 11, 30)) == [
        "Main account: no statement reaches 2026-11-30"]


def test_a_month_before_the_first_statement_is_not_covered(october):
    treasurer, _account, _lines, _deposit = october
    assert queries.month_problems(treasurer.collective_id, date(2026, 9, 1),
                                  date(2026, 9, 30)) == [
        "Main account: no statement covers the month (the first starts 2026-10-01)"]
