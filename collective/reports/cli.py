"""`flask --app collective reports ...`."""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from collective import audit
from collective.clock import today_in
from collective.database import reading
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import totals
from collective.members.models import Collective
from collective.reports import exports

reports_cli = AppGroup("reports", help="Exports and statements.")


@reports_cli.command("export-ledger")
@click.option("--collective", "slug", required=True, help="The collective's slug.")
@click.option("--format", "fmt", type=click.Choice(exports.FORMATS), default="csv",
              show_default=True)
@click.option("--preset", type=click.Choice(exports.PRESETS), default="accounting",
              show_default=True, help="CSV columns.")
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The file to write ('-' for standard output).")
def export_ledger_command(slug: str, fmt: str, preset: str, date_from, date_to,
                          output: str) -> None:
    """Write the ledger of a date range; the same bytes as the download on the page."""
    with reading():  # a read: it holds no write lock however long the file takes
        _export_ledger(slug, fmt, preset, date_from, date_to, output)


def _export_ledger(slug: str, fmt: str, preset: str, date_from, date_to, output: str) -> None:
    collective = db.session.scalar(sa.select(Collective).where(
        Collective.slug == slug, Collective.archived_at.is_(None)))
    if collective is None:
        raise click.BadParameter(f"no collective {slug!r}", param_hint="--collective")
    collective_id = collective.id
    try:
        start, end = exports.check_range(date_from.date(), date_to.date(),
                                         today_in(collective.timezone))
    except DomainError as exc:
        raise click.BadParameter(exc.message, param_hint="--from/--to") from exc
    query = exports.LedgerQuery(collective_id, start, end)
    # Recorded apart (an audit row is the one write a read may make), before the first byte,
    # as the download on the page is; a command records no actor and no address.
    audit.record_apart("export.ledger", collective=collective_id, actor=None, format=fmt,
                       preset=preset, date_from=start, date_to=end, via="command",
                       output=output)
    total = totals.posting_count(collective_id, start, end)
    written = 0
    with click.open_file(output, "wb") as out, click.progressbar(
            length=total, label=f"{fmt} export of {total} postings", file=sys.stderr) as bar:
        for chunk in exports.export_chunks(query, fmt, preset,
                                           progress=lambda n: bar.update(n)):
            out.write(chunk)
            written += len(chunk)
    click.echo(f"wrote {written} bytes, {total} postings, to {output}", err=True)

