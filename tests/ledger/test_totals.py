"""The ledger totals (by month and over all months, through the snapshot's watermark): every
read equals the plain sum of the postings, with reversals, two currencies, a closing entry
and postings after the watermark; the snapshot round brings them forward; the check finds
a total that is off; a read never counts the postings after a watermark that moved."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import db
from collective.ledger import balances, snapshots, totals
from collective.ledger import services as ledger
from collective.ledger.models import (
    EntryKind,
    JournalEntry,
    LedgerAccountTotal,
    LedgerKindTotal,
    LedgerMonthTotal,
    Posting,
)
from tests.factories import make_collective, make_member

GROUPS = [["account_id", "currency"], ["account_id", "currency", "month", "kind",
                                       "effective_kind"], ["month", "effective_kind"], []]
DATES = [None, date(2025, 12, 31), date(2026, 1, 15), date(2026, 1, 31), date(2026, 2, 10),
         date(2026, 3, 31)]


def _post(cid, kind, day, key, lines):
    return ledger.post_entry(cid, kind=kind, occurred_on=day, idempotency_key=key,
                             lines=[ledger.Line(a, amount, cur) for a, amount, cur in lines])


@pytest.fixture
def books(ctx):
    """A collective's ledger across three months and two currencies, with reversals, a
    snapshot, and postings after it (in an earlier month too)."""
    treasurer = make_collective(currency="EUR")
    cid = treasurer.collective_id
    bank = ledger.account_by_code(cid, ledger.BANK).id
    fund = ledger.account_by_code(cid, ledger.COMMON_FUND).id
    payables = [ledger.member_account(make_member(treasurer.collective).id).id
                for _ in range(2)]
    _post(cid, EntryKind.PAYMENT, date(2026, 1, 10), "p1",
          [(bank, 10_000, "EUR"), (payables[0], -9_000, "EUR"), (fund, -1_000, "EUR")])
    paid = _post(cid, EntryKind.PAYMENT, date(2026, 1, 20), "p2",
                 [(bank, 5_000, "EUR"), (payables[1], -5_000, "EUR")])
    usd = _post(cid, EntryKind.PAYMENT, date(2026, 2, 5), "p3",
                [(bank, 700, "USD"), (payables[0], -700, "USD")])
    _post(cid, EntryKind.PAYOUT, date(2026, 2, 28), "o1",
          [(payables[0], 4_000, "EUR"), (bank, -4_000, "EUR")])
    ledger.reverse_entry(paid)
    assert snapshots.take_snapshot(every=1) is not None
    # After the watermark: a reversal of an entry before it, a late entry in January, a
    # closing entry, and a March payout.
    ledger.reverse_entry(usd)
    _post(cid, EntryKind.PAYMENT, date(2026, 1, 25), "late",
          [(bank, 300, "EUR"), (payables[1], -300, "EUR")])
    _post(cid, EntryKind.CLOSING, date(2026, 3, 31), "close",
          [(fund, 200, "EUR"), (payables[1], -200, "EUR")])
    _post(cid, EntryKind.PAYOUT, date(2026, 3, 2), "o2",
          [(payables[1], 100, "EUR"), (bank, -100, "EUR")])
    return cid, bank, payables


def plain(cid, group, *, as_of=None, since=None, accounts=None, currency=None,
          without_kinds=()):
    """The same sums straight from every posting, in Python."""
    original = so.aliased(JournalEntry)
    rows = db.session.execute(
        sa.select(Posting.account_id, Posting.currency, JournalEntry.occurred_on,
                  JournalEntry.kind, sa.func.coalesce(original.kind, JournalEntry.kind),
                  Posting.amount)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .outerjoin(original, original.id == JournalEntry.reverses_id)
        .where(JournalEntry.collective_id == cid)).all()
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for account, cur, day, kind, effective, amount in rows:
        if ((as_of is not None and day > as_of) or (since is not None and day < since)
                or (accounts is not None and account not in accounts)
                or (currency is not None and cur != currency) or kind in without_kinds):
            continue
        values = {"account_id": account, "currency": cur, "month": day.replace(day=1),
                  "kind": str(kind), "effective_kind": str(effective)}
        total = sums[tuple(values[name] for name in group)]
        total[0] += max(amount, 0)
        total[1] += max(-amount, 0)
        total[2] += 1
    return {key: tuple(value) for key, value in sums.items()}


def read(cid, group, **filters):
    return {tuple(str(v) if isinstance(v, str) else v for v in row[:-3]): tuple(row[-3:])
            for row in totals.read_totals(cid, group, **filters)}


def test_every_read_of_the_totals_equals_the_sum_of_the_postings(books):
    cid, bank, payables = books
    assert snapshots.latest_watermark() < db.session.scalar(sa.select(sa.func.max(Posting.id)))
    for group in GROUPS:
        for as_of in DATES:
            for without in ((), (EntryKind.CLOSING.value,)):
                expected = plain(cid, group, as_of=as_of, without_kinds=without)
                assert read(cid, group, as_of=as_of, without_kinds=without) == expected, (
                    group, as_of, without)
    for filters in ({"accounts": [bank]}, {"accounts": payables, "currency": "EUR"},
                    {"currency": "USD", "as_of": date(2026, 2, 10)}):
        assert read(cid, ["account_id", "month"], **filters) == plain(
            cid, ["account_id", "month"], **filters)


SINCE = [date(2025, 12, 1), date(2026, 1, 1), date(2026, 1, 11), date(2026, 1, 25),
         date(2026, 2, 6), date(2026, 3, 2)]


def test_every_read_of_a_period_equals_the_sum_of_its_postings(books):
    """A period (`since` to `as_of`, both included) from the month totals, less the days of
    its first month before it: from a month's first day or its middle, before and after
    the watermark, up to a day or to the end of the ledger."""
    cid, bank, _ = books
    for group in GROUPS:
        for since in SINCE:
            for as_of in [None, *[day for day in DATES if day and day >= since]]:
                for without in ((), (EntryKind.CLOSING.value,)):
                    expected = plain(cid, group, as_of=as_of, since=since,
                                     without_kinds=without)
                    assert read(cid, group, as_of=as_of, since=since,
                                without_kinds=without) == expected, (group, since, as_of)
    assert read(cid, ["kind"], since=date(2026, 1, 11), as_of=date(2026, 1, 20),
                accounts=[bank]) == {("payment",): (5_000, 0, 1),  # p2, and its reversal
                                     ("reversal",): (0, 5_000, 1)}
    with pytest.raises(ValueError, match="end before"):
        read(cid, [], since=date(2026, 2, 1), as_of=date(2026, 1, 31))


def test_the_trial_balance_from_the_totals_is_the_trial_balance_of_the_postings(books):
    cid, bank, payables = books
    for as_of in DATES:
        rows = balances.trial_balance(cid, as_of)
        got = {(r.account_id, r.currency): (r.debits, r.credits) for r in rows}
        expected = {key: value[:2] for key, value in
                    plain(cid, ["account_id", "currency"], as_of=as_of).items()}
        assert got == expected, as_of
    march = balances.trial_balance(cid, date(2026, 3, 31), without_closing=True)
    assert {(r.account_id, r.currency): r.balance for r in march if r.account_id == payables[1]
            } == {(payables[1], "EUR"): -300 + 100}
    assert balances.members_owed_total(cid, "EUR") == 9_000 - 4_000 + 300 + 200 - 100


def test_the_snapshot_round_brings_the_totals_forward_and_the_check_agrees(books):
    cid, _, _ = books
    before = {tuple(g): read(cid, g) for g in map(tuple, GROUPS)}
    assert snapshots.check_snapshot() == []
    watermark = snapshots.take_snapshot(every=1)
    assert watermark == db.session.scalar(sa.select(sa.func.max(Posting.id)))
    assert {tuple(g): read(cid, list(g)) for g in map(tuple, GROUPS)} == before
    assert snapshots.check_snapshot() == []
    # Nothing after the watermark now: the stored totals alone are the whole ledger.
    stored = db.session.execute(sa.select(
        sa.func.sum(LedgerKindTotal.debits), sa.func.sum(LedgerKindTotal.postings))
        .where(LedgerKindTotal.collective_id == cid)).one()
    assert tuple(stored) == (sum(v[0] for v in plain(cid, []).values()),
                             sum(v[2] for v in plain(cid, []).values()))


def test_the_check_names_a_total_that_is_off_and_a_rebuild_mends_it(books):
    cid, bank, _ = books
    watermark = snapshots.latest_watermark()
    db.session.execute(sa.update(LedgerMonthTotal).where(LedgerMonthTotal.account_id == bank,
                                                         LedgerMonthTotal.currency == "USD")
                       .values(debits=LedgerMonthTotal.debits + 1))
    db.session.execute(sa.delete(LedgerKindTotal).where(LedgerKindTotal.account_id == bank,
                                                        LedgerKindTotal.currency == "USD"))
    db.session.execute(sa.update(LedgerAccountTotal).where(
        LedgerAccountTotal.account_id == bank, LedgerAccountTotal.currency == "EUR")
        .values(postings=LedgerAccountTotal.postings + 2))
    problems = snapshots.check_snapshot()
    assert len(problems) == 3
    assert problems[0].startswith(f"ledger_month_totals ('{cid}', '{bank}', 'USD', "
                                  "'2026-02-01', 'payment', 'payment') holds (701, 0, 1)")
    assert problems[1].startswith(f"ledger_kind_totals ('{cid}', '{bank}', 'USD', 'payment', "
                                  "'payment') holds None")
    assert problems[2].startswith(f"ledger_account_totals ('{cid}', '{bank}', 'EUR') holds "
                                  "(15000, 9000, 6)")
    totals.rebuild(watermark)
    assert snapshots.check_snapshot() == []


def test_a_read_while_a_snapshot_moves_the_watermark_reads_again(books):
    cid, bank, payables = books
    seen = []

    def build(watermark):
        seen.append(watermark)
        if len(seen) == 1:  # a snapshot round commits between the watermark and the read
            _post(cid, EntryKind.PAYMENT, date(2026, 3, 5), "meanwhile",
                  [(bank, 50, "EUR"), (payables[0], -50, "EUR")])
            snapshots.take_snapshot(every=1)
        query = totals.totals(cid, ["account_id", "currency"], watermark)
        return sa.select(query)

    rows = totals.read(build)
    assert len(seen) == 2 and seen[1] > seen[0]
    assert {(a, c): (d, cr, n) for a, c, d, cr, n, _ in rows} == plain(
        cid, ["account_id", "currency"])


def test_totals_group_only_by_what_they_hold(books):
    cid, _, _ = books
    with pytest.raises(ValueError, match="memo"):
        totals.totals(cid, ["memo"], 0)


def test_the_posting_count_of_a_date_range_is_the_count_of_its_postings(books):
    cid = books[0]
    days = [d for d in DATES if d is not None]
    for start in days:
        for end in days:
            if end < start:
                continue
            counted = db.session.scalar(
                sa.select(sa.func.count(Posting.id)).join(JournalEntry)
                .where(JournalEntry.collective_id == cid, JournalEntry.occurred_on >= start,
                       JournalEntry.occurred_on <= end))
            assert totals.posting_count(cid, start, end) == counted, (start, end)
    assert totals.posting_count(cid, date(2020, 1, 1), date(2030, 1, 1)) > 0
