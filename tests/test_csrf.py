"""CSRF, from the url map: every route that accepts POST refuses one without a token (400,
before its view runs, so nothing is written), for a person holding every role."""
from __future__ import annotations

import sqlalchemy as sa

from collective.extensions import csrf, db
from tests.factories import PASSWORD, commit, make_collective
from tests.test_routes import _fill, _rules

#: Routes that take a POST without a token, each for a reason of its own.
CSRF_EXEMPT = {
    # RFC 8058 one-click unsubscribe: the mail client posts, with no session; the signed
    # link is the proof.
    "notifications.unsubscribe",
}

#: Plausible form values, so a view that ran would have something to write.
FORM = {"name": "Refused", "email": "someone@example.com", "amount": "10.00",
        "description": "refused", "title": "refused", "confirm": "y", "password": PASSWORD,
        "date": "2026-01-15", "currency": "USD", "note": "refused"}


def _row_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_every_post_without_a_token_is_refused_with_400_and_writes_nothing(
        app, client, setup, monkeypatch):
    with setup():
        founder = make_collective(slug="ours")  # member, coordinator and treasurer
        commit()
        email = founder.user.email
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client.adds_csrf_token = False
    with setup():
        before = _row_counts()
    checked = []
    for rule in _rules(app):
        if "POST" not in rule.methods or rule.endpoint in CSRF_EXEMPT:
            continue
        url = _fill(rule, "ours")
        response = client.post(url, data=FORM)
        assert response.status_code == 400, (rule.rule, response.status_code)
        assert b"CSRF" in response.data, rule.rule
        checked.append(rule.endpoint)
        # A token from another session is no better than none.
        forged = client.post(url, data={**FORM, "csrf_token": "forged"})
        assert forged.status_code == 400, rule.rule
    with setup():
        assert _row_counts() == before
    assert len(checked) >= 60
    # Still signed in: the refusals did not end the session, and GETs work as before.
    assert client.get("/collectives").status_code == 200


def test_csrf_exemptions_are_exactly_the_listed_ones_and_take_post(app):
    """A new exemption must be named (and justified) above; a stale one is dropped."""
    views = {rule.endpoint: app.view_functions[rule.endpoint] for rule in _rules(app)}
    exempt_endpoints = {endpoint for endpoint, view in views.items()
                        if f"{view.__module__}.{view.__name__}" in csrf._exempt_views}
    assert exempt_endpoints == CSRF_EXEMPT
    for endpoint in CSRF_EXEMPT:
        rule = next(r for r in _rules(app) if r.endpoint == endpoint)
        assert "POST" in rule.methods
