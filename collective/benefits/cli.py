"""`flask --app collective benefits ...` and `flask --app collective scheduler`.

Each collective's "today" is computed in its own timezone and passed to the services, which
hold the rules (a run of a month that has not ended is refused there, for every caller).
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from collective.benefits import forecasts, jobs, plans, runs
from collective.benefits.models import RunKind
from collective.clock import PeriodError, local_time, now_utc, parse_period, today_in
from collective.errors import DomainError
from collective.extensions import db
from collective.members.models import Collective
from collective.money import format_money
from collective.transactions import transaction

benefits_cli = AppGroup("benefits", help="The mutual benefits fund.")


def _period(value: str) -> date:
    """The --period option: YYYY-MM only ('26-1' is not the year 26)."""
    try:
        return parse_period(value)
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from exc


def _collectives(slug: str | None) -> list[tuple[int, str, str, str]]:
    """(id, slug, base currency, timezone) of one live collective or all of them."""
    query = sa.select(Collective.id, Collective.slug, Collective.base_currency,
                      Collective.timezone).where(Collective.archived_at.is_(None))
    if slug:
        query = query.where(Collective.slug == slug)
    found = db.session.execute(query.order_by(Collective.id)).all()
    if slug and not found:
        raise click.BadParameter(f"no collective {slug!r}", param_hint="--collective")
    return found


def _describe(result: runs.RunResult, currency: str, dry_run: bool) -> str:
    """One line saying what a run did."""
    if result.skipped:
        return f"skipped: {result.skipped}"
    if result.already_done:
        return "already done; nothing posted"
    return (f"{'would post' if dry_run else 'posted'} {result.entries} entries, "
            f"{format_money(result.total, currency)}"
            + (f", shortfall {format_money(result.shortfall, currency)}"
               if result.shortfall else ""))


@contextmanager
def _previewed() -> Iterator[None]:
    """A dry run's unit of work: the service writes nothing in one, and whatever the block
    did is rolled back all the same, so a preview never commits."""
    try:
        yield
    finally:
        db.session.rollback()


@benefits_cli.command("run")
@click.argument("kind", type=click.Choice([kind.value for kind in RunKind]))
@click.option("--collective", "slug", help="One collective's slug (default: all).")
@click.option("--period", required=True, help="The month, as YYYY-MM.")
@click.option("--dry-run", is_flag=True, help="Compute and show; write nothing.")
def run_command(kind: str, slug: str | None, period: str, dry_run: bool) -> None:
    """Run the contribution or payout run of one month, now."""
    month = _period(period)
    targets = _collectives(slug)
    lines, refused = [], False
    with click.progressbar(targets, label=f"{kind} {period}", file=sys.stderr) as bar:
        for collective_id, cslug, currency, timezone in bar:
            try:
                with _previewed() if dry_run else transaction():
                    result = runs.run(collective_id, kind, month, today=today_in(timezone),
                                      dry_run=dry_run, triggered_by="cli")
            except DomainError as exc:
                refused = True
                lines.append(f"{cslug}: {kind} {period}: refused: {exc.message}")
                continue
            lines.append(f"{cslug}: {kind} {period}: {_describe(result, currency, dry_run)}")
    for line in lines:
        click.echo(line)
    if refused:
        sys.exit(1)


@benefits_cli.command("catch-up")
@click.option("--collective", "slug", help="One collective's slug (default: all).")
def catch_up_command(slug: str | None) -> None:
    """Do every run that is due and not yet done, oldest month first."""
    targets = _collectives(slug)
    total = 0
    with click.progressbar(targets, label="catching up", file=sys.stderr) as bar:
        for collective_id, _, _, timezone in bar:
            total += len(jobs.run_due(collective_id, today_in(timezone), triggered_by="cli"))
    click.echo(f"{total} runs done")


@benefits_cli.command("forecast")
@click.option("--collective", "slug", help="One collective's slug (default: all).")
def forecast_command(slug: str | None) -> None:
    """Compute and store the fund forecasts now (the scheduler does this after each run and
    each plan change)."""
    targets = [row for row in plans.collectives_with_plans() if slug in (None, row[1])]
    if slug and not targets:
        raise click.BadParameter(f"no collective {slug!r} with a fund plan",
                                 param_hint="--collective")
    lines = []
    with click.progressbar(targets, label="forecasting", file=sys.stderr) as bar:
        for collective_id, cslug, timezone in bar:
            now = now_utc()
            with transaction():
                stored = forecasts.compute_forecast(collective_id, today=today_in(timezone, now),
                                                    now=now)
            lines.append(f"{cslug}: forecast for {stored.for_period:%B %Y} computed "
                         f"{local_time(stored.computed_at, timezone)}"
                         + ("" if stored.result else " (no plan in force that month)"))
    for line in lines:
        click.echo(line)
