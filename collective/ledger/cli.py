"""`flask --app collective ledger ...` commands."""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from collective.clock import today_in
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger.balances import check_ledger, run_extra_checks
from collective.ledger.grants import RuntimeRoleError, grant_runtime_role
from collective.ledger.periods import close_year
from collective.ledger.snapshots import check_snapshot
from collective.transactions import transaction

#: The columns of the members' table the commands need (the ledger imports no members code).
_collectives = sa.table("collectives", sa.column("id"), sa.column("slug"),
                        sa.column("timezone"))

ledger_cli = AppGroup("ledger", help="Inspect the ledger, and guard it on PostgreSQL.")


@ledger_cli.command("check")
def check_command() -> None:
    """Verify that every journal entry balances and the latest balance snapshot agrees with
    the postings, then every check the other packages registered (the fund's reserves, for
    one); exit 1 naming what is wrong."""
    result = check_ledger()
    checked = {"balance snapshot": check_snapshot(), **run_extra_checks()}
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


@ledger_cli.command("grant-runtime")
@click.argument("role")
@click.option("--sql", "sql_only", is_flag=True,
              help="Print the statements instead of running them.")
def grant_runtime_command(role: str, sql_only: bool) -> None:
    """Grant ROLE what the app needs at run time (PostgreSQL): SELECT and INSERT only on the
    ledger's tables, read and write on the rest. Run it as the tables' owner, after every
    `db upgrade`."""
    with transaction(commit=not sql_only):
        try:
            statements = grant_runtime_role(db.session.connection(), role,
                                            execute=not sql_only)
        except RuntimeRoleError as exc:
            raise click.ClickException(str(exc)) from exc
    if sql_only:
        click.echo("".join(f"{statement};\n" for statement in statements), nl=False)
        return
    click.echo(f"{role} may now SELECT and INSERT on the ledger, and read and write the "
               "other tables; it cannot change or unguard the ledger")


@ledger_cli.command("close-year")
@click.option("--collective", "slug", required=True, help="The collective's slug.")
@click.option("--year", type=click.IntRange(1900, 9999), required=True)
@click.option("--force", is_flag=True,
              help="Close even though some months are not reconciled (needs --reason).")
@click.option("--reason", default="", help="Why the year is closed by force (recorded).")
def close_year_command(slug: str, year: int, force: bool, reason: str) -> None:
    """Post the year's closing entry (income and expenses to the common fund, dated Dec 31)
    and close its months; refused while a month is unreconciled unless --force --reason."""
    row = db.session.execute(sa.select(_collectives.c.id, _collectives.c.timezone)
                             .where(_collectives.c.slug == slug)).first()
    if row is None:
        raise click.ClickException(f"no collective {slug!r}")
    try:
        with transaction():
            entry = close_year(row.id, year, today=today_in(row.timezone), force=force,
                               reason=reason)
            entry_id, postings = entry.id, len(entry.postings)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{year} closed: entry {entry_id} ({postings} postings), every month closed")
