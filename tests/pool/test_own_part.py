"""A member's own part in the work: time entries they can change or delete until a
payment's split has used them, and offers to volunteer they can withdraw."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from babel.dates import format_date

from collective.errors import DomainError, NotFound
from collective.extensions import db
from collective.members.models import Membership, Role
from collective.pool import participation, payments, pitches, time
from collective.pool.models import PitchEvent, PitchState, TimeEntry, Volunteer
from tests.factories import PASSWORD, commit, make_collective, make_member
from tests.pool.factories import NOW, allocate, found_rule, make_pitch, move_to

TODAY = date.today()


def _work(*, paid: bool = False):
    """A collective whose founder runs an in-progress pitch with Ann allocated, Ann's two
    time entries (3 hours and 1 hour today), and, when `paid`, a payment that used them."""
    founder = make_collective()
    found_rule(founder, effective_on=TODAY - timedelta(days=30))
    ann = make_member(founder.collective)
    pitch = move_to(founder, make_pitch(founder), PitchState.WON)
    ann_work = allocate(founder, pitch, ann)
    pitches.transition_pitch(founder, pitch, PitchState.IN_PROGRESS, at=NOW)
    first = time.log_time(ann, ann_work, worked_on=TODAY, minutes=180, note="drafts",
                          today=TODAY)
    second = time.log_time(ann, ann_work, worked_on=TODAY, minutes=60, today=TODAY)
    payment = None
    if paid:
        payment = payments.record_payment(founder, pitch, amount=100_000, currency="USD",
                                          received_on=TODAY, reference="INV-7", today=TODAY)
    return founder, ann, pitch, ann_work, first, second, payment


# --- The rules, in the service ------------------------------------------------------------


def test_the_author_changes_day_hours_and_note_of_an_unpaid_entry(ctx):
    _, ann, _, _, first, _, _ = _work()
    time.edit_time_entry(ann, first, worked_on=TODAY - timedelta(days=1), minutes=90,
                         note="final drafts", today=TODAY)
    db.session.expire_all()
    entry = db.session.get(TimeEntry, first.id)
    assert (entry.worked_on, entry.minutes, entry.note) == (
        TODAY - timedelta(days=1), 90, "final drafts")


def test_a_change_counts_the_day_without_the_entry_it_replaces(ctx):
    _, ann, _, _, first, _, _ = _work()
    # 3 h + 1 h today: the 3-hour entry may become 23 hours (23 + 1 = 24), not 23.5;
    # the message counts what the other entries leave.
    time.edit_time_entry(ann, first, worked_on=TODAY, minutes=23 * 60, today=TODAY)
    with pytest.raises(DomainError, match="; 23 hours are left on that day"):
        time.edit_time_entry(ann, first, worked_on=TODAY, minutes=23 * 60 + 30, today=TODAY)


def test_only_the_author_changes_or_deletes_an_entry(ctx):
    founder, _, _, _, first, _, _ = _work()
    with pytest.raises(NotFound):
        time.edit_time_entry(founder, first, worked_on=TODAY, minutes=60, today=TODAY)
    with pytest.raises(NotFound):
        time.delete_time_entry(founder, first)
    with pytest.raises(NotFound):
        time.get_time_entry(founder, first.id)


def test_the_author_deletes_an_unpaid_entry(ctx):
    _, ann, _, _, first, second, _ = _work()
    time.delete_time_entry(ann, first)
    left = db.session.scalars(sa.select(TimeEntry.id).filter_by(membership_id=ann.id)).all()
    assert left == [second.id]


def test_entries_a_payment_used_are_locked_and_name_it(ctx):
    _, ann, _, _, first, second, payment = _work(paid=True)
    assert time.paid_by(first) == payment
    with pytest.raises(DomainError, match=f"received on {TODAY.isoformat()}"):
        time.edit_time_entry(ann, first, worked_on=TODAY, minutes=60, today=TODAY)
    with pytest.raises(DomainError, match="can no longer be changed"):
        time.delete_time_entry(ann, second)
    assert db.session.get(TimeEntry, first.id).minutes == 180
    listed = time.time_entries_of(ann)
    assert [(e.id, p.id if p else None) for e, p in listed] == [
        (second.id, payment.id), (first.id, payment.id)]


def test_a_reversed_payment_unlocks_the_hours_but_keeps_the_entry(ctx):
    founder, ann, _, _, first, _, payment = _work(paid=True)
    payments.reverse_payment(founder, payment)
    assert time.paid_by(first) is None
    time.edit_time_entry(ann, first, worked_on=TODAY, minutes=120, today=TODAY)
    assert db.session.get(TimeEntry, first.id).minutes == 120
    with pytest.raises(DomainError, match="later reversed"):
        time.delete_time_entry(ann, first)


def test_a_withdrawn_offer_leaves_the_volunteers_and_is_kept_in_the_history(ctx):
    founder = make_collective()
    liza = make_member(founder.collective)
    pitch = make_pitch(founder)
    pitches.volunteer_for(liza, pitch, "I know this client")
    event = participation.withdraw_volunteering(liza, pitch, "  too busy this month ",
                                                at=NOW)
    assert pitches.volunteers_of(pitch) == []
    assert (event.actor_id, event.from_state, event.to_state, event.note) == (
        liza.id, "open", "open", "withdrew as a volunteer: too busy this month")
    # One may volunteer again, and withdraw only an offer one made.
    pitches.volunteer_for(liza, pitch)
    assert [v.membership_id for v in pitches.volunteers_of(pitch)] == [liza.id]
    with pytest.raises(DomainError, match="not volunteered"):
        participation.withdraw_volunteering(founder, pitch, at=event.at)


# --- Through the pages --------------------------------------------------------------------


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def work(setup):
    """Ann's unpaid and paid entries on two pitches: (slug, ann e-mail, unpaid id, paid id,
    open pitch id)."""
    with setup():
        founder, ann, pitch, ann_work, first, second, payment = _work(paid=True)
        other = move_to(founder, make_pitch(founder, title="Brochure"), PitchState.WON)
        other_work = allocate(founder, other, ann)
        unpaid = time.log_time(ann, other_work, worked_on=TODAY, minutes=90, note="layout",
                               today=TODAY)
        open_pitch = make_pitch(founder, title="Newsletter")
        commit()
        return (founder.collective.slug, ann.user.email, unpaid.id, first.id, open_pitch.id,
                payment.amount)


def _entry(setup, entry_id: int):
    with setup():
        entry = db.session.get(TimeEntry, entry_id)
        return None if entry is None else (entry.worked_on, entry.minutes, entry.note)


def test_my_work_offers_changes_for_unpaid_entries_and_names_the_payment_of_paid_ones(
        client, auth, work):
    slug, email, unpaid, paid, _, _ = work
    auth.login(email, PASSWORD)
    page = _page(client.get(f"/c/{slug}/pool/my-work"))
    assert f"/c/{slug}/pool/my-work/entries/{unpaid}/edit" in page
    assert f"/c/{slug}/pool/my-work/entries/{unpaid}/delete" in page
    assert f"/entries/{paid}/edit" not in page
    paid_on = format_date(TODAY, "medium", locale="en_US")
    assert re.sub(r"<[^>]+>", "", page).count(
        f"Locked: paid by the payment of {paid_on}, $1,000.00") == 2


def test_editing_an_entry_saves_it_and_a_bad_value_keeps_what_was_typed(client, auth, work,
                                                                         setup):
    slug, email, unpaid, _, _, _ = work
    auth.login(email, PASSWORD)
    url = f"/c/{slug}/pool/my-work/entries/{unpaid}/edit"
    form = client.get(url)
    assert 'value="1.5"' in _page(form) and 'value="layout"' in _page(form)
    refused = client.post(url, data={"worked_on": TODAY.isoformat(), "hours": "2.x",
                                     "note": "layout and proofs"})
    assert refused.status_code == 422
    assert 'value="2.x"' in _page(refused) and 'value="layout and proofs"' in _page(refused)
    assert _entry(setup, unpaid) == (TODAY, 90, "layout")
    saved = client.post(url, data={"worked_on": TODAY.isoformat(), "hours": "2:15",
                                   "note": "layout and proofs"})
    assert saved.status_code == 302
    assert _entry(setup, unpaid) == (TODAY, 135, "layout and proofs")


def test_a_paid_entry_cannot_be_edited_and_its_page_names_the_payment(client, auth, work,
                                                                      setup):
    slug, email, _, paid, _, _ = work
    auth.login(email, PASSWORD)
    url = f"/c/{slug}/pool/my-work/entries/{paid}/edit"
    page = _page(client.get(url))
    assert "These hours are locked" in page and "$1,000.00, INV-7" in page
    refused = client.post(url, data={"worked_on": TODAY.isoformat(), "hours": "1"})
    assert refused.status_code == 409
    assert _entry(setup, paid) == (TODAY, 180, "drafts")


def test_deleting_asks_first_and_the_question_itself_deletes_nothing(client, auth, work,
                                                                     setup):
    slug, email, unpaid, paid, _, _ = work
    auth.login(email, PASSWORD)
    url = f"/c/{slug}/pool/my-work/entries/{unpaid}/delete"
    question = _page(client.get(url))
    assert "Delete this time entry" in question
    assert _entry(setup, unpaid) is not None
    assert client.post(url).status_code == 302
    assert _entry(setup, unpaid) is None
    client.post(f"/c/{slug}/pool/my-work/entries/{paid}/delete")
    assert _entry(setup, paid) == (TODAY, 180, "drafts")


def test_another_member_cannot_reach_an_entry(client, auth, work, setup):
    slug, _, unpaid, _, _, _ = work
    with setup():
        entry = db.session.get(TimeEntry, unpaid)
        other = make_member(db.session.get(Membership, entry.membership_id).collective,
                            (Role.MEMBER,))
        email = other.user.email
        commit()
    auth.login(email, PASSWORD)
    assert client.get(f"/c/{slug}/pool/my-work/entries/{unpaid}/edit").status_code == 404
    assert client.post(f"/c/{slug}/pool/my-work/entries/{unpaid}/delete").status_code == 404
    assert _entry(setup, unpaid) == (TODAY, 90, "layout")


def test_a_volunteer_withdraws_and_the_pitch_page_shows_it(client, auth, work, setup):
    slug, email, _, _, open_pitch, _ = work
    auth.login(email, PASSWORD)
    url = f"/c/{slug}/pool/pitches/{open_pitch}"
    client.post(f"{url}/volunteer", data={"vol-note": "I did their last one"})
    page = _page(client.get(url))
    assert "Withdraw my offer" in page and "Volunteer for this" not in page
    assert client.post(f"{url}/withdraw", data={"withdraw-memo": "school holidays"}
                       ).status_code == 302
    page = _page(client.get(url))
    assert "Volunteer for this" in page and "Withdraw my offer" not in page
    assert "Volunteers:" not in page
    assert ": withdrew as a volunteer: school holidays</li>" in page
    with setup():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Volunteer)
                                 .filter_by(pitch_id=open_pitch)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PitchEvent)
                                 .filter_by(pitch_id=open_pitch)) == 2
