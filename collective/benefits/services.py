"""The mutual fund's operations: plans, levels, claims, and the scheduled runs.

Services flush and never commit: the job, the command or the request commits once, so a
run, its journal entries and its lines land together or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from collective.benefits import compute
from collective.benefits.compute import PlanError, PlanTerms, add_months, month_start
from collective.benefits.models import (
    BenefitKind,
    BenefitPlan,
    BenefitRun,
    Claim,
    ClaimEvent,
    ClaimStatus,
    MemberLevel,
    RunKind,
    RunLine,
)
from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db, utcnow
from collective.ledger import services as ledger
from collective.ledger.models import Account, JournalEntry, Posting
from collective.members.models import (
    Collective,
    Membership,
    MembershipStatus,
    Proposal,
    ProposalStatus,
    Role,
    User,
)
from collective.members.proposals import open_proposal, register_adopter, withdraw_proposal
from collective.members.services import base_currency, require_role
from collective.money import MAX_MINOR_UNITS, format_money
from collective.pool.queries import member_earnings

BENEFIT_PLAN = "benefit_plan"
BENEFIT_CLAIM = "benefit_claim"
TREASURER = Role.TREASURER
#: The month whose contribution run also gives back reserves above the cap.
RETURN_MONTH = 12


def _plan_error(exc: PlanError) -> DomainError:
    return DomainError(str(exc), field=exc.field)


# --- Plans --------------------------------------------------------------------------------


def plan_terms(plan: BenefitPlan) -> PlanTerms:
    """The checked terms of a stored plan."""
    return PlanTerms.from_json(plan.terms)


def plan_in_force(collective_id: int, on: date) -> BenefitPlan | None:
    """The plan that governs the month of `on`."""
    return db.session.scalar(
        sa.select(BenefitPlan)
        .where(BenefitPlan.collective_id == collective_id,
               BenefitPlan.effective_on <= on)
        .order_by(BenefitPlan.effective_on.desc(), BenefitPlan.version.desc()).limit(1))


def plans_of(collective_id: int) -> list[BenefitPlan]:
    """Every plan version, newest first."""
    return list(db.session.scalars(
        sa.select(BenefitPlan).filter_by(collective_id=collective_id)
        .order_by(BenefitPlan.version.desc())))


def _add_plan(collective_id: int, terms: PlanTerms, effective_on: date,
              proposal_id: int | None) -> BenefitPlan:
    version = (db.session.scalar(sa.select(sa.func.max(BenefitPlan.version))
                                 .filter_by(collective_id=collective_id)) or 0) + 1
    plan = BenefitPlan(collective_id=collective_id, version=version,
                       effective_on=month_start(effective_on), terms=terms.to_json(),
                       proposal_id=proposal_id)
    db.session.add(plan)
    db.session.flush()
    return plan


def check_terms(data: dict) -> PlanTerms:
    """Plan terms from JSON, or a DomainError naming the part at fault."""
    try:
        return PlanTerms.from_json(data)
    except PlanError as exc:
        raise _plan_error(exc) from exc


def _check_plan_month(effective_on: date, today: date | None = None) -> date:
    """A plan starts within a year back (a fund catching up its books) or two years ahead."""
    this_month = month_start(today or date.today())
    month = month_start(effective_on)
    if not add_months(this_month, -12) <= month <= add_months(this_month, 24):
        raise DomainError("a plan starts at most a year back or two years ahead",
                          field="effective_on")
    return month


def set_founding_plan(actor: Membership, terms: PlanTerms, effective_on: date,
                      today: date | None = None) -> BenefitPlan:
    """The plan the fund starts with; every later change goes to a vote."""
    require_role(actor, TREASURER, action="set the founding benefit plan")
    if plans_of(actor.collective_id):
        raise Conflict("the fund already has a plan; propose a change instead")
    effective_on = _check_plan_month(effective_on, today)
    return _add_plan(actor.collective_id, terms, effective_on, None)


def propose_plan(actor: Membership, terms: PlanTerms, *, effective_on: date, title: str = "",
                 description: str = "", deadline_at: datetime | None = None,
                 now: datetime | None = None) -> Proposal:
    """Put a new benefit plan to the members' vote."""
    require_role(actor, TREASURER, action="propose benefit plans")
    _check_plan_month(effective_on, (now or utcnow()).date())
    payload = {"terms": terms.to_json(), "effective_on": month_start(effective_on).isoformat()}
    return open_proposal(actor, kind=BENEFIT_PLAN, title=title or "A new benefit plan",
                         payload=payload, description=description, deadline_at=deadline_at,
                         now=now)


