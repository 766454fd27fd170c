"""A treasurer's webhook endpoints: subscribe a URL to event types (a signing secret is made
then), disable, enable and delete; and the read side of the pages. Each change is recorded
in the audit log. Flush, never commit.

The acting membership is read only through `collective_id`, `user_id` and `has_role` (this
package sits below members)."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective import audit
from collective.errors import DomainError, NotAllowed, NotFound
from collective.extensions import db
from collective.roles import Role
from collective.webhooks import outbox
from collective.webhooks.addresses import check_subscription_url
from collective.webhooks.events import EventType
from collective.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from collective.webhooks.signing import new_secret

#: The most endpoints one collective may keep.
MAX_ENDPOINTS = 20
#: Deliveries shown per page.
PAGE_SIZE = 25


def _require_treasurer(actor: Any, action: str) -> None:
    if not actor.has_role(Role.TREASURER):
        raise NotAllowed(Role.TREASURER.value, action)


def _chosen_events(event_types: Collection[str]) -> list[str]:
    """The event types, checked and sorted: at least one, each one we send."""
    try:
        chosen = sorted({EventType(value).value for value in event_types})
    except ValueError as exc:
        raise DomainError("choose events from the list", field="event_types") from exc
    if not chosen:
        raise DomainError("choose at least one event", field="event_types")
    return chosen


def _note(description: str) -> str:
    return " ".join((description or "").split())[:200]


def create_endpoint(actor: Any, *, url: str, event_types: Collection[str],
                    description: str = "", allow_http: bool = False,
                    allow_private: bool = False) -> WebhookEndpoint:
    """Subscribe `url` to `event_types` for the actor's collective, with a new signing
    secret. The URL is refused unless it is safe to send to (addresses.py)."""
    _require_treasurer(actor, "manage webhooks")
    chosen = _chosen_events(event_types)
    url = check_subscription_url(url, allow_http=allow_http, allow_private=allow_private)
    count = db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))
                              .filter_by(collective_id=actor.collective_id))
    if count >= MAX_ENDPOINTS:
        raise DomainError(f"a collective keeps at most {MAX_ENDPOINTS} webhook endpoints",
                          field="url")
    endpoint = WebhookEndpoint(collective_id=actor.collective_id, url=url,
                               description=_note(description),
                               event_types=chosen, secret=new_secret(), is_enabled=True,
                               created_by_user_id=actor.user_id)
    db.session.add(endpoint)
    db.session.flush()
    audit.record("webhook.created", collective=actor.collective_id, subject=endpoint,
                 url=url, events=chosen)
    return endpoint


def get_endpoint(collective_id: int, endpoint_id: int) -> WebhookEndpoint:
    """One of the collective's endpoints; another collective's is not found."""
    endpoint = db.session.scalar(sa.select(WebhookEndpoint).filter_by(
        id=endpoint_id, collective_id=collective_id))
    if endpoint is None:
        raise NotFound("no such webhook endpoint")
    return endpoint


def set_enabled(actor: Any, endpoint: WebhookEndpoint, enabled: bool) -> WebhookEndpoint:
    """Disable the endpoint (no new deliveries; pending ones wait) or enable it again."""
    _require_treasurer(actor, "manage webhooks")
    if endpoint.collective_id != actor.collective_id:
        raise NotFound("no such webhook endpoint")
    if endpoint.is_enabled != enabled:
        endpoint.is_enabled = enabled
        db.session.flush()
        audit.record("webhook.enabled" if enabled else "webhook.disabled",
                     collective=actor.collective_id, subject=endpoint, url=endpoint.url)
    return endpoint


def update_endpoint(actor: Any, endpoint: WebhookEndpoint, *, url: str,
                    event_types: Collection[str], description: str = "",
                    allow_http: bool = False, allow_private: bool = False) -> WebhookEndpoint:
    """Change where an endpoint's deliveries go, what it receives, and its note. The new
    URL is checked as a new subscription's is; deliveries still waiting go to it, under
    their own webhook-id, and the secret stays."""
    _require_treasurer(actor, "manage webhooks")
    if endpoint.collective_id != actor.collective_id:
        raise NotFound("no such webhook endpoint")
    chosen = _chosen_events(event_types)
    url = check_subscription_url(url, allow_http=allow_http, allow_private=allow_private)
    before = {"url": endpoint.url, "events": list(endpoint.event_types),
              "description": endpoint.description}
    after = {"url": url, "events": chosen, "description": _note(description)}
    if after != before:
        endpoint.url, endpoint.event_types, endpoint.description = (
            url, chosen, after["description"])
        db.session.flush()
        changed = [name for name in after if after[name] != before[name]]
        # URLs cut short: two of them at their longest would not fit the audit's details.
        audit.record("webhook.updated", collective=actor.collective_id, subject=endpoint,
                     **{f"old_{name}": _short(before[name]) for name in changed},
                     **{name: _short(after[name]) for name in changed})
    return endpoint


def _short(value: Any) -> Any:
    return value[:300] if isinstance(value, str) else value


#: How long a rotated-out secret still signs deliveries, beside the new one.
ROTATION_OVERLAP = timedelta(hours=24)


def rotate_secret(actor: Any, endpoint: WebhookEndpoint, now: datetime) -> WebhookEndpoint:
    """Give the endpoint a new signing secret (the caller shows it once). For
    ROTATION_OVERLAP deliveries carry a signature with the old one too, so the receiver
    can change over without refusing any; a second rotation in that time drops the
    oldest."""
    _require_treasurer(actor, "manage webhooks")
    if endpoint.collective_id != actor.collective_id:
        raise NotFound("no such webhook endpoint")
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    db.session.flush()
    audit.record("webhook.rotated", collective=actor.collective_id, subject=endpoint,
                 url=endpoint.url, overlap_until=endpoint.previous_secret_expires_at)
    return endpoint


def delete_endpoint(actor: Any, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its deliveries and their attempts (the audit log keeps that
    it existed)."""
    _require_treasurer(actor, "manage webhooks")
    if endpoint.collective_id != actor.collective_id:
        raise NotFound("no such webhook endpoint")
    deliveries = sa.select(WebhookDelivery.id).where(
        WebhookDelivery.endpoint_id == endpoint.id)
    db.session.execute(sa.delete(WebhookAttempt).where(
        WebhookAttempt.delivery_id.in_(deliveries)))
    db.session.execute(sa.delete(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id))
    audit.record("webhook.deleted", collective=actor.collective_id,
                 subject=("webhook_endpoint", endpoint.id), url=endpoint.url,
                 events=list(endpoint.event_types))
    db.session.delete(endpoint)
    db.session.flush()


