"""Outgoing mail through a transactional outbox (docs/mail.md).

A service that wants someone told calls `outbox.queue_mail` inside its own transaction: the
message is rendered and stored as an outbox row, so a rolled-back change sends nothing, and
a unique (event key, recipient) lets one event mail one person at most once. Nothing is sent
during a request. The scheduler's outbox job (jobs.py) delivers due rows, with retries and
backoff, each under a stable Message-ID.

Modules
-------
- models.py: the outbox row.
- outbox.py: queueing, claiming, marking sent or failed; the treasurers' queries.
- transports.py: SMTP (smtplib), the development .eml writer, and building the message.
- jobs.py: `deliver_outbox(now)`, the scheduler's job, and its registration.
- views.py: /dev/mail (development only), the failed-mail page and the treasurers' banner.

The package sits below members in the layers: it knows users and collectives only by id.
"""
from __future__ import annotations

import logging

from flask import Flask

log = logging.getLogger(__name__)


def mail_is_configured(config) -> bool:
    """True when an SMTP server is set."""
    return bool(config.get("MAIL_SERVER"))


def init_app(app: Flask) -> None:
    """Register the mail pages and banner, and warn when production has no mail server."""
    from collective.mail import views

    app.register_blueprint(views.bp)
    app.context_processor(views.mail_banner_context)
    if app.config["COLLECTIVE_ENV"] == "production" and not mail_is_configured(app.config):
        log.warning("MAIL_SERVER is not set: no e-mail will be sent. Messages wait in the "
                    "outbox (none is lost) until a mail server is configured; see "
                    "docs/mail.md.")
