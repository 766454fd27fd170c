"""Posting, idempotency, reversal, balances and the ledger check."""
from datetime import date

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.ledger.models import Account, JournalEntry, Posting
from collective.ledger.services import Line
from tests.factories import make_collective, make_member


def _counts():
    return (db.session.scalar(sa.select(sa.func.count(JournalEntry.id))),
            db.session.scalar(sa.select(sa.func.count(Posting.id))))


@pytest.fixture
def books(ctx):
    """A collective with a member, and the bank / common fund / member payable accounts."""
    founder = make_collective()
    collective = founder.collective
    member = make_member(collective)
    return {
        "collective": collective,
        "bank": ledger.account_by_code(collective.id, ledger.BANK),
        "fund": ledger.account_by_code(collective.id, ledger.COMMON_FUND),
        "payable": ledger.member_account(member.id),
        "member": member,
    }


def _pay(books, key="payment:1", amount=10_000, on=date(2026, 10, 5)):
    """A client payment: bank debited, 10% to the fund, the rest to the member."""
    fund_part = amount // 10
    return ledger.post_entry(
        books["collective"].id, kind="payment", occurred_on=on, idempotency_key=key,
        memo="Harbour Dental retainer",
        lines=[Line(books["bank"].id, amount, "USD"),
               Line(books["fund"].id, -fund_part, "USD"),
               Line(books["payable"].id, -(amount - fund_part), "USD")],
    )


def test_creating_a_collective_creates_the_standard_chart(books):
    types = dict(db.session.execute(
        sa.select(Account.code, Account.type).where(
            Account.collective_id == books["collective"].id)).all())
    codes = set(types)
    assert {code: types[code] for code in ("1000", "1100", "1200", "2200", "3000", "4000",
                                           "5000")} == {
        "1000": "asset", "1100": "asset", "1200": "asset", "2200": "liability",
        "3000": "equity", "4000": "income", "5000": "expense"}
    # The benefits fund is the members' reserves, held for them: a liability, not equity.
    assert "3100" not in codes
    # one payable account per member: the founder and the member
    assert len([c for c in codes if c.startswith("2100-")]) == 2


def test_balanced_entry_is_posted_with_its_postings(books):
    entry = _pay(books)
    assert entry.id is not None
    assert sorted(p.amount for p in entry.postings) == [-9000, -1000, 10000]
    assert balances.account_balance(books["bank"].id) == {"USD": 10000}
    assert balances.member_balance(books["member"].id) == {"USD": 9000}


