"""What both kinds of fund run share: the result, the members of a month, the lock and the
checks before a run, and writing a run with its entries and lines.

Contribution runs are in contribution_runs.py, payout runs in payout_runs.py; runs.py is the
one entry point the web, the CLI and the scheduler call.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from collective import audit
from collective.benefits import compute, invariants, reserve_sums
from collective.benefits.compute import PlanTerms, add_months, month_start
from collective.benefits.models import BenefitPlan, BenefitRun, RunKind, RunLine, RunLineKind
from collective.benefits.plans import levels_for, plan_in_force
from collective.benefits.queries import arrears, run_lines_frame
from collective.clock import zone
from collective.database import insert_rows
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import balances as ledger_balances
from collective.ledger import services as ledger
from collective.ledger.bulk import entry_frames, post_many
from collective.ledger.models import Account
from collective.members.models import Collective, Membership, MembershipStatus, User
from collective.members.services import base_currency
from collective.pool.queries import member_earnings

if TYPE_CHECKING:
    import pandas as pd


def _empty_frame() -> pd.DataFrame:
    """An empty DataFrame (pandas is imported when a run first needs it)."""
    import pandas as pd
    return pd.DataFrame()


@dataclass
class RunResult:
    """What a run did (or, dry, would do)."""

    kind: RunKind
    period: date
    dry_run: bool
    already_done: bool = False
    skipped: str = ""
    total: int = 0
    shortfall: int = 0
    entries: int = 0
    lines: pd.DataFrame = field(default_factory=_empty_frame)
    run: BenefitRun | None = None


@dataclass
class Posting:
    """What a run writes: its journal entries and its lines (each line names the entry's
    idempotency key it belongs to, if any). Entries and lines come one by one (`entries`,
    `line`) or as whole frames (`add_frames`), which is how a run over thousands of members
    hands them over."""

    entries: list[ledger.NewEntry] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    #: (entries, postings, lines) frames, as post_many and LINE_COLUMNS take them,
    #: postings naming their entry's position in its own frame.
    frames: list[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]] = field(
        default_factory=list)

    def line(self, membership_id: int, kind: RunLineKind, amount: int, key: str | None,
             **extra) -> None:
        """Add a run line (skipped when the amount is zero and nothing else is recorded)."""
        if amount or extra.get("shortfall"):
            self.lines.append({"membership_id": int(membership_id), "kind": kind,
                               "amount": int(amount), "key": key, **extra})

    def add_frames(self, entries: pd.DataFrame, postings: pd.DataFrame,
                   lines: pd.DataFrame) -> None:
        """Add entries, their postings and run lines in bulk."""
        self.frames.append((entries, postings, lines))

    @property
    def entry_count(self) -> int:
        """How many entries the run writes."""
        return len(self.entries) + sum(len(entries) for entries, _, _ in self.frames)

    def all_frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Every entry, posting and line, the bulk ones first, as three frames."""
        import pandas as pd
        blocks = [*self.frames, (*entry_frames(self.entries),
                                 pd.DataFrame(self.lines, columns=list(LINE_COLUMNS)))]
        blocks = [block for block in blocks if len(block[0]) or len(block[2])] or blocks[-1:]
        entries, postings, offset = [], [], 0
        for block_entries, block_postings, _ in blocks:
            entries.append(block_entries)
            postings.append(block_postings.assign(entry=block_postings["entry"] + offset))
            offset += len(block_entries)
        lines = pd.concat([block[2].reindex(columns=list(LINE_COLUMNS)) for block in blocks],
                          ignore_index=True)
        return (pd.concat(entries, ignore_index=True), pd.concat(postings, ignore_index=True),
                lines)


#: A run line's columns, as a run hands them over (the key names the line's entry).
LINE_COLUMNS = {"membership_id": 0, "kind": "", "amount": 0, "key": None, "shortfall": 0,
                "claim_id": None, "for_period": None}


