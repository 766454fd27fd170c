"""`flask --app collective rates ...`: set reference exchange rates, or load them from a
file (no network: the file is fetched by whoever runs the command)."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from collective.errors import DomainError
from collective.exchange import rates
from collective.transactions import transaction

rates_cli = AppGroup("rates", help="Reference exchange rates for showing amounts in one "
                                   "currency.")


def _fail(exc: DomainError) -> None:
    click.echo(f"error ({exc.field}): {exc.message}" if exc.field else f"error: {exc.message}",
               err=True)
    sys.exit(1)


@rates_cli.command("set")
@click.argument("base")
@click.argument("quote")
@click.argument("rate")
@click.option("--on", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day the rate is for (YYYY-MM-DD); today when left out.")
def set_command(base: str, quote: str, rate: str, as_of) -> None:
    """Set what one BASE is worth in QUOTE: `rates set EUR USD 1.0842 --on 2026-11-01`."""
    day = as_of.date() if as_of else date.today()
    try:
        with transaction():
            stored = rates.set_rate(base, quote, rate, day, source="cli")
            said = f"1 {stored.base} = {stored.rate_text} {stored.quote} as of {day}"
    except DomainError as exc:
        _fail(exc)
    click.echo(f"rate set: {said}")


@rates_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--base", default="EUR", show_default=True,
              help="The currency one unit of which each column prices (the ECB's: EUR).")
def load_command(path: Path, base: str) -> None:
    """Load a CSV of rates, e.g. the ECB's reference rates (eurofxref.csv or
    eurofxref-hist.csv, unzipped): a header 'Date, USD, JPY, ...' and a row per day."""
    try:
        with transaction():
            count = rates.load_csv(path.read_text(encoding="utf-8-sig"), base=base,
                                   source=path.name)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{count} rates loaded from {path.name}")
