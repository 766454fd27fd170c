"""The SQL statements a page runs do not grow with the data it shows: each page is opened
at two sizes of the same collective and must run the same number of statements."""
from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from collective.books.expenses import categories, submissions
from collective.books.expenses.storage import receipt_storage
from collective.pool import payments, pitches
from collective.pool.models import PitchState
from tests.benefits.factories import deposit, found_fund
from tests.books.factories import pdf_upload
from tests.books.invoice_factories import delivered_work, issued, set_up_invoicing
from tests.factories import commit
from tests.pool.factories import NOW, TODAY, allocate, found_rule, log, make_pitch, move_to

SMALL, LARGE = 3, 12

#: (page, who opens it: "founder" has every role, "member" is a plain member)
PAGES = [
    ("pool/", "founder"),
    ("pool/payments", "founder"),
    ("members", "founder"),
    ("dashboard", "founder"),
    ("dashboard", "member"),
    ("fund/", "member"),
    ("fund/treasurer", "founder"),
    ("ledger/", "founder"),
    ("ledger/trial-balance", "founder"),
    ("pool/shares/all", "founder"),
    ("pool/payouts", "founder"),
    ("books/invoices/", "founder"),
    ("books/expenses/queue", "founder"),
    ("audit", "founder"),
    ("audit?action=deposit.recorded", "founder"),
]


def build(size: int) -> SimpleNamespace:
    """A collective of `size` members, each with work that was paid for, time logged, a
    deposit in the fund, an issued invoice and a pending expense."""
    people = found_fund(size=size)
    founder = people[0]
    found_rule(founder)
    vat = set_up_invoicing(founder)
    category = next(c for c in categories.categories_of(founder.collective_id))
    for n, person in enumerate(people):
        pitch = make_pitch(founder, title=f"Work {n}")
        move_to(founder, pitch, PitchState.WON)
        work = allocate(founder, pitch, person)
        pitches.transition_pitch(founder, pitch, PitchState.IN_PROGRESS, at=NOW)
        log(person, work, 120)
        payments.record_payment(founder, pitch, amount=100_000, currency="USD",
                                received_on=TODAY, reference=f"R-{n}", today=TODAY)
        deposit(founder, person, 5_000)
        issued(founder, delivered_work(founder, client_name=f"Harbour {n}"), vat)
        submissions.submit_expense(
            person, category_id=category.id, amount=1_000 + n, currency="USD",
            spent_on=TODAY, description=f"Train {n}", receipts=[pdf_upload()],
            storage=receipt_storage(), today=TODAY, now=NOW)
    commit()
    return SimpleNamespace(slug=founder.collective.slug, founder=founder.user.email,
                           member=people[1].user.email)


@contextmanager
def counting():
    """Count the SQL statements run inside the block."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", count)


@pytest.fixture
def worlds(setup):
    with setup():
        return build(SMALL), build(LARGE)


def _count(client, auth, world, page: str, who: str) -> int:
    auth.login(getattr(world, who))
    with counting() as statements:
        response = client.get(f"/c/{world.slug}/{page}")
    assert response.status_code == 200, (page, response.status_code)
    return len(statements)


def test_no_page_runs_more_statements_for_more_data(app, client, auth, worlds):
    small, large = worlds
    counts = {(page, who): (_count(client, auth, small, page, who),
                            _count(client, auth, large, page, who))
              for page, who in PAGES}
    grows = {key: value for key, value in counts.items() if value[1] > value[0]}
    assert grows == {}, grows



def test_the_payments_list_shows_a_page_at_a_time(client, auth, setup, monkeypatch):
    from collective.pool.views import money
    monkeypatch.setattr(money, "PAGE_SIZE", 2)
    with setup():
        world = build(SMALL)
    auth.login(world.founder)
    base = f"/c/{world.slug}/pool/payments"

    first = client.get(base).get_data(as_text=True)
    second = client.get(f"{base}?page=2").get_data(as_text=True)
    assert [first.count(f"R-{n}") for n in (2, 1, 0)] == [1, 1, 0]
    assert [second.count(f"R-{n}") for n in (2, 1, 0)] == [0, 0, 1]
    assert f'href="{base}?page=2">Older payments' in first
    assert "Older payments" not in second and f'href="{base}?page=1">Newer' in second
    # Not a page number, or past the end: the first page, never an error.
    assert client.get(f"{base}?page=x").get_data(as_text=True) == first
    assert "R-" not in client.get(f"{base}?page=9").get_data(as_text=True)


def test_the_members_directory_shows_a_page_at_a_time(client, auth, setup, monkeypatch):
    from collective.members import views
    monkeypatch.setattr(views, "DIRECTORY_PAGE", 2)
    with setup():
        world = build(SMALL)
    auth.login(world.founder)
    base = f"/c/{world.slug}/members"

    first = client.get(base).get_data(as_text=True)
    second = client.get(f"{base}?page=2").get_data(as_text=True)
    assert first.count("Manage</a>") == 2 and second.count("Manage</a>") == 1
    assert f'href="{base}?page=2">Next members' in first
    assert "Next members" not in second and f'href="{base}?page=1">Previous' in second
    assert client.get(f"{base}?page=-1").get_data(as_text=True) == first
