"""Pure computations of the pool: payment splits, rule previews and allocation ranking.

No Flask, no database: plain values and pandas DataFrames with integer money columns.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

from collective.money import split, split_after, tie_units
from collective.pool.kinds import RuleTerms, SplitMethod

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Participant:
    """An allocated member as a split sees them."""

    membership_id: int
    weight: int
    minutes: int


@dataclass(frozen=True)
class Split:
    """Where every minor unit of one payment goes."""

    common_fund: int
    finder_fee: int
    finder_id: int | None
    members: dict[int, int] = field(default_factory=dict)
    note: str = ""

    @property
    def total(self) -> int:
        """Sum of every part; equals the payment."""
        return self.common_fund + self.finder_fee + sum(self.members.values())

    def by_member(self) -> dict[int, int]:
        """Each member's whole share, the finder's fee included."""
        shares = dict(self.members)
        if self.finder_id is not None and self.finder_fee:
            shares[self.finder_id] = shares.get(self.finder_id, 0) + self.finder_fee
        return shares


class NoParticipants(ValueError):
    """A payment cannot be split among members when nobody is allocated."""


def split_seed(pitch_id: int, earlier_payments: int) -> int:
    """The tie-breaking seed of a pitch's payment: the pitch's id plus how many payments the
    pitch had before it. A retainer's consecutive payments take consecutive seeds, so their
    odd cents go round its members (and between the fund and the members) in turn; a pitch
    paid once starts the round at a place set by its id, not always at its first member."""
    return pitch_id + earlier_payments


def split_payment(
    amount: int,
    terms: RuleTerms,
    participants: Sequence[Participant],
    finder_id: int | None,
    *,
    seed: int = 0,
) -> Split:
    """Split a payment: common fund, finder's fee, then the rest among the participants.

    With no finder, the finder's fee stays with the members. Splitting by hours with no
    unpaid hours logged falls back to the allocation weights (and says so in the note). `seed`
    (from `split_seed`) breaks ties between equal remainders: see `money.split`.
    """
    if not participants:
        raise NoParticipants("nobody is allocated to this work, so its payment has no one "
                             "to go to; allocate it first")
    finder_bp = terms.finder_fee_bp if finder_id is not None else 0
    top = [terms.common_fund_bp, finder_bp, 10_000 - terms.common_fund_bp - finder_bp]
    fund, finder, rest = split(amount, top, seed=seed)
    method = terms.method
    note = {SplitMethod.HOURS: "by hours logged", SplitMethod.EQUAL: "equally",
            SplitMethod.WEIGHTS: "by allocation weights"}[method]
    if method == SplitMethod.HOURS and sum(p.minutes for p in participants) == 0:
        method, note = SplitMethod.WEIGHTS, "by allocation weights (no unpaid hours logged)"
    if method == SplitMethod.HOURS:
        weights = [p.minutes for p in participants]
        note = f"by {sum(weights) / 60:g} hours logged"
    elif method == SplitMethod.EQUAL:
        weights = [1] * len(participants)
    else:
        weights = [p.weight for p in participants]
    parts = (split_after(rest, weights, dealt=_dealt_before(amount, top, weights, seed))
             if rest else [0] * len(participants))
    members: dict[int, int] = {}
    for participant, part in zip(participants, parts, strict=True):
        members[participant.membership_id] = members.get(participant.membership_id, 0) + part
    return Split(fund, finder, finder_id if finder else None, members, note)


def _dealt_before(amount: int, top: list[int], weights: list[int], seed: int) -> int:
    """How many tied units the members' splits of `amount` with seeds 0 .. seed-1 dealt.

    A tie between the fund, the finder and the members goes round them in turn, so the
    members' part differs from seed to seed, with a period that divides 6 (a tie among at
    most three). Counting the members' tie units over earlier seeds lets this split start
    where the one before stopped, so the members' odd cents go round them in turn too."""
    def units(s: int) -> int:
        rest = split(amount, top, seed=s)[2]
        return tie_units(rest, weights) if rest else 0

    if tie_units(amount, top) == 0:
        return seed * units(seed)   # the members' part is the same whatever the seed
    cycle = seed - seed % 6
    dealt = [units(cycle + r) for r in range(6)]
    return seed // 6 * sum(dealt) + sum(dealt[:seed % 6])


