"""Closed periods: the posting service and the database refuse entries dated inside them;
reopening takes a reason; the year-end close posts one closing entry."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import periods
from collective.ledger import services as ledger
from collective.ledger.models import ClosedPeriod, EntryKind, JournalEntry, PeriodEvent
from collective.reports.services import income_statement
from tests.factories import make_collective

TODAY = date(2026, 3, 10)
JANUARY = date(2026, 1, 1)


@pytest.fixture
def books(ctx):
    """A collective whose bank never moved (so each month is reconciled), and its accounts."""
    treasurer = make_collective(currency="EUR")
    cid = treasurer.collective_id
    codes = (ledger.BANK, ledger.COMMON_FUND, ledger.CLIENT_INCOME, ledger.EXPENSES,
             ledger.MEMBER_SHARES, ledger.BENEFITS_FUND)
    return treasurer, cid, {code: ledger.account_by_code(cid, code).id for code in codes}


def _post(cid, accounts, day, key, kind=EntryKind.TRANSFER, debit=ledger.EXPENSES,
          credit=ledger.BENEFITS_FUND, amount=100):
    return ledger.post_entry(cid, kind=kind, occurred_on=day, idempotency_key=key,
                             lines=[ledger.Line(accounts[debit], amount, "EUR"),
                                    ledger.Line(accounts[credit], -amount, "EUR")])


def test_a_closed_month_refuses_entries_through_the_service(books):
    treasurer, cid, accounts = books
    periods.close_month(treasurer, cid, JANUARY, today=TODAY)
    with pytest.raises(ledger.PeriodClosed) as caught:
        _post(cid, accounts, date(2026, 1, 31), "late")
    assert caught.value.field == "occurred_on"
    assert "January 2026 is closed" in caught.value.message
    with pytest.raises(ledger.PeriodClosed):
        ledger.post_entries(cid, [ledger.NewEntry(EntryKind.TRANSFER, date(2026, 1, 1), "bulk", [
            ledger.Line(accounts[ledger.EXPENSES], 5, "EUR"),
            ledger.Line(accounts[ledger.BENEFITS_FUND], -5, "EUR")])])
    assert _post(cid, accounts, date(2026, 2, 1), "february").id
    assert _post(cid, accounts, date(2025, 12, 31), "december").id


def test_a_closed_month_refuses_entries_inserted_in_sql(books):
    treasurer, cid, _accounts = books
    periods.close_month(treasurer, cid, JANUARY, today=TODAY)
    insert = sa.text("INSERT INTO journal_entries (collective_id, occurred_on, posted_at, kind, "
                     "memo, idempotency_key) VALUES (:cid, :day, CURRENT_TIMESTAMP, "
                     "'transfer', '', :key)")
    with pytest.raises(sa.exc.DBAPIError, match="closed period"):
        with db.session.begin_nested():
            db.session.execute(insert, {"cid": cid, "day": date(2026, 1, 15), "key": "raw"})
    with db.session.begin_nested():
        db.session.execute(insert, {"cid": cid, "day": date(2026, 2, 15), "key": "raw-feb"})
    # Another collective's January is not closed.
    other = make_collective().collective_id
    with db.session.begin_nested():
        db.session.execute(insert, {"cid": other, "day": date(2026, 1, 15), "key": "raw"})


def test_a_month_not_over_or_not_reconciled_is_not_closed(books):
    treasurer, cid, accounts = books
    with pytest.raises(DomainError, match="has not ended yet"):
        periods.close_month(treasurer, cid, date(2026, 3, 1), today=TODAY)
    _post(cid, accounts, date(2026, 2, 3), "bank moved", kind=EntryKind.DEPOSIT,
          debit=ledger.BANK, credit=ledger.COMMON_FUND)
    with pytest.raises(DomainError, match="no bank account is set up") as caught:
        periods.close_month(treasurer, cid, date(2026, 2, 1), today=TODAY)
    assert caught.value.field == "month"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosedPeriod)
                             .filter_by(collective_id=cid)) == 0


def test_reopening_needs_a_reason_and_is_recorded(books):
    treasurer, cid, accounts = books
    periods.close_month(treasurer, cid, JANUARY, today=TODAY)
    with pytest.raises(DomainError) as caught:
        periods.reopen_month(treasurer, cid, JANUARY, reason="  ")
    assert caught.value.field == "reason"
    periods.reopen_month(treasurer, cid, JANUARY, reason="A supplier invoice came late")
    assert periods.closed_period(cid, JANUARY) is None
    assert _post(cid, accounts, date(2026, 1, 20), "late invoice").id
    events = [(e.action, e.reason, e.user_id, name) for e, name in periods.period_events(cid)]
    name = treasurer.user.name
    assert events == [("reopened", "A supplier invoice came late", treasurer.user_id, name),
                      ("closed", "", treasurer.user_id, name)]


def _year_2025(cid, accounts):
    """Income 100.00, members' shares 60.00, a fee 2.50: a result of 37.50."""
    _post(cid, accounts, date(2025, 3, 4), "pay", kind=EntryKind.PAYMENT,
          debit=ledger.BANK, credit=ledger.CLIENT_INCOME, amount=10000)
    _post(cid, accounts, date(2025, 3, 4), "shares", kind=EntryKind.PAYMENT,
          debit=ledger.MEMBER_SHARES, credit=ledger.BENEFITS_FUND, amount=6000)
    _post(cid, accounts, date(2025, 7, 1), "fee", kind=EntryKind.EXPENSE,
          debit=ledger.EXPENSES, credit=ledger.BANK, amount=250)
    _post(cid, accounts, date(2026, 1, 5), "next year", kind=EntryKind.PAYMENT,
          debit=ledger.BANK, credit=ledger.CLIENT_INCOME, amount=999)


