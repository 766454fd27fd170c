"""Security headers on every response, and the proxy in front of the app.

The Content-Security-Policy allows scripts, styles, images and fonts from this site only: no
inline <script>, no on*= handlers, no <style> elements (tests/web/test_headers.py reads every
template for them). Style *attributes* stay allowed (style-src-attr): the server-drawn SVG
charts size their text with them. A browser too old for style-src-attr falls back to
style-src and draws the charts with the stylesheet's sizes; nothing else changes."""
from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

#: Sent on every response unless the view set its own.
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Invitation, reset and confirmation links carry their token in the path: never send it
    # to another site.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

PROXY_SETTINGS = {"x_for": "PROXY_FIX_X_FOR", "x_proto": "PROXY_FIX_X_PROTO",
                  "x_host": "PROXY_FIX_X_HOST", "x_port": "PROXY_FIX_X_PORT",
                  "x_prefix": "PROXY_FIX_X_PREFIX"}


def add_security_headers(response: Response) -> Response:
    """The headers above, and HSTS on a response sent over HTTPS when the setting asks."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    seconds = int(current_app.config.get("HSTS_SECONDS") or 0)
    if seconds and request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}")
    return response


def trust_proxy(app: Flask) -> None:
    """Believe the X-Forwarded-* headers of as many proxies as the PROXY_FIX_* settings say,
    so the client's address and https reach the app (and links it makes start https://)."""
    counts = {arg: int(app.config.get(setting) or 0) for arg, setting in PROXY_SETTINGS.items()}
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)


def init_app(app: Flask) -> None:
    """Install the headers hook and, when configured, ProxyFix."""
    app.after_request(add_security_headers)
    trust_proxy(app)


def streamed_download(chunks, name: str, media_type: str) -> Response:
    """A file download whose body is written as `chunks` (an iterator of bytes) is read,
    in the request's context: the pages' exports and the API's send the same."""
    from flask import stream_with_context

    response = Response(stream_with_context(chunks), mimetype=media_type.split(";")[0])
    response.headers["Content-Type"] = media_type
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
