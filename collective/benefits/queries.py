"""The fund's read side: balances, arrears, a member's fund, who owes, the months, the runs
and the stored forecast. Nothing here writes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa

from collective.benefits import compute, reserve_sums
from collective.benefits.compute import month_start
from collective.benefits.models import (
    BenefitKind,
    BenefitRun,
    Claim,
    FundForecast,
    RunLine,
    RunLineKind,
)
from collective.benefits.plans import level_of, plan_in_force, plan_terms
from collective.benefits.receivables import fund_account_ids, owed_by_members
from collective.extensions import db
from collective.ledger import totals
from collective.ledger.models import EntryKind
from collective.members.models import Membership, User
from collective.members.services import base_currency
from collective.monthly import monthly_table

if TYPE_CHECKING:
    import pandas as pd


def fund_balance(collective_id: int) -> int:
    """What the benefits fund holds now, in base minor units (from the ledger): the members'
    reserves (and any money put in outside the runs), less what members owe it for gifts
    their reserves could not cover, which has already been paid out. Contributions owed
    and not paid add as much to what it owes as to what it is owed: nothing. Read from the
    ledger totals (the fund's account takes a posting for every contribution of every
    member: half a million at 10,000 members, which a plain sum reads every time)."""
    rows = totals.read_totals(collective_id, [], accounts=fund_account_ids(collective_id),
                              currency=base_currency(collective_id))
    return sum(credits - debits for debits, credits, _ in rows)


def arrears(collective_id: int) -> dict[int, int]:
    """Contributions each member still owes (owed minus settled), as the runs counted them
    (the runs' working data; pages read the receivables, `owing`)."""
    sign = sa.case((RunLine.kind == RunLineKind.OWED, RunLine.amount), else_=-RunLine.amount)
    rows = db.session.execute(
        sa.select(RunLine.membership_id, sa.func.sum(sign))
        .join(BenefitRun, BenefitRun.id == RunLine.run_id)
        .where(BenefitRun.collective_id == collective_id,
               RunLine.kind.in_([RunLineKind.OWED, RunLineKind.SETTLED]))
        .group_by(RunLine.membership_id)).all()
    return {m: int(v) for m, v in rows if v and int(v) > 0}


def run_lines_frame(collective_id: int, kinds: tuple[str, ...] | None = None
                    ) -> pd.DataFrame:
    """Run lines of the collective (of `kinds`, when given): membership_id, kind, amount,
    period, claim_id, for_period, shortfall."""
    import pandas as pd
    query = (sa.select(RunLine.membership_id, RunLine.kind, RunLine.amount, BenefitRun.period,
                       RunLine.claim_id, RunLine.for_period, RunLine.shortfall)
             .join(BenefitRun, BenefitRun.id == RunLine.run_id)
             .where(BenefitRun.collective_id == collective_id))
    if kinds:
        query = query.where(RunLine.kind.in_(kinds))
    frame = pd.DataFrame(list(map(tuple, db.session.execute(query))),
                         columns=["membership_id", "kind", "amount", "period", "claim_id",
                                  "for_period", "shortfall"])
    return frame.astype({"amount": "int64", "shortfall": "int64"})


def benefits_owed(collective_id: int) -> pd.DataFrame:
    """Benefits a run could not pay in full (the fund was too small, or nobody else gave that
    month) and not yet made up: claim_id, membership_id, kind,
    for_period, amount still owed, oldest first. A shortfall is owed until a later run makes
    it up; it is never written off."""
    lines = run_lines_frame(collective_id, (RunLineKind.BENEFIT, RunLineKind.MAKEUP))
    keys = ["claim_id", "for_period", "membership_id"]
    short = lines[(lines["kind"] == RunLineKind.BENEFIT) & (lines["shortfall"] > 0)]
    owed = short.groupby(keys, as_index=False)["shortfall"].sum()
    made_up = lines[lines["kind"] == RunLineKind.MAKEUP].groupby(keys)["amount"].sum()
    owed["amount"] = (owed["shortfall"] - owed.set_index(keys).index.map(made_up).fillna(0)
                      .to_numpy()).astype("int64")
    owed = owed[owed["amount"] > 0]
    kinds = dict(db.session.execute(sa.select(Claim.id, Claim.kind).where(
        Claim.id.in_([int(c) for c in owed["claim_id"]] or [0]))).all())
    owed["kind"] = owed["claim_id"].map(kinds)
    owed["claim_id"] = owed["claim_id"].astype("int64")
    return (owed[["claim_id", "membership_id", "kind", "for_period", "amount"]]
            .sort_values(["for_period", "claim_id"], kind="stable").reset_index(drop=True))


def claim_payments(collective_id: int, claim_id: int) -> list[dict]:
    """The benefit lines paid on one claim, oldest first, each with what later runs made up
    of its shortfall (`made_up`) and what is still owed (`still_owed`)."""
    lines = run_lines_frame(collective_id, (RunLineKind.BENEFIT, RunLineKind.MAKEUP))
    lines = lines[lines["claim_id"] == claim_id]
    made_up = lines[lines["kind"] == RunLineKind.MAKEUP].groupby("for_period")["amount"].sum()
    rows = lines[lines["kind"] == RunLineKind.BENEFIT].to_dict("records")
    for row in rows:
        row["made_up"] = int(made_up.get(row["for_period"], 0))
        row["still_owed"] = row["shortfall"] - row["made_up"]
    return rows


@dataclass(frozen=True)
class OwedBenefits:
    """The oldest benefits the fund still owes (named), and how many and how much in all."""

    rows: list[dict]
    count: int
    total: int


def owed_to_claimants(collective_id: int, *, limit: int | None = None) -> OwedBenefits:
    """`benefits_owed`, the oldest `limit` rows with each claimant's name, for the treasurer;
    the count and total are over every row."""
    owed = benefits_owed(collective_id)
    shown = owed if limit is None else owed.head(limit)
    names = _names(shown["membership_id"])
    return OwedBenefits(rows=[{**row, "name": names.get(row["membership_id"], "?")}
                              for row in shown.to_dict("records")],
                        count=len(owed), total=int(owed["amount"].sum()))


def _names(membership_ids) -> dict[int, str]:
    return dict(db.session.execute(
        sa.select(Membership.id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.id.in_([int(m) for m in membership_ids] or [0]))).all())


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
    #: What the member owes the fund for gifts their reserve could not cover.
    gift_debt: int
    #: Benefits the fund still owes the member (shortfalls not yet made up).
    owed_to_me: int
    if_ill: int
    waiting_months: int
    max_months: int


def member_fund(membership: Membership, today: date) -> MemberFund | None:
    """Level, contributions, benefits received, reserve, and what falling ill would pay:
    one member's figures from one read of their run lines (no frame: a page reads it on
    every view)."""
    period = month_start(today)
    plan = plan_in_force(membership.collective_id, period)
    if plan is None:
        return None
    terms = plan_terms(plan)
    mine = db.session.execute(
        sa.select(RunLine.kind, RunLine.amount, RunLine.claim_id, RunLine.for_period,
                  RunLine.shortfall)
        .join(BenefitRun, BenefitRun.id == RunLine.run_id)
        .where(BenefitRun.collective_id == membership.collective_id,
               RunLine.membership_id == membership.id)).all()
    level = terms.effective_level(level_of(membership.id, period))
    contribution = compute.contribution_due(terms, level)
    sick = terms.rule(BenefitKind.SICK)
    if_ill = 0
    if sick is not None:
        if_ill = level if sick.amount == "level" else int(sick.amount)

    def total(*kinds: str) -> int:
        return sum(line.amount for line in mine if line.kind in kinds)

    owed = owed_by_members(membership.collective_id, membership.id).get(membership.id, (0, 0))
    return MemberFund(level=level, contribution=contribution,
                      contributed=total(RunLineKind.CONTRIBUTION, RunLineKind.SETTLED),
                      received=total(RunLineKind.BENEFIT),
                      reserve=reserve_sums.reserve_of((line.kind, line.amount) for line in mine),
                      reserve_cap=contribution * terms.reserve_cap_months,
                      owed=owed[0], gift_debt=owed[1], owed_to_me=_still_owed(mine),
                      if_ill=if_ill, waiting_months=sick.waiting_months if sick else 0,
                      max_months=sick.max_months if sick else 0)


def _still_owed(lines) -> int:
    """What the fund still owes one member, from their run lines: `benefits_owed` for one
    member (each benefit's shortfall less what makeup lines paid of it, when positive)."""
    short: dict[tuple, int] = {}
    made_up: dict[tuple, int] = {}
    for line in lines:
        key = (line.claim_id, line.for_period)
        if line.kind == RunLineKind.BENEFIT and line.shortfall > 0:
            short[key] = short.get(key, 0) + line.shortfall
        elif line.kind == RunLineKind.MAKEUP:
            made_up[key] = made_up.get(key, 0) + line.amount
    return sum(max(owed - made_up.get(key, 0), 0) for key, owed in short.items())


def owing(collective_id: int, *, limit: int | None = None,
          owed: dict[int, tuple[int, int]] | None = None) -> pd.DataFrame:
    """Members who owe the fund, from their receivables: membership_id, name, owed
    (contributions), debt (gifts their reserve could not cover); with `limit`, only that
    many of those owing the most (names are read for them alone). `owed`: what
    `owed_by_members` answered, when the caller has it."""
    import pandas as pd
    owed = owed_by_members(collective_id) if owed is None else owed
    if limit is not None:
        owed = dict(sorted(owed.items(), key=lambda item: (-sum(item[1]), item[0]))[:limit])
    names = _names(owed)
    return pd.DataFrame([(m, names.get(m, "?"), arrears_, debt)
                         for m, (arrears_, debt) in sorted(owed.items())],
                        columns=["membership_id", "name", "owed", "debt"])


def owing_totals(collective_id: int, *, owed: dict[int, tuple[int, int]] | None = None
                 ) -> dict[str, int]:
    """How many members owe the fund, and what they owe in all: members, owed, debt."""
    owed = (owed_by_members(collective_id) if owed is None else owed).values()
    return {"members": len(owed), "owed": sum(a for a, _ in owed),
            "debt": sum(d for _, d in owed)}


#: How the fund page groups the fund's entries by kind.
_FLOW_COLUMNS = {EntryKind.CONTRIBUTION: "contributions", EntryKind.BENEFIT: "payouts"}


def fund_months(collective_id: int) -> pd.DataFrame:
    """Per month: contributions in, benefits out, returns, and the fund balance at the end
    (what it holds, net of what members owe it, as `fund_balance`)."""
    import pandas as pd
    rows = totals.read_totals(collective_id, ["month", "kind"],
                              accounts=fund_account_ids(collective_id))
    # What the fund holds grows with credits: flip the sign, so money in is positive.
    frame = pd.DataFrame([(month, kind, credits - debits)
                          for month, kind, debits, credits, _ in rows],
                         columns=["day", "kind", "amount"]).astype({"amount": "int64"})
    frame["column"] = frame["kind"].map(_FLOW_COLUMNS).fillna("other")
    table = monthly_table(frame, ["contributions", "payouts", "other"])
    table["payouts"] = -table["payouts"]
    table["balance"] = monthly_table(frame.assign(column="balance"), ["balance"],
                                     cumulative=True)["balance"]
    return table


def runs_of(collective_id: int, limit: int = 24) -> list[BenefitRun]:
    """The latest runs, newest first."""
    return list(db.session.scalars(
        sa.select(BenefitRun).filter_by(collective_id=collective_id)
        .order_by(BenefitRun.period.desc(), BenefitRun.kind).limit(limit)))


def stored_forecast(collective_id: int) -> FundForecast | None:
    """The forecast the scheduler last stored for the fund, if any."""
    return db.session.scalar(sa.select(FundForecast).filter_by(collective_id=collective_id))