def convert_to_base(amount: int, currency_digits: int, rate: Decimal, base_digits: int) -> int:
    """Minor units of a foreign currency to minor units of the base, rounding half to even."""
    exact = Decimal(amount) * rate * Decimal(10) ** (base_digits - currency_digits)
    return int(exact.to_integral_value(rounding=ROUND_HALF_EVEN))


def preview_totals(
    payments: Sequence[tuple[int, Sequence[Participant], int | None, int]],
    current: RuleTerms,
    proposed: RuleTerms,
) -> pd.DataFrame:
    """Per member (and the common fund, as id 0): what the payments (amount, participants,
    finder_id, seed) gave under each rule."""
    import pandas as pd
    rows = []
    for amount, participants, finder_id, seed in payments:
        for label, terms in (("current", current), ("proposed", proposed)):
            result = split_payment(amount, terms, participants, finder_id, seed=seed)
            rows.append({"membership_id": 0, "rule": label, "amount": result.common_fund})
            rows.extend({"membership_id": m, "rule": label, "amount": a}
                        for m, a in result.by_member().items())
    if not rows:
        return pd.DataFrame({"membership_id": pd.Series(dtype="int64"),
                             "current": pd.Series(dtype="int64"),
                             "proposed": pd.Series(dtype="int64"),
                             "difference": pd.Series(dtype="int64")})
    frame = pd.DataFrame(rows).astype({"membership_id": "int64", "amount": "int64"})
    table = frame.pivot_table(index="membership_id", columns="rule", values="amount",
                              aggfunc="sum", fill_value=0)
    table = table.reindex(columns=["current", "proposed"], fill_value=0).astype("int64")
    table["difference"] = table["proposed"] - table["current"]
    return table.reset_index()


# --- Who shares a payment ---------------------------------------------------------------


