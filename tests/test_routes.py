"""Every route, generated from app.url_map: sign-in required, other collectives are 404."""
from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from tests.factories import commit, make_collective, make_user

# Pages anyone may open without signing in.
PUBLIC_ENDPOINTS = {"static", "members.index", "members.login", "members.register",
                    "password.forgot", "password.sent", "password.reset",
                    # A signed link from a notification e-mail: the signature is the proof.
                    "notifications.unsubscribe_page", "notifications.unsubscribe"}
# Signed-in pages that are not under one collective.
ACCOUNT_ENDPOINTS = {"members.logout", "members.change_password", "members.profile",
                     "members.collectives", "members.new_collective",
                     "members.accept_invitation", "mail.dev_mail", "mail.dev_message"}
# Confirming an e-mail address: the mailed link works signed in or not; the rest is the
# account's own.
PUBLIC_ENDPOINTS |= {"email.confirm"}
# An invitation link shows who invites you to which collective before you sign in (the token
# is the proof); accepting it needs an account (tests/members/test_invitation_links.py).
PUBLIC_ENDPOINTS |= {"members.accept_invitation"}
ACCOUNT_ENDPOINTS |= {"email.resend", "email.change", "email.change_sent"}
# The load balancer's probe: "ok" after a database ping, and nothing else about anyone.
PUBLIC_ENDPOINTS |= {"health.health"}
# A person's home across their collectives (docs/people.md): their own numbers only.
ACCOUNT_ENDPOINTS |= {"home.me", "home.settings"}
# The API's tokens page is part of the profile.
ACCOUNT_ENDPOINTS |= {"api_tokens.tokens_page", "api_tokens.revoke"}
# The JSON API (/api/v1): its document and docs describe it, not anyone's data; the list of
# the caller's collectives and /me are the account's own; everything else is under
# /api/v1/collectives/<slug>/. An anonymous request is a 401 in JSON, not a redirect.
API_PREFIX = "/api/v1/"
PUBLIC_ENDPOINTS |= {"api_docs.openapi_json", "api_docs.docs_page"}
# A member's published profile: only what they chose to show, a 404 unless published
# (tests/pool/test_evidence_pages.py).
PUBLIC_ENDPOINTS |= {"evidence.public_profile"}
ACCOUNT_ENDPOINTS |= {"api_collectives.collectives", "api_collectives.me"}


def _rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda r: r.rule)


def _fill(rule, slug: str) -> str:
    """A URL for the rule with every argument filled in."""
    values = {}
    for arg in rule.arguments:
        if rule.defaults and arg in rule.defaults:
            continue
        converter = rule._converters[arg]
        kind = type(converter).__name__
        if arg == "slug":
            values[arg] = slug
        elif isinstance(converter, IntegerConverter):
            values[arg] = 1
        elif "Any" in kind:
            values[arg] = sorted(converter.items)[0]
        else:
            values[arg] = "x"
    return rule.build(values, append_unknown=False)[1]


def _method(rule) -> str:
    return "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]


def test_every_route_is_classified(app):
    """A new route must be under /c/<slug>/ or be named here, so it cannot slip past scoping."""
    for rule in _rules(app):
        scoped = "slug" in rule.arguments
        assert scoped or rule.endpoint in PUBLIC_ENDPOINTS | ACCOUNT_ENDPOINTS, rule.rule
        if scoped:
            prefix = API_PREFIX + "collectives/<slug>" if rule.rule.startswith(API_PREFIX) \
                else "/c/<slug>/"
            assert rule.rule.startswith(prefix), rule.rule


@pytest.fixture
def two_collectives(setup):
    with setup():
        ours = make_collective(slug="ours")
        theirs = make_collective(slug="theirs")
        stranger = make_user(email="stranger@example.test")
        commit()
        return ours.user.email, theirs.user.email, stranger.email


def test_anonymous_visitors_are_sent_to_sign_in_everywhere(app, client, two_collectives):
    checked = 0
    for rule in _rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _fill(rule, "ours")
        response = client.open(url, method=_method(rule))
        if rule.rule.startswith(API_PREFIX):
            assert response.status_code == 401, (rule.rule, response.status_code)
            assert response.get_json()["error"]["code"] == "unauthenticated", rule.rule
            continue
        assert response.status_code == 302, (rule.rule, response.status_code)
        assert "/login" in response.headers["Location"], rule.rule
        checked += 1
    assert checked >= 10


def test_a_member_of_another_collective_gets_404_on_every_collective_url(
    app, client, auth, two_collectives
):
    ours_email, _, _ = two_collectives
    auth.login(ours_email)
    checked = 0
    for rule in _rules(app):
        if "slug" not in rule.arguments:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_fill(rule, "theirs"), method=method)
            assert response.status_code == 404, (method, rule.rule, response.status_code)
            checked += 1
        # A slug that does not exist looks exactly the same.
        assert client.get(_fill(rule, "nowhere")).status_code in (404, 405)
    assert checked >= 8


def test_a_person_in_no_collective_gets_404_too(app, client, auth, two_collectives):
    _, _, stranger = two_collectives
    auth.login(stranger)
    for rule in _rules(app):
        if "slug" in rule.arguments and "GET" in rule.methods:
            assert client.get(_fill(rule, "ours")).status_code == 404, rule.rule
