"""The read side of standards: deliveries waiting for a second member, a delivery with its
items, and the share of deliveries per kind that met their checklist, per quarter."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import db
from collective.members.models import Membership
from collective.pool.models import Pitch
from collective.standards.checklists import quarter_of
from collective.standards.models import Delivery, DeliveryItem

#: Quarters the report covers, this one included; kinds are at most the checklists'.
REPORT_QUARTERS = 4
#: Deliveries waiting for a second member that a page lists.
WAITING_SHOWN = 30


def waiting_for_second(collective_id: int, *, limit: int = WAITING_SHOWN
                       ) -> list[tuple[Delivery, str]]:
    """Deliveries with an item a second member has not confirmed yet, oldest first, with
    their work's title."""
    waiting = (sa.select(DeliveryItem.delivery_id)
               .where(DeliveryItem.is_second_member.is_(True),
                      DeliveryItem.confirmed_at.is_(None)))
    rows = db.session.execute(
        sa.select(Delivery, Pitch.title).join(Pitch, Pitch.id == Delivery.pitch_id)
        .where(Delivery.collective_id == collective_id, Delivery.id.in_(waiting))
        .options(so.joinedload(Delivery.delivered_by).joinedload(Membership.user))
        .order_by(Delivery.delivered_at, Delivery.id).limit(limit))
    return [(delivery, title) for delivery, title in rows]


def delivery_items(delivery: Delivery) -> list[DeliveryItem]:
    """A delivery's items, with who confirmed each."""
    return list(db.session.scalars(
        sa.select(DeliveryItem).where(DeliveryItem.delivery_id == delivery.id)
        .options(so.joinedload(DeliveryItem.confirmed_by).joinedload(Membership.user))
        .order_by(DeliveryItem.position)))


@dataclass(frozen=True)
class KindQuarter:
    """How the deliveries of one kind of work in one quarter did against their checklist."""

    quarter: str
    kind: str
    deliveries: int
    met: int

    @property
    def share(self) -> int:
        """The share that met their checklist, in whole percent (rounded half up)."""
        return (200 * self.met + self.deliveries) // (2 * self.deliveries)


def percent(value: int) -> str:
    """A share as the chart writes it at the end of its bar: '75% met'."""
    return f"{value}% met"


def first_quarter(today: date, quarters: int = REPORT_QUARTERS) -> str:
    """The earliest quarter of a report of `quarters` quarters ending with today's."""
    index = today.year * 4 + (today.month - 1) // 3 - (quarters - 1)
    return f"{index // 4}-Q{index % 4 + 1}"


def checklist_shares(collective_id: int, today: date, *, quarters: int = REPORT_QUARTERS
                     ) -> list[KindQuarter]:
    """Per quarter (the last `quarters`, oldest first) and kind of work: the deliveries
    made against a checklist, and how many met it (as of now). One grouped query."""
    rows = db.session.execute(
        sa.select(Delivery.quarter, Delivery.kind, sa.func.count(Delivery.id),
                  sa.func.count(Delivery.met_at))
        .where(Delivery.collective_id == collective_id,
               Delivery.quarter >= first_quarter(today, quarters),
               Delivery.quarter <= quarter_of(today))
        .group_by(Delivery.quarter, Delivery.kind)
        .order_by(Delivery.quarter, Delivery.kind).limit(quarters * 60))
    return [KindQuarter(q, kind, n, met) for q, kind, n, met in rows]