def endpoints_of(collective_id: int) -> list[WebhookEndpoint]:
    """The collective's endpoints, oldest first (at most MAX_ENDPOINTS)."""
    return list(db.session.scalars(
        sa.select(WebhookEndpoint).filter_by(collective_id=collective_id)
        .order_by(WebhookEndpoint.id).limit(MAX_ENDPOINTS)))


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    """One page of an endpoint's deliveries, newest first, with their attempts."""

    deliveries: list[WebhookDelivery]
    page: int
    more: bool


def deliveries_page(endpoint: WebhookEndpoint, page: int) -> DeliveryPage:
    """The endpoint's deliveries on page `page` (from 1), newest first, attempts loaded."""
    rows = list(db.session.scalars(
        sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        .options(so.selectinload(WebhookDelivery.attempt_rows))
        .order_by(WebhookDelivery.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return DeliveryPage(rows[:PAGE_SIZE], page, len(rows) > PAGE_SIZE)


def resend_delivery(actor: Any, delivery_id: int, now: datetime) -> WebhookDelivery:
    """Queue one of the collective's deliveries again (same body and webhook-id), due at
    `now`."""
    _require_treasurer(actor, "resend webhooks")
    delivery = outbox.get_delivery(actor.collective_id, delivery_id)
    outbox.resend(delivery, now)
    audit.record("webhook.resent", collective=actor.collective_id, subject=delivery,
                 endpoint=delivery.endpoint_id, event=delivery.event_key)
    return delivery
