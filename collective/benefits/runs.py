"""The fund's scheduled runs: each month's contributions into the fund and benefits out of
it, and which months are due.

A run is refused for a month that has not ended by `today` (the caller's date in the
collective's timezone), so the web, the CLI, the scheduler and the API meet one rule. A run
posts once per (kind, collective, period); its row, journal entries and lines are flushed
together, and the caller commits once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import sqlalchemy as sa

from collective.benefits import compute, invariants
from collective.benefits.compute import PlanTerms, add_months, month_start
from collective.benefits.models import (
    BenefitKind,
    BenefitPlan,
    BenefitRun,
    Claim,
    ClaimStatus,
    RunKind,
    RunLine,
    RunLineKind,
)
from collective.benefits.plans import (
    first_period,
    levels_at,
    levels_for,
    plan_in_force,
    plan_terms,
)
from collective.benefits.queries import arrears, fund_balance, run_lines_frame
from collective.clock import zone
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import balances as ledger_balances
from collective.ledger import services as ledger
from collective.ledger.models import Account, EntryKind
from collective.members.models import Collective, Membership, MembershipStatus, User
from collective.members.services import base_currency
from collective.pool.queries import member_earnings

#: The month whose contribution run also gives back reserves above the cap.
RETURN_MONTH = 12


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
    lines: pd.DataFrame = field(default_factory=pd.DataFrame)
    run: BenefitRun | None = None


def _period_over_at(collective_id: int, period: date) -> datetime:
    """The instant the month of `period` ends: midnight starting the next month in the
    collective's own timezone (kept on its row), in UTC."""
    timezone = db.session.scalar(sa.select(Collective.timezone).filter_by(id=collective_id))
    return datetime.combine(add_months(period, 1), time.min,
                            tzinfo=zone(timezone)).astimezone(UTC)


def members_frame(collective_id: int, period: date, terms: PlanTerms) -> pd.DataFrame:
    """Fund members of a period (active or paused, joined before it ended in the collective's
    timezone): level, earnings, due, balance, arrears."""
    base = base_currency(collective_id)
    rows = db.session.execute(
        sa.select(Membership.id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.collective_id == collective_id,
               Membership.status != MembershipStatus.REMOVED.value,
               Membership.joined_at < _period_over_at(collective_id, period))
        .order_by(Membership.id)).all()
    frame = pd.DataFrame(rows, columns=["membership_id", "name"])
    levels = levels_for(collective_id, period)
    frame["level"] = frame["membership_id"].map(levels).fillna(0).astype("int64")
    earnings = member_earnings(collective_id, since=period, until=_period_end(period))
    frame["earnings"] = frame["membership_id"].map(
        earnings.set_index("membership_id")["earned"]).fillna(0).astype("int64")
    frame["due"] = compute.contributions_due(terms, frame)
    owed_by_member = ledger_balances.member_balances(collective_id, base)
    balances = {m: owed for m, (_, owed) in owed_by_member.items()}
    frame["available"] = frame["membership_id"].map(balances).fillna(0).astype("int64")
    frame["arrears"] = frame["membership_id"].map(arrears(collective_id)).fillna(0
                                                                                ).astype("int64")
    return frame


def _period_end(period: date) -> date:
    """The last day of the month."""
    return add_months(period, 1) - timedelta(days=1)


def _payable_accounts(collective_id: int) -> dict[int, int]:
    """Each member's payable account id, by membership id."""
    return dict(db.session.execute(
        sa.select(Account.membership_id, Account.id)
        .where(Account.collective_id == collective_id, Account.membership_id.is_not(None))
    ).all())


def _record_run(collective_id: int, kind: RunKind, period: date, plan: BenefitPlan,
                entries: list[ledger.NewEntry], lines: list[dict], shortfall: int,
                triggered_by: str) -> BenefitRun:
    """Write the run row, its entries and its lines (flushed, not committed)."""
    run = BenefitRun(collective_id=collective_id, kind=kind.value, period=period,
                     plan_id=plan.id, total_amount=0, shortfall_amount=shortfall,
                     entry_count=len(entries), triggered_by=triggered_by[:254])
    db.session.add(run)
    db.session.flush()  # the unique (collective, kind, period) key is claimed here
    entry_ids = ledger.post_entries(collective_id, entries)
    by_key = {e.idempotency_key: i for e, i in zip(entries, entry_ids, strict=True)}
    run.total_amount = sum(line["amount"] for line in lines
                           if line["kind"] in (RunLineKind.CONTRIBUTION, RunLineKind.SETTLED,
                                                  RunLineKind.BENEFIT))
    if lines:
        db.session.execute(sa.insert(RunLine), [
            {"run_id": run.id, "membership_id": line["membership_id"], "kind": line["kind"],
             "amount": line["amount"], "shortfall": line.get("shortfall", 0),
             "claim_id": line.get("claim_id"), "for_period": line.get("for_period"),
             "entry_id": by_key.get(line.get("key"))} for line in lines])
    db.session.flush()
    return run


