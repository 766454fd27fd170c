"""Tell a member something: store it, and mail it now or later by their preference.
Flush, never commit; `now` comes from the caller."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from collective.database import conflict_insert
from collective.errors import DomainError, NotFound
from collective.extensions import db
from collective.notifications import mailing
from collective.notifications.kinds import KINDS, Channel, Kind, default_channel
from collective.notifications.models import Notification, NotificationPreference


def channel_for(user_id: int, kind: str) -> Channel:
    """The user's chosen channel for a kind, else the kind's default."""
    chosen = db.session.scalar(sa.select(NotificationPreference.channel)
                               .filter_by(user_id=user_id, kind=str(kind)))
    return Channel(chosen) if chosen is not None else default_channel(kind)


def preferences(user_id: int) -> dict[Kind, Channel]:
    """Every kind with the user's channel for it."""
    chosen = dict(db.session.execute(sa.select(NotificationPreference.kind,
                                               NotificationPreference.channel)
                                     .filter_by(user_id=user_id)).all())
    return {kind: Channel(chosen.get(kind.value, default)) for kind, (_, default)
            in KINDS.items()}


def set_preference(user_id: int, kind: str, channel: str) -> None:
    """Choose how one kind reaches the user."""
    try:
        kind, channel = Kind(kind), Channel(channel)
    except ValueError as exc:
        raise DomainError("choose one of the offered ways", field=str(kind)) from exc
    row = db.session.scalar(sa.select(NotificationPreference)
                            .filter_by(user_id=user_id, kind=kind.value).with_for_update())
    if row is None:
        db.session.add(NotificationPreference(user_id=user_id, kind=kind.value,
                                              channel=channel))
    else:
        row.channel = channel
    db.session.flush()


def unsubscribe(user_id: int, kind: str) -> None:
    """Stop e-mail for one kind (it stays in the app), or for the digest: every kind
    gathered there stays in the app."""
    if kind == mailing.DIGEST:
        for each, channel in preferences(user_id).items():
            if channel == Channel.DIGEST:
                set_preference(user_id, each, Channel.APP)
    else:
        set_preference(user_id, kind, Channel.APP)


def notify(membership: Any, *, kind: Kind, event_key: str, title: str,
           now: datetime | None = None, body: str = "", link: str = ""
           ) -> Notification | None:
    """Tell the member of `membership` (one person in one collective) about an event: store
    it and, by their preference for `kind`, queue its e-mail now. The notification, or None
    when this event already told this person. `now` is the event's moment; a service that
    works by days leaves it out and the row is stamped when written."""
    user = membership.user
    channel = channel_for(user.id, kind)
    new_id = db.session.execute(
        conflict_insert(Notification).values(
            user_id=user.id, membership_id=membership.id,
            collective_id=membership.collective_id, kind=Kind(kind).value,
            event_key=event_key[:200], title=" ".join(title.split())[:300], body=body,
            link=link[:500], channel=channel.value,
            **({"created_at": now} if now is not None else {}))
        .on_conflict_do_nothing(index_elements=["event_key", "user_id"])
        .returning(Notification.id)).scalar()
    if new_id is None:
        return None
    notification = db.session.get(Notification, new_id)
    if channel == Channel.EMAIL and mailing.may_email(user):
        mailing.mail_now(notification, user, notification.created_at)
    return notification


def unread_count(user_id: int, collective_id: int) -> int:
    """How many of the user's notifications in the collective are unread (one COUNT)."""
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id))
        .where(Notification.user_id == user_id, Notification.collective_id == collective_id,
               Notification.read_at.is_(None))) or 0


def notifications_of(user_id: int, collective_id: int, limit: int = 200
                     ) -> list[Notification]:
    """The user's notifications in the collective, newest first."""
    return list(db.session.scalars(
        sa.select(Notification)
        .where(Notification.user_id == user_id, Notification.collective_id == collective_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def mark_read(user_id: int, collective_id: int, notification_id: int, now: datetime
              ) -> Notification:
    """Mark one of the user's own notifications read (someone else's is not found)."""
    notification = db.session.scalar(sa.select(Notification).filter_by(
        id=notification_id, user_id=user_id, collective_id=collective_id))
    if notification is None:
        raise NotFound("no such notification")
    if notification.read_at is None:
        notification.read_at = now
        db.session.flush()
    return notification


def mark_all_read(user_id: int, collective_id: int, now: datetime) -> int:
    """Mark every unread notification of the user in the collective read; how many."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user_id, Notification.collective_id == collective_id,
               Notification.read_at.is_(None))
        .values(read_at=now).execution_options(synchronize_session="fetch"))
    return result.rowcount
