"""The database itself refuses to change or delete ledger rows."""
from datetime import date

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.balances import check_ledger
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


_POSTING_COLUMNS = "id, entry_id, account_id, amount, currency"
#: The entry's postings again, with the sides swapped: still balanced, so only the guards
#: stand between this rewrite and a `ledger check` that passes.
_SWAPPED_POSTINGS = (f"SELECT {_POSTING_COLUMNS.replace('amount', '-amount')} "
                     "FROM postings WHERE entry_id = :entry")
_ENTRY_COLUMNS = ("id, collective_id, occurred_on, posted_at, kind, memo, idempotency_key, "
                  "reverses_id, created_by_id")
_REWRITTEN_ENTRY = (f"SELECT {_ENTRY_COLUMNS.replace('memo', chr(39) + 'rewritten' + chr(39))}"
                    " FROM journal_entries WHERE id = :entry")
_ENTRY_UNDER_A_NEW_ID = ("SELECT collective_id, occurred_on, posted_at, kind, 'rewritten', "
                         "idempotency_key FROM journal_entries WHERE id = :entry")


def _set_all(columns: str) -> str:
    return ", ".join(f"{c} = excluded.{c}" for c in columns.split(", ") if c != "id")


#: Each way of writing over an existing ledger row with an INSERT, as each database spells
#: it. SQLite's REPLACE fires no delete trigger, so its BEFORE INSERT trigger refuses these
#: (its UPSERT would fire the update trigger, but the insert trigger comes first).
#: PostgreSQL's ON CONFLICT DO UPDATE and MERGE fire the update or delete trigger (the
#: message names the operation), so it needs no insert trigger.
OVERWRITES = {
    "replace postings": {
        "sqlite": [f"REPLACE INTO postings ({_POSTING_COLUMNS}) {_SWAPPED_POSTINGS}",
                   f"INSERT OR REPLACE INTO postings ({_POSTING_COLUMNS}) {_SWAPPED_POSTINGS}"],
        "postgresql": [
            f"INSERT INTO postings ({_POSTING_COLUMNS}) {_SWAPPED_POSTINGS} "
            f"ON CONFLICT (id) DO UPDATE SET {_set_all(_POSTING_COLUMNS)}",
            "MERGE INTO postings AS p USING (SELECT id FROM postings WHERE entry_id = :entry) "
            "AS s ON p.id = s.id WHEN MATCHED THEN UPDATE SET amount = -p.amount",
        ],
    },
    "upsert postings": {
        dialect: [f"INSERT INTO postings ({_POSTING_COLUMNS}) {_SWAPPED_POSTINGS} "
                  "ON CONFLICT (id) DO UPDATE SET amount = excluded.amount"]
        for dialect in ("sqlite", "postgresql")
    },
    "replace an entry": {
        "sqlite": [f"REPLACE INTO journal_entries ({_ENTRY_COLUMNS}) {_REWRITTEN_ENTRY}",
                   "INSERT OR REPLACE INTO journal_entries (collective_id, occurred_on, "
                   f"posted_at, kind, memo, idempotency_key) {_ENTRY_UNDER_A_NEW_ID}"],
        "postgresql": [
            f"INSERT INTO journal_entries ({_ENTRY_COLUMNS}) {_REWRITTEN_ENTRY} "
            f"ON CONFLICT (id) DO UPDATE SET {_set_all(_ENTRY_COLUMNS)}",
            "MERGE INTO journal_entries AS j USING (SELECT :entry AS id) AS s ON j.id = s.id "
            "WHEN MATCHED THEN DELETE",
        ],
    },
    "upsert an entry": {
        dialect: [f"INSERT INTO journal_entries ({_ENTRY_COLUMNS}) {_REWRITTEN_ENTRY} "
                  "ON CONFLICT (id) DO UPDATE SET memo = excluded.memo",
                  "INSERT INTO journal_entries (collective_id, occurred_on, posted_at, kind, "
                  f"memo, idempotency_key) {_ENTRY_UNDER_A_NEW_ID} "
                  "ON CONFLICT (collective_id, idempotency_key) DO UPDATE SET memo = 'rewritten'"]
        for dialect in ("sqlite", "postgresql")
    },
}

#: What refuses the overwrite: SQLite's insert trigger, PostgreSQL's update/delete trigger.
REFUSED_BY = {
    "sqlite": "append-only: .* already holds a row with this id or key",
    "postgresql": "append-only: (UPDATE|DELETE) on (postings|journal_entries) is refused",
}


@pytest.mark.parametrize("overwrite", OVERWRITES)
def test_an_insert_that_would_overwrite_a_ledger_row_is_refused(entry, overwrite):
    dialect = db.session.get_bind().dialect.name
    before = [(p.id, p.account_id, p.amount, p.currency) for p in entry.postings]
    for statement in OVERWRITES[overwrite][dialect]:
        with pytest.raises(sa.exc.IntegrityError, match=REFUSED_BY[dialect]), \
                db.session.begin_nested():
            db.session.execute(sa.text(statement), {"entry": entry.id})

    db.session.expire_all()
    rows = db.session.execute(
        sa.select(Posting.id, Posting.account_id, Posting.amount, Posting.currency)
        .where(Posting.entry_id == entry.id).order_by(Posting.id)).all()
    assert [tuple(row) for row in rows] == before
    assert db.session.scalars(
        sa.select(JournalEntry.id).where(JournalEntry.collective_id == entry.collective_id,
                                         JournalEntry.idempotency_key == "opening")
    ).all() == [entry.id]
    assert db.session.get(JournalEntry, entry.id).memo == ""
    assert check_ledger().ok


def test_inserting_new_rows_still_works_beside_the_insert_guard(entry):
    again = ledger.post_entry(entry.collective_id, kind="opening",
                              occurred_on=date(2026, 1, 2), idempotency_key="opening-2",
                              lines=[ledger.Line(p.account_id, p.amount, p.currency)
                                     for p in entry.postings])
    assert again.id != entry.id
    assert len(again.postings) == 2
    # The same key again returns the entry there, as before.
    assert ledger.post_entry(entry.collective_id, kind="opening",
                             occurred_on=date(2026, 1, 2), idempotency_key="opening-2",
                             lines=[ledger.Line(p.account_id, p.amount, p.currency)
                                    for p in entry.postings]).id == again.id
