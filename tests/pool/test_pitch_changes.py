"""Changing a pitch after the fact, on a real database: ends with a reason, reopening,
editing its details (kept in its history), editing clients, and the governance details
(suggestions without the members already on the work, deadlines in the past)."""
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from collective.errors import Conflict, DomainError, NotAllowed
from collective.extensions import db
from collective.members.models import Membership
from collective.pool import allocation, clients, pitches, time
from collective.pool.models import Client, Pitch, PitchEvent, PitchState
from tests.factories import make_collective, make_member, make_user
from tests.pool.factories import NOW, TODAY, allocate, make_client, make_pitch, move_to

S = PitchState


@dataclass
class Crew:
    """A collective: the founder (every role) and two plain members, Ann and Bob."""

    founder: Membership
    ann: Membership
    bob: Membership
    client: Client


@pytest.fixture
def crew(ctx) -> Crew:
    founder = make_collective()
    collective = founder.collective
    return Crew(founder, make_member(collective, user=make_user(name="Ann Abad")),
                make_member(collective, user=make_user(name="Bob Bose")),
                make_client(founder, "Harbour Dental"))


def _history(pitch: Pitch) -> list[tuple[str | None, str, str]]:
    return [(e.from_state, e.to_state, e.note) for e in pitches.pitch_events(pitch)]


def _in_progress(crew: Crew) -> Pitch:
    pitch = make_pitch(crew.founder, client=crew.client)
    move_to(crew.founder, pitch, S.WON)
    allocate(crew.founder, pitch, crew.ann, role="lead")
    pitches.transition_pitch(crew.founder, pitch, S.IN_PROGRESS, at=NOW)
    return pitch


# --- Next steps and ends -----------------------------------------------------------------


@pytest.mark.parametrize(("state", "steps"), [
    (S.OPEN, [S.PITCHED, S.CANCELLED]),
    (S.PITCHED, [S.WON, S.LOST, S.CANCELLED]),
    (S.WON, [S.IN_PROGRESS, S.CANCELLED]),
    (S.IN_PROGRESS, [S.DELIVERED, S.CANCELLED]),
    (S.DELIVERED, [S.INVOICED]),
    (S.INVOICED, [S.PAID]),
    (S.PAID, []),
    (S.LOST, []),
    (S.CANCELLED, []),
])
def test_next_steps_are_the_legal_moves_with_the_ends_last(crew, state, steps):
    pitch = move_to(crew.founder, make_pitch(crew.founder, client=crew.client), state)

    assert pitches.next_steps(pitch) == steps


@pytest.mark.parametrize("end", [S.CANCELLED, S.LOST])
@pytest.mark.parametrize("note", ["", "   "])
def test_an_end_without_a_reason_is_refused_and_changes_nothing(crew, end, note):
    pitch = move_to(crew.founder, make_pitch(crew.founder, client=crew.client), S.PITCHED)
    version, history = pitch.version, _history(pitch)

    with pytest.raises(DomainError) as refused:
        pitches.transition_pitch(crew.founder, pitch, end, note=note, at=NOW)

    assert refused.value.field == "note"
    assert refused.value.message == (f"say why the pitch is {end.label}: the reason is kept "
                                     "in its history")
    db.session.expire_all()
    assert (pitch.state, pitch.version) == ("pitched", version)
    assert _history(pitch) == history


def test_the_reason_for_an_end_is_kept_in_the_history(crew):
    pitch = _in_progress(crew)

    pitches.transition_pitch(crew.founder, pitch, S.CANCELLED,
                             note="  The client closed the clinic  ", at=NOW)

    assert pitch.state == "cancelled"
    assert _history(pitch)[-1] == ("in_progress", "cancelled", "The client closed the clinic")


# --- Reopening ---------------------------------------------------------------------------


def test_reopening_a_cancelled_pitch_takes_it_back_to_work_and_records_why(crew):
    pitch = _in_progress(crew)
    pitches.transition_pitch(crew.founder, pitch, S.CANCELLED, note="clicked by mistake",
                             at=NOW)
    version = pitch.version
    later = NOW + timedelta(hours=2)

    pitches.reopen_pitch(crew.founder, pitch, reason="It was cancelled by mistake",
                         expected_version=version, at=later)

    assert (pitch.state, pitch.version) == ("in_progress", version + 1)
    event = pitches.pitch_events(pitch)[-1]
    assert (event.from_state, event.to_state, event.actor_id, event.note, event.at) == (
        "cancelled", "in_progress", crew.founder.id, "It was cancelled by mistake", later)
    # Its members can log time on it again.
    entry = time.log_time(crew.ann, pitch.allocations[0], worked_on=TODAY, minutes=60,
                          today=TODAY)
    assert entry.minutes == 60