def test_year_end_close_is_refused_while_months_are_unreconciled(books):
    treasurer, cid, accounts = books
    _year_2025(cid, accounts)
    with pytest.raises(DomainError, match=r"not reconciled \(March, July\)"):
        periods.close_year(cid, 2025, actor=treasurer, today=TODAY)
    with pytest.raises(DomainError) as caught:
        periods.close_year(cid, 2025, actor=treasurer, today=TODAY, force=True)
    assert caught.value.field == "reason"
    assert ledger.find_entry(cid, "closing:2025") is None


def test_a_forced_year_end_close_posts_the_result_to_the_common_fund_once(books):
    treasurer, cid, accounts = books
    _year_2025(cid, accounts)
    entry = periods.close_year(cid, 2025, actor=treasurer, today=TODAY, force=True,
                               reason="No bank statements kept for 2025")
    assert (entry.kind, entry.occurred_on, entry.idempotency_key) == (
        EntryKind.CLOSING, date(2025, 12, 31), "closing:2025")
    assert sorted((p.account_id, p.amount) for p in entry.postings) == sorted([
        (accounts[ledger.CLIENT_INCOME], 10000), (accounts[ledger.MEMBER_SHARES], -6000),
        (accounts[ledger.EXPENSES], -250), (accounts[ledger.COMMON_FUND], -3750)])
    assert {p.currency for p in entry.postings} == {"EUR"}
    assert [p.starts_on for p in db.session.scalars(
        sa.select(ClosedPeriod).filter_by(collective_id=cid).order_by(ClosedPeriod.starts_on))
            ] == periods.months_of(2025)
    event = db.session.scalar(sa.select(PeriodEvent).filter_by(collective_id=cid,
                                                               action="year-closed"))
    assert (event.is_forced, event.reason, event.user_id) == (
        True, "No bank statements kept for 2025", treasurer.user_id)
    again = periods.close_year(cid, 2025, actor=treasurer, today=TODAY, force=True,
                               reason="again")
    assert again.id == entry.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)
                             .filter_by(collective_id=cid, kind="closing")) == 1


def test_the_income_statement_leaves_the_closing_entry_out(books):
    treasurer, cid, accounts = books
    _year_2025(cid, accounts)
    periods.close_year(cid, 2025, actor=treasurer, today=TODAY, force=True, reason="test")
    report = income_statement(cid, "EUR", date(2025, 1, 1), date(2025, 12, 31))
    assert report["income"].total == 10000 and report["expenses"].total == 6250
    assert report["result"] == 3750
    from collective.ledger.balances import trial_balance
    rows = {r.code: r.balance for r in trial_balance(cid, date(2025, 12, 31))}
    assert rows[ledger.CLIENT_INCOME] == 0 and rows[ledger.COMMON_FUND] == -3750


def test_a_year_not_over_is_not_closed(books):
    treasurer, cid, _accounts = books
    with pytest.raises(DomainError, match="2026 has not ended"):
        periods.close_year(cid, 2026, actor=treasurer, today=TODAY)


def test_the_close_year_command_closes_a_reconciled_year(app, runner, books):
    treasurer, cid, accounts = books
    _post(cid, accounts, date(2025, 5, 5), "only shares", kind=EntryKind.PAYMENT,
          debit=ledger.MEMBER_SHARES, credit=ledger.BENEFITS_FUND, amount=700)
    slug = treasurer.collective.slug
    result = runner.invoke(args=["ledger", "close-year", "--collective", slug, "--year", "2025"])
    assert result.exit_code == 0, result.output
    assert "2025 closed" in result.output
    entry = ledger.find_entry(cid, "closing:2025")
    assert sorted((p.account_id, p.amount) for p in entry.postings) == sorted([
        (accounts[ledger.MEMBER_SHARES], -700), (accounts[ledger.COMMON_FUND], 700)])
    result = runner.invoke(args=["ledger", "close-year", "--collective", "nowhere",
                                 "--year", "2025"])
    assert result.exit_code != 0 and "no collective 'nowhere'" in result.output
