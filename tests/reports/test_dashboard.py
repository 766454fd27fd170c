"""The dashboard: each role sees its own sections, with real numbers and a table behind
every chart; people from other collectives see nothing."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from collective.benefits import plans
from collective.benefits import queries as fund_queries
from collective.benefits import runs as fund_runs
from collective.benefits.compute import PlanTerms, add_months
from collective.demo.fund import BREAD_FUND
from collective.extensions import db
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.members.models import Membership, Role
from collective.members.proposals import cast_vote
from collective.money import format_money
from collective.pool import allocation, payments, payouts, pitches, queries, rules
from collective.pool.models import PitchState
from collective.reports import dashboard
from tests.factories import commit, make_collective, make_member, make_user
from tests.pool.factories import found_rule, log, make_pitch, move_to

#: Members joined long before the fund's first run, so the run counts them.
JOINED = datetime(2026, 1, 1, tzinfo=UTC)
#: The month the money moved: last month, so it is inside every chart's window whatever
#: the date the suite runs on.
MONTH = add_months(date.today().replace(day=1), -1)
MONTH_LABEL = f"{MONTH:%b %Y}"  # as the dashboard writes a month: "Oct 2026"
PAID_IN = 100_000  # one client payment of USD 1,000.00 on the 5th of MONTH
PAID_OUT = 40_000  # then USD 400.00 paid out to Ann on the 8th


@dataclass(frozen=True)
class World:
    slug: str
    collective_id: int
    founder: str  # e-mails; the founder holds every role
    ann: str  # plain member, 10 h capacity, over-committed
    cora: str  # coordinator
    tess: str  # treasurer
    ann_id: int
    ann_name: str
    first_proposal: int
    second_proposal: int
    near_title: str
    far_title: str


def _allocate(coordinator, pitch, member, hours: int):
    return allocation.allocate_member(coordinator, pitch, membership_id=member.id,
                                      weekly_hours=hours)


@pytest.fixture
def world(setup) -> World:
    with setup():
        founder = make_collective()
        coll = founder.collective
        ann = make_member(coll, hours=10)
        cora = make_member(coll, roles=(Role.MEMBER, Role.COORDINATOR), hours=20)
        tess = make_member(coll, roles=(Role.MEMBER, Role.TREASURER), hours=15)
        for person in (founder, ann, cora, tess):
            person.joined_at = JOINED
        found_rule(founder)

        # Ann: 12 h/week in progress + 6 h/week won = 18 of her 10; delivered work is done.
        busy = move_to(founder, make_pitch(founder, title="Helpdesk retainer"), PitchState.WON)
        work = _allocate(founder, busy, ann, 12)
        pitches.transition_pitch(founder, busy, PitchState.IN_PROGRESS, at=datetime.now(UTC))
        log(ann, work, 600)
        payments.record_payment(founder, busy, amount=PAID_IN, currency="USD",
                                received_on=MONTH + timedelta(days=4), today=date.today())
        payouts.pay_member(founder, ann, amount=PAID_OUT, paid_on=MONTH + timedelta(days=7),
                           request_key="dash-payout", today=date.today())
        won = move_to(founder, make_pitch(founder, title="Tax season prep"), PitchState.WON)
        _allocate(founder, won, ann, 6)
        _allocate(founder, won, cora, 4)
        done = move_to(founder, make_pitch(founder, title="Old audit"), PitchState.WON)
        _allocate(founder, done, ann, 5)
        pitches.transition_pitch(founder, done, PitchState.IN_PROGRESS, at=datetime.now(UTC))
        pitches.transition_pitch(founder, done, PitchState.DELIVERED, at=datetime.now(UTC))

        # Deadlines are read against the real today, as the page does.
        won.deadline_on = date.today() + timedelta(days=5)
        far = make_pitch(founder, title="Next year's website")
        far.deadline_on = date.today() + timedelta(days=200)

        # Two open proposals; Ann has voted on the second only.
        terms = rules.terms_from(800, 500, "weights")
        first = rules.propose_share_rule(founder, terms, effective_on=date.today(),
                                         title="Lower the common fund to 8%",
                                         today=date.today(), now=datetime.now(UTC))
        second = rules.propose_share_rule(tess, terms, effective_on=date.today(),
                                          title="Split by weights instead",
                                          today=date.today(), now=datetime.now(UTC))
        cast_vote(ann, second, "agree", now=datetime.now(UTC))

        # The fund: a plan, one contribution run; only Ann has money to pay with.
        plans.set_founding_plan(founder, PlanTerms.from_json(BREAD_FUND),
                                effective_on=MONTH, today=date.today())
        fund_runs.run(coll.id, "contributions", MONTH, today=date.today(), triggered_by="test")
        db.session.flush()
        result = World(coll.slug, coll.id, founder.user.email, ann.user.email,
                       cora.user.email, tess.user.email, ann.id, ann.user.name, first.id,
                       second.id,
                       won.title, far.title)
        commit()
        return result


def _page(client, auth, email: str, slug: str) -> str:
    auth.login(email)
    response = client.get(f"/c/{slug}/dashboard")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _usd(amount: int) -> str:
    return format_money(amount, "USD")


def _table_after(html: str, heading: str) -> list[list[str]]:
    """The rows (cell texts) of the first table after a heading."""
    rest = html[html.index(heading):]
    table = rest[rest.index("<table"):rest.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split())
             for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)] for row in rows]


def test_the_collective_home_opens_the_dashboard(client, auth, world):
    auth.login(world.ann)

    response = client.get(f"/c/{world.slug}/")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/c/{world.slug}/dashboard"


def test_a_member_sees_their_balance_earnings_reserve_work_and_votes(client, auth, setup,
                                                                     world):
    html = _page(client, auth, world.ann, world.slug)
    with setup():
        ann = db.session.get(Membership, world.ann_id)
        owed = balances.member_balance(ann.id)["USD"]
        earned = queries.member_earnings(world.collective_id, since=MONTH,
                                         until=add_months(MONTH, 1) - timedelta(days=1)
                                         )["earned"].sum()
        reserve = fund_queries.member_fund(ann, today=date.today()).reserve

    # Everything split to members went to Ann (the only one who logged hours): 90% of the
    # payment after the 10% common fund and 5% finder's fee with no finder.
    assert earned == 90_000
    assert owed == earned - PAID_OUT - 2_250  # less her first contribution (4.5% of 500)
    assert _usd(owed) in html
    assert reserve == 2_250 and _usd(reserve) in html
    earnings = _table_after(html, "Your earnings per month")
    assert [MONTH_LABEL, _usd(90_000)] in earnings
    assert 'aria-label="Your earnings per month in USD"' in html
    # Her open work: the two active pitches, not the delivered one.
    work = _table_after(html, "Your open work")
    assert sorted(row[0].split(" ")[0] for row in work[1:]) == ["Helpdesk", "Tax"]
    assert "Old audit" not in html
    # Only the proposal she has not voted on, linked to its page.
    assert f'href="/c/{world.slug}/proposals/{world.first_proposal}"' in html
    assert f'/proposals/{world.second_proposal}"' not in html
    # No coordinator or treasurer sections.
    assert 'id="coordination"' not in html and "Workload this week" not in html
    assert 'id="money"' not in html and "In the bank" not in html


def test_the_workload_pages_run_from_members_with_work_into_those_without(setup, world):
    """Members with work are read first and those without only when a page reaches them:
    every window of every size is the same slice of one order (most hours, then name)."""
    with setup():
        import sqlalchemy as sa

        from collective.members.models import User

        hours = {row.membership_id: int(row.hours) for row in dashboard.workload(
            world.collective_id).itertuples()}
        names = dict(db.session.execute(
            sa.select(Membership.id, User.name).join(User, User.id == Membership.user_id)
            .where(Membership.collective_id == world.collective_id)).all())
        expected = sorted(names, key=lambda m: (-hours.get(m, 0), names[m], m))
        assert [hours[m] > 0 for m in expected] == [True, True, False, False]
        for limit in range(1, 6):
            for offset in range(6):
                window = dashboard.workload(world.collective_id, limit=limit, offset=offset)
                assert window["membership_id"].tolist() == expected[offset:offset + limit], (
                    limit, offset)
        totals = dashboard.workload_totals(world.collective_id)
        assert totals == {"members": 4, "hours": 22, "capacity": 45, "over": 1}
        for limit in range(1, 6):  # the dashboard's: the same rows and totals, read at once
            shown, together = dashboard.workload_with_totals(world.collective_id, limit)
            assert shown["membership_id"].tolist() == expected[:limit]
            assert shown.to_dict("records") == dashboard.workload(
                world.collective_id, limit=limit).to_dict("records")
            assert together == totals


def test_a_coordinator_sees_the_pool_workload_and_deadlines(client, auth, world):
    html = _page(client, auth, world.cora, world.slug)

    assert 'id="coordination"' in html
    assert 'id="money"' not in html
    by_state = dict((row[0], row[1]) for row in _table_after(html, "The pool by state")[1:])
    assert by_state == {"Open": "1", "Pitched": "0", "Won": "1", "In progress": "1",
                        "Delivered": "1", "Invoiced": "0", "Paid": "0", "Lost": "0",
                        "Cancelled": "0"}
    # Ann: 12 h in progress + 6 h won (the delivered 5 h no longer count), against 10.
    chart = html[html.index("Workload this week"):]
    chart = chart[:chart.index("</svg>")]
    assert "18 of 10 h, over" in chart
    assert "4 of 20 h" in chart
    rows = {row[0]: row[1:] for row in _table_after(html, "Workload this week")[1:]}
    assert rows[world.ann_name] == ["18", "10", "over by 8"]
    names = list(rows)[:-1]
    # Every member (fewer than the 20 shown), most hours first, then by name.
    assert len(names) == 4 and names == sorted(names, key=lambda n: (-int(rows[n][0]), n))
    assert names[0] == world.ann_name
    assert rows["All 4 members"][:2] == ["22", "45"]  # 18 + 4 hours; 0 + 10 + 20 + 15 capacity
    # Near their deadline: the pitch due in 5 days, not the one due in 200.
    near = html[html.index("Near their deadline"):html.index("Workload this week")]
    assert world.near_title in near and "in 5 days" in near
    assert world.far_title not in near


def test_a_treasurer_sees_bank_and_funds_matching_the_ledger(client, auth, setup, world):
    html = _page(client, auth, world.tess, world.slug)
    with setup():
        def balance(code: str) -> int:
            account = ledger.account_by_code(world.collective_id, code)
            return balances.account_balance(account.id).get("USD", 0)
        bank = balance(ledger.BANK)
        # The common fund: its own account and the year's result (income less shares).
        common = balances.common_fund_balance(world.collective_id).get("USD", 0)
        # What the fund holds: its reserves less what members owe it (nothing here).
        benefits = -balance(ledger.BENEFITS_FUND) - balance(ledger.FUND_OWED)
        months = dashboard.balances_by_month(world.collective_id, date.today())

    assert 'id="money"' in html and 'id="coordination"' not in html
    assert bank == PAID_IN - PAID_OUT and common == 10_000 and benefits == 2_250
    for amount in (bank, common, benefits):
        assert _usd(amount) in html
    # The last month-end row is today's balance; October holds the whole story.
    table = _table_after(html, "Bank and fund balances at the end")
    assert table[-1][1:] == [_usd(bank), _usd(common), _usd(benefits)]
    assert [MONTH_LABEL, _usd(bank), _usd(common), _usd(benefits)] in table
    assert months.iloc[-1][["bank", "common_fund", "benefits_fund"]].tolist() == [
        bank, common, benefits]
    # Money in and out per month.
    flows = _table_after(html, "Client payments in and payouts out")
    assert [MONTH_LABEL, _usd(PAID_IN), _usd(PAID_OUT)] in flows
    # The three members with nothing to pay with owe their contribution.
    owing = _table_after(html, "Members owing the fund")[1:]
    assert len(owing) == 3 and all(row[1:] == [_usd(2_250), _usd(0)] for row in owing)
    runs = _table_after(html, "Latest fund runs")
    assert any(row[0] == f"{MONTH_LABEL} contributions" and "done, contributions owed" in row[1]
               for row in runs)


def test_every_chart_has_its_table_one_click_away(client, auth, world):
    html = _page(client, auth, world.founder, world.slug)

    charts = re.findall(r'<svg class="chart".*?</svg>|<p class="muted">Nothing to show yet.</p>',
                        html, re.S)
    followed = re.findall(r'(?:</svg>|Nothing to show yet.</p>)\s*<details class="chart-table">'
                          r'<summary>Show the table</summary>\s*'
                          r'<div class="table-wrap"[^>]*><table>', html)
    # earnings, workload, checklists met, balances, money in and out
    assert len(charts) == 5
    assert len(followed) == len(charts)
    # Readable without colour: every bar chart writes its values as text.
    drawn = [chart for chart in charts if chart.startswith("<svg")]
    assert len(drawn) == 3  # the founder has earned nothing yet
    assert all('class="value"' in chart for chart in drawn)


def test_a_paused_member_sees_their_status(client, auth, setup, world):
    with setup():
        ann = db.session.get(Membership, world.ann_id)
        ann.status, ann.status_note = "paused", "parental leave"
        commit()

    html = _page(client, auth, world.ann, world.slug)

    assert "paused: parental leave" in html


def test_people_from_elsewhere_get_404(client, auth, setup, world):
    with setup():
        other = make_collective()
        stranger = make_user()
        other_email, stranger_email = other.user.email, stranger.email
        commit()

    for email in (other_email, stranger_email):
        auth.login(email)
        assert client.get(f"/c/{world.slug}/dashboard").status_code == 404
        assert client.get(f"/c/{world.slug}/").status_code == 404
        auth.logout()


def test_a_new_collective_shows_its_first_steps_instead_of_empty_charts(client, auth, setup):
    with setup():
        founder = make_collective()
        slug, email = founder.collective.slug, founder.user.email
        commit()

    html = _page(client, auth, email, slug)

    # No wall of zeros: no empty chart, no empty table, the first steps instead
    # (tests/reports/test_getting_started.py has them in full).
    assert html.count("Nothing to show yet.") == 0
    assert html.count('<details class="chart-table">') == 0
    assert "Getting started" in html and "Nothing has happened here yet" in html


def test_a_reversed_payment_counts_against_the_bank_income_of_its_month(ctx):
    founder = make_collective()
    found_rule(founder)
    work = move_to(founder, make_pitch(founder), PitchState.IN_PROGRESS)
    on = MONTH + timedelta(days=4)
    for amount in (PAID_IN, 30_000):
        mistaken = payments.record_payment(founder, work, amount=amount, currency="USD",
                                           received_on=on, today=date.today())
    payments.reverse_payment(founder, mistaken)

    table = dashboard.money_by_month(founder.collective_id, date.today())

    assert int(table["income"].sum()) == PAID_IN
    assert int(table["payouts"].sum()) == 0


def test_the_workload_of_a_collective_without_work_lists_members_by_name(setup):
    with setup():
        founder = make_collective()
        others = [make_member(founder.collective, hours=hours) for hours in (5, 7)]
        shown, totals = dashboard.workload_with_totals(founder.collective_id, 2)
        names = sorted([(m.user.name, m.id) for m in (founder, *others)])
        assert [(row["name"], row["membership_id"]) for row in shown.to_dict("records")] == \
            names[:2]
        assert shown["hours"].tolist() == [0, 0]
        assert totals == dashboard.workload_totals(founder.collective_id)
        assert (totals["members"], totals["hours"], totals["over"]) == (3, 0, 0)
