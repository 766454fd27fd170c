"""The treasurers' webhook pages: subscribe (the secret shown once), the deliveries with
their attempts, disable, enable, delete and resend as confirmable POSTs, each audited; a
member and a coordinator are refused, another collective's endpoint is not found."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from collective.audit.models import AuditEvent
from collective.clock import now_utc
from collective.extensions import db
from collective.members.models import Collective
from collective.outbox import OutboxStatus
from collective.roles import Role
from collective.webhooks import endpoints
from collective.webhooks.jobs import deliver_webhooks
from collective.webhooks.models import WebhookDelivery, WebhookEndpoint
from collective.webhooks.outbox import emit
from tests.factories import commit, make_collective, make_member
from tests.test_query_counts import counting
from tests.webhooks.test_delivery import _documented_verify


@pytest.fixture
def site(setup, receiver):
    """Ours (a treasurer, a coordinator, a member; one endpoint with a delivery tried once)
    and theirs (another collective's endpoint and delivery)."""
    with setup():
        treasurer = make_collective()
        collective = treasurer.collective
        coordinator = make_member(collective, roles=(Role.MEMBER, Role.COORDINATOR))
        member = make_member(collective)
        ours = endpoints.create_endpoint(treasurer, url=receiver.url,
                                         event_types=["claim.decided"], allow_http=True,
                                         allow_private=True)
        [delivery] = emit(collective, "claim.decided", key="7", data={"claim_id": 7})
        theirs_treasurer = make_collective()
        theirs = endpoints.create_endpoint(theirs_treasurer, url=receiver.url,
                                           event_types=["claim.decided"], allow_http=True,
                                           allow_private=True)
        [their_delivery] = emit(theirs_treasurer.collective, "claim.decided", key="8",
                                data={"claim_id": 8})
        commit()
        receiver.status = 503
        deliver_webhooks(now_utc())
        commit()
        return {"slug": collective.slug, "treasurer": treasurer.user.email,
                "coordinator": coordinator.user.email, "member": member.user.email,
                "endpoint": ours.id, "delivery": delivery.id, "their_endpoint": theirs.id,
                "their_delivery": their_delivery.id, "collective": collective.id}


def _audited(setup, collective_id: int) -> list[str]:
    with setup():
        return list(db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.collective_id == collective_id, AuditEvent.action.like("webhook.%"))
            .order_by(AuditEvent.id)))


def test_a_treasurer_subscribes_a_url_and_sees_its_secret_once(client, auth, setup, site,
                                                               receiver):
    auth.login(site["treasurer"])
    page = client.get(f"/c/{site['slug']}/webhooks")
    assert page.status_code == 200
    assert f'href="/c/{site["slug"]}/webhooks"' in page.get_data(as_text=True)  # in the menu

    created = client.post(f"/c/{site['slug']}/webhooks", data={
        "url": receiver.url + "/2", "description": "books sync",
        "event_types": ["invoice.issued", "invoice.paid"]})

    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    shown = re.search(r'value="(whsec_[A-Za-z0-9+/=]+)"', created.get_data(as_text=True))
    with setup():
        endpoint = db.session.scalars(sa.select(WebhookEndpoint)
                                      .order_by(WebhookEndpoint.id.desc())).first()
        assert shown and shown.group(1) == endpoint.secret
        assert endpoint.event_types == ["invoice.issued", "invoice.paid"]
        assert endpoint.description == "books sync"
    listing = client.get(f"/c/{site['slug']}/webhooks").get_data(as_text=True)
    assert receiver.url + "/2" in listing and endpoint.secret not in listing
    assert _audited(setup, site["collective"])[-1] == "webhook.created"


def test_a_refused_url_or_no_event_is_a_form_error_and_keeps_nothing(client, auth, setup,
                                                                     site, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE_URLS", False)
    auth.login(site["treasurer"])
    for data, error in [({"url": "https://10.0.0.8/x", "event_types": ["payout.sent"]},
                         "not a public address"),
                        ({"url": "https://93.184.215.14/x"}, "choose at least one event")]:
        response = client.post(f"/c/{site['slug']}/webhooks", data=data)
        assert response.status_code == 200
        assert error in response.get_data(as_text=True)
    with setup():
        assert db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))) == 2


