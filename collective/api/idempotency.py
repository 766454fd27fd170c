"""Idempotency-Key on money writes: the same key with the same request returns the first
answer (same status, same body) and posts nothing new; the same key with another request is
a 409. Keys are kept per token for 24 hours (then purged by the scheduler, or replaced when
used again).

The key's row is inserted first, in the request's own transaction, and its unique constraint
on (token, key) does the rest: of two requests sent at once with one key, the second's
insert waits for the first to commit (PostgreSQL) or its transaction waits for the write
lock (SQLite), and it then finds the first one's answer and returns it. A write that is
refused (a 4xx) rolls back with its key, so the request may be sent again as it is."""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Response, g, request

from collective.api.errors import ApiProblem
from collective.api.models import IdempotencyKey
from collective.extensions import db
from collective.transactions import transaction, violates

HEADER = "Idempotency-Key"
KEPT = timedelta(hours=24)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
#: How the OpenAPI document describes the header.
PARAMETER = {
    "in": "header", "name": HEADER, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255,
               "pattern": r"^[\x21-\x7e]+$"},
    "description": "Any unique string (a UUID, say). Sent again with the same request "
                   "within 24 hours, it returns the first answer and posts nothing new; "
                   "with another request it is a 409. Needs a token.",
}


def json_response(body: dict, status: int) -> Response:
    """A JSON answer of the API."""
    return Response(json.dumps(body, ensure_ascii=False, sort_keys=True), status=status,
                    mimetype="application/json")


def fingerprint() -> str:
    """What makes two requests the same: method, path and JSON body (keys in any order)."""
    body = request.get_json(silent=True)
    text = json.dumps([request.method, request.path, body], sort_keys=True,
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _key_from_request() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.match(key):
        raise ApiProblem(400, "an Idempotency-Key is 1 to 255 printable ASCII characters",
                         field=HEADER)
    if g.api_token is None:
        raise ApiProblem(400, "idempotency keys are kept per token: send this request with "
                              "a token", field=HEADER)
    return key


def _replay(found: IdempotencyKey, wanted: str) -> Response:
    if found.fingerprint != wanted:
        raise ApiProblem(409, "this Idempotency-Key was used for another request",
                         field=HEADER)
    response = Response(found.response_body, status=found.status_code,
                        mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _find(token_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(sa.select(IdempotencyKey).filter_by(token_id=token_id, key=key))


def idempotent_write(write: Callable[[], tuple[dict, int]], *, now: datetime) -> Response:
    """Run `write` (service calls returning the body and status) in one transaction; with an
    Idempotency-Key, once per key (kept from `now` on)."""
    key = _key_from_request()
    if key is None:
        with transaction():
            body, status = write()
        return json_response(body, status)
    token_id, wanted = g.api_token.id, fingerprint()
    with transaction():
        found = _find(token_id, key)
        if found is not None and found.expires_at <= now:
            db.session.delete(found)
            db.session.flush()
            found = None
        if found is not None:
            return _replay(found, wanted)
        row = IdempotencyKey(token_id=token_id, key=key, fingerprint=wanted, status_code=0,
                             response_body="", created_at=now, expires_at=now + KEPT)
        try:
            with db.session.begin_nested():
                db.session.add(row)
                db.session.flush()
        except sa.exc.IntegrityError as exc:
            if not violates(exc, "uq_api_idempotency_keys_token_id_key"):
                raise
            # A request with this key committed meanwhile: its answer is the answer.
            found = _find(token_id, key)
            if found is None:
                raise
            return _replay(found, wanted)
        body, status = write()
        row.status_code = status
        row.response_body = json.dumps(body, ensure_ascii=False, sort_keys=True)
        db.session.flush()
    return Response(row.response_body, status=status, mimetype="application/json")


def purge_expired(now: datetime) -> int:
    """Forget the keys older than 24 hours; how many were forgotten."""
    result = db.session.execute(sa.delete(IdempotencyKey)
                                .where(IdempotencyKey.expires_at <= now))
    return result.rowcount or 0
