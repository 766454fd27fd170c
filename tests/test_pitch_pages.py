"""The pitch page's next steps, ends with a reason, reopening, and the edit pages for pitches
and clients, through the test client on the world of tests/test_pool_views.py."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from collective.extensions import db
from collective.members.models import Membership
from collective.pool import allocation, pitches
from collective.pool.models import Client, Pitch
from tests.factories import commit
from tests.test_pool_views import (
    _SUGGESTION,
    World,
    _counts,
    _diff,
    _errors,
    _flashes,
    _login,
    _path,
    _pitch_row,
    _text,
)
from tests.test_pool_views import world as world  # noqa: F401  (the fixture)

_STEP = re.compile(r'<button type="submit" name="move-state" value="(\w+)">([^<]+)</button>')
_END = re.compile(r'<a class="button secondary danger" href="[^"]+/end/(\w+)">([^<]+)</a>')


def _pool(w: World) -> str:
    return f"/c/{w.slug}/pool"


def _page(client, w: World, pitch_id: int) -> str:
    response = client.get(f"{_pool(w)}/pitches/{pitch_id}")
    assert response.status_code == 200
    return _text(response)


def _cancel(client, w: World, pitch_id: int, version: int, reason: str):
    return client.post(f"{_pool(w)}/pitches/{pitch_id}/state",
                       data={"move-state": "cancelled", "move-version": str(version),
                             "move-note": reason})


# --- One button per legal next step ------------------------------------------------------


def test_the_pitch_page_offers_a_button_for_each_next_step_and_asks_before_the_ends(
        client, auth, world):
    _login(auth, world.coordinator)

    page = _page(client, world, world.open_pitch_id)
    assert _STEP.findall(page) == [("pitched", "Mark as pitched")]
    assert _END.findall(page) == [("cancelled", "Cancel the pitch…")]
    assert "<select" not in page[page.index('id="next-step"'):]

    page = _page(client, world, world.pitch_id)  # in progress: delivery asks for its checklist
    assert _STEP.findall(page) == []
    assert (f'<a class="button" href="/c/{world.slug}/standards/pitches/{world.pitch_id}/deliver">'
            "Mark delivered…</a>") in page
    assert _END.findall(page) == [("cancelled", "Cancel the pitch…")]


def test_walking_a_pitch_through_its_buttons_names_each_step(client, auth, setup, world):
    _login(auth, world.coordinator)
    pitch_id, seen = world.open_pitch_id, []
    for version, state in enumerate(["pitched", "won"], start=1):
        assert client.post(f"{_pool(world)}/pitches/{pitch_id}/state",
                           data={"move-state": state, "move-version": str(version)}
                           ).status_code == 302
        page = _page(client, world, pitch_id)
        seen.append((_STEP.findall(page), _END.findall(page)))

    assert seen == [
        ([("won", "Mark as won")], [("lost", "Mark as lost…"), ("cancelled", "Cancel the pitch…")]),
        ([("in_progress", "Start work")], [("cancelled", "Cancel the pitch…")]),
    ]
    assert _pitch_row(setup, pitch_id) == ("won", 3)


def test_members_see_no_next_steps_and_cannot_use_the_pages(client, auth, setup, world):
    _login(auth, world.alice)
    page = _page(client, world, world.pitch_id)
    assert 'id="next-step"' not in page and "Edit details" not in page
    before = _counts(setup)

    pages = [("GET", f"/pitches/{world.pitch_id}/end/cancelled"),
             ("GET", f"/pitches/{world.pitch_id}/edit"),
             ("GET", f"/clients/{world.client_id}/edit"),
             ("POST", f"/pitches/{world.pitch_id}/reopen")]
    for method, path in pages:
        response = client.open(f"{_pool(world)}{path}", method=method,
                               data={"move-note": "me", "move-version": "1"})
        assert response.status_code == 403, path
    assert _cancel(client, world, world.pitch_id, 5, "me").status_code == 403
    assert _counts(setup) == before


# --- Ends with a reason ------------------------------------------------------------------


def test_cancelling_asks_for_a_reason_first_and_keeps_it_in_the_history(client, auth, setup,
                                                                        world):
    _login(auth, world.coordinator)
    version = _pitch_row(setup, world.pitch_id)[1]

    confirm = client.get(f"{_pool(world)}/pitches/{world.pitch_id}/end/cancelled")
    assert confirm.status_code == 200
    page = _text(confirm)
    assert "<h1>Cancel the pitch?</h1>" in page
    assert 'name="move-state" type="hidden" value="cancelled"' in page
    assert "Why?" in page
    before = _counts(setup)

    refused = _cancel(client, world, world.pitch_id, version, "  ")
    assert refused.status_code == 422
    assert _errors(refused) == ["say why the pitch is cancelled: the reason is kept in its "
                                "history"]
    assert "<h1>Cancel the pitch?</h1>" in _text(refused)  # still the confirmation page
    assert _counts(setup) == before

    done = _cancel(client, world, world.pitch_id, version, "The client closed the account")
    assert done.status_code == 302
    assert _pitch_row(setup, world.pitch_id) == ("cancelled", version + 1)
    assert _diff(before, _counts(setup)) == {"PitchEvent": 1}
    page = _text(client.get(f"{_pool(world)}/pitches/{world.pitch_id}"))
    assert "The pitch is now cancelled." in page
    assert ("Cora Coordinator: in progress → cancelled. Why: "
            "<q>The client closed the account</q>") in page


def test_a_reason_typed_on_the_confirmation_page_stays_when_it_is_refused(client, auth, setup,
                                                                          world):
    _login(auth, world.coordinator)
    # Someone else moved the open pitch meanwhile: the confirmation page is stale.
    assert client.post(f"{_pool(world)}/pitches/{world.open_pitch_id}/state",
                       data={"move-state": "pitched", "move-version": "1"}).status_code == 302

    response = _cancel(client, world, world.open_pitch_id, 1, "Budget cut")

    assert response.status_code == 409
    assert "Budget cut</textarea>" in _text(response)
    assert any("changed by someone else" in m for c, m in _flashes(response) if c == "error")
    assert _pitch_row(setup, world.open_pitch_id) == ("pitched", 2)


def test_the_end_page_of_a_pitch_that_cannot_end_so_says_why(client, auth, setup, world):
    _login(auth, world.coordinator)

    lost = client.get(f"{_pool(world)}/pitches/{world.pitch_id}/end/lost")
    assert lost.status_code == 302
    assert _path(lost) == f"{_pool(world)}/pitches/{world.pitch_id}"
    page = _text(client.get(lost.headers["Location"]))
    assert ("a pitch that is in progress cannot become lost; it can go to: cancelled, "
            "delivered") in page
    assert client.get(f"{_pool(world)}/pitches/{world.pitch_id}/end/paid").status_code == 404


# --- Reopening ---------------------------------------------------------------------------


def test_a_coordinator_reopens_a_cancelled_pitch_and_its_members_log_time_again(
        client, auth, setup, world):
    _login(auth, world.coordinator)
    version = _pitch_row(setup, world.pitch_id)[1]
    assert _cancel(client, world, world.pitch_id, version, "by mistake").status_code == 302
    page = _page(client, world, world.pitch_id)
    assert _STEP.findall(page) == [] and _END.findall(page) == []
    assert "Reopen…" in page

    confirm = client.get(f"{_pool(world)}/pitches/{world.pitch_id}/reopen")
    assert confirm.status_code == 200 and "<h1>Reopen the pitch?</h1>" in _text(confirm)
    refused = client.post(f"{_pool(world)}/pitches/{world.pitch_id}/reopen",
                          data={"move-version": str(version + 1), "move-note": ""})
    assert refused.status_code == 422
    assert _errors(refused) == ["say why the pitch is reopened: the reason is kept in its "
                                "history"]

    done = client.post(f"{_pool(world)}/pitches/{world.pitch_id}/reopen",
                       data={"move-version": str(version + 1),
                             "move-note": "Cancelled by mistake; the work goes on"})
    assert done.status_code == 302
    assert _pitch_row(setup, world.pitch_id) == ("in_progress", version + 2)
    page = _page(client, world, world.pitch_id)
    assert "The pitch is reopened: it is in progress again." in page
    assert ("Cora Coordinator: reopened (cancelled → in progress). Why: "
            "<q>Cancelled by mistake; the work goes on</q>") in page

    _login(auth, world.alice)
    assert client.post(f"{_pool(world)}/my-work", data={
        "allocation_id": str(world.alice_allocation_id), "worked_on": date.today().isoformat(),
        "hours": "1"}).status_code == 302


def test_reopening_a_pitch_that_is_not_cancelled_by_hand_is_refused(client, auth, setup, world):
    _login(auth, world.coordinator)
    before = _counts(setup)

    response = client.post(f"{_pool(world)}/pitches/{world.open_pitch_id}/reopen",
                           data={"move-version": "1", "move-note": "why not"},
                           follow_redirects=True)

    assert [m for c, m in _flashes(response) if c == "error"] == [
        "only a lost or cancelled pitch can be reopened; this one is open"]
    assert _counts(setup) == before
    assert client.get(f"{_pool(world)}/pitches/{world.open_pitch_id}/reopen").status_code == 302


# --- Editing -----------------------------------------------------------------------------


def _edit_data(**change) -> dict:
    return {"title": "Annual report", "description": "", "required_skills": "editing 4",
            "estimated_hours": "40", "value": "5,000.00", "value_currency": "USD",
            "deadline_on": "", "finder_id": "{alice}", "version": "{version}", **change}


def test_editing_a_pitch_keeps_who_changed_what_in_its_history(client, auth, setup, world):
    _login(auth, world.coordinator)
    version = _pitch_row(setup, world.pitch_id)[1]
    form = _text(client.get(f"{_pool(world)}/pitches/{world.pitch_id}/edit"))
    assert re.search(r'<input[^>]*name="value"[^>]*value="5,000.00"', form)
    assert "\nediting 4</textarea>" in form
    assert f'name="version" type="hidden" value="{version}"' in form
    deadline = (date.today() + timedelta(days=20)).isoformat()
    data = {k: v.format(alice=world.alice_id, version=version)
            for k, v in _edit_data(value="6000", deadline_on=deadline,
                                   required_skills="editing 4, layout 2").items()}
    before = _counts(setup)

    response = client.post(f"{_pool(world)}/pitches/{world.pitch_id}/edit", data=data)

    assert response.status_code == 302, _errors(response)
    assert _diff(before, _counts(setup)) == {"PitchEvent": 1}
    with setup():
        pitch = db.session.get(Pitch, world.pitch_id)
        assert (pitch.value_amount, pitch.deadline_on.isoformat(), pitch.version) == (
            600_000, deadline, version + 1)
    page = _page(client, world, world.pitch_id)
    assert "The changes are saved in the pitch's history." in page
    history = page[page.index('<ol class="history">'):]
    assert "Cora Coordinator: edited the details" in history
    assert ("<strong>Value</strong>: <del>5,000.00 USD</del> → <ins>6,000.00 USD</ins>"
            in history)
    assert f"<strong>Deadline</strong>: <del>none</del> → <ins>{deadline}</ins>" in history
    assert ("<strong>Skills needed</strong>: <del>editing 4</del> → "
            "<ins>editing 4, layout 2</ins>") in history


def test_a_refused_edit_keeps_what_was_typed_and_changes_nothing(client, auth, setup, world):
    _login(auth, world.coordinator)
    version = _pitch_row(setup, world.pitch_id)[1]
    data = {k: v.format(alice=world.alice_id, version=version)
            for k, v in _edit_data(value="7,250.00", deadline_on="2021-03-01").items()}
    before = _counts(setup)

    response = client.post(f"{_pool(world)}/pitches/{world.pitch_id}/edit", data=data)

    assert response.status_code == 422
    assert _errors(response) == ["the deadline is in the past"]
    page = _text(response)
    assert 'value="7,250.00"' in page and 'value="2021-03-01"' in page
    assert _counts(setup) == before
    assert _pitch_row(setup, world.pitch_id) == ("in_progress", version)


def test_editing_a_client_changes_its_details(client, auth, setup, world):
    _login(auth, world.coordinator)
    listing = _text(client.get(f"{_pool(world)}/clients"))
    assert f'/clients/{world.client_id}/edit" aria-label="Edit Harbour Press"' in listing
    form = _text(client.get(f"{_pool(world)}/clients/{world.client_id}/edit"))
    assert 'name="name" required type="text" value="Harbour Press"' in form

    response = client.post(f"{_pool(world)}/clients/{world.client_id}/edit",
                           data={"name": "Harbour Press Ltd", "country": "nz",
                                 "contact": "Mere Tane", "notes": "Pays on the 20th"})

    assert response.status_code == 302
    with setup():
        row = db.session.get(Client, world.client_id)
        assert (row.name, row.country, row.contact, row.notes) == (
            "Harbour Press Ltd", "NZ", "Mere Tane", "Pays on the 20th")


def test_a_client_cannot_be_renamed_to_another_clients_name(client, auth, setup, world):
    with setup():
        coordinator = db.session.get(Membership, world.coordinator_id)
        from collective.pool import clients
        clients.create_client(coordinator, name="Oakfield Publishing")
        commit()
    _login(auth, world.coordinator)

    response = client.post(f"{_pool(world)}/clients/{world.client_id}/edit",
                           data={"name": "Oakfield Publishing", "contact": "typed"})

    assert response.status_code == 422
    assert _errors(response) == ["there is already a client called 'Oakfield Publishing'"]
    assert 'value="typed"' in _text(response)
    with setup():
        assert db.session.get(Client, world.client_id).name == "Harbour Press"


# --- Governance details ------------------------------------------------------------------


def test_the_log_time_form_offers_only_work_that_takes_time(client, auth, setup, world):
    now = datetime.now(UTC)
    with setup():
        coordinator = db.session.get(Membership, world.coordinator_id)
        open_pitch = db.session.get(Pitch, world.open_pitch_id)
        for state in ("pitched", "won"):
            pitches.transition_pitch(coordinator, open_pitch, state, at=now)
        won = allocation.allocate_member(coordinator, open_pitch, membership_id=world.alice_id)
        pitches.transition_pitch(coordinator, db.session.get(Pitch, world.pitch_id),
                                 "cancelled", note="client gone", at=now)
        won_id = won.id
        commit()
    _login(auth, world.alice)

    page = _text(client.get(f"{_pool(world)}/my-work"))

    select = page[page.index('name="allocation_id"'):page.index("</select>")]
    assert re.findall(r'<option[^>]*value="(\d+)"', select) == [str(won_id)]
    assert "Annual report</a>" in page  # the cancelled work is still listed, not offered


def test_allocation_suggestions_leave_out_members_already_on_the_pitch(client, auth, world):
    _login(auth, world.coordinator)

    page = _text(client.get(f"{_pool(world)}/pitches/{world.pitch_id}/allocate"))

    names = {name for name, _ in _SUGGESTION.findall(page)}
    # Alice, Bob and the founder are on the work; Cora and Tom are not.
    assert names == {"Cora Coordinator", "Tom Treasurer"}


def test_my_work_says_why_there_is_no_log_time_form_when_no_work_takes_time(client, auth,
                                                                           setup, world):
    with setup():
        coordinator = db.session.get(Membership, world.coordinator_id)
        pitches.transition_pitch(coordinator, db.session.get(Pitch, world.pitch_id),
                                 "cancelled", note="client gone", at=datetime.now(UTC))
        commit()
    _login(auth, world.alice)

    page = _text(client.get(f"{_pool(world)}/my-work"))

    assert 'name="allocation_id"' not in page
    assert "None of your work takes time right now" in page
    refused = client.post(f"{_pool(world)}/my-work", data={
        "allocation_id": str(world.alice_allocation_id), "worked_on": date.today().isoformat(),
        "hours": "1"})
    assert refused.status_code == 422