def adopt_plan(proposal: Proposal, decided_on: date) -> None:
    """Adopter for plan proposals: in force from its month or the next month after the vote."""
    terms = PlanTerms.from_json(proposal.payload["terms"])
    effective_on = max(date.fromisoformat(proposal.payload["effective_on"]),
                       add_months(month_start(decided_on), 1))
    _add_plan(proposal.collective_id, terms, effective_on, proposal.id)


register_adopter(BENEFIT_PLAN, adopt_plan)


# --- Levels -------------------------------------------------------------------------------


def level_of(membership_id: int, period: date) -> int:
    """The monthly benefit level a member chose for `period` (0 if never chosen)."""
    return db.session.scalar(
        sa.select(MemberLevel.benefit_amount)
        .where(MemberLevel.membership_id == membership_id, MemberLevel.from_period <= period)
        .order_by(MemberLevel.from_period.desc()).limit(1)) or 0


def levels_for(collective_id: int, period: date) -> dict[int, int]:
    """Every member's level for `period` in one query."""
    latest = (sa.select(MemberLevel.membership_id,
                        sa.func.max(MemberLevel.from_period).label("from_period"))
              .join(Membership, Membership.id == MemberLevel.membership_id)
              .where(Membership.collective_id == collective_id,
                     MemberLevel.from_period <= period)
              .group_by(MemberLevel.membership_id).subquery())
    rows = db.session.execute(
        sa.select(MemberLevel.membership_id, MemberLevel.benefit_amount)
        .join(latest, sa.and_(latest.c.membership_id == MemberLevel.membership_id,
                              latest.c.from_period == MemberLevel.from_period))).all()
    return dict(rows)


def choose_level(actor: Membership, benefit_amount: int, today: date | None = None
                 ) -> MemberLevel:
    """Choose one's monthly benefit level, from next month; at most once per allowed period."""
    today = today or date.today()
    next_period = add_months(month_start(today), 1)
    plan = plan_in_force(actor.collective_id, next_period)
    if plan is None:
        raise DomainError("the fund has no plan yet", field="level")
    terms = plan_terms(plan)
    if terms.contribution_kind != compute.LEVELS:
        raise DomainError("this plan has no levels to choose from", field="level")
    if benefit_amount not in dict(terms.levels):
        raise DomainError("choose one of the plan's levels", field="level")
    last = db.session.scalar(
        sa.select(MemberLevel).filter_by(membership_id=actor.id)
        .order_by(MemberLevel.from_period.desc()).limit(1))
    if last is not None and last.from_period >= next_period:
        last.benefit_amount = benefit_amount  # a change of mind before it starts
        db.session.flush()
        return last
    if last is not None and terms.level_change_months:
        earliest = add_months(last.from_period, terms.level_change_months)
        if next_period < earliest:
            raise DomainError(f"levels can change once every {terms.level_change_months} "
                              f"months; your next change can start {earliest:%B %Y}",
                              field="level")
    level = MemberLevel(membership_id=actor.id, benefit_amount=benefit_amount,
                        from_period=next_period)
    db.session.add(level)
    db.session.flush()
    return level


# --- Claims -------------------------------------------------------------------------------


def _contributed_months(membership_id: int, before: date) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(BenefitRun.period)))
        .join(RunLine, RunLine.run_id == BenefitRun.id)
        .where(RunLine.membership_id == membership_id,
               RunLine.kind.in_(["contribution", "settled"]), BenefitRun.period < before)) or 0


