"""The scale demo's work (collective/demo/scale.py): pitches planned over the months, and
written with their skills, allocations, volunteers and state history."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy as sa

from collective.benefits.compute import add_months
from collective.demo.bulk import Bulk
from collective.extensions import db, utcnow
from collective.pool.models import (
    Allocation,
    Pitch,
    PitchEvent,
    PitchSkill,
    PitchState,
    Volunteer,
)

if TYPE_CHECKING:
    from collective.demo.scale import People

S = PitchState
#: The day of the month clients pay; hours are logged on earlier days.
PAY_DAY = 28
WORK_TITLES = ["Customer support retainer", "Bookkeeping retainer", "Content calendar",
               "Research assistant", "Live-chat cover", "Social media management",
               "Data entry backlog", "Newsletter writing", "Payroll processing",
               "Transcription batch", "Translation of the handbook", "QA test rounds"]


def at(day: date, hour: int = 9) -> datetime:
    """That day at `hour` o'clock, UTC."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


@dataclass
class Pitches:
    """The planned work: one row per pitch, with the months it is worked and paid."""

    client: np.ndarray
    created: np.ndarray      # month index the pitch came in
    #: PitchState values: where each pitch ends up.
    state: list[PitchState]
    #: First and last month worked and paid (inclusive); -1 for work never done.
    first: np.ndarray
    last: np.ndarray
    monthly: np.ndarray      # what the client pays a month, minor units of its currency
    finder: np.ndarray       # position of the finder in People, or -1
    #: [(member position, weight, weekly hours)] per pitch, the lead first.
    team: list[list[tuple[int, int, int]]]
    clients: list[tuple[int, str, str]]
    people: People
    ids: list[int] | None = None
    allocation_ids: list[list[int]] | None = None

    @classmethod
    def plan(cls, people: People, clients: list[tuple[int, str, str]], months: int,
             rng: np.random.Generator) -> Pitches:
        """About 0.3 pitches per member over the months; three in four won, most of those
        worked for months on end (retainers) and paid monthly."""
        count = max(3, round(0.3 * len(people.ids)))
        created = rng.integers(0, months, count)
        outcome = rng.random(count)
        duration = rng.integers(1, 13, count)
        active = np.flatnonzero(people.is_active)
        state, first, last, team = [], [], [], []
        for p in range(count):
            start, end = int(created[p]), -1
            if created[p] == months - 1 and outcome[p] < 0.5:
                state.append(S.OPEN if outcome[p] < 0.2 else S.PITCHED)
            elif outcome[p] < 0.2:
                state.append(S.LOST)
            elif outcome[p] < 0.25:
                state.append(S.CANCELLED)
            else:
                end = start + int(duration[p]) - 1
                state.append(S.PAID if end <= months - 1 else S.IN_PROGRESS)
                end = min(end, months - 1)
            first.append(start if end >= 0 else -1)
            last.append(end)
            size = int(rng.integers(1, 5)) if end >= 0 else 0
            chosen = rng.choice(active, size, replace=False) if size else []
            team.append([(int(m), int(rng.integers(1, 4)), int(rng.integers(3, 11)))
                         for m in chosen])
        has_finder = rng.random(count) < 0.6
        finders = np.where(has_finder, rng.choice(active, count), -1)
        return cls(client=rng.integers(0, len(clients), count), created=created, state=state,
                   first=np.array(first), last=np.array(last),
                   monthly=rng.integers(8, 61, count) * 100_00, finder=finders, team=team,
                   clients=clients, people=people)

    def currency(self, p: int) -> str:
        """The currency pitch `p` is paid in: its client's."""
        return self.clients[int(self.client[p])][2]

    def write(self, collective_id: int, start: date, bulk: Bulk) -> None:
        """The pitches, their skills, allocations, volunteers and state history, in bulk."""
        from collective.demo.scale import SKILLS

        people = self.people
        coordinator = people.coordinator.id
        rows, events = [], []
        for p, state in enumerate(self.state):
            month = add_months(start, int(self.created[p]))
            worked = max(0, int(self.last[p]) - int(self.first[p]) + 1)
            hours = sum(weekly for _, _, weekly in self.team[p]) * 4 * max(worked, 1)
            rows.append({
                "collective_id": collective_id, "client_id": self.clients[self.client[p]][0],
                "title": f"{WORK_TITLES[p % len(WORK_TITLES)]} #{p + 1}",
                "description": "Monthly work for the client, paid at the end of each month.",
                "estimated_hours": hours, "value_amount": int(self.monthly[p]) * max(worked, 1),
                "value_currency": self.currency(p),
                "deadline_on": month + timedelta(days=30 * max(worked, 1)),
                "finder_id": (int(people.ids[self.finder[p]]) if self.finder[p] >= 0
                              else None),
                "state": state.value, "version": 1, "created_at": at(month)})
        self.ids = bulk.ids(Pitch, rows)
        skills, allocations, volunteers = [], [], []
        for p, pitch_id in enumerate(self.ids):
            for k, skill in enumerate({SKILLS[(p * 7 + j * 3) % len(SKILLS)] for j in range(2)}):
                skills.append({"pitch_id": pitch_id, "name": skill, "level": 2 + (p + k) % 3})
            for k, (member, weight, weekly) in enumerate(self.team[p]):
                allocations.append({
                    "pitch_id": pitch_id, "membership_id": int(people.ids[member]),
                    "role": "lead" if k == 0 else "contributor", "weight": weight,
                    "weekly_hours": weekly,
                    "created_at": at(add_months(start, int(self.first[p])) + timedelta(4))})
            if self.state[p] in (S.OPEN, S.PITCHED):
                for member in {int(people.ids[(p * 13 + j * 31) % len(people.ids)])
                               for j in range(p % 3)}:
                    volunteers.append({"pitch_id": pitch_id, "membership_id": member,
                                       "note": "Happy to help", "created_at": utcnow()})
            events += self._events(p, pitch_id, add_months(start, int(self.created[p])),
                                   add_months(start, max(int(self.last[p]), 0)), coordinator)
        bulk.rows(PitchSkill, skills)
        ids = iter(bulk.ids(Allocation, allocations))
        self.allocation_ids = [[next(ids) for _ in team] for team in self.team]
        bulk.rows(Volunteer, volunteers)
        bulk.rows(PitchEvent, events)
        versions = defaultdict(int)
        for event in events:
            versions[event["pitch_id"]] += 1
        db.session.execute(sa.update(Pitch), [{"id": pitch_id, "version": version}
                                             for pitch_id, version in versions.items()])

    def _events(self, p: int, pitch_id: int, created: date, ended: date, actor: int
                ) -> list[dict]:
        """The pitch's history: created, then each move to where it ends up."""
        state = self.state[p]
        path = {S.OPEN: [], S.PITCHED: [S.PITCHED], S.LOST: [S.PITCHED, S.LOST],
                S.CANCELLED: [S.CANCELLED], S.IN_PROGRESS: [S.PITCHED, S.WON, S.IN_PROGRESS],
                S.PAID: [S.PITCHED, S.WON, S.IN_PROGRESS, S.DELIVERED, S.INVOICED,
                         S.PAID]}[state]
        notes = {S.LOST: "The client chose another supplier",
                 S.CANCELLED: "The client hired in-house"}
        rows = [{"pitch_id": pitch_id, "from_state": None, "to_state": S.OPEN.value,
                 "actor_id": actor, "at": at(created), "note": ""}]
        before = S.OPEN
        for k, after in enumerate(path):
            day = (ended + timedelta(days=PAY_DAY - 1 + k // 5)
                   if after in (S.DELIVERED, S.INVOICED, S.PAID) else created + timedelta(k))
            rows.append({"pitch_id": pitch_id, "from_state": before.value,
                         "to_state": after.value, "actor_id": actor, "at": at(day, 10 + k),
                         "note": notes.get(after, "")})
            before = after
        return rows
