"""Account codes sort as numbers (a member's payable '2100-2' before '2100-10') on the trial
balance, and the journal lists entries by the day they happened, newest first."""
from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.balances import account_code_key, recent_entries, trial_balance
from collective.ledger.models import Account, AccountType
from collective.ledger.services import Line
from tests.factories import commit, make_collective


def test_account_codes_sort_numerically_part_by_part():
    codes = ["3000", "2100-10", "1200", "2200", "2100-2", "1000", "2100", "1100", "2100-100"]
    assert sorted(codes, key=account_code_key) == [
        "1000", "1100", "1200", "2100", "2100-2", "2100-10", "2100-100", "2200", "3000"]
    # a code with letters sorts too, after the numbers at its place, and never raises
    assert sorted(["2100-A", "2100-3"], key=account_code_key) == ["2100-3", "2100-A"]


def _key_part_by_part(code: str) -> tuple:
    """The key as its definition reads: numbers and the text between them, part by part."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", code) if part not in ("", "-"))


@given(st.text(alphabet="0123456789-aZ", max_size=9))
def test_the_quick_key_of_plain_codes_is_the_part_by_part_key(code):
    assert account_code_key(code) == _key_part_by_part(code)


@pytest.fixture
def books(setup):
    with setup():
        founder = make_collective()
        cid = founder.collective_id
        bank = ledger.account_by_code(cid, ledger.BANK)
        # Two payable accounts whose codes sort the wrong way as text ('2900-10' < '2900-9').
        payables = [Account(collective_id=cid, code=f"2900-{n}", name=f"Member {n}",
                            type=AccountType.LIABILITY) for n in (10, 9)]
        db.session.add_all(payables)
        db.session.flush()
        for i, (account, day) in enumerate(zip(payables, (3, 1), strict=True)):
            ledger.post_entry(cid, kind="payment", occurred_on=date(2026, 10, day),
                              idempotency_key=f"order:{i}",
                              lines=[Line(bank.id, 100, "USD"), Line(account.id, -100, "USD")])
        # posted last but happened first of all
        ledger.post_entry(cid, kind="payment", occurred_on=date(2026, 9, 30),
                          idempotency_key="order:late", memo="late",
                          lines=[Line(bank.id, 7, "USD"), Line(payables[0].id, -7, "USD")])
        commit()
        return {"cid": cid, "slug": founder.collective.slug, "email": founder.user.email}


def test_the_trial_balance_lists_member_accounts_in_numeric_order(ctx, books, client, auth):
    codes = [row.code for row in trial_balance(books["cid"])]
    assert codes == ["1000", "2900-9", "2900-10"]

    auth.login(books["email"])
    page = client.get(f"/c/{books['slug']}/ledger/trial-balance").get_data(as_text=True)
    assert re.findall(r"<tr><td>(\d{4}(?:-\d+)?)</td>", page) == ["1000", "2900-9", "2900-10"]


def test_the_journal_lists_entries_by_date_newest_first_and_pages_by_date(ctx, books):
    entries = recent_entries(books["cid"], limit=10)
    assert [e.occurred_on for e in entries] == [
        date(2026, 10, 3), date(2026, 10, 1), date(2026, 9, 30)]
    # the next page after the second entry is the one that happened before it, though it
    # was posted after both
    after_second = recent_entries(books["cid"], limit=10, before_id=entries[1].id)
    assert [(e.occurred_on, e.memo) for e in after_second] == [(date(2026, 9, 30), "late")]


@pytest.fixture
def many_codes(setup):
    """Accounts whose codes sort differently as text and as numbers, in two currencies
    (prefixes no member account of the app has, so no real membership's code collides)."""
    with setup():
        founder = make_collective()
        cid = founder.collective_id
        bank = ledger.account_by_code(cid, ledger.BANK)
        codes = ["2900-100", "1900-25", "2900-10", "1010", "2900-2", "1900-3", "2900-9"]
        accounts = [Account(collective_id=cid, code=code, name=f"Account {code}",
                            type=AccountType.ASSET if code.startswith("1") else
                            AccountType.LIABILITY) for code in codes]
        db.session.add_all(accounts)
        db.session.flush()
        for i, account in enumerate(accounts):
            for currency in ("USD", "EUR") if i % 2 else ("USD",):
                ledger.post_entry(cid, kind="payment", occurred_on=date(2026, 10, 1 + i),
                                  idempotency_key=f"codes:{i}:{currency}",
                                  lines=[Line(bank.id, 100 + i, currency),
                                         Line(account.id, -(100 + i), currency)])
        commit()
        return cid


def test_a_trial_balance_page_is_the_same_slice_of_the_whole_in_the_same_order(ctx, many_codes):
    from collective.ledger.balances import trial_balance_page, trial_balance_totals
    whole = trial_balance(many_codes)
    assert [r.code for r in whole if r.currency == "USD"] == [
        "1000", "1010", "1900-3", "1900-25", "2900-2", "2900-9", "2900-10", "2900-100"]
    paged = []
    for offset in range(0, len(whole) + 3, 3):
        page = trial_balance_page(many_codes, None, offset=offset, limit=3)
        # every page carries the totals of all lines, the last (empty) one too
        assert page.totals == trial_balance_totals(whole) == {
            "EUR": (sum(100 + i for i in (1, 3, 5)),) * 2,
            "USD": (sum(100 + i for i in range(7)),) * 2}
        assert page.lines == len(whole) == 8 + 4
        paged += page.rows
    assert [(r.code, r.currency, r.debits, r.credits) for r in paged] == [
        (r.code, r.currency, r.debits, r.credits) for r in whole]


def test_the_statement_lines_sum_a_kind_past_the_named_count_where_its_first_stood(
        ctx, many_codes):
    from collective.ledger.balances import statement_lines
    lines = statement_lines(many_codes, "USD", date(2026, 10, 31), named=3)
    assert [(code, name, amount) for code, name, _, amount in lines] == [
        ("1000", "Bank", sum(100 + i for i in range(7))),
        ("1010", "Account 1010", -103),
        ("1900-3", "Account 1900-3", -105), ("1900-25", "Account 1900-25", -101),
        # four payables, past three: one line
        ("2900-*", "4 member accounts", 100 + 102 + 104 + 106)]
    # as of a date before some postings, only what was posted by then
    early = statement_lines(many_codes, "EUR", date(2026, 10, 2), named=3)
    assert [(code, amount) for code, _, _, amount in early] == [("1000", 101),
                                                                  ("1900-25", -101)]
