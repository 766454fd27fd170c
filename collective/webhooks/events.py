"""The events a collective's webhooks can subscribe to, as the payload's `type` names them."""
from __future__ import annotations

import enum


class EventType(enum.StrEnum):
    """What happened; the value is the payload's `type`."""

    PAYMENT_RECORDED = "payment.recorded"
    PAYOUT_SENT = "payout.sent"
    CLAIM_DECIDED = "claim.decided"
    PROPOSAL_DECIDED = "proposal.decided"
    RUN_FINISHED = "run.finished"
    INVOICE_ISSUED = "invoice.issued"
    INVOICE_PAID = "invoice.paid"
    PAYMENT_REVERSED = "payment.reversed"


#: What the subscription form calls each event, in the order it lists them.
EVENT_LABELS: dict[EventType, str] = {
    EventType.PAYMENT_RECORDED: "A client payment was recorded",
    EventType.PAYOUT_SENT: "A payout was sent to members",
    EventType.CLAIM_DECIDED: "A benefit claim was approved or rejected",
    EventType.PROPOSAL_DECIDED: "A proposal was decided",
    EventType.RUN_FINISHED: "A fund run (contributions or payouts) finished",
    EventType.INVOICE_ISSUED: "An invoice was issued",
    EventType.INVOICE_PAID: "An invoice was paid in full",
    EventType.PAYMENT_REVERSED: "A client payment was reversed",
}


def event_label(value: str) -> str:
    """What the pages call an event type; the value itself for one no longer listed."""
    try:
        return EVENT_LABELS[EventType(value)]
    except ValueError:
        return value
