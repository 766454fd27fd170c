"""A month's payout run: benefits from the fund into the claimants' payables, each one gifts
from that month's donors' reserves.

Order within a run: first what earlier months still owe (their shortfalls, oldest first),
then the month's new benefits, as far as the fund (above its minimum) allows; whatever it
cannot pay is cut pro rata and stays owed to the claimant for a later month. A benefit with
no donor besides its claimant is not paid that month (nobody gave towards it) and is owed
too. A gift never takes a donor's reserve below zero: the plan's `gift_shortfall` says
whether the donor owes the fund the difference or the other donors cover it.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa

from collective.benefits import compute, reserve_sums
from collective.benefits.models import (
    BenefitKind,
    BenefitRun,
    Claim,
    ClaimStatus,
    RunKind,
    RunLine,
    RunLineKind,
)
from collective.benefits.plans import levels_at, plan_terms
from collective.benefits.queries import benefits_owed, fund_balance, run_lines_frame
from collective.benefits.receivables import open_receivables, receivable_accounts
from collective.benefits.run_steps import (
    Posting,
    RunResult,
    finish,
    payable_accounts,
    period_end,
    start_run,
)
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind
from collective.members.services import base_currency

if TYPE_CHECKING:
    import pandas as pd

_COLUMNS = ["claim_id", "membership_id", "kind", "for_period", "amount"]


def run_payouts(collective_id: int, period: date, *, today: date, dry_run: bool = False,
                triggered_by: str = "scheduler") -> RunResult:
    """Pay what earlier months still owe, then the approved claims due up to `period`, from
    the fund into the claimants' payables. Posts once per (collective, period)."""
    import numpy as np
    import pandas as pd
    kind = RunKind.PAYOUTS
    period, done, plan = start_run(collective_id, kind, period, today, dry_run)
    if done is not None:
        return done
    terms = plan_terms(plan)
    paid_before = run_lines_frame(collective_id, (RunLineKind.BENEFIT,))
    new = compute.benefits_due(_approved_claims(collective_id, period),
                               paid_before[["claim_id", "for_period"]], terms, period)
    owed = benefits_owed(collective_id)[_COLUMNS]
    due = pd.concat([owed.assign(makeup=True), new.assign(makeup=False)], ignore_index=True)
    due["amount"] = due["amount"].astype("int64")
    donors = _donors(collective_id, period)
    reserves = reserve_sums.reserves(run_lines_frame(collective_id))
    donors["room"] = donors["membership_id"].map(reserves).fillna(0).astype("int64")
    # A benefit is paid only when someone besides its claimant gave that month.
    givers = set(donors.loc[donors["weight"] > 0, "membership_id"])
    payable = due["amount"].where(due["membership_id"].map(lambda c: bool(givers - {c})), 0)
    available = fund_balance(collective_id) - terms.min_fund_balance
    seed = compute.period_seed(period)
    makeup = due["makeup"].to_numpy(dtype=bool)
    paid_back, _ = compute.cut_to_fund(payable[makeup].tolist(), available, seed=seed)
    paid_new, _ = compute.cut_to_fund(payable[~makeup].tolist(), available - sum(paid_back),
                                      seed=seed)
    paid = np.zeros(len(due), dtype="int64")
    paid[makeup], paid[~makeup] = paid_back, paid_new
    due["paid"] = paid
    due["shortfall"] = due["amount"] - due["paid"]
    gifts = compute.gifts(due[["claim_id", "membership_id", "for_period", "paid"]], donors,
                          rule=terms.gift_shortfall)
    posting = _post(collective_id, period, due, gifts, dry_run=dry_run)
    fresh = due[~due["makeup"]]
    return finish(collective_id, kind, period, plan, posting=posting, frame=due,
                  total=int(due["paid"].sum()), shortfall=int(fresh["shortfall"].sum()),
                  dry_run=dry_run, triggered_by=triggered_by)


