"""A new collective's dashboard: a checklist of first steps, each linking to its page and
ticked when done, and no wall of zeros; it goes away once every step is done."""
from __future__ import annotations

import re

from collective.benefits import plans
from collective.benefits.compute import PlanTerms
from collective.clock import now_utc, today_in
from collective.demo.fund import BREAD_FUND
from collective.extensions import db
from collective.members.models import Membership
from collective.pool import clients, pitches, rules
from tests.factories import commit, make_collective, make_member

TODAY = today_in("UTC")


def _checklist(html: str) -> list[tuple[str, str, bool]]:
    """(label, href, done) of each step shown."""
    items = re.findall(r'<li class="(done|todo)">.*?<a href="([^"]+)">([^<]+)</a>', html, re.S)
    return [(label, href, state == "done") for state, href, label in items]


def test_a_new_collective_shows_its_first_steps_ticked_as_they_are_done(client, auth, setup):
    with setup():
        founder = make_collective()
        commit()
        slug, email, founder_id = founder.collective.slug, founder.user.email, founder.id
    auth.login(email)

    html = client.get(f"/c/{slug}/dashboard").get_data(as_text=True)

    assert _checklist(html) == [
        ("Agree the founding share rule", f"/c/{slug}/pool/rules", False),
        ("Set up the benefits fund", f"/c/{slug}/fund/plan", False),
        ("Invite the first members", f"/c/{slug}/invitations", False),
        ("Record the first client and pitch", f"/c/{slug}/pool/clients", False)]
    assert "0 of 4 done" in html
    # No wall of zeros: no tiles, no empty charts.
    for tile in ("Owed to you", "In the bank", "The pool by state", "Workload this week"):
        assert tile not in html, tile
    assert "Nothing has happened here yet" in html
    for _, href, _ in _checklist(html):
        assert client.get(href).status_code == 200, href

    with setup():
        founder = db.session.get(Membership, founder_id)
        rules.set_founding_rule(founder, rules.terms_from(1000, 500, "hours"),
                                TODAY.replace(day=1), today=TODAY)
        plans.set_founding_plan(founder, PlanTerms.from_json(BREAD_FUND),
                                effective_on=TODAY.replace(day=1), today=TODAY)
        make_member(founder.collective)
        commit()

    html = client.get(f"/c/{slug}/dashboard").get_data(as_text=True)

    assert [done for _, _, done in _checklist(html)] == [True, True, True, False]
    assert "3 of 4 done" in html

    with setup():
        founder = db.session.get(Membership, founder_id)
        harbour = clients.create_client(founder, name="Harbour Dental")
        pitches.create_pitch(founder, client_id=harbour.id, title="Bookkeeping",
                             value_amount=100_000, value_currency="USD", today=TODAY,
                             at=now_utc())
        commit()

    html = client.get(f"/c/{slug}/dashboard").get_data(as_text=True)

    assert "Getting started" not in html and _checklist(html) == []
    assert "Owed to you" in html and "The pool by state" in html
    assert "Nothing has happened here yet" not in html


def test_a_plain_member_sees_no_checklist_and_no_wall_of_zeros(client, auth, setup):
    with setup():
        founder = make_collective()
        member = make_member(founder.collective)
        commit()
        slug, email = founder.collective.slug, member.user.email
    auth.login(email)

    html = client.get(f"/c/{slug}/dashboard").get_data(as_text=True)

    assert "Getting started" not in html
    assert "Nothing has happened here yet" in html and "Owed to you" not in html
