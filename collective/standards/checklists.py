"""Delivery checklists: coordinators define one per kind of work; marking work delivered
ticks its items against a snapshot of them; a second member confirms the items that need
one; a delivery meets its checklist once every item is done."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.errors import DomainError, NotFound
from collective.extensions import db
from collective.members.models import Membership, MembershipStatus, Role
from collective.members.services import require_role
from collective.pool.checks import get_in, same_collective
from collective.pool.models import Pitch, PitchState
from collective.pool.pitches import transition_pitch
from collective.standards.models import Checklist, ChecklistItem, Delivery, DeliveryItem

#: The most items a checklist has, and the most checklists a collective keeps.
MAX_ITEMS = 20
MAX_CHECKLISTS = 50
#: A line of the items' text that starts with this needs a second member.
SECOND_MARK = "+"


def parse_items(text: str) -> list[tuple[str, bool]]:
    """Items from text, one a line; a line starting with '+' needs a second member."""
    items = []
    for line in (text or "").splitlines():
        line = " ".join(line.split())
        second = line.startswith(SECOND_MARK)
        label = line[len(SECOND_MARK):].strip() if second else line
        if label:
            items.append((label, second))
    return items


def items_text(checklist: Checklist) -> str:
    """A checklist's items as the form's text shows them."""
    return "\n".join((f"{SECOND_MARK} " if i.is_second_member else "") + i.label
                     for i in checklist.items)


def _clean(kind: str, items: Sequence[tuple[str, bool]]) -> tuple[str, list[tuple[str, bool]]]:
    kind = " ".join((kind or "").split())
    if not kind:
        raise DomainError("name the kind of work", field="kind")
    if len(kind) > 80:
        raise DomainError("the kind's name is longer than 80 characters", field="kind")
    if not items:
        raise DomainError("a checklist needs at least one item", field="items")
    if len(items) > MAX_ITEMS:
        raise DomainError(f"a checklist has at most {MAX_ITEMS} items", field="items")
    for label, _ in items:
        if len(label) > 200:
            raise DomainError(f"the item {label[:30]!r}… is longer than 200 characters",
                              field="items")
    if len({label.lower() for label, _ in items}) != len(items):
        raise DomainError("two items say the same", field="items")
    return kind, list(items)


def _kind_taken(collective_id: int, kind: str, but: int | None) -> bool:
    query = sa.select(Checklist.id).where(Checklist.collective_id == collective_id,
                                          sa.func.lower(Checklist.kind) == kind.lower())
    if but is not None:
        query = query.where(Checklist.id != but)
    return db.session.scalar(query.limit(1)) is not None


def create_checklist(actor: Membership, *, kind: str, items: Sequence[tuple[str, bool]]
                     ) -> Checklist:
    """A coordinator defines the checklist of a kind of work."""
    require_role(actor, Role.COORDINATOR, action="define checklists")
    kind, items = _clean(kind, items)
    if _kind_taken(actor.collective_id, kind, None):
        raise DomainError(f"{kind!r} has a checklist already: edit that one", field="kind")
    count = db.session.scalar(sa.select(sa.func.count(Checklist.id))
                              .where(Checklist.collective_id == actor.collective_id))
    if count >= MAX_CHECKLISTS:
        raise DomainError(f"a collective keeps at most {MAX_CHECKLISTS} checklists",
                          field="kind")
    checklist = Checklist(collective_id=actor.collective_id, kind=kind, version=1,
                          is_active=True, items=[
                              ChecklistItem(position=n, label=label, is_second_member=second)
                              for n, (label, second) in enumerate(items, start=1)])
    db.session.add(checklist)
    db.session.flush()
    return checklist


def edit_checklist(actor: Membership, checklist: Checklist, *, kind: str,
                   items: Sequence[tuple[str, bool]], is_active: bool = True) -> Checklist:
    """Change a checklist; a change of its items makes a new version. Deliveries keep the
    items they were checked by."""
    require_role(actor, Role.COORDINATOR, action="edit checklists")
    same_collective(actor, checklist, "checklist")
    kind, items = _clean(kind, items)
    if _kind_taken(actor.collective_id, kind, checklist.id):
        raise DomainError(f"{kind!r} has a checklist already", field="kind")
    if [(i.label, i.is_second_member) for i in checklist.items] != items:
        checklist.items.clear()
        db.session.flush()
        checklist.items.extend(ChecklistItem(position=n, label=label, is_second_member=second)
                               for n, (label, second) in enumerate(items, start=1))
        checklist.version += 1
    checklist.kind, checklist.is_active = kind, is_active
    db.session.flush()
    return checklist


def get_checklist(collective_id: int, checklist_id: int) -> Checklist:
    """A checklist of this collective, or NotFound."""
    return get_in(Checklist, collective_id, checklist_id, "checklist")


def checklists_of(collective_id: int, *, active_only: bool = False) -> list[Checklist]:
    """The collective's checklists by kind, with their items (at most MAX_CHECKLISTS)."""
    query = (sa.select(Checklist).where(Checklist.collective_id == collective_id)
             .options(so.selectinload(Checklist.items)))
    if active_only:
        query = query.where(Checklist.is_active.is_(True))
    return list(db.session.scalars(query.order_by(Checklist.kind).limit(MAX_CHECKLISTS)))


