"""Error pages: every error rolls the session back first, so the page can load what it shows
even after a failed flush; a DomainError no view caught becomes its own status."""
from __future__ import annotations

from flask import Flask, render_template

from collective.errors import DomainError
from collective.extensions import db

#: The statuses a person can meet, each with its own friendly page.
PAGE_CODES = (400, 403, 404, 405, 409, 413, 422, 429, 500)


def render_error(error: Exception):
    """The error page for an HTTP error, after rolling back whatever the request began."""
    db.session.rollback()
    code = getattr(error, "code", None) or 500
    return render_template("error.html", error=error, code=code), code


def render_domain_error(error: DomainError):
    """A domain error that reached the edge: its own status, with its message."""
    db.session.rollback()
    return render_template("error.html", error=error, code=error.status,
                           message=error.message), error.status


def init_app(app: Flask) -> None:
    """Register the error pages."""
    for code in PAGE_CODES:
        app.register_error_handler(code, render_error)
    app.register_error_handler(DomainError, render_domain_error)