def test_the_deliveries_page_shows_each_attempt_and_resend_queues_it_again(
        client, auth, setup, site):
    auth.login(site["treasurer"])
    page = client.get(f"/c/{site['slug']}/webhooks/{site['endpoint']}").get_data(as_text=True)
    assert "claim.decided" in page and "503" in page and "pending" in page

    response = client.post(f"/c/{site['slug']}/webhooks/deliveries/{site['delivery']}/resend")

    assert response.status_code == 302
    with setup():
        delivery = db.session.get(WebhookDelivery, site["delivery"])
        assert (delivery.status, delivery.attempts) == (OutboxStatus.PENDING, 0)
    assert _audited(setup, site["collective"])[-1] == "webhook.resent"


def test_disable_enable_and_delete_are_confirmed_posts(client, auth, setup, site):
    auth.login(site["treasurer"])
    base = f"/c/{site['slug']}/webhooks/{site['endpoint']}"
    confirm = client.get(f"{base}/disable")
    assert confirm.status_code == 200 and "Disable this endpoint?" in confirm.get_data(
        as_text=True)
    with setup():
        assert db.session.get(WebhookEndpoint, site["endpoint"]).is_enabled  # GET wrote nothing

    assert client.post(f"{base}/disable").status_code == 302
    with setup():
        assert not db.session.get(WebhookEndpoint, site["endpoint"]).is_enabled
    assert client.post(f"{base}/enable").status_code == 302
    assert client.post(f"{base}/delete").status_code == 302

    with setup():
        assert db.session.get(WebhookEndpoint, site["endpoint"]) is None
        assert db.session.get(WebhookDelivery, site["delivery"]) is None
    assert _audited(setup, site["collective"])[-4:] == [
        "webhook.created", "webhook.disabled", "webhook.enabled", "webhook.deleted"]


@pytest.mark.parametrize("who", ["member", "coordinator"])
def test_members_and_coordinators_are_refused(client, auth, site, who):
    auth.login(site[who])
    base = f"/c/{site['slug']}/webhooks"
    assert client.get(base).status_code == 403
    assert client.get(f"{base}/{site['endpoint']}").status_code == 403
    assert client.post(f"{base}/{site['endpoint']}/delete").status_code == 403
    assert client.post(f"{base}/deliveries/{site['delivery']}/resend").status_code == 403
    assert client.get(f"{base}/{site['endpoint']}/edit").status_code == 403
    assert client.post(f"{base}/{site['endpoint']}/edit", data={
        "url": "https://93.184.215.14/x", "event_types": ["payout.sent"]}).status_code == 403
    assert client.post(f"{base}/{site['endpoint']}/rotate").status_code == 403


def test_another_collectives_endpoint_and_delivery_are_not_found(client, auth, setup, site):
    auth.login(site["treasurer"])
    base = f"/c/{site['slug']}/webhooks"
    assert client.get(f"{base}/{site['their_endpoint']}").status_code == 404
    assert client.get(f"{base}/{site['their_endpoint']}/delete").status_code == 404
    assert client.post(f"{base}/{site['their_endpoint']}/delete").status_code == 404
    assert client.post(f"{base}/deliveries/{site['their_delivery']}/resend").status_code == 404
    assert client.get(f"{base}/{site['their_endpoint']}/edit").status_code == 404
    assert client.post(f"{base}/{site['their_endpoint']}/edit", data={
        "url": "https://93.184.215.14/x", "event_types": ["payout.sent"]}).status_code == 404
    assert client.post(f"{base}/{site['their_endpoint']}/rotate").status_code == 404
    with setup():
        assert db.session.get(WebhookEndpoint, site["their_endpoint"]) is not None
        assert db.session.get(WebhookEndpoint, site["their_endpoint"]).previous_secret is None
        assert db.session.get(WebhookDelivery, site["their_delivery"]).attempts == 1


def test_the_deliveries_page_runs_as_many_statements_for_more_deliveries_and_attempts(
        client, auth, setup, site):
    auth.login(site["treasurer"])
    url = f"/c/{site['slug']}/webhooks/{site['endpoint']}"

    def statements() -> int:
        with counting() as run:
            assert client.get(url).status_code == 200
        return len(run)

    one = statements()
    with setup():
        collective = db.session.get(Collective, site["collective"])
        for n in range(3):
            emit(collective, "claim.decided", key=f"more-{n}", data={"claim_id": n})
        commit()
        deliver_webhooks(now_utc())  # the receiver answers 503: an attempt each, and one more
        commit()
    assert statements() == one


