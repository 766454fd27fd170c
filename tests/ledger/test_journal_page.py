"""The journal page checks only the entries it shows; the whole ledger is checked on request."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry, Posting
from collective.ledger.services import Line
from tests.factories import commit, make_collective, make_member


@contextmanager
def counted_statements(app):
    """Count the SQL statements run inside the block: yields a list that grows by one each."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def books(setup):
    with setup():
        founder = make_collective()
        member = make_member(founder.collective)
        commit()
        return {"slug": founder.collective.slug, "collective_id": founder.collective_id,
                "email": founder.user.email, "member_id": member.id}


def _post(setup, books, count: int, start: int = 0, reverse_every: int = 0) -> None:
    with setup():
        cid = books["collective_id"]
        bank = ledger.account_by_code(cid, ledger.BANK).id
        payable = ledger.member_account(books["member_id"]).id
        for i in range(start, start + count):
            entry = ledger.post_entry(cid, kind="payment", occurred_on=date(2026, 10, 1),
                                      idempotency_key=f"payment:{i}",
                                      lines=[Line(bank, 100 + i, "USD"),
                                             Line(payable, -(100 + i), "USD")])
            if reverse_every and i % reverse_every == 0:
                ledger.reverse_entry(entry)
        commit()


def _journal_statements(app, client, books) -> int:
    with counted_statements(app) as seen:
        response = client.get(f"/c/{books['slug']}/ledger/")
    assert response.status_code == 200
    return len(seen)


def test_the_journal_page_runs_as_many_statements_for_a_long_ledger_as_a_short_one(
        app, client, auth, setup, books):
    auth.login(books["email"])
    _post(setup, books, 3, reverse_every=2)
    short = _journal_statements(app, client, books)
    _post(setup, books, 120, start=3, reverse_every=2)
    long = _journal_statements(app, client, books)

    assert long == short


def test_the_journal_page_checks_the_entries_it_shows_and_links_the_full_check(
        client, auth, setup, books):
    auth.login(books["email"])
    _post(setup, books, 60)

    page = client.get(f"/c/{books['slug']}/ledger/").get_data(as_text=True)

    assert "✓ balanced" in page
    assert re.search(r"the 50 entries on this page \(100 postings\)", page)
    assert f'href="/c/{books["slug"]}/ledger/check"' in page


def test_the_full_check_names_an_entry_that_does_not_balance(client, auth, setup, books):
    auth.login(books["email"])
    _post(setup, books, 2)
    with setup():
        bank = ledger.account_by_code(books["collective_id"], ledger.BANK)
        # Written around the service, as a bug or a hand edit would.
        bad = db.session.execute(sa.insert(JournalEntry).values(
            collective_id=books["collective_id"], occurred_on=date(2026, 10, 1), kind="opening",
            memo="", idempotency_key="bad").returning(JournalEntry.id)).scalar_one()
        db.session.execute(sa.insert(Posting).values(entry_id=bad, account_id=bank.id,
                                                     amount=5, currency="USD"))
        commit()

    page = client.post(f"/c/{books['slug']}/ledger/check").get_data(as_text=True)

    assert "✗ 1 entries do not balance" in page
    assert "every one of the 3 entries (5 postings) was checked" in page
    assert f'/c/{books["slug"]}/ledger/entries/{bad}"' in page
