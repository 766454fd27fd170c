"""Skills proven by delivered work: the credit rule, its idempotency, the reversal, and the
endorsement rules."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.members.models import Membership
from collective.pool import payments, pitches
from collective.pool.evidence import credits, endorsements, queries
from collective.pool.evidence.models import Endorsement, SkillCredit
from collective.pool.models import Allocation, Pitch, PitchState
from tests.factories import make_collective, make_member
from tests.pool.factories import NOW, TODAY, allocate, found_rule, log, make_pitch, move_to


@dataclass
class Team:
    """Ann, Bob and Cat on a pitch needing bookkeeping and tax prep, in progress."""

    founder: Membership
    ann: Membership
    bob: Membership
    cat: Membership
    pitch: Pitch
    work: dict[str, Allocation]

    def log_hours(self, **hours: int) -> None:
        """Each named member logs these hours, 5 h a day from 1 October."""
        for who, h in hours.items():
            for day in range(0, h, 5):
                log(getattr(self, who), self.work[who], min(5, h - day) * 60,
                    worked_on=date(2026, 10, 1 + day // 5))

    def pay(self, amount: int = 100_000, confirm: bool = False):
        return payments.record_payment(self.founder, self.pitch, amount=amount,
                                       currency="USD", received_on=TODAY, today=TODAY,
                                       confirm_duplicate=confirm)

    def deliver(self) -> None:
        pitches.transition_pitch(self.founder, self.pitch, PitchState.DELIVERED, at=NOW)


@pytest.fixture
def team(ctx) -> Team:
    founder = make_collective()
    ann, bob, cat = (make_member(founder.collective) for _ in range(3))
    found_rule(founder)
    pitch = make_pitch(founder, required_skills={"bookkeeping": 3, "tax prep": 2})
    move_to(founder, pitch, PitchState.WON)
    work = {name: allocate(founder, pitch, m) for name, m in
            (("ann", ann), ("bob", bob), ("cat", cat))}
    pitches.transition_pitch(founder, pitch, PitchState.IN_PROGRESS, at=NOW)
    return Team(founder, ann, bob, cat, pitch, work)


def _credits(pitch: Pitch) -> dict[tuple[int, str], int]:
    return {(m, s): minutes for m, s, minutes in db.session.execute(
        sa.select(SkillCredit.membership_id, SkillCredit.skill, SkillCredit.minutes)
        .where(SkillCredit.pitch_id == pitch.id))}


def test_three_members_with_10_20_30_hours_on_a_two_skill_pitch(team):
    team.log_hours(ann=10, bob=20, cat=30)
    team.deliver()
    team.pay()

    # Each member is credited in each skill with their own hours: 10, 20 and 30 h.
    assert _credits(team.pitch) == {
        (team.ann.id, "bookkeeping"): 600, (team.ann.id, "tax prep"): 600,
        (team.bob.id, "bookkeeping"): 1200, (team.bob.id, "tax prep"): 1200,
        (team.cat.id, "bookkeeping"): 1800, (team.cat.id, "tax prep"): 1800,
    }
    cat = {e.skill: e for e in queries.skill_evidence(team.cat)}
    assert cat["bookkeeping"].minutes == 1800 and cat["tax prep"].hours_text == "30"
    assert cat["bookkeeping"].level is None  # Cat never rated herself
    # Across the team the pitch stands behind 60 h in each skill.
    frame = queries.delivered_minutes(team.founder.collective_id, ["bookkeeping"])
    assert int(frame["minutes"].sum()) == 3600


def test_delivered_but_not_paid_credits_nothing_and_payment_then_credits(team):
    team.log_hours(ann=10, bob=20)
    team.deliver()
    assert _credits(team.pitch) == {}
    team.pay()
    assert _credits(team.pitch)[(team.bob.id, "tax prep")] == 1200


def test_paid_before_delivery_is_credited_by_the_delivery(team):
    team.log_hours(ann=10, cat=30)
    team.pay()
    assert _credits(team.pitch) == {}  # in progress: not delivered yet
    team.deliver()
    assert set(_credits(team.pitch)) == {(team.ann.id, "bookkeeping"), (team.ann.id, "tax prep"),
                                         (team.cat.id, "bookkeeping"), (team.cat.id, "tax prep")}


def test_crediting_again_changes_nothing(team):
    team.log_hours(ann=10, bob=20, cat=30)
    team.deliver()
    team.pay()
    ids = db.session.scalars(sa.select(SkillCredit.id).order_by(SkillCredit.id)).all()
    credits.credit_pitch(team.pitch.id)
    team.pay(amount=5_000, confirm=True)  # a second payment credits the same rows
    assert db.session.scalars(sa.select(SkillCredit.id).order_by(SkillCredit.id)).all() == ids
    assert _credits(team.pitch)[(team.cat.id, "bookkeeping")] == 1800


def test_the_unique_key_refuses_a_second_row_for_the_same_member_skill_and_pitch(team):
    team.log_hours(ann=10)
    team.deliver()
    team.pay()
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(SkillCredit(collective_id=team.founder.collective_id,
                                   membership_id=team.ann.id, pitch_id=team.pitch.id,
                                   skill="bookkeeping", minutes=60))
        db.session.flush()


def test_hours_logged_after_delivery_join_the_credit(team):
    team.log_hours(ann=10)
    team.deliver()
    team.pay()
    log(team.ann, team.work["ann"], 90, worked_on=date(2026, 10, 9))
    assert _credits(team.pitch)[(team.ann.id, "bookkeeping")] == 690


def test_reversing_the_only_payment_takes_the_credit_back_and_a_new_payment_restores_it(team):
    team.log_hours(ann=10, bob=20)
    team.deliver()
    payment = team.pay()
    payments.reverse_payment(team.founder, payment, today=TODAY)
    assert _credits(team.pitch) == {}
    team.pay(confirm=True)
    assert _credits(team.pitch)[(team.ann.id, "bookkeeping")] == 600


def test_reversing_one_of_two_payments_keeps_the_credit(team):
    team.log_hours(ann=10)
    team.deliver()
    first = team.pay()
    team.pay(amount=5_000)
    payments.reverse_payment(team.founder, first, today=TODAY)
    assert _credits(team.pitch) == {(team.ann.id, "bookkeeping"): 600,
                                    (team.ann.id, "tax prep"): 600}


def test_editing_the_skills_of_credited_work_moves_the_credit(team):
    team.log_hours(ann=10)
    team.deliver()
    team.pay()
    p = team.pitch
    pitches.edit_pitch(team.founder, p, title=p.title, value_amount=p.value_amount,
                       value_currency=p.value_currency, required_skills={"payroll": 2},
                       today=TODAY, at=NOW)
    assert _credits(p) == {(team.ann.id, "payroll"): 600}


def test_named_and_private_work_on_the_profile(team):
    team.log_hours(ann=10)
    team.deliver()
    team.pay()
    [bookkeeping] = [e for e in queries.skill_evidence(team.ann) if e.skill == "bookkeeping"]
    assert (bookkeeping.named, bookkeeping.private) == ([], 1)
    team.pitch.client.is_naming_allowed = True
    db.session.flush()
    [bookkeeping] = [e for e in queries.skill_evidence(team.ann) if e.skill == "bookkeeping"]
    assert [(n.title, n.client) for n in bookkeeping.named] == [
        (team.pitch.title, team.pitch.client.name)]
    assert bookkeeping.private == 0


# --- Endorsements -------------------------------------------------------------------------


@pytest.fixture
def delivered(team) -> Team:
    team.log_hours(ann=10, bob=20)  # Cat is allocated but logged nothing
    team.deliver()
    return team


def _endorse(team: Team, giver: str, receiver: str, skill: str = "bookkeeping",
             note: str = "Careful and quick"):
    return endorsements.endorse(getattr(team, giver), team.pitch,
                                receiver_id=getattr(team, receiver).id, skill=skill,
                                note=note, at=NOW)


def test_a_colleague_who_worked_the_pitch_endorses_another(delivered):
    given = _endorse(delivered, "ann", "bob")
    assert (given.giver_id, given.receiver_id, given.skill) == (delivered.ann.id,
                                                                delivered.bob.id, "bookkeeping")
    [shown] = queries.endorsements_received(delivered.bob)
    assert (shown.note, shown.skill) == ("Careful and quick", "bookkeeping")


def test_never_oneself(delivered):
    with pytest.raises(DomainError, match="yourself") as refused:
        _endorse(delivered, "ann", "ann")
    assert refused.value.field == "receiver_id"


def test_never_from_someone_who_did_not_work_on_it(delivered):
    with pytest.raises(DomainError, match="only the people who worked"):
        _endorse(delivered, "cat", "ann")  # allocated, no hours logged
    outsider = make_member(delivered.founder.collective)
    with pytest.raises(DomainError, match="only the people who worked"):
        endorsements.endorse(outsider, delivered.pitch, receiver_id=delivered.ann.id,
                             skill="bookkeeping", note="Great", at=NOW)
    with pytest.raises(DomainError, match="worked on this pitch with you"):
        _endorse(delivered, "ann", "cat")


def test_only_after_delivery_and_only_for_the_pitchs_skills(team):
    team.log_hours(ann=1, bob=1)
    with pytest.raises(DomainError, match="once the work is delivered"):
        _endorse(team, "ann", "bob")
    team.deliver()
    with pytest.raises(DomainError, match="skills this pitch needed") as refused:
        _endorse(team, "ann", "bob", skill="payroll")
    assert refused.value.field == "skill"


def test_the_note_is_short_and_not_empty(delivered):
    with pytest.raises(DomainError, match="at most 280") as refused:
        _endorse(delivered, "ann", "bob", note="x" * 281)
    assert refused.value.field == "note"
    with pytest.raises(DomainError, match="few words"):
        _endorse(delivered, "ann", "bob", note="   ")
    assert _endorse(delivered, "ann", "bob", note="x" * 280).note == "x" * 280


def test_at_most_one_per_giver_receiver_skill_and_pitch(delivered):
    _endorse(delivered, "ann", "bob")
    with pytest.raises(Conflict, match="already endorsed"):
        _endorse(delivered, "ann", "bob", note="Again")
    # Another skill, or the other way round, is another endorsement.
    _endorse(delivered, "ann", "bob", skill="tax prep")
    _endorse(delivered, "bob", "ann")
    # The database holds the rule too.
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(Endorsement(collective_id=delivered.founder.collective_id,
                                   pitch_id=delivered.pitch.id, giver_id=delivered.ann.id,
                                   receiver_id=delivered.bob.id, skill="bookkeeping",
                                   note="twice", endorsed_at=NOW))
        db.session.flush()


def test_the_database_refuses_a_self_endorsement(delivered):
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(Endorsement(collective_id=delivered.founder.collective_id,
                                   pitch_id=delivered.pitch.id, giver_id=delivered.ann.id,
                                   receiver_id=delivered.ann.id, skill="bookkeeping",
                                   note="me", endorsed_at=NOW))
        db.session.flush()


def test_the_giver_withdraws_it_and_may_endorse_again(delivered):
    given = _endorse(delivered, "ann", "bob")
    with pytest.raises(NotFound):
        endorsements.withdraw_endorsement(delivered.bob, given.id, at=NOW)  # not Bob's
    endorsements.withdraw_endorsement(delivered.ann, given.id, at=NOW)
    endorsements.withdraw_endorsement(delivered.ann, given.id, at=NOW)  # again: no change
    assert given.withdrawn_at is not None
    assert queries.endorsements_received(delivered.bob) == []
    again = _endorse(delivered, "ann", "bob", note="Even better the second time")
    assert again.id == given.id and again.withdrawn_at is None
    assert [e.note for e in queries.endorsements_received(delivered.bob)] == [
        "Even better the second time"]
    assert db.session.scalar(sa.select(sa.func.count(Endorsement.id))) == 1


def test_an_endorsement_of_another_collective_is_not_found(delivered):
    given = _endorse(delivered, "ann", "bob")
    stranger = make_collective()
    with pytest.raises(NotFound):
        endorsements.withdraw_endorsement(stranger, given.id, at=NOW)
    with pytest.raises(NotFound):
        endorsements.endorse(stranger, delivered.pitch, receiver_id=delivered.ann.id,
                             skill="bookkeeping", note="x", at=NOW)


# --- Suggestions weigh the evidence -------------------------------------------------------


def test_delivered_hours_lift_a_candidate_and_the_reason_says_so():
    import pandas as pd

    from collective.pool import compute

    # Two members alike in every way (level 4 of 4 needed, same capacity, nothing earned);
    # only Bea has delivered work: 120 h in bookkeeping (full marks) and 30 h in tax prep.
    members = pd.DataFrame({"membership_id": [1, 2], "name": ["Abe", "Bea"],
                            "capacity": [20, 20], "is_active": [True, True]})
    skills = pd.DataFrame({"membership_id": [1, 1, 2, 2],
                           "skill": ["bookkeeping", "tax prep"] * 2, "level": [4] * 4})
    load = pd.DataFrame(columns=["membership_id", "hours"])
    earnings = pd.DataFrame(columns=["membership_id", "earned"])
    evidence = pd.DataFrame({"membership_id": [2, 2, 2], "skill": ["tax prep", "bookkeeping",
                                                                    "payroll"],
                             "minutes": [1800, 7200, 600]})
    ranked = compute.rank_candidates(members, skills, {"bookkeeping": 4, "tax prep": 3},
                                     load, earnings, evidence=evidence)
    assert list(ranked["name"]) == ["Bea", "Abe"]
    # 100 without evidence; Bea adds 10 * (1 + 0.3) / 2 = 6.5, rounded half to even: 6.
    assert list(ranked["score"]) == [106, 100]
    assert list(ranked["evidence"]) == ["120 h delivered in bookkeeping, 30 h in tax prep", ""]


def test_suggestions_read_the_credits_of_delivered_work(team):
    from collective.pool.allocation import suggest_members

    team.log_hours(ann=10, bob=20, cat=30)
    team.deliver()
    team.pay()
    nxt = make_pitch(team.founder, required_skills={"bookkeeping": 3})
    move_to(team.founder, nxt, PitchState.WON)
    ranked = suggest_members(nxt, TODAY).set_index("membership_id")
    assert ranked.loc[team.cat.id, "evidence"] == "30 h delivered in bookkeeping"
    assert ranked.loc[team.ann.id, "evidence"] == "10 h delivered in bookkeeping"
    assert ranked.loc[team.founder.id, "evidence"] == ""
