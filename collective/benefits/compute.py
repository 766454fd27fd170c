"""The fund's numbers as pure functions: plan terms, contributions, benefits due, pro rata
cuts, gifts, reserves and the sustainability forecast. No Flask, no database; money is
integer minor units in int64 columns."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from collective.benefits.kinds import BenefitKind
from collective.money import split, split_capped

if TYPE_CHECKING:
    import pandas as pd

LEVELS, EARNINGS_PCT, FLAT = "levels", "earnings_pct", "flat"
#: What happens to the part of a gift a donor's reserve cannot cover: the donor owes it to
#: the fund, or the other donors cover it pro rata from their reserves.
DONOR_OWES, OTHERS_COVER = "donor_owes", "others_cover"
GIFT_SHORTFALL_RULES = {DONOR_OWES: "the donor owes the fund the difference, paid back from "
                                    "their next contributions",
                        OTHERS_COVER: "the other donors cover it pro rata from their "
                                      "reserves (what nobody's reserve covers is owed)"}
#: Benefits paid every month of a claim; the others are paid once.
MONTHLY_KINDS = (BenefitKind.SICK, BenefitKind.PARENTAL)


class PlanError(ValueError):
    """Plan terms that do not make sense; `field` names the part."""

    def __init__(self, message: str, field: str = "terms") -> None:
        super().__init__(message)
        self.field = field


def _int(value, field: str, low: int = 0, high: int = 10**15) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PlanError(f"{field} must be a whole number from {low} to {high}", field)
    return value


@dataclass(frozen=True)
class BenefitRule:
    """One kind of benefit: how much, after what wait, for how long or how often."""

    kind: str
    #: Monthly kinds: 'level' (the member's level) or a fixed amount; one-off kinds: a cap.
    amount: str | int
    waiting_months: int = 0
    max_months: int = 0
    per_year: int = 0
    #: For an unpaid invoice: the share of the invoice paid, in basis points.
    invoice_bp: int = 0
    #: For an unpaid invoice: days past its due date before writing it off can open a claim.
    overdue_days: int = 60
    #: 'treasurer' or 'vote'.
    approval: str = "treasurer"

    @property
    def is_monthly(self) -> bool:
        """Paid every month of the claim (sick, parental) rather than once."""
        return self.kind in MONTHLY_KINDS


@dataclass(frozen=True)
class PlanTerms:
    """A plan's rules, read from and written to the JSON kept on the plan."""

    contribution_kind: str
    #: For LEVELS: (monthly benefit, monthly contribution) pairs, lowest first.
    levels: tuple[tuple[int, int], ...] = ()
    #: For EARNINGS_PCT: basis points of the month's pool earnings, with min and max.
    earnings_bp: int = 0
    minimum: int = 0
    maximum: int = 0
    #: For FLAT: the same contribution for everyone.
    flat_amount: int = 0
    benefits: tuple[BenefitRule, ...] = ()
    #: A member's reserve above this many monthly contributions is returned once a year.
    reserve_cap_months: int = 36
    #: Payouts never take the fund below this (base minor units).
    min_fund_balance: int = 0
    #: Months a member must wait between level changes.
    level_change_months: int = 12
    #: Months of contributions needed before a claim.
    eligibility_months: int = 1
    #: A member ill again within this many weeks of recovering continues the same claim.
    relapse_weeks: int = 4
    #: A gift a donor's reserve cannot cover: DONOR_OWES or OTHERS_COVER.
    gift_shortfall: str = DONOR_OWES

    @classmethod
    def from_json(cls, data: Mapping) -> PlanTerms:
        """Read and check terms; raises PlanError naming what is wrong."""
        contribution = data.get("contribution") or {}
        kind = contribution.get("kind")
        if kind not in (LEVELS, EARNINGS_PCT, FLAT):
            raise PlanError("the contribution rule is levels, earnings_pct or flat",
                            "contribution")
        levels: tuple[tuple[int, int], ...] = ()
        if kind == LEVELS:
            raw = contribution.get("levels") or []
            if not raw:
                raise PlanError("a plan with levels needs at least one level", "levels")
            levels = tuple(sorted((_int(lv.get("benefit"), "level benefit", 1),
                                   _int(lv.get("contribution"), "level contribution", 1))
                                  for lv in raw))
            if len({b for b, _ in levels}) != len(levels):
                raise PlanError("two levels pay the same benefit", "levels")
        terms = cls(
            contribution_kind=kind, levels=levels,
            earnings_bp=_int(contribution.get("bp", 0), "earnings share", 0, 10_000),
            minimum=_int(contribution.get("min", 0), "minimum contribution"),
            maximum=_int(contribution.get("max", 0), "maximum contribution"),
            flat_amount=_int(contribution.get("amount", 0), "flat contribution"),
            benefits=tuple(_benefit(kind_, rule, kind)
                           for kind_, rule in (data.get("benefits") or {}).items()),
            reserve_cap_months=_int(data.get("reserve_cap_months", 36), "reserve cap", 1, 600),
            min_fund_balance=_int(data.get("min_fund_balance", 0), "minimum fund balance"),
            level_change_months=_int(data.get("level_change_months", 12),
                                     "months between level changes", 0, 120),
            eligibility_months=_int(data.get("eligibility_months", 1), "eligibility", 0, 60),
            relapse_weeks=_int(data.get("relapse_weeks", 4), "relapse window (weeks)", 0, 52),
            gift_shortfall=data.get("gift_shortfall", DONOR_OWES),
        )
        if terms.gift_shortfall not in GIFT_SHORTFALL_RULES:
            raise PlanError("a gift a reserve cannot cover is owed by the donor "
                            f"({DONOR_OWES}) or covered by the others ({OTHERS_COVER})",
                            "gift_shortfall")
        if kind == EARNINGS_PCT and terms.maximum and terms.maximum < terms.minimum:
            raise PlanError("the maximum contribution is below the minimum", "contribution")
        if kind == FLAT and not terms.flat_amount:
            raise PlanError("a flat contribution needs an amount", "contribution")
        return terms

    def to_json(self) -> dict:
        """The JSON form kept on the plan and in proposals."""
        contribution: dict = {"kind": self.contribution_kind}
        if self.contribution_kind == LEVELS:
            contribution["levels"] = [{"benefit": b, "contribution": c} for b, c in self.levels]
        elif self.contribution_kind == EARNINGS_PCT:
            contribution.update(bp=self.earnings_bp, min=self.minimum, max=self.maximum)
        else:
            contribution["amount"] = self.flat_amount
        return {
            "contribution": contribution,
            "benefits": {b.kind: {"amount": b.amount, "waiting_months": b.waiting_months,
                                  "max_months": b.max_months, "per_year": b.per_year,
                                  "invoice_bp": b.invoice_bp, "overdue_days": b.overdue_days,
                                  "approval": b.approval}
                         for b in self.benefits},
            "reserve_cap_months": self.reserve_cap_months,
            "min_fund_balance": self.min_fund_balance,
            "level_change_months": self.level_change_months,
            "eligibility_months": self.eligibility_months,
            "relapse_weeks": self.relapse_weeks,
            "gift_shortfall": self.gift_shortfall,
        }

    def rule(self, kind: str) -> BenefitRule | None:
        """The rule for a kind of benefit, if the plan offers it."""
        return next((b for b in self.benefits if b.kind == kind), None)

    def contribution_for_level(self, benefit_amount: int) -> int:
        """Monthly contribution of a level."""
        for benefit, contribution in self.levels:
            if benefit == benefit_amount:
                return contribution
        raise PlanError("the plan has no such level", "level")

    def effective_level(self, level: int) -> int:
        """The level a member pays for and is paid at: their chosen one if the plan offers
        it, otherwise the lowest (members who never chose, or whose level was dropped)."""
        if not self.levels:
            return level
        return level if level in dict(self.levels) else self.lowest_level

    @property
    def lowest_level(self) -> int:
        """The smallest benefit level (the default for members who have not chosen)."""
        return self.levels[0][0] if self.levels else 0


