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
from tests.forms import without_csrf_tokens
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
    ("pool/?state=in_progress", "founder"),
    ("dashboard/workload", "founder"),
    ("pool/pitches/new", "founder"),
    ("reports/", "founder"),
    ("reports/statement", "founder"),
    ("audit", "founder"),
    ("audit?action=deposit.recorded", "founder"),
]

#: Pages with a member field: at these sizes they list everyone; with the <select> limit
#: below the smaller size they search, and must not grow either.
MEMBER_FIELD_PAGES = [
    ("pool/pitches/new", "founder"),
    ("pool/payouts", "founder"),
    ("fund/treasurer", "founder"),
    ("reports/", "founder"),
    ("reports/statement?member=Person", "founder"),
    ("audit", "founder"),
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
                           member=people[1].user.email,
                           names=sorted(person.user.name for person in people))


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


def _html(client, url: str) -> str:
    """The page at `url`, its CSRF tokens and form request keys blanked."""
    return without_csrf_tokens(client.get(url).get_data(as_text=True))


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


def test_member_fields_that_search_run_no_more_statements_for_more_members(
        app, client, auth, worlds, monkeypatch):
    from collective.members import pickers
    monkeypatch.setattr(pickers, "SELECT_LIMIT", 1)
    small, large = worlds
    counts = {(page, who): (_count(client, auth, small, page, who),
                            _count(client, auth, large, page, who))
              for page, who in MEMBER_FIELD_PAGES}
    grows = {key: value for key, value in counts.items() if value[1] > value[0]}
    assert grows == {}, grows
    auth.login(large.founder)
    page = _html(client, f"/c/{large.slug}/pool/payouts")
    assert 'data-member-search="/c/' in page and "<select name=\"one-membership_id\"" not in page


def test_the_payments_list_shows_a_page_at_a_time(client, auth, setup, monkeypatch):
    from collective.pool.views import money
    monkeypatch.setattr(money, "PAGE_SIZE", 2)
    with setup():
        world = build(SMALL)
    auth.login(world.founder)
    base = f"/c/{world.slug}/pool/payments"

    first = _html(client, base)
    second = _html(client, f"{base}?page=2")
    assert [first.count(f"R-{n}") for n in (2, 1, 0)] == [1, 1, 0]
    assert [second.count(f"R-{n}") for n in (2, 1, 0)] == [0, 0, 1]
    assert f'href="{base}?page=2">Older payments' in first
    assert "Older payments" not in second and f'href="{base}?page=1">Newer' in second
    # Not a page number, or past the end: the first page, never an error.
    assert _html(client, f"{base}?page=x") == first
    assert "R-" not in _html(client, f"{base}?page=9")


def test_the_members_directory_shows_a_page_at_a_time(client, auth, setup, monkeypatch):
    from collective.members import views
    monkeypatch.setattr(views, "DIRECTORY_PAGE", 2)
    with setup():
        world = build(SMALL)
    auth.login(world.founder)
    base = f"/c/{world.slug}/members"

    first = _html(client, base)
    second = _html(client, f"{base}?page=2")
    assert first.count("Manage</a>") == 2 and second.count("Manage</a>") == 1
    assert f'href="{base}?page=2">Next members' in first
    assert "Next members" not in second and f'href="{base}?page=1">Previous' in second
    assert _html(client, f"{base}?page=-1") == first


def test_the_pool_board_shows_the_first_pitches_of_each_state_and_pages_the_rest(
        client, auth, setup, monkeypatch):
    from collective.pool.views import work
    monkeypatch.setattr(work, "BOARD_PER_STATE", 2)
    monkeypatch.setattr(work, "STATE_PAGE", 2)
    with setup():
        world = build(SMALL)
    auth.login(world.member)
    base = f"/c/{world.slug}/pool/"

    board = _html(client, base)
    # The three pitches are in progress, none with a deadline: by id, the first two show.
    assert [board.count(f">Work {n}</a>") for n in (0, 1, 2)] == [1, 1, 0]
    assert f'href="{base}?state=in_progress">All 3 in progress' in board
    first = _html(client, f"{base}?state=in_progress")
    second = _html(client, f"{base}?state=in_progress&page=2")
    assert [first.count(f">Work {n}</a>") for n in (0, 1, 2)] == [1, 1, 0]
    assert [second.count(f">Work {n}</a>") for n in (0, 1, 2)] == [0, 0, 1]
    assert f'href="{base}?page=2&amp;state=in_progress">Due later' in first
    assert "Due later" not in second
    assert "Work " not in _html(client, f"{base}?state=in_progress&page=9")
    assert _html(client, f"{base}?state=in_progress&page=x") == first
    # A state that is not one shows the board.
    assert _html(client, f"{base}?state=nonsense") == board


def test_all_shares_and_payouts_show_a_page_of_members_with_totals_over_everyone(
        client, auth, setup, monkeypatch):
    from collective.pool.views import money
    monkeypatch.setattr(money, "PAGE_SIZE", 2)
    with setup():
        world = build(SMALL)
    auth.login(world.founder)
    for page, total in (("pool/shares/all", "Total, every member"),
                        ("pool/payouts", "Total, 3 members")):
        base = f"/c/{world.slug}/{page}"
        first = _html(client, base)
        second = _html(client, f"{base}?page=2")
        assert [first.count(f"<td>{name}") for name in world.names] == [1, 1, 0], page
        assert [second.count(f"<td>{name}") for name in world.names] == [0, 0, 1], page
        assert f'href="{base}?page=2">Next members' in first
        assert f'href="{base}?page=1">Previous members' in second
        assert total in first and total in second
        # The totals are over every member, on every page.
        foot = first[first.index("<tfoot>"):first.index("</tfoot>")]
        assert foot == second[second.index("<tfoot>"):second.index("</tfoot>")]
        assert _html(client, f"{base}?page=0") == first
    shares = _html(client, f"/c/{world.slug}/pool/shares/all")
    assert "✓ ties" in shares


def test_the_dashboard_shows_the_most_loaded_members_and_links_to_everyone(
        client, auth, setup, monkeypatch):
    from collective.reports import dashboard, views
    monkeypatch.setattr(dashboard, "WORKLOAD_SHOWN", 2)
    monkeypatch.setattr(views, "WORKLOAD_PAGE", 2)
    with setup():
        world = build(SMALL)
    auth.login(world.founder)
    page = _html(client, f"/c/{world.slug}/dashboard")
    table = page[page.index("Workload this week"):]
    assert sum(table.count(f"<tr><td>{name}") for name in world.names) == 2
    assert "The 2 members with the most hours of 3" in table
    full = f"/c/{world.slug}/dashboard/workload"
    first = _html(client, full)
    second = _html(client, f"{full}?page=2")
    assert sum(first.count(f"<tr><td>{name}") for name in world.names) == 2
    assert sum(second.count(f"<tr><td>{name}") for name in world.names) == 1
    auth.login(world.member)
    assert client.get(full).status_code == 403
