"""Token rules: who may call, where, and what a refusal looks like."""
from __future__ import annotations

import sqlalchemy as sa

from collective.api.models import ApiToken
from collective.extensions import db
from collective.pool.models import Client
from tests.api.conftest import payment_body


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()["error"]
    assert body["status"] == status and body["code"] == code
    return body


def test_a_token_lists_its_users_collectives_and_a_limited_one_only_its_own(api, world):
    mine = api("GET", "/collectives", world.full)
    assert mine.status_code == 200
    assert [c["slug"] for c in mine.get_json()["items"]] == ["ours", "theirs"]
    assert mine.get_json()["items"][0]["roles"] == ["coordinator", "member", "treasurer"]
    limited = api("GET", "/collectives", world.limited)
    assert [c["slug"] for c in limited.get_json()["items"]] == ["ours"]


def test_no_token_an_unknown_one_a_revoked_one_and_an_expired_one_are_401(api, world):
    for token in (None, "col_nothing", world.revoked, world.expired):
        response = api("GET", "/collectives/ours", token)
        _error(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "revoked" in api("GET", "/collectives", world.revoked).get_json()["error"]["message"]
    assert "expired" in api("GET", "/collectives", world.expired).get_json()["error"]["message"]
    _error(api("GET", "/collectives", headers={"Authorization": "Basic abc"}), 401,
           "unauthenticated")


def test_another_collectives_objects_are_404_never_403(api, world):
    their_client = f"/collectives/ours/clients/{world.their_client_id}"
    _error(api("GET", their_client, world.full), 404, "not_found")
    their_pitch = f"/collectives/ours/pitches/{world.their_pitch_id}"
    _error(api("GET", their_pitch, world.full), 404, "not_found")
    # A collective the caller is not in looks like one that does not exist.
    _error(api("GET", "/collectives/theirs/pitches", world.member), 404, "not_found")
    _error(api("GET", "/collectives/nowhere/pitches", world.member), 404, "not_found")
    # The founder is a member of theirs too, but this token is limited to ours.
    assert api("GET", "/collectives/theirs/pitches", world.full).status_code == 200
    _error(api("GET", "/collectives/theirs/pitches", world.limited), 404, "not_found")


def test_a_missing_role_is_403_and_writes_nothing(api, world, setup):
    response = api("POST", "/collectives/ours/clients", world.member, json={"name": "Acme"})
    body = _error(response, 403, "forbidden")
    assert "coordinator" in body["message"]
    _error(api("GET", "/collectives/ours/payments", world.member), 403, "forbidden")
    with setup():
        assert db.session.scalar(sa.select(Client.id).filter_by(name="Acme")) is None


def test_a_read_only_token_reads_and_cannot_write(api, world, setup):
    assert api("GET", "/collectives/ours/pitches", world.read_only).status_code == 200
    for path, body in (("/clients", {"name": "Acme"}), ("/payments", payment_body(world))):
        _error(api("POST", "/collectives/ours" + path, world.read_only, json=body), 403,
               "forbidden")
    with setup():
        assert db.session.scalar(sa.select(Client.id).filter_by(name="Acme")) is None
    made = api("POST", "/collectives/ours/clients", world.full, json={"name": "Acme"})
    assert made.status_code == 201 and made.get_json()["name"] == "Acme"


def test_a_domain_error_is_a_422_naming_the_field(api, world):
    response = api("POST", "/collectives/ours/payments", world.full,
                   json=payment_body(world, received_on="2020-01-01"))
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["received_on"]
    schema = api("POST", "/collectives/ours/payments", world.full,
                 json=payment_body(world, amount=-5, currency="usd"))
    assert set(_error(schema, 422, "invalid")["fields"]) == {"amount", "currency"}
    clash = api("POST", "/collectives/ours/clients", world.full, json={"name": "Acme"})
    assert clash.status_code == 201
    again = api("POST", "/collectives/ours/clients", world.full, json={"name": "Acme"})
    assert list(_error(again, 409, "conflict")["fields"]) == ["name"]


def test_unknown_api_urls_and_methods_answer_in_the_error_shape(api, world):
    _error(api("GET", "/nothing-here", world.full), 404, "not_found")
    _error(api("DELETE", "/collectives", world.full), 405, "method_not_allowed")
    broken = api.client.post("/api/v1/collectives/ours/clients", data="{not json",
                             headers={"Authorization": f"Bearer {world.full}",
                                      "Content-Type": "application/json"})
    _error(broken, 400, "bad_request")


def test_the_last_use_is_recorded_at_most_once_a_minute(api, world, setup):
    assert api("GET", "/collectives", world.full).status_code == 200
    with setup():
        token = db.session.scalars(sa.select(ApiToken).filter_by(name="script")
                                   .order_by(ApiToken.id)).first()  # the full token
        first = token.last_used_at
    assert first is not None
    assert api("GET", "/collectives", world.full).status_code == 200
    with setup():
        assert db.session.get(ApiToken, token.id).last_used_at == first


def test_a_nul_character_in_the_path_is_a_400_on_pages_and_in_the_api(api, world):
    _error(api("GET", "/collectives/a%00b/pitches", world.full), 400, "bad_request")
    assert api.client.get("/c/a%00b/pool/").status_code == 400
