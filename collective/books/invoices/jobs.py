"""The scheduler's invoice job: reminders of overdue invoices, daily at 07:00 UTC and once
at start (each week's reminder goes once, however often it runs)."""
from __future__ import annotations

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from collective.books.invoices.mailing import collectives_with_overdue, remind_overdue
from collective.clock import now_utc, today_in
from collective.transactions import transaction


def add_invoice_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Remind clients of overdue invoices every day."""

    def job() -> int:
        queued = 0
        now = now_utc()
        with app.app_context():
            with transaction(commit=False):
                due = collectives_with_overdue(lambda tz: today_in(tz, now))
            for collective_id, today in due:
                with transaction():
                    queued += remind_overdue(collective_id, today=today, now=now)
        return queued

    job.__name__ = "remind_overdue_invoices"
    scheduler.add_job(job, "cron", hour=7, id="invoice-reminders",
                      name="remind clients of overdue invoices", next_run_time=now_utc(),
                      replace_existing=True)
