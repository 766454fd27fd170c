"""A person's active work in their other collectives counts against their free capacity in
the suggestions of one collective, named or only as hours as the person chooses."""
from __future__ import annotations

from collective.extensions import db
from collective.members import accounts
from collective.members import services as members
from collective.members.models import MembershipStatus
from collective.pool import allocation, pitches
from collective.pool.models import PitchState
from tests.factories import commit, make_collective, make_member
from tests.pool.factories import NOW, TODAY, make_pitch, move_to

SKILLS = {"bookkeeping": 4}


def world():
    """Collective A (coordinator Ana) with two members of equal skill who offer it 20 h
    each: Xia, who joined first, and Yusuf. Xia is also in collective B, which allocated
    her 15 h a week on work in progress. A has a pitch to staff."""
    ana = make_collective()
    xia = make_member(ana.collective, hours=20)
    yusuf = make_member(ana.collective, hours=20)
    for person in (xia, yusuf):
        accounts.update_profile(person.user, name=person.user.name, timezone="UTC",
                                country=None, skills=SKILLS)
    bea = make_collective()
    xia_in_b = make_member(bea.collective, user=xia.user, hours=15)
    busy = make_pitch(bea, title="B's retainer")
    move_to(bea, busy, PitchState.WON)
    allocation.allocate_member(bea, busy, membership_id=xia_in_b.id, weekly_hours=15)
    pitches.transition_pitch(bea, busy, PitchState.IN_PROGRESS, at=NOW)
    wanted = make_pitch(ana, title="Books clean-up", required_skills=SKILLS)
    return ana, xia, yusuf, bea, xia_in_b, busy, wanted


def _ranking(pitch) -> list[tuple[int, int, str]]:
    table = allocation.suggest_members(pitch, TODAY)
    return [(int(m), int(f), e) for m, f, e in table[["membership_id", "free_hours",
                                                      "elsewhere"]].itertuples(index=False)]


def test_work_in_another_collective_lowers_free_hours_and_the_order(ctx):
    ana, xia, yusuf, bea, _, busy, wanted = world()
    b_name = bea.collective.name
    # Xia's week (the most she offers anyone: 20 h) less 15 h in B leaves 5 h for A, so
    # Yusuf's 20 free hours put him first.
    ranked = _ranking(wanted)
    assert ranked[:2] == [(yusuf.id, 20, ""), (xia.id, 5, f"15 h in {b_name}")]
    # When B's work is delivered it no longer counts: equal again, Xia first by joining.
    pitches.transition_pitch(bea, busy, PitchState.DELIVERED, at=NOW)
    assert _ranking(wanted)[:2] == [(xia.id, 20, ""), (yusuf.id, 20, "")]


def test_the_persons_own_week_is_what_the_work_elsewhere_is_counted_against(ctx):
    _, xia, yusuf, _, _, _, wanted = world()
    # A 40 h week less 15 h in B leaves 25 h: more than the 20 h she offers A.
    accounts.update_week_settings(xia.user, weekly_capacity_hours=40, display_currency=None,
                                  is_other_work_private=False)
    assert [r[:2] for r in _ranking(wanted)[:2]] == [(xia.id, 20), (yusuf.id, 20)]
    # A 30 h week leaves 15 h; a 10 h week, nothing (never below zero).
    accounts.update_week_settings(xia.user, weekly_capacity_hours=30, display_currency=None,
                                  is_other_work_private=False)
    assert dict((m, f) for m, f, _ in _ranking(wanted))[xia.id] == 15
    accounts.update_week_settings(xia.user, weekly_capacity_hours=10, display_currency=None,
                                  is_other_work_private=False)
    assert dict((m, f) for m, f, _ in _ranking(wanted))[xia.id] == 0
    # A week smaller than what she offers A caps it even with no work elsewhere.
    yusuf.user.weekly_capacity_hours = 12
    db.session.flush()
    assert dict((m, f) for m, f, _ in _ranking(wanted))[yusuf.id] == 12


def test_work_in_a_collective_left_or_archived_does_not_count(ctx):
    _, xia, _, bea, xia_in_b, _, wanted = world()
    xia_in_b.status = MembershipStatus.REMOVED
    db.session.flush()
    assert dict((m, f) for m, f, _ in _ranking(wanted))[xia.id] == 20
    xia_in_b.status = MembershipStatus.ACTIVE
    bea.collective.archived_at = NOW
    db.session.flush()
    assert dict((m, f) for m, f, _ in _ranking(wanted))[xia.id] == 20


def test_offering_a_collective_more_than_ones_week_grows_the_week(ctx):
    _, xia, _, _, _, _, _ = world()
    accounts.update_week_settings(xia.user, weekly_capacity_hours=25, display_currency=None,
                                  is_other_work_private=False)
    members.update_capacity(xia, 30)
    assert xia.user.weekly_capacity_hours == 30


def test_the_privacy_setting_hides_the_other_collectives_name(client, auth, setup):
    with setup():
        ana, xia, _, bea, _, _, wanted = world()
        commit()
        url = f"/c/{ana.collective.slug}/pool/pitches/{wanted.id}/allocate"
        coordinator, b_name, xia_user = ana.user.email, bea.collective.name, xia.user.id
    auth.login(coordinator)
    page = client.get(url).get_data(as_text=True)
    assert f"5 h free this week (15 h in {b_name})" in page
    with setup():
        from collective.members.models import User
        accounts.update_week_settings(db.session.get(User, xia_user),
                                      weekly_capacity_hours=None, display_currency=None,
                                      is_other_work_private=True)
        commit()
    page = client.get(url).get_data(as_text=True)
    assert "5 h free this week (15 h elsewhere)" in page
    assert b_name not in page