def file_claim(
    actor: Membership,
    *,
    kind: BenefitKind | str,
    start_period: date,
    months: int = 1,
    amount: int = 0,
    invoice_amount: int = 0,
    note: str = "",
    today: date | None = None,
    now: datetime | None = None,
) -> Claim:
    """File a claim; the plan's rules are checked now, with a message for each refusal."""
    today = today or date.today()
    if actor.status == MembershipStatus.REMOVED:
        raise NotFound("no such member")
    try:
        kind = BenefitKind(kind)
    except ValueError as exc:
        raise DomainError(f"{kind!r} is not a kind of benefit", field="kind") from exc
    start_period = month_start(start_period)
    plan = plan_in_force(actor.collective_id, start_period)
    if plan is None:
        raise DomainError("the fund has no plan for that month", field="start_period")
    terms = plan_terms(plan)
    rule = terms.rule(kind.value)
    if rule is None:
        raise DomainError(f"the plan does not cover {kind.label}", field="kind")
    this_month = month_start(today)
    if start_period < add_months(this_month, -3):
        raise DomainError("a claim can start at most three months back", field="start_period")
    if start_period > add_months(this_month, 12):
        raise DomainError("a claim can start at most a year ahead", field="start_period")
    contributed = _contributed_months(actor.id, start_period)
    if contributed < terms.eligibility_months:
        raise DomainError(f"claims need {terms.eligibility_months} month(s) of contributions "
                          f"before they start; you have {contributed}", field="start_period")
    if rule.is_monthly:
        if isinstance(months, bool) or not isinstance(months, int) or months < 1:
            raise DomainError("a claim covers at least one month", field="months")
        if months > rule.max_months:
            raise DomainError(f"{kind.label} is paid for at most {rule.max_months} months",
                              field="months")
        if months <= rule.waiting_months:
            raise DomainError(f"the first {rule.waiting_months} month(s) of {kind.label} are "
                              "a waiting period, so this claim would pay nothing",
                              field="months")
        end = add_months(start_period, months)
        for other in _open_claims(actor.id, kind):
            if other.start_period < end and start_period < add_months(other.start_period,
                                                                      other.months):
                raise DomainError(f"you already have a {kind.label} claim for those months",
                                  field="start_period")
        amount = 0
    else:
        months = 1
        start_period = max(start_period, this_month)
        if kind == BenefitKind.UNPAID_INVOICE:
            if not isinstance(invoice_amount, int) or not 0 < invoice_amount <= MAX_MINOR_UNITS:
                raise DomainError("give the unpaid invoice's amount", field="invoice_amount")
            amount = min(invoice_amount * rule.invoice_bp // 10_000, int(rule.amount))
        elif not isinstance(amount, int) or not 0 < amount <= int(rule.amount):
            cap = format_money(int(rule.amount), actor.collective.base_currency)
            raise DomainError(f"{kind.label} pays at most {cap}",
                              field="amount")
        if rule.per_year:
            year = start_period.year
            used = sum(1 for c in _open_claims(actor.id, kind)
                       if c.start_period.year == year)
            if used >= rule.per_year:
                raise DomainError(f"{kind.label} can be claimed {rule.per_year} time(s) a "
                                  "year", field="kind")
    claim = Claim(collective_id=actor.collective_id, membership_id=actor.id, kind=kind.value,
                  start_period=start_period, months=months, amount=amount,
                  invoice_amount=invoice_amount or 0, note=(note or "")[:2000],
                  status=ClaimStatus.PENDING.value)
    db.session.add(claim)
    db.session.flush()
    db.session.add(ClaimEvent(claim_id=claim.id, status=claim.status, actor_id=actor.id,
                              note="filed", at=now or utcnow()))
    if rule.approval == "vote":
        proposal = open_proposal(
            actor, kind=BENEFIT_CLAIM, title=f"{kind.label.capitalize()} for "
            f"{actor.user.name}: {format_money(amount, actor.collective.base_currency)}",
            payload={"claim_id": claim.id},
            description=note or "", now=now)
        claim.proposal_id = proposal.id
    db.session.flush()
    return claim


def _open_claims(membership_id: int, kind: BenefitKind) -> list[Claim]:
    return list(db.session.scalars(sa.select(Claim).where(
        Claim.membership_id == membership_id, Claim.kind == kind.value,
        Claim.status.in_([ClaimStatus.PENDING.value, ClaimStatus.APPROVED.value]))))


def get_claim(collective_id: int, claim_id: int) -> Claim:
    """A claim of this collective, or NotFound."""
    claim = db.session.get(Claim, claim_id)
    if claim is None or claim.collective_id != collective_id:
        raise NotFound("no such claim in this collective")
    return claim


def _set_status(claim: Claim, status: ClaimStatus, actor_id: int | None, reason: str,
                now: datetime | None = None) -> None:
    """Move a pending claim to `status`, by a conditional UPDATE: of two treasurers
    deciding at once, or a decision racing a withdrawal, exactly one wins."""
    moved = db.session.execute(
        sa.update(Claim)
        .where(Claim.id == claim.id, Claim.status == ClaimStatus.PENDING.value)
        .values(status=status.value, decision_reason=reason[:1000], decided_by_id=actor_id)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        db.session.expire(claim)
        raise Conflict("this claim was decided by someone else meanwhile; reload the page",
                       field="reason")
    db.session.add(ClaimEvent(claim_id=claim.id, status=status.value, actor_id=actor_id,
                              note=reason[:1000], at=now or utcnow()))
    db.session.flush()
    db.session.expire(claim)


def decide_claim(actor: Membership, claim: Claim, *, approve: bool, reason: str,
                 now: datetime | None = None) -> Claim:
    """A treasurer (never the claimant) approves or rejects a pending claim, with a reason."""
    require_role(actor, TREASURER, action="decide claims")
    if claim.collective_id != actor.collective_id:
        raise NotFound("no such claim in this collective")
    if claim.membership_id == actor.id:
        raise DomainError("you cannot decide your own claim; another treasurer must",
                          field="reason")
    if claim.proposal_id is not None:
        raise DomainError("this claim is decided by the members' vote", field="reason")
    if claim.status != ClaimStatus.PENDING:
        raise DomainError(f"this claim is already {claim.status}", field="reason")
    if not (reason or "").strip():
        raise DomainError("give a reason the claimant will read", field="reason")
    _set_status(claim, ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED, actor.id,
                reason.strip(), now)
    return claim


def withdraw_claim(actor: Membership, claim: Claim) -> Claim:
    """The claimant takes back a pending claim."""
    if claim.membership_id != actor.id:
        raise NotFound("no such claim of yours")
    if claim.status != ClaimStatus.PENDING:
        raise DomainError("only a pending claim can be withdrawn")
    _set_status(claim, ClaimStatus.WITHDRAWN, actor.id, "withdrawn by the claimant")
    if claim.proposal_id is not None:
        proposal = db.session.get(Proposal, claim.proposal_id)
        if proposal.status == ProposalStatus.OPEN:
            withdraw_proposal(actor, proposal)
    return claim


def _decide_by_vote(proposal: Proposal, status: ClaimStatus, words: str) -> None:
    """Apply a vote's outcome to its claim, if the claim is still waiting for it."""
    claim = db.session.get(Claim, proposal.payload["claim_id"])
    if claim is not None and claim.status == ClaimStatus.PENDING:
        _set_status(claim, status, None, f"{words} by vote: {proposal.outcome}")


register_adopter(
    BENEFIT_CLAIM,
    lambda proposal, _day: _decide_by_vote(proposal, ClaimStatus.APPROVED, "approved"),
    lambda proposal: _decide_by_vote(proposal, ClaimStatus.REJECTED, "not approved"),
)


def claims_of(collective_id: int, membership_id: int | None = None,
              status: ClaimStatus | None = None) -> list[Claim]:
    """Claims, newest first."""
    query = sa.select(Claim).filter_by(collective_id=collective_id)
    if membership_id is not None:
        query = query.filter_by(membership_id=membership_id)
    if status is not None:
        query = query.filter_by(status=status.value)
    return list(db.session.scalars(query.order_by(Claim.id.desc())))


# --- Runs -----------------------------------------------------------------------------------


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


def _existing_run(collective_id: int, kind: RunKind, period: date) -> BenefitRun | None:
    return db.session.scalar(sa.select(BenefitRun).filter_by(
        collective_id=collective_id, kind=kind.value, period=period))


def _members_frame(collective_id: int, period: date, terms: PlanTerms) -> pd.DataFrame:
    """Fund members of a period (active or paused): level, earnings, due, balance, arrears."""
    base = base_currency(collective_id)
    rows = db.session.execute(
        sa.select(Membership.id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.collective_id == collective_id,
               Membership.status != MembershipStatus.REMOVED.value,
               Membership.joined_at < datetime.combine(add_months(period, 1),
                                                       datetime.min.time(), tzinfo=UTC))
        .order_by(Membership.id)).all()
    frame = pd.DataFrame(rows, columns=["membership_id", "name"])
    levels = levels_for(collective_id, period)
    frame["level"] = frame["membership_id"].map(levels).fillna(0).astype("int64")
    earnings = member_earnings(collective_id, since=period,
                               until=add_months(period, 1) - timedelta(days=1))
    frame["earnings"] = frame["membership_id"].map(
        earnings.set_index("membership_id")["earned"]).fillna(0).astype("int64")
    frame["due"] = compute.contributions_due(terms, frame)
    balances = {m: owed for m, (_, owed) in ledger.member_balances(collective_id, base).items()}
    frame["available"] = frame["membership_id"].map(balances).fillna(0).astype("int64")
    frame["arrears"] = frame["membership_id"].map(arrears(collective_id)).fillna(0
                                                                                ).astype("int64")
    return frame


def arrears(collective_id: int) -> dict[int, int]:
    """Contributions each member still owes (owed minus settled)."""
    sign = sa.case((RunLine.kind == "owed", RunLine.amount), else_=-RunLine.amount)
    rows = db.session.execute(
        sa.select(RunLine.membership_id, sa.func.sum(sign))
        .join(BenefitRun, BenefitRun.id == RunLine.run_id)
        .where(BenefitRun.collective_id == collective_id,
               RunLine.kind.in_(["owed", "settled"]))
        .group_by(RunLine.membership_id)).all()
    return {m: int(v) for m, v in rows if v and int(v) > 0}


def run_lines_frame(collective_id: int, kinds: tuple[str, ...] | None = None,
                    membership_id: int | None = None) -> pd.DataFrame:
    """Run lines of the collective (or one member): membership_id, kind, amount, period,
    claim_id, for_period, shortfall."""
    query = (sa.select(RunLine.membership_id, RunLine.kind, RunLine.amount, BenefitRun.period,
                       RunLine.claim_id, RunLine.for_period, RunLine.shortfall)
             .join(BenefitRun, BenefitRun.id == RunLine.run_id)
             .where(BenefitRun.collective_id == collective_id))
    if kinds:
        query = query.where(RunLine.kind.in_(kinds))
    if membership_id is not None:
        query = query.where(RunLine.membership_id == membership_id)
    frame = pd.DataFrame(db.session.execute(query).all(),
                         columns=["membership_id", "kind", "amount", "period", "claim_id",
                                  "for_period", "shortfall"])
    return frame.astype({"amount": "int64", "shortfall": "int64"})


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
                           if line["kind"] in ("contribution", "settled", "benefit"))
    if lines:
        db.session.execute(sa.insert(RunLine), [
            {"run_id": run.id, "membership_id": line["membership_id"], "kind": line["kind"],
             "amount": line["amount"], "shortfall": line.get("shortfall", 0),
             "claim_id": line.get("claim_id"), "for_period": line.get("for_period"),
             "entry_id": by_key.get(line.get("key"))} for line in lines])
    db.session.flush()
    return run


def _start_run(collective_id: int, kind: RunKind, period: date, dry_run: bool
               ) -> tuple[date, RunResult | None, BenefitPlan | None]:
    """Take the collective's run lock, then say whether there is anything to do: the
    result already (done before, or no plan) or the plan to run under."""
    period = month_start(period)
    if not dry_run:
        # The same lock as payouts to members: a run and a payout never read the same
        # balances at once.
        ledger.lock_balances(collective_id)
    existing = _existing_run(collective_id, kind, period)
    if existing is not None:
        return period, RunResult(kind, period, dry_run, already_done=True, run=existing,
                                 total=existing.total_amount), None
    plan = plan_in_force(collective_id, period)
    if plan is None:
        return period, RunResult(kind, period, dry_run,
                                 skipped="the fund had no plan for this month"), None
    return period, None, plan


def run_contributions(collective_id: int, period: date, *, dry_run: bool = False,
                      triggered_by: str = "scheduler") -> RunResult:
    """Move each member's contribution for `period` from their payable into the fund.

    A member whose balance is short is recorded as owing; the December run also returns
    reserves above the plan's cap. Posts once per (collective, period), whatever happens.
    """
    kind = RunKind.CONTRIBUTIONS
    period, done, plan = _start_run(collective_id, kind, period, dry_run)
    if done is not None:
        return done
    terms = plan_terms(plan)
    members = _members_frame(collective_id, period, terms)
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
                kind="contribution", occurred_on=_period_end(period), idempotency_key=key,
                memo=f"Benefits contribution {label}: {row.name}",
                lines=[ledger.Line(payable[row.membership_id], amount, base),
                       ledger.Line(fund.id, -amount, base)]))
        for line_kind, value in (("contribution", row.paid), ("settled", row.settled),
                                 ("owed", row.owed)):
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
                kind="contribution-return", occurred_on=_period_end(period),
                idempotency_key=key, memo=f"Reserve above the cap returned, {period.year}",
                lines=[ledger.Line(fund.id, int(row.returned), base),
                       ledger.Line(payable[row.membership_id], -int(row.returned), base)]))
            lines.append({"membership_id": int(row.membership_id), "kind": "return",
                          "amount": int(row.returned), "key": key})
    owed = int(result["owed"].sum())
    outcome = RunResult(kind, period, dry_run, total=int((result["paid"]
                                                          + result["settled"]).sum()),
                        shortfall=owed, entries=len(entries), lines=result)
    if not dry_run:
        outcome.run = _record_run(collective_id, kind, period, plan, entries, lines, owed,
                                  triggered_by)
    return outcome


