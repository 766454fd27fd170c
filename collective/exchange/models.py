"""The exchange_rates table: one reference rate per currency pair and day."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, utcnow


class ExchangeRate(db.Model):
    """How many units of `quote` one unit of `base` was worth on `as_of` (a reference
    rate, e.g. the ECB's), kept exactly as the decimal text it was given in."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        sa.UniqueConstraint("base", "quote", "as_of"),
        sa.CheckConstraint("base <> quote", name="two_currencies"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: ISO 4217 code of the currency one unit of which the rate prices.
    base: so.Mapped[str] = so.mapped_column(sa.String(3), nullable=False)
    #: ISO 4217 code the rate is given in.
    quote: so.Mapped[str] = so.mapped_column(sa.String(3), nullable=False)
    #: The rate as decimal text ('1.0842'): exact on every database, never a float.
    rate_text: so.Mapped[str] = so.mapped_column(sa.String(40), nullable=False)
    #: The day the rate is for; it stands until a later one is set.
    as_of: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    #: Where it came from: 'cli', or the name of the file it was loaded from.
    source: so.Mapped[str] = so.mapped_column(sa.String(120), nullable=False, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       nullable=False)

    @property
    def rate(self) -> Decimal:
        """The rate as an exact Decimal."""
        return Decimal(self.rate_text)

    def __repr__(self) -> str:
        return f"<ExchangeRate 1 {self.base} = {self.rate_text} {self.quote} on {self.as_of}>"
