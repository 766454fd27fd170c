"""Who may propose share-rule changes: a collective setting a treasurer changes; every
member by default, or coordinators and treasurers only."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.members.models import Collective, Proposal, Role
from tests.factories import PASSWORD, commit, make_collective, make_member
from tests.pool.factories import found_rule

TODAY = date.today()


@pytest.fixture
def site(setup):
    """A collective with a founding rule, its founder (every role), a coordinator and a
    plain member: slug and e-mails."""
    with setup():
        founder = make_collective()
        found_rule(founder, effective_on=TODAY - timedelta(days=60))
        coordinator = make_member(founder.collective, (Role.MEMBER, Role.COORDINATOR))
        member = make_member(founder.collective)
        commit()
        return {"slug": founder.collective.slug, "treasurer": founder.user.email,
                "coordinator": coordinator.user.email, "member": member.user.email}


def _proposal_data() -> dict:
    start = (TODAY.replace(day=1) + timedelta(days=32)).replace(day=1)
    return {"common_fund": "8", "finder_fee": "5", "method": "weights",
            "effective_on": start.isoformat(), "deadline_days": "7", "propose": "1"}


def _proposals(setup, slug: str) -> int:
    with setup():
        return db.session.scalar(sa.select(sa.func.count(Proposal.id)).join(
            Collective, Collective.id == Proposal.collective_id).filter(Collective.slug == slug))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _checked(page: str) -> str:
    """The value of the checked radio button of the settings page."""
    (value,) = re.findall(r'<input checked[^>]* type="radio" value="(\w+)"', page)
    return value


def test_a_plain_member_proposes_a_share_rule_by_default(client, auth, setup, site):
    auth.login(site["member"], PASSWORD)
    rules_page = _text(client.get(f"/c/{site['slug']}/pool/rules"))
    assert "Propose a change" in rules_page
    assert "setting of the collective" not in rules_page  # the link is for treasurers
    response = client.post(f"/c/{site['slug']}/pool/rules/propose", data=_proposal_data())
    assert response.status_code == 302
    assert _proposals(setup, site["slug"]) == 1


def test_a_treasurer_keeps_proposals_to_coordinators_and_treasurers(client, auth, setup,
                                                                    site):
    auth.login(site["treasurer"], PASSWORD)
    settings = _text(client.get(f"/c/{site['slug']}/settings"))
    assert "<legend>Who may propose share-rule changes</legend>" in settings
    assert _checked(settings) == "members"
    saved = client.post(f"/c/{site['slug']}/settings", data={"rule_proposers": "managers"})
    assert saved.status_code == 302
    assert _checked(_text(client.get(f"/c/{site['slug']}/settings"))) == "managers"
    auth.logout()

    auth.login(site["member"], PASSWORD)
    rules_page = _text(client.get(f"/c/{site['slug']}/pool/rules"))
    assert "Propose a change" not in rules_page
    assert "coordinators and treasurers propose share-rule changes" in rules_page
    assert client.get(f"/c/{site['slug']}/pool/rules/propose").status_code == 403
    assert client.post(f"/c/{site['slug']}/pool/rules/propose",
                       data=_proposal_data()).status_code == 403
    assert _proposals(setup, site["slug"]) == 0
    auth.logout()

    auth.login(site["coordinator"], PASSWORD)
    assert client.post(f"/c/{site['slug']}/pool/rules/propose",
                       data=_proposal_data()).status_code == 302
    assert _proposals(setup, site["slug"]) == 1


def test_only_a_treasurer_opens_the_settings(client, auth, setup, site):
    auth.login(site["coordinator"], PASSWORD)
    assert client.get(f"/c/{site['slug']}/settings").status_code == 403
    assert client.post(f"/c/{site['slug']}/settings",
                       data={"rule_proposers": "managers"}).status_code == 403
    with setup():
        collective = db.session.scalar(sa.select(Collective).filter_by(slug=site["slug"]))
        assert collective.is_rule_proposing_open is True


def test_an_unknown_choice_is_a_form_error(client, auth, site):
    auth.login(site["treasurer"], PASSWORD)
    response = client.post(f"/c/{site['slug']}/settings", data={"rule_proposers": "nobody"})
    assert response.status_code == 422
    assert "Not a valid choice" in _text(response)
