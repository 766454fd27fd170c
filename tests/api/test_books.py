"""Invoices and expenses through the API: the books' own services behind every call, their
roles, another collective's objects out of reach, and refusals that name the field."""
from __future__ import annotations

import base64

import sqlalchemy as sa

from collective.books.expenses.models import Expense, Receipt
from collective.books.invoices.models import Invoice
from collective.clock import today_in
from collective.extensions import db
from collective.ledger.balances import check_ledger
from collective.ledger.models import JournalEntry
from collective.pool.models import ClientPayment
from tests.api.conftest import receipt_json

INVOICES = "/collectives/ours/invoices"
EXPENSES = "/collectives/ours/expenses"


def _count(model, **where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))


def _new_draft(world, books) -> dict:
    return {"pitch_id": world.pitch_id, "due_on": None, "notes": "Thanks!",
            "lines": [{"description": "Design, days", "quantity": "2.5", "unit_price": 80_000,
                       "tax_rate_id": books.vat_id},
                      {"description": "Hosting", "unit_price": 10_000}]}


# --- Invoices ----------------------------------------------------------------------------

def test_an_invoice_is_drafted_issued_once_and_paid_to_the_end(api, world, books, setup):
    made = api("POST", INVOICES, world.full, json=_new_draft(world, books))
    assert made.status_code == 201, made.get_data(as_text=True)
    draft = made.get_json()
    # 2.5 x 800.00 = 2,000.00 + 12% VAT 240.00, and 100.00 without tax.
    assert (draft["status"], draft["number"], draft["net_amount"], draft["tax_amount"],
            draft["gross_amount"]) == ("draft", None, 210_000, 24_000, 234_000)
    assert [line["quantity"] for line in draft["lines"]] == ["2.5", "1"]

    issue = f"{INVOICES}/{draft['id']}/issue"
    key = {"Idempotency-Key": "issue-1"}
    issued = api("POST", issue, world.full, json={}, headers=key)
    assert issued.status_code == 200, issued.get_data(as_text=True)
    body = issued.get_json()
    assert body["status"] == "issued" and body["number"].startswith("BRC-")
    assert body["issued_on"] == today_in("UTC").isoformat() and body["entry_id"]
    replayed = api("POST", issue, world.full, json={}, headers=key)
    assert (replayed.status_code, replayed.get_data()) == (200, issued.get_data())
    assert replayed.headers["Idempotent-Replayed"] == "true"
    again = api("POST", issue, world.full, json={}, headers={"Idempotency-Key": "issue-2"})
    assert again.status_code == 409 and "invoice" in again.get_json()["error"]["fields"]

    pay = f"{INVOICES}/{draft['id']}/payments"
    part = {"amount": 100_000, "received_on": body["issued_on"]}
    first = api("POST", pay, world.full, json=part, headers={"Idempotency-Key": "pay-1"})
    assert first.status_code == 201, first.get_data(as_text=True)
    assert api("POST", pay, world.full, json=part,
               headers={"Idempotency-Key": "pay-1"}).get_data() == first.get_data()
    with setup():
        assert _count(ClientPayment, pitch_id=world.pitch_id) == 1
    partly = api("GET", f"{INVOICES}/{draft['id']}", world.full).get_json()
    assert (partly["status"], partly["paid_amount"], partly["open_amount"]) == (
        "partly paid", 100_000, 134_000)
    rest = api("POST", pay, world.full, json={**part, "amount": 134_000})
    assert rest.status_code == 201
    paid = api("GET", f"{INVOICES}/{draft['id']}", world.full).get_json()
    assert (paid["status"], paid["open_amount"]) == ("paid", 0)
    with setup():
        assert check_ledger().ok


def test_the_invoice_list_filters_by_status_and_day_issued_and_pages(api, world, books):
    issued = api("POST", INVOICES, world.full, json=_new_draft(world, books)).get_json()
    assert api("POST", f"{INVOICES}/{issued['id']}/issue", world.full,
               json={}).status_code == 200
    every = api("GET", INVOICES, world.full).get_json()
    assert [i["id"] for i in every["items"]] == [books.draft_id, issued["id"]]
    drafts = api("GET", INVOICES, world.full, query={"status": "draft"}).get_json()
    assert [i["id"] for i in drafts["items"]] == [books.draft_id]
    open_ones = api("GET", INVOICES, world.full, query={"status": "issued"}).get_json()
    assert [i["id"] for i in open_ones["items"]] == [issued["id"]]
    assert api("GET", INVOICES, world.full, query={"status": "paid"}).get_json()["items"] == []
    today = today_in("UTC").isoformat()
    dated = api("GET", INVOICES, world.full, query={"since": today, "until": today})
    assert [i["id"] for i in dated.get_json()["items"]] == [issued["id"]]  # no draft
    first = api("GET", INVOICES, world.full, query={"limit": 1}).get_json()
    assert [i["id"] for i in first["items"]] == [books.draft_id] and first["next_cursor"]
    second = api("GET", INVOICES, world.full,
                 query={"limit": 1, "cursor": first["next_cursor"]}).get_json()
    assert [i["id"] for i in second["items"]] == [issued["id"]]
    assert second["next_cursor"] is None
    bad = api("GET", INVOICES, world.full, query={"status": "lost"})
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["fields"]


