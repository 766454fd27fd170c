"""Forgot your password: the same answer for every address, a mailed single-use link that
lasts an hour, other sessions signed out, and limits per address and per IP."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import time_machine

from collective.extensions import db
from collective.mail.jobs import deliver_outbox
from collective.mail.models import OutboxMessage
from collective.members.resets import make_reset_token
from tests.factories import PASSWORD, commit, make_collective, make_user
from tests.smtp_server import text_and_html

NEW_PASSWORD = "a brand new passphrase"
SENT_PAGE = "If that address has an account, a message with a link"


def _user(setup, email: str = "ana@example.org") -> str:
    with setup():
        make_user(name="Ana", email=email)
        commit()
    return email


def _ask(client, email: str, ip: str = "198.51.100.7"):
    return client.post("/password/forgot", data={"email": email},
                       environ_base={"REMOTE_ADDR": ip}, follow_redirects=True)


def _mailed_link(setup, smtp) -> str:
    with setup():
        deliver_outbox()
    message = smtp.inbox.messages[-1]
    text, html = text_and_html(message)
    link = next(word for word in text.split() if "/password/reset/" in word)
    assert f'href="{link}"' in html
    return link.split("collective.test", 1)[1]


def _queued() -> int:
    return db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))


def test_the_sign_in_page_offers_a_reset(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in page and "Forgot your password?" in page


def test_a_mailed_link_sets_a_new_password_and_signs_in(client, setup, smtp):
    email = _user(setup)
    page = _ask(client, "  ANA@example.org ")
    assert page.status_code == 200 and SENT_PAGE in page.get_data(as_text=True)
    path = _mailed_link(setup, smtp)
    [(recipients, message)] = smtp.inbox.received
    assert recipients == [email] and message["Subject"] == "Set a new password for Collective"
    assert "one hour" in text_and_html(message)[0]
    assert client.get(path).status_code == 200
    weak = client.post(path, data={"password": "short", "confirm": "short"})
    assert weak.status_code == 422  # the registration rule: at least 10 characters
    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/collectives")
    assert client.get("/collectives").status_code == 200  # signed in
    client.post("/logout")
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 200
    assert client.post("/login", data={"email": email, "password": NEW_PASSWORD}
                       ).status_code == 302


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, setup, smtp):
    _user(setup)
    known = _ask(client, "ana@example.org").get_data(as_text=True)
    unknown = _ask(client, "nobody@example.org").get_data(as_text=True)
    assert SENT_PAGE in unknown and unknown == known
    with setup():
        assert _queued() == 1
        deliver_outbox()
    assert [m["To"] for m in smtp.inbox.messages] == ["ana@example.org"]


def test_a_used_link_cannot_be_used_again(client, setup, smtp):
    _user(setup)
    _ask(client, "ana@example.org")
    path = _mailed_link(setup, smtp)
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    again = client.get(path)
    assert again.status_code == 400
    body = again.get_data(as_text=True)
    assert "has been used already" in body and 'href="/password/forgot"' in body
    assert client.post(path, data={"password": "another passphrase!",
                                   "confirm": "another passphrase!"}).status_code == 400


def test_a_link_expires_after_an_hour(client, setup, smtp):
    _user(setup)
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        _ask(client, "ana@example.org")
        path = _mailed_link(setup, smtp)
    with time_machine.travel(start + timedelta(minutes=59), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        late = client.get(path)
        assert late.status_code == 400 and "has expired" in late.get_data(as_text=True)
        assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
                           ).status_code == 400


def test_a_tampered_link_gets_the_invalid_page(client, setup):
    with setup():
        user = make_user(email="ana@example.org")
        token = make_reset_token(user, datetime.now(UTC))
        commit()
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for bad in (forged, "nonsense", "x" * 300):
        page = client.get(f"/password/reset/{bad}")
        assert page.status_code == 400
        assert "not one we sent" in page.get_data(as_text=True)


def test_setting_a_new_password_signs_out_every_other_session(app, client, setup, smtp):
    with setup():
        slug = "resets"
        email = make_collective(make_user(email="ana@example.org"), slug=slug).user.email
        commit()
    other = app.test_client()
    other.post("/login", data={"email": email, "password": PASSWORD, "remember": "y"})
    assert other.get(f"/c/{slug}/members").status_code == 200
    _ask(client, email)
    client.post(_mailed_link(setup, smtp), data={"password": NEW_PASSWORD,
                                                 "confirm": NEW_PASSWORD})
    assert client.get(f"/c/{slug}/members").status_code == 200
    signed_out = other.get(f"/c/{slug}/members")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]


def test_an_address_gets_at_most_three_mails_an_hour_and_the_answer_never_changes(
        client, setup, smtp):
    _user(setup)
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        pages = [_ask(client, "ana@example.org", ip=f"203.0.113.{n}") for n in range(5)]
    assert {p.status_code for p in pages} == {200}
    assert all(SENT_PAGE in p.get_data(as_text=True) for p in pages)
    with setup():
        assert _queued() == 3
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        _ask(client, "ana@example.org")
        with setup():
            assert _queued() == 4


def test_one_ip_may_ask_twenty_times_an_hour_then_is_told_to_try_later(client, setup):
    _user(setup)
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        for n in range(20):
            assert SENT_PAGE in _ask(client, f"person{n}@example.org").get_data(as_text=True)
        limited = _ask(client, "ana@example.org")
        assert limited.status_code == 429
        assert "try again later" in limited.get_data(as_text=True)
        other_ip = _ask(client, "ana@example.org", ip="192.0.2.1")
        assert SENT_PAGE in other_ip.get_data(as_text=True)
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert SENT_PAGE in _ask(client, "person0@example.org").get_data(as_text=True)


def test_a_bad_address_is_a_form_error_that_keeps_what_was_typed(client):
    page = client.post("/password/forgot", data={"email": "not-an-address"})
    assert page.status_code == 422
    assert 'value="not-an-address"' in page.get_data(as_text=True)
