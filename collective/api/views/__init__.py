"""The API's views, one blueprint per part of the product; each is guarded alike: the caller
is authenticated before any view runs, CSRF is the auth module's business (a token needs
none), every request is rate-limited, and every answer carries the RateLimit-* headers and
the next page's Link."""
from __future__ import annotations

from collections.abc import Callable

from flask import Response, g
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from collective.api import PREFIX
from collective.api.errors import render_api_error
from collective.api.idempotency import idempotent_write
from collective.api.limits import add_ratelimit_headers, limit_blueprint
from collective.api.paging import add_link_header
from collective.api.views.auth import authenticate
from collective.clock import now_utc
from collective.errors import NotFound
from collective.extensions import csrf, db


class ApiBlueprint(Blueprint):
    """A blueprint of the API whose operations the document lists under its `title` (a
    section named for people, "Benefits fund"), not under its Flask name ("api_benefits")."""

    def __init__(self, *args, title: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.title = title

    def route(self, rule, *, parameters=None, tags=None, **options):
        """flask-smorest's route, tagged with the blueprint's title unless told otherwise."""
        return super().route(rule, parameters=parameters, tags=tags or [self.title],
                             **options)


def api_blueprint(name: str, description: str, title: str | None = None) -> Blueprint:
    """A blueprint of the API, under /api/v1, guarded (once, before any app registers it);
    its section of the document is `title` (by default made from the name)."""
    title = title or name.removeprefix("api_").replace("_", " ").capitalize()
    blueprint = ApiBlueprint(name, __name__, url_prefix=PREFIX, description=description,
                             title=title)
    _guard(blueprint)
    return blueprint


def _guard(blueprint: Blueprint) -> None:
    """Authenticate, limit and head every request of the blueprint."""
    # CSRFProtect would refuse a token's POST before our check could see the token: the
    # API checks CSRF itself, for session requests only (auth.authenticate).
    csrf.exempt(blueprint)
    limit_blueprint(blueprint)
    blueprint.before_request(authenticate)
    blueprint.after_request(add_link_header)
    blueprint.after_request(add_ratelimit_headers)
    # Statuses the error pages have no handler for (406, 415, ...), in the API's shape.
    blueprint.register_error_handler(
        HTTPException, lambda error: render_api_error(error, error.code or 500))


def written(write: Callable[[], tuple[dict, int]]) -> Response:
    """The request transaction of a write: `write` calls the services and returns the body
    and status; committed once, and once per Idempotency-Key when the request sends one."""
    return idempotent_write(write, now=now_utc())


def one_of_ours(model: type, row_id: int, noun: str):
    """The row of `model` with that id in the URL's collective; another collective's, like
    one that does not exist, is a 404."""
    row = db.session.get(model, row_id)
    if row is None or row.collective_id != g.collective.id:
        raise NotFound(f"no such {noun} in this collective")
    return row


def _blueprints() -> list[Blueprint]:
    from collective.api.views import (
        benefits,
        books,
        collectives,
        governance,
        invoice_actions,  # noqa: F401  (routes on books' blueprint)
        ledger,
        money,
        work,
    )

    return [collectives.blp, work.blp, money.blp, governance.blp, benefits.blp, books.blp,
            ledger.blp]


BLUEPRINTS = _blueprints()