def test_invoice_roles_are_the_pages_roles(api, world, books, setup):
    assert api("GET", INVOICES, world.member).status_code == 403
    assert api("POST", INVOICES, world.member,
               json=_new_draft(world, books)).status_code == 403
    # A coordinator drafts and reads, but only a treasurer issues.
    assert api("GET", f"{INVOICES}/{books.draft_id}", books.coordinator).status_code == 200
    refused = api("POST", f"{INVOICES}/{books.draft_id}/issue", books.coordinator, json={})
    assert refused.status_code == 403
    assert api("POST", f"{INVOICES}/{books.draft_id}/issue", world.read_only,
               json={}).status_code == 403
    with setup():
        assert db.session.get(Invoice, books.draft_id).number is None


def test_another_collectives_invoice_is_a_404(api, world, books):
    theirs = f"{INVOICES}/{books.their_invoice_id}"
    assert api("GET", theirs, world.full).status_code == 404
    assert api("POST", f"{theirs}/issue", world.full, json={}).status_code == 404
    assert api("POST", f"{theirs}/payments", world.full, json={
        "amount": 100, "received_on": today_in("UTC").isoformat()}).status_code == 404
    # Their own collective's URL answers the founder (a member there), not a limited token.
    there = f"/collectives/theirs/invoices/{books.their_invoice_id}"
    assert api("GET", there, world.full).status_code == 200
    assert api("GET", there, world.limited).status_code == 404


def test_invoice_refusals_are_422s_naming_the_field(api, world, books, setup):
    no_lines = api("POST", INVOICES, world.full, json={**_new_draft(world, books), "lines": []})
    assert no_lines.status_code == 422 and "lines" in no_lines.get_json()["error"]["fields"]
    bad_quantity = _new_draft(world, books)
    bad_quantity["lines"][0]["quantity"] = "1.2345"
    answer = api("POST", INVOICES, world.full, json=bad_quantity)
    assert answer.status_code == 422 and "lines" in answer.get_json()["error"]["fields"]
    far = api("POST", INVOICES, world.full, json={**_new_draft(world, books),
                                                  "due_on": "2099-01-01"})
    assert far.status_code == 422 and list(far.get_json()["error"]["fields"]) == ["due_on"]
    early = api("POST", f"{INVOICES}/{books.draft_id}/issue", world.full,
                json={"issued_on": "2020-01-01"})
    assert early.status_code == 422 and list(early.get_json()["error"]["fields"]) == [
        "issued_on"]
    unpaid_draft = api("POST", f"{INVOICES}/{books.draft_id}/payments", world.full,
                       json={"amount": 100, "received_on": today_in("UTC").isoformat()})
    assert unpaid_draft.status_code == 422
    assert list(unpaid_draft.get_json()["error"]["fields"]) == ["amount"]
    with setup():
        assert _count(Invoice) == 2 and _count(JournalEntry) == 1  # theirs' expense


# --- Expenses ----------------------------------------------------------------------------

def _expense(books, **changes) -> dict:
    return {"category_id": books.category_id, "amount": 2_500, "currency": "USD",
            "spent_on": today_in("UTC").isoformat(), "description": "Train to the workshop",
            "receipts": [receipt_json()], **changes}


def test_a_member_submits_an_expense_and_a_treasurer_approves_it(api, world, books, setup):
    made = api("POST", EXPENSES, world.member, json=_expense(books),
               headers={"Idempotency-Key": "train"})
    assert made.status_code == 201, made.get_data(as_text=True)
    expense = made.get_json()
    assert (expense["status"], expense["paid_by"], expense["base_amount"]) == (
        "pending", "member", 2_500)
    assert [r["content_type"] for r in expense["receipts"]] == ["image/png"]
    assert api("POST", EXPENSES, world.member, json=_expense(books),
               headers={"Idempotency-Key": "train"}).get_data() == made.get_data()
    with setup():
        assert _count(Expense, description="Train to the workshop") == 1
        assert _count(Receipt, expense_id=expense["id"]) == 1

    mine = api("GET", EXPENSES, world.member).get_json()["items"]
    assert [e["id"] for e in mine] == [books.expense_id, expense["id"]]
    decided = api("POST", f"{EXPENSES}/{expense['id']}/decision", world.full,
                  json={"approve": True})
    assert decided.status_code == 200, decided.get_data(as_text=True)
    assert decided.get_json()["status"] == "approved" and decided.get_json()["entry_id"]
    approved = api("GET", EXPENSES, world.full, query={"status": "approved"}).get_json()
    assert [e["id"] for e in approved["items"]] == [expense["id"]]

    paid = api("POST", EXPENSES, world.full, json=_expense(books, paid_by="collective",
                                                           description="Hosting"))
    assert paid.status_code == 201
    assert (paid.get_json()["status"], paid.get_json()["paid_by"]) == ("approved",
                                                                       "collective")
    with setup():
        assert check_ledger().ok