def _period_end(period: date) -> date:
    return add_months(period, 1) - timedelta(days=1)


def _payable_accounts(collective_id: int) -> dict[int, int]:
    return dict(db.session.execute(
        sa.select(Account.membership_id, Account.id)
        .where(Account.collective_id == collective_id, Account.membership_id.is_not(None))
    ).all())


def fund_balance(collective_id: int, as_of: date | None = None) -> int:
    """What the benefits fund holds, in base minor units (from the ledger)."""
    fund = ledger.account_by_code(collective_id, ledger.BENEFITS_FUND)
    base = base_currency(collective_id)
    return -ledger.account_balance(fund.id, as_of).get(base, 0)


def _approved_claims(collective_id: int, period: date) -> pd.DataFrame:
    claims = db.session.execute(
        sa.select(Claim.id, Claim.membership_id, Claim.kind, Claim.start_period, Claim.months,
                  Claim.amount)
        .where(Claim.collective_id == collective_id,
               Claim.status == ClaimStatus.APPROVED.value, Claim.start_period <= period)
        .order_by(Claim.id)).all()
    frame = pd.DataFrame(claims, columns=["claim_id", "membership_id", "kind", "start_period",
                                          "months", "amount"])
    levels = levels_for(collective_id, period)
    frame["level"] = frame["membership_id"].map(levels).fillna(0).astype("int64")
    return frame


