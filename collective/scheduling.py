"""`flask --app collective scheduler`: the one process that runs every scheduled job, the
fund's (collective/benefits/jobs.py), the mail outbox's (collective/mail/jobs.py), the
notification digest's (collective/notifications/jobs.py), the reminders of votes closing
and work due (collective/pool/jobs.py) and of overdue invoices (collective/books/invoices/
jobs.py), the webhook deliveries (collective/webhooks/jobs.py), and the purge of the
API's expired idempotency keys (collective/api/jobs.py)."""
from __future__ import annotations

import click
from apscheduler.schedulers.base import BaseScheduler
from flask import Flask, current_app
from flask.cli import with_appcontext

from collective.api.jobs import add_api_jobs
from collective.benefits.jobs import make_scheduler
from collective.books.invoices.jobs import add_invoice_jobs
from collective.mail.jobs import add_mail_jobs
from collective.notifications.jobs import add_notification_jobs
from collective.pool.jobs import add_reminder_jobs
from collective.webhooks.jobs import add_webhook_jobs


def build_scheduler(app: Flask, *, blocking: bool) -> BaseScheduler:
    """The fund's scheduler with the outbox delivery, the daily digest, the reminders and
    the webhook deliveries added."""
    scheduler = make_scheduler(app, blocking=blocking)
    add_mail_jobs(scheduler, app)
    add_notification_jobs(scheduler, app)
    add_reminder_jobs(scheduler, app)
    add_invoice_jobs(scheduler, app)
    add_webhook_jobs(scheduler, app)
    add_api_jobs(scheduler, app)
    return scheduler


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler in this process until stopped (production: its own process)."""
    scheduler = build_scheduler(current_app._get_current_object(), blocking=True)
    click.echo("scheduler started: fund runs daily at 02:00 UTC (and now), proposals, fund "
               "forecasts and reminders (votes closing, work due) every 10 minutes, the mail "
               "outbox and the webhooks every minute, notification digests daily at 06:00 "
               "UTC, overdue invoice reminders daily at 07:00 UTC, expired API idempotency "
               "keys purged hourly, webhook deliveries done with for 30 days forgotten daily")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