def test_reopening_a_lost_pitch_takes_it_back_to_pitched(crew):
    pitch = move_to(crew.founder, make_pitch(crew.founder, client=crew.client), S.LOST)

    pitches.reopen_pitch(crew.founder, pitch, reason="They came back to us", at=NOW)

    assert pitch.state == "pitched"
    assert _history(pitch)[-1] == ("lost", "pitched", "They came back to us")


def test_reopening_work_nobody_is_on_any_more_takes_it_back_to_won(crew):
    pitch = move_to(crew.founder, make_pitch(crew.founder, client=crew.client), S.WON)
    allocate(crew.founder, pitch, crew.ann)
    pitches.transition_pitch(crew.founder, pitch, S.IN_PROGRESS, at=NOW)
    pitches.transition_pitch(crew.founder, pitch, S.CANCELLED, note="on hold", at=NOW)
    allocation.remove_allocation(crew.founder, pitch, crew.ann.id)

    pitches.reopen_pitch(crew.founder, pitch, reason="back on", at=NOW)

    assert pitch.state == "won"


@pytest.mark.parametrize(("state", "reason", "field", "message"), [
    (S.OPEN, "why not", "state", "only a lost or cancelled pitch can be reopened; this one is "
                                 "open"),
    (S.PAID, "why not", "state", "only a lost or cancelled pitch can be reopened; this one is "
                                 "paid"),
    (S.CANCELLED, " ", "note", "say why the pitch is reopened: the reason is kept in its "
                               "history"),
])
def test_reopening_is_refused_for_other_states_and_without_a_reason(crew, state, reason, field,
                                                                    message):
    pitch = move_to(crew.founder, make_pitch(crew.founder, client=crew.client), state)
    history = _history(pitch)

    with pytest.raises(DomainError) as refused:
        pitches.reopen_pitch(crew.founder, pitch, reason=reason, at=NOW)

    assert (refused.value.field, refused.value.message) == (field, message)
    assert pitch.state == state.value
    assert _history(pitch) == history


def test_only_a_coordinator_reopens_and_a_stale_page_is_a_conflict(crew):
    pitch = move_to(crew.founder, make_pitch(crew.founder, client=crew.client), S.CANCELLED)

    with pytest.raises(NotAllowed):
        pitches.reopen_pitch(crew.ann, pitch, reason="I want it", at=NOW)
    with pytest.raises(Conflict):
        pitches.reopen_pitch(crew.founder, pitch, reason="back", expected_version=1, at=NOW)
    assert pitch.state == "cancelled"


# --- Editing a pitch ---------------------------------------------------------------------


def _edit(crew: Crew, pitch: Pitch, **change) -> list[list[str]]:
    details = dict(title=pitch.title, value_amount=pitch.value_amount,
                   value_currency=pitch.value_currency, description=pitch.description,
                   required_skills={s.name: s.level for s in pitch.required_skills},
                   estimated_hours=pitch.estimated_hours, deadline_on=pitch.deadline_on,
                   finder_id=pitch.finder_id)
    actor = change.pop("actor", crew.founder)
    return pitches.edit_pitch(actor, pitch, **{**details, **change}, today=TODAY, at=NOW)


def test_an_edit_is_saved_and_kept_in_the_history_with_old_and_new_values(crew):
    pitch = make_pitch(crew.founder, client=crew.client,
                       required_skills={"editing": 3, "layout": 2})
    version = pitch.version

    changes = _edit(crew, pitch, value_amount=650_000, deadline_on=TODAY + timedelta(days=30),
                    required_skills={"editing": 4, "proofreading": 2},
                    description="Two annual reports", finder_id=crew.bob.id,
                    expected_version=version)

    expected = [
        ["Value", "5,000.00 USD", "6,500.00 USD"],
        ["Deadline", "none", (TODAY + timedelta(days=30)).isoformat()],
        ["Skills needed", "editing 3, layout 2", "editing 4, proofreading 2"],
        ["Found by", "nobody in particular", "Bob Bose"],
        ["Description", "", "Two annual reports"],
    ]
    assert changes == expected
    db.session.expire_all()
    assert (pitch.value_amount, pitch.deadline_on, pitch.description, pitch.finder_id,
            pitch.version) == (650_000, TODAY + timedelta(days=30), "Two annual reports",
                               crew.bob.id, version + 1)
    assert [(s.name, s.level) for s in pitch.required_skills] == [("editing", 4),
                                                                  ("proofreading", 2)]
    event = pitches.pitch_events(pitch)[-1]
    assert (event.from_state, event.to_state, event.actor_id, event.note, event.changes) == (
        "open", "open", crew.founder.id, "edited", expected)


