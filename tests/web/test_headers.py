"""Security headers on every kind of response, the cookie flags in production, and the proxy
setting that makes links https behind a TLS proxy (collective/web/headers.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from collective import create_app
from collective.config import settings_from_environment
from collective.extensions import db
from tests.factories import PASSWORD, commit, make_collective

TEMPLATES = Path(__file__).resolve().parents[2] / "collective" / "templates"


def _policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _assert_hardened(response) -> None:
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["default-src"] + policy["style-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.fixture
def treasurer(setup, client):
    with setup():
        founder = make_collective(slug="headers")
        commit()
        email = founder.user.email
    client.post("/login", data={"email": email, "password": PASSWORD})
    return "headers"


def test_an_html_page_a_download_and_error_pages_carry_the_headers(client, treasurer):
    page = client.get(f"/c/{treasurer}/dashboard")
    assert page.status_code == 200
    _assert_hardened(page)
    download = client.get(f"/c/{treasurer}/reports/statement.csv"
                          "?date_from=2026-01-01&date_to=2026-01-31")
    assert download.status_code == 200
    assert "," in download.get_data(as_text=True)  # a CSV, read to the end (it streams)
    download.close()
    assert download.headers["Content-Disposition"].startswith("attachment")
    _assert_hardened(download)
    missing = client.get("/c/nowhere/dashboard")
    assert missing.status_code == 404
    _assert_hardened(missing)
    refused = client.post("/c/headers/reports/")
    assert refused.status_code == 405
    _assert_hardened(refused)


def test_the_sign_in_page_over_plain_http_has_no_hsts(client):
    response = client.get("/login")
    _assert_hardened(response)
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP in tests


def test_hsts_is_sent_over_https_only_when_the_setting_asks(app, client, monkeypatch):
    assert "Strict-Transport-Security" not in client.get(
        "/login", base_url="https://collective.test").headers
    monkeypatch.setitem(app.config, "HSTS_SECONDS", 31536000)
    assert client.get("/login", base_url="https://collective.test").headers[
        "Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_no_template_needs_inline_script_handlers_or_style_elements():
    """The policy allows no inline script: every template must do without (mail is not
    served by the app, so its inline styles are left alone)."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        if "mail" in path.relative_to(TEMPLATES).parts:
            continue
        text = path.read_text()
        for script in re.finditer(r"<script\b([^>]*)>(.*?)</script>", text, re.S):
            if "src=" not in script.group(1) or script.group(2).strip():
                offenders.append(f"{path.name}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path.name}: on*= handler")
        if re.search(r"<style\b", text) or "javascript:" in text:
            offenders.append(f"{path.name}: <style> or javascript: URL")
    assert offenders == []


def test_production_cookies_are_secure_http_only_and_same_site(monkeypatch, tmp_path):
    monkeypatch.setenv("COLLECTIVE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.delenv("COLLECTIVE_INSECURE_COOKIES", raising=False)
    settings = settings_from_environment(tmp_path)
    for cookie in ("SESSION", "REMEMBER"):
        assert settings[f"{cookie}_COOKIE_SECURE"] is True
        assert settings[f"{cookie}_COOKIE_HTTPONLY"] is True
        assert settings[f"{cookie}_COOKIE_SAMESITE"] == "Lax"
    assert settings["HSTS_SECONDS"] >= 180 * 24 * 3600
    monkeypatch.setenv("COLLECTIVE_ENV", "development")
    assert settings_from_environment(tmp_path)["REMEMBER_COOKIE_SECURE"] is False


@pytest.fixture
def proxied_app(database_url, app):
    """A second app configured for one TLS proxy in front of it."""
    proxied = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret",
                          "PROXY_FIX_X_FOR": 1, "PROXY_FIX_X_PROTO": 1,
                          "HSTS_SECONDS": 600})

    def where_am_i():
        """What the app believes about the request."""
        return {"link": url_for("members.login", _external=True),
                "client": request.remote_addr}

    proxied.add_url_rule("/where", view_func=where_am_i)
    yield proxied
    with proxied.app_context():
        db.engine.dispose()


def test_behind_the_proxy_links_are_https_and_the_client_address_is_the_forwarded_one(
        proxied_app, app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    response = proxied_app.test_client().get("/where", headers=forwarded)
    assert response.json == {"link": "https://localhost/login", "client": "198.51.100.7"}
    assert response.headers["Strict-Transport-Security"] == "max-age=600"
    plain = proxied_app.test_client().get("/where")
    assert plain.json["link"] == "http://localhost/login"
    # Without the setting (the default) no forwarded header is believed.
    assert not isinstance(app.wsgi_app, ProxyFix)
    assert isinstance(proxied_app.wsgi_app, ProxyFix)
