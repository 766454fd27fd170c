"""`flask --app collective ledger ...` commands."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from collective.ledger.balances import check_ledger, run_extra_checks

ledger_cli = AppGroup("ledger", help="Inspect the ledger.")


@ledger_cli.command("check")
def check_command() -> None:
    """Verify that every journal entry balances, then every check the other packages
    registered (the fund's reserves, for one); exit 1 naming what is wrong."""
    result = check_ledger()
    checked = run_extra_checks()
    problems = {name: found for name, found in checked.items() if found}
    if result.ok and not problems:
        click.echo(f"ledger ok: {result.entries} entries, {result.postings} postings, "
                   "every entry balances")
        for name in checked:
            click.echo(f"{name}: ok")
        return
    if result.unbalanced_entry_ids:
        click.echo(f"unbalanced entries: {', '.join(map(str, result.unbalanced_entry_ids))}",
                   err=True)
    if result.short_entry_ids:
        click.echo("entries with fewer than two postings: "
                   f"{', '.join(map(str, result.short_entry_ids))}", err=True)
    for name, found in problems.items():
        for problem in found:
            click.echo(f"{name}: {problem}", err=True)
    click.echo(f"ledger NOT ok: {result.entries} entries, {result.postings} postings", err=True)
    sys.exit(1)