def test_an_endpoints_url_and_events_are_changed_and_waiting_deliveries_follow(
        client, auth, setup, site, receiver, app, monkeypatch):
    auth.login(site["treasurer"])
    edit = f"/c/{site['slug']}/webhooks/{site['endpoint']}/edit"
    page = client.get(edit)
    assert page.status_code == 200 and receiver.url in page.get_data(as_text=True)
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE_URLS", False)
    refused = client.post(edit, data={"url": "https://10.0.0.8/x",
                                      "event_types": ["claim.decided"]})
    assert refused.status_code == 422
    assert "not a public address" in refused.get_data(as_text=True)
    with setup():
        assert db.session.get(WebhookEndpoint, site["endpoint"]).url == receiver.url
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE_URLS", True)

    changed = client.post(edit, data={"url": receiver.url + "/moved", "description": "books",
                                      "event_types": ["claim.decided", "payout.sent"]})

    assert changed.status_code == 302
    with setup():
        endpoint = db.session.get(WebhookEndpoint, site["endpoint"])
        assert (endpoint.url, endpoint.event_types, endpoint.description) == (
            receiver.url + "/moved", ["claim.decided", "payout.sent"], "books")
        secret = endpoint.secret
    assert _audited(setup, site["collective"])[-1] == "webhook.updated"
    # The delivery that failed before goes to the new URL on its next try.
    receiver.requests.clear()
    receiver.status = 200
    with setup():
        assert site["delivery"] in deliver_webhooks(now_utc() + timedelta(hours=1)).sent
        db.session.commit()
    [received] = _ours(setup, site, receiver)
    assert received.path == "/hooks/moved"
    assert _signatures(received) == [_sign(secret, received)]


def _sign(secret: str, received) -> str:
    """The signature a receiver holding `secret` expects (nothing of the app's code)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = (f"{received.headers['webhook-id']}.{received.headers['webhook-timestamp']}."
              f"{received.body}").encode()
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _ours(setup, site, receiver) -> list:
    """What the receiver got of our delivery (theirs goes to the same receiver)."""
    with setup():
        message_id = db.session.get(WebhookDelivery, site["delivery"]).message_id
    return [r for r in receiver.requests if r.headers["webhook-id"] == message_id]


def _signatures(received) -> list[str]:
    return received.headers["webhook-signature"].split(" ")


def test_rotating_the_secret_shows_the_new_one_once_and_signs_with_both_for_a_day(
        client, auth, setup, site, receiver):
    auth.login(site["treasurer"])
    rotate = f"/c/{site['slug']}/webhooks/{site['endpoint']}/rotate"
    with setup():
        old = db.session.get(WebhookEndpoint, site["endpoint"]).secret
    confirm = client.get(rotate)
    assert confirm.status_code == 200
    assert "Rotate the signing secret?" in confirm.get_data(as_text=True)
    with setup():
        assert db.session.get(WebhookEndpoint, site["endpoint"]).secret == old  # GET wrote nothing

    rotated = client.post(rotate)

    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    shown = re.search(r'value="(whsec_[A-Za-z0-9+/=]+)"', rotated.get_data(as_text=True))
    with setup():
        endpoint = db.session.get(WebhookEndpoint, site["endpoint"])
        new, until = endpoint.secret, endpoint.previous_secret_expires_at
    assert shown and shown.group(1) == new != old
    page = client.get(f"/c/{site['slug']}/webhooks/{site['endpoint']}").get_data(as_text=True)
    assert new not in page and old not in page and "the new and the old secret" in page
    assert _audited(setup, site["collective"])[-1] == "webhook.rotated"

    receiver.requests.clear()
    receiver.status = 500  # tried during the overlap, then after it
    with setup():
        deliver_webhooks(until - timedelta(minutes=1))
        deliver_webhooks(until + timedelta(minutes=1))
        db.session.commit()
    during, after = _ours(setup, site, receiver)
    assert _signatures(during) == [_sign(new, during), _sign(old, during)]
    assert _signatures(after) == [_sign(new, after)]
    # A Standard Webhooks receiver that still holds the old secret accepts the first.
    verify = _documented_verify()
    verify(old, during.headers, during.body.encode(), tolerance=10**9)
    with pytest.raises(ValueError, match="bad signature"):
        verify(old, after.headers, after.body.encode(), tolerance=10**9)
