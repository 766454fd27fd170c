"""Invoices through their services: drafting, issuing (number and entry), credit notes,
write-offs, status from the postings, and an issued invoice that cannot change."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collective.books.invoices import adjustments, drafts, issuing, queries
from collective.books.invoices.drafts import DraftLine, NotADraft
from collective.books.invoices.models import Invoice, InvoiceLine
from collective.books.invoices.queries import Status, standing
from collective.errors import DomainError, NotAllowed, NotFound
from collective.extensions import db
from collective.ledger.models import JournalEntry
from collective.members.models import Role
from tests.benefits.factories import found_fund, plan
from tests.books.invoice_factories import (
    NOW,
    TODAY,
    delivered_work,
    draft,
    issued,
    set_up_invoicing,
)
from tests.factories import make_collective, make_member
from tests.pool.factories import allocate, make_pitch


def _postings(entry_id: int) -> dict[str, int]:
    entry = db.session.get(JournalEntry, entry_id)
    return {p.account.code: p.amount for p in entry.postings}


@pytest.fixture
def books(ctx):
    founder = make_collective(currency="USD")
    vat = set_up_invoicing(founder)
    return founder, vat, delivered_work(founder)


def test_a_draft_is_due_after_the_payment_terms_and_posts_nothing(books):
    founder, vat, work = books
    count = sa.select(sa.func.count(JournalEntry.id)).filter_by(
        collective_id=founder.collective_id)
    entries_before = db.session.scalar(count)
    invoice = draft(founder, work, vat)
    assert invoice.due_on == TODAY + timedelta(days=30)
    assert invoice.currency == "USD" and invoice.number is None
    assert drafts.invoice_totals(invoice).gross == 274_000
    assert standing(invoice).status == Status.DRAFT
    assert db.session.scalar(count) == entries_before


def test_issuing_numbers_and_posts_receivable_income_and_tax(books):
    founder, vat, work = books
    invoice = issued(founder, work, vat)
    assert invoice.number == "BRC-2026-0001"
    # 2 x 1,000.00 + 12% VAT, and 500.00 without tax
    assert (invoice.net_amount, invoice.tax_amount, invoice.base_gross) == (250_000, 24_000,
                                                                           274_000)
    assert _postings(invoice.entry_id) == {"1100": 274_000, "4000": -250_000, "2300": -24_000}
    entry = db.session.get(JournalEntry, invoice.entry_id)
    assert (entry.kind, entry.idempotency_key) == ("invoice", f"invoice:{invoice.id}")
    assert invoice.seller["legal_name"] == "Bayanihan Remote Collective"
    assert invoice.buyer["tax_id"] == "ABN 51 824 753 556"
    assert standing(invoice).status == Status.ISSUED
    second = issued(founder, delivered_work(founder, client_name="Kite Studio"), vat)
    assert second.number == "BRC-2026-0002"
    next_year = issued(founder, delivered_work(founder, client_name="Ube Labs"), vat,
                       issued_on=TODAY)
    assert next_year.number == "BRC-2026-0003"


def test_a_foreign_currency_invoice_posts_at_the_rate_of_issue(books):
    founder, vat, _ = books
    work = delivered_work(founder, currency="EUR", client_name="Berlin GmbH")
    invoice = issued(founder, work, vat, rate=Decimal("1.1"),
                     lines=[DraftLine("Design", Decimal(1), 100_000, vat.id)])
    # EUR 1,000.00 + 120.00 VAT = 1,120.00 at 1.1 = USD 1,232.00: 1,100.00 income, 132.00 tax
    assert (invoice.currency, invoice.rate, invoice.gross_amount) == ("EUR", Decimal("1.1"),
                                                                      112_000)
    assert _postings(invoice.entry_id) == {"1100": 123_200, "4000": -110_000, "2300": -13_200}


def test_a_foreign_invoice_without_a_rate_is_refused_and_takes_no_number(books):
    founder, vat, _ = books
    work = delivered_work(founder, currency="EUR", client_name="Berlin GmbH")
    invoice = draft(founder, work, vat)
    with pytest.raises(DomainError) as refused:
        issuing.issue_invoice(founder, invoice, issued_on=TODAY, rate=None, today=TODAY)
    assert refused.value.field == "rate"
    db.session.rollback()


def test_an_issued_invoice_cannot_be_edited_deleted_or_issued_again(books):
    founder, vat, work = books
    invoice = issued(founder, work, vat)
    line = [DraftLine("Other", Decimal(1), 1, None)]
    with pytest.raises(NotADraft):
        drafts.edit_draft(founder, invoice, lines=line, due_on=TODAY, today=TODAY)
    with pytest.raises(NotADraft):
        drafts.delete_draft(founder, invoice)
    with pytest.raises(NotADraft):
        issuing.issue_invoice(founder, invoice, issued_on=TODAY, today=TODAY)


def test_the_database_refuses_to_change_an_issued_invoice_or_its_lines(books):
    founder, vat, work = books
    invoice = issued(founder, work, vat)
    for statement in (sa.update(Invoice).where(Invoice.id == invoice.id).values(notes="x"),
                      sa.update(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
                      .values(unit_price=1),
                      sa.delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)):
        with pytest.raises(sa.exc.DatabaseError), db.session.begin_nested():
            db.session.execute(statement)


def test_drafts_can_be_edited_and_deleted(books):
    founder, vat, work = books
    invoice = draft(founder, work, vat)
    drafts.edit_draft(founder, invoice, lines=[DraftLine("Audit", Decimal("1.5"), 33_333, None)],
                      due_on=date(2026, 12, 1), today=TODAY)
    assert drafts.invoice_totals(invoice).gross == 50_000  # 1.5 x 333.33 = 499.995 -> 500.00
    drafts.delete_draft(founder, invoice)
    assert db.session.get(Invoice, invoice.id) is None


@pytest.mark.parametrize("line, message", [
    (DraftLine("", Decimal(1), 100, None), "say what the line is for"),
    (DraftLine("x", Decimal(0), 100, None), "quantity"),
    (DraftLine("x", Decimal("0.0001"), 100, None), "quantity"),
    (DraftLine("x", Decimal(1), -5, None), "unit price"),
    (DraftLine("x", Decimal(1), 5, 999_999), "tax rate"),
])
def test_bad_lines_are_refused_with_the_line_named(books, line, message):
    founder, _, work = books
    with pytest.raises(DomainError) as refused:
        draft(founder, work, lines=[line])
    assert message in refused.value.message and "line 1" in refused.value.message


def test_only_won_to_delivered_work_is_invoiced_by_coordinators_or_treasurers(books):
    founder, vat, work = books
    with pytest.raises(DomainError, match="cannot be invoiced"):
        draft(founder, make_pitch(founder), vat)
    member = make_member(founder.collective)
    with pytest.raises(NotAllowed):
        draft(member, work, vat)
    coordinator = make_member(founder.collective, roles=(Role.MEMBER, Role.COORDINATOR))
    invoice = draft(coordinator, work, vat)
    with pytest.raises(NotAllowed):
        issuing.issue_invoice(coordinator, invoice, issued_on=TODAY, today=TODAY)
    other = make_collective()
    with pytest.raises(NotFound):
        issuing.issue_invoice(other, invoice, issued_on=TODAY, today=TODAY)


def test_a_partial_credit_note_mirrors_the_invoice_in_proportion(books):
    founder, vat, work = books
    invoice = issued(founder, work, vat, lines=[DraftLine("Design", Decimal(1), 100_000,
                                                          vat.id)])
    note = adjustments.issue_credit_note(founder, invoice, amount=56_000, reason="Half done",
                                         issued_on=TODAY, today=TODAY)
    assert note.number == "BRC-2026-CN-0001"
    # 560.00 of 1,120.00: 500.00 income and 60.00 tax come back
    assert (note.gross_amount, note.tax_amount) == (56_000, 6_000)
    assert _postings(note.entry_id) == {"4000": 50_000, "2300": 6_000, "1100": -56_000}
    found = standing(invoice)
    assert (found.status, found.open_amount, found.open_base) == (Status.ISSUED, 56_000, 56_000)
    rest = adjustments.issue_credit_note(founder, invoice, amount=None, reason="Cancelled",
                                         issued_on=TODAY, today=TODAY)
    assert rest.number == "BRC-2026-CN-0002" and rest.gross_amount == 56_000
    assert standing(invoice).status == Status.CREDITED
    with pytest.raises(DomainError, match="nothing open"):
        adjustments.issue_credit_note(founder, invoice, amount=None, reason="again",
                                      issued_on=TODAY, today=TODAY)


def test_a_credit_note_for_more_than_is_open_is_refused(books):
    founder, vat, work = books
    invoice = issued(founder, work, vat)
    with pytest.raises(DomainError) as refused:
        adjustments.issue_credit_note(founder, invoice, amount=274_001, reason="x",
                                      issued_on=TODAY, today=TODAY)
    assert refused.value.field == "amount"


def test_a_write_off_posts_what_is_open_to_bad_debts(books):
    founder, vat, work = books
    invoice = issued(founder, work, vat)
    adjustments.issue_credit_note(founder, invoice, amount=74_000, reason="Discount",
                                  issued_on=TODAY, today=TODAY)
    done = adjustments.write_off(founder, invoice, written_off_on=TODAY, today=TODAY, now=NOW)
    assert _postings(done.entry.id) == {"5300": 200_000, "1100": -200_000}
    assert done.entry.idempotency_key == f"write-off:{invoice.id}"
    assert standing(invoice).status == Status.WRITTEN_OFF
    assert done.claims == []


@pytest.fixture
def worked(ctx):
    """A fund whose plan pays unpaid invoices (50%, up to 1,000.00, 60 days past due), and
    delivered work by two members weighted 1 and 3."""
    founder, ana, ben = found_fund(size=3, terms=plan(eligibility_months=0))
    vat = set_up_invoicing(founder)
    work = delivered_work(founder)
    db.session.delete(work.allocations[0])  # the founder led it by default: start over
    db.session.flush()
    db.session.refresh(work)
    allocate(founder, work, ana, weight=1)
    allocate(founder, work, ben, weight=3)
    db.session.refresh(work)
    return founder, ana, ben, vat, work


def test_a_write_off_long_overdue_opens_claims_for_the_workers(worked):
    founder, ana, ben, vat, work = worked
    invoice = issued(founder, work, vat, issued_on=date(2026, 6, 1), due_on=date(2026, 7, 1))
    done = adjustments.write_off(founder, invoice, written_off_on=TODAY, today=TODAY, now=NOW,
                                 open_claims=True)
    assert done.not_opened == []
    # 2,740.00 lost, 1:3 -> 685.00 and 2,055.00; the plan pays half, at most 1,000.00
    got = {c.membership_id: (c.kind, c.invoice_amount, c.amount) for c in done.claims}
    assert got == {ana.id: ("unpaid_invoice", 68_500, 34_250),
                   ben.id: ("unpaid_invoice", 205_500, 100_000)}
    assert sorted(queries.claim_ids_of(invoice)) == sorted(c.id for c in done.claims)
    assert invoice.number in done.claims[0].note


def test_a_write_off_before_the_threshold_opens_no_claim_and_says_why(worked):
    founder, _, _, vat, work = worked
    invoice = issued(founder, work, vat, due_on=date(2026, 9, 1))
    done = adjustments.write_off(founder, invoice, written_off_on=TODAY, today=TODAY, now=NOW,
                                 open_claims=True)
    assert done.claims == []
    assert done.not_opened == ["the invoice is 39 days overdue; the plan pays unpaid invoices "
                               "60 days past due"]
    assert standing(invoice).status == Status.WRITTEN_OFF


@pytest.mark.parametrize("rate_bp, label", [(1000, "GST 10%"), (1200, "GST 12%"),
                                            (725, "GST 7.25%"), (50, "GST 0.5%"),
                                            (10_000, "GST 100%")])
def test_tax_rate_labels(rate_bp, label):
    from collective.books.invoices.models import TaxRate

    assert TaxRate(name="GST", rate_bp=rate_bp).label == label
