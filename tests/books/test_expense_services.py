"""Expenses through their services: who may decide, what an approval books, what a
rejection or a refused receipt leaves behind (nothing), and where receipts are stored."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collective.books.expenses import decisions, submissions
from collective.books.expenses.categories import DEFAULT_CATEGORIES, categories_of
from collective.books.expenses.models import Expense, ExpenseStatus, Receipt
from collective.books.expenses.uploads import MAX_RECEIPT_BYTES, Upload
from collective.errors import Conflict, DomainError, NotAllowed
from collective.extensions import db
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind, JournalEntry
from collective.notifications.models import Notification
from collective.pool.payouts import balances_to_pay
from tests.books.factories import (
    NOW,
    PDF,
    TODAY,
    jpeg_bytes,
    make_books,
    pdf_upload,
    png_bytes,
    png_upload,
)


@pytest.fixture
def books(ctx, tmp_path):
    return make_books(tmp_path / "receipts")


def _submit(books, member=None, **changes):
    args = dict(category_id=books.category("Travel").id, amount=4_250, currency="USD",
                spent_on=TODAY, description="Train to the client's office",
                receipts=[pdf_upload()], storage=books.storage, today=TODAY, now=NOW)
    args.update(changes)
    return submissions.submit_expense(member or books.member, **args)


def _files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def _postings(entry: JournalEntry) -> set[tuple[str, int, str]]:
    return {(p.account.code, p.amount, p.currency) for p in entry.postings}


def test_a_new_collective_has_the_default_categories_on_their_expense_accounts(books):
    found = {(c.name, c.account.code, c.account.type) for c in
             categories_of(books.founder.collective_id)}
    assert found == {(name, code, "expense") for name, code in DEFAULT_CATEGORIES}
    assert {(c, n) for c, n in [("5400", "Software and subscriptions"), ("5500", "Travel"),
                                ("5600", "Equipment"), ("5700", "Bank fees")]} <= {
        (a.code, a.name) for a in db.session.scalars(sa.select(ledger.Account).filter_by(
            collective_id=books.founder.collective_id))}


def test_another_treasurer_approves_and_the_member_is_owed_it(books):
    expense = _submit(books)
    assert expense.status == ExpenseStatus.PENDING and expense.entry_id is None

    decisions.decide_expense(books.treasurer, expense, approve=True, reason="", today=TODAY,
                             now=NOW)

    assert expense.status == ExpenseStatus.APPROVED
    assert expense.decided_by_id == books.treasurer.id
    entry = db.session.get(JournalEntry, expense.entry_id)
    assert entry.kind == EntryKind.EXPENSE
    assert entry.idempotency_key == f"expense:{expense.id}"
    assert entry.occurred_on == TODAY
    assert _postings(entry) == {("5500", 4_250, "USD"),
                                (ledger.member_account_code(books.member.id), -4_250, "USD")}
    # The payable holds it, so the next payout pays it.
    assert balances.member_balance(books.member.id) == {"USD": 4_250}
    assert balances_to_pay(books.founder.collective_id, "USD")[books.member.id] == 4_250


def test_a_treasurer_cannot_approve_their_own_expense(books):
    expense = _submit(books, member=books.treasurer)
    with pytest.raises(DomainError, match="your own expense") as refused:
        decisions.decide_expense(books.treasurer, expense, approve=True, reason="",
                                 today=TODAY, now=NOW)
    assert refused.value.field == "reason"
    assert expense.status == ExpenseStatus.PENDING
    assert ledger.find_entry(books.founder.collective_id, f"expense:{expense.id}") is None
    # Another treasurer may.
    decisions.decide_expense(books.founder, expense, approve=True, reason="ok", today=TODAY,
                             now=NOW)
    assert expense.status == ExpenseStatus.APPROVED


def test_a_plain_member_cannot_decide(books):
    expense = _submit(books, member=books.treasurer)
    with pytest.raises(NotAllowed):
        decisions.decide_expense(books.member, expense, approve=True, reason="", today=TODAY,
                                 now=NOW)


def test_a_second_approval_returns_the_same_and_books_once(books):
    expense = _submit(books)
    decisions.decide_expense(books.treasurer, expense, approve=True, reason="", today=TODAY,
                             now=NOW)
    again = decisions.decide_expense(books.founder, expense, approve=True, reason="",
                                     today=TODAY, now=NOW)
    assert again.entry_id == expense.entry_id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry).where(
        JournalEntry.kind == EntryKind.EXPENSE)) == 1
    with pytest.raises(Conflict):
        decisions.decide_expense(books.founder, expense, approve=False, reason="no",
                                 today=TODAY, now=NOW)


def test_a_rejection_needs_a_reason_and_books_nothing(books):
    expense = _submit(books)
    with pytest.raises(DomainError, match="say why") as refused:
        decisions.decide_expense(books.treasurer, expense, approve=False, reason="  ",
                                 today=TODAY, now=NOW)
    assert refused.value.field == "reason"
    decisions.decide_expense(books.treasurer, expense, approve=False,
                             reason="Not a collective trip", today=TODAY, now=NOW)
    assert expense.status == ExpenseStatus.REJECTED
    assert expense.decision_reason == "Not a collective trip"
    assert expense.entry_id is None
    assert ledger.find_entry(books.founder.collective_id, f"expense:{expense.id}") is None
    assert balances.member_balance(books.member.id) == {}


def test_a_foreign_expense_needs_a_rate_and_books_the_base_amount(books):
    with pytest.raises(DomainError) as refused:
        _submit(books, currency="EUR", amount=4_000)
    assert refused.value.field == "rate"
    expense = _submit(books, currency="EUR", amount=4_000, rate=Decimal("1.085"))
    assert expense.base_amount == 4_340
    decisions.decide_expense(books.treasurer, expense, approve=True, reason="", today=TODAY,
                             now=NOW)
    entry = db.session.get(JournalEntry, expense.entry_id)
    assert _postings(entry) == {("5500", 4_340, "USD"),
                                (ledger.member_account_code(books.member.id), -4_340, "USD")}
    assert "EUR 40.00 at 1.085" in entry.memo


def test_a_direct_expense_is_booked_against_the_bank_at_once(books):
    expense = submissions.record_direct_expense(
        books.treasurer, category_id=books.category("Bank fees").id, amount=1_500,
        currency="USD", spent_on=TODAY, description="Monthly account fee",
        receipts=[pdf_upload()], storage=books.storage, today=TODAY, now=NOW)
    assert expense.status == ExpenseStatus.APPROVED
    entry = db.session.get(JournalEntry, expense.entry_id)
    assert entry.kind == EntryKind.EXPENSE and entry.occurred_on == TODAY
    assert _postings(entry) == {("5700", 1_500, "USD"), ("1000", -1_500, "USD")}
    assert balances.member_balance(books.treasurer.id) == {}
    with pytest.raises(NotAllowed):
        submissions.record_direct_expense(
            books.member, category_id=books.category("Bank fees").id, amount=1_500,
            currency="USD", spent_on=TODAY, description="x", receipts=[pdf_upload()],
            storage=books.storage, today=TODAY, now=NOW)


@pytest.mark.parametrize(("upload", "message"), [
    (Upload("big.pdf", PDF + b"0" * MAX_RECEIPT_BYTES), "larger than 10 MB"),
    (Upload("receipt.pdf", b"Just some text pretending to be a PDF\n"), "not a PDF, PNG"),
    (Upload("photo.jpg", b"GIF89a" + bytes(40)), "not a PDF, PNG"),
    (Upload("broken.png", png_bytes()[:-20]), "damaged"),
    (Upload("empty.pdf", b""), "empty"),
])
def test_a_refused_receipt_leaves_no_row_and_no_file(books, upload, message):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Expense))
    with pytest.raises(DomainError, match=message) as refused:
        _submit(books, receipts=[pdf_upload(), upload])
    assert refused.value.field == "receipts"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Expense)) == before
    assert _files(books.storage.root) == []


def test_no_receipt_is_refused(books):
    with pytest.raises(DomainError, match="at least one receipt"):
        _submit(books, receipts=[])


def test_content_decides_the_type_a_png_named_pdf_is_kept_as_a_png(books):
    expense = _submit(books, receipts=[Upload("scan.pdf", png_bytes()),
                                       Upload("../../etc/photo.jpeg", jpeg_bytes())])
    assert [(r.filename, r.content_type) for r in expense.receipts] == [
        ("scan.png", "image/png"), ("photo.jpg", "image/jpeg")]


def test_receipts_land_in_the_storage_folder_under_unguessable_names(books):
    expense = _submit(books, receipts=[pdf_upload("March invoice.pdf"), png_upload()])
    files = _files(books.storage.root)
    assert len(files) == 2
    keys = [r.storage_key for r in expense.receipts]
    for key, path in zip(keys, sorted(files, key=lambda p: keys.index(
            p.relative_to(books.storage.root).as_posix())), strict=True):
        assert path == books.storage.root / key
        assert re.fullmatch(rf"c{books.founder.collective_id}/[\w-]{{2}}/[\w-]{{43}}", key)
        assert "March" not in key and "receipt" not in key
        assert path.stat().st_mode & 0o077 == 0  # readable by the app's user alone
    assert books.storage.read(keys[0]) == PDF
    assert len(set(keys)) == 2


def test_files_written_by_a_transaction_that_rolls_back_are_deleted(app, books):
    _submit(books)
    assert len(_files(books.storage.root)) == 1
    db.session.rollback()
    assert _files(books.storage.root) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 0


def test_treasurers_are_told_of_a_submission_and_the_member_of_the_decision(books):
    expense = _submit(books)
    ours = sa.select(Notification).filter_by(collective_id=books.founder.collective_id)
    told = {(n.membership_id, n.kind) for n in db.session.scalars(ours)}
    assert told == {(books.founder.id, "expense_submitted"),
                    (books.treasurer.id, "expense_submitted")}
    decisions.decide_expense(books.treasurer, expense, approve=False, reason="Duplicate",
                             today=TODAY, now=NOW)
    decided = db.session.scalars(sa.select(Notification).filter_by(
        kind="expense_decided", collective_id=books.founder.collective_id)).all()
    assert [(n.membership_id, n.title) for n in decided] == [
        (books.member.id, "Your expense was rejected: $42.50 for travel")]
    assert "Reason: Duplicate" in decided[0].body


def test_the_same_form_sent_twice_records_one_expense(books):
    first = _submit(books, request_key="k" * 32)
    second = _submit(books, request_key="k" * 32)
    assert first.id == second.id
    assert len(_files(books.storage.root)) == 1


def test_reversing_an_expense_entry_marks_the_expense_rejected(books):
    expense = _submit(books)
    decisions.decide_expense(books.treasurer, expense, approve=True, reason="", today=TODAY,
                             now=NOW)
    reversal = ledger.reverse_entry(db.session.get(JournalEntry, expense.entry_id))
    db.session.refresh(expense)
    assert expense.status == ExpenseStatus.REJECTED
    assert f"entry {reversal.id}" in expense.decision_reason
    assert balances.member_balance(books.member.id).get("USD", 0) == 0


def test_a_category_cannot_be_booked_to_members_shares(books):
    from collective.books.expenses.categories import add_category, expense_accounts

    shares = ledger.account_by_code(books.founder.collective_id, ledger.MEMBER_SHARES)
    assert shares.id not in {a.id for a in expense_accounts(books.founder.collective_id)}
    with pytest.raises(DomainError) as refused:
        add_category(books.treasurer, name="Bonus", account_id=shares.id)
    assert refused.value.field == "account_id"
    travel = ledger.account_by_code(books.founder.collective_id, ledger.TRAVEL)
    assert add_category(books.treasurer, name="Taxis", account_id=travel.id).account_id == \
        travel.id