@pytest.mark.parametrize(
    ("lines", "error", "message"),
    [
        (lambda b: [Line(b["bank"].id, 100, "USD"), Line(b["fund"].id, -99, "USD")],
         ledger.UnbalancedEntry, "USD \\+1"),
        (lambda b: [Line(b["bank"].id, 100, "USD")], ledger.UnbalancedEntry, "at least two"),
        (lambda b: [], ledger.UnbalancedEntry, "at least two"),
        (lambda b: [Line(b["bank"].id, 100, "USD"), Line(b["fund"].id, -100, "EUR")],
         ledger.UnbalancedEntry, "EUR -100, USD \\+100"),
        (lambda b: [Line(b["bank"].id, 0, "USD"), Line(b["fund"].id, 0, "USD")],
         ledger.LedgerError, "zero"),
        (lambda b: [Line(b["bank"].id, 100, "XXX"), Line(b["fund"].id, -100, "XXX")],
         ledger.LedgerError, "ISO 4217"),
        (lambda b: [Line(b["bank"].id, 1.5, "USD"), Line(b["fund"].id, -1.5, "USD")],
         ledger.LedgerError, "integer"),
        (lambda b: [Line(b["bank"].id, 100, "USD"), Line(999_999, -100, "USD")],
         ledger.ForeignAccount, "do not belong"),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_written(books, lines, error, message):
    before = _counts()
    with pytest.raises(error, match=message):
        ledger.post_entry(books["collective"].id, kind="opening", occurred_on=date(2026, 10, 1),
                          idempotency_key="bad:1", lines=lines(books))
    assert _counts() == before


def test_posting_to_another_collectives_account_is_refused(books):
    other = make_collective().collective
    other_bank = ledger.account_by_code(other.id, ledger.BANK)
    before = _counts()
    with pytest.raises(ledger.ForeignAccount):
        ledger.post_entry(books["collective"].id, kind="opening", occurred_on=date(2026, 10, 1),
                          idempotency_key="cross:1",
                          lines=[Line(other_bank.id, 500, "USD"),
                                 Line(books["fund"].id, -500, "USD")])
    assert _counts() == before


def test_same_idempotency_key_returns_the_existing_entry(books):
    first = _pay(books)
    before = _counts()
    again = _pay(books)
    assert again.id == first.id
    assert _counts() == before
    assert balances.account_balance(books["bank"].id) == {"USD": 10000}


def test_same_key_in_another_collective_is_a_different_entry(books):
    _pay(books)
    other = make_member(make_collective().collective)
    other_books = {
        "collective": other.collective,
        "bank": ledger.account_by_code(other.collective_id, ledger.BANK),
        "fund": ledger.account_by_code(other.collective_id, ledger.COMMON_FUND),
        "payable": ledger.member_account(other.id),
    }
    assert _pay(other_books).collective_id == other.collective_id


def test_reusing_a_key_for_different_amounts_is_a_conflict(books):
    _pay(books, amount=10_000)
    with pytest.raises(ledger.IdempotencyConflict):
        _pay(books, amount=20_000)


def test_the_database_refuses_a_duplicate_key_that_slips_past_the_service(books):
    entry = _pay(books)
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(sa.insert(JournalEntry).values(
            collective_id=entry.collective_id, occurred_on=date(2026, 1, 1), kind="payment",
            memo="", idempotency_key=entry.idempotency_key))


def test_reversal_posts_the_mirror_once(books):
    entry = _pay(books)
    reversal = ledger.reverse_entry(entry, memo="entered twice by mistake")
    assert reversal.reverses_id == entry.id
    assert reversal.kind == "reversal"
    assert sorted(p.amount for p in reversal.postings) == [-10000, 1000, 9000]
    assert balances.account_balance(books["bank"].id) == {}
    assert balances.member_balance(books["member"].id) == {}
    before = _counts()
    assert ledger.reverse_entry(entry).id == reversal.id
    assert _counts() == before
    with pytest.raises(ledger.LedgerError, match="itself a reversal"):
        ledger.reverse_entry(reversal)


def test_balances_are_as_of_a_date(books):
    _pay(books, key="payment:1", amount=10_000, on=date(2026, 9, 30))
    _pay(books, key="payment:2", amount=5_000, on=date(2026, 10, 15))
    bank = books["bank"].id
    assert balances.account_balance(bank, as_of=date(2026, 9, 29)) == {}
    assert balances.account_balance(bank, as_of=date(2026, 9, 30)) == {"USD": 10_000}
    assert balances.account_balance(bank, as_of=date(2026, 10, 14)) == {"USD": 10_000}
    assert balances.account_balance(bank) == {"USD": 15_000}
    assert balances.member_balance(books["member"].id, as_of=date(2026, 10, 1)) == {"USD": 9_000}
    rows = balances.trial_balance(books["collective"].id, as_of=date(2026, 10, 1))
    by_code = {r.code: r for r in rows}
    assert by_code["1000"].debits == 10_000 and by_code["1000"].credits == 0
    assert by_code["3000"].natural_balance == 1_000
    assert balances.trial_balance_totals(rows) == {"USD": (10_000, 10_000)}


def test_trial_balance_keeps_currencies_apart(books):
    _pay(books)
    ledger.post_entry(books["collective"].id, kind="payment", occurred_on=date(2026, 10, 6),
                      idempotency_key="payment:aud",
                      lines=[Line(books["bank"].id, 30_000, "AUD"),
                             Line(books["fund"].id, -30_000, "AUD")])
    totals = balances.trial_balance_totals(balances.trial_balance(books["collective"].id))
    assert totals == {"AUD": (30_000, 30_000), "USD": (10_000, 10_000)}


def test_check_ledger_finds_unbalanced_and_short_entries(books):
    _pay(books)
    assert balances.check_ledger(books["collective"].id).ok
    # Written around the service, as a bug or a hand edit would.
    bad = db.session.execute(sa.insert(JournalEntry).values(
        collective_id=books["collective"].id, occurred_on=date(2026, 10, 1), kind="opening",
        memo="", idempotency_key="bad").returning(JournalEntry.id)).scalar_one()
    db.session.execute(sa.insert(Posting).values(entry_id=bad, account_id=books["bank"].id,
                                                 amount=5, currency="USD"))
    result = balances.check_ledger(books["collective"].id)
    assert not result.ok
    assert result.unbalanced_entry_ids == [bad]
    assert result.short_entry_ids == [bad]


def test_ledger_check_command_names_the_unbalanced_entry(app, runner):
    with app.app_context():
        collective = make_collective().collective
        bank = ledger.account_by_code(collective.id, ledger.BANK)
        bad = db.session.execute(sa.insert(JournalEntry).values(
            collective_id=collective.id, occurred_on=date(2026, 10, 1), kind="opening",
            memo="", idempotency_key="bad").returning(JournalEntry.id)).scalar_one()
        db.session.execute(sa.insert(Posting).values(entry_id=bad, account_id=bank.id,
                                                     amount=5, currency="USD"))
        db.session.commit()
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 1
    assert f"unbalanced entries: {bad}" in result.output
