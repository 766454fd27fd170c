"""Each service that records a subscribed event queues its delivery in its own transaction:
invoices issued and paid in full, fund runs finished, claims and proposals decided."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from collective.benefits import claims, runs
from collective.books.invoices import payments
from collective.clock import now_utc
from collective.extensions import db
from collective.members import proposals
from collective.webhooks import endpoints
from collective.webhooks.events import EventType
from collective.webhooks.models import WebhookDelivery
from tests.benefits.factories import NOW, deposit, found_fund, passed_plan_vote, set_level
from tests.books.invoice_factories import TODAY, delivered_work, issued, set_up_invoicing
from tests.factories import make_collective
from tests.pool.factories import found_rule

EVERY_EVENT = [event.value for event in EventType]


def _subscribe(treasurer) -> None:
    endpoints.create_endpoint(treasurer, url="https://hooks.example.test/in",
                              event_types=EVERY_EVENT, allow_private=True)


def _queued() -> list[tuple[str, dict]]:
    return [(d.event_type, d.payload["data"]) for d in db.session.scalars(
        sa.select(WebhookDelivery).order_by(WebhookDelivery.id))]


def test_an_invoice_issued_and_then_paid_in_full(ctx):
    founder = make_collective(currency="USD")
    found_rule(founder, common_fund_bp=1000, finder_fee_bp=0, method="equal")
    vat = set_up_invoicing(founder)
    _subscribe(founder)
    invoice = issued(founder, delivered_work(founder), vat)  # 2,500.00 + 240.00 VAT
    payments.pay_invoice(founder, invoice, amount=137_000, received_on=TODAY, today=TODAY)
    assert [kind for kind, _ in _queued()] == ["invoice.issued", "payment.recorded"]

    last = payments.pay_invoice(founder, invoice, amount=137_000, received_on=TODAY,
                                today=TODAY)

    kind, data = _queued()[-1]
    assert kind == "invoice.paid"
    assert (data["invoice_id"], data["number"], data["payment_id"]) == (
        invoice.id, invoice.number, last.id)
    assert (data["gross_amount"], data["tax_amount"], data["currency"]) == (274_000, 24_000,
                                                                            "USD")
    assert data["url"].endswith(f"/books/invoices/{invoice.id}")


def test_a_fund_run_a_decided_claim_and_a_decided_proposal(ctx):
    treasurer, ann, bob = found_fund(3, start=date(2026, 7, 1))
    _subscribe(treasurer)
    set_level(ann, 100_000, start=date(2026, 7, 1))
    for person in (treasurer, ann, bob):
        deposit(treasurer, person, 100_000, on=date(2026, 7, 1))
    runs.run(treasurer.collective_id, "contributions", date(2026, 7, 1),
             today=date(2027, 3, 1))
    claim = claims.file_claim(ann, kind="sick", start_period=date(2026, 8, 1), months=6,
                              today=date(2026, 8, 3), now=NOW)
    claims.decide_claim(treasurer, claim, approve=True, reason="Get well.", now=NOW)
    proposal = passed_plan_vote([treasurer, ann, bob], effective_on=date(2027, 1, 1))
    assert proposals.decide_proposal(proposal, now_utc())

    (run_kind, run), (claim_kind, decided), (proposal_kind, vote) = _queued()
    assert (run_kind, run["kind"], run["period"]) == ("run.finished", "contributions",
                                                      "2026-07")
    assert run["total_amount"] > 0 and run["currency"] == "USD"
    assert (claim_kind, decided["claim_id"], decided["status"]) == ("claim.decided", claim.id,
                                                                    "approved")
    assert "reason" not in decided  # a claim's reason stays in the app
    assert (proposal_kind, vote["proposal_id"], vote["status"]) == ("proposal.decided",
                                                                    proposal.id, "adopted")


def test_a_payment_reversed_from_anywhere_is_told_once(ctx):
    from collective.ledger import services as ledger
    from collective.ledger.models import JournalEntry

    founder = make_collective(currency="USD")
    found_rule(founder, common_fund_bp=1000, finder_fee_bp=0, method="equal")
    vat = set_up_invoicing(founder)
    _subscribe(founder)
    invoice = issued(founder, delivered_work(founder), vat)
    paid = payments.pay_invoice(founder, invoice, amount=137_000, received_on=TODAY,
                                today=TODAY)
    entry = db.session.get(JournalEntry, paid.entry_id)

    reversal = ledger.reverse_entry(entry, today=TODAY, created_by_id=founder.user_id)
    ledger.reverse_entry(entry, today=TODAY)  # the same reversal again: told once

    reversed_events = [data for kind, data in _queued() if kind == "payment.reversed"]
    assert len(reversed_events) == 1
    data = reversed_events[0]
    assert (data["payment_id"], data["entry_id"], data["reversal_entry_id"]) == (
        paid.id, paid.entry_id, reversal.id)
    assert (data["amount"], data["currency"], data["reversed_on"]) == (
        137_000, "USD", TODAY.isoformat())
    assert data["url"].endswith(f"/payments/{paid.id}")
