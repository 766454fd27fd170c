"""The SQL statements a page runs do not grow with the data it shows: each page is opened
at two sizes of the same collective and must run the same number of statements."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from collective.benefits import claims, runs
from collective.books.expenses import categories, submissions
from collective.books.expenses.storage import receipt_storage
from collective.clock import now_utc
from collective.extensions import db
from collective.learning import modules as learning
from collective.members import invitations, proposals
from collective.pool import payments, pitches
from collective.pool.models import PitchState
from collective.standards import checklists
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
    ("learning/", "member"),
    ("learning/{module}", "member"),
    ("standards/", "member"),
    ("standards/deliveries/{delivery}", "member"),
    ("standards/pitches/{retainer}/deliver", "founder"),
    ("fund/", "member"),
    ("fund/treasurer", "founder"),
    ("ledger/", "founder"),
    ("ledger/trial-balance", "founder"),
    ("pool/shares/all", "founder"),
    ("pool/payouts", "founder"),
    ("books/invoices/", "founder"),
    ("books/invoices/new", "founder"),
    ("books/expenses/queue", "founder"),
    ("pool/?state=in_progress", "founder"),
    ("dashboard/workload", "founder"),
    ("pool/pitches/new", "founder"),
    ("reports/", "founder"),
    ("reports/statement", "founder"),
    ("audit", "founder"),
    ("audit?action=deposit.recorded", "founder"),
    ("pool/clients", "founder"),
    ("fund/claims", "founder"),
    ("proposals", "member"),
    ("invitations", "founder"),
    ("pool/shares", "member"),
    ("pool/rules", "member"),
    ("pool/my-work", "member"),
    ("pool/pitches/{retainer}", "founder"),
    ("pool/pitches/{wanted}", "member"),
    # The JSON API's books and ledger lists (a signed-in session reads them as a token does).
    ("/api/v1/collectives/{slug}/invoices", "founder"),
    ("/api/v1/collectives/{slug}/invoices?status=issued", "founder"),
    ("/api/v1/collectives/{slug}/expenses", "founder"),
    ("/api/v1/collectives/{slug}/expenses", "member"),
    ("/api/v1/collectives/{slug}/ledger/entries", "founder"),
    ("/api/v1/collectives/{slug}/balances", "founder"),
    ("/api/v1/collectives/{slug}/balances", "member"),
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
    """A collective of `size` members, each with work that was paid for (found by the second
    member, who is on every pitch: their shares and work grow with the collective), time
    logged, a deposit in the fund,
    an issued invoice, a pending expense, a claim (every other one decided), a proposal and
    an invitation."""
    people = found_fund(size=size)
    founder = people[0]
    found_rule(founder)
    vat = set_up_invoicing(founder)
    category = next(c for c in categories.categories_of(founder.collective_id))
    for n, person in enumerate(people):
        pitch = make_pitch(founder, title=f"Work {n}", finder=people[1])
        move_to(founder, pitch, PitchState.WON)
        work = allocate(founder, pitch, person)
        if person is not people[1]:  # on every pitch, without logging time: no share of it
            allocate(founder, pitch, people[1])
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
        proposals.open_proposal(founder, kind="share_rule", title=f"Rule {n}", now=now_utc(),
                                payload={"common_fund_bp": 1000 + n, "finder_fee_bp": 0,
                                         "method": "equal", "effective_on": "2026-12-01"})
        invitations.create_invitation(founder, email=f"guest{n}@example.org",
                                      roles=["member"], ttl=timedelta(days=7), now=NOW)
    runs.run_contributions(founder.collective_id, date(2026, 9, 1), today=TODAY)
    for n, person in enumerate(people):
        claim = claims.file_claim(person, kind="unpaid_invoice", start_period=TODAY,
                                  invoice_amount=10_000 + n, today=TODAY, now=NOW)
        if n % 2:
            claims.decide_claim(founder, claim, approve=False, reason="No invoice", now=NOW)
    claims.file_claim(people[1], kind="parental", start_period=TODAY, today=TODAY, now=NOW)
    # A retainer the founder works on, paid three times; open work everyone volunteered for.
    retainer = make_pitch(founder, title="Retainer")
    move_to(founder, retainer, PitchState.IN_PROGRESS)
    for k in range(3):
        log(founder, retainer.allocations[0], 60, worked_on=date(2026, 9, 1 + k))
        payments.record_payment(founder, retainer, amount=10_000 + k, currency="USD",
                                received_on=TODAY, reference=f"M-{k}", today=TODAY)
    wanted = make_pitch(founder, title="Open work")
    for person in people:
        pitches.volunteer_for(person, wanted, f"I can, says {person.user.name}")
    # Learning: a module by everyone, each rated by the others' first; standards: a checked
    # delivery of everyone's work, its second-member item confirmed by the second member.
    checklist = checklists.create_checklist(founder, kind="Clean-up", items=[
        ("Reconciled", False), ("Reviewed", True)])
    for n, person in enumerate(people):
        module = learning.publish_module(person, title=f"Module {n}", skill="bookkeeping",
                                         estimated_minutes=10, content=f"Lesson {n}", now=NOW)
        for reader in people[:2]:
            if reader is not person:
                learning.rate_module(reader, module, rating=1 + n % 5, comment="ok", now=NOW)
        work = move_to(founder, make_pitch(founder, client=retainer.client, title=f"Checked {n}"),
                       PitchState.IN_PROGRESS)
        delivery = checklists.deliver_pitch(founder, work, checklist_id=checklist.id,
                                            ticked={1}, today=TODAY, at=NOW)
        if n % 2:
            checklists.confirm_item(people[1], delivery, delivery.items[1].id, at=NOW)
    commit()
    return SimpleNamespace(slug=founder.collective.slug, founder=founder.user.email,
                           member=people[1].user.email, retainer=retainer.id, wanted=wanted.id,
                           names=sorted(person.user.name for person in people),
                           module=module.id, delivery=delivery.id)


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
        path = page.format(**vars(world))
        response = client.get(path if path.startswith("/") else f"/c/{world.slug}/{path}")
    assert response.status_code == 200, (page, response.status_code)
    return len(statements)


def _growing(client, auth, worlds, pages) -> dict:
    """The pages whose statement count is higher in the larger world."""
    small, large = worlds
    counts = {(page, who): (_count(client, auth, small, page, who),
                            _count(client, auth, large, page, who))
              for page, who in pages}
    return {key: value for key, value in counts.items() if value[1] > value[0]}


def test_no_page_runs_more_statements_for_more_data(app, client, auth, worlds, monkeypatch):
    from collective.members import pickers
    from collective.pool import pickers as client_pickers

    assert _growing(client, auth, worlds, PAGES) == {}
    # With the <select> limits below the smaller size, member and client fields search, and
    # their pages must not grow either (the same worlds: one build for both).
    monkeypatch.setattr(pickers, "SELECT_LIMIT", 1)
    monkeypatch.setattr(client_pickers, "SELECT_LIMIT", 1)
    assert _growing(client, auth, worlds, MEMBER_FIELD_PAGES) == {}
    large = worlds[1]
    auth.login(large.founder)
    page = _html(client, f"/c/{large.slug}/pool/payouts")
    assert 'data-member-search="/c/' in page and "<select name=\"one-membership_id\"" not in page


#: Lists that go a page at a time: (module, its page-size name, page, who opens it, a
#: pattern each row matches once, rows the small world has, the pager's next/previous words)
PAGED_LISTS = [
    ("collective.pool.views.money", "PAGE_SIZE", "pool/payments", "founder",
     r"<td>([RM]-[0-9]+)</td>", SMALL + 3, "Older payments", "Newer payments"),
    ("collective.pool.views.work", "PITCH_PAYMENTS", "pool/pitches/{retainer}", "founder",
     r"<td>(M-[0-9]+)</td>", 3, "Older payments", "Newer payments"),
    ("collective.members.views", "DIRECTORY_PAGE", "members", "founder",
     r"/members/([0-9]+)\">Manage</a>", SMALL, "Next members", "Previous members"),
    ("collective.pool.views.work", "CLIENTS_PAGE", "pool/clients", "founder",
     r'aria-label="Edit ([^"]+)"', 2 * SMALL + 2, "Next clients", "Previous clients"),
    ("collective.benefits.views", "CLAIMS_PAGE", "fund/claims", "founder",
     r"/fund/claims/([0-9]+)\"", SMALL + 1, "Later in the list", "Earlier in the list"),
    ("collective.benefits.views", "CLAIMS_PAGE", "fund/", "member",
     r"/fund/claims/([0-9]+)\"", 2, "Older claims", "Newer claims"),
    ("collective.members.views", "PROPOSALS_PAGE", "proposals", "member",
     r"/proposals/([0-9]+)\"", SMALL, "Later in the list", "Earlier in the list"),
    ("collective.members.views", "INVITATIONS_PAGE", "invitations", "founder",
     r"/invitations/([0-9]+)/renew", SMALL, "Older invitations", "Newer invitations"),
    ("collective.pool.views.work", "ALLOCATIONS_PAGE", "pool/my-work", "member",
     r'<tr><td><a href="/c/[a-z0-9-]+/pool/pitches/([0-9]+)">', SMALL, "Later in the list",
     "Earlier in the list"),
    ("collective.pool.views.money", "PAGE_SIZE", "pool/shares", "member",
     r"/payments/([0-9]+)\" title=\"Who got what", SMALL, "Older payments", "Newer payments"),
]


def test_each_paged_list_shows_every_row_once_a_page_at_a_time_in_its_order(
        client, auth, setup, monkeypatch):
    import importlib
    import re

    with setup():
        world = build(SMALL)
    for module, size, page, who, row, count, later, earlier in PAGED_LISTS:
        auth.login(getattr(world, who))
        base = f"/c/{world.slug}/{page.format(**vars(world))}"
        everything = re.findall(row, _html(client, base))
        assert len(everything) == count, (page, everything)
        per = 2 if count > 2 else 1
        monkeypatch.setattr(importlib.import_module(module), size, per)
        last = -(-count // per)
        pages = [_html(client, f"{base}?page={n}") for n in range(1, last + 2)]
        rows = [re.findall(row, html) for html in pages]
        assert [len(found) for found in rows] == [per] * (count // per) + [
            count % per] * (count % per > 0) + [0], page
        assert sum(rows, []) == everything, page  # each row once, in the list's order
        assert f'href="{base}?page=2">{later}' in pages[0], page
        assert later not in pages[last - 1], page
        assert f'href="{base}?page={last - 1}">{earlier}' in pages[last - 1], page
        # Not a page number: the first page, never an error.
        assert _html(client, f"{base}?page=x") == pages[0], page
        assert _html(client, f"{base}?page=-1") == pages[0], page
        if page == "pool/shares":  # its totals are over everything, the same on every page
            tiles = {html[html.index('<div class="tiles">'):html.index("<h2>Earnings")]
                     for html in pages}
            assert len(tiles) == 1
        monkeypatch.undo()
    # The second member found every pitch (a 5% fee of each 1,000.00) and did their own
    # (1,000.00 less 10% to the fund and 5% to the finder: themselves): 1,000.00 earned.
    auth.login(world.member)
    shares = _html(client, f"/c/{world.slug}/pool/shares?page=2")
    assert '<h2>Earned from payments</h2><p class="figure">$1,000.00</p>' in shares
    # A pitch's history shows its latest events, oldest of them first.
    from collective.pool.views import work
    auth.login(world.founder)
    url = f"/c/{world.slug}/pool/pitches/{world.retainer}"
    history = _html(client, url).split("<h2>History</h2>")[1]
    assert "changes.</p>" not in history and history.count("<li>") == 4  # open → in progress
    monkeypatch.setattr(work, "PITCH_EVENTS", 2)
    history = _html(client, url).split("<h2>History</h2>")[1]
    assert "The latest 2 of 4 changes." in history and history.count("<li>") == 2
    assert history.index("won") < history.index("in progress")


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
    # The three pitches and the retainer are in progress, none with a deadline: by id, the
    # first two show.
    assert [board.count(f">Work {n}</a>") for n in (0, 1, 2)] == [1, 1, 0]
    assert f'href="{base}?state=in_progress">All 4 in progress' in board
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
    # The member has three proposals to vote on: the two closing soonest show.
    monkeypatch.setattr(dashboard, "VOTES_SHOWN", 2)
    votes = _html(client, f"/c/{world.slug}/dashboard").split("Votes waiting for you")[1]
    votes = votes[:votes.index("</ul>") + 200]
    assert '<span class="badge warn">2+</span>' in votes
    assert votes.count("/proposals/") == 2 and "every proposal</a> lists the rest" in votes


#: API lists and reads of the governance and fund resources (docs/api.md), by the founder
#: (every role) unless a member is named: {proposal} is the one everyone voted on.
API_PAGES = [
    ("share-rules", "founder"),
    ("proposals", "member"),
    ("proposals?status=open", "founder"),
    ("proposals/{proposal}", "member"),
    ("proposals/{proposal}/votes", "member"),
    ("benefit-plans", "member"),
    ("claims", "founder"),
    ("claims?status=pending", "founder"),
    ("claims", "member"),
    ("runs", "founder"),
    ("runs/{run}/lines", "founder"),
]


def test_no_api_list_runs_more_statements_for_more_data(app, client, setup, worlds):
    from collective.api import tokens
    from collective.benefits.models import BenefitRun
    from collective.extensions import db, limiter
    from collective.members.models import Membership, Proposal, User

    limiter.reset()
    secrets = []
    with setup():
        for world in worlds:
            collective_id = db.session.scalar(
                sa.select(Membership.collective_id).join(User)
                .where(User.email == world.founder))
            proposal = db.session.scalar(sa.select(Proposal).filter_by(
                collective_id=collective_id).order_by(Proposal.id).limit(1))
            voters = db.session.scalars(sa.select(Membership).filter_by(
                collective_id=collective_id))
            for voter in voters:  # everyone votes: the votes grow with the collective
                proposals.cast_vote(voter, proposal, "agree", now=now_utc())
            world.proposal = proposal.id
            world.run = db.session.scalar(sa.select(BenefitRun.id).filter_by(
                collective_id=collective_id))
            secrets.append({who: tokens.create_token(
                db.session.scalar(sa.select(User).filter_by(email=getattr(world, who))),
                name="count", now=now_utc())[1] for who in ("founder", "member")})
        commit()

    def count(world, secret, page: str) -> int:
        url = f"/api/v1/collectives/{world.slug}/{page.format(**vars(world))}"
        headers = {"Authorization": f"Bearer {secret}"}
        client.get(url, headers=headers)  # the token's first use is recorded: not counted
        with counting() as statements:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, (page, response.get_data(as_text=True))
        if "{" not in page and "?" not in page:
            assert response.get_json()["items"], page  # something to count
        return len(statements)

    counts = {(page, who): tuple(count(world, secret[who], page)
                                 for world, secret in zip(worlds, secrets, strict=True))
              for page, who in API_PAGES}
    assert {key: value for key, value in counts.items() if value[1] > value[0]} == {}


def build_partners(size: int) -> SimpleNamespace:
    """Two partner collectives of `size` members each (every one with skills), `size`
    pitches of the first shared with the second, each with a partner member on it, time
    logged and a payment, and `size` settlements."""
    from collective.federation import money, sharing
    from collective.members.models import Skill
    from tests.factories import make_collective, make_member
    from tests.federation.factories import federate, share

    host, partner = make_collective(), make_collective()
    found_rule(host)
    found_rule(partner)
    federation = federate(host, partner)
    hosts = [make_member(host.collective) for _ in range(size)]
    guests = [make_member(partner.collective, hours=20) for _ in range(size)]
    for n, guest in enumerate(guests):
        db.session.add_all([Skill(user_id=guest.user_id, name="bookkeeping", level=3),
                            Skill(user_id=guest.user_id, name=f"skill {n}", level=2)])
    last = None
    for n in range(size):
        pitch = make_pitch(host, title=f"Shared {n}")
        move_to(host, pitch, PitchState.WON)
        log(hosts[n], allocate(host, pitch, hosts[n]), 60)
        last = share(host, partner, federation, pitch, partner_bp=2500 + n)
        for guest in guests:
            sharing.allocate_partner_member(host, last, membership_id=guest.id,
                                            weekly_hours=1, now=NOW)
        sharing.log_partner_time(guests[n], last, worked_on=date(2026, 10, 1), minutes=60,
                                 today=TODAY)
        payments.record_payment(host, pitch, amount=100_000 + n, currency="USD",
                                received_on=TODAY, today=TODAY)
        money.settle(host, federation, amount=1_000, paid_on=TODAY, today=TODAY)
    commit()
    return SimpleNamespace(host=host.collective.slug, partner=partner.collective.slug,
                           founder=host.user.email, guest_founder=partner.user.email,
                           guest=guests[0].user.email, federation=federation.id,
                           shared=last.id)


#: Partner pages: (collective: host or partner, page, who opens it).
PARTNER_PAGES = [
    ("host", "partners/", "founder"),
    ("host", "partners/{federation}", "founder"),
    ("host", "partners/{federation}/people?skill=bookkeeping", "founder"),
    ("host", "partners/shared/{shared}", "founder"),
    ("host", "partners/money", "founder"),
    ("host", "partners/{federation}/settle", "founder"),
    ("partner", "partners/{federation}/settle", "guest_founder"),
    ("partner", "partners/shared/{shared}", "guest"),
]


def test_no_partner_page_runs_more_statements_for_more_data(client, auth, setup):
    with setup():
        worlds = build_partners(SMALL), build_partners(LARGE)
    counts = {}
    for side, page, who in PARTNER_PAGES:
        measured = []
        for world in worlds:
            auth.login(getattr(world, who))
            with counting() as statements:
                response = client.get(f"/c/{getattr(world, side)}/"
                                      f"{page.format(**vars(world))}")
            assert response.status_code == 200, (page, response.status_code)
            measured.append(len(statements))
        counts[(side, page, who)] = tuple(measured)
    assert {key: value for key, value in counts.items() if value[1] > value[0]} == {}


def build_evidence(size: int) -> SimpleNamespace:
    """A collective where each of `size` members delivered a paid pitch needing two skills
    with the second member, and endorsed them on it; the second member's profile grows with
    the collective (credits, named and private work, endorsements) and is published."""
    from collective.pool.evidence import endorsements, profiles
    from tests.factories import make_collective, make_member
    from tests.pool.factories import make_client

    founder = make_collective()
    people = [founder] + [make_member(founder.collective) for _ in range(size - 1)]
    found_rule(founder)
    star = people[1]
    for n, person in enumerate(people):
        client = make_client(founder, f"Client {n}")
        client.is_naming_allowed = n % 2 == 0
        pitch = make_pitch(founder, client=client, title=f"Delivered {n}",
                           required_skills={"bookkeeping": 3, f"skill {n}": 2})
        move_to(founder, pitch, PitchState.WON)
        team = [person] if person is star else [person, star]
        work = [allocate(founder, pitch, who) for who in team]
        pitches.transition_pitch(founder, pitch, PitchState.IN_PROGRESS, at=NOW)
        for who, allocated in zip(team, work, strict=True):
            log(who, allocated, 60, worked_on=date(2026, 9, 1 + n % 28))
        pitches.transition_pitch(founder, pitch, PitchState.DELIVERED, at=NOW)
        payments.record_payment(founder, pitch, amount=50_000, currency="USD",
                                received_on=TODAY, today=TODAY)
        if person is not star:
            endorsements.endorse(person, pitch, receiver_id=star.id, skill="bookkeeping",
                                 note=f"Thanks from {n}", at=NOW)
            endorsements.endorse(star, pitch, receiver_id=person.id, skill="bookkeeping",
                                 note=f"Thanks to {n}", at=NOW)
    profile = profiles.save_public_profile(star, skills=["bookkeeping", "skill 1", "skill 2"],
                                           publish=True, at=NOW)
    commit()
    return SimpleNamespace(slug=founder.collective.slug, founder=founder.user.email,
                           member=star.user.email, star=star.id, pitch=pitch.id,
                           public=profile.slug)


#: The skill pages: (page, who opens it); "member" is the one whose profile grows.
EVIDENCE_PAGES = [
    ("skills", "member"),
    ("members/{star}/profile", "founder"),
    ("pitches/{pitch}/endorse", "member"),
    ("profile/public", "member"),
    ("members", "founder"),
]


def test_the_skill_pages_run_no_more_statements_for_more_work(client, auth, setup):
    with setup():
        worlds = build_evidence(SMALL), build_evidence(LARGE)
    assert _growing(client, auth, worlds, EVIDENCE_PAGES) == {}
    large = worlds[1]
    auth.login(large.member)
    mine = _html(client, f"/c/{large.slug}/skills")
    assert f"Thanks from {LARGE - 1}" in mine and "6 pitches for private clients" in mine
    client.post("/logout")
    counts = []
    for world in worlds:
        with counting() as statements:
            assert client.get(f"/p/{world.public}").status_code == 200
        counts.append(len(statements))
    assert counts[1] <= counts[0]


def test_me_runs_as_many_statements_whatever_the_data_and_the_collectives(
        client, auth, worlds, setup):
    """/me of the second member: their shares and work grow with the world; in the larger
    one they are also in three more collectives (one in the smaller), each with work, a
    payment in another currency and a proposal to vote on."""
    from collective.exchange import rates
    from collective.extensions import db
    from collective.members.models import User
    from tests.factories import make_collective, make_member

    small, large = worlds
    with setup():
        for world, extra in ((small, 1), (large, 3)):
            person = db.session.scalar(sa.select(User).filter_by(email=world.member))
            for n in range(extra):
                founder = make_collective(currency="EUR")
                found_rule(founder)
                member = make_member(founder.collective, user=person)
                pitch = make_pitch(founder, title=f"Elsewhere {n}")
                move_to(founder, pitch, PitchState.WON)
                work = allocate(founder, pitch, member)
                pitches.transition_pitch(founder, pitch, PitchState.IN_PROGRESS, at=NOW)
                log(member, work, 90)
                payments.record_payment(founder, pitch, amount=50_000, currency="EUR",
                                        received_on=TODAY, reference=f"E-{n}", today=TODAY)
                proposals.open_proposal(
                    founder, kind="share_rule", title=f"Elsewhere rule {n}", now=now_utc(),
                    payload={"common_fund_bp": 1000, "finder_fee_bp": 0, "method": "equal",
                             "effective_on": "2026-12-01"})
        rates.set_rate("EUR", "USD", "1.0842", date(2026, 1, 1))
        commit()
    counts = []
    for world in worlds:
        auth.login(world.member)
        with counting() as statements:
            response = client.get("/me")
        assert response.status_code == 200
        assert "Elsewhere 0" in response.get_data(as_text=True)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