def run_payouts(collective_id: int, period: date, *, dry_run: bool = False,
                triggered_by: str = "scheduler") -> RunResult:
    """Pay approved claims due up to `period` from the fund into the claimants' payables.

    When the fund (above its minimum) cannot cover them all, each is cut pro rata and the
    shortfall is recorded on its line. Posts once per (collective, period).
    """
    kind = RunKind.PAYOUTS
    period, done, plan = _start_run(collective_id, kind, period, dry_run)
    if done is not None:
        return done
    terms = plan_terms(plan)
    paid_before = run_lines_frame(collective_id, ("benefit",))
    due = compute.benefits_due(_approved_claims(collective_id, period),
                               paid_before[["claim_id", "for_period"]], terms, period)
    available = fund_balance(collective_id) - terms.min_fund_balance
    paid, short = compute.cut_to_fund(due["amount"].tolist(), available)
    due["paid"], due["shortfall"] = paid, short
    base = base_currency(collective_id)
    fund = ledger.account_by_code(collective_id, ledger.BENEFITS_FUND)
    payable = _payable_accounts(collective_id)
    entries, lines = [], []
    for row in due.itertuples(index=False):
        key = f"benefit:{row.claim_id}:{row.for_period:%Y-%m}"
        if row.paid:
            entries.append(ledger.NewEntry(
                kind="benefit", occurred_on=_period_end(period), idempotency_key=key,
                memo=f"{BenefitKind(row.kind).label.capitalize()} benefit for "
                     f"{row.for_period:%B %Y} (claim {row.claim_id})",
                lines=[ledger.Line(fund.id, int(row.paid), base),
                       ledger.Line(payable[row.membership_id], -int(row.paid), base)]))
        lines.append({"membership_id": int(row.membership_id), "kind": "benefit",
                      "amount": int(row.paid), "shortfall": int(row.shortfall),
                      "claim_id": int(row.claim_id), "for_period": row.for_period, "key": key})
    donors = _donors(collective_id, period)
    benefit_rows = due[["claim_id", "membership_id", "paid"]]
    for gift in compute.gifts(benefit_rows, donors).itertuples(index=False):
        lines.append({"membership_id": int(gift.membership_id), "kind": "gift",
                      "amount": int(gift.amount), "claim_id": int(gift.claim_id)})
    shortfall = int(due["shortfall"].sum())
    outcome = RunResult(kind, period, dry_run, total=int(due["paid"].sum()),
                        shortfall=shortfall, entries=len(entries), lines=due)
    if not dry_run:
        outcome.run = _record_run(collective_id, kind, period, plan, entries, lines,
                                  shortfall, triggered_by)
    return outcome


