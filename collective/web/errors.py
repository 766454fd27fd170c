"""Error pages: every error rolls the session back first, so the page can load what it shows
even after a failed flush; a DomainError no view caught becomes its own status; a database
that cannot be reached (down, restarting, a connection cut) is a 503 page that needs none."""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, render_template, request

from collective.errors import DomainError
from collective.extensions import db

#: The statuses a person can meet, each with its own friendly page.
PAGE_CODES = (400, 403, 404, 405, 409, 413, 422, 429, 500)


#: (path prefix, renderer): errors under the prefix are answered by the renderer, called with
#: the error and its status, instead of a page (the JSON API's own shape). The package that
#: owns the prefix registers it, so this module imports no domain.
_renderers: list[tuple[str, Callable]] = []


def register_error_renderer(prefix: str, renderer: Callable) -> None:
    """Answer errors of requests whose path starts with `prefix` with `renderer(error,
    status)` instead of an error page."""
    if (prefix, renderer) not in _renderers:
        _renderers.append((prefix, renderer))


def _renderer_for_request() -> Callable | None:
    if has_request_context():
        for prefix, renderer in _renderers:
            if request.path.startswith(prefix):
                return renderer
    return None


def _rolled_back() -> bool:
    """Roll back whatever the request began; False when that fails because the connection
    is gone (the database went away meanwhile), after dropping it from the pool. An error
    page must not fail in turn: that would reach the server as a bare 500."""
    try:
        db.session.rollback()
        return True
    except sa.exc.SQLAlchemyError:
        try:
            db.session().invalidate()  # scoped_session has no invalidate of its own
        except sa.exc.SQLAlchemyError:
            pass
        return False


def render_error(error: Exception):
    """The error page for an HTTP error, after rolling back whatever the request began."""
    if not _rolled_back():
        return _unavailable(error)
    code = getattr(error, "code", None) or 500
    renderer = _renderer_for_request()
    if renderer is not None:
        return renderer(error, code)
    return render_template("error.html", error=error, code=code), code


def render_domain_error(error: DomainError):
    """A domain error that reached the edge: its own status, with its message."""
    if not _rolled_back():
        return _unavailable(error)
    renderer = _renderer_for_request()
    if renderer is not None:
        return renderer(error, error.status)
    return render_template("error.html", error=error, code=error.status,
                           message=error.message), error.status


#: Seconds a client is asked to wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 5


def render_unavailable(error: sa.exc.DBAPIError):
    """503 while the database cannot be reached. The page is rendered from its template
    alone, without the context processors or the signed-in menu, which would ask the
    database again; the session is rolled back so the next request starts clean (the pool
    pings its connections before handing them out)."""
    _rolled_back()
    current_app.logger.warning("database unavailable: %s", getattr(error, "orig", None) or error)
    return _unavailable(error)


def _unavailable(error: Exception):
    """The 503 answer: the page (or the prefix's renderer), asking the client to retry."""
    renderer = _renderer_for_request()
    if renderer is not None:
        response = renderer(error, 503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    page = current_app.jinja_env.get_template("unavailable.html").render()
    return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}


def release_session(_error: BaseException | None = None) -> None:
    """At the end of each request: close the session. If the database cut the connection
    after the view had what it needed (a restart between the last query and the end of the
    request), there is nothing to roll back on it: the connection is dropped from the pool
    instead of the finished page turning into a 500."""
    try:
        db.session.close()
    except sa.exc.DBAPIError:
        db.session().invalidate()  # scoped_session has no invalidate of its own


def init_app(app: Flask) -> None:
    """Register the error pages."""
    for code in PAGE_CODES:
        app.register_error_handler(code, render_error)
    app.register_error_handler(DomainError, render_domain_error)
    # OperationalError: refused or cut connections, a server shutting down; InterfaceError:
    # a connection the driver already knows is closed.
    app.register_error_handler(sa.exc.OperationalError, render_unavailable)
    app.register_error_handler(sa.exc.InterfaceError, render_unavailable)
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first (Flask runs them
    # last registered first); the extension's close then finds the session closed.
    app.teardown_appcontext(release_session)


