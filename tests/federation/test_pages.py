"""The partner pages: the whole flow through the forms (ask, vote, share, accept, allocate,
log time, settle), 404 for any other collective, 403 without the role, and bad input as a
form error with nothing written."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.federation import money
from collective.federation.models import Federation, PartnerSettlement, SharedPitch
from collective.members.models import Collective, Membership, Proposal
from collective.pool import payments
from collective.pool.models import Allocation, PitchState, TimeEntry
from tests.factories import commit, make_collective, make_member, make_user
from tests.federation.factories import federate, own_proposal, pass_vote, share
from tests.pool.factories import NOW, TODAY, allocate, found_rule, log, make_pitch, move_to


@pytest.fixture
def duo(setup):
    """Collectives A and B, not yet partners, with a won pitch of A and Zoe in B."""
    with setup():
        a, b = make_collective(slug="alpha"), make_collective(slug="beta")
        zoe = make_member(b.collective, hours=20)
        pitch = make_pitch(a, title="Bookkeeping clean-up")
        move_to(a, pitch, PitchState.WON)
        commit()
        return dict(a=a.user.email, b=b.user.email, zoe=zoe.user.email, zoe_id=zoe.id,
                    pitch=pitch.id, a_id=a.id, b_id=b.id)


def test_two_collectives_become_partners_and_share_a_pitch_through_the_pages(
        client, auth, duo, setup):
    auth.login(duo["a"])
    response = client.post("/c/alpha/partners/", data={"partner": "beta",
                                                       "description": "Bigger jobs"})
    assert response.status_code == 302
    with setup():
        federation = db.session.scalar(sa.select(Federation))
        a = db.session.get(Membership, duo["a_id"])
        pass_vote(a, own_proposal(federation, a))
        commit()
        federation_id = federation.id
    auth.login(duo["b"])
    page = client.get("/c/beta/partners/").get_data(as_text=True)
    assert "Put it to our vote" in page and "Collective" in page
    assert client.post(f"/c/beta/partners/{federation_id}/vote").status_code == 302
    with setup():
        federation = db.session.get(Federation, federation_id)
        b = db.session.get(Membership, duo["b_id"])
        proposal = own_proposal(federation, b)
        assert proposal.collective_id == b.collective_id
        proposal_id = proposal.id
        pass_vote(b, proposal, "agree", db.session.get(Membership, duo["zoe_id"]))
        assert federation.status == "active"
        commit()
    # The proposal page shows what the vote is about.
    page = client.get(f"/c/beta/proposals/{proposal_id}").get_data(as_text=True)
    assert "Partnership with" in page

    auth.login(duo["a"])
    page = client.get(f"/c/alpha/partners/{federation_id}").get_data(as_text=True)
    assert "Share one of our pitches" in page and "Bookkeeping clean-up" in page
    bad = client.post(f"/c/alpha/partners/{federation_id}",
                      data={"pitch_id": duo["pitch"], "partner_bp": "20000", "role": "partner"})
    assert bad.status_code == 422
    response = client.post(f"/c/alpha/partners/{federation_id}",
                           data={"pitch_id": duo["pitch"], "partner_bp": "3333",
                                 "role": "supplier", "note": "You do the reconciliations"})
    assert response.status_code == 302
    with setup():
        shared_id = db.session.scalar(sa.select(SharedPitch.id))
    auth.login(duo["b"])
    page = client.get(f"/c/beta/partners/shared/{shared_id}").get_data(as_text=True)
    assert "33.33%" in page and "Accept" in page
    assert client.post(f"/c/beta/partners/shared/{shared_id}/answer",
                       data={"answer-answer": "accept"}).status_code == 302
    assert client.post(f"/c/beta/partners/shared/{shared_id}/allocate",
                       data={"alloc-membership_id": duo["zoe_id"], "alloc-weight": "1",
                             "alloc-weekly_hours": "4"}).status_code == 302
    auth.login(duo["zoe"])
    page = client.get(f"/c/beta/partners/shared/{shared_id}").get_data(as_text=True)
    assert "Log your time" in page
    response = client.post(f"/c/beta/partners/shared/{shared_id}/time",
                           data={"time-worked_on": date.today().isoformat(),
                                 "time-hours": "1.5", "time-note": "bank lines"})
    assert response.status_code == 302
    with setup():
        assert db.session.scalar(sa.select(TimeEntry.minutes)
                                 .where(TimeEntry.membership_id == duo["zoe_id"])) == 90
    # Zoe still cannot open the host's own pitch page: another collective's object.
    assert client.get(f"/c/alpha/pool/pitches/{duo['pitch']}").status_code == 404


@pytest.fixture
def owing(setup):
    """A owes B USD 333.30 for a shared pitch's payment of USD 1,000.01."""
    with setup():
        a, b = make_collective(slug="alpha"), make_collective(slug="beta")
        found_rule(a)
        found_rule(b)
        federation = federate(a, b)
        zoe = make_member(b.collective)
        pitch = make_pitch(a)
        move_to(a, pitch, PitchState.WON)
        allocate(a, pitch, a)
        shared = share(a, b, federation, pitch)
        from collective.federation import sharing
        log(zoe, sharing.allocate_partner_member(a, shared, membership_id=zoe.id, now=NOW),
            60)
        log(a, pitch.allocations[0], 60)
        payments.record_payment(a, pitch, amount=100_001, currency="USD",
                                received_on=date(2026, 10, 5), today=TODAY)
        stranger = make_collective(slug="gamma")
        commit()
        return dict(a=a.user.email, b=b.user.email, zoe=zoe.user.email,
                    stranger=stranger.user.email, federation=federation.id,
                    shared=shared.id, pitch=pitch.id)