def _period_over_at(collective_id: int, period: date) -> datetime:
    """The instant the month of `period` ends: midnight starting the next month in the
    collective's own timezone (kept on its row), in UTC."""
    timezone = db.session.scalar(sa.select(Collective.timezone).filter_by(id=collective_id))
    return datetime.combine(add_months(period, 1), time.min,
                            tzinfo=zone(timezone)).astimezone(UTC)


def members_frame(collective_id: int, period: date, terms: PlanTerms,
                  figures: dict[int, tuple[int, int, int]] | None = None) -> pd.DataFrame:
    """Fund members of a period (active or paused, joined before it ended in the collective's
    timezone): level, earnings, due, balance, arrears, reserve and debt (gifts their reserve
    could not cover). `figures` (membership id -> reserve, debt, arrears, as
    invariants.reserve_check sums them) saves reading the run lines again."""
    import pandas as pd
    base = base_currency(collective_id)
    rows = db.session.execute(
        sa.select(Membership.id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.collective_id == collective_id,
               Membership.status != MembershipStatus.REMOVED.value,
               Membership.joined_at < _period_over_at(collective_id, period))
        .order_by(Membership.id)).all()
    frame = pd.DataFrame(list(map(tuple, rows)), columns=["membership_id", "name"])
    levels = levels_for(collective_id, period)
    frame["level"] = frame["membership_id"].map(levels).fillna(0).astype("int64")
    earnings = member_earnings(collective_id, since=period, until=period_end(period))
    frame["earnings"] = frame["membership_id"].map(
        earnings.set_index("membership_id")["earned"]).fillna(0).astype("int64")
    frame["due"] = compute.contributions_due(terms, frame)
    owed_by_member = ledger_balances.member_balances(collective_id, base)
    balances = {m: owed for m, (_, owed) in owed_by_member.items()}
    frame["available"] = _mapped(frame, balances)
    if figures is None:
        frame["arrears"] = _mapped(frame, arrears(collective_id))
        lines = run_lines_frame(collective_id)
        frame["reserve"] = _mapped(frame, reserve_sums.reserves(lines))
        frame["debt"] = _mapped(frame, reserve_sums.gift_debts(lines))
        return frame
    frame["arrears"] = _mapped(frame, {m: max(a, 0) for m, (_, _, a) in figures.items()})
    frame["reserve"] = _mapped(frame, {m: r for m, (r, _, _) in figures.items()})
    frame["debt"] = _mapped(frame, {m: d for m, (_, d, _) in figures.items()})
    return frame


def _mapped(frame: pd.DataFrame, values) -> pd.Series:
    return frame["membership_id"].map(values).fillna(0).astype("int64")


def period_end(period: date) -> date:
    """The last day of the month."""
    return add_months(period, 1) - timedelta(days=1)


def payable_accounts(collective_id: int) -> dict[int, int]:
    """Each member's payable account id, by membership id."""
    return dict(db.session.execute(
        sa.select(Account.membership_id, Account.id)
        .where(Account.collective_id == collective_id, Account.membership_id.is_not(None))
    ).all())


def _record_run(collective_id: int, kind: RunKind, period: date, plan: BenefitPlan,
                posting: Posting, shortfall: int, triggered_by: str) -> BenefitRun:
    """Write the run row, its entries and its lines (flushed, not committed)."""
    run = BenefitRun(collective_id=collective_id, kind=kind.value, period=period,
                     plan_id=plan.id, total_amount=0, shortfall_amount=shortfall,
                     entry_count=posting.entry_count, triggered_by=triggered_by[:254])
    db.session.add(run)
    db.session.flush()  # the unique (collective, kind, period) key is claimed here
    entries, postings, lines = posting.all_frames()
    entry_ids = post_many(collective_id, entries, postings)
    by_key = dict(zip(entries["idempotency_key"].tolist(), entry_ids, strict=True))
    paid_in = lines["kind"].isin([RunLineKind.CONTRIBUTION, RunLineKind.SETTLED,
                                  RunLineKind.BENEFIT, RunLineKind.MAKEUP])
    run.total_amount = int(lines.loc[paid_in, "amount"].sum())
    db.session.flush()
    number = lambda column: lines[column].fillna(0).astype("int64").tolist()  # noqa: E731
    insert_rows(db.session.connection(), RunLine.__tablename__, {
        "run_id": [run.id] * len(lines), "membership_id": number("membership_id"),
        "kind": list(map(str, lines["kind"].tolist())), "amount": number("amount"),
        "shortfall": number("shortfall"), "claim_id": _nullable(lines["claim_id"]),
        "for_period": _nullable(lines["for_period"]),
        "entry_id": [by_key.get(key) for key in lines["key"].tolist()]})
    audit.record("fund_run.posted", collective=collective_id, subject=run, kind=kind.value,
                 period=f"{period:%Y-%m}", total_amount=run.total_amount,
                 shortfall_amount=shortfall, entries=posting.entry_count)
    return run


