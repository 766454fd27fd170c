"""Writing the audit log: `record` joins the caller's transaction, `record_apart` commits on
its own. Who acted, and from which address, comes from the request when there is one (the
signed-in account, request.remote_addr as ProxyFix gives it, the user agent); a scheduled
job or a CLI command records no actor and no address."""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from flask import g, has_request_context, request
from flask_login import current_user

from collective.audit.actions import ACTIONS
from collective.audit.models import AuditEvent
from collective.extensions import db

#: Longest user agent and detail text kept, and the most a row's details may hold.
USER_AGENT_LENGTH = 200
TEXT_LENGTH = 200
DETAILS_LENGTH = 2000
#: Detail names that could carry a secret: refused, whatever the value.
_SECRET = re.compile(r"password|token|secret|hash", re.IGNORECASE)
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


class _FromRequest:
    """The default actor: the request's signed-in account, if any."""


FROM_REQUEST: Any = _FromRequest()


def _id_of(thing: Any) -> int | None:
    if thing is None or isinstance(thing, int):
        return thing
    if thing.id is None:  # added in this transaction, not flushed yet
        db.session.flush()
    return thing.id


def _subject(subject: Any) -> tuple[str | None, int | None]:
    """(type, id) of a model instance (its class name in snake case) or of a pair."""
    if subject is None:
        return None, None
    if isinstance(subject, tuple):
        kind, subject_id = subject
        return str(kind), subject_id
    return _CAMEL.sub("_", type(subject).__name__).lower(), _id_of(subject)


def _plain(value: Any) -> Any:
    """A detail value as JSON holds it: text cut short, dates in ISO, sets sorted."""
    if isinstance(value, str):
        return value[:TEXT_LENGTH]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | list | tuple):
        items = [_plain(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:TEXT_LENGTH]


def details_json(details: dict[str, Any]) -> str:
    """The details as a small JSON object; a name that could hold a secret is refused."""
    secret = [name for name in details if _SECRET.search(name)]
    if secret:
        raise ValueError(f"the audit log keeps no secrets: {', '.join(secret)}")
    text = json.dumps({name: _plain(value) for name, value in details.items()},
                      sort_keys=True, ensure_ascii=False)
    if len(text) > DETAILS_LENGTH:
        raise ValueError(f"audit details are at most {DETAILS_LENGTH} characters")
    return text


def act_as(user_id: int) -> None:
    """Name the account a request acts for when it carries no signed-in session (an API
    token's user): what the request records is theirs."""
    g.audit_actor_id = user_id


def _request_actor() -> int | None:
    if not has_request_context():
        return None
    acting = g.get("audit_actor_id")
    if acting is not None:
        return acting
    if current_user and current_user.is_authenticated:
        return current_user.id
    return None


def _client() -> tuple[str | None, str | None]:
    """The request's address and user agent (cut short), or nothing outside a request."""
    if not has_request_context():
        return None, None
    agent = request.headers.get("User-Agent", "")[:USER_AGENT_LENGTH]
    return (request.remote_addr or None), (agent or None)


def record(action: str, *, collective: Any = None, subject: Any = None,
           actor: Any = FROM_REQUEST, **details: Any) -> AuditEvent:
    """Add one event to the session, so it commits or rolls back with the change it records.

    `collective` and `actor` are model instances or ids (the actor defaults to the request's
    signed-in account); `subject` is a model instance or a (type, id) pair; the keyword
    details are stored as JSON and must hold no secret."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: list it in audit/actions.py")
    subject_type, subject_id = _subject(subject)
    ip, agent = _client()
    event = AuditEvent(
        action=action, collective_id=_id_of(collective),
        actor_user_id=_request_actor() if actor is FROM_REQUEST else _id_of(actor),
        subject_type=subject_type, subject_id=subject_id, details=details_json(details),
        ip=ip, user_agent=agent)
    db.session.add(event)
    return event


def record_apart(action: str, **kwargs: Any) -> AuditEvent:
    """Record an event in a transaction of its own, committed at once: for a failed sign-in
    (there is no change to join) and a download (a GET, which changes nothing else).

    Whatever the session had read is let go first, so that on SQLite the insert begins a
    fresh transaction and waits its turn for the write lock; the caller has nothing
    pending, by contract."""
    db.session.rollback()
    try:
        event = record(action, **kwargs)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return event