def test_the_treasurer_sees_what_is_owed_both_sides_and_settles_once(client, auth, owing,
                                                                     setup):
    auth.login(owing["b"])
    page = client.get("/c/beta/partners/money").get_data(as_text=True)
    assert "$333.30" in page and "History" in page   # owed to B, nothing B owes
    auth.login(owing["a"])
    page = client.get("/c/alpha/partners/money").get_data(as_text=True)
    assert "$333.30" in page and ">Settle</a>" in page
    url = f"/c/alpha/partners/{owing['federation']}/settle"
    page = client.get(url).get_data(as_text=True)
    assert 'value="333.30"' in page
    bad = client.post(url, data={"amount": "abc", "paid_on": "2026-10-09"})
    assert bad.status_code == 422
    too_much = client.post(url, data={"amount": "400", "paid_on": "2026-10-09",
                                      "request_key": "k" * 32})
    assert too_much.status_code == 422 and "cannot be more" in too_much.get_data(as_text=True)
    form = {"amount": "333.30", "paid_on": date.today().isoformat(), "reference": "TX 9",
            "request_key": "a" * 32}
    assert client.post(url, data=form).status_code == 302
    assert client.post(url, data=form).status_code == 302   # the same form again
    with setup():
        assert db.session.scalar(sa.select(sa.func.count(PartnerSettlement.id))) == 1
        from collective.members.models import Collective
        alpha = db.session.scalar(sa.select(Collective).filter_by(slug="alpha"))
        beta = db.session.scalar(sa.select(Collective).filter_by(slug="beta"))
        assert money.standing(alpha, beta.id).we_owe == 0
        assert money.standing(beta, alpha.id).they_owe == 0
    page = client.get(url).get_data(as_text=True)
    assert "Settled with partner" in page and "Post the settlement" not in page


def test_another_collective_sees_nothing_of_a_partnership(client, auth, owing):
    auth.login(owing["stranger"])
    for path in (f"{owing['federation']}", f"{owing['federation']}/people",
                 f"{owing['federation']}/settle", f"{owing['federation']}/leave",
                 f"shared/{owing['shared']}"):
        assert client.get(f"/c/gamma/partners/{path}").status_code == 404, path
    assert client.post(f"/c/gamma/partners/shared/{owing['shared']}/allocate",
                       data={}).status_code == 404
    # Nor through the partners' own addresses.
    assert client.get(f"/c/alpha/partners/{owing['federation']}").status_code == 404
    page = client.get("/c/gamma/partners/").get_data(as_text=True)
    assert "No partners yet." in page and "beta" not in page