def test_expense_roles_are_the_pages_roles(api, world, books, setup):
    direct = api("POST", EXPENSES, world.member, json=_expense(books, paid_by="collective"))
    assert direct.status_code == 403
    assert api("POST", f"{EXPENSES}/{books.expense_id}/decision", world.member,
               json={"approve": True}).status_code == 403
    assert api("POST", EXPENSES, world.read_only, json=_expense(books)).status_code == 403
    # A treasurer's direct expense is not the member's to see; the member's own is.
    theirs = api("POST", EXPENSES, world.full, json=_expense(books, paid_by="collective"))
    assert api("GET", f"{EXPENSES}/{theirs.get_json()['id']}", world.member).status_code == 404
    assert api("GET", f"{EXPENSES}/{books.expense_id}", world.member).status_code == 200
    listed = api("GET", EXPENSES, world.member).get_json()["items"]
    assert [e["id"] for e in listed] == [books.expense_id]
    with setup():
        assert _count(Expense) == 3  # the fixture's two and the treasurer's


def test_another_collectives_expense_is_a_404(api, world, books):
    theirs = f"{EXPENSES}/{books.their_expense_id}"
    assert api("GET", theirs, world.full).status_code == 404
    assert api("POST", f"{theirs}/decision", world.full,
               json={"approve": False, "reason": "no"}).status_code == 404


def test_expense_refusals_are_422s_naming_the_field(api, world, books, setup):
    not_base64 = api("POST", EXPENSES, world.member, json=_expense(
        books, receipts=[{"filename": "r.png", "content_base64": "%%%"}]))
    assert not_base64.status_code == 422
    assert list(not_base64.get_json()["error"]["fields"]) == ["receipts"]
    text = base64.b64encode(b"just some text").decode()
    not_a_receipt = api("POST", EXPENSES, world.member, json=_expense(
        books, receipts=[{"filename": "receipt.pdf", "content_base64": text}]))
    assert not_a_receipt.status_code == 422
    assert list(not_a_receipt.get_json()["error"]["fields"]) == ["receipts"]
    future = api("POST", EXPENSES, world.member, json=_expense(books, spent_on="2099-01-01"))
    assert future.status_code == 422 and list(future.get_json()["error"]["fields"]) == [
        "spent_on"]
    own = api("POST", f"{EXPENSES}/{books.expense_id}/decision", world.full,
              json={"approve": False})
    assert own.status_code == 422 and list(own.get_json()["error"]["fields"]) == ["reason"]
    with setup():
        assert _count(Expense) == 2 and _count(JournalEntry) == 1  # theirs' direct one


def test_a_status_filtered_page_cut_short_by_its_scan_goes_on_by_its_cursor(api, world, books,
                                                                          monkeypatch):
    from collective.api.views import books as book_views

    made = []
    for _ in range(2):
        invoice = api("POST", INVOICES, world.full, json=_new_draft(world, books)).get_json()
        issued = api("POST", f"{INVOICES}/{invoice['id']}/issue", world.full, json={})
        made.append(issued.get_json())
    unpaid, paid = made
    assert api("POST", f"{INVOICES}/{paid['id']}/payments", world.full, json={
        "amount": paid["gross_amount"], "received_on": paid["issued_on"]}).status_code == 201
    monkeypatch.setattr(book_views, "STATUS_SCAN", 1)
    first = api("GET", INVOICES, world.full, query={"status": "paid"}).get_json()
    # The scan read the unpaid one only: nothing to show yet, but the list goes on.
    assert first["items"] == [] and first["next_cursor"]
    second = api("GET", INVOICES, world.full,
                 query={"status": "paid", "cursor": first["next_cursor"]}).get_json()
    assert [i["id"] for i in second["items"]] == [paid["id"]] and unpaid["id"] < paid["id"]
    third = api("GET", INVOICES, world.full,
                query={"status": "paid", "cursor": second["next_cursor"]}).get_json()
    assert third == {"items": [], "next_cursor": None}
