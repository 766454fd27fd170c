"""Signed webhooks through the transactional outbox (docs/webhooks.md).

A treasurer subscribes an HTTPS URL to event types; each endpoint has its own signing
secret. A service where one of those events happens calls `outbox.emit(collective, type,
key=..., data=..., link=...)` in its own transaction: one delivery row per subscribed,
enabled endpoint, unique per (event key, endpoint), so a rolled-back change sends nothing
and an event goes to an endpoint at most once. The scheduler's job (jobs.py) POSTs due rows,
signed the Standard Webhooks way, retried with backoff and marked failed after N tries, each
attempt recorded. The URL is checked against private addresses when subscribed and again
before each delivery (addresses.py).

Modules
-------
- events.py: the event types and their labels.
- models.py: endpoints, deliveries (outbox rows, collective/outbox.py) and attempts.
- addresses.py: the SSRF rules: https, public addresses only (unless a setting allows).
- signing.py: secrets, webhook-ids and the v1 signature.
- sending.py: one POST, to the checked address, short timeout, no redirects.
- outbox.py: `emit`, the body of a delivery, claiming, recording an attempt, resending.
- endpoints.py: subscribe, disable, enable, delete, resend (audited); the pages' reads.
- jobs.py: `deliver_webhooks(now)`, the scheduler's job, and its registration.
- forms.py, views.py: the treasurers' pages under /c/<slug>/webhooks.

The package sits below members in the layers, so every domain that emits may import it; it
knows collectives and memberships only through the attributes it reads (id, slug,
collective_id, user_id, has_role).
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the webhook pages."""
    from collective.webhooks import views

    app.register_blueprint(views.bp)