def test_an_edit_that_changes_nothing_records_nothing(crew):
    pitch = make_pitch(crew.founder, client=crew.client, required_skills={"editing": 3})
    version, history = pitch.version, _history(pitch)

    assert _edit(crew, pitch, title=f"  {pitch.title} ") == []

    db.session.expire_all()
    assert pitch.version == version
    assert _history(pitch) == history


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"deadline_on": TODAY - timedelta(days=1)}, "deadline_on", "the deadline is in the past"),
    ({"deadline_on": TODAY - timedelta(days=4000)}, "deadline_on",
     "the deadline is in the past"),
    ({"deadline_on": TODAY + timedelta(days=6 * 365)}, "deadline_on",
     "the deadline must be within five years"),
    ({"title": " "}, "title", "a pitch needs a title"),
    ({"value_amount": -1}, "value_amount", "the value must be between 0 and 10^15 minor units"),
    ({"value_currency": "XXQ"}, "value_currency", None),
    ({"required_skills": {"editing": 9}}, "required_skills", "the level of 'editing' must be "
                                                             "1 to 5"),
])
def test_a_bad_edit_is_refused_and_changes_nothing(crew, change, field, message):
    pitch = make_pitch(crew.founder, client=crew.client)
    version, history = pitch.version, _history(pitch)

    with pytest.raises(DomainError) as refused:
        _edit(crew, pitch, **change)

    assert refused.value.field == field
    if message:
        assert refused.value.message == message
    db.session.expire_all()
    assert (pitch.value_amount, pitch.version) == (500_000, version)
    assert _history(pitch) == history


def test_a_deadline_that_has_passed_may_stay_while_other_details_change(crew):
    pitch = make_pitch(crew.founder, client=crew.client)
    # Recorded with a deadline that was ahead then, and has passed since.
    pitch.deadline_on = TODAY - timedelta(days=10)
    db.session.flush()

    changes = _edit(crew, pitch, estimated_hours=12)

    assert changes == [["Estimated hours", "0", "12"]]


def test_recording_a_pitch_with_a_deadline_in_the_past_says_so(crew):
    with pytest.raises(DomainError) as refused:
        pitches.create_pitch(crew.founder, client_id=crew.client.id, title="Late", value_amount=1,
                             value_currency="USD", deadline_on=TODAY - timedelta(days=2000),
                             today=TODAY, at=NOW)

    assert (refused.value.field, refused.value.message) == ("deadline_on",
                                                            "the deadline is in the past")


def test_only_a_coordinator_edits_and_a_stale_edit_is_a_conflict(crew):
    pitch = make_pitch(crew.founder, client=crew.client)

    with pytest.raises(NotAllowed):
        _edit(crew, pitch, actor=crew.ann, value_amount=1)
    with pytest.raises(Conflict):
        _edit(crew, pitch, value_amount=1, expected_version=pitch.version - 1)
    db.session.expire_all()
    assert pitch.value_amount == 500_000


# --- Editing a client --------------------------------------------------------------------


def test_a_coordinator_edits_a_client(crew):
    clients.edit_client(crew.founder, crew.client, name="  Harbour  Dental Group ",
                        country="au", contact="Olivia Chen", notes="Four clinics now")

    db.session.expire_all()
    assert (crew.client.name, crew.client.country, crew.client.contact, crew.client.notes) == (
        "Harbour Dental Group", "AU", "Olivia Chen", "Four clinics now")


def test_a_client_cannot_take_another_clients_name_and_members_cannot_edit(crew):
    other = make_client(crew.founder, "Oakfield Publishing")

    with pytest.raises(Conflict) as refused:
        clients.edit_client(crew.founder, crew.client, name="Oakfield Publishing")
    assert refused.value.field == "name"
    with pytest.raises(NotAllowed):
        clients.edit_client(crew.ann, other, name="Mine now")
    # Keeping its own name is fine.
    clients.edit_client(crew.founder, other, name="Oakfield Publishing", contact="Harriet")
    assert db.session.scalar(sa.select(Client.contact).filter_by(id=other.id)) == "Harriet"


# --- Allocation suggestions --------------------------------------------------------------


def test_suggestions_leave_out_members_already_on_the_pitch(crew):
    pitch = move_to(crew.founder, make_pitch(crew.founder, client=crew.client), S.WON)
    everyone = set(allocation.suggest_members(pitch, TODAY)["membership_id"])
    assert {crew.founder.id, crew.ann.id, crew.bob.id} <= everyone

    allocate(crew.founder, pitch, crew.ann)
    db.session.expire(pitch)

    suggested = set(allocation.suggest_members(pitch, TODAY)["membership_id"])
    assert suggested == everyone - {crew.ann.id}


def test_an_edit_event_has_the_same_from_and_to_state(crew):
    pitch = move_to(crew.founder, make_pitch(crew.founder, client=crew.client), S.PITCHED)

    _edit(crew, pitch, title="Website rebuild, phase 1")

    rows = db.session.execute(sa.select(PitchEvent.from_state, PitchEvent.to_state,
                                        PitchEvent.changes)
                              .filter_by(pitch_id=pitch.id).order_by(PitchEvent.id)).all()
    assert [tuple(r) for r in rows] == [
        (None, "open", None), ("open", "pitched", None),
        ("pitched", "pitched", [["Title", "Website rebuild", "Website rebuild, phase 1"]])]
