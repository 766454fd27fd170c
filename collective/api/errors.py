"""One error shape for every refusal under /api/v1:

    {"error": {"status": 422, "code": "invalid", "message": "...",
               "fields": {"amount": ["the amount must be more than zero"]}}}

`fields` names the inputs at fault (a domain error's `field`, or each field the request's
schema refused) and is left out when no input is to blame. Another collective's object is a
404 like one that does not exist, never a 403."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

from collective.errors import DomainError

#: The `code` of each status: a word a client can switch on.
CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "too_large",
    415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
    500: "server_error", 503: "unavailable",
}


class ApiProblem(Exception):
    """A refusal the API makes itself (a missing token, a forged cursor, a read-only
    token writing), answered in the one error shape."""

    def __init__(self, status: int, message: str, *, field: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field
        self.code = code or CODES.get(status, "error")
        self.headers = headers or {}


def error_response(status: int, message: str, *, code: str | None = None,
                   fields: dict[str, list[str]] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """The JSON answer for a refusal."""
    body: dict[str, Any] = {"status": status, "code": code or CODES.get(status, "error"),
                            "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def _flat_messages(messages: Any) -> list[str]:
    """A schema's messages for one field as a list of strings (nested ones joined)."""
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, dict):
        return [f"{key}: {text}" for key, value in messages.items()
                for text in _flat_messages(value)]
    if isinstance(messages, list | tuple):
        return [text for item in messages for text in _flat_messages(item)]
    return [str(messages)]


def schema_fields(messages: Any) -> dict[str, list[str]]:
    """webargs' messages ({location: {field: [...]}}) as {field: [messages]}."""
    fields: dict[str, list[str]] = {}
    if not isinstance(messages, dict):
        return fields
    for location, by_field in messages.items():
        if not isinstance(by_field, dict):
            fields.setdefault(str(location), []).extend(_flat_messages(by_field))
            continue
        for name, texts in by_field.items():
            key = "body" if name == "_schema" else str(name)
            fields.setdefault(key, []).extend(_flat_messages(texts))
    return fields


def render_api_error(error: Exception, status: int) -> Response:
    """Any error under /api/v1, in the one shape (registered with collective.web.errors)."""
    if isinstance(error, ApiProblem):
        return error_response(error.status, error.message, code=error.code,
                              fields={error.field: [error.message]} if error.field else None,
                              headers=error.headers)
    if isinstance(error, DomainError):
        fields = {error.field: [error.message]} if error.field else None
        return error_response(error.status, error.message, fields=fields)
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if isinstance(error, HTTPException):
        headers.update({name: value for name, value in error.get_headers()
                        if name.lower() in {"retry-after", "www-authenticate", "allow"}})
    fields = schema_fields(data.get("messages")) or None
    if fields:
        return error_response(status, "the request has invalid fields", fields=fields,
                              headers=headers)
    description = getattr(error, "description", None)
    if status >= 500:
        message = "something went wrong on our side" if status == 500 else \
            "the database is out of reach for a moment; try again shortly"
    elif isinstance(description, str) and description:
        message = description
    else:
        message = getattr(error, "name", None) or "refused"
    return error_response(status, message, headers=headers)


class ErrorBody(ma.Schema):
    """What went wrong."""

    status = ma.fields.Integer(required=True, metadata={"description": "The HTTP status."})
    code = ma.fields.String(required=True, metadata={
        "description": "A word to switch on: " + ", ".join(sorted(set(CODES.values())))})
    message = ma.fields.String(required=True)
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                            metadata={"description": "The inputs at fault, each with what "
                                                     "is wrong with it."})


class ErrorSchema(ma.Schema):
    """Every refusal: 400, 401, 403, 404, 409, 422, 429 (and 500, 503)."""

    error = ma.fields.Nested(ErrorBody, required=True)
