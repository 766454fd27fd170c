"""Rate limits on the pages an attacker would hammer: sign-in, registration, password resets,
mailed links and invitations (the limits themselves are settings: RATE_LIMITS in config.py).

Each page is limited twice: per client address (behind a proxy, ProxyFix makes that the
client's, not the proxy's) and per account (the address typed in, the token in the link, or
the member signed in). The counts live in the RATELIMIT_STORAGE_URI store, shared by every
worker; a request over a limit is answered 429 with the error page and a Retry-After header,
before its view runs, so it writes nothing.

members/limits.py is a different guard, kept: it drops extra password-reset and confirmation
mails to one address silently (the page answers the same, so it tells nobody whether the
address has an account) and counts in the database."""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, request
from flask_login import current_user

from collective.extensions import limiter


def rate(name: str) -> Callable[[], str]:
    """The limit named `name` in the RATE_LIMITS setting, read at each request."""
    return lambda: current_app.config["RATE_LIMITS"][name]


def posted_address() -> str:
    """The e-mail address a form posts, as the account it names (trimmed, lower-cased)."""
    return "address:" + (request.form.get("email") or "").strip().lower()[:254]


def link_token() -> str:
    """The token of a mailed or shared link, as the account it stands for."""
    return "token:" + str((request.view_args or {}).get("token", ""))[:200]


def signed_in_account() -> str:
    """The member signed in, else the client address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return "ip:" + (request.remote_addr or "unknown")


def failed(response: Response) -> bool:
    """A form that comes back (any answer but a redirect) is a failed attempt."""
    return not 300 <= response.status_code < 400


def init_app(app: Flask) -> None:
    """Bind the limiter to the app; in production, say when each worker counts alone."""
    limiter.init_app(app)
    storage = str(app.config.get("RATELIMIT_STORAGE_URI", ""))
    if app.config.get("COLLECTIVE_ENV") == "production" and storage.startswith("memory:"):
        app.logger.warning("Rate limits count in each worker's memory: with more than one "
                           "worker, set RATELIMIT_STORAGE_URI (docs/deploying.md).")