def _donors(collective_id: int, period: date) -> pd.DataFrame:
    """Who a period's benefits are gifts from: the members who contributed that month,
    weighted by what they paid (so by their level, as in a bread fund)."""
    rows = db.session.execute(
        sa.select(RunLine.membership_id, sa.func.sum(RunLine.amount))
        .join(BenefitRun, BenefitRun.id == RunLine.run_id)
        .where(BenefitRun.collective_id == collective_id, BenefitRun.period == period,
               RunLine.kind == "contribution")
        .group_by(RunLine.membership_id).order_by(RunLine.membership_id)).all()
    return pd.DataFrame(rows, columns=["membership_id", "weight"]).astype({"weight": "int64"})


def first_period(collective_id: int) -> date | None:
    """The first month the fund had a plan."""
    start = db.session.scalar(sa.select(sa.func.min(BenefitPlan.effective_on))
                              .filter_by(collective_id=collective_id))
    return month_start(start) if start else None


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


def run(collective_id: int, kind: RunKind | str, period: date, *, dry_run: bool = False,
        triggered_by: str = "scheduler") -> RunResult:
    """Run one kind of run for one period."""
    kind = RunKind(kind)
    runner = run_contributions if kind == RunKind.CONTRIBUTIONS else run_payouts
    return runner(collective_id, period, dry_run=dry_run, triggered_by=triggered_by)


