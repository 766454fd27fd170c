"""Skills proven by work in the demo: which clients allow naming their work, a weekend
phone-and-chat cover that Grace, Joy and Maria delivered last month and Koala Cafe Group
paid (30, 20 and 10 hours: each credited in customer service and live chat), endorsements
between them, and Grace's published profile. The research sprint Liza delivered for
Brightline Legal, which keeps its work private, is credited by the pool history itself."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from collective.demo.pool import months_ago
from collective.extensions import db
from collective.members.models import Membership
from collective.pool.allocation import allocate_member
from collective.pool.evidence.endorsements import endorse
from collective.pool.evidence.profiles import save_public_profile
from collective.pool.models import Client, PitchState
from collective.pool.payments import record_payment
from collective.pool.pitches import create_pitch, transition_pitch
from collective.pool.time import log_time

#: Clients that let members name the work they did for them on their profiles.
NAMEABLE = ("Harbour Dental", "Oakfield Publishing", "Koala Cafe Group")


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def load_skill_evidence(people: dict[str, Membership], today: date) -> None:
    """Credited skills, endorsements and a public profile for the demo collective."""
    maria, grace, joy = people["maria"], people["grace"], people["joy"]
    cid = maria.collective_id
    db.session.execute(sa.update(Client).where(Client.collective_id == cid,
                                               Client.name.in_(NAMEABLE))
                       .values(is_naming_allowed=True))
    koala = db.session.scalar(sa.select(Client).filter_by(collective_id=cid,
                                                          name="Koala Cafe Group"))
    last_month = months_ago(today, 1)
    begun = months_ago(today, 2)
    cover = create_pitch(
        maria, client_id=koala.id, title="Weekend phone and chat cover", value_amount=1_200_00,
        value_currency="AUD", estimated_hours=60, required_skills={"customer service": 4,
                                                                   "live chat": 4},
        description="Orders, bookings and complaints for six cafes, four weekends.",
        today=begun, at=_at(begun))
    for i, state in enumerate((PitchState.PITCHED, PitchState.WON)):
        transition_pitch(maria, cover, state, at=_at(begun + timedelta(days=i)))
    team = [(grace, "lead", 30), (joy, "contributor", 20), (maria, "contributor", 10)]
    work = {m.id: allocate_member(maria, cover, membership_id=m.id, role=role,
                                  weekly_hours=hours // 4)
            for m, role, hours in team}
    transition_pitch(maria, cover, PitchState.IN_PROGRESS, at=_at(begun + timedelta(days=3)))
    for member, _, hours in team:
        for weekend in range(4):  # a quarter of the hours each weekend of last month
            log_time(member, work[member.id], worked_on=last_month + timedelta(days=7 * weekend),
                     minutes=hours * 15, note="weekend cover", today=today)
    delivered_on = last_month + timedelta(days=24)
    transition_pitch(maria, cover, PitchState.DELIVERED, at=_at(delivered_on))
    record_payment(maria, cover, amount=1_200_00, currency="AUD", rate=Decimal("0.6551"),
                   received_on=delivered_on + timedelta(days=2), reference="KCG-0412",
                   today=today)
    at = _at(delivered_on + timedelta(days=3), 14)
    for giver, receiver, skill, note in [
        (maria, grace, "live chat", "Ran the Saturday rush on three chats at once and kept "
                                    "every reply under two minutes."),
        (joy, grace, "customer service", "Turned two refund complaints into regulars; her "
                                         "handover notes made Sunday easy."),
        (grace, joy, "customer service", "Calm with upset callers, and every booking she "
                                         "took was right first time."),
        (maria, joy, "live chat", "Picked up chat on her first weekend without a slip."),
    ]:
        endorse(giver, cover, receiver_id=receiver.id, skill=skill, note=note, at=at)
    save_public_profile(grace, skills=["customer service", "live chat"], publish=True, at=at)
