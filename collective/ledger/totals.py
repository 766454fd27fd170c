"""Ledger totals: each account's debits, credits and postings per currency and kind, by month
(`ledger_month_totals`) and over all months (`ledger_kind_totals`), and per currency alone
(`ledger_account_totals`, what balances read: a row per account), counting exactly the
postings up to the balance snapshot's watermark (collective.ledger.snapshots).

They are derived from the append-only postings like the snapshot, and brought forward with
it, in the same transaction, by one upsert per table of the postings after the previous
watermark (`bring_forward`); nothing else writes them, and `rebuild` makes them again from
the postings. A read (`totals`) is one statement: the totals, plus the postings after the
watermark, so it is exactly the sum of the postings, and it costs the accounts and months
asked about and the postings since the last snapshot, not the whole history. An "as of" read
takes the totals, less the months after the date's month, less that month's days after the
date (read from the postings), plus the postings after the watermark up to the date.

`check_totals` recomputes the tables from the postings (for `flask ledger check`).
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.clock import month_end, month_start
from collective.database import conflict_insert
from collective.extensions import db
from collective.ledger.models import (
    BalanceSnapshot,
    JournalEntry,
    LedgerAccountTotal,
    LedgerKindTotal,
    LedgerMonthTotal,
    Posting,
)

#: What a totals read can group by.
GROUPS = ("account_id", "currency", "month", "kind", "effective_kind")
_KEYS = {LedgerMonthTotal: ["account_id", "currency", "month", "kind", "effective_kind"],
         LedgerKindTotal: ["account_id", "currency", "kind", "effective_kind"],
         LedgerAccountTotal: ["account_id", "currency"]}
#: The stored totals, each brought forward and checked alike.
TABLES = (LedgerMonthTotal, LedgerKindTotal, LedgerAccountTotal)


def month_of(column: sa.ColumnElement) -> sa.ColumnElement:
    """SQL for the first day of a date column's month, on either database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.date_trunc("month", column), sa.Date)
    return sa.func.date(column, "start of month")


def _postings(group: Sequence[str], where: Sequence[sa.ColumnElement], sign: int = 1, *,
              summed: bool = True) -> sa.Select:
    """The postings that `where` selects, summed by `group` (with `sign`): debits, credits,
    postings; or, not `summed`, one row a posting in the same columns (for a read that
    sums once over several parts)."""
    original = so.aliased(JournalEntry)
    columns = {"account_id": Posting.account_id, "currency": Posting.currency,
               "month": month_of(JournalEntry.occurred_on), "kind": JournalEntry.kind,
               "effective_kind": sa.func.coalesce(original.kind, JournalEntry.kind),
               "collective_id": JournalEntry.collective_id}
    picked = [columns[name].label(name) for name in group]
    debits = sa.case((Posting.amount > 0, Posting.amount), else_=0)
    credits = sa.case((Posting.amount < 0, -Posting.amount), else_=0)
    if summed:
        values = [sign * sa.func.sum(debits), sign * sa.func.sum(credits),
                  sign * sa.func.count()]
    else:
        values = [sign * debits, sign * credits, sa.literal(sign, sa.BigInteger)]
    query = (sa.select(*picked, *(value.label(name) for value, name in
                                  zip(values, ("debits", "credits", "postings"), strict=True)))
             .join(JournalEntry, JournalEntry.id == Posting.entry_id)
             .where(*where))
    if "effective_kind" in group:
        query = query.outerjoin(original, JournalEntry.reverses_id == original.id)
    return query.group_by(*picked) if picked and summed else query


def _stored(model: type, group: Sequence[str], where: Sequence[sa.ColumnElement],
            sign: int = 1) -> sa.Select:
    """The stored totals that `where` selects, one row each (with `sign`), for `totals` to
    sum by `group`."""
    picked = [getattr(model, name).label(name) for name in group]
    return sa.select(*picked, *((sign * getattr(model, name)).label(name) if sign != 1
                                else getattr(model, name).label(name)
                                for name in ("debits", "credits", "postings"))).where(*where)


