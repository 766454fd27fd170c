"""Confirming an e-mail address: a link mailed at registration that works once for 48 hours,
what an unconfirmed account cannot do, sending the link again within limits, and changing
an address (a link to the new one, a notice to the old one, the change only on the link)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import time_machine

from collective.extensions import db
from collective.mail.jobs import deliver_outbox
from collective.mail.models import OutboxMessage
from collective.members import accounts
from collective.members.confirmations import make_confirmation_token
from collective.members.models import User
from tests.factories import PASSWORD, commit, make_collective, make_user
from tests.smtp_server import text_and_html

BANNER = "Confirm your address:"
IP = "198.51.100.7"


def _register(client, email: str = "nora@example.org"):
    return client.post("/register", data={
        "name": "Nora", "email": email, "password": PASSWORD, "confirm": PASSWORD,
        "timezone": "UTC"})


def _deliver(setup) -> None:
    with setup():
        deliver_outbox()


def _link_in(message) -> str:
    text, html = text_and_html(message)
    link = next(word for word in text.split() if "/email/confirm/" in word)
    assert f'href="{link}"' in html
    return link.split("collective.test", 1)[1]


def _user(email: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(email=email))


def _queued() -> int:
    return db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))


def test_registration_mails_a_link_that_confirms_the_address(client, setup, smtp):
    registered = _register(client)
    assert registered.status_code == 302
    page = client.get("/collectives").get_data(as_text=True)
    assert BANNER in page and "we sent a link to <strong>nora@example.org</strong>" in page
    _deliver(setup)
    [(recipients, message)] = smtp.inbox.received
    assert recipients == ["nora@example.org"]
    assert message["Subject"] == "Confirm your e-mail address for Collective"
    assert "48 hours" in text_and_html(message)[0]
    path = _link_in(message)
    shown = client.get(path)  # a GET only shows the button: nothing is written
    assert shown.status_code == 200 and "Confirm my address" in shown.get_data(as_text=True)
    with setup():
        assert _user("nora@example.org").email_confirmed_at is None
    confirmed = client.post(path)
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("/collectives")
    page = client.get("/collectives").get_data(as_text=True)
    assert "nora@example.org is confirmed" in page and BANNER not in page
    with setup():
        user = _user("nora@example.org")
        assert user.email_confirmed_at is not None
        assert accounts.email_confirmed(user) and accounts.may_email(user)


def test_a_link_works_without_signing_in(app, client, setup, smtp):
    _register(client)
    _deliver(setup)
    other = app.test_client()  # another device, not signed in
    confirmed = other.post(_link_in(smtp.inbox.messages[0]))
    assert confirmed.status_code == 302 and "/login" in confirmed.headers["Location"]
    with setup():
        assert _user("nora@example.org").email_confirmed_at is not None


def test_an_unconfirmed_account_signs_in_but_cannot_accept_an_invitation_for_its_address(
        client, auth, setup, smtp):
    with setup():
        founder = make_collective(slug="club").user.email
        unconfirmed = make_user(email="ines@example.org", confirmed=False)
        assert not accounts.may_email(unconfirmed) and not accounts.email_confirmed(unconfirmed)
        commit()
    auth.login(founder)
    page = client.post("/c/club/invitations",
                       data={"email": "ines@example.org", "roles": ["member"]})
    assert page.status_code == 200  # made: the inviter cannot tell the address is unconfirmed
    open_link = client.post("/c/club/invitations", data={"email": "", "roles": ["member"]})
    assert open_link.status_code == 200
    _deliver(setup)
    [invitation] = smtp.inbox.messages
    path = next(w for w in text_and_html(invitation)[0].split() if "/invite/" in w)
    path = path.split("collective.test", 1)[1]
    auth.logout()
    assert auth.login("ines@example.org").status_code == 302  # signing in works
    shown = client.get(path)
    body = shown.get_data(as_text=True)
    assert shown.status_code == 403 and "confirm that this address is yours first" in body
    assert "Accept and join" not in body and BANNER in body
    assert client.post(path).status_code == 403
    with setup():
        assert db.session.scalar(sa.text(
            "SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id "
            "WHERE u.email = 'ines@example.org'")) == 0
        user = _user("ines@example.org")
        token = make_confirmation_token(user, user.email, datetime.now(UTC))
        commit()
    client.post(f"/email/confirm/{token}")
    accepted = client.post(path)
    assert accepted.status_code == 302 and "/c/club/capacity" in accepted.headers["Location"]


def test_an_unconfirmed_account_may_accept_an_invitation_without_an_address(client, auth,
                                                                             setup):
    with setup():
        founder = make_collective(slug="open").user.email
        make_user(email="omar@example.org", confirmed=False)
        commit()
    auth.login(founder)
    page = client.post("/c/open/invitations", data={"email": "", "roles": ["member"]})
    path = next(w for w in page.get_data(as_text=True).split('"') if "/invite/" in w)
    path = "/invite/" + path.rsplit("/invite/", 1)[1]
    auth.logout()
    auth.login("omar@example.org")
    accepted = client.post(path)
    assert accepted.status_code == 302 and "/c/open/capacity" in accepted.headers["Location"]


def test_send_it_again_is_limited_per_address_and_answers_the_same(client, setup, smtp):
    client.environ_base["REMOTE_ADDR"] = IP  # a session is tied to its client's address
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        _register(client)
        answers = [client.post("/account/email/resend", follow_redirects=True)
                   for _ in range(5)]
        assert {a.status_code for a in answers} == {200}
        said = [a.get_data(as_text=True) for a in answers]
        assert all("A new link is on its way to nora@example.org" in s for s in said)
        with setup():
            assert _queued() == 1 + 3  # the registration's link, then three more
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        # (the session cookie is signed with the travelled clock: stay in its time)
        later = client.post("/account/email/resend")
        assert later.status_code == 303
        with setup():
            assert _queued() == 5
        _deliver(setup)
        assert [r for r, _ in smtp.inbox.received] == [["nora@example.org"]] * 5
        # Any of the links confirms; then every other one says it was used.
        paths = [_link_in(m) for m in smtp.inbox.messages]
        assert client.post(paths[2]).status_code == 302
        used = client.get(paths[0])
        assert used.status_code == 400 and "used already" in used.get_data(as_text=True)
        # A confirmed account asks in vain: nothing is queued.
        again = client.post("/account/email/resend", follow_redirects=True)
        assert "nora@example.org is confirmed already" in again.get_data(as_text=True)
        with setup():
            assert _queued() == 5


def test_one_ip_is_told_to_try_later_after_twenty_links(app, client, auth, setup):
    with setup():
        make_user(email="ivy@example.org", confirmed=False)
        commit()
    client.environ_base["REMOTE_ADDR"] = IP
    auth.login("ivy@example.org")
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    other.post("/login", data={"email": "ivy@example.org", "password": PASSWORD})
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        for n in range(20):
            asked = client.post("/account/email", data={
                "email": f"ivy{n}@example.org", "current_password": PASSWORD})
            assert asked.status_code == 302
        limited = client.post("/account/email/resend")
        assert limited.status_code == 429
        assert "try again later" in limited.get_data(as_text=True)
        elsewhere = other.post("/account/email/resend")
        assert elsewhere.status_code == 303
        with setup():
            assert _queued() == 21


def test_changing_an_address_needs_the_new_one_to_confirm_and_tells_the_old_one(
        client, auth, setup, smtp):
    with setup():
        make_user(name="Ana", email="ana@example.org")
        commit()
    auth.login("ana@example.org")
    profile = client.get("/account/profile").get_data(as_text=True)
    assert "Send a link to the new address" in profile and "(confirmed)" in profile
    asked = client.post("/account/email", data={"email": " Ana.New@Example.org ",
                                                 "current_password": PASSWORD})
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/account/email/sent")
    sent = client.get("/account/email/sent").get_data(as_text=True)
    assert "Check your new address" in sent and "ana.new@example.org" in sent
    _deliver(setup)
    by_recipient = {r[0]: m for r, m in smtp.inbox.received}
    assert set(by_recipient) == {"ana.new@example.org", "ana@example.org"}
    link_mail = by_recipient["ana.new@example.org"]
    assert link_mail["Subject"] == "Confirm your new e-mail address for Collective"
    notice = by_recipient["ana@example.org"]
    assert "is being changed" in notice["Subject"]
    notice_text = text_and_html(notice)[0]
    assert "from ana@example.org to ana.new@example.org" in notice_text
    assert "/email/confirm/" not in notice_text  # the old address gets no link
    with setup():  # nothing changed yet
        assert _user("ana@example.org") is not None and _user("ana.new@example.org") is None
    path = _link_in(link_mail)
    shown = client.get(path).get_data(as_text=True)
    assert "Change my address" in shown and "in place of ana@example.org" in shown
    assert client.post(path).status_code == 302
    with setup():
        assert _user("ana@example.org") is None
        assert _user("ana.new@example.org").email_confirmed_at is not None
    auth.logout()
    assert auth.login("ana@example.org").status_code == 200  # the old address signs in no more
    assert auth.login("ana.new@example.org").status_code == 302
    assert client.get(path).status_code == 400  # used


def test_a_change_is_refused_clearly_and_keeps_what_was_typed(client, auth, setup):
    with setup():
        make_user(email="ana@example.org")
        make_user(email="taken@example.org")
        commit()
    auth.login("ana@example.org")
    cases = [
        ({"email": "not an address", "current_password": PASSWORD}, "is not an e-mail address"),
        ({"email": "TAKEN@example.org", "current_password": PASSWORD},
         "an account with this e-mail already exists"),
        ({"email": "ana@example.org", "current_password": PASSWORD},
         "this is your address already"),
        ({"email": "fresh@example.org", "current_password": "wrong password!"},
         "the current password is not right"),
    ]
    for data, message in cases:
        page = client.post("/account/email", data=data)
        body = page.get_data(as_text=True)
        assert page.status_code == 422 and message in body, message
        assert f'value="{data["email"].strip()}"' in body
        assert 'id="name"' in body and "value=\"Person" in body  # the profile form is whole
    with setup():
        assert _queued() == 0


def test_a_new_password_stops_a_change_link(client, auth, setup, smtp):
    with setup():
        make_user(email="ana@example.org")
        commit()
    auth.login("ana@example.org")
    client.post("/account/email", data={"email": "thief@example.org",
                                        "current_password": PASSWORD})
    _deliver(setup)
    path = next(_link_in(m) for r, m in smtp.inbox.received if r == ["thief@example.org"])
    client.post("/account/password", data={"current_password": PASSWORD,
                                           "password": "a fresh passphrase",
                                           "confirm": "a fresh passphrase"})
    stale = client.post(path)
    assert stale.status_code == 400 and "used already" in stale.get_data(as_text=True)
    with setup():
        assert _user("ana@example.org") is not None


def test_a_link_expires_after_48_hours(client, setup, smtp):
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        _register(client)
        _deliver(setup)
    path = _link_in(smtp.inbox.messages[0])
    with time_machine.travel(start + timedelta(hours=47, minutes=59), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(start + timedelta(hours=48, minutes=1), tick=False):
        late = client.get(path)
        body = late.get_data(as_text=True)
        assert late.status_code == 400 and "has expired" in body
        assert 'action="/account/email/resend"' in body and "Send me a new link" in body
        assert client.post(path).status_code == 400
    with setup():
        assert _user("nora@example.org").email_confirmed_at is None


def test_a_tampered_link_gets_the_invalid_page_offering_a_new_one(client, setup):
    with setup():
        user = make_user(email="ana@example.org", confirmed=False)
        token = make_confirmation_token(user, "ana@example.org", datetime.now(UTC))
        other = make_confirmation_token(user, "evil@example.org", datetime.now(UTC))
        commit()
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    swapped = token.split(".")[0] + "." + other.split(".")[-1]
    for bad in (forged, swapped, "nonsense", "x" * 300):
        page = client.get(f"/email/confirm/{bad}")
        body = page.get_data(as_text=True)
        assert page.status_code == 400 and "not one we sent" in body
        assert "Sign in to ask for a new link" in body
        assert client.post(f"/email/confirm/{bad}").status_code == 400
    with setup():
        assert _user("ana@example.org").email_confirmed_at is None


def test_a_change_to_an_address_taken_meanwhile_is_refused_at_the_link(client, auth, setup,
                                                                       smtp):
    with setup():
        make_user(email="ana@example.org")
        commit()
    auth.login("ana@example.org")
    client.post("/account/email", data={"email": "both@example.org",
                                        "current_password": PASSWORD})
    _deliver(setup)
    path = next(_link_in(m) for r, m in smtp.inbox.received if r == ["both@example.org"])
    with setup():
        make_user(email="both@example.org")
        commit()
    late = client.post(path)
    assert late.status_code == 409
    assert "belongs to another account now" in late.get_data(as_text=True)
    with setup():
        assert _user("ana@example.org") is not None
