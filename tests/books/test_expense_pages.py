"""Expense pages: submitting with receipts, refusals on the form, a 413 for a huge upload,
receipts served only to the submitter and the treasurers, deciding on the expense page,
and the direct expense and category pages."""
from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from collective.books.expenses import decisions, submissions
from collective.books.expenses.models import Expense, ExpenseStatus, Receipt
from collective.books.expenses.storage import receipt_storage
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry
from tests.books.factories import NOW, PDF, TODAY, make_books, pdf_upload, png_bytes
from tests.factories import commit, make_collective, make_member
from tests.forms import form_values


@pytest.fixture
def world(app, setup):
    """A collective with two treasurers and a member; a pending expense of the member with
    a PDF and a PNG receipt; a stranger from another collective."""
    with setup():
        books = make_books(receipt_storage().root)
        other = make_member(books.founder.collective)
        expense = submissions.submit_expense(
            books.member, category_id=books.category("Travel").id, amount=4_250,
            currency="USD", spent_on=TODAY, description="Train to the client",
            receipts=[pdf_upload(), SimpleNamespace(filename="a.png", data=png_bytes())],
            storage=receipt_storage(), today=TODAY, now=NOW)
        stranger = make_collective()
        commit()
        return SimpleNamespace(
            slug=books.slug, founder=books.founder.user.email,
            treasurer=books.treasurer.user.email, member=books.member.user.email,
            other=other.user.email, stranger=stranger.user.email,
            stranger_slug=stranger.collective.slug, expense_id=expense.id,
            receipt_ids=[r.id for r in expense.receipts],
            travel_id=books.category("Travel").id, collective_id=books.founder.collective_id,
            member_id=books.member.id)


def _form(world, **changes):
    data = {"category_id": str(world.travel_id), "amount": "12.50", "currency": "USD",
            "spent_on": "2026-11-20", "description": "Printer paper",
            "request_key": "r" * 32,
            "receipts": [(io.BytesIO(PDF), "receipt.pdf")]}
    data.update(changes)
    return data


def _count(setup, model) -> int:
    with setup():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_member_submits_an_expense_with_receipts(client, auth, setup, world):
    auth.login(world.member)
    page = client.get(f"/c/{world.slug}/books/expenses/")
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.data
    shown = form_values(page.data.decode())
    assert shown["currency"] == "USD"
    response = client.post(f"/c/{world.slug}/books/expenses/", data=_form(world, receipts=[
        (io.BytesIO(PDF), "receipt.pdf"), (io.BytesIO(png_bytes()), "photo.png")]),
        content_type="multipart/form-data")
    assert response.status_code == 302
    with setup():
        expense = db.session.scalars(sa.select(Expense).order_by(Expense.id.desc())).first()
        assert (expense.amount, expense.description, expense.status) == (
            1_250, "Printer paper", ExpenseStatus.PENDING)
        assert [r.content_type for r in expense.receipts] == ["application/pdf", "image/png"]
    assert response.headers["Location"].endswith(f"/books/expenses/{expense.id}")
    assert b"Printer paper" in client.get(f"/c/{world.slug}/books/expenses/").data


