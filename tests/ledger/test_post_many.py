"""Posting many entries at once (post_many, set-based): the same checks as post_entry, ids in
order, nothing written when anything is wrong; and balances from snapshots agree with the
whole history."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import balances, bulk, snapshots
from collective.ledger import services as ledger
from collective.ledger.models import BalanceSnapshot, EntryKind, JournalEntry, Posting
from tests.factories import make_collective, make_member

DAY = date(2026, 2, 28)


@pytest.fixture
def books(ctx):
    """A collective with a bank, the fund and two members' payables."""
    treasurer = make_collective(currency="EUR")
    cid = treasurer.collective_id
    members = [make_member(treasurer.collective) for _ in range(2)]
    accounts = {code: ledger.account_by_code(cid, code).id
                for code in (ledger.BANK, ledger.BENEFITS_FUND)}
    payables = [ledger.member_account(m.id).id for m in members]
    return cid, accounts, payables, members


def _frames(keys, lines):
    entries = pd.DataFrame({"kind": EntryKind.TRANSFER.value, "occurred_on": DAY,
                            "idempotency_key": keys, "memo": [f"memo {k}" for k in keys]})
    postings = pd.DataFrame(lines, columns=["entry", "account_id", "amount", "currency"])
    return entries, postings


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_post_many_writes_each_entry_with_its_postings_and_returns_ids_in_order(books):
    cid, accounts, payables, _ = books
    entries, postings = _frames(["a", "b"], [
        (0, payables[0], 700, "EUR"), (0, accounts[ledger.BENEFITS_FUND], -700, "EUR"),
        (1, payables[1], 250, "eur"), (1, accounts[ledger.BANK], 50, "EUR"),
        (1, accounts[ledger.BENEFITS_FUND], -300, "EUR")])
    ids = bulk.post_many(cid, entries, postings)
    assert ids == sorted(ids) and len(set(ids)) == 2
    first, second = (db.session.get(JournalEntry, i) for i in ids)
    assert (first.idempotency_key, first.memo, first.kind) == ("a", "memo a", "transfer")
    assert first.posted_at is not None and first.occurred_on == DAY
    assert sorted((p.account_id, p.amount, p.currency) for p in second.postings) == sorted([
        (payables[1], 250, "EUR"), (accounts[ledger.BANK], 50, "EUR"),
        (accounts[ledger.BENEFITS_FUND], -300, "EUR")])
    assert ledger.find_entry(cid, "b").id == ids[1]
    assert balances.account_balance(accounts[ledger.BENEFITS_FUND]) == {"EUR": -1000}


@pytest.mark.parametrize(("lines", "error", "words"), [
    ([(0, "P0", 700, "EUR"), (0, "FUND", -699, "EUR")], ledger.UnbalancedEntry, r"EUR \+1"),
    ([(0, "P0", 700, "EUR")], ledger.UnbalancedEntry, "at least two postings"),
    ([(0, "P0", 0, "EUR"), (0, "FUND", 0, "EUR")], ledger.LedgerError, "zero"),
    ([(0, "P0", 7.5, "EUR"), (0, "FUND", -7.5, "EUR")], ledger.LedgerError, "integer"),
    ([(0, "P0", 700, "XXQ"), (0, "FUND", -700, "XXQ")], ledger.LedgerError, "currency"),
    ([(0, "P0", 700, "EUR"), (0, 999_999, -700, "EUR")], ledger.ForeignAccount, "999999"),
])
def test_post_many_refuses_a_bad_batch_and_writes_nothing(books, lines, error, words):
    cid, accounts, payables, _ = books
    names = {"P0": payables[0], "FUND": accounts[ledger.BENEFITS_FUND]}
    good = [(1, payables[1], 5, "EUR"), (1, accounts[ledger.BANK], -5, "EUR")]
    entries, postings = _frames(["bad", "good"], [
        (e, names.get(a, a), amount, cur) for e, a, amount, cur in lines] + good)
    before = (_count(JournalEntry), _count(Posting))
    with pytest.raises(error, match=words):
        bulk.post_many(cid, entries, postings)
    assert (_count(JournalEntry), _count(Posting)) == before


def test_post_many_refuses_a_key_twice_in_one_batch_or_one_used_before(books):
    cid, accounts, payables, _ = books
    line = [(0, payables[0], 5, "EUR"), (0, accounts[ledger.BANK], -5, "EUR")]
    twice = line + [(1, a, amount, cur) for _, a, amount, cur in line]
    with pytest.raises(ledger.LedgerError, match="share an idempotency key"):
        bulk.post_many(cid, *_frames(["k", "k"], twice))
    bulk.post_many(cid, *_frames(["k"], line))
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        bulk.post_many(cid, *_frames(["k"], line))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).where(
        JournalEntry.idempotency_key == "k")) == 1


def test_rows_post_many_wrote_stay_append_only(books):
    cid, accounts, payables, _ = books
    bulk.post_many(cid, *_frames(["k"], [(0, payables[0], 5, "EUR"),
                                            (0, accounts[ledger.BANK], -5, "EUR")]))
    db.session.commit()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text("UPDATE postings SET amount = 6 WHERE amount = 5"))
    db.session.rollback()


def _pay(cid, accounts, payable, key, amount):
    ledger.post_entry(cid, kind=EntryKind.TRANSFER, occurred_on=DAY, idempotency_key=key,
                      lines=[ledger.Line(accounts[ledger.BANK], amount, "EUR"),
                             ledger.Line(payable, -amount, "EUR")])


def test_member_balances_from_a_snapshot_and_the_postings_after_it_match_the_history(books):
    cid, accounts, payables, members = books
    for i in range(6):
        _pay(cid, accounts, payables[i % 2], f"pay-{i}", 100 + i)
    whole = balances.member_balances(cid, "EUR")
    assert whole == {members[0].id: (payables[0], 306), members[1].id: (payables[1], 309)}
    assert snapshots.take_snapshot(every=1) is not None
    db.session.commit()
    assert balances.member_balances(cid, "EUR") == whole
    _pay(cid, accounts, payables[1], "after", 1000)
    assert balances.member_balances(cid, "EUR") == {
        members[0].id: (payables[0], 306), members[1].id: (payables[1], 1309)}
    assert snapshots.check_snapshot() == []


def test_a_snapshot_waits_for_enough_postings_and_replaces_the_older_one(books):
    cid, accounts, payables, _ = books
    _pay(cid, accounts, payables[0], "one", 100)
    first = snapshots.take_snapshot(every=1)
    assert snapshots.take_snapshot(every=1) is None  # nothing new since
    _pay(cid, accounts, payables[0], "two", 100)
    assert snapshots.take_snapshot(every=5) is None  # two postings are not five
    second = snapshots.take_snapshot(every=2)
    assert second > first
    assert set(db.session.scalars(sa.select(BalanceSnapshot.through_posting_id))) == {second}
    assert db.session.scalar(sa.select(BalanceSnapshot.balance).where(
        BalanceSnapshot.account_id == payables[0], BalanceSnapshot.through_posting_id == second)
    ) == -200


def test_the_snapshot_check_names_an_account_whose_snapshot_is_off(books):
    cid, accounts, payables, _ = books
    _pay(cid, accounts, payables[0], "one", 100)
    watermark = snapshots.take_snapshot(every=1)
    db.session.execute(sa.update(BalanceSnapshot).where(
        BalanceSnapshot.account_id == payables[0]).values(balance=-99))
    assert snapshots.check_snapshot() == [
        f"the balance snapshot through posting {watermark} holds -99 EUR for account "
        f"{payables[0]}, its postings sum to -100"]