def _ints(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """`frame` with these columns as int64."""
    return frame.astype({c: "int64" for c in columns})


def payment_participants(
    payments: pd.DataFrame,
    allocations: pd.DataFrame,
    minutes: pd.DataFrame,
) -> pd.DataFrame:
    """Who shares each payment, with the minutes that count for it.

    payments:    payment_id, pitch_id
    allocations: allocation_id, pitch_id, membership_id, weight
    minutes:     payment_id, allocation_id, minutes (the hours each payment uses: logged
                 and not used by an earlier payment; see docs/sharing.md)

    Every member allocated to a payment's pitch shares it, with 0 minutes when none of their
    hours count for it. Returns payment_id, membership_id, weight, minutes, in allocation
    order within each payment.
    """
    pay = _ints(payments[["payment_id", "pitch_id"]], ["payment_id", "pitch_id"])
    pairs = pay.merge(_ints(allocations, ["allocation_id", "pitch_id", "membership_id",
                                          "weight"]), on="pitch_id")
    key = ["payment_id", "allocation_id"]
    used = _ints(minutes[[*key, "minutes"]], [*key, "minutes"]).groupby(key)["minutes"].sum()
    pairs = pairs.set_index(key)
    pairs["minutes"] = used.reindex(pairs.index, fill_value=0).astype("int64")
    return (pairs.sort_index().reset_index()
            [["payment_id", "membership_id", "weight", "minutes"]])


def participants_by_payment(table: pd.DataFrame) -> dict[int, list[Participant]]:
    """The rows of `payment_participants` as each payment's list of participants."""
    grouped: dict[int, list[Participant]] = {}
    for payment_id, membership_id, weight, mins in table[
            ["payment_id", "membership_id", "weight", "minutes"]].itertuples(index=False):
        grouped.setdefault(int(payment_id), []).append(
            Participant(int(membership_id), int(weight), int(mins)))
    return grouped


def preview_payments(
    payments: pd.DataFrame,
    participants: pd.DataFrame,
    current: RuleTerms,
    proposed: RuleTerms,
) -> pd.DataFrame:
    """`preview_totals` of payments (payment_id, base_amount, finder_id, seed) shared by the
    `payment_participants` rows; a payment nobody shares is left out."""
    import pandas as pd
    shared = participants_by_payment(participants)
    inputs = [(int(amount), shared[int(payment_id)],
               None if pd.isna(finder_id) else int(finder_id), int(seed))
              for payment_id, amount, finder_id, seed in payments[
                  ["payment_id", "base_amount", "finder_id", "seed"]].itertuples(index=False)
              if int(payment_id) in shared]
    return preview_totals(inputs, current, proposed)


# --- Ranking members for a piece of work ----------------------------------------------

#: How much each part of the score counts (they add up to 100).
SKILL_POINTS = 50
CAPACITY_POINTS = 30
FAIRNESS_POINTS = 20
VOLUNTEER_BONUS = 5
#: Evidence from delivered work, on top of the self-assessment: up to this many points,
#: full at EVIDENCE_FULL_MINUTES delivered in each required skill.
EVIDENCE_POINTS = 10
EVIDENCE_FULL_MINUTES = 100 * 60


def rank_candidates(
    members: pd.DataFrame,
    skills: pd.DataFrame,
    required: Mapping[str, int],
    load: pd.DataFrame,
    earnings: pd.DataFrame,
    volunteers: Sequence[int] = (),
    limit: int | None = 20,
    evidence: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rank members for a pitch by skill match, free capacity this week and fairness, with
    `evidence_points` for delivered work in the required skills.

    members:  membership_id, name, capacity (weekly hours), is_active
    skills:   membership_id, skill, level
    required: {skill: level needed}
    load:     membership_id, hours (weekly hours of active allocations)
    earnings: membership_id, earned (minor units from the pool over the last 90 days)
    evidence: membership_id, skill, minutes (of delivered work behind the skill)

    Returns membership_id, name, score (0-100+), skill_match, free_hours, earned, volunteer,
    the matched skills and the delivered work behind them ('120 h delivered in
    bookkeeping'), best first; paused members are left out.
    """
    import numpy as np
    import pandas as pd
    ranked = members.loc[members["is_active"], ["membership_id", "name", "capacity"]].copy()
    if ranked.empty:
        return ranked.assign(score=pd.Series(dtype="int64"))
    matched = None
    # Skill match: for each required skill, the member's level over the level needed,
    # capped at 1; the mean over the required skills.
    if required:
        need = pd.Series(required, name="need").rename_axis("skill").reset_index()
        matched = skills.merge(need, on="skill", how="inner")
        fit = (np.minimum(matched["level"] / matched["need"], 1.0)
               .groupby(matched["membership_id"]).sum() / len(need))
        ranked["skill_match"] = ranked["membership_id"].map(fit).fillna(0.0)
    else:
        ranked["skill_match"] = 1.0
    hours = load.groupby("membership_id")["hours"].sum()
    ranked["free_hours"] = (ranked["capacity"] - ranked["membership_id"].map(hours).fillna(0)
                            ).clip(lower=0).astype("int64")
    most_free = ranked["free_hours"].max()
    capacity_fit = ranked["free_hours"] / most_free if most_free > 0 else 0.0
    earned = earnings.groupby("membership_id")["earned"].sum()
    ranked["earned"] = ranked["membership_id"].map(earned).fillna(0).astype("int64")
    most_earned = ranked["earned"].max()
    fairness = 1 - ranked["earned"] / most_earned if most_earned > 0 else 1.0
    ranked["volunteer"] = ranked["membership_id"].isin(list(volunteers))
    delivered = _delivered(evidence, required)
    score = (SKILL_POINTS * ranked["skill_match"] + CAPACITY_POINTS * capacity_fit
             + FAIRNESS_POINTS * fairness + VOLUNTEER_BONUS * ranked["volunteer"]
             + evidence_points(ranked["membership_id"], delivered, len(required)))
    ranked["score"] = score.round().astype("int64")
    ranked = ranked.sort_values(["score", "skill_match", "free_hours", "membership_id"],
                                ascending=[False, False, False, True], kind="stable")
    if limit is not None:
        ranked = ranked.head(limit)
    # The matched skills, labelled only for the members shown.
    ranked["skills"] = _skill_labels(ranked["membership_id"], matched)
    ranked["evidence"] = evidence_labels(ranked["membership_id"], delivered)
    return ranked[["membership_id", "name", "capacity", "skill_match", "skills", "evidence",
                   "free_hours", "earned", "volunteer", "score"]].reset_index(drop=True)


def _delivered(evidence: pd.DataFrame | None, required: Mapping[str, int]) -> pd.DataFrame:
    """The evidence rows for the required skills (membership_id, skill, minutes)."""
    import pandas as pd
    if evidence is None or evidence.empty or not required:
        return pd.DataFrame({"membership_id": pd.Series(dtype="int64"),
                             "skill": pd.Series(dtype=object),
                             "minutes": pd.Series(dtype="int64")})
    if evidence["skill"].isin(list(required)).all():
        return evidence  # the usual case: read for these skills only
    return evidence[evidence["skill"].isin(list(required))]


def evidence_points(membership_ids: pd.Series, delivered: pd.DataFrame,
                    skills_required: int) -> pd.Series:
    """EVIDENCE_POINTS times the mean over the required skills of the delivered minutes
    behind each, capped at EVIDENCE_FULL_MINUTES: 0 for a member with no delivered work."""
    import numpy as np
    if delivered.empty or not skills_required:
        return membership_ids * 0.0
    fit = (np.minimum(delivered["minutes"] / EVIDENCE_FULL_MINUTES, 1.0)
           .groupby(delivered["membership_id"]).sum() / skills_required)
    return EVIDENCE_POINTS * membership_ids.map(fit).fillna(0.0)


def evidence_labels(membership_ids: pd.Series, delivered: pd.DataFrame) -> pd.Series:
    """'120 h delivered in bookkeeping, 40 h in tax prep' for each member ('' for none),
    most hours first."""
    import pandas as pd
    labels: dict[int, list[str]] = {}
    shown = delivered[delivered["membership_id"].isin(membership_ids)].sort_values(
        ["minutes", "skill"], ascending=[False, True], kind="stable")
    for member, skill, minutes in shown[["membership_id", "skill", "minutes"]].itertuples(
            index=False):
        hours = f"{round(minutes / 60, 1):g} h"
        first = member not in labels
        labels.setdefault(member, []).append(
            f"{hours} delivered in {skill}" if first else f"{hours} in {skill}")
    return pd.Series([", ".join(labels.get(m, ())) for m in membership_ids],
                     index=membership_ids.index, dtype=object)


def _skill_labels(membership_ids: pd.Series, matched: pd.DataFrame | None) -> pd.Series:
    """'skill level, skill level' of each member's matched skills ('' for none), in the
    order of `matched`."""
    import pandas as pd
    labels: dict[int, list[str]] = {}
    if matched is not None:
        shown = matched[matched["membership_id"].isin(membership_ids)]
        for member, skill, level in shown[["membership_id", "skill", "level"]].itertuples(
                index=False):
            labels.setdefault(member, []).append(f"{skill} {level}")
    return pd.Series([", ".join(labels.get(m, ())) for m in membership_ids],
                     index=membership_ids.index, dtype=object)
