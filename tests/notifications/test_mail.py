"""Preferences decide the mail: in the app only, e-mailed at once (delivered over SMTP with a
one-click unsubscribe), or one digest a day."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from collective.extensions import db
from collective.mail.jobs import deliver_outbox
from collective.notifications import service
from collective.notifications.jobs import send_digests
from collective.notifications.models import Notification
from collective.notifications.service import notify
from tests.factories import commit, make_collective, make_member
from tests.notifications.helpers import mailed
from tests.smtp_server import text_and_html

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _pair():
    founder = make_collective(slug="told")
    return founder, make_member(founder.collective)


def _tell(member, key: str, kind: str = "payout_sent"):
    return notify(member, kind=kind, event_key=key, title=f"Event {key}", body="Details.",
                  link=f"/c/{member.collective.slug}/pool/shares", now=NOW)


def test_in_app_only_queues_no_mail(ctx):
    founder, ann = _pair()
    service.set_preference(ann.user_id, "payout_sent", "app")
    assert _tell(ann, "a:1") is not None
    assert mailed("notification:") == []


def test_email_now_is_delivered_once_with_a_link_and_a_one_click_unsubscribe(
        app, ctx, smtp, client):
    founder, ann = _pair()
    _tell(ann, "b:1")  # payout_sent: e-mailed at once by default
    email, user_id = ann.user.email, ann.user_id
    commit()
    assert len(deliver_outbox(NOW).sent) == 1
    assert deliver_outbox(NOW + timedelta(minutes=5)).sent == []
    [(recipients, message)] = smtp.inbox.received
    assert recipients == [email]
    assert message["Subject"] == "Event b:1"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = text_and_html(message)
    assert "http://collective.test/c/told/pool/shares" in text
    assert 'href="http://collective.test/c/told/pool/shares"' in html
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    # On the wire the URL is as it is: not cut into RFC 2047 encoded words.
    raw = dict(message.raw_items())["List-Unsubscribe"]
    assert raw == f"<{unsubscribe}>" and unsubscribe.startswith(
        "http://collective.test/notifications/unsubscribe/")
    assert unsubscribe in text
    # What the mail client does: POST List-Unsubscribe=One-Click, no session, no CSRF token.
    # (The suite runs with CSRF on; this client leaves the token out.)
    client.adds_csrf_token = False
    response = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert service.channel_for(user_id, "payout_sent") == "app"


def test_a_digest_gathers_the_days_notifications_into_one_mail_once(ctx, smtp):
    founder, ann = _pair()
    service.set_preference(ann.user_id, "payout_sent", "digest")
    service.set_preference(ann.user_id, "pitch_allocated", "digest")
    _tell(ann, "c:1")
    _tell(ann, "c:2", kind="pitch_allocated")
    _tell(founder, "c:3", kind="pitch_allocated")  # the founder's default: the app only
    assert mailed("notification:") == []  # nothing at once
    commit()
    evening = NOW + timedelta(hours=10)
    assert send_digests(evening) == [ann.user_id]
    assert send_digests(evening) == []  # the same day again: nothing more
    [digest] = mailed("digest:")
    assert digest.event_key == f"digest:{ann.user_id}:2026-11-26"
    assert digest.subject == "Your Collective digest: 2 notifications"
    assert "Event c:1" in digest.text_body and "Event c:2" in digest.text_body
    assert "Event c:3" not in digest.text_body
    deliver_outbox(evening)
    [(recipients, message)] = smtp.inbox.received
    assert recipients == [ann.user.email]
    assert message["List-Unsubscribe"].startswith("<http://collective.test/notifications/")
    mailed_at = db.session.scalars(sa.select(Notification.mailed_at).where(
        Notification.event_key.in_(["c:1", "c:2"]))).all()
    assert mailed_at == [evening, evening]


def test_unconfirmed_addresses_are_not_mailed_when_accounts_record_it(ctx):
    """The hook for e-mail confirmation: may_email reads User.email_confirmed_at if the
    account has it (None: unconfirmed)."""
    from collective.notifications.mailing import may_email

    class Unconfirmed:
        email_confirmed_at = None

    founder, ann = _pair()
    assert may_email(ann.user) is True
    assert may_email(Unconfirmed()) is False


def test_a_digest_that_was_already_queued_today_keeps_later_ones_for_tomorrow(ctx):
    founder, ann = _pair()
    service.set_preference(ann.user_id, "payout_sent", "digest")
    _tell(ann, "d:1")
    assert send_digests(NOW) == [ann.user_id]
    _tell(ann, "d:2")
    assert send_digests(NOW + timedelta(hours=1)) == []  # today's digest went already
    assert send_digests(NOW + timedelta(days=1)) == [ann.user_id]
    assert [m.event_key for m in mailed("digest:")] == [
        f"digest:{ann.user_id}:2026-11-26", f"digest:{ann.user_id}:2026-11-27"]
    assert mailed("notification:") == []
