"""The rest of an invoice's life through the API, as on its pages: drafts edited and deleted,
credit notes and write-offs posted once, the PDF, the e-mail; an expense's receipt file; the
audit log's CSV; and /me."""
from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from collective.audit.models import AuditEvent
from collective.books.invoices.models import CreditNote, Invoice
from collective.clock import today_in
from collective.extensions import db
from collective.ledger.balances import check_ledger
from collective.ledger.models import EntryKind, JournalEntry
from collective.mail.models import OutboxMessage
from collective.pool.models import Pitch
from tests.api.conftest import receipt_json
from tests.api.test_books import INVOICES, _count, _new_draft

EXPENSES = "/collectives/ours/expenses"


def _issued(api, world, books) -> dict:
    """A new invoice of 2,340.00 (210,000 + 24,000 VAT), issued today."""
    draft = api("POST", INVOICES, world.full, json=_new_draft(world, books)).get_json()
    issued = api("POST", f"{INVOICES}/{draft['id']}/issue", world.full, json={})
    assert issued.status_code == 200, issued.get_data(as_text=True)
    return issued.get_json()


def test_a_draft_is_edited_and_deleted_but_an_issued_invoice_is_not(api, world, books, setup):
    draft = f"{INVOICES}/{books.draft_id}"
    edited = api("PUT", draft, books.coordinator, json={
        "lines": [{"description": "Audit, hours", "quantity": "3", "unit_price": 5_000}],
        "notes": "Edited", "due_on": None})
    assert edited.status_code == 200, edited.get_data(as_text=True)
    body = edited.get_json()
    assert (body["gross_amount"], body["notes"], [line["description"] for line in
                                                  body["lines"]]) == (
        15_000, "Edited", ["Audit, hours"])
    assert api("PUT", draft, world.read_only, json={
        "lines": [{"description": "x", "unit_price": 1}]}).status_code == 403

    issued = _issued(api, world, books)
    again = api("PUT", f"{INVOICES}/{issued['id']}", world.full, json={
        "lines": [{"description": "x", "unit_price": 1}]})
    assert again.status_code == 409 and "invoice" in again.get_json()["error"]["fields"]
    assert api("DELETE", f"{INVOICES}/{issued['id']}", world.full).status_code == 409
    assert api("DELETE", draft, world.member).status_code == 403
    gone = api("DELETE", draft, world.full)
    assert (gone.status_code, gone.get_data()) == (204, b"")
    assert api("GET", draft, world.full).status_code == 404
    assert api("DELETE", f"{INVOICES}/{books.their_invoice_id}", world.full).status_code == 404
    with setup():
        assert db.session.get(Invoice, books.draft_id) is None
        assert db.session.get(Invoice, books.their_invoice_id) is not None


def test_a_credit_note_posts_once_and_credits_tax_in_proportion(api, world, books, setup):
    issued = _issued(api, world, books)
    notes = f"{INVOICES}/{issued['id']}/credit-notes"
    part = {"amount": 117_000, "reason": "Half the design days were not needed"}
    key = {"Idempotency-Key": "credit-1"}
    made = api("POST", notes, world.full, json=part, headers=key)
    assert made.status_code == 201, made.get_data(as_text=True)
    note = made.get_json()
    # 117,000 of 234,000 is half: half of the 24,000 VAT is 12,000.
    assert (note["gross_amount"], note["tax_amount"], note["invoice_id"]) == (
        117_000, 12_000, issued["id"])
    assert note["number"].startswith("BRC-") and "CN" in note["number"]
    replay = api("POST", notes, world.full, json=part, headers=key)
    assert (replay.status_code, replay.get_data()) == (201, made.get_data())
    after = api("GET", f"{INVOICES}/{issued['id']}", world.full).get_json()
    assert (after["credited_amount"], after["open_amount"], after["status"]) == (
        117_000, 117_000, "issued")
    listed = api("GET", notes, books.coordinator).get_json()
    assert [n["id"] for n in listed["items"]] == [note["id"]]

    too_much = api("POST", notes, world.full, json={**part, "amount": 117_001})
    assert too_much.status_code == 422 and list(too_much.get_json()["error"]["fields"]) == [
        "amount"]
    no_reason = api("POST", notes, world.full, json={"reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["error"]["fields"]
    assert api("POST", notes, books.coordinator, json=part).status_code == 403
    rest = api("POST", notes, world.full, json={"reason": "Project cancelled"})
    assert rest.status_code == 201 and rest.get_json()["gross_amount"] == 117_000
    credited = api("GET", f"{INVOICES}/{issued['id']}", world.full).get_json()
    assert (credited["status"], credited["open_amount"], credited["credited_amount"]) == (
        "credited", 0, 234_000)
    with setup():
        assert _count(CreditNote, invoice_id=issued["id"]) == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry).where(
            JournalEntry.kind == EntryKind.CREDIT_NOTE.value)) == 2
        assert check_ledger().ok
    assert api("POST", f"{INVOICES}/{books.their_invoice_id}/credit-notes", world.full,
               json=part).status_code == 404
    assert api("GET", f"/collectives/ours/invoices/{books.draft_id}/credit-notes",
               world.full).get_json()["items"] == []


