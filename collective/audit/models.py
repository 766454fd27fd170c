"""The audit log's one table: append-only (guarded by database triggers from migration
0028_audit_log on)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, utcnow


class AuditEvent(db.Model):
    """Something someone did (or tried to do) that the treasurers may need to look back on."""

    __tablename__ = "audit_events"
    __table_args__ = (
        # The page: one collective's events, newest first.
        sa.Index("ix_audit_events_collective_time", "collective_id", "occurred_at"),
        # Account-level events of a collective's members, and the member filter.
        sa.Index("ix_audit_events_subject", "subject_type", "subject_id"),
    )
    #: database.py lets a read (a GET's download) insert these, and nothing else.
    is_written_in_reads = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    occurred_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                        nullable=False)
    #: The collective it happened in; empty for account-level events (sign-ins, passwords).
    collective_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("collectives.id"), nullable=True)
    #: The signed-in account that acted; empty for the scheduler, the CLI, a failed sign-in.
    actor_user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id"), index=True, nullable=True)
    #: A code from audit/actions.py, e.g. 'membership.role_changed'.
    action: so.Mapped[str] = so.mapped_column(sa.String(40), index=True, nullable=False)
    #: What it was done to: a table's singular name ('membership', 'user') and its row id.
    subject_type: so.Mapped[str | None] = so.mapped_column(sa.String(40), nullable=True)
    subject_id: so.Mapped[int | None] = so.mapped_column(sa.Integer, nullable=True)
    #: A small JSON object of facts (never a password, token or secret).
    details: so.Mapped[str] = so.mapped_column(sa.Text, nullable=False, default="{}")
    #: The client's address (request.remote_addr, behind ProxyFix) and its user agent.
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(45), nullable=True)
    user_agent: so.Mapped[str | None] = so.mapped_column(sa.String(200), nullable=True)

    def __repr__(self) -> str:
        return (f"<AuditEvent {self.id} {self.action} collective={self.collective_id} "
                f"actor={self.actor_user_id} {self.subject_type}:{self.subject_id}>")
