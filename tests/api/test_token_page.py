"""Tokens on the profile's page and from the command line: shown once, kept hashed,
revoked, audit-logged, and their making rate-limited."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from collective.api.models import ApiToken
from collective.audit.models import AuditEvent
from collective.clock import today_in
from collective.extensions import db
from tests.factories import PASSWORD

TOKEN = re.compile(r"col_[A-Za-z0-9_-]{43}")


def _sign_in(client, auth, world):
    client.adds_csrf_token = True
    auth.login(world.founder_email, PASSWORD)


def test_a_token_made_on_the_page_is_shown_once_and_kept_as_a_hash(client, auth, api, world,
                                                                   setup):
    _sign_in(client, auth, world)
    assert b"/account/tokens" in client.get("/account/profile").data
    expires = (today_in("UTC") + timedelta(days=30)).isoformat()
    made = client.post("/account/tokens", data={"name": "Spreadsheet sync",
                                                "collective": "ours", "read_only": "y",
                                                "expires_on": expires})
    assert made.status_code == 201
    secret = TOKEN.search(made.get_data(as_text=True)).group()
    assert TOKEN.search(client.get("/account/tokens").get_data(as_text=True)) is None
    with setup():
        token = db.session.scalar(sa.select(ApiToken).filter_by(name="Spreadsheet sync"))
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in (token.prefix + token.token_hash)
        assert (token.is_read_only, token.collective.slug) == (True, "ours")
        assert token.expires_at.date().isoformat() > expires[:8]
        event = db.session.scalar(sa.select(AuditEvent).filter_by(
            action="account.api_token_created", subject_id=token.id))
        assert secret[8:] not in event.details
    assert api("GET", "/collectives/ours", secret).status_code == 200
    assert api("POST", "/collectives/ours/clients", secret,
               json={"name": "x"}).status_code == 403
    revoked = client.post(f"/account/tokens/{token.id}/revoke")
    assert revoked.status_code == 302
    assert api("GET", "/collectives/ours", secret).status_code == 401
    with setup():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).filter_by(
            action="account.api_token_revoked", subject_id=token.id)) == 1


def test_the_page_refuses_a_past_expiry_and_anothers_token(client, auth, world, setup):
    _sign_in(client, auth, world)
    refused = client.post("/account/tokens", data={"name": "old", "expires_on": "2020-01-01"})
    assert refused.status_code == 422 and b"in the future" in refused.data
    with setup():
        others = db.session.scalar(sa.select(ApiToken.id).join(ApiToken.user).where(
            ApiToken.user.has(email=world.member_email)))
    client.post(f"/account/tokens/{others}/revoke")
    with setup():
        assert db.session.get(ApiToken, others).revoked_at is None


def test_making_tokens_is_rate_limited(client, auth, world, app, monkeypatch):
    monkeypatch.setitem(app.config["RATE_LIMITS"], "token_create_per_account", "2 per hour")
    _sign_in(client, auth, world)
    codes = [client.post("/account/tokens", data={"name": f"t{n}"}).status_code
             for n in range(3)]
    assert codes == [201, 201, 429]


def test_making_tokens_is_rate_limited_per_address_too(client, auth, world, app, monkeypatch):
    """Another account from the same address shares the address's count."""
    monkeypatch.setitem(app.config["RATE_LIMITS"], "token_create_per_ip", "2 per hour")
    _sign_in(client, auth, world)
    codes = [client.post("/account/tokens", data={"name": f"t{n}"}).status_code
             for n in range(2)]
    client.post("/logout")
    auth.login(world.member_email, PASSWORD)
    codes.append(client.post("/account/tokens", data={"name": "t2"}).status_code)
    assert codes == [201, 201, 429]


def test_the_command_prints_a_token_once(runner, world, api, setup):
    result = runner.invoke(args=["tokens", "create", "--user", world.member_email, "--name",
                                 "cron", "--collective", "ours", "--read-only"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert TOKEN.fullmatch(secret)
    assert api("GET", "/collectives", secret).get_json()["items"][0]["slug"] == "ours"
    unknown = runner.invoke(args=["tokens", "create", "--user", "nobody@example.test",
                                  "--name", "x"])
    assert unknown.exit_code != 0 and "no account" in unknown.output
    elsewhere = runner.invoke(args=["tokens", "create", "--user", world.member_email,
                                    "--name", "x", "--collective", "theirs"])
    assert elsewhere.exit_code != 0 and "collective" in elsewhere.output
