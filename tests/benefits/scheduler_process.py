"""One scheduler process for tests/benefits/test_scheduler_processes.py: a fresh
interpreter (multiprocessing's spawn) with its own app, engine and connections, running the
fund job's round once, as `flask --app collective scheduler` does each night."""
from __future__ import annotations

import os
from datetime import datetime


def run_fund_round(database_url: str, name: str, now: datetime, start, results) -> None:
    """Wait for the other processes, run the round as `name`, and report the collectives
    this process ran runs for (those it found done already or left to another are not)."""
    os.environ["COLLECTIVE_ENV"] = "testing"
    from collective import create_app
    from collective.benefits import jobs
    from collective.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret"})
    start.wait(timeout=60)
    try:
        with app.app_context():
            done = jobs.run_all_due(now, triggered_by=name)
            db.engine.dispose()
        results.put((name, sorted(slug for slug, posted in done.items() if posted)))
    except Exception as exc:  # reported to the test, which fails on it
        results.put((name, f"{type(exc).__name__}: {exc}"))
