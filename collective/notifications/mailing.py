"""The e-mail of a notification, the daily digest, and the signed one-click unsubscribe
link every such e-mail carries (RFC 8058: List-Unsubscribe and List-Unsubscribe-Post)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from itsdangerous import BadSignature, URLSafeSerializer

from collective.extensions import db
from collective.mail.outbox import queue_mail
from collective.notifications.kinds import Channel, Kind, label
from collective.notifications.models import Notification

_SALT = "notification-unsubscribe"


def absolute(path: str) -> str:
    """A path of this app as a full URL: the request's host, else BASE_URL (the scheduler),
    else SERVER_NAME."""
    if not path or "://" in path:
        return path
    if has_request_context():
        return request.host_url.rstrip("/") + path
    base = current_app.config.get("BASE_URL") or "http://{}".format(
        current_app.config.get("SERVER_NAME") or "localhost:5000")
    return base.rstrip("/") + path


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def unsubscribe_token(user_id: int, kind: str) -> str:
    return _serializer().dumps([user_id, str(kind)])


#: What the digest's own unsubscribe link names instead of a kind.
DIGEST = "digest"


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user id, kind or DIGEST) from a token, or None when it was not made by us."""
    try:
        user_id, kind = _serializer().loads(token)
        return int(user_id), (DIGEST if kind == DIGEST else Kind(kind).value)
    except (BadSignature, ValueError, TypeError):
        return None


def unsubscribe_url(user_id: int, kind: str) -> str:
    return absolute(f"/notifications/unsubscribe/{unsubscribe_token(user_id, kind)}")


def _headers(url: str) -> dict[str, str]:
    return {"List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def may_email(user: Any) -> bool:
    """Whether this user's address may be mailed notifications. The hook for e-mail
    confirmation: once accounts record it, an unconfirmed address answers False here."""
    return getattr(user, "email_confirmed_at", True) is not None


def mail_now(notification: Notification, user: Any, now: datetime) -> None:
    """Queue the e-mail of one notification, in the caller's transaction."""
    url = unsubscribe_url(user.id, notification.kind)
    queue_mail(event_key=f"notification:{notification.event_key}", to=user.email,
               user_id=user.id, collective_id=notification.collective_id,
               subject=notification.title, template="notification", now=now,
               context={"name": user.name, "title": notification.title,
                        "body": notification.body, "link": absolute(notification.link),
                        "kind_label": label(notification.kind), "unsubscribe": url},
               headers=_headers(url))
    notification.mailed_at = now
    db.session.flush()


def queue_digests(now: datetime) -> list[int]:
    """Gather each user's notifications waiting for the digest into one mail for the day
    of `now` (UTC). Idempotent by (user, day): the outbox keeps one 'digest:<user>:<day>'
    per address, and the gathered notifications are marked mailed (ones that arrive after
    the day's digest was queued wait for the next). The ids of the users mailed."""
    waiting = db.session.scalars(
        sa.select(Notification)
        .where(Notification.channel == Channel.DIGEST.value, Notification.mailed_at.is_(None),
               Notification.created_at <= now)
        .order_by(Notification.user_id, Notification.created_at, Notification.id))
    by_user: dict[int, list[Notification]] = defaultdict(list)
    for notification in waiting:
        by_user[notification.user_id].append(notification)
    mailed = []
    for user_id, items in by_user.items():
        user = items[0].user
        if not may_email(user):
            continue
        url = unsubscribe_url(user_id, DIGEST)
        entries = [{"title": n.title, "body": n.body, "link": absolute(n.link)}
                   for n in items]
        queued = queue_mail(event_key=f"digest:{user_id}:{now.date().isoformat()}", to=user.email,
                   user_id=user_id, subject=f"Your Collective digest: {len(items)} "
                   + ("notification" if len(items) == 1 else "notifications"),
                   template="notification_digest", now=now,
                   context={"name": user.name, "entries": entries, "unsubscribe": url},
                   headers=_headers(url))
        if queued is None:
            continue
        for n in items:
            n.mailed_at = now
        mailed.append(user_id)
    db.session.flush()
    return mailed