def _benefit(kind: str, rule: Mapping, contribution_kind: str) -> BenefitRule:
    if kind not in tuple(BenefitKind):
        raise PlanError(f"{kind!r} is not a kind of benefit", "benefits")
    amount = rule.get("amount", "level")
    if amount == "level":
        if kind not in MONTHLY_KINDS or contribution_kind != LEVELS:
            raise PlanError(f"{kind} cannot pay 'the level' in this plan", "benefits")
    else:
        amount = _int(amount, f"{kind} amount", 1)
    approval = rule.get("approval", "treasurer")
    if approval not in ("treasurer", "vote"):
        raise PlanError("approval is by a treasurer or by a vote", "benefits")
    result = BenefitRule(
        kind=kind, amount=amount,
        waiting_months=_int(rule.get("waiting_months", 0), f"{kind} waiting months", 0, 24),
        max_months=_int(rule.get("max_months", 0), f"{kind} maximum months", 0, 120),
        per_year=_int(rule.get("per_year", 0), f"{kind} claims per year", 0, 12),
        invoice_bp=_int(rule.get("invoice_bp", 0), f"{kind} invoice share", 0, 10_000),
        overdue_days=_int(rule.get("overdue_days", 60), f"{kind} days overdue", 0, 3650),
        approval=approval,
    )
    if result.is_monthly and result.max_months < 1:
        raise PlanError(f"{kind} needs a maximum number of months", "benefits")
    return result


