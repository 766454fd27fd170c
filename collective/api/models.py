"""The API's tables: personal access tokens, and the idempotency keys of money writes."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, utcnow
from collective.members.models import Collective, User


class ApiToken(db.Model):
    """A personal access token: a script acts as its user, with the user's roles."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True,
                                               nullable=False)
    #: The one collective the token may reach; empty: every collective of its user.
    collective_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("collectives.id"), nullable=True)
    #: What the user called it ("bookkeeping sync").
    name: so.Mapped[str] = so.mapped_column(sa.String(80), nullable=False)
    #: sha256 (hex) of the whole secret; the secret itself is shown once and never kept.
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True, nullable=False)
    #: The secret's first characters ("col_AbC1"), so the user can tell tokens apart.
    prefix: so.Mapped[str] = so.mapped_column(sa.String(12), nullable=False)
    #: A read-only token may only GET.
    is_read_only: so.Mapped[bool] = so.mapped_column(sa.Boolean, nullable=False,
                                                     default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       nullable=False)
    #: After this instant the token is refused; empty: it never expires.
    expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    #: The last request it made, recorded at most once a minute.
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)

    user: so.Mapped[User] = so.relationship()
    collective: so.Mapped[Collective | None] = so.relationship()

    def is_usable(self, now: datetime) -> bool:
        """Neither revoked nor expired at `now`."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}… user={self.user_id}>"


class IdempotencyKey(db.Model):
    """The first answer to a money write sent with an Idempotency-Key header, kept 24 hours
    so the same request again gets the same answer and posts nothing new."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (
        # One answer per (token, key), enforced by the database: of two requests sent at
        # once with one key, the second waits for the first and then finds its answer.
        sa.UniqueConstraint("token_id", "key"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    token_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("api_tokens.id"), nullable=False)
    #: The client's Idempotency-Key header, as sent.
    key: so.Mapped[str] = so.mapped_column(sa.String(255), nullable=False)
    #: sha256 (hex) of the method, path and JSON body: the same key with another request is
    #: a conflict.
    fingerprint: so.Mapped[str] = so.mapped_column(sa.String(64), nullable=False)
    #: The first answer's status and JSON body.
    status_code: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    response_body: so.Mapped[str] = so.mapped_column(sa.Text, nullable=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       nullable=False)
    #: After this the key is forgotten (purged by the scheduler, or replaced on use).
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), index=True,
                                                       nullable=False)

    def __repr__(self) -> str:
        return f"<IdempotencyKey {self.id} token={self.token_id} {self.key!r}>"
