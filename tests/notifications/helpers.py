"""Reading what the notifications tests need: who was told, and what was queued to mail."""
from __future__ import annotations

import sqlalchemy as sa

from collective.extensions import db
from collective.mail.models import OutboxMessage
from collective.notifications.models import Notification

#: The largest ids before the test began (set by conftest.py's autouse fixture).
BASELINE = {"notification": 0, "outbox": 0}


def told(kind: str) -> dict[int, Notification]:
    """The notifications of a kind, by the membership told (one each, or the test fails)."""
    rows = list(db.session.scalars(sa.select(Notification).filter_by(kind=kind)
                                   .where(Notification.id > BASELINE["notification"])
                                   .order_by(Notification.id)))
    by_member = {n.membership_id: n for n in rows}
    assert len(by_member) == len(rows), "someone was told twice"
    return by_member


def mailed(prefix: str) -> list[OutboxMessage]:
    """Outbox rows whose event key starts with `prefix`."""
    return list(db.session.scalars(sa.select(OutboxMessage)
                                   .where(OutboxMessage.event_key.startswith(prefix),
                                          OutboxMessage.id > BASELINE["outbox"])
                                   .order_by(OutboxMessage.id)))