def _watermark() -> sa.ScalarSelect:
    return (sa.select(sa.func.coalesce(sa.func.max(BalanceSnapshot.through_posting_id), 0))
            .scalar_subquery())


def current_watermark() -> int:
    """The posting id the stored totals count through (0 when there is no snapshot yet)."""
    return int(db.session.scalar(sa.select(_watermark())))


def read(build: Callable[[int], sa.Select]) -> list[sa.Row]:
    """The rows of the statement `build(watermark)` makes from `totals(..., watermark)`
    (selecting its `through` column): read again if a snapshot round moved the watermark
    between reading it and the statement, so the totals and the postings after the
    watermark never overlap. The watermark is given as a value, not a subquery, so the
    planner sees how few postings come after it."""
    for _ in range(5):
        watermark = current_watermark()
        rows = db.session.connection().execute(build(watermark)).all()
        # An aggregate over no rows has no watermark to compare: nothing to set apart.
        if all(row.through is None or int(row.through) == watermark for row in rows):
            return rows
    raise RuntimeError("the ledger totals kept moving while being read")


def totals(collective_id: int, group: Sequence[str], watermark: int, *,
           as_of: date | None = None, since: date | None = None,
           accounts: Collection[int] | sa.Select | None = None,
           currency: str | None = None, without_kinds: Collection[str] = ()) -> sa.Subquery:
    """A subquery of the collective's postings summed by `group` (names from GROUPS): the
    group columns, then debits, credits (positive), postings (a count) and `through` (the
    stored totals' watermark when the statement ran: `read` checks it is `watermark`);
    only entries up to `as_of` and from `since` (a period, both days included), on
    `accounts` (ids, or a select of them), in `currency`, and not of `without_kinds`
    (their own kind), when given. Exactly the sum of the postings: the stored totals, and
    the postings after `watermark`. A period reads the months it spans from the month
    totals, less the days of its first month before `since` (from the postings)."""
    unknown = set(group) - set(GROUPS)
    if unknown:
        raise ValueError(f"cannot group ledger totals by {sorted(unknown)}")
    if since is not None and as_of is not None and since > as_of:
        raise ValueError("a period cannot end before it starts")
    if accounts is not None and not isinstance(accounts, sa.Select):
        accounts = list(accounts)

    def filters(collective, account, currency_column, kind) -> list[sa.ColumnElement]:
        """The read's conditions on these columns (of a totals table, or of the postings)."""
        where = [collective == collective_id]
        if accounts is not None:
            where.append(account.in_(accounts))
        if currency is not None:
            where.append(currency_column == currency)
        if without_kinds:
            where.append(kind.not_in(list(without_kinds)))
        return where

    def stored(model: type) -> list[sa.ColumnElement]:
        return filters(model.collective_id, model.account_id, model.currency,
                       getattr(model, "kind", None))

    posted = filters(JournalEntry.collective_id, Posting.account_id, Posting.currency,
                     JournalEntry.kind)

    if "month" in group or since is not None:
        whole = LedgerMonthTotal
    elif set(group) <= {"account_id", "currency"} and not without_kinds:
        whole = LedgerAccountTotal  # a row per account: a balance needs no kinds
    else:
        whole = LedgerKindTotal
    days = [*([JournalEntry.occurred_on >= since] if since else []),
            *([JournalEntry.occurred_on <= as_of] if as_of else [])]
    # Each part gives its rows as they are, and they are summed once, at the end.
    parts = [_stored(whole, group, [*stored(whole), *(
                 [LedgerMonthTotal.month >= month_start(since)] if since else [])]),
             _postings(group, [*posted, Posting.id > watermark, *days], summed=False)]
    if since is not None and since > month_start(since):
        # Less the days of the first month before the period (from the totals' postings).
        parts.append(_postings(group, [*posted, Posting.id <= watermark,
                                       JournalEntry.occurred_on >= month_start(since),
                                       JournalEntry.occurred_on < since], sign=-1,
                               summed=False))
    if as_of is not None:
        # Less what the totals hold after the date: the later months, and the date's month
        # after the date (from the postings up to the watermark).
        parts.append(_stored(LedgerMonthTotal, group,
                             [*stored(LedgerMonthTotal),
                              LedgerMonthTotal.month > month_start(as_of)], sign=-1))
        parts.append(_postings(group, [*posted, Posting.id <= watermark,
                                       JournalEntry.occurred_on > as_of,
                                       JournalEntry.occurred_on <= month_end(as_of)], sign=-1,
                               summed=False))
    union = sa.union_all(*parts).subquery()
    keys = [union.c[name] for name in group]
    # Cast: PostgreSQL sums bigints into numeric, which rows would bring back as Decimal.
    return (sa.select(*keys, sa.cast(sa.func.sum(union.c.debits), sa.BigInteger).label("debits"),
                      sa.cast(sa.func.sum(union.c.credits), sa.BigInteger).label("credits"),
                      sa.cast(sa.func.sum(union.c.postings), sa.BigInteger).label("postings"),
                      _watermark().label("through"))
            .group_by(*keys).subquery())


