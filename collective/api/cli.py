"""`flask --app collective tokens create`: a personal access token for a script, printed
once."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from collective.api import tokens
from collective.clock import now_utc
from collective.errors import DomainError
from collective.extensions import db
from collective.members.accounts import normalise_email
from collective.members.models import User
from collective.transactions import transaction

tokens_cli = AppGroup("tokens", help="Personal access tokens for the API.")


@tokens_cli.command("create")
@click.option("--user", "email", required=True, help="The account the token acts as.")
@click.option("--name", required=True, help="What the token is for.")
@click.option("--collective", "slug", default=None, help="Limit it to this collective.")
@click.option("--read-only", is_flag=True, help="It may only read.")
def create_command(email: str, name: str, slug: str | None, read_only: bool) -> None:
    """Make a token and print it (this once: only its fingerprint is kept)."""
    user = db.session.scalar(sa.select(User).filter_by(email=normalise_email(email)))
    if user is None:
        raise click.ClickException(f"no account has the address {email}")
    try:
        with transaction():
            _token, secret = tokens.create_token(user, name=name, collective_slug=slug,
                                                 is_read_only=read_only, now=now_utc())
    except DomainError as exc:
        raise click.ClickException(f"{exc.field}: {exc.message}" if exc.field else exc.message
                                   ) from exc
    click.echo(secret)