# --- Periods ------------------------------------------------------------------------------


def month_start(day: date) -> date:
    """The first day of the day's month."""
    return day.replace(day=1)


def add_months(period: date, months: int) -> date:
    """The first day of the month `months` after `period`'s."""
    index = period.year * 12 + period.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


# --- Contributions ------------------------------------------------------------------------


def contributions_due(terms: PlanTerms, members: pd.DataFrame) -> pd.Series:
    """Each member's contribution for a month.

    members: membership_id, level (monthly benefit chosen, 0 if none), earnings (pool
    earnings in the month). Returns an int64 Series aligned with `members`.
    """
    import pandas as pd
    if terms.contribution_kind == LEVELS:
        levels = members["level"].map(terms.effective_level)
        return levels.map(dict(terms.levels)).astype("int64")
    if terms.contribution_kind == FLAT:
        return pd.Series(terms.flat_amount, index=members.index, dtype="int64")
    due = members["earnings"].astype("int64").clip(lower=0) * terms.earnings_bp // 10_000
    due = due.clip(lower=terms.minimum)
    if terms.maximum:
        due = due.clip(upper=terms.maximum)
    return due.astype("int64")


def contribution_due(terms: PlanTerms, level: int, earnings: int = 0) -> int:
    """One member's contribution for a month: `contributions_due` for a single member,
    without a frame (a member's own page reads one figure)."""
    if terms.contribution_kind == LEVELS:
        return int(dict(terms.levels)[terms.effective_level(level)])
    if terms.contribution_kind == FLAT:
        return int(terms.flat_amount)
    due = max(max(earnings, 0) * terms.earnings_bp // 10_000, terms.minimum)
    return min(due, terms.maximum) if terms.maximum else due


def contribution_run(members: pd.DataFrame) -> pd.DataFrame:
    """Who pays what this month, and who owes.

    members: membership_id, due (this month), arrears (owed from earlier months), available
    (what the collective owes the member now), and optionally debt (gifts their reserve could
    not cover, owed to the fund). A member pays the month's contribution when their balance
    covers it, and then settles as much arrears as the rest covers; otherwise the month is
    recorded as owed. What they pay goes first to their debt, and only the rest to their
    reserve. Returns membership_id, paid, settled, owed, debt_paid (int64).
    """
    import numpy as np
    import pandas as pd
    due = members["due"].astype("int64")
    available = members["available"].astype("int64").clip(lower=0)
    arrears = members["arrears"].astype("int64").clip(lower=0)
    can_pay = available >= due
    paid = due.where(can_pay, 0)
    settled = np.minimum(arrears, (available - paid).clip(lower=0)).where(can_pay, 0)
    owed = due.where(~can_pay, 0)
    debt = (members["debt"] if "debt" in members else pd.Series(0, index=members.index))
    debt_paid = np.minimum(debt.astype("int64").clip(lower=0), paid + settled)
    return pd.DataFrame({"membership_id": members["membership_id"].astype("int64"),
                         "paid": paid.astype("int64"), "settled": settled.astype("int64"),
                         "owed": owed.astype("int64"), "debt_paid": debt_paid.astype("int64")})


def reserve_returns(reserves: pd.DataFrame, cap_months: int) -> pd.DataFrame:
    """What to give back once a year: each reserve above cap_months monthly contributions.

    reserves: membership_id, reserve, monthly (the member's monthly contribution).
    Returns membership_id, returned for members with something to return.
    """
    import pandas as pd
    cap = reserves["monthly"].astype("int64") * cap_months
    excess = (reserves["reserve"].astype("int64") - cap).clip(lower=0)
    out = pd.DataFrame({"membership_id": reserves["membership_id"].astype("int64"),
                        "returned": excess.astype("int64")})
    return out[out["returned"] > 0].reset_index(drop=True)


# --- Benefits -------------------------------------------------------------------------------


def paid_months(start: date, months: int, waiting_months: int,
                ended_on: date | None = None) -> list[date]:
    """The months of a monthly claim that are paid: after the waiting months, and (for a
    claim ended early) up to the month of the member's last day ill."""
    last = last_ill_month(ended_on)
    return [month for month in (add_months(start, i) for i in range(waiting_months, months))
            if last is None or month <= last]


def last_ill_month(ended_on: date | None) -> date | None:
    """The last month a claim ended on `ended_on` (the first day well) covers: the month of
    the day before, in which the member was still ill; None while the claim runs on."""
    import pandas as pd
    if ended_on is None or pd.isna(ended_on):
        return None
    return month_start(ended_on - timedelta(days=1))


def benefits_due(claims: pd.DataFrame, paid: pd.DataFrame, terms: PlanTerms,
                 period: date) -> pd.DataFrame:
    """Every benefit payment due up to `period` and not yet paid.

    claims: claim_id, membership_id, kind, start_period, months, amount (one-off), level
    (the claimant's monthly level), and optionally ended_on (the first day well, for a claim
    ended early) and continues_id (a relapse: no waiting months). paid: claim_id, for_period
    already paid.
    Returns claim_id, membership_id, kind, for_period, amount (int64), oldest first.
    """
    import pandas as pd
    rows = []
    done = set(zip(paid["claim_id"], paid["for_period"], strict=True))
    for claim in claims.itertuples(index=False):
        rule = terms.rule(claim.kind)
        if rule is None:
            continue
        if rule.is_monthly:
            amount = (terms.effective_level(int(claim.level)) if rule.amount == "level"
                      else int(rule.amount))
            continues = getattr(claim, "continues_id", None)
            waiting = 0 if continues is not None and pd.notna(continues) else rule.waiting_months
            for month in paid_months(claim.start_period, int(claim.months), waiting,
                                     getattr(claim, "ended_on", None)):
                if month <= period and (claim.claim_id, month) not in done and amount > 0:
                    rows.append((claim.claim_id, claim.membership_id, claim.kind, month, amount))
        elif (claim.claim_id, claim.start_period) not in done and claim.start_period <= period:
            rows.append((claim.claim_id, claim.membership_id, claim.kind, claim.start_period,
                         int(claim.amount)))
    frame = pd.DataFrame(rows, columns=["claim_id", "membership_id", "kind", "for_period",
                                        "amount"])
    frame["amount"] = frame["amount"].astype("int64")
    return frame.sort_values(["for_period", "claim_id"], kind="stable").reset_index(drop=True)


def period_seed(period: date) -> int:
    """A month as a count of months (consecutive months give consecutive numbers): the seed
    that breaks rounding ties in that month's run, so they go round in turn month by month."""
    return period.year * 12 + period.month - 1


def cut_to_fund(amounts: Sequence[int], available: int, *, seed: int = 0
                ) -> tuple[list[int], list[int]]:
    """Pay every amount in full when the fund allows; otherwise cut each pro rata (largest
    remainder, equal remainders taking the odd units in turn by `seed`: see `money.split`),
    never below zero. Returns (paid, shortfall) per amount."""
    amounts = [int(a) for a in amounts]
    available = max(int(available), 0)
    if sum(amounts) <= available:
        return amounts, [0] * len(amounts)
    if not amounts or sum(amounts) == 0:
        return amounts, [0] * len(amounts)
    paid = split(available, amounts, seed=seed)
    return paid, [a - p for a, p in zip(amounts, paid, strict=True)]


def gifts(benefits: pd.DataFrame, donors: pd.DataFrame, *, rule: str = DONOR_OWES
          ) -> pd.DataFrame:
    """Each benefit paid, seen as gifts from the other members pro rata to their weights, and
    the part of each gift the donor's reserve could not cover.

    benefits: claim_id, membership_id (claimant), for_period, paid. donors: membership_id,
    weight (what they contributed that month), and optionally room (their reserve before
    these gifts; without it, reserves are not limited). Returns claim_id, membership_id
    (donor), for_period, amount (the gift), debt (the part of it the donor owes the fund).

    A gift never takes a reserve below zero. Under DONOR_OWES each donor gives their pro
    rata part and owes what their reserve lacks. Under OTHERS_COVER a donor gives at most
    their reserve, the others cover the rest pro rata up to theirs, and only what no reserve
    covers is owed, pro rata. Benefits are taken in order, each using what the ones before
    left. Donors with equal remainders take a benefit's odd units in turn, month after month
    of the same claim (the seed is the claim id plus `period_seed` of the month paid for).
    """
    import pandas as pd
    room = (dict(zip(donors["membership_id"], donors["room"].clip(lower=0), strict=True))
            if "room" in donors else None)
    rows = []
    for benefit in benefits.itertuples(index=False):
        if benefit.paid <= 0:
            continue
        others = donors[(donors["membership_id"] != benefit.membership_id)
                        & (donors["weight"] > 0)]
        if others.empty:
            continue
        ids = [int(m) for m in others["membership_id"]]
        weights = [int(w) for w in others["weight"]]
        seed = int(benefit.claim_id) + period_seed(benefit.for_period)
        total = int(benefit.paid)
        if room is None:
            parts, debts = split(total, weights, seed=seed), [0] * len(ids)
        elif rule == OTHERS_COVER:
            covered = split_capped(total, weights, [int(room[m]) for m in ids], seed=seed)
            uncovered = total - sum(covered)
            debts = split(uncovered, weights, seed=seed) if uncovered else [0] * len(ids)
            parts = [c + d for c, d in zip(covered, debts, strict=True)]
        else:
            parts = split(total, weights, seed=seed)
            debts = [max(p - int(room[m]), 0) for p, m in zip(parts, ids, strict=True)]
        for member, part, debt in zip(ids, parts, debts, strict=True):
            if room is not None:
                room[member] -= part - debt
            if part:
                rows.append((benefit.claim_id, member, benefit.for_period, part, debt))
    frame = pd.DataFrame(rows, columns=["claim_id", "membership_id", "for_period", "amount",
                                        "debt"])
    return frame.astype({"amount": "int64", "debt": "int64"})