def read_totals(collective_id: int, group: Sequence[str], **filters) -> list[tuple]:
    """`totals` as rows: the group values, then debits, credits and postings as ints; groups
    without postings (in the window asked about) are left out."""
    def build(watermark: int) -> sa.Select:
        query = totals(collective_id, group, watermark, **filters)
        return sa.select(query).where(query.c.postings != 0)
    return [(*row[:-4], int(row[-4]), int(row[-3]), int(row[-2])) for row in read(build)]


def posting_count(collective_id: int, date_from: date, date_to: date) -> int:
    """How many postings the collective's entries dated in [date_from, date_to] have, from
    the totals (what a progress bar needs, without counting a million rows)."""
    def count(as_of: date) -> int:
        return sum(row[-1] for row in read_totals(collective_id, [], as_of=as_of))
    return count(date_to) - count(date_from - timedelta(days=1))


def _upsert(model: type, rows: sa.Select) -> None:
    """Add the grouped `rows` (collective_id, the model's key, debits, credits, postings)
    into the model's table: new groups inserted, existing ones added to."""
    keys = _KEYS[model]
    statement = conflict_insert(model).from_select(
        ["collective_id", *keys, "debits", "credits", "postings"], rows)
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: getattr(model, name) + getattr(statement.excluded, name)
              for name in ("debits", "credits", "postings")})
    db.session.execute(statement)


def bring_forward(previous: int, newest: int) -> None:
    """Add the postings with ids after `previous` up to `newest` to the totals tables (the
    snapshot round calls it under the posting lock, as it moves the watermark)."""
    where = [Posting.id > previous, Posting.id <= newest]
    for model in TABLES:
        _upsert(model, _postings(["collective_id", *_KEYS[model]], where))


def rebuild(watermark: int) -> None:
    """Make the tables again from the postings up to `watermark` (a migration, or repair:
    they are derived, never edited by hand)."""
    for model in TABLES:
        db.session.execute(sa.delete(model))
    if watermark:
        bring_forward(0, watermark)


def check_totals(watermark: int) -> list[str]:
    """What is wrong with the stored totals, recomputed from the postings up to `watermark`
    (empty: nothing)."""
    problems = []
    for model in TABLES:
        keys = ["collective_id", *_KEYS[model]]
        stored = {tuple(str(v) for v in row[:-3]): tuple(int(v) for v in row[-3:])
                  for row in db.session.execute(sa.select(
                      *[getattr(model, k) for k in keys], model.debits, model.credits,
                      model.postings))}
        summed = {tuple(str(v) for v in row[:-3]): tuple(int(v) for v in row[-3:])
                  for row in db.session.execute(_postings(keys, [Posting.id <= watermark]))}
        for key in sorted(set(stored) | set(summed)):
            if stored.get(key) != summed.get(key):
                problems.append(f"{model.__tablename__} {key} holds {stored.get(key)} "
                                f"(debits, credits, postings); its postings through "
                                f"{watermark} make {summed.get(key)}")
    return problems
