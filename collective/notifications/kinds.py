"""The kinds of notification, and how each reaches a member unless they choose otherwise."""
from __future__ import annotations

import enum


class Channel(enum.StrEnum):
    """In the app only, e-mailed at once, or gathered into the daily digest."""

    APP = "app"
    EMAIL = "email"
    DIGEST = "digest"


CHANNEL_LABELS = {
    Channel.APP: "In the app only",
    Channel.EMAIL: "E-mail at once",
    Channel.DIGEST: "Daily digest",
}


class Kind(enum.StrEnum):
    PROPOSAL_OPENED = "proposal_opened"
    PROPOSAL_CLOSING = "proposal_closing"
    PROPOSAL_DECIDED = "proposal_decided"
    CLAIM_FILED = "claim_filed"
    CLAIM_DECIDED = "claim_decided"
    PAYMENT_SPLIT = "payment_split"
    PAYOUT_SENT = "payout_sent"
    PITCH_ALLOCATED = "pitch_allocated"
    FUND_RUN = "fund_run"
    WORK_DEADLINE = "work_deadline"
    CONTRIBUTION = "contribution"
    EXPENSE_SUBMITTED = "expense_submitted"
    EXPENSE_DECIDED = "expense_decided"


#: (label shown on the preferences page, default channel). Money events and claim decisions
#: are e-mailed at once; the rest stay in the app unless a member asks for more.
KINDS: dict[Kind, tuple[str, Channel]] = {
    Kind.PROPOSAL_OPENED: ("A proposal opened for your vote", Channel.APP),
    Kind.PROPOSAL_CLOSING: ("A vote closes within a day and you have not voted",
                            Channel.APP),
    Kind.PROPOSAL_DECIDED: ("A proposal was decided", Channel.APP),
    Kind.CLAIM_FILED: ("A claim was filed (treasurers)", Channel.APP),
    Kind.CLAIM_DECIDED: ("Your claim was decided", Channel.EMAIL),
    Kind.PAYMENT_SPLIT: ("A client payment brought you a share", Channel.EMAIL),
    Kind.PAYOUT_SENT: ("A payout was sent to you", Channel.EMAIL),
    Kind.CONTRIBUTION: ("Your fund contribution is owed or was settled", Channel.EMAIL),
    Kind.PITCH_ALLOCATED: ("You were allocated to a pitch", Channel.APP),
    Kind.WORK_DEADLINE: ("Work you are on is due within 3 days", Channel.APP),
    Kind.FUND_RUN: ("A fund run was done or failed (treasurers)", Channel.APP),
    Kind.EXPENSE_SUBMITTED: ("An expense waits for a decision (treasurers)", Channel.APP),
    Kind.EXPENSE_DECIDED: ("Your expense was approved or rejected", Channel.EMAIL),
}


def label(kind: str) -> str:
    return KINDS[Kind(kind)][0]


def default_channel(kind: str) -> Channel:
    return KINDS[Kind(kind)][1]