def check_month_ended(period: date, today: date) -> date:
    """The month of `period`, or a DomainError if it has not ended by `today`."""
    period = month_start(period)
    if period >= month_start(today):
        raise DomainError(f"only a month that has ended can be run; {period:%B %Y} ends on "
                          f"{_period_end(period):%Y-%m-%d}", field="period")
    return period


def _start_run(collective_id: int, kind: RunKind, period: date, today: date, dry_run: bool
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


def _finish(collective_id: int, kind: RunKind, period: date, plan: BenefitPlan, *,
            entries: list[ledger.NewEntry], lines: list[dict], frame: pd.DataFrame,
            total: int, shortfall: int, dry_run: bool, triggered_by: str) -> RunResult:
    """The run's result, recorded unless it is dry."""
    outcome = RunResult(kind, period, dry_run, total=total, shortfall=shortfall,
                        entries=len(entries), lines=frame)
    if not dry_run:
        before = invariants.reserve_check(collective_id)
        outcome.run = _record_run(collective_id, kind, period, plan, entries, lines,
                                  shortfall, triggered_by)
        invariants.check_run(before, f"the {kind.value} run for {period:%B %Y}")
    return outcome


def run_contributions(collective_id: int, period: date, *, today: date, dry_run: bool = False,
                      triggered_by: str = "scheduler") -> RunResult:
    """Move each member's contribution for `period` from their payable into the fund.

    A member whose balance is short is recorded as owing; the December run also returns
    reserves above the plan's cap. Posts once per (collective, period), whatever happens.
    """
    kind = RunKind.CONTRIBUTIONS
    period, done, plan = _start_run(collective_id, kind, period, today, dry_run)
    if done is not None:
        return done
    terms = plan_terms(plan)
    members = members_frame(collective_id, period, terms)
    result = compute.contribution_run(members)
    result["name"] = members["name"].to_numpy()
    base = base_currency(collective_id)
    fund = ledger.account_by_code(collective_id, ledger.BENEFITS_FUND)
    payable = _payable_accounts(collective_id)
    entries, lines = [], []
    label = f"{period:%Y-%m}"
    for row in result.itertuples(index=False):
        amount = int(row.paid + row.settled)
        key = f"contribution:{label}:member:{row.membership_id}"
        if amount:
            entries.append(ledger.NewEntry(
                kind=EntryKind.CONTRIBUTION, occurred_on=_period_end(period), idempotency_key=key,
                memo=f"Benefits contribution {label}: {row.name}",
                lines=[ledger.Line(payable[row.membership_id], amount, base),
                       ledger.Line(fund.id, -amount, base)]))
        for line_kind, value in ((RunLineKind.CONTRIBUTION, row.paid),
                                 (RunLineKind.SETTLED, row.settled),
                                 (RunLineKind.OWED, row.owed)):
            if value:
                lines.append({"membership_id": int(row.membership_id), "kind": line_kind,
                              "amount": int(value), "key": key})
    if period.month == RETURN_MONTH and terms.contribution_kind != compute.EARNINGS_PCT:
        reserves = compute.reserves(run_lines_frame(collective_id))
        held = pd.DataFrame({"membership_id": members["membership_id"],
                             "reserve": members["membership_id"].map(reserves).fillna(0)
                             + result["paid"] + result["settled"],
                             "monthly": members["due"]})
        for row in compute.reserve_returns(held, terms.reserve_cap_months).itertuples():
            key = f"return:{period.year}:member:{row.membership_id}"
            entries.append(ledger.NewEntry(
                kind=EntryKind.CONTRIBUTION_RETURN, occurred_on=_period_end(period),
                idempotency_key=key, memo=f"Reserve above the cap returned, {period.year}",
                lines=[ledger.Line(fund.id, int(row.returned), base),
                       ledger.Line(payable[row.membership_id], -int(row.returned), base)]))
            lines.append({"membership_id": int(row.membership_id), "kind": RunLineKind.RETURN,
                          "amount": int(row.returned), "key": key})
    return _finish(collective_id, kind, period, plan, entries=entries, lines=lines,
                   frame=result, total=int((result["paid"] + result["settled"]).sum()),
                   shortfall=int(result["owed"].sum()), dry_run=dry_run,
                   triggered_by=triggered_by)


def _approved_claims(collective_id: int, period: date) -> pd.DataFrame:
    """Approved claims starting by `period`, each with its claimant's level in the month
    the illness began: the first month of the claim, or of the claim a relapse continues.
    That level is paid for every month of the claim, whenever the run, so a level chosen
    later, or a late catch-up run, never changes what the claim pays."""
    claims = db.session.execute(
        sa.select(Claim.id, Claim.membership_id, Claim.kind, Claim.start_period, Claim.months,
                  Claim.amount, Claim.ended_on, Claim.continues_id)
        .where(Claim.collective_id == collective_id,
               Claim.status == ClaimStatus.APPROVED.value, Claim.start_period <= period)
        .order_by(Claim.id)).all()
    frame = pd.DataFrame(claims, columns=["claim_id", "membership_id", "kind", "start_period",
                                          "months", "amount", "ended_on", "continues_id"])
    began = _illness_began(claims)
    levels = levels_at((row.membership_id, began[row.id]) for row in claims)
    frame["level"] = pd.Series([levels[(row.membership_id, began[row.id])] for row in claims],
                               dtype="int64", index=frame.index)
    return frame


def _illness_began(claims) -> dict[int, date]:
    """Each claim's first month of the illness: its own start, or for a relapse the start of
    the first claim in its chain (a continued claim starts earlier, so it is in `claims`)."""
    by_id = {row.id: row for row in claims}
    began = {}
    for row in claims:
        first = row
        while first.continues_id is not None and first.continues_id in by_id:
            first = by_id[first.continues_id]
        began[row.id] = first.start_period
    return began


def _donors(collective_id: int, period: date) -> pd.DataFrame:
    """Who a period's benefits are gifts from: the members who contributed that month,
    weighted by what they paid (so by their level, as in a bread fund)."""
    rows = db.session.execute(
        sa.select(RunLine.membership_id, sa.func.sum(RunLine.amount))
        .join(BenefitRun, BenefitRun.id == RunLine.run_id)
        .where(BenefitRun.collective_id == collective_id, BenefitRun.period == period,
               RunLine.kind == RunLineKind.CONTRIBUTION)
        .group_by(RunLine.membership_id).order_by(RunLine.membership_id)).all()
    return pd.DataFrame(rows, columns=["membership_id", "weight"]).astype({"weight": "int64"})


def run_payouts(collective_id: int, period: date, *, today: date, dry_run: bool = False,
                triggered_by: str = "scheduler") -> RunResult:
    """Pay approved claims due up to `period` from the fund into the claimants' payables.

    When the fund (above its minimum) cannot cover them all, each is cut pro rata and the
    shortfall is recorded on its line. Posts once per (collective, period).
    """
    kind = RunKind.PAYOUTS
    period, done, plan = _start_run(collective_id, kind, period, today, dry_run)
    if done is not None:
        return done
    terms = plan_terms(plan)
    paid_before = run_lines_frame(collective_id, (RunLineKind.BENEFIT,))
    due = compute.benefits_due(_approved_claims(collective_id, period),
                               paid_before[["claim_id", "for_period"]], terms, period)
    available = fund_balance(collective_id) - terms.min_fund_balance
    paid, short = compute.cut_to_fund(due["amount"].tolist(), available,
                                      seed=compute.period_seed(period))
    due["paid"], due["shortfall"] = paid, short
    base = base_currency(collective_id)
    fund = ledger.account_by_code(collective_id, ledger.BENEFITS_FUND)
    payable = _payable_accounts(collective_id)
    entries, lines = [], []
    for row in due.itertuples(index=False):
        key = f"benefit:{row.claim_id}:{row.for_period:%Y-%m}"
        if row.paid:
            entries.append(ledger.NewEntry(
                kind=EntryKind.BENEFIT, occurred_on=_period_end(period), idempotency_key=key,
                memo=f"{BenefitKind(row.kind).label.capitalize()} benefit for "
                     f"{row.for_period:%B %Y} (claim {row.claim_id})",
                lines=[ledger.Line(fund.id, int(row.paid), base),
                       ledger.Line(payable[row.membership_id], -int(row.paid), base)]))
        lines.append({"membership_id": int(row.membership_id), "kind": RunLineKind.BENEFIT,
                      "amount": int(row.paid), "shortfall": int(row.shortfall),
                      "claim_id": int(row.claim_id), "for_period": row.for_period, "key": key})
    donors = _donors(collective_id, period)
    benefit_rows = due[["claim_id", "membership_id", "for_period", "paid"]]
    for gift in compute.gifts(benefit_rows, donors).itertuples(index=False):
        lines.append({"membership_id": int(gift.membership_id), "kind": RunLineKind.GIFT,
                      "amount": int(gift.amount), "claim_id": int(gift.claim_id)})
    return _finish(collective_id, kind, period, plan, entries=entries, lines=lines,
                   frame=due, total=int(due["paid"].sum()),
                   shortfall=int(due["shortfall"].sum()), dry_run=dry_run,
                   triggered_by=triggered_by)


def run(collective_id: int, kind: RunKind | str, period: date, *, today: date,
        dry_run: bool = False, triggered_by: str = "scheduler") -> RunResult:
    """Run one kind of run for one period (refused while the month has not ended)."""
    kind = RunKind(kind)
    runner = run_contributions if kind == RunKind.CONTRIBUTIONS else run_payouts
    return runner(collective_id, period, today=today, dry_run=dry_run,
                  triggered_by=triggered_by)


def due_periods(collective_id: int, today: date) -> list[tuple[RunKind, date]]:
    """Runs not yet done, in order: every month from the first plan to last month, each
    month's contributions before its payouts."""
    start = first_period(collective_id)
    if start is None:
        return []
    done = set(db.session.execute(
        sa.select(BenefitRun.kind, BenefitRun.period).filter_by(collective_id=collective_id)
    ).all())
    last = add_months(month_start(today), -1)
    due = []
    period = start
    while period <= last:
        for kind in (RunKind.CONTRIBUTIONS, RunKind.PAYOUTS):
            if (kind.value, period) not in done:
                due.append((kind, period))
        period = add_months(period, 1)
    return due
