"""The web plumbing every view shares; it knows no domain.

One request, one transaction
----------------------------
A view that changes anything does it in one block:

    if form.validate_on_submit():
        with committed(form) as done:
            pitch = pitches.create_pitch(g.membership, ...)
        if done:
            flash("The pitch is recorded.", "info")
            return redirect(...)
    return render_template(..., form=form)

`committed` (web/transaction.py) commits when the block ends. A `DomainError` raised inside
rolls the session back and lands on the form field it names (or is flashed), and `done` is
false. Any other exception rolls back and propagates to the error handlers
(web/errors.py), which roll back again before rendering, so an error page never meets a
failed session. The CLI and the scheduler use the same unit of work without the form:
`collective.transactions.transaction()` commits once, or rolls back and re-raises.

A GET page whose input a service checks (a date range, say) uses `checked(form)` the same
way: the DomainError lands on the form, and nothing is committed.

Services flush and never commit. GET requests never write.

Modules
-------
- transaction.py: `committed`, the request transaction, and `checked`, its read-only twin.
- errors.py: error pages and the DomainError -> status mapping.
- requests.py: guards on every request (ids that fit an integer, no NUL characters).
- scoping.py: `collective_view`, the /c/<slug>/ decorator; the membership lookup is
  registered by the members package, so this package imports none.
- forms.py: money fields, currency checks, the request key, safe `next` targets.
- headers.py: the Content-Security-Policy and other security headers, HSTS, ProxyFix.
- limits.py: rate limits (Flask-Limiter) on sign-in, registration, resets and invitations.
- health.py: /health, 200 "ok" after a database ping (503 while the database is down).
- templates.py and charts.py: filters, globals and server-side SVG charts.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Install the request guards, error pages, /health, template helpers, security
    headers, rate limits and the proxy settings on the app."""
    from collective.web import errors, headers, health, limits, requests, templates

    requests.init_app(app)
    errors.init_app(app)
    health.init_app(app)
    templates.init_app(app)
    headers.init_app(app)
    limits.init_app(app)