def test_a_write_off_posts_what_is_open_to_bad_debts_once(api, world, books, setup):
    issued = _issued(api, world, books)
    pay = api("POST", f"{INVOICES}/{issued['id']}/payments", world.full,
              json={"amount": 34_000, "received_on": issued["issued_on"]})
    assert pay.status_code == 201
    off = f"{INVOICES}/{issued['id']}/write-off"
    assert api("POST", off, books.coordinator, json={}).status_code == 403
    done = api("POST", off, world.full, json={"open_claims": True},
               headers={"Idempotency-Key": "off-1"})
    assert done.status_code == 200, done.get_data(as_text=True)
    body = done.get_json()
    assert body["written_off_base"] == 200_000 and body["claim_ids"] == []
    assert body["not_opened"]  # not overdue, or no such benefit: it says why
    assert (body["invoice"]["status"], body["invoice"]["open_amount"],
            body["invoice"]["written_off_amount"]) == ("written off", 0, 200_000)
    assert api("POST", off, world.full, json={"open_claims": True},
               headers={"Idempotency-Key": "off-1"}).get_data() == done.get_data()
    twice = api("POST", off, world.full, json={})
    assert twice.status_code == 422 and "amount" in twice.get_json()["error"]["fields"]
    future = api("POST", f"{INVOICES}/{_issued(api, world, books)['id']}/write-off",
                 world.full, json={"written_off_on": "2099-01-01"})
    assert future.status_code == 422 and list(future.get_json()["error"]["fields"]) == [
        "written_off_on"]
    with setup():
        entries = db.session.scalars(sa.select(JournalEntry).where(
            JournalEntry.kind == EntryKind.WRITE_OFF.value)).all()
        assert [e.idempotency_key for e in entries] == [f"write-off:{issued['id']}"]
        assert check_ledger().ok


def test_the_invoice_pdf_and_its_email(api, world, books, setup):
    draft_pdf = api("GET", f"{INVOICES}/{books.draft_id}/pdf", books.coordinator)
    assert draft_pdf.status_code == 200 and draft_pdf.mimetype == "application/pdf"
    assert draft_pdf.get_data().startswith(b"%PDF")
    assert f'filename="draft-{books.draft_id}.pdf"' in draft_pdf.headers["Content-Disposition"]
    assert api("GET", f"{INVOICES}/{books.draft_id}/pdf", world.member).status_code == 403
    assert api("GET", f"{INVOICES}/{books.their_invoice_id}/pdf",
               world.full).status_code == 404
    unsent = api("POST", f"{INVOICES}/{books.draft_id}/send", world.full)
    assert unsent.status_code == 422 and list(unsent.get_json()["error"]["fields"]) == [
        "invoice"]
    with setup():
        db.session.get(Pitch, world.pitch_id).client.billing_email = "accounts@client.test"
        db.session.commit()
    issued = _issued(api, world, books)
    named = api("GET", f"{INVOICES}/{issued['id']}/pdf", world.full)
    assert f'filename="{issued["number"]}.pdf"' in named.headers["Content-Disposition"]
    assert named.get_data().startswith(b"%PDF") and b"DRAFT" not in named.get_data()

    sent = api("POST", f"{INVOICES}/{issued['id']}/send", books.coordinator)
    assert sent.status_code == 200, sent.get_data(as_text=True)
    assert sent.get_json() == {"queued": True, "recipient": "accounts@client.test"}
    again = api("POST", f"{INVOICES}/{issued['id']}/send", world.full).get_json()
    assert again == {"queued": False, "recipient": None}
    with setup():
        assert _count(OutboxMessage, event_key=f"invoice:{issued['id']}") == 1


def test_a_receipt_downloads_to_its_submitter_and_treasurers_only(api, world, books, setup):
    expense = api("GET", f"{EXPENSES}/{books.expense_id}", world.member).get_json()
    receipt = expense["receipts"][0]
    path = f"{EXPENSES}/{books.expense_id}/receipts/{receipt['id']}"
    own = api("GET", path, world.member)
    assert own.status_code == 200 and own.mimetype == "image/png"
    assert own.get_data().startswith(b"\x89PNG")
    assert own.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in own.headers["Content-Disposition"]
    assert api("GET", path, world.full).get_data() == own.get_data()
    assert api("GET", path, books.coordinator).status_code == 404
    assert api("GET", f"{EXPENSES}/{books.expense_id}/receipts/{receipt['id'] + 999}",
               world.member).status_code == 404
    theirs = api("GET", f"{EXPENSES}/{books.their_expense_id}", world.full)
    assert theirs.status_code == 404
    their_path = f"/collectives/theirs/expenses/{books.their_expense_id}"
    their_receipt = api("GET", their_path, world.full).get_json()["receipts"][0]["id"]
    assert api("GET", f"{EXPENSES}/{books.their_expense_id}/receipts/{their_receipt}",
               world.full).status_code == 404
    assert api("GET", f"{their_path}/receipts/{their_receipt}", world.limited).status_code == 404
    assert receipt_json()["filename"] == "receipt.png"


