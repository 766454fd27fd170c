"""Ledger exports called directly: CSV presets, XLSX sheets, Beancount files and the range check.

Every export is checked against the ledger's own SQL: the running balances, the trial
balance, and what bean-check (beancount's loader) says about the file.
"""
from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa
import time_machine
from beancount import loader
from beancount.core import data as bean

from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.ledger.models import Account, AccountType
from collective.reports import beancount, exports, xlsx
from tests.reports.factories import (
    AWKWARD_MEMO,
    LATER,
    RANGE_FROM,
    RANGE_TO,
    Books,
    make_books,
    postings_in_range,
)

DIGITS = {"USD": 2, "EUR": 2, "JPY": 0}
BEAN_ROOTS = {"Assets", "Liabilities", "Equity", "Income", "Expenses"}
BEAN_COMPONENT = re.compile(r"^[A-Z][A-Za-z0-9-]*$")


@pytest.fixture
def books(ctx) -> Books:
    return make_books()


def _query(books: Books, date_from: date = RANGE_FROM, date_to: date = RANGE_TO,
           **filters) -> exports.LedgerQuery:
    return exports.LedgerQuery(books.collective_id, date_from, date_to, **filters)


def _csv(query: exports.LedgerQuery, preset: str = "accounting"
         ) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of a CSV export."""
    text = b"".join(exports.csv_chunks(query, preset)).decode()
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _minor(text: str, currency: str) -> int:
    """'1339.43' -> 133943 (and '' -> 0), refusing more decimals than the currency has."""
    if not text:
        return 0
    digits = DIGITS[currency]
    assert re.fullmatch(rf"-?\d+(\.\d{{{digits}}})?" if digits else r"-?\d+", text), text
    return int(Decimal(text).scaleb(digits))


def _accounts(books: Books) -> dict[str, Account]:
    return {a.code: a for a in db.session.scalars(
        sa.select(Account).where(Account.collective_id == books.collective_id))}


def _natural_sql_balance(account: Account, currency: str, as_of: date) -> int:
    """The account's balance in its normal direction, from balances.account_balance."""
    signed = balances.account_balance(account.id, as_of).get(currency, 0)
    return signed if AccountType(account.type).is_debit_normal else -signed


# --- CSV ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("preset", "columns"), [("accounting", exports.ACCOUNTING_COLUMNS),
                                                 ("full", exports.FULL_COLUMNS)])
def test_csv_header_is_exactly_the_presets_columns(books, preset, columns):
    header, _ = _csv(_query(books), preset)
    assert header == columns
    assert exports.FULL_COLUMNS[:len(exports.ACCOUNTING_COLUMNS)] == exports.ACCOUNTING_COLUMNS


@pytest.mark.parametrize("preset", exports.PRESETS)
def test_csv_has_every_posting_in_the_range_in_order_with_a_balance(books, preset):
    _, rows = _csv(_query(books), preset)

    expected = [(entry_id, code, amount, currency)
                for entry_id, _, code, amount, currency, _ in
                postings_in_range(books.collective_id, RANGE_FROM, RANGE_TO)]
    got = [(int(r["entry_id"]), r["account_code"],
            _minor(r["debit"], r["currency"]) - _minor(r["credit"], r["currency"]),
            r["currency"]) for r in rows]
    assert got == expected
    # 3 + 5 + 2 + 2 + 5 + 5 + 2 postings: a payment is bank, income, members' shares and
    # the two members' payables.
    assert len(rows) == 24
    assert all(r["balance"] != "" for r in rows)
    assert all(RANGE_FROM.isoformat() <= r["date"] <= RANGE_TO.isoformat() for r in rows)
    # Exactly one of debit and credit on each row.
    assert all(bool(r["debit"]) != bool(r["credit"]) for r in rows)
    ids = {e.id for e in books.entries.values()}
    assert {int(r["entry_id"]) for r in rows} <= ids
    assert str(books.entries["february_payment"].id) not in {r["entry_id"] for r in rows}
    assert str(books.entries["july_deposit"].id) not in {r["entry_id"] for r in rows}


