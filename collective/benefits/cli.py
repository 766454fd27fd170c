"""`flask --app collective benefits ...` and `flask --app collective scheduler`."""
from __future__ import annotations

import sys
from datetime import date

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from collective.benefits import jobs, services
from collective.benefits.compute import month_start
from collective.extensions import db
from collective.members.models import Collective
from collective.money import format_money

benefits_cli = AppGroup("benefits", help="The mutual benefits fund.")


def _period(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise click.BadParameter("write the period as YYYY-MM, like 2026-10") from exc


def _collectives(slug: str | None) -> list[tuple[int, str, str]]:
    query = sa.select(Collective.id, Collective.slug, Collective.base_currency).where(
        Collective.archived_at.is_(None))
    if slug:
        query = query.where(Collective.slug == slug)
    found = db.session.execute(query.order_by(Collective.id)).all()
    if slug and not found:
        raise click.BadParameter(f"no collective {slug!r}", param_hint="--collective")
    return found


@benefits_cli.command("run")
@click.argument("kind", type=click.Choice(["contributions", "payouts"]))
@click.option("--collective", "slug", help="One collective's slug (default: all).")
@click.option("--period", required=True, help="The month, as YYYY-MM.")
@click.option("--dry-run", is_flag=True, help="Compute and show; write nothing.")
def run_command(kind: str, slug: str | None, period: str, dry_run: bool) -> None:
    """Run the contribution or payout run of one month, now."""
    month = _period(period)
    if month >= month_start(date.today()):
        raise click.BadParameter("only a month that has ended can be run", param_hint="--period")
    targets = _collectives(slug)
    lines = []
    with click.progressbar(targets, label=f"{kind} {period}", file=sys.stderr) as bar:
        for collective_id, cslug, currency in bar:
            result = services.run(collective_id, kind, month, dry_run=dry_run,
                                  triggered_by="cli")
            if dry_run:
                db.session.rollback()
            else:
                db.session.commit()
            if result.skipped:
                status = f"skipped: {result.skipped}"
            elif result.already_done:
                status = "already done; nothing posted"
            else:
                status = (f"{'would post' if dry_run else 'posted'} {result.entries} entries, "
                          f"{format_money(result.total, currency)}"
                          + (f", shortfall {format_money(result.shortfall, currency)}"
                             if result.shortfall else ""))
            lines.append(f"{cslug}: {kind} {period}: {status}")
    for line in lines:
        click.echo(line)


@benefits_cli.command("catch-up")
@click.option("--collective", "slug", help="One collective's slug (default: all).")
def catch_up_command(slug: str | None) -> None:
    """Do every run that is due and not yet done, oldest month first."""
    today = date.today()
    targets = _collectives(slug)
    total = 0
    with click.progressbar(targets, label="catching up", file=sys.stderr) as bar:
        for collective_id, _, _ in bar:
            total += len(jobs.run_due(collective_id, today, triggered_by="cli"))
    click.echo(f"{total} runs done")


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler in this process until stopped (production: its own process)."""
    scheduler = jobs.make_scheduler(current_app._get_current_object(), blocking=True)
    click.echo("scheduler started: fund runs daily at 02:00 UTC (and now), "
               "proposals every 10 minutes")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