def test_roles_guard_the_partner_actions(client, auth, owing):
    auth.login(owing["zoe"])   # a plain member of B
    assert client.post("/c/beta/partners/", data={"partner": "gamma"}).status_code == 403
    assert client.get(f"/c/beta/partners/{owing['federation']}/people").status_code == 403
    assert client.get("/c/beta/partners/money").status_code == 403
    assert client.get(f"/c/beta/partners/{owing['federation']}/leave").status_code == 403
    # Members see the partnership and the shared pitch they work on.
    assert client.get(f"/c/beta/partners/{owing['federation']}").status_code == 200
    assert client.get(f"/c/beta/partners/shared/{owing['shared']}").status_code == 200


def test_leaving_through_the_page_ends_the_search_at_once(client, auth, owing, setup):
    auth.login(owing["b"])
    people = f"/c/beta/partners/{owing['federation']}/people"
    assert client.get(people + "?skill=bookkeeping").status_code == 200
    page = client.get(f"/c/beta/partners/{owing['federation']}/leave").get_data(as_text=True)
    assert "End the partnership" in page and "1 shared pitch" in page
    response = client.post(f"/c/beta/partners/{owing['federation']}/leave",
                           data={"reason": "Too busy"})
    assert response.status_code == 302
    assert client.get(people).status_code == 404
    with setup():
        federation = db.session.get(Federation, owing["federation"])
        assert federation.status == "left" and federation.leave_reason == "Too busy"
        assert db.session.scalar(sa.select(sa.func.count(Proposal.id))
                                 .where(Proposal.status == "open")) == 0


def test_sharing_with_a_partner_that_left_is_a_form_error_not_a_crash(client, auth, owing):
    auth.login(owing["b"])
    client.post(f"/c/beta/partners/{owing['federation']}/leave", data={"reason": ""})
    auth.login(owing["a"])
    response = client.post(f"/c/alpha/partners/{owing['federation']}",
                           data={"pitch_id": owing["pitch"], "partner_bp": "100",
                                 "role": "partner"})
    assert response.status_code == 422
    assert "Share one of our pitches" not in response.get_data(as_text=True)


def test_a_partner_with_many_members_is_searched_not_listed(client, auth, owing, setup,
                                                             monkeypatch):
    from collective.members import pickers

    with setup():
        beta = db.session.scalar(sa.select(Collective).filter_by(slug="beta"))
        yuki = make_member(beta, user=make_user(name="Yuki Tanaka"))
        commit()
        yuki_id = yuki.id
    monkeypatch.setattr(pickers, "SELECT_LIMIT", 1)  # B has three members: above it
    auth.login(owing["a"])
    page = client.get(f"/c/alpha/partners/shared/{owing['shared']}").get_data(as_text=True)
    search = f"/c/alpha/partners/shared/{owing['shared']}/members"
    assert f'data-member-search="{search}"' in page and 'name="alloc-membership_id"' in page
    found = client.get(f"{search}?q=yuki").get_json()["members"]
    assert found == [{"id": yuki_id, "name": "Yuki Tanaka", "label": f"Yuki Tanaka #{yuki_id}"}]
    assert client.get(f"{search}?q=nobody-like-this").get_json()["members"] == []
    placed = client.post(f"/c/alpha/partners/shared/{owing['shared']}/allocate",
                         data={"alloc-membership_id": f"Yuki Tanaka #{yuki_id}",
                               "alloc-weight": "1", "alloc-weekly_hours": "2"})
    assert placed.status_code == 302
    with setup():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Allocation).where(
            Allocation.membership_id == yuki_id)) == 1
    # Only the two sides' coordinators search the partner's members.
    auth.login(owing["zoe"])
    assert client.get(f"/c/beta/partners/shared/{owing['shared']}/members?q=yu"
                      ).status_code == 403
    auth.login(owing["stranger"])
    assert client.get(f"/c/gamma/partners/shared/{owing['shared']}/members?q=yu"
                      ).status_code == 404


def test_the_partner_member_search_ends_with_the_partnership(client, auth, owing):
    search = f"/c/alpha/partners/shared/{owing['shared']}/members?q=%23"
    auth.login(owing["a"])
    assert client.get(search).status_code == 200
    auth.login(owing["b"])
    assert client.post(f"/c/beta/partners/{owing['federation']}/leave",
                       data={"reason": "Too busy"}).status_code == 302
    auth.login(owing["a"])
    assert client.get(search).status_code == 404
