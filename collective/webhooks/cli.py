"""`flask --app collective webhooks deliver`: deliver the due webhooks now, as the scheduler
does."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from collective.webhooks.jobs import deliver_webhooks

webhooks_cli = AppGroup("webhooks", help="Webhook deliveries.")


@webhooks_cli.command("deliver")
def deliver_command() -> None:
    """POST every delivery due now (what the scheduler does every minute)."""
    done = deliver_webhooks()
    click.echo(f"{len(done.sent)} sent, {len(done.retrying)} to retry later, "
               f"{len(done.failed)} failed")
