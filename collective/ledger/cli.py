"""`flask --app collective ledger ...` commands."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from collective.ledger.balances import check_ledger

ledger_cli = AppGroup("ledger", help="Inspect the ledger.")


@ledger_cli.command("check")
def check_command() -> None:
    """Verify that every journal entry balances; exit 1 naming the entries that do not."""
    result = check_ledger()
    if result.ok:
        click.echo(f"ledger ok: {result.entries} entries, {result.postings} postings, "
                   "every entry balances")
        return
    if result.unbalanced_entry_ids:
        click.echo(f"unbalanced entries: {', '.join(map(str, result.unbalanced_entry_ids))}",
                   err=True)
    if result.short_entry_ids:
        click.echo("entries with fewer than two postings: "
                   f"{', '.join(map(str, result.short_entry_ids))}", err=True)
    click.echo(f"ledger NOT ok: {result.entries} entries, {result.postings} postings", err=True)
    sys.exit(1)