def _post(collective_id: int, period: date, due: pd.DataFrame, gifts: pd.DataFrame, *,
          dry_run: bool) -> Posting:
    """Each benefit as one entry: the claimant's payable is credited, the fund debited for
    the part the donors' reserves gave, and each donor's receivable for the part their
    reserve could not; plus the run lines of the benefit, its gifts and debts."""
    base = base_currency(collective_id)
    fund = ledger.account_by_code(collective_id, ledger.BENEFITS_FUND).id
    payable = payable_accounts(collective_id)
    owing = gifts[gifts["debt"] > 0]
    receivable = (receivable_accounts(collective_id) if dry_run
                  else open_receivables(collective_id, owing["membership_id"]))
    debts: dict[tuple, list[tuple[int, int]]] = {}
    for gift in owing.itertuples(index=False):
        debts.setdefault((gift.claim_id, gift.for_period), []).append(
            (int(gift.membership_id), int(gift.debt)))
    posting, keys = Posting(), {}
    for row in due.itertuples(index=False):
        month = f"{row.for_period:%Y-%m}"
        label = BenefitKind(row.kind).label.capitalize()
        if row.makeup:
            key = f"makeup:{row.claim_id}:{month}:{period:%Y-%m}"
            memo = (f"{label} benefit for {row.for_period:%B %Y} (claim {row.claim_id}): "
                    f"shortfall made up")
        else:
            key = f"benefit:{row.claim_id}:{month}"
            memo = f"{label} benefit for {row.for_period:%B %Y} (claim {row.claim_id})"
        keys[(row.claim_id, row.for_period)] = key
        paid, owed = int(row.paid), debts.get((row.claim_id, row.for_period), [])
        if paid:
            debt = sum(amount for _, amount in owed)
            owed_lines = [(receivable.get(donor, 0), amount) for donor, amount in owed]
            posting.entries.append(ledger.NewEntry(
                kind=EntryKind.BENEFIT, occurred_on=period_end(period), idempotency_key=key,
                memo=memo, lines=[ledger.Line(account, value, base) for account, value in (
                    (fund, paid - debt), *owed_lines,
                    (payable[row.membership_id], -paid)) if value]))
        if row.makeup:
            posting.line(row.membership_id, RunLineKind.MAKEUP, paid, key,
                         claim_id=int(row.claim_id), for_period=row.for_period)
        else:
            posting.line(row.membership_id, RunLineKind.BENEFIT, paid, key,
                         shortfall=int(row.shortfall), claim_id=int(row.claim_id),
                         for_period=row.for_period)
    for gift in gifts.itertuples(index=False):
        key = keys[(gift.claim_id, gift.for_period)]
        extra = {"claim_id": int(gift.claim_id), "for_period": gift.for_period}
        posting.line(gift.membership_id, RunLineKind.GIFT, int(gift.amount), key, **extra)
        posting.line(gift.membership_id, RunLineKind.DEBT, int(gift.debt), key, **extra)
    return posting


def _approved_claims(collective_id: int, period: date) -> pd.DataFrame:
    """Approved claims starting by `period`, each with its claimant's level in the month
    the illness began: the first month of the claim, or of the claim a relapse continues.
    That level is paid for every month of the claim, whenever the run, so a level chosen
    later, or a late catch-up run, never changes what the claim pays."""
    import pandas as pd
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
    import pandas as pd
    rows = db.session.execute(
        sa.select(RunLine.membership_id, sa.func.sum(RunLine.amount))
        .join(BenefitRun, BenefitRun.id == RunLine.run_id)
        .where(BenefitRun.collective_id == collective_id, BenefitRun.period == period,
               RunLine.kind == RunLineKind.CONTRIBUTION)
        .group_by(RunLine.membership_id).order_by(RunLine.membership_id)).all()
    return pd.DataFrame(rows, columns=["membership_id", "weight"]).astype({"weight": "int64"})