@pytest.mark.parametrize("preset", exports.PRESETS)
def test_last_running_balance_of_each_account_is_its_sql_balance_at_the_end(books, preset):
    _, rows = _csv(_query(books), preset)
    accounts = _accounts(books)
    last: dict[tuple[str, str], str] = {}
    for row in rows:
        last[(row["account_code"], row["currency"])] = row["balance"]

    # Bank in 3 currencies, the common fund in EUR, the benefits fund in 2, income and
    # members' shares in USD, 2 members.
    assert len(last) == 10
    for (code, currency), balance in last.items():
        expected = _natural_sql_balance(accounts[code], currency, RANGE_TO)
        assert _minor(balance, currency) == expected, (code, currency)
    assert last[(ledger.BANK, "USD")] == "10839.43"
    assert last[(ledger.BANK, "EUR")] == "650.00"
    assert last[(ledger.BANK, "JPY")] == "5000"
    assert last[(ledger.member_account_code(books.ann.id), "USD")] == "7154.12"


@pytest.mark.parametrize("preset", exports.PRESETS)
def test_debits_equal_credits_per_currency_in_the_range(books, preset):
    _, rows = _csv(_query(books), preset)
    debits: dict[str, int] = defaultdict(int)
    credits: dict[str, int] = defaultdict(int)
    for row in rows:
        debits[row["currency"]] += _minor(row["debit"], row["currency"])
        credits[row["currency"]] += _minor(row["credit"], row["currency"])

    assert dict(debits) == dict(credits)
    expected: dict[str, int] = defaultdict(int)
    for _, _, _, amount, currency, _ in postings_in_range(books.collective_id, RANGE_FROM,
                                                          RANGE_TO):
        expected[currency] += max(amount, 0)
    # USD: the EUR payment (the bank, and the members' 90% as an expense), the payout, the
    # May payment (the same two), its reversal (income and the payables), the deposit fix.
    assert dict(debits) == dict(expected) == {"EUR": 25_000, "JPY": 5_000,
                                              "USD": 133_943 + 120_549 + 50_000 + 200_000
                                              + 180_000 + 200_000 + 180_000 + 5_000}


def test_opening_balances_carry_into_the_running_balance(books):
    _, rows = _csv(_query(books))
    accounts = _accounts(books)
    before = RANGE_FROM - timedelta(days=1)
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = (row["account_code"], row["currency"])
        if key in seen:
            continue
        seen.add(key)
        account = accounts[row["account_code"]]
        movement = _minor(row["debit"], row["currency"]) - _minor(row["credit"], row["currency"])
        if not AccountType(account.type).is_debit_normal:
            movement = -movement
        opening = _natural_sql_balance(account, row["currency"], before)
        assert _minor(row["balance"], row["currency"]) == opening + movement, key

    first_bank_usd = next(r for r in rows if (r["account_code"], r["currency"]) == ("1000", "USD"))
    assert (first_bank_usd["debit"], first_bank_usd["balance"]) == ("1339.43", "11389.43")
    # From the very first entry there is nothing to carry: the balance is the movement.
    _, from_start = _csv(_query(books, date_from=date(2026, 1, 1)))
    assert (from_start[0]["account_code"], from_start[0]["debit"],
            from_start[0]["balance"]) == ("1000", "10000.00", "10000.00")


