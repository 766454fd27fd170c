"""No server-side request forgery: loopback, private, link-local and other non-public
addresses are refused when a URL is subscribed and again when it is delivered to, a name
resolving to them too; http only with the development setting."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from collective.clock import now_utc
from collective.errors import DomainError
from collective.extensions import db
from collective.webhooks import endpoints
from collective.webhooks.addresses import UnsafeURL, check_subscription_url
from collective.webhooks.jobs import deliver_webhooks
from collective.webhooks.models import WebhookAttempt, WebhookEndpoint
from collective.webhooks.outbox import emit
from tests.factories import make_collective

REFUSED = [
    "https://127.0.0.1/hooks",
    "https://127.1.2.3:8443/hooks",
    "https://10.0.0.8/hooks",
    "https://192.168.1.1/",
    "https://172.16.0.1/",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/",
    "https://0.0.0.0/",
    "https://224.0.0.1/",
    "https://[::1]/hooks",
    "https://[fd00::1]/",
    "https://[fe80::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://localhost/hooks",
    "https://localhost.:8443/hooks",
]


@pytest.mark.parametrize("url", REFUSED)
def test_a_url_on_a_non_public_address_is_refused(url):
    with pytest.raises(UnsafeURL) as refused:
        check_subscription_url(url, allow_http=False, allow_private=False)
    assert refused.value.field == "url"


@pytest.mark.parametrize("url", ["http://93.184.215.14/hooks", "ftp://93.184.215.14/",
                                 "https://user:secret@93.184.215.14/", "https:///nohost",
                                 "https://93.184.215.14:0/", "https://93.184.215.14/#x", ""])
def test_a_url_that_is_not_plain_https_is_refused(url):
    with pytest.raises(UnsafeURL):
        check_subscription_url(url, allow_http=False, allow_private=False)


def test_a_public_address_is_accepted_and_http_only_with_the_setting():
    assert check_subscription_url("https://93.184.215.14/hooks?x=1", allow_http=False,
                                  allow_private=False) == "https://93.184.215.14/hooks?x=1"
    assert check_subscription_url("https://[2606:4700::1111]/", allow_http=False,
                                  allow_private=False) == "https://[2606:4700::1111]/"
    assert check_subscription_url("http://93.184.215.14/", allow_http=True,
                                  allow_private=False) == "http://93.184.215.14/"


def test_the_service_refuses_a_private_url_and_keeps_nothing(ctx):
    founder = make_collective()
    with pytest.raises(DomainError) as refused:
        endpoints.create_endpoint(founder, url="https://localhost/hooks",
                                  event_types=["payment.recorded"])
    assert refused.value.field == "url"
    assert db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))) == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_delivery_checks_the_address_again_and_sends_nothing_there(app, ctx, receiver,
                                                                   monkeypatch, host):
    founder = make_collective()
    endpoint = endpoints.create_endpoint(
        founder, url=f"http://{host}:{receiver.port}/hooks", event_types=["payment.recorded"],
        allow_http=True, allow_private=True)
    [delivery] = emit(founder.collective, "payment.recorded", key="1", data={"payment_id": 1})
    # Production's setting: what was allowed when subscribed is refused when sent.
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE_URLS", False)

    assert deliver_webhooks(now_utc()).retrying == [delivery.id]

    assert receiver.requests == []
    [attempt] = db.session.scalars(sa.select(WebhookAttempt)).all()
    assert attempt.response_status is None
    assert attempt.error.startswith("refused: ") and "not a public address" in attempt.error
    assert endpoint.is_enabled  # DNS may change back: it is retried, never sent there
