"""The database itself refuses to change or delete ledger rows."""
from datetime import date

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry, Posting
from tests.factories import make_collective


@pytest.fixture
def entry(ctx):
    collective = make_collective().collective
    bank = ledger.account_by_code(collective.id, ledger.BANK)
    fund = ledger.account_by_code(collective.id, ledger.COMMON_FUND)
    return ledger.post_entry(collective.id, kind="opening", occurred_on=date(2026, 1, 1),
                             idempotency_key="opening",
                             lines=[ledger.Line(bank.id, 100, "USD"),
                                    ledger.Line(fund.id, -100, "USD")])


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE postings SET amount = amount * 2",
        "DELETE FROM postings",
        "UPDATE journal_entries SET memo = 'edited'",
        "DELETE FROM journal_entries",
    ],
)
def test_update_and_delete_on_the_ledger_are_refused(entry, statement):
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(sa.text(statement))
    amounts = db.session.scalars(
        sa.select(Posting.amount).where(Posting.entry_id == entry.id).order_by(Posting.amount)
    ).all()
    assert amounts == [-100, 100]
    assert db.session.get(JournalEntry, entry.id).memo == ""


def test_orm_changes_to_a_posting_are_refused_too(entry):
    posting = entry.postings[0]
    posting.amount = 1
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.flush()