def _nullable(values: pd.Series) -> list:
    """Plain Python values of a column, None where it is missing (pandas keeps NaN)."""
    import pandas as pd
    return [None if pd.isna(v) else (int(v) if isinstance(v, float) else v)
            for v in values.tolist()]


def check_month_ended(period: date, today: date) -> date:
    """The month of `period`, or a DomainError if it has not ended by `today`."""
    period = month_start(period)
    if period >= month_start(today):
        raise DomainError(f"only a month that has ended can be run; {period:%B %Y} ends on "
                          f"{period_end(period):%Y-%m-%d}", field="period")
    return period


def start_run(collective_id: int, kind: RunKind, period: date, today: date, dry_run: bool
              ) -> tuple[date, RunResult | None, BenefitPlan | None]:
    """Refuse a month that has not ended; take the collective's run lock; then say whether
    there is anything to do: the result already (done before, or no plan) or the plan to
    run under."""
    period = check_month_ended(period, today)
    if not dry_run:
        # The same lock as payouts to members: a run and a payout never read the same
        # balances at once.
        ledger.lock_balances(collective_id)
    existing = db.session.scalar(sa.select(BenefitRun).filter_by(
        collective_id=collective_id, kind=kind.value, period=period))
    if existing is not None:
        return period, RunResult(kind, period, dry_run, already_done=True, run=existing,
                                 total=existing.total_amount), None
    plan = plan_in_force(collective_id, period)
    if plan is None:
        return period, RunResult(kind, period, dry_run,
                                 skipped="the fund had no plan for this month"), None
    if kind == RunKind.PAYOUTS:
        require_contributions_run(collective_id, period)
    return period, None, plan


def require_contributions_run(collective_id: int, period: date) -> None:
    """Refuse a month's payouts until that month's contributions have been run: a benefit
    is a gift from that month's contributions, and paid before them it has no donors, so
    the members' reserves would no longer add up to what the fund holds."""
    done = db.session.scalar(sa.select(BenefitRun.id).filter_by(
        collective_id=collective_id, kind=RunKind.CONTRIBUTIONS.value, period=period))
    if done is None:
        raise DomainError(f"run the contributions for {period:%B %Y} first: a month's "
                          "benefits are paid from that month's contributions", field="kind")


def finish(collective_id: int, kind: RunKind, period: date, plan: BenefitPlan, *,
           posting: Posting, frame: pd.DataFrame, total: int, shortfall: int, dry_run: bool,
           triggered_by: str, before: invariants.ReserveCheck | None = None) -> RunResult:
    """The run's result, recorded unless it is dry, and checked: a run after which the
    reserves no longer add up to the fund is refused (see invariants.check_run). `before`
    is the check as the run found the fund, if it took it already (under the lock)."""
    outcome = RunResult(kind, period, dry_run, total=total, shortfall=shortfall,
                        entries=posting.entry_count, lines=frame)
    if not dry_run:
        if before is None:
            before = invariants.reserve_check(collective_id)
        outcome.run = _record_run(collective_id, kind, period, plan, posting, shortfall,
                                  triggered_by)
        after = invariants.after_run(before, outcome.run.id, posting.entry_count)
        invariants.check_run(before, f"the {kind.value} run for {period:%B %Y}", after)
    return outcome