@pytest.mark.parametrize(("receipt", "message"), [
    ((io.BytesIO(b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)), "scan.pdf"), b"larger than 10 MB"),
    ((io.BytesIO(b"plain text, not a PDF"), "invoice.pdf"), b"not a PDF, PNG or JPEG"),
])
def test_a_refused_receipt_comes_back_on_the_form_and_writes_nothing(
        app, client, auth, setup, world, receipt, message):
    auth.login(world.member)
    with setup():
        root = receipt_storage().root
    files_before = sorted(root.rglob("*"))
    before = (_count(setup, Expense), _count(setup, Receipt))
    response = client.post(f"/c/{world.slug}/books/expenses/",
                           data=_form(world, receipts=[receipt]),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.data
    assert b'id="receipts-error"' in response.data
    assert (_count(setup, Expense), _count(setup, Receipt)) == before
    assert sorted(root.rglob("*")) == files_before


def test_missing_receipts_and_bad_amounts_are_form_errors(client, auth, setup, world):
    auth.login(world.member)
    before = _count(setup, Expense)
    no_file = client.post(f"/c/{world.slug}/books/expenses/", data=_form(world, receipts=[]),
                          content_type="multipart/form-data")
    assert no_file.status_code == 422 and b"attach at least one receipt" in no_file.data
    bad = client.post(f"/c/{world.slug}/books/expenses/",
                      data=_form(world, amount="12.505", currency="usd!"),
                      content_type="multipart/form-data")
    assert bad.status_code == 422
    foreign = client.post(f"/c/{world.slug}/books/expenses/", data=_form(world, currency="EUR"),
                          content_type="multipart/form-data")
    assert foreign.status_code == 422 and b"give the rate from EUR to USD" in foreign.data
    assert _count(setup, Expense) == before


def test_an_upload_over_the_request_limit_is_a_clean_413(client, auth, setup, world):
    auth.login(world.member)
    before = _count(setup, Expense)
    huge = io.BytesIO(b"%PDF-1.4\n" + b"0" * (52 * 1024 * 1024))
    response = client.post(f"/c/{world.slug}/books/expenses/",
                           data=_form(world, receipts=[(huge, "huge.pdf")]),
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert b"too large" in response.data and b"nothing was saved" in response.data
    assert _count(setup, Expense) == before


def _receipt_url(world, index=0):
    return (f"/c/{world.slug}/books/expenses/{world.expense_id}/receipts/"
            f"{world.receipt_ids[index]}")


@pytest.mark.parametrize("who", ["member", "treasurer"])
def test_the_submitter_and_a_treasurer_get_the_receipt_bytes(client, auth, world, who):
    auth.login(getattr(world, who))
    response = client.get(_receipt_url(world))
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=receipt.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in response.headers["Cache-Control"]
    assert "no-store" in response.headers["Cache-Control"]
    image = client.get(_receipt_url(world, 1))
    assert image.mimetype == "image/png" and image.data == png_bytes()


def test_another_member_and_another_collective_get_404_for_receipts(client, auth, world):
    auth.login(world.other)
    assert client.get(_receipt_url(world)).status_code == 404
    assert client.get(f"/c/{world.slug}/books/expenses/{world.expense_id}").status_code == 404
    auth.logout()
    auth.login(world.stranger)
    assert client.get(_receipt_url(world)).status_code == 404
    # A treasurer of their own collective, asking there for our ids, finds nothing either.
    theirs = _receipt_url(world).replace(f"/c/{world.slug}/", f"/c/{world.stranger_slug}/")
    assert client.get(theirs).status_code == 404
    assert client.get(theirs.split("/receipts/")[0]).status_code == 404
    auth.logout()
    auth.login(world.member)
    wrong_pair = (f"/c/{world.slug}/books/expenses/{world.expense_id}/receipts/"
                  f"{world.receipt_ids[-1] + 1000}")
    assert client.get(wrong_pair).status_code == 404


def test_a_treasurer_approves_on_the_expense_page(client, auth, setup, world):
    auth.login(world.treasurer)
    queue = client.get(f"/c/{world.slug}/books/expenses/queue")
    assert queue.status_code == 200 and b"Train to the client" in queue.data
    page = client.get(f"/c/{world.slug}/books/expenses/{world.expense_id}")
    assert b"Approve: the collective owes" in page.data
    assert b"Reject: nothing is booked" in page.data
    url = f"/c/{world.slug}/books/expenses/{world.expense_id}/decide"
    response = client.post(url, data={**form_values(page.data.decode()), "decision": "approve"})
    assert response.status_code == 302
    assert client.post(url, data={"decision": "approve"}).status_code == 302  # the same again
    with setup():
        expense = db.session.get(Expense, world.expense_id)
        assert expense.status == ExpenseStatus.APPROVED
        entry = db.session.get(JournalEntry, expense.entry_id)
        assert sorted(p.amount for p in entry.postings) == [-4_250, 4_250]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry).where(
            JournalEntry.idempotency_key == f"expense:{expense.id}")) == 1


def test_a_rejection_without_a_reason_is_a_form_error(client, auth, setup, world):
    auth.login(world.treasurer)
    url = f"/c/{world.slug}/books/expenses/{world.expense_id}/decide"
    response = client.post(url, data={"decision": "reject", "reason": ""})
    assert response.status_code == 422
    assert b"say why it is rejected" in response.data
    with setup():
        assert db.session.get(Expense, world.expense_id).status == ExpenseStatus.PENDING
    assert client.post(url, data={"decision": "reject", "reason": "Not ours"}).status_code == 302
    with setup():
        expense = db.session.get(Expense, world.expense_id)
        assert (expense.status, expense.entry_id) == (ExpenseStatus.REJECTED, None)
        assert ledger.find_entry(world.collective_id, f"expense:{expense.id}") is None


