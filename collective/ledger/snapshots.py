"""Balance snapshots: every account's balance through a posting id (the watermark), so that a
balance read sums the snapshot and the postings after it, not the whole history.

A snapshot is the sum of the append-only postings with ids up to its watermark: it is
derived, never edited, and a newer one replaces the older ones. For it to stay true, no
posting with an id at or below the watermark may appear after it is taken. On SQLite the
one writer holds the write lock, so nothing is being written meanwhile. On PostgreSQL ids
come from a sequence before their transaction commits, so every transaction that writes
postings holds a shared advisory lock (`hold_posting_lock`, taken by ledger.services), and
taking a snapshot holds it exclusively, so no posting is being written while it reads the
watermark and sums; it only tries the lock, and leaves the snapshot to the next round when
postings are being written.

The same round brings the ledger totals forward to the new watermark (collective.ledger.totals),
in the same transaction, so the snapshot and the totals always count the same postings.

`check_snapshot` recomputes the latest snapshot and the totals from the postings (for
`flask ledger check`).
"""
from __future__ import annotations

import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import totals
from collective.ledger.models import BalanceSnapshot, Posting

#: Advisory lock key (PostgreSQL) that posting transactions share and a snapshot takes alone.
POSTING_LOCK = (4202, 0)
#: A new snapshot is worth taking once this many postings came after the latest one: balance
#: reads then sum at most about as many postings, whatever the size of the ledger.
SNAPSHOT_EVERY = 20_000


def hold_posting_lock() -> None:
    """Hold the shared posting lock until the transaction ends (PostgreSQL; SQLite's write
    lock does the same already)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock_shared(*POSTING_LOCK)))


def latest_watermark() -> int:
    """The posting id the latest snapshot counts through (0 when there is none)."""
    return int(db.session.scalar(sa.select(sa.func.max(BalanceSnapshot.through_posting_id)))
               or 0)


def take_snapshot(*, every: int = SNAPSHOT_EVERY) -> int | None:
    """Snapshot every account's balance through the newest posting, when at least `every`
    postings came since the latest snapshot, and bring the ledger totals forward to it; the
    new watermark, or None. Built from the
    latest snapshot and the postings after it; older snapshots are dropped. On PostgreSQL
    it only tries the posting lock: while postings are being written it takes no snapshot
    (the next round will), so neither it nor the postings queue behind the other for long.
    Flushes; the caller commits (its own short transaction)."""
    def due() -> tuple[int, int] | None:
        previous = latest_watermark()
        newest = int(db.session.scalar(sa.select(sa.func.max(Posting.id))) or 0)
        return (previous, newest) if newest - previous >= max(every, 1) else None

    if due() is None:  # most rounds: nothing to do, and no lock taken
        return None
    if db.session.get_bind().dialect.name == "postgresql" and not db.session.scalar(
            sa.select(sa.func.pg_try_advisory_xact_lock(*POSTING_LOCK))):
        return None  # postings are being written: never queue behind them; next round
    marks = due()
    if marks is None:
        return None
    previous, newest = marks
    since = sa.union_all(
        sa.select(BalanceSnapshot.account_id, BalanceSnapshot.currency,
                  BalanceSnapshot.balance.label("amount"))
        .where(BalanceSnapshot.through_posting_id == previous),
        sa.select(Posting.account_id, Posting.currency, Posting.amount)
        .where(Posting.id > previous, Posting.id <= newest)).subquery()
    db.session.execute(sa.insert(BalanceSnapshot).from_select(
        ["through_posting_id", "account_id", "currency", "balance"],
        sa.select(sa.literal(newest, sa.BigInteger), since.c.account_id, since.c.currency,
                  sa.func.sum(since.c.amount))
        .group_by(since.c.account_id, since.c.currency)))
    db.session.execute(sa.delete(BalanceSnapshot)
                       .where(BalanceSnapshot.through_posting_id < newest))
    totals.bring_forward(previous, newest)
    return newest


def check_snapshot() -> list[str]:
    """What is wrong with the latest snapshot and the ledger totals, recomputed from the
    postings (empty: nothing)."""
    watermark = latest_watermark()
    problems = totals.check_totals(watermark)
    if not watermark:
        return problems
    stored = dict(((a, c), int(b)) for a, c, b in db.session.execute(
        sa.select(BalanceSnapshot.account_id, BalanceSnapshot.currency, BalanceSnapshot.balance)
        .where(BalanceSnapshot.through_posting_id == watermark)))
    summed = dict(((a, c), int(b)) for a, c, b in db.session.execute(
        sa.select(Posting.account_id, Posting.currency, sa.func.sum(Posting.amount))
        .where(Posting.id <= watermark).group_by(Posting.account_id, Posting.currency)))
    return problems + [f"the balance snapshot through posting {watermark} holds "
            f"{stored.get(key, 0)} {key[1]} for account {key[0]}, its postings sum to "
            f"{summed.get(key, 0)}"
            for key in sorted(set(stored) | set(summed))
            if stored.get(key, 0) != summed.get(key, 0)]
