"""Posting many entries at once (a scheduled run over thousands of members): the entries and
postings come as DataFrames, are checked in set operations as post_entry checks one entry,
and are written in one pass each. Services flush; the caller commits."""
from __future__ import annotations

from collections.abc import Sequence

from collective.database import insert_rows, next_ids
from collective.extensions import db
from collective.ledger.models import JournalEntry, Posting
from collective.ledger.services import (
    LedgerError,
    NewEntry,
    UnbalancedEntry,
    _own_accounts,
    refuse_closed_periods,
)
from collective.ledger.snapshots import hold_posting_lock
from collective.money import MoneyError, check_currency


def entry_frames(entries: Sequence[NewEntry]):
    """NewEntry values as the two frames post_many takes: the entries, and their postings
    (each naming its entry's position)."""
    import pandas as pd

    entry_frame = pd.DataFrame({
        "kind": [str(e.kind) for e in entries], "occurred_on": [e.occurred_on for e in entries],
        "idempotency_key": [e.idempotency_key for e in entries],
        "memo": [e.memo for e in entries]})
    postings = pd.DataFrame([(i, ln.account_id, ln.amount, ln.currency)
                             for i, e in enumerate(entries) for ln in e.lines],
                            columns=["entry", "account_id", "amount", "currency"])
    whole = all(type(ln.amount) is int for e in entries for ln in e.lines)
    # Amounts that are not plain integers stay as they are, for post_many to refuse.
    return entry_frame, postings.astype({"entry": "int64", "amount": "int64"} if whole
                                        else {"entry": "int64"})


def post_many(collective_id: int, entries, postings, *,
              created_by_id: int | None = None) -> list[int]:
    """Post many balanced entries in a few set-based statements; returns their ids in order.

    `entries` (a DataFrame): kind, occurred_on, idempotency_key, memo, one row per entry.
    `postings` (a DataFrame): entry (the position of its entry in `entries`), account_id,
    amount (integer minor units), currency. Everything is checked before anything is
    written, as post_entry checks one entry; then the entries' ids are taken in one
    statement and entries and postings are each written in one pass (COPY on PostgreSQL),
    so the append-only and closed-period triggers see every row. posted_at is the moment of
    writing. Unlike post_entry, a key that was used before is an error (IntegrityError):
    callers guard against repeats with a unique run key of their own.
    """
    if len(entries) == 0:
        return []
    postings = _checked_postings(len(entries), postings)
    if entries["idempotency_key"].duplicated().any():
        raise LedgerError("two entries of one batch share an idempotency key",
                          field="idempotency_key")
    _own_accounts(collective_id, {int(a) for a in postings["account_id"].unique()})
    refuse_closed_periods(collective_id, list(
        entries[["kind", "occurred_on"]].drop_duplicates().itertuples(index=False, name=None)))
    hold_posting_lock()
    connection = db.session.connection()
    ids = next_ids(connection, JournalEntry.__tablename__, len(entries))
    count = len(ids)
    insert_rows(connection, JournalEntry.__tablename__, {
        "id": ids, "collective_id": [collective_id] * count,
        "kind": list(map(str, entries["kind"].tolist())),
        "occurred_on": entries["occurred_on"].tolist(), "posted_at": [_posted_at()] * count,
        "idempotency_key": entries["idempotency_key"].tolist(),
        "memo": [memo[:500] for memo in entries["memo"].tolist()],
        "created_by_id": [created_by_id] * count})
    insert_rows(connection, Posting.__tablename__, {
        "entry_id": [ids[i] for i in postings["entry"].tolist()],
        "account_id": postings["account_id"].tolist(), "amount": postings["amount"].tolist(),
        "currency": postings["currency"].tolist()})
    return ids


def _checked_postings(entry_count: int, postings):
    """The postings of a batch of `entry_count` entries, checked as _balanced_lines checks
    one entry's lines (integer, non-zero amounts, known currencies, two or more postings per
    entry, each summing to zero per currency), in set operations; currencies upper-cased."""
    import pandas as pd

    if not pd.api.types.is_integer_dtype(postings["amount"]) or \
            pd.api.types.is_bool_dtype(postings["amount"]):
        raise LedgerError("posting amounts are integer minor units", field="amount")
    if (postings["amount"] == 0).any():
        raise LedgerError("a posting of zero says nothing; leave it out", field="amount")
    postings = postings.astype({"entry": "int64", "account_id": "int64", "amount": "int64"})
    known = {}
    for currency in postings["currency"].unique():
        try:
            known[currency] = check_currency(currency)
        except MoneyError as exc:
            raise LedgerError(str(exc), field="currency") from exc
    postings = postings.assign(currency=postings["currency"].map(known))
    counts = postings.groupby("entry").size().reindex(range(entry_count), fill_value=0)
    if (counts < 2).any():
        raise UnbalancedEntry("an entry needs at least two postings", field="postings")
    sums = postings.groupby(["entry", "currency"])["amount"].sum()
    off = sums[sums != 0]
    if len(off):
        first = off.index[0][0]
        detail = ", ".join(f"{cur} {int(total):+d}"
                           for (entry, cur), total in off.items() if entry == first)
        raise UnbalancedEntry(f"postings do not sum to zero: {detail}", field="postings")
    return postings


def _posted_at():
    """The moment of writing, from posted_at's own column default (what post_entry's insert
    stamps)."""
    return JournalEntry.__table__.c.posted_at.default.arg(None)
