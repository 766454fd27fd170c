"""Allocation suggestions agree with a straightforward reference computed from the ORM."""
from __future__ import annotations

import random
from datetime import date

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import Posting
from collective.members import accounts
from collective.members import services as members
from collective.members.models import Membership, MembershipStatus
from collective.pool import allocation, compute, payments, pitches
from collective.pool.checks import FAIRNESS_WINDOW
from collective.pool.models import ACTIVE_STATES, Allocation, PitchState
from tests.factories import make_collective, make_member
from tests.pool.factories import NOW, TODAY, found_rule, make_client, make_pitch, move_to

SKILLS = ["design", "copywriting", "research", "bookkeeping", "editing"]
REQUIRED = {"design": 4, "copywriting": 3}


def reference(pitch, today: date) -> list[tuple]:
    """The ranking computed member by member from the ORM, the obvious way: (membership_id,
    score, free hours, earned, volunteer, matched skills), best first."""
    allocated = {a.membership_id for a in pitch.allocations}
    volunteers = {v.membership_id for v in pitches.volunteers_of(pitch)}
    required = {s.name: s.level for s in pitch.required_skills}
    rows = []
    for m in db.session.scalars(sa.select(Membership).filter_by(
            collective_id=pitch.collective_id)):
        if m.status != MembershipStatus.ACTIVE or m.id in allocated:
            continue
        skills = sorted(m.user.skills, key=lambda s: s.id)
        levels = {s.name: s.level for s in skills}
        fit = sum(min(levels.get(n, 0) / need, 1.0) for n, need in required.items()) / len(
            required)
        label = ", ".join(f"{s.name} {s.level}" for s in skills if s.name in required)
        load = sum(a.weekly_hours for a in db.session.scalars(
            sa.select(Allocation).filter_by(membership_id=m.id))
            if a.pitch.pitch_state in ACTIVE_STATES)
        earned = 0
        account = ledger.member_account(m.id)
        for posting in db.session.scalars(sa.select(Posting).filter_by(account_id=account.id)):
            entry = posting.entry
            kind = entry.reverses.kind if entry.reverses is not None else entry.kind
            if kind == "payment" and today - FAIRNESS_WINDOW <= entry.occurred_on <= today:
                earned -= posting.amount
        rows.append([m.id, fit, max(m.weekly_capacity_hours - load, 0), earned,
                     m.id in volunteers, label])
    most_free = max(r[2] for r in rows)
    most_earned = max(r[3] for r in rows)
    for r in rows:
        mid, fit, free, earned, vol, _ = r
        score = (compute.SKILL_POINTS * fit
                 + compute.CAPACITY_POINTS * (free / most_free if most_free > 0 else 0.0)
                 + compute.FAIRNESS_POINTS * (1 - earned / most_earned if most_earned > 0
                                              else 1.0)
                 + compute.VOLUNTEER_BONUS * vol)
        r.append(round(score))
    rows.sort(key=lambda r: (-r[6], -r[1], -r[2], r[0]))
    return [(r[0], r[6], r[2], r[3], r[4], r[5]) for r in rows]


def ranked_rows(frame) -> list[tuple]:
    return [(int(r.membership_id), int(r.score), int(r.free_hours), int(r.earned),
             bool(r.volunteer), r.skills) for r in frame.itertuples(index=False)]


@pytest.fixture
def world(ctx):
    """A collective of 30 members with random skills and capacity, some paused, some busy
    on paid work (payments inside and outside the fairness window, one reversed), and a
    won pitch needing design and copywriting, with volunteers and one member on it."""
    rng = random.Random(13)
    founder = make_collective()
    collective = founder.collective
    crew = [make_member(collective, hours=rng.randint(5, 40)) for _ in range(30)]
    for member in [founder, *crew]:
        chosen = rng.sample(SKILLS, rng.randint(0, 3))
        accounts.update_profile(member.user, name=member.user.name, timezone="UTC",
                                country=None, skills={s: rng.randint(1, 5) for s in chosen})
    found_rule(founder)
    client = make_client(founder)
    busy = make_pitch(founder, client=client, title="Busy")
    move_to(founder, busy, PitchState.WON)
    for member in crew[::3]:
        allocation.allocate_member(founder, busy, membership_id=member.id,
                                   weight=rng.randint(1, 4),
                                   weekly_hours=rng.randint(0, 12))
    pitches.transition_pitch(founder, busy, PitchState.IN_PROGRESS, at=NOW)
    paid = []
    for on in (date(2026, 6, 1), date(2026, 7, 20), date(2026, 9, 1), date(2026, 10, 2)):
        paid.append(payments.record_payment(founder, busy, amount=rng.randint(5_000, 90_000),
                                            currency="USD", received_on=on, today=TODAY))
    payments.reverse_payment(founder, paid[2])
    for member in crew[4:8]:
        members.set_status(founder, member, "paused")
    target = make_pitch(founder, client=client, title="Target", required_skills=REQUIRED)
    for member in (crew[1], crew[2], crew[10]):
        pitches.volunteer_for(member, target)
    move_to(founder, target, PitchState.WON)
    allocation.allocate_member(founder, target, membership_id=crew[1].id)
    db.session.flush()
    return target


def test_suggestions_equal_a_member_by_member_reference(world):
    expected = reference(world, TODAY)

    everyone = allocation.suggest_members(world, TODAY, limit=None)
    top = allocation.suggest_members(world, TODAY)

    assert ranked_rows(everyone) == expected
    assert ranked_rows(top) == expected[:20]
    assert len(expected) == 30 + 1 - 4 - 1   # founder and crew, less paused and allocated
    assert any(row[3] > 0 for row in expected)   # some earned in the window
    assert any(row[4] for row in expected)   # a volunteer is among them
    assert any(row[5] for row in expected) and any(not row[5] for row in expected)


def test_the_reference_notices_a_wrong_ranking(world):
    expected = reference(world, TODAY)
    # Eight months on, no payment is in the fairness window: the scores change.
    later = reference(world, date(2027, 6, 1))

    assert ranked_rows(allocation.suggest_members(world, TODAY, limit=None)) != later
    assert expected != later
