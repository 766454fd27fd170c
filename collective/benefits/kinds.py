"""The fund's named kinds: what a claim is for, where it stands, the two runs and the lines a
run writes. Plain enums with no database import, so compute.py (which knows neither Flask
nor the database) and models.py (which stores them) name the same values."""
from __future__ import annotations

import enum


class BenefitKind(enum.StrEnum):
    """What a claim is for."""

    SICK = "sick"
    PARENTAL = "parental"
    UNPAID_INVOICE = "unpaid_invoice"
    HARDSHIP = "hardship"

    @property
    def label(self) -> str:
        """Human name."""
        return {"sick": "sick leave", "parental": "parental leave",
                "unpaid_invoice": "unpaid client invoice", "hardship": "hardship"}[self.value]


class ClaimStatus(enum.StrEnum):
    """Where a claim stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class RunKind(enum.StrEnum):
    """The two scheduled money runs of a period."""

    CONTRIBUTIONS = "contributions"
    PAYOUTS = "payouts"


class RunLineKind(enum.StrEnum):
    """What one line of a run records for one member."""

    #: Paid into the fund.
    CONTRIBUTION = "contribution"
    #: Could not be paid (the member's payable was too low); settled in a later period.
    OWED = "owed"
    #: Owed from an earlier period, paid now.
    SETTLED = "settled"
    #: Above the reserve cap, given back.
    RETURN = "return"
    #: Paid to a claimant.
    BENEFIT = "benefit"
    #: A member's share of a benefit paid to another.
    GIFT = "gift"
    #: The part of a gift the donor's reserve could not cover: the donor owes it to the fund
    #: (a receivable), so the reserve never goes below zero.
    DEBT = "debt"
    #: Part of a contribution that paid back such a debt instead of adding to the reserve.
    DEBT_PAID = "debt-paid"
    #: A shortfall of an earlier month's benefit (the fund was too small, or nobody else
    #: contributed that month), made up now.
    MAKEUP = "makeup"
    #: A member's reserve given back when they left the collective.
    LEAVING = "leaving"