def test_a_member_cannot_decide_and_a_treasurer_not_their_own(client, auth, setup, world):
    auth.login(world.member)
    url = f"/c/{world.slug}/books/expenses/{world.expense_id}/decide"
    assert client.post(url, data={"decision": "approve"}).status_code == 403
    auth.logout()
    with setup():
        from collective.members.models import Membership
        treasurer = db.session.scalar(sa.select(Membership).join(Membership.user).where(
            Membership.collective_id == world.collective_id,
            sa.text("users.email = :e")).params(e=world.treasurer))
        own = submissions.submit_expense(
            treasurer, category_id=world.travel_id, amount=100, currency="USD",
            spent_on=TODAY, description="Stamps", receipts=[pdf_upload()],
            storage=receipt_storage(), today=TODAY, now=NOW)
        commit()
        own_id = own.id
    auth.login(world.treasurer)
    page = client.get(f"/c/{world.slug}/books/expenses/{own_id}")
    assert b"Approve:" not in page.data and b"other than you" in page.data
    response = client.post(f"/c/{world.slug}/books/expenses/{own_id}/decide",
                           data={"decision": "approve"})
    assert response.status_code == 422
    assert b"you cannot decide your own expense" in response.data
    with setup():
        assert db.session.get(Expense, own_id).status == ExpenseStatus.PENDING


def test_a_treasurer_books_an_expense_the_collective_paid(client, auth, setup, world):
    auth.login(world.treasurer)
    page = client.get(f"/c/{world.slug}/books/expenses/paid")
    assert page.status_code == 200
    response = client.post(f"/c/{world.slug}/books/expenses/paid",
                           data=_form(world, description="Hosting for November"),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    with setup():
        expense = db.session.scalars(sa.select(Expense).order_by(Expense.id.desc())).first()
        entry = db.session.get(JournalEntry, expense.entry_id)
        assert {(p.account.code, p.amount) for p in entry.postings} == {
            ("5500", 1_250), ("1000", -1_250)}
    auth.logout()
    auth.login(world.member)
    assert client.get(f"/c/{world.slug}/books/expenses/paid").status_code == 403


def test_a_treasurer_adds_and_retires_a_category(client, auth, setup, world):
    auth.login(world.treasurer)
    page = client.get(f"/c/{world.slug}/books/expenses/categories")
    assert page.status_code == 200 and b"5700 Bank fees" in page.data
    with setup():
        other = ledger.account_by_code(world.collective_id, ledger.EXPENSES).id
    added = client.post(f"/c/{world.slug}/books/expenses/categories",
                        data={"name": "Coworking desk", "account_id": str(other)})
    assert added.status_code == 302
    again = client.post(f"/c/{world.slug}/books/expenses/categories",
                        data={"name": "coworking desk", "account_id": str(other)})
    assert again.status_code == 422 and b"already" in again.data
    retired = client.post(f"/c/{world.slug}/books/expenses/categories/{world.travel_id}/retire")
    assert retired.status_code == 302
    form = client.get(f"/c/{world.slug}/books/expenses/").data
    assert b">Travel<" not in form and b">Coworking desk<" in form
    refused = client.post(f"/c/{world.slug}/books/expenses/", data=_form(world),
                          content_type="multipart/form-data")
    assert refused.status_code == 422


def test_the_decision_is_offered_only_while_pending(app, setup, world):
    with setup():
        expense = db.session.get(Expense, world.expense_id)
        assert not decisions.may_decide(expense.membership, expense)


def _more_expenses(setup, world, count: int) -> None:
    with setup():
        from collective.members.models import Membership

        member = db.session.get(Membership, world.member_id)
        for n in range(count):
            submissions.submit_expense(
                member, category_id=world.travel_id, amount=100 + n, currency="USD",
                spent_on=TODAY, description=f"Bus {n}", receipts=[pdf_upload()],
                storage=receipt_storage(), today=TODAY, now=NOW)
        commit()


@pytest.mark.parametrize(("who", "page"), [("treasurer", "queue"), ("member", "")])
def test_the_lists_take_as_many_queries_for_many_expenses_as_for_one(
        app, client, auth, setup, world, who, page):
    from tests.ledger.test_journal_page import counted_statements

    auth.login(getattr(world, who))
    url = f"/c/{world.slug}/books/expenses/{page}"
    client.get(url)
    with counted_statements(app) as few:
        assert client.get(url).status_code == 200
    _more_expenses(setup, world, 6)
    with counted_statements(app) as many:
        response = client.get(url)
    assert response.data.count(b"Bus ") == 6
    assert len(many) == len(few)
