"""A fund run waits until the month has ended in the collective's own timezone (the clock is
frozen where Manila has already reached the next month and UTC has not), and a month's run
counts the members who joined before it ended there."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from collective.benefits import runs
from collective.benefits.models import BenefitRun
from collective.extensions import db
from tests.benefits.factories import deposit, found_fund
from tests.factories import commit, make_member

#: 00:30 on 1 December in Manila; still 30 November in UTC.
END_OF_NOVEMBER = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
#: 00:30 on New Year's Day in Manila; still 31 December in UTC.
END_OF_DECEMBER = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)


def _run_now(client, auth, setup, timezone: str, month: date) -> tuple[str, int]:
    with setup():
        founder, member = found_fund(2, start=date(2026, 9, 1))
        founder.collective.timezone = timezone
        for person in (founder, member):
            deposit(founder, person, 50_000, on=date(2026, 9, 1), today=date(2026, 9, 1))
        slug, cid, email = founder.collective.slug, founder.collective_id, founder.user.email
        commit()
    auth.login(email)
    page = client.post(f"/c/{slug}/fund/runs", follow_redirects=True,
                       data={"kind": "contributions", "period": month.isoformat()})
    with setup():
        runs = db.session.scalar(sa.select(sa.func.count()).select_from(BenefitRun)
                                 .filter_by(collective_id=cid, period=month))
    return page.get_data(as_text=True), runs


@pytest.mark.parametrize("moment, month", [(END_OF_NOVEMBER, date(2026, 11, 1)),
                                           (END_OF_DECEMBER, date(2026, 12, 1))])
def test_manila_runs_the_month_it_has_finished(client, auth, setup, moment, month):
    with time_machine.travel(moment, tick=False):
        html, runs = _run_now(client, auth, setup, "Asia/Manila", month)
    assert f"The contributions run for {month:%B %Y} is done" in html
    assert runs == 1


@pytest.mark.parametrize("moment, month", [(END_OF_NOVEMBER, date(2026, 11, 1)),
                                           (END_OF_DECEMBER, date(2026, 12, 1))])
def test_a_utc_collective_waits_for_its_own_month_to_end(client, auth, setup, moment, month):
    with time_machine.travel(moment, tick=False):
        html, runs = _run_now(client, auth, setup, "UTC", month)
    assert "only a month that has ended can be run" in html
    assert runs == 0


#: 23:30 on 30 November and 00:30 on 1 December in Manila (both 30 November in UTC).
LAST_HOUR_OF_NOVEMBER = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
FIRST_HOUR_OF_DECEMBER = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)


@pytest.mark.parametrize("timezone, counted", [
    ("Asia/Manila", {"before", "founder", "other"}),
    ("UTC", {"before", "after", "founder", "other"})])
def test_a_member_counts_for_the_months_that_end_after_they_joined_in_the_collective_s_time(
        ctx, timezone, counted):
    founder, other = found_fund(2)
    founder.collective.timezone = timezone
    people = {"founder": founder, "other": other}
    for name, joined in (("before", LAST_HOUR_OF_NOVEMBER), ("after", FIRST_HOUR_OF_DECEMBER)):
        people[name] = make_member(founder.collective)
        people[name].joined_at = joined
    db.session.flush()

    november = runs.run_contributions(founder.collective_id, date(2026, 11, 1),
                                      today=date(2026, 12, 10), dry_run=True)

    names = {person.id: name for name, person in people.items()}
    assert {names[m] for m in november.lines["membership_id"]} == counted