def runs_of(collective_id: int, limit: int = 24) -> list[BenefitRun]:
    """The latest runs, newest first."""
    return list(db.session.scalars(
        sa.select(BenefitRun).filter_by(collective_id=collective_id)
        .order_by(BenefitRun.period.desc(), BenefitRun.kind).limit(limit)))


def collectives_with_plans() -> list[tuple[int, str]]:
    """(id, slug) of every live collective that has a benefit plan."""
    return list(db.session.execute(
        sa.select(Collective.id, Collective.slug)
        .where(Collective.archived_at.is_(None),
               Collective.id.in_(sa.select(BenefitPlan.collective_id)))
        .order_by(Collective.id)).all())


# --- What members and treasurers see ------------------------------------------------------


@dataclass(frozen=True)
class MemberFund:
    """A member's view of the fund."""

    level: int
    contribution: int
    contributed: int
    received: int
    reserve: int
    reserve_cap: int
    owed: int
    if_ill: int
    waiting_months: int
    max_months: int


def member_fund(membership: Membership, today: date | None = None) -> MemberFund | None:
    """Level, contributions, benefits received, reserve, and what falling ill would pay."""
    today = today or date.today()
    period = month_start(today)
    plan = plan_in_force(membership.collective_id, period)
    if plan is None:
        return None
    terms = plan_terms(plan)
    mine = run_lines_frame(membership.collective_id, membership_id=membership.id)
    level = terms.effective_level(level_of(membership.id, period))
    frame = pd.DataFrame({"membership_id": [membership.id], "level": [level],
                          "earnings": [0]})
    contribution = int(compute.contributions_due(terms, frame).iloc[0])
    reserve = int(compute.reserves(mine).get(membership.id, 0)) if not mine.empty else 0
    sick = terms.rule("sick")
    if_ill = 0
    if sick is not None:
        if_ill = level if sick.amount == "level" else int(sick.amount)
    total = lambda kinds: int(mine.loc[mine["kind"].isin(kinds), "amount"].sum())  # noqa: E731
    return MemberFund(level=level, contribution=contribution,
                      contributed=total(["contribution", "settled"]),
                      received=total(["benefit"]), reserve=reserve,
                      reserve_cap=contribution * terms.reserve_cap_months,
                      owed=arrears(membership.collective_id).get(membership.id, 0),
                      if_ill=if_ill, waiting_months=sick.waiting_months if sick else 0,
                      max_months=sick.max_months if sick else 0)