def test_the_audit_log_downloads_as_csv_filtered_and_recorded(api, world, books, setup):
    path = "/collectives/ours/exports/audit-log"

    def rows(answer) -> list[dict]:
        assert answer.status_code == 200 and answer.mimetype == "text/csv"
        return list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))

    assert api("GET", path, books.coordinator).status_code == 403
    whole = rows(api("GET", path, world.full))
    # Newest first, and the download itself is in the log before its first byte.
    assert whole[0]["action"] == "export.audit_log" and whole[0]["actor"]
    assert {"terms.founded", "account.registered"} <= {row["action"] for row in whole}
    founded = rows(api("GET", path, world.full, query={"action": "terms.founded"}))
    assert [row["action"] for row in founded] == ["terms.founded"]
    today = today_in("UTC").isoformat()
    assert rows(api("GET", path, world.full, query={"date_from": "2001-01-01",
                                                    "date_to": "2001-01-02"})) == []
    theirs = rows(api("GET", path, world.full, query={"membership_id": world.member_id,
                                                      "date_to": today}))
    assert "account.registered" in {row["action"] for row in theirs}
    assert "terms.founded" not in {row["action"] for row in theirs}
    assert api("GET", path, world.full, query={"action": "nope"}).status_code == 422
    backwards = api("GET", path, world.full, query={"date_from": today,
                                                    "date_to": "2001-01-01"})
    assert backwards.status_code == 422 and "date_to" in backwards.get_json()["error"][
        "fields"]
    assert api("GET", path, world.full, query={"membership_id": 999_999}).status_code == 404
    with setup():
        exports = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "export.audit_log")).all()
        assert len(exports) == 4 and all('"api"' in e.details for e in exports)


def test_me_says_who_the_caller_is_and_which_token(api, world):
    me = api("GET", "/me", world.limited)
    assert me.status_code == 200
    body = me.get_json()
    assert body["email"] == world.founder_email
    assert body["token"]["collective"] == "ours" and body["token"]["read_only"] is False
    assert "secret" not in str(body) and len(body["token"]["prefix"]) < 13
    read_only = api("GET", "/me", world.read_only).get_json()["token"]
    assert (read_only["collective"], read_only["read_only"]) == (None, True)
    assert api("GET", "/me", world.member).get_json()["email"] == world.member_email
    assert api("GET", "/me").status_code == 401
    assert api("GET", "/me", world.revoked).status_code == 401


def test_the_tax_rates_and_expense_categories_a_client_needs_are_listed(api, world, books,
                                                                         setup):
    rates = api("GET", "/collectives/ours/tax-rates", books.coordinator)
    assert rates.status_code == 200
    assert [(r["id"], r["name"], r["rate_bp"]) for r in rates.get_json()["items"]] == [
        (books.vat_id, "VAT", 1200)]
    assert api("GET", "/collectives/ours/tax-rates", world.member).status_code == 403
    categories = api("GET", "/collectives/ours/expense-categories", world.member)
    assert categories.status_code == 200
    listed = {c["name"]: c["id"] for c in categories.get_json()["items"]}
    assert listed["Travel"] == books.category_id
    with setup():
        from collective.books.expenses.models import ExpenseCategory
        from collective.books.invoices.models import TaxRate
        db.session.get(ExpenseCategory, books.category_id).is_active = False
        db.session.get(TaxRate, books.vat_id).is_retired = True
        their_ids = set(db.session.scalars(sa.select(ExpenseCategory.id).where(
            ExpenseCategory.collective_id != db.session.get(
                ExpenseCategory, books.category_id).collective_id)))
        db.session.commit()
    active = api("GET", "/collectives/ours/expense-categories", world.member).get_json()
    assert "Travel" not in {c["name"] for c in active["items"]}
    every = api("GET", "/collectives/ours/expense-categories", world.member,
                query={"inactive": "true", "limit": 100}).get_json()["items"]
    assert {"Travel": False} == {c["name"]: c["is_active"] for c in every
                                 if c["name"] == "Travel"}
    assert not their_ids & {c["id"] for c in every}
    assert api("GET", "/collectives/ours/tax-rates", world.full).get_json()["items"] == []
    retired = api("GET", "/collectives/ours/tax-rates", world.full,
                  query={"retired": "true"}).get_json()["items"]
    assert [(r["name"], r["is_retired"]) for r in retired] == [("VAT", True)]
