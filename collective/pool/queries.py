"""The pool's read side for pages and reports: payments, what members earned and were paid,
their shares and balances."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import db
from collective.ledger import balances, totals
from collective.ledger.balances import with_effective_kind
from collective.ledger.models import Account, EntryKind, JournalEntry, Posting
from collective.members.models import Membership, User
from collective.members.services import base_currency
from collective.monthly import monthly_table
from collective.pool import compute
from collective.pool.models import ClientPayment, Pitch

if TYPE_CHECKING:
    import pandas as pd


def frame(query: sa.Select, columns: list[str]) -> pd.DataFrame:
    """The rows of `query` as a DataFrame with these column names (built column by column
    from plain values: pandas is slow to take SQLAlchemy's row objects one by one)."""
    import pandas as pd
    # Core execution on the session's connection: the ORM's row loading is not needed here.
    rows = db.session.connection().execute(query).all()
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(dict(zip(columns, map(list, zip(*rows, strict=True)), strict=True)))


def member_names(collective_id: int, membership_ids) -> dict[int, str]:
    """{membership_id: name} of these members of the collective, in one query."""
    ids = [int(i) for i in membership_ids]
    if not ids:
        return {}
    return dict(db.session.execute(
        sa.select(Membership.id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.collective_id == collective_id, Membership.id.in_(ids))).all())


def payments_of(collective_id: int, pitch_id: int | None = None, *, limit: int | None = None,
                offset: int = 0) -> list[ClientPayment]:
    """Payments newest first; `limit` and `offset` page through them."""
    query = sa.select(ClientPayment).filter_by(collective_id=collective_id).options(
        so.joinedload(ClientPayment.pitch).joinedload(Pitch.client),
        so.joinedload(ClientPayment.share_rule))
    if pitch_id is not None:
        query = query.filter_by(pitch_id=pitch_id)
    query = query.order_by(ClientPayment.received_on.desc(), ClientPayment.id.desc())
    return list(db.session.scalars(query.offset(offset).limit(limit)))


def pitch_counts(collective_id: int) -> dict[str, int]:
    """How many pitches the collective has in each state (states without any left out)."""
    return {state: int(n) for state, n in db.session.execute(
        sa.select(Pitch.state, sa.func.count(Pitch.id))
        .where(Pitch.collective_id == collective_id).group_by(Pitch.state))}


def board_pitches(collective_id: int, per_state: int) -> dict[str, list[Pitch]]:
    """The first `per_state` pitches of each state by nearest deadline, {state: pitches},
    in two queries whatever the size of the pool (a window numbers each state's pitches)."""
    soonest = (Pitch.deadline_on.is_(None), Pitch.deadline_on, Pitch.id)
    ranked = (sa.select(Pitch.id, sa.func.row_number().over(
        partition_by=Pitch.state, order_by=soonest).label("n"))
        .where(Pitch.collective_id == collective_id).subquery())
    found: dict[str, list[Pitch]] = {}
    for pitch in db.session.scalars(
            sa.select(Pitch).join(ranked, ranked.c.id == Pitch.id)
            .where(ranked.c.n <= per_state)
            .options(so.joinedload(Pitch.client), so.selectinload(Pitch.required_skills))
            .order_by(*soonest)):
        found.setdefault(pitch.state, []).append(pitch)
    return found


def payment_split_seed(pitch_id: int) -> int:
    """The seed that breaks rounding ties in the split of the pitch's next payment: see
    `compute.split_seed`. Every payment counts, reversed ones too, as rows are never
    deleted: a payment's seed never changes."""
    earlier = db.session.scalar(sa.select(sa.func.count(ClientPayment.id))
                                .where(ClientPayment.pitch_id == pitch_id))
    return compute.split_seed(pitch_id, int(earlier or 0))


def split_seeds_column() -> sa.ColumnElement[int]:
    """A payment's `compute.split_seed` as a column of a query on ClientPayment."""
    earlier = so.aliased(ClientPayment)
    return (ClientPayment.pitch_id + sa.select(sa.func.count(earlier.id))
            .where(earlier.pitch_id == ClientPayment.pitch_id, earlier.id < ClientPayment.id)
            .correlate(ClientPayment).scalar_subquery())


def reversed_entry_ids(collective_id: int, among: Iterable[int] | None = None) -> set[int]:
    """Ids of the collective's entries (`among` these only) that have been reversed."""
    query = sa.select(JournalEntry.reverses_id).where(JournalEntry.collective_id == collective_id,
                                                      JournalEntry.reverses_id.is_not(None))
    if among is not None:
        query = query.where(JournalEntry.reverses_id.in_(list(among)))
    return set(db.session.scalars(query))


def _payable_postings(collective_id: int) -> sa.Select:
    """Postings on member payable accounts with the entry's kind (reversals take the kind
    of what they reverse)."""
    query, kind = with_effective_kind(
        sa.select(Account.membership_id, JournalEntry.id.label("entry_id"),
                  JournalEntry.occurred_on)
        .join(Posting, Posting.account_id == Account.id)
        .join(JournalEntry, Posting.entry_id == JournalEntry.id))
    return (
        query.add_columns(kind.label("kind"), Posting.amount, JournalEntry.memo,
                          JournalEntry.reverses_id)
        .where(Account.collective_id == collective_id, Account.membership_id.is_not(None))
    )


def member_earnings(collective_id: int, *, since: date, until: date) -> pd.DataFrame:
    """Minor units each member earned from client payments in [since, until], net of
    reversals."""
    import pandas as pd

    # Index-friendly: the entries in the window (by collective and date), their lines (by
    # entry), summed per account, then the members' accounts kept. A reversal takes the kind
    # of what it reverses, looked up only for reversals (an outer join to every entry would
    # make the databases read the whole journal).
    original = so.aliased(JournalEntry)
    kind = sa.case((JournalEntry.reverses_id.is_(None), JournalEntry.kind),
                   else_=sa.select(original.kind).where(original.id == JournalEntry.reverses_id)
                   .scalar_subquery())
    per_account = (
        sa.select(Posting.account_id, sa.func.sum(Posting.amount).label("total"))
        .select_from(JournalEntry).join(Posting, Posting.entry_id == JournalEntry.id)
        .where(JournalEntry.collective_id == collective_id, JournalEntry.occurred_on >= since,
               JournalEntry.occurred_on <= until, kind == EntryKind.PAYMENT)
        .group_by(Posting.account_id).subquery())
    rows = db.session.connection().execute(
        sa.select(Account.membership_id, -per_account.c.total)
        .join(per_account, per_account.c.account_id == Account.id)
        .where(Account.collective_id == collective_id, Account.membership_id.is_not(None))
    ).all()
    ids, earned = zip(*rows, strict=True) if rows else ((), ())
    return pd.DataFrame({"membership_id": pd.Series(ids, dtype="int64"),
                         "earned": pd.Series(earned, dtype="int64")})


def payable_movements(membership: Membership, *, since: date | None = None) -> pd.DataFrame:
    """Every posting on the member's payable account (from `since`): date, kind, memo,
    amount (+ owed)."""
    import pandas as pd
    q = _payable_postings(membership.collective_id).where(
        Account.membership_id == membership.id).order_by(JournalEntry.occurred_on,
                                                         JournalEntry.id)
    if since is not None:
        q = q.where(JournalEntry.occurred_on >= since)
    frame = pd.DataFrame(db.session.execute(q).all(),
                         columns=["membership_id", "entry_id", "occurred_on", "kind", "amount",
                                  "memo", "reverses_id"])
    frame["amount"] = -frame["amount"].astype("int64")
    return frame


def payable_totals(membership: Membership) -> dict[str, int]:
    """What moved on the member's payable account over its whole history, per effective
    entry kind (+ owed to them), in one grouped query."""
    postings = _payable_postings(membership.collective_id).where(
        Account.membership_id == membership.id).subquery()
    return {kind: -int(total) for kind, total in db.session.execute(
        sa.select(postings.c.kind, sa.func.sum(postings.c.amount)).group_by(postings.c.kind))}


@dataclass(frozen=True)
class ShareLine:
    """One payment's share for a member."""

    payment: ClientPayment
    share: int
    is_reversed: bool


def shares_of(membership: Membership, *, limit: int | None = None, offset: int = 0
              ) -> list[ShareLine]:
    """Each client payment that paid the member, newest first, with their share, the work
    and the rule used (loaded in the same query); `limit` and `offset` page through them."""
    reversal = so.aliased(JournalEntry)
    is_reversed = sa.exists().where(reversal.reverses_id == ClientPayment.entry_id)
    rows = db.session.execute(
        sa.select(ClientPayment, -Posting.amount, is_reversed)
        .join(JournalEntry, JournalEntry.id == ClientPayment.entry_id)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(Account, Account.id == Posting.account_id)
        .where(Account.membership_id == membership.id)
        .options(so.joinedload(ClientPayment.pitch), so.joinedload(ClientPayment.share_rule))
        .order_by(ClientPayment.received_on.desc(), ClientPayment.id.desc())
        .offset(offset).limit(limit)).all()
    return [ShareLine(p, int(share), bool(flag)) for p, share, flag in rows]


def monthly_earnings(membership: Membership, *, until: date | None = None,
                     last_months: int | None = None,
                     movements: pd.DataFrame | None = None) -> pd.DataFrame:
    """Net earnings from payments per calendar month, months without any as zero: month
    ('2026-10'), earned. `until` and `last_months` go to the monthly table (with both, only
    those months' postings are read); `movements` is the member's payable_movements when
    the caller has loaded them already."""
    if movements is None:
        since = None
        if until is not None and last_months:
            month = until.year * 12 + until.month - last_months  # months since year 0
            since = date(month // 12, month % 12 + 1, 1)
        movements = payable_movements(membership, since=since)
    earned = movements[movements["kind"] == EntryKind.PAYMENT].assign(column="earned")
    return monthly_table(earned, ["earned"], day="occurred_on", until=until,
                         last_months=last_months)


def monthly_earnings_of(membership_ids: list[int], *, until: date, last_months: int
                        ) -> pd.DataFrame:
    """`monthly_earnings` of several memberships (in any collectives) at once, in one
    query: a month column ('2026-10') and one int64 column per membership id, the last
    `last_months` months up to `until`'s."""
    import pandas as pd
    month = until.year * 12 + until.month - last_months  # months since year 0
    since = date(month // 12, month % 12 + 1, 1)
    query, kind = with_effective_kind(
        sa.select(Account.membership_id, JournalEntry.occurred_on,
                  sa.func.sum(Posting.amount))
        .join(Posting, Posting.account_id == Account.id)
        .join(JournalEntry, Posting.entry_id == JournalEntry.id))
    rows = db.session.execute(
        query.where(Account.membership_id.in_(membership_ids or [0]),
                    JournalEntry.occurred_on >= since, JournalEntry.occurred_on <= until,
                    kind == EntryKind.PAYMENT)
        .group_by(Account.membership_id, JournalEntry.occurred_on)).all()
    frame = pd.DataFrame(rows, columns=["membership_id", "occurred_on", "amount"])
    frame["amount"] = -frame["amount"].astype("int64")
    months = pd.period_range(end=pd.Period(until, freq="M"), periods=last_months, freq="M")
    table = monthly_table(frame, list(membership_ids), day="occurred_on",
                          column="membership_id", until=until, last_months=last_months)
    every = pd.DataFrame({"month": months.strftime("%Y-%m")})
    table = every.merge(table, on="month", how="left").fillna(0)
    return table.astype({m: "int64" for m in membership_ids})


def payouts_of(membership: Membership, *, limit: int | None = None) -> list[dict]:
    """The member's payouts, newest first (at most `limit`): occurred_on, entry_id, amount
    (paid to them), memo."""
    postings = _payable_postings(membership.collective_id).where(
        Account.membership_id == membership.id).subquery()
    rows = db.session.execute(
        sa.select(postings.c.occurred_on, postings.c.entry_id, postings.c.amount,
                  postings.c.memo)
        .where(postings.c.kind == EntryKind.PAYOUT)
        .order_by(postings.c.occurred_on.desc(), postings.c.entry_id.desc()).limit(limit))
    return [{"occurred_on": day, "entry_id": entry_id, "amount": int(amount), "memo": memo}
            for day, entry_id, amount, memo in rows]


def _payables(collective_id: int, membership_ids: list[int] | None = None) -> sa.Select:
    """Ids of the collective's member payable accounts (of these members, when given)."""
    query = sa.select(Account.id).where(Account.collective_id == collective_id,
                                        Account.membership_id.is_not(None))
    if membership_ids is not None:
        query = query.where(Account.membership_id.in_(membership_ids))
    return query


def _payable_totals(collective_id: int, watermark: int, group: list[str],
                    membership_ids: list[int] | None = None) -> sa.Subquery:
    """The member payables' ledger totals by `group` (collective.ledger.totals), all
    currencies together."""
    return totals.totals(collective_id, group, watermark,
                         accounts=_payables(collective_id, membership_ids))


def _by_column(rows) -> pd.DataFrame:
    """(membership_id or None, kind, amount) rows as earned, paid_out and other columns."""
    import pandas as pd
    frame = pd.DataFrame(rows, columns=["membership_id", "kind", "amount"])
    frame["amount"] = frame["amount"].astype("int64")
    frame["column"] = frame["kind"].map({EntryKind.PAYMENT: "earned",
                                         EntryKind.PAYOUT: "paid_out"}).fillna("other")
    pivot = frame.pivot_table(index="membership_id", columns="column", values="amount",
                              aggfunc="sum", fill_value=0)
    return pivot.reindex(columns=["earned", "paid_out", "other"], fill_value=0)


def members_summary(collective_id: int, *, limit: int | None = None, offset: int = 0
                    ) -> pd.DataFrame:
    """For members by name (`limit` and `offset` page through them): earned from
    payments, paid out, other movements, and balance, from the ledger totals: a fixed
    number of queries whatever the page or the ledger's size. The members the collective
    owes, a page of them, are `owed_page`'s."""
    names = frame(_members_by_name(collective_id, limit=limit, offset=offset),
                  ["membership_id", "name", "status"])
    return _summary_of(collective_id, names)


def owed_page(collective_id: int, *, limit: int, offset: int = 0
              ) -> tuple[pd.DataFrame, int, int]:
    """`members_summary` of the members the collective owes, a page of them, with
    `owed_totals` (how many are owed and how much in all) read by the same statement: each
    row carries the totals over every member owed, as window sums (the payouts page reads
    every member payable's totals once, not twice)."""
    names, count, total = _owed_names(collective_id, _members_by_name(
        collective_id, limit=limit, offset=offset))
    if count is None:  # a page past the last: nothing to carry the totals
        count, total = owed_totals(collective_id)
    return _summary_of(collective_id, names), count, total


def _members_by_name(collective_id: int, *, limit: int | None, offset: int) -> sa.Select:
    """membership id, name and status of the collective's members, by name, a page of them
    (a filter added to it applies before the page is cut)."""
    return (sa.select(Membership.id, User.name, Membership.status)
            .join(User, User.id == Membership.user_id)
            .where(Membership.collective_id == collective_id)
            .order_by(User.name, Membership.id).offset(offset).limit(limit))


def _owed_names(collective_id: int, members: sa.Select
                ) -> tuple[pd.DataFrame, int | None, int | None]:
    """The members of `members` (a page) the collective owes something: membership_id,
    name, status; and how many are owed and how much in all (None on an empty page)."""
    import pandas as pd

    def owed(watermark: int) -> sa.Select:
        sub = _payable_totals(collective_id, watermark, ["account_id"])
        return (members.add_columns(sa.func.count().over().label("owed_count"),
                                    sa.func.sum(sub.c.credits - sub.c.debits).over()
                                    .label("owed_total"), sub.c.through)
                .join(Account, Account.membership_id == Membership.id)
                .join(sub, sub.c.account_id == Account.id)
                .where(sub.c.credits > sub.c.debits))
    rows = totals.read(owed)
    names = pd.DataFrame([row[:3] for row in rows], columns=["membership_id", "name", "status"])
    if not rows:
        return names, None, None
    return names, int(rows[0][3]), int(rows[0][4])


def _summary_of(collective_id: int, names: pd.DataFrame) -> pd.DataFrame:
    """Earned, paid out, other and balance of the members in `names`, from the ledger
    totals of their payables."""
    ids = [int(m) for m in names["membership_id"]]

    def kinds(watermark: int) -> sa.Select:
        sub = _payable_totals(collective_id, watermark, ["account_id", "effective_kind"], ids)
        return (sa.select(Account.membership_id, sub.c.effective_kind,
                          sub.c.credits - sub.c.debits, sub.c.through)
                .join(sub, sub.c.account_id == Account.id).where(sub.c.postings != 0))
    rows = [row[:3] for row in totals.read(kinds)] if ids else []
    if rows:
        table = names.merge(_by_column(rows).reset_index(), on="membership_id",
                            how="left").fillna(0)
    else:
        table = names.assign(earned=0, paid_out=0, other=0)
    return _with_balance(table.astype({"earned": "int64", "paid_out": "int64",
                                       "other": "int64"}))


def _with_balance(table: pd.DataFrame) -> pd.DataFrame:
    # Payouts are debits on the payable: they show as negative "earned"; flip for display.
    table["paid_out"] = -table["paid_out"]
    table["balance"] = table["earned"] - table["paid_out"] + table["other"]
    return table


def summary_totals(collective_id: int) -> dict[str, int]:
    """What `members_summary` adds up to over every member, in one grouped query:
    earned, paid_out, other and balance."""
    import pandas as pd
    rows = [(0, kind, credits - debits) for kind, debits, credits, _ in totals.read_totals(
        collective_id, ["effective_kind"], accounts=_payables(collective_id))]
    table = (_by_column(rows) if rows else
             pd.DataFrame([[0, 0, 0]], columns=["earned", "paid_out", "other"]))
    return {k: int(v) for k, v in _with_balance(table.astype("int64")).sum().items()}


def owed_totals(collective_id: int) -> tuple[int, int]:
    """How many members the collective owes something, and how much in all, in one query
    (from the ledger totals)."""
    def build(watermark: int) -> sa.Select:
        sub = _payable_totals(collective_id, watermark, ["account_id"])
        return (sa.select(sa.func.count(), sa.func.coalesce(
                    sa.func.sum(sub.c.credits - sub.c.debits), 0), sa.func.max(sub.c.through)
                          .label("through"))
                .where(sub.c.credits > sub.c.debits))
    count, total, _ = totals.read(build)[0]
    return int(count), int(total)


def overdrawn_by_reversal(payment: ClientPayment) -> list[dict]:
    """The members a reversal of `payment` would leave owing the collective: their share
    of it is more than what the collective owes them now (it was paid out already). Each
    with name, share, balance now, and balance after, in the base currency."""
    currency = base_currency(payment.collective_id)
    shares = db.session.execute(
        sa.select(Account.membership_id, -Posting.amount)
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.entry_id == payment.entry_id, Posting.currency == currency,
               Account.membership_id.is_not(None), Posting.amount < 0)).all()
    now = balances.member_balances(payment.collective_id, currency)
    names = dict(db.session.execute(
        sa.select(Membership.id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.id.in_([m for m, _ in shares] or [0]))).all())
    rows = []
    for membership_id, share in shares:
        balance = now.get(membership_id, (None, 0))[1]
        if balance - share < 0:
            rows.append({"name": names.get(membership_id, "?"), "share": int(share),
                         "balance": int(balance), "after": int(balance - share)})
    return rows
