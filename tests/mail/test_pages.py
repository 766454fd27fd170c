"""The development mail folder and /dev/mail, the treasurers' banner and failed-mail page,
and invitations mailed to the address they name."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from collective.extensions import db
from collective.mail.jobs import deliver_outbox
from collective.mail.models import OutboxMessage, OutboxStatus
from collective.mail.outbox import queue_mail
from collective.roles import Role
from tests.factories import commit, make_collective, make_member
from tests.smtp_server import text_and_html

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _queue(event: str, to: str, collective_id: int | None = None) -> OutboxMessage:
    return queue_mail(event_key=event, to=to, subject=f"Hello from {event}",
                      template="password_reset", now=NOW, collective_id=collective_id,
                      context={"name": "Ana", "email": to, "link": "http://collective.test/x"})


def _development(app, monkeypatch, folder) -> None:
    monkeypatch.setitem(app.config, "COLLECTIVE_ENV", "development")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "MAIL_FILE_DIR", str(folder))


def test_development_writes_eml_files_that_dev_mail_lists_and_shows(
        app, client, auth, setup, monkeypatch, tmp_path):
    _development(app, monkeypatch, tmp_path)
    with setup():
        email = make_collective().user.email
        row = _queue("dev:1", "ana@example.test")
        message_id = row.message_id
        commit()
        assert deliver_outbox(NOW).sent == [row.id]
        assert deliver_outbox(NOW).sent == []
    [eml] = list(tmp_path.glob("*.eml"))
    assert message_id.encode() in eml.read_bytes()
    auth.login(email)
    listing = client.get("/dev/mail").get_data(as_text=True)
    assert "Hello from dev:1" in listing and "ana@example.test" in listing
    page = client.get(f"/dev/mail/{eml.name}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert '<a href="http://collective.test/x"' in body  # the text part's link is clickable
    assert "srcdoc=" in body and message_id.replace("<", "&lt;").replace(">", "&gt;") in body
    assert client.get("/dev/mail/..%2Fcollective-test.sqlite3").status_code == 404
    assert client.get("/dev/mail/missing.eml").status_code == 404


def test_dev_mail_is_not_found_outside_development(app, client, auth, setup, monkeypatch,
                                                   tmp_path):
    monkeypatch.setitem(app.config, "MAIL_FILE_DIR", str(tmp_path))
    (tmp_path / "a.eml").write_bytes(b"Subject: hi\r\n\r\nbody\r\n")
    with setup():
        email = make_collective().user.email
        commit()
    auth.login(email)
    assert client.get("/dev/mail").status_code == 404
    assert client.get("/dev/mail/a.eml").status_code == 404


def test_dev_mail_needs_a_signed_in_user(app, client, monkeypatch, tmp_path):
    _development(app, monkeypatch, tmp_path)
    response = client.get("/dev/mail")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_production_without_a_mail_server_shows_treasurers_a_banner(app, client, auth, setup,
                                                                   monkeypatch):
    monkeypatch.setitem(app.config, "COLLECTIVE_ENV", "production")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    with setup():
        founder = make_collective(slug="banner")
        member = make_member(founder.collective, roles=(Role.MEMBER,))
        _queue("inv:1", "x@example.test", collective_id=founder.collective_id)
        treasurer_email, member_email = founder.user.email, member.user.email
        commit()
    auth.login(treasurer_email)
    page = client.get("/c/banner/members").get_data(as_text=True)
    assert "E-mail is not set up." in page
    assert "1 message of this collective is waiting" in page
    auth.logout()
    auth.login(member_email)
    assert "E-mail is not set up." not in client.get("/c/banner/members").get_data(as_text=True)


def test_no_banner_when_mail_is_configured_and_nothing_failed(app, client, auth, setup,
                                                              monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.test")
    with setup():
        email = make_collective(slug="quiet").user.email
        commit()
    auth.login(email)
    assert "mail-banner" not in client.get("/c/quiet/members").get_data(as_text=True)


def test_treasurers_see_failed_mail_and_can_send_it_again(app, client, auth, setup):
    with setup():
        founder = make_collective(slug="failing")
        member = make_member(founder.collective, roles=(Role.COORDINATOR,))
        row = _queue("inv:2", "gone@example.test", collective_id=founder.collective_id)
        row.status, row.attempts, row.last_error = OutboxStatus.FAILED, 8, "550 no mailbox"
        row_id, message_id = row.id, row.message_id
        emails = founder.user.email, member.user.email
        commit()
    auth.login(emails[1])
    assert client.get("/c/failing/mail").status_code == 403
    assert "could not be delivered" not in client.get("/c/failing/members").get_data(
        as_text=True)
    auth.logout()
    auth.login(emails[0])
    assert "1 message could not be delivered" in client.get("/c/failing/members").get_data(
        as_text=True)
    page = client.get("/c/failing/mail").get_data(as_text=True)
    assert "gone@example.test" in page and "550 no mailbox" in page
    response = client.post(f"/c/failing/mail/{row_id}/retry")
    assert response.status_code == 302
    with setup():
        again = db.session.get(OutboxMessage, row_id)
        assert (again.status, again.attempts, again.message_id) == (
            OutboxStatus.PENDING, 0, message_id)
    assert client.post(f"/c/failing/mail/{row_id}/retry").status_code == 302  # not failed now


def test_an_invitation_for_an_address_is_mailed_with_a_link_that_works(app, client, auth,
                                                                        setup, smtp):
    with setup():
        founder = make_collective(slug="inviting")
        founder_email = founder.user.email
        commit()
    auth.login(founder_email)
    page = client.post("/c/inviting/invitations",
                       data={"email": "New.Person@Example.org", "roles": ["member"]})
    assert page.status_code == 200
    assert "The invitation is mailed to new.person@example.org" in page.get_data(as_text=True)
    client.post("/c/inviting/invitations", data={"email": "", "roles": ["member"]})
    with setup():
        assert deliver_outbox().sent
    [(recipients, message)] = smtp.inbox.received  # the link without an address: no mail
    assert recipients == ["new.person@example.org"]
    assert "invites you to join" in message["Subject"]
    text, html = text_and_html(message)
    link = next(word for word in text.split() if "/invite/" in word)
    assert f'href="{link}"' in html
    auth.logout()
    client.post("/register", data={"name": "New Person", "email": "new.person@example.org",
                                   "password": "a long enough password",
                                   "confirm": "a long enough password", "timezone": "UTC"})
    path = link.split("collective.test", 1)[1]
    # The new account confirms its address first, by the link mailed at registration.
    assert client.post(path).status_code == 403
    with setup():
        assert len(deliver_outbox().sent) == 1
    assert smtp.inbox.received[-1][0] == ["new.person@example.org"]
    confirm = next(word for word in text_and_html(smtp.inbox.messages[-1])[0].split()
                   if "/email/confirm/" in word).split("collective.test", 1)[1]
    assert client.post(confirm).status_code == 302
    assert client.get(path).status_code == 200
    accepted = client.post(path)
    assert accepted.status_code == 302 and "/c/inviting/capacity" in accepted.headers["Location"]
    with setup():
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 2


def test_production_without_a_mail_server_starts_and_logs_a_clear_warning(database_url,
                                                                          caplog):
    from collective import create_app

    with caplog.at_level("WARNING", logger="collective.mail"):
        app = create_app({"COLLECTIVE_ENV": "production", "MAIL_SERVER": "",
                          "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x"})
    with app.app_context():
        db.engine.dispose()
    assert any("MAIL_SERVER is not set" in r.getMessage() and "none is lost" in r.getMessage()
               for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="collective.mail"):
        configured = create_app({"COLLECTIVE_ENV": "production",
                                 "MAIL_SERVER": "smtp.example.org",
                                 "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x"})
    with configured.app_context():
        db.engine.dispose()
    assert not any("MAIL_SERVER" in r.getMessage() for r in caplog.records)
