"""The JSON API under /api/v1 (docs/api.md): personal access tokens, one error shape, cursor
paging, idempotent money writes and rate limits, over the same services as the pages.

flask-smorest builds the OpenAPI 3.1 document from the marshmallow schemas the views declare
(so the document is the implementation's own), served at /api/v1/openapi.json and browsable
at /api/v1/docs with Swagger UI shipped in collective/static/vendor (no CDN).

Modules
-------
- models.py: api_tokens and api_idempotency_keys.
- tokens.py: making, revoking and checking tokens. token_views.py: the profile's tokens
  page. cli.py: `flask --app collective tokens create`.
- auth.py: who is calling (token or session, CSRF for a session), `scoped(*roles)`.
- errors.py: the one error shape. paging.py: cursors, limits, date ranges.
- idempotency.py: the Idempotency-Key of money writes. limits.py: rate limits and their
  RateLimit-* headers. jobs.py: the scheduler's purge of expired keys.
- schemas.py: what the API reads and writes (schemas_books.py: invoices, expenses, the
  ledger and the exports). docs.py: the document and the docs page.
- views/: the views, one module per part of the product.
"""
from __future__ import annotations

import threading

from flask import Flask
from flask_smorest import Api

from collective.api.errors import ErrorSchema

PREFIX = "/api/v1"


class CollectiveApi(Api):
    """flask-smorest's Api, with its errors kept to /api/v1 in our own shape.

    flask-smorest registers an app-wide HTTPException handler that would answer the HTML
    pages' errors in JSON too; here the API's errors go through collective.web.errors, which
    hands the ones under /api/v1 to api.errors.render_api_error."""

    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app: Flask | None = None, **kwargs) -> None:
        #: Blueprints registered and not yet in the document: (blueprint, name, parameters).
        self._undocumented: list[tuple] = []
        self._documenting = threading.Lock()
        super().__init__(app, **kwargs)

    def _register_error_handlers(self) -> None:
        """No app-wide handler: see the class docstring."""

    def register_blueprint(self, blp, *, parameters=None, **options) -> None:
        """Register the blueprint's routes now, and document them when the document is
        first asked for: turning the schemas into JSON Schema took a tenth of start-up,
        which no request but /api/v1/openapi.json needs."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))

    def document(self) -> dict:
        """The OpenAPI document, its paths added from the blueprints on the first call."""
        with self._documenting:
            while self._undocumented:
                blp, name, parameters = self._undocumented.pop(0)
                blp.register_views_in_doc(self, self._app, self.spec, name=name,
                                          parameters=parameters)
                self.spec.tag({"name": getattr(blp, "title", name),
                               "description": blp.description})
            return self.spec.to_dict()


SPEC = {
    "info": {"description": "The Collective JSON API: see docs/api.md. Send "
                            "`Authorization: Bearer col_...` with a personal access token "
                            "made on your profile's tokens page."},
    "components": {"securitySchemes": {
        "token": {"type": "http", "scheme": "bearer",
                  "description": "A personal access token (col_...)."}}},
    "security": [{"token": []}],
}


def init_app(app: Flask) -> None:
    """Register the API's blueprints, its error shape, limits, docs and commands."""
    from collective.api import docs, token_views
    from collective.api.cli import tokens_cli
    from collective.api.errors import ApiProblem, render_api_error
    from collective.api.views import BLUEPRINTS
    from collective.web.errors import register_error_renderer

    app.config.setdefault("API_TITLE", "Collective")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config["OPENAPI_URL_PREFIX"] = None  # docs.py serves the document and the page
    app.config.setdefault("API_SPEC_OPTIONS", SPEC)
    api = CollectiveApi(app)
    app.extensions["collective_api"] = api
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    register_error_renderer(PREFIX + "/", render_api_error)
    app.register_error_handler(ApiProblem, lambda error: render_api_error(error, error.status))
    app.register_blueprint(docs.bp)
    app.register_blueprint(token_views.bp)
    app.cli.add_command(tokens_cli)