def owing(collective_id: int) -> pd.DataFrame:
    """Members who owe contributions: membership_id, name, owed."""
    owed = arrears(collective_id)
    names = dict(db.session.execute(
        sa.select(Membership.id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.id.in_(list(owed) or [0]))).all())
    return pd.DataFrame([(m, names.get(m, "?"), v) for m, v in sorted(owed.items())],
                        columns=["membership_id", "name", "owed"])


def fund_months(collective_id: int) -> pd.DataFrame:
    """Per month: contributions in, benefits out, returns, and the fund balance at the end."""
    fund = ledger.account_by_code(collective_id, ledger.BENEFITS_FUND)
    rows = db.session.execute(
        sa.select(JournalEntry.occurred_on, JournalEntry.kind, Posting.amount)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(Posting.account_id == fund.id)).all()
    frame = pd.DataFrame(rows, columns=["day", "kind", "amount"])
    if frame.empty:
        return pd.DataFrame(columns=["month", "contributions", "payouts", "other", "balance"])
    frame["amount"] = -frame["amount"].astype("int64")
    frame["month"] = pd.to_datetime(frame["day"]).dt.to_period("M")
    frame["column"] = frame["kind"].map({"contribution": "contributions",
                                         "benefit": "payouts"}).fillna("other")
    table = frame.pivot_table(index="month", columns="column", values="amount",
                              aggfunc="sum", fill_value=0)
    table = table.reindex(columns=["contributions", "payouts", "other"], fill_value=0)
    every = pd.period_range(table.index.min(), table.index.max(), freq="M")
    table = table.reindex(every, fill_value=0).astype("int64")
    table["payouts"] = -table["payouts"]
    table["balance"] = (table["contributions"] - table["payouts"] + table["other"]).cumsum()
    table.index = table.index.strftime("%Y-%m")
    return table.rename_axis("month").reset_index()


def forecast(collective_id: int, assumptions: compute.ForecastAssumptions | None = None
             ) -> dict | None:
    """The sustainability forecast of the fund, with the assumptions it used."""
    assumptions = assumptions or compute.ForecastAssumptions()
    today = date.today()
    plan = plan_in_force(collective_id, month_start(today))
    if plan is None:
        return None
    terms = plan_terms(plan)
    members = _members_frame(collective_id, month_start(today), terms)
    sick = terms.rule("sick")
    levels = members["level"].where(members["level"] > 0, terms.lowest_level)
    if sick is not None and sick.amount != "level":
        levels = pd.Series(int(sick.amount), index=members.index)
    result = compute.forecast_months(
        fund_balance(collective_id), levels.tolist(), members["due"].tolist(),
        sick.waiting_months if sick else 1, sick.max_months if sick else 24, assumptions)
    return {**result, "assumptions": assumptions, "members": len(members),
            "monthly_in": int(members["due"].sum()), "fund": fund_balance(collective_id)}
