"""What each browser flow starts from, built through the real services (never the pages
under test): a collective of its own with its people, and where a flow needs it, work, hours
and money. Run inside the `seed` fixture, which commits."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from collective.clock import now_utc, today_in
from collective.extensions import db
from collective.members import accounts, services
from collective.members.models import Membership, Role
from collective.pool.allocation import allocate_member
from collective.pool.clients import create_client
from collective.pool.models import Pitch, PitchState
from collective.pool.pitches import create_pitch, transition_pitch
from collective.pool.rules import set_founding_rule, terms_from
from collective.pool.time import log_time

#: Every seeded person signs in with this.
PASSWORD = "correct horse battery"
_seq = itertools.count(1)
M, C, T = Role.MEMBER, Role.COORDINATOR, Role.TREASURER


def today() -> date:
    """Today where the seeded collectives live (UTC)."""
    return today_in("UTC", now_utc())


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


@dataclass
class Crew:
    """A seeded collective: its slug, and each person's e-mail and membership id by name."""

    slug: str
    emails: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    pitches: dict[str, int] = field(default_factory=dict)

    def member(self, name: str) -> Membership:
        return db.session.get(Membership, self.ids[name])

    def pitch(self, key: str) -> Pitch:
        return db.session.get(Pitch, self.pitches[key])


def crew(tag: str, people: dict[str, tuple[set[Role], dict[str, int]]]) -> Crew:
    """A collective named after `tag`; the first person founds it (and holds every role),
    the others join with their roles and skills."""
    n = next(_seq)
    slug = f"{tag}-{n}".lower()
    result = Crew(slug=slug)
    founder = None
    for name, (roles, skills) in people.items():
        email = f"{name}.{slug}@example.test"
        # Seeded people have confirmed their address, as the demo's have.
        user = accounts.register_user(email, f"{name.capitalize()} {tag.title()}{n}", PASSWORD,
                                      confirmed_at=now_utc())
        if skills:
            accounts.update_profile(user, name=user.name, timezone="UTC", country=None,
                                    skills=skills)
        if founder is None:
            membership = founder = services.create_collective(
                user, name=f"{tag.title()} Collective {n}", slug=slug, base_currency="USD",
                timezone="UTC")
        else:
            membership = services.add_member(founder.collective, user, roles,
                                             weekly_capacity_hours=20)
        result.emails[name] = email
        result.ids[name] = membership.id
    db.session.flush()
    return result


def founding_rule(crew: Crew, by: str, common_fund_bp: int = 1000, method: str = "hours"
                  ) -> None:
    """The collective's founding share rule, in force since last month."""
    start = today().replace(day=1) - timedelta(days=1)
    set_founding_rule(crew.member(by), terms_from(common_fund_bp, 0, method),
                      start.replace(day=1), today=today())


def work(crew: Crew, key: str, by: str, title: str, *, value: int = 1_000_00,
         state: PitchState = PitchState.OPEN, team: dict[str, int] | None = None,
         skills: dict[str, int] | None = None) -> Pitch:
    """A pitch for a client of its own, moved to `state`, with `team` (name: weight)
    allocated once it is won."""
    coordinator = crew.member(by)
    client = create_client(coordinator, name=f"Client of {title}", country="US")
    day = today() - timedelta(days=10)
    pitch = create_pitch(coordinator, client_id=client.id, title=title, value_amount=value,
                         value_currency="USD", required_skills=skills or {},
                         estimated_hours=20, today=day, at=at(day))
    path = {PitchState.OPEN: [], PitchState.PITCHED: [PitchState.PITCHED],
            PitchState.WON: [PitchState.PITCHED, PitchState.WON],
            PitchState.IN_PROGRESS: [PitchState.PITCHED, PitchState.WON,
                                     PitchState.IN_PROGRESS]}[state]
    for i, step in enumerate(path):
        if step == PitchState.IN_PROGRESS:
            for name, weight in (team or {}).items():
                allocate_member(coordinator, pitch, membership_id=crew.ids[name],
                                weight=weight, weekly_hours=5)
        transition_pitch(coordinator, pitch, step, at=at(day + timedelta(days=i)))
    db.session.flush()
    crew.pitches[key] = pitch.id
    return pitch


def hours(crew: Crew, key: str, name: str, logged: float, days_ago: int = 3) -> None:
    """`name` logs `logged` hours on the pitch `key`."""
    pitch = crew.pitch(key)
    allocation = next(a for a in pitch.allocations if a.membership_id == crew.ids[name])
    log_time(crew.member(name), allocation, worked_on=today() - timedelta(days=days_ago),
             minutes=int(logged * 60), note="seeded", today=today())
