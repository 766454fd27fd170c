"""The pool's named kinds and the numbers of a share rule, with no database and no Flask:
the models store them, compute splits by them, and both describe a rule the same way."""
from __future__ import annotations

import enum
from dataclasses import dataclass


class SplitMethod(enum.StrEnum):
    """How the members' part of a payment is divided among the allocated members."""

    HOURS = "hours"
    EQUAL = "equal"
    WEIGHTS = "weights"


class AllocationRole(enum.StrEnum):
    """A member's part in a pitch: one lead at most, any number of contributors."""

    LEAD = "lead"
    CONTRIBUTOR = "contributor"


@dataclass(frozen=True)
class RuleTerms:
    """The numbers of a share rule."""

    common_fund_bp: int
    finder_fee_bp: int
    method: str  #: a SplitMethod value


#: How each method divides the rest, as a rule's description says it.
_METHOD_WORDS = {SplitMethod.HOURS: "by logged hours", SplitMethod.EQUAL: "equally",
                 SplitMethod.WEIGHTS: "by allocation weights"}


def describe_terms(terms: RuleTerms) -> str:
    """A share rule in words, e.g. '10% common fund, 5% finder's fee, the rest by logged
    hours'."""
    return (f"{terms.common_fund_bp / 100:g}% common fund, "
            f"{terms.finder_fee_bp / 100:g}% finder's fee, the rest "
            f"{_METHOD_WORDS[SplitMethod(terms.method)]}")
