"""`flask --app collective mail deliver`: deliver the outbox now, as the scheduler does."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from collective.mail.jobs import deliver_outbox

mail_cli = AppGroup("mail", help="Outgoing mail.")


@mail_cli.command("deliver")
def deliver_command() -> None:
    """Send every message due now (what the scheduler does every minute)."""
    done = deliver_outbox()
    if not done.configured:
        raise click.ClickException("MAIL_SERVER is not set: the messages wait in the outbox")
    click.echo(f"{len(done.sent)} sent, {len(done.retrying)} to retry later, "
               f"{len(done.failed)} failed")
