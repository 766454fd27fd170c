"""The scheduler's invoice job: reminders of overdue invoices, daily at 07:00 UTC and once
at start (each week's reminder goes once, however often it runs)."""
from __future__ import annotations

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from collective.books.invoices.mailing import collectives_with_overdue, remind_overdue
from collective.clock import now_utc, today_in
from collective.periodic import add_app_job
from collective.transactions import transaction


def add_invoice_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Remind clients of overdue invoices every day."""

    def remind_overdue_invoices() -> int:
        queued = 0
        now = now_utc()
        with transaction(commit=False):
            due = collectives_with_overdue(lambda tz: today_in(tz, now))
        for collective_id, today in due:
            with transaction():
                queued += remind_overdue(collective_id, today=today, now=now)
        return queued

    add_app_job(scheduler, app, remind_overdue_invoices, job_id="invoice-reminders",
                description="remind clients of overdue invoices", trigger="cron", hour=7,
                next_run_time=now_utc())