def test_full_preset_shows_what_the_client_paid_and_what_was_reversed(books):
    _, rows = _csv(_query(books), "full")
    by_entry: dict[int, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_entry[int(row["entry_id"])].append(row)

    foreign = by_entry[books.entries["eur_payment"].id]
    assert len(foreign) == 5
    assert {(r["original_currency"], r["original_amount"], r["rate"], r["currency"])
            for r in foreign} == {("EUR", "1234.50", "1.085", "USD")}
    assert {r["idempotency_key"] for r in foreign} == {f"payment:{books.foreign.id}"}
    assert foreign[0]["debit"] == "1339.43"  # EUR 1,234.50 at 1.085
    reversal = by_entry[books.entries["may_reversal"].id]
    assert {r["reverses_entry_id"] for r in reversal} == {str(books.entries["may_payment"].id)}
    assert {r["kind"] for r in reversal} == {"reversal"}
    manual = by_entry[books.entries["eur_grant"].id]
    assert {(r["original_currency"], r["original_amount"], r["rate"], r["reverses_entry_id"])
            for r in manual} == {("", "", "", "")}
    assert {r["memo"] for r in manual} == {AWKWARD_MEMO}


def test_amounts_use_each_currencys_decimals(books):
    _, rows = _csv(_query(books))
    amounts = {(r["currency"], r["debit"] or r["credit"]) for r in rows}
    assert ("JPY", "5000") in amounts
    assert ("EUR", "250.00") in amounts
    assert ("USD", "904.12") in amounts


@pytest.mark.parametrize("which", ["account", "member", "kind"])
def test_filters_return_only_the_matching_rows(books, which):
    ann_code = ledger.member_account_code(books.ann.id)
    reversals = {books.entries["may_reversal"].id, books.entries["february_fix"].id}
    if which == "account":
        query = _query(books, account_code=ledger.CLIENT_INCOME)
        wanted = [p for p in postings_in_range(books.collective_id, RANGE_FROM, RANGE_TO)
                  if p[2] == ledger.CLIENT_INCOME]
    elif which == "member":
        query = _query(books, membership_id=books.ann.id)
        wanted = [p for p in postings_in_range(books.collective_id, RANGE_FROM, RANGE_TO)
                  if p[2] == ann_code]
    else:
        query = _query(books, kind="reversal")
        wanted = [p for p in postings_in_range(books.collective_id, RANGE_FROM, RANGE_TO)
                  if p[1] == "reversal"]

    _, rows = _csv(query)

    assert [(int(r["entry_id"]), r["account_code"]) for r in rows] == [(p[0], p[2])
                                                                        for p in wanted]
    assert len(rows) == {"account": 3, "member": 4, "kind": 7}[which]
    if which == "account":
        assert {r["account_code"] for r in rows} == {ledger.CLIENT_INCOME}
        # February's 10,000.00, March's 1,339.43, May's 2,000.00 and its reversal.
        assert rows[-1]["balance"] == "11339.43"
    elif which == "member":
        assert {(r["account_code"], r["member"]) for r in rows} == {(ann_code,
                                                                     "Zoë Ångström-Ruiz")}
        assert rows[-1]["balance"] == "7154.12"  # the whole account, opening included
    else:
        assert {r["kind"] for r in rows} == {"reversal"}
        assert {int(r["entry_id"]) for r in rows} == reversals


def test_an_unknown_preset_or_format_is_refused(books):
    with pytest.raises(DomainError) as preset:
        exports.export_chunks(_query(books), "csv", "everything")
    with pytest.raises(DomainError) as fmt:
        exports.export_chunks(_query(books), "pdf")
    assert (preset.value.field, fmt.value.field) == ("preset", "format")


# --- XLSX ---------------------------------------------------------------------------------


def _xlsx(query: exports.LedgerQuery) -> bytes:
    out = io.BytesIO()
    xlsx.write_xlsx(query, out)
    return out.getvalue()


def _sheets(content: bytes) -> dict[str, list[tuple]]:
    """Every sheet's rows as tuples of (value, number_format) cells."""
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    try:
        return {sheet.title: [tuple((c.value, getattr(c, "number_format", None)) for c in row)
                              for row in sheet.iter_rows()]
                for sheet in workbook.worksheets}
    finally:
        workbook.close()


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _money_format_ok(fmt: str, currency: str) -> bool:
    decimals = "." + "0" * DIGITS[currency] if DIGITS[currency] else ""
    return f'#,##0{decimals} "{currency}"' in fmt


def _to_minor(value, currency: str) -> int:
    return int((Decimal(str(value)) * 10 ** DIGITS[currency]).to_integral_value())


def test_xlsx_has_the_four_sheets_with_amounts_as_numbers_in_currency_formats(books):
    sheets = _sheets(_xlsx(_query(books)))

    assert list(sheets) == ["Postings", "Trial balance", "Common fund", "Benefits fund"]
    header, *postings = sheets["Postings"]
    assert [v for v, _ in header] == ["Date", "Entry", "Kind", "Memo", "Account",
                                      "Account name", "Member", "Debit", "Credit",
                                      "Currency", "Balance"]
    assert len(postings) == 24
    for row in postings:
        currency = row[9][0]
        assert isinstance(row[0][0], datetime) and row[0][1] == "yyyy-mm-dd"
        amounts = [row[7], row[8], row[10]]
        for value, fmt in amounts:
            if value is not None:
                assert _is_number(value), row
                assert _money_format_ok(fmt, currency), (fmt, currency)
        assert (row[7][0] is None) != (row[8][0] is None)
    first = postings[0]
    assert (first[4][0], first[7][0], first[9][0], first[10][0]) == ("1000", 250, "EUR", 650)
    assert first[3][0] == AWKWARD_MEMO


def test_xlsx_posting_totals_per_currency_match_the_csv(books):
    query = _query(books)
    _, rows = _csv(query)
    csv_totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        csv_totals[row["currency"]][0] += _minor(row["debit"], row["currency"])
        csv_totals[row["currency"]][1] += _minor(row["credit"], row["currency"])

    _, *postings = _sheets(_xlsx(query))["Postings"]
    xlsx_totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    balances = []
    for row in postings:
        currency = row[9][0]
        xlsx_totals[currency][0] += _to_minor(row[7][0] or 0, currency)
        xlsx_totals[currency][1] += _to_minor(row[8][0] or 0, currency)
        balances.append(_to_minor(row[10][0], currency))

    assert dict(xlsx_totals) == dict(csv_totals)
    assert all(d == c for d, c in xlsx_totals.values())
    assert balances == [_minor(r["balance"], r["currency"]) for r in rows]


def test_xlsx_trial_balance_sheet_matches_the_ledger(books):
    sheet = _sheets(_xlsx(_query(books)))["Trial balance"]
    title, header, *rows = sheet
    assert title[0][0] == f"Trial balance as of {RANGE_TO.isoformat()}"
    assert [v for v, _ in header] == ["Account", "Account name", "Type", "Currency", "Debits",
                                      "Credits", "Balance"]
    expected = balances.trial_balance(books.collective_id, RANGE_TO)

    got = [(r[0][0], r[2][0], r[3][0], _to_minor(r[4][0], r[3][0]), _to_minor(r[5][0], r[3][0]),
            _to_minor(r[6][0], r[3][0])) for r in rows]
    assert got == [(b.code, b.type, b.currency, b.debits, b.credits, b.natural_balance)
                   for b in expected]
    assert all(_is_number(r[i][0]) and _money_format_ok(r[i][1], r[3][0])
               for r in rows for i in (4, 5, 6))
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _, _, currency, debits, credits, _ in got:
        totals[currency][0] += debits
        totals[currency][1] += credits
    assert {c: tuple(t) for c, t in totals.items()} == balances.trial_balance_totals(expected)
    # As of the end date: the July deposit is not in it.
    bank_usd = next(g for g in got if g[0] == ledger.BANK and g[2] == "USD")
    assert bank_usd[5] == 1_083_943


def test_xlsx_fund_sheets_hold_only_their_fund(books):
    sheets = _sheets(_xlsx(_query(books)))
    # Client payments no longer credit the common fund's account (they are income): in the
    # range it holds only the EUR grant, on top of the EUR float.
    for title, code, count in (("Common fund", ledger.COMMON_FUND, 1),
                               ("Benefits fund", ledger.BENEFITS_FUND, 2)):
        _, *rows = sheets[title]
        assert len(rows) == count
        assert {r[4][0] for r in rows} == {code}
    assert (sheets["Common fund"][-1][9][0],
            sheets["Common fund"][-1][10][0]) == ("EUR", pytest.approx(600.00))


@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_two_exports_of_the_same_query_are_byte_identical(books, fmt):
    query = _query(books)
    first = b"".join(exports.export_chunks(query, fmt, "full"))
    with time_machine.travel(LATER, tick=False):  # a clock that leaked in would show now
        second = b"".join(exports.export_chunks(query, fmt, "full"))
    assert first == second
    assert len(first) > 1000
    if fmt == "xlsx":
        assert first == _xlsx(query)


# --- Beancount ----------------------------------------------------------------------------


def _beancount(query: exports.LedgerQuery) -> str:
    return b"".join(beancount.beancount_chunks(query)).decode()


def _bean_names(books: Books) -> dict[str, str]:
    """Beancount name of each account code."""
    return {a.code: beancount.beancount_account(a.type, a.code, a.name)
            for a in _accounts(books).values()}


def _bean_totals(entries) -> dict[tuple[str, str], int]:
    """Sum of the transactions' postings per (account, currency), in minor units."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for entry in entries:
        if isinstance(entry, bean.Transaction):
            for posting in entry.postings:
                currency = posting.units.currency
                totals[(posting.account, currency)] += int(
                    posting.units.number.scaleb(DIGITS[currency]))
    return totals


@pytest.mark.parametrize(("date_from", "date_to"), [
    (RANGE_FROM, RANGE_TO),                      # mid-history: opening balances
    (date(2026, 1, 1), date(2026, 12, 31)),     # everything
    (date(2026, 4, 15), date(2026, 6, 20)),     # mid-month to mid-month
    (date(2026, 8, 1), date(2026, 8, 31)),      # nothing happens, only the opening
], ids=["mid-history", "all", "mid-month", "empty"])
def test_beancount_export_passes_bean_check(books, date_from, date_to):
    text = _beancount(_query(books, date_from, date_to))

    entries, errors, options = loader.load_string(text)

    assert errors == []
    assert options["operating_currency"] == ["USD"]
    opened = [e.account for e in entries if isinstance(e, bean.Open)]
    assert opened
    for name in opened:
        root, *components = name.split(":")
        assert root in BEAN_ROOTS, name
        assert components and all(BEAN_COMPONENT.match(c) for c in components), name
    # What bean-check sums is what the ledger holds at the end of the range.
    names = _bean_names(books)
    totals = _bean_totals(entries)
    accounts = _accounts(books)
    for code, account in accounts.items():
        for currency, signed in balances.account_balance(account.id, date_to).items():
            assert totals[(names[code], currency)] == signed, (code, currency)
    in_range = {p[0] for p in postings_in_range(books.collective_id, date_from, date_to)}
    transactions = [e for e in entries if isinstance(e, bean.Transaction)]
    has_opening = date_from > date(2026, 2, 10)
    assert len(transactions) == len(in_range) + has_opening
    assert {e.meta["entry"] for e in transactions if "entry" in e.meta} == {
        str(i) for i in in_range}
    assert [e.narration for e in transactions if "entry" not in e.meta] == (
        ["Opening balances"] if has_opening else [])
    assertions = [e for e in entries if isinstance(e, bean.Balance)]
    assert any(e.account == "Assets:Bank" and e.date == date_to + timedelta(days=1)
               for e in assertions)


def test_beancount_keeps_memos_keys_and_the_original_currency(books):
    entries, errors, _ = loader.load_string(_beancount(_query(books)))
    assert errors == []
    by_entry = {e.meta["entry"]: e for e in entries
                if isinstance(e, bean.Transaction) and "entry" in e.meta}
    grant = by_entry[str(books.entries["eur_grant"].id)]
    assert (grant.narration, grant.meta["key"], grant.meta["kind"]) == (
        AWKWARD_MEMO, "manual:eur-2", "opening")
    foreign = by_entry[str(books.entries["eur_payment"].id)]
    assert (foreign.meta["original"], foreign.meta["rate"]) == ("1234.50 EUR", "1.085")
    reversal = by_entry[str(books.entries["may_reversal"].id)]
    assert reversal.meta["reverses"] == str(books.entries["may_payment"].id)
    bank_usd = [e for e in entries if isinstance(e, bean.Balance)
                and e.account == "Assets:Bank" and e.amount.currency == "USD"]
    assert [(e.date, e.amount.number) for e in bank_usd] == [
        (date(2026, 4, 1), Decimal("11389.43")), (date(2026, 5, 1), Decimal("10889.43")),
        (date(2026, 6, 1), Decimal("10839.43"))]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  Assets:Bank  1339.43 USD", "  Assets:Bank  1339.44 USD", "does not balance"),
    # (bean-check allows a balance to be off by one unit of its last digit)
    ("balance Assets:Bank  10889.43 USD", "balance Assets:Bank  10879.43 USD",
     "Balance failed"),
], ids=["unbalanced-transaction", "broken-assertion"])
def test_bean_check_catches_a_tampered_export(books, old, new, message):
    text = _beancount(_query(books))
    assert text.count(old) == 1
    assert loader.load_string(text)[1] == []

    _, errors, _ = loader.load_string(text.replace(old, new))

    assert len(errors) == 1
    assert message in errors[0].message


def test_beancount_passes_with_the_kind_filter(books):
    text = _beancount(_query(books, kind="reversal"))
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    # The two reversals; no reversal came before the range, so no opening balances.
    assert [e.meta.get("entry") for e in entries if isinstance(e, bean.Transaction)] == [
        str(books.entries["may_reversal"].id), str(books.entries["february_fix"].id)]


@pytest.mark.parametrize("which", ["account", "member"])
def test_beancount_passes_with_an_account_or_member_filter(books, which):
    filters = ({"account_code": ledger.BANK} if which == "account"
               else {"membership_id": books.ann.id})
    _, errors, _ = loader.load_string(_beancount(_query(books, **filters)))
    assert errors == []


@pytest.mark.parametrize(("type_", "code", "name", "expected"), [
    ("asset", "1000", "Bank", "Assets:Bank"),
    ("equity", "3100", "Benefits fund", "Equity:Benefits-Fund"),
    ("liability", "2100-7", "Payable to Zoë Ångström", "Liabilities:Members:"
                                                       "Payable-To-Zoe-Angstrom-2100-7"),
    ("expense", "5000", "3rd-party tools & fees", "Expenses:A3rd-Party-Tools-Fees"),
    ("income", "4000", "日本", "Income:X"),
    ("liability", "2100-8", "O'Neill, Bob", "Liabilities:Members:O-Neill-Bob-2100-8"),
])
def test_beancount_account_names_follow_beancounts_rules(type_, code, name, expected):
    account = beancount.beancount_account(type_, code, name)
    assert account == expected
    root, *components = account.split(":")
    assert root in BEAN_ROOTS
    assert all(BEAN_COMPONENT.match(c) for c in components)


# --- The range ----------------------------------------------------------------------------

TODAY = date(2026, 10, 10)


@pytest.mark.parametrize(("date_from", "date_to", "field", "message"), [
    (date(2026, 5, 1), date(2026, 3, 1), "date_from", "after the end date"),
    (None, date(2026, 3, 1), "date_from", "both dates"),
    (date(2026, 3, 1), None, "date_from", "both dates"),
    (date(1999, 12, 31), date(2026, 3, 1), "date_from", "between 2000-01-01 and 2027-10-11"),
    (date(2026, 3, 1), date(2027, 10, 12), "date_to", "between 2000-01-01 and 2027-10-11"),
    (date(2028, 1, 1), date(2028, 2, 1), "date_from", "between"),
], ids=["reversed", "no-start", "no-end", "too-early", "too-late", "both-too-late"])
def test_bad_ranges_are_refused_naming_the_field(date_from, date_to, field, message):
    with pytest.raises(DomainError, match=message) as error:
        exports.check_range(date_from, date_to, today=TODAY)
    assert error.value.field == field


def test_a_good_range_is_returned_as_given():
    assert exports.check_range(date(2000, 1, 1), date(2027, 10, 11), today=TODAY) == (
        date(2000, 1, 1), date(2027, 10, 11))
    assert exports.check_range(TODAY, TODAY, today=TODAY) == (TODAY, TODAY)
