"""Work-pool test data built through the real services: clients, pitches, work in progress."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from collective.members.models import Membership
from collective.pool import allocation, clients, pitches, rules, time
from collective.pool.models import Allocation, Client, Pitch, PitchState

#: The day the tests pretend it is; every service gets it as `today=` / `now=`.
TODAY = date(2026, 10, 10)
NOW = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)
#: When the founding share rule starts.
FOUNDED_ON = date(2026, 1, 1)

_seq = itertools.count(1)

#: The happy path from an open pitch to each state.
PATH: dict[PitchState, tuple[PitchState, ...]] = {
    PitchState.OPEN: (),
    PitchState.PITCHED: (PitchState.PITCHED,),
    PitchState.WON: (PitchState.PITCHED, PitchState.WON),
    PitchState.IN_PROGRESS: (PitchState.PITCHED, PitchState.WON, PitchState.IN_PROGRESS),
    PitchState.DELIVERED: (PitchState.PITCHED, PitchState.WON, PitchState.IN_PROGRESS,
                           PitchState.DELIVERED),
    PitchState.INVOICED: (PitchState.PITCHED, PitchState.WON, PitchState.IN_PROGRESS,
                          PitchState.DELIVERED, PitchState.INVOICED),
    PitchState.PAID: (PitchState.PITCHED, PitchState.WON, PitchState.IN_PROGRESS,
                      PitchState.DELIVERED, PitchState.INVOICED, PitchState.PAID),
    PitchState.LOST: (PitchState.PITCHED, PitchState.LOST),
    PitchState.CANCELLED: (PitchState.CANCELLED,),
}


def make_client(coordinator: Membership, name: str | None = None) -> Client:
    return clients.create_client(coordinator, name=name or f"Client {next(_seq)}",
                                 country="NZ")


def make_pitch(coordinator: Membership, *, client: Client | None = None,
               finder: Membership | None = None, title: str = "Website rebuild",
               required_skills: dict[str, int] | None = None) -> Pitch:
    """An open pitch worth 5,000.00 in the collective's base currency."""
    client = client or make_client(coordinator)
    return pitches.create_pitch(
        coordinator, client_id=client.id, title=title, value_amount=500_000,
        value_currency=coordinator.collective.base_currency,
        required_skills=required_skills, finder_id=finder.id if finder else None,
        today=TODAY, at=NOW)


def move_to(coordinator: Membership, pitch: Pitch, state: PitchState) -> Pitch:
    """Drive an open pitch along the happy path to `state`.

    Work that must be allocated before it starts gets the coordinator as lead, unless
    someone is allocated already.
    """
    for step in PATH[state]:
        if step == PitchState.IN_PROGRESS and not pitch.allocations:
            allocation.allocate_member(coordinator, pitch, membership_id=coordinator.id,
                                       role="lead")
        # Ends need a reason.
        note = f"test: {step.label}" if step in (PitchState.LOST, PitchState.CANCELLED) else ""
        pitches.transition_pitch(coordinator, pitch, step, note=note, at=NOW)
    assert pitch.state == state.value
    return pitch


def allocate(coordinator: Membership, pitch: Pitch, member: Membership, *,
             role: str = "contributor", weight: int = 1) -> Allocation:
    return allocation.allocate_member(coordinator, pitch, membership_id=member.id, role=role,
                                      weight=weight)


def log(member: Membership, allocation: Allocation, minutes: int,
        worked_on: date = date(2026, 10, 1)):
    return time.log_time(member, allocation, worked_on=worked_on, minutes=minutes,
                             today=TODAY)


def found_rule(treasurer: Membership, common_fund_bp: int = 1000, finder_fee_bp: int = 500,
               method: str = "hours", effective_on: date = FOUNDED_ON):
    """The collective's founding share rule (10% fund, 5% finder, rest by hours)."""
    return rules.set_founding_rule(
        treasurer, rules.terms_from(common_fund_bp, finder_fee_bp, method),
        effective_on=effective_on, today=TODAY)
