"""The claim form starts from values the plan accepts: sent as it is shown, it files a
claim (the sick-leave plan waits one month, so one month would pay nothing)."""
from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from collective.benefits import runs
from collective.benefits.compute import add_months
from collective.benefits.models import Claim
from collective.clock import month_start, today_in
from collective.extensions import db
from tests.benefits.factories import deposit, found_fund
from tests.factories import PASSWORD, commit
from tests.forms import form_values

TODAY = today_in("UTC")
THIS_MONTH = month_start(TODAY)


@pytest.fixture
def fund(setup):
    """A fund whose plan (the demo's bread fund) began two months ago, with the month
    before last contributed: Ann may claim."""
    with setup():
        founder, ann = found_fund(2, start=add_months(THIS_MONTH, -2))
        for person in (founder, ann):
            deposit(founder, person, 50_000, on=add_months(THIS_MONTH, -2), today=TODAY)
        runs.run_contributions(founder.collective_id, add_months(THIS_MONTH, -2), today=TODAY)
        commit()
        return founder.collective.slug, ann.user.email, ann.id


def test_the_claim_form_sent_as_shown_files_a_claim(client, auth, setup, fund):
    slug, ann, ann_id = fund
    auth.login(ann, PASSWORD)
    page = client.get(f"/c/{slug}/fund/claims/new").get_data(as_text=True)
    values = form_values(page)
    assert (values["kind"], values["start_period"], values["months"]) == (
        "sick", f"{THIS_MONTH:%Y-%m}", "2")
    assert "Sick leave: the first 1 month(s) wait, then up to 24 month(s) are paid" in \
        html.unescape(page)

    filed = client.post(f"/c/{slug}/fund/claims/new", data=values)

    assert filed.status_code == 302, html.unescape(filed.get_data(as_text=True))
    with setup():
        claim = db.session.scalar(sa.select(Claim).filter_by(membership_id=ann_id))
        assert (claim.kind, claim.start_period, claim.months) == ("sick", THIS_MONTH, 2)