def quarter_of(day: date) -> str:
    """The quarter a day is in, as the report names it: '2026-Q4'."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def deliver_pitch(actor: Membership, pitch: Pitch, *, checklist_id: int | None,
                  ticked: Collection[int] = (), expected_version: int | None = None,
                  note: str = "", today: date, at: datetime) -> Delivery | None:
    """Mark work delivered, with its kind's checklist: the items ticked (by position) are
    done now; those needing a second member wait for one. Without a checklist the work is
    delivered unchecked (None). One move, one delivery: all or nothing."""
    checklist = None
    if checklist_id is not None:
        checklist = get_checklist(actor.collective_id, checklist_id)
        if not checklist.is_active:
            raise DomainError("that checklist is retired; choose another", field="checklist_id")
    transition_pitch(actor, pitch, PitchState.DELIVERED, expected_version=expected_version,
                     note=note, at=at)
    if checklist is None:
        return None
    delivery = Delivery(collective_id=actor.collective_id, pitch_id=pitch.id,
                        checklist_id=checklist.id, kind=checklist.kind,
                        checklist_version=checklist.version, delivered_by_id=actor.id,
                        delivered_on=today, quarter=quarter_of(today), delivered_at=at,
                        items=[DeliveryItem(position=i.position, label=i.label,
                                            is_second_member=i.is_second_member,
                                            is_ticked=(not i.is_second_member
                                                       and i.position in ticked))
                               for i in checklist.items])
    db.session.add(delivery)
    db.session.flush()
    _settle(delivery, at)
    return delivery


def _settle(delivery: Delivery, at: datetime) -> None:
    """Record when the delivery met its checklist, once every item is done."""
    if delivery.met_at is None and all(item.is_done for item in delivery.items):
        delivery.met_at = at
        db.session.flush()


def get_delivery(collective_id: int, delivery_id: int) -> Delivery:
    """A delivery of this collective, or NotFound."""
    return get_in(Delivery, collective_id, delivery_id, "delivery")


def find_delivery(collective_id: int, pitch_id: int) -> Delivery | None:
    """The checked delivery of a pitch of this collective, if it has one."""
    return db.session.scalar(sa.select(Delivery).where(
        Delivery.collective_id == collective_id, Delivery.pitch_id == pitch_id))


def confirm_item(actor: Membership, delivery: Delivery, item_id: int, *, at: datetime
                 ) -> DeliveryItem:
    """A second member confirms an item of a delivery: never the one who delivered it."""
    same_collective(actor, delivery, "delivery")
    item = db.session.get(DeliveryItem, item_id)
    if item is None or item.delivery_id != delivery.id:
        raise NotFound("no such item")
    if not item.is_second_member:
        raise DomainError("this item was ticked at delivery; it needs no second member")
    if actor.id == delivery.delivered_by_id:
        raise DomainError("a second member confirms this: not the one who delivered")
    if actor.status != MembershipStatus.ACTIVE:
        raise DomainError("only an active member can confirm an item")
    updated = db.session.execute(
        sa.update(DeliveryItem).where(DeliveryItem.id == item.id,
                                      DeliveryItem.confirmed_at.is_(None))
        .values(confirmed_by_id=actor.id, confirmed_at=at)
        .execution_options(synchronize_session=False))
    if updated.rowcount != 1:
        db.session.expire(item)
        raise DomainError("someone confirmed this item already")
    db.session.expire(item)
    db.session.expire(delivery, ["items"])
    _settle(delivery, at)
    return item
