"""Reading the audit log: one collective's events, filtered, newest first, paged or as CSV.

A collective's log holds its own events and the account-level events (sign-ins, failed
sign-ins, passwords, e-mail addresses) of the accounts that are or were its members: the
caller passes those accounts as a query of user ids, since this package knows no
memberships."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from collective.audit.actions import action_label
from collective.audit.models import AuditEvent
from collective.clock import zone
from collective.extensions import db
from collective.web.formatting import safe_text

#: Rows the CSV export reads at a time.
CSV_BATCH = 1000
CSV_COLUMNS = ("occurred_at_utc", "action", "what", "actor_user_id", "actor", "subject_type",
               "subject_id", "details", "ip", "user_agent")


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the page's form asks for; every part is optional. The days are the collective's
    own calendar days (`timezone`), both included."""

    action: str | None = None
    #: A member: events they did, and events about their account or their membership.
    user_id: int | None = None
    membership_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    timezone: str = "UTC"


def _day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(), zone(timezone)).astimezone(UTC)


def events_query(collective_id: int, member_users: sa.Select, wanted: AuditFilter) -> sa.Select:
    """The collective's events that match `wanted`, newest first; `member_users` selects the
    user ids of the collective's members, whose account-level events it shows."""
    query = sa.select(AuditEvent).where(sa.or_(
        AuditEvent.collective_id == collective_id,
        sa.and_(AuditEvent.collective_id.is_(None), AuditEvent.subject_type == "user",
                AuditEvent.subject_id.in_(member_users.scalar_subquery()))))
    if wanted.action:
        query = query.where(AuditEvent.action == wanted.action)
    if wanted.user_id is not None:
        about = [AuditEvent.actor_user_id == wanted.user_id,
                 sa.and_(AuditEvent.subject_type == "user",
                         AuditEvent.subject_id == wanted.user_id)]
        if wanted.membership_id is not None:
            about.append(sa.and_(AuditEvent.subject_type == "membership",
                                 AuditEvent.subject_id == wanted.membership_id))
        query = query.where(sa.or_(*about))
    if wanted.date_from is not None:
        query = query.where(AuditEvent.occurred_at >= _day_start(wanted.date_from,
                                                                 wanted.timezone))
    if wanted.date_to is not None:
        query = query.where(AuditEvent.occurred_at < _day_start(
            wanted.date_to + timedelta(days=1), wanted.timezone))
    return query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


def events_page(collective_id: int, member_users: sa.Select, wanted: AuditFilter, *,
                limit: int, offset: int = 0) -> list[AuditEvent]:
    """One page of the matching events, newest first (ask for one more than a page to know
    whether another follows)."""
    query = events_query(collective_id, member_users, wanted).limit(limit).offset(offset)
    return list(db.session.scalars(query))


def details_of(event: AuditEvent) -> dict:
    """An event's details as a dict (empty if the text is somehow not a JSON object)."""
    try:
        details = json.loads(event.details or "{}")
    except ValueError:
        return {}
    return details if isinstance(details, dict) else {}


def csv_chunks(collective_id: int, member_users: sa.Select, wanted: AuditFilter,
               names: Mapping[int, str]) -> Iterator[str]:
    """Every matching event as CSV text in chunks, newest first; `names` names the actors.
    Each text cell is made safe from spreadsheet formulas (web/formatting.safe_text)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    query = events_query(collective_id, member_users, wanted).execution_options(
        yield_per=CSV_BATCH)
    for count, event in enumerate(db.session.scalars(query), start=1):
        actor = names.get(event.actor_user_id, "") if event.actor_user_id else ""
        writer.writerow([
            event.occurred_at.astimezone(UTC).isoformat(), event.action,
            action_label(event.action), event.actor_user_id or "", safe_text(actor),
            event.subject_type or "", event.subject_id or "", safe_text(event.details),
            safe_text(event.ip or ""), safe_text(event.user_agent or "")])
        if count % CSV_BATCH == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
