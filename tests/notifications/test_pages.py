"""The list, marking read, the menu's unread count, preferences and the unsubscribe page."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa

from collective.extensions import db
from collective.notifications import service
from collective.notifications.mailing import unsubscribe_token
from collective.notifications.models import Notification, NotificationPreference
from collective.notifications.service import notify
from tests.factories import commit, make_collective, make_member

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
BADGE = re.compile(r'Notifications <span class="nav-count">(\d+)<')


def _people(setup):
    with setup():
        founder = make_collective(slug="pages")
        ann = make_member(founder.collective)
        for n in (1, 2):
            notify(ann, kind="pitch_allocated", event_key=f"p:{n}", title=f"Ann's news {n}",
                   link="/c/pages/pool", now=NOW)
        notify(founder, kind="pitch_allocated", event_key="p:9", title="Founder's news",
               now=NOW)
        ids = {n.title: n.id for n in db.session.scalars(sa.select(Notification))}
        people = (founder.user.email, ann.user.email, ann.user_id)
        commit()
    return people, ids


def _unread(setup, user_id: int) -> int:
    with setup():
        return db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == user_id, Notification.read_at.is_(None)))


def _preference_rows(setup, user_id: int) -> int:
    with setup():
        return db.session.scalar(sa.select(sa.func.count(NotificationPreference.id))
                                 .filter_by(user_id=user_id))


def test_the_list_shows_only_my_notifications_and_the_menu_counts_the_unread(
        client, auth, setup):
    (founder_email, ann_email, ann_id), _ = _people(setup)
    auth.login(ann_email)
    page = client.get("/c/pages/notifications").get_data(as_text=True)
    assert "Ann&#39;s news 1" in page and "Ann&#39;s news 2" in page
    assert "Founder" not in page  # privacy: someone else's notification
    assert BADGE.findall(page) == ["2", "2"]  # the bar and the phone menu
    assert '<summary>Menu <span class="nav-count">2<' in page  # seen with the menu closed
    dashboard = client.get("/c/pages/dashboard").get_data(as_text=True)
    assert BADGE.findall(dashboard) == ["2", "2"]
    assert _unread(setup, ann_id) == 2  # looking writes nothing


def test_mark_one_read_opens_its_page_and_mark_all_clears_the_count(client, auth, setup):
    (founder_email, ann_email, ann_id), ids = _people(setup)
    auth.login(ann_email)
    ann_first, founders = ids["Ann's news 1"], ids["Founder's news"]
    response = client.post(f"/c/pages/notifications/{ann_first}/read", data={"go": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/c/pages/pool"
    assert _unread(setup, ann_id) == 1
    # Someone else's notification is not found, and stays unread.
    assert client.post(f"/c/pages/notifications/{founders}/read").status_code == 404
    with setup():
        assert db.session.get(Notification, founders).read_at is None
    client.post("/c/pages/notifications/read")
    assert _unread(setup, ann_id) == 0
    page = client.get("/c/pages/notifications").get_data(as_text=True)
    assert BADGE.findall(page) == [] and 'class="nav-count"' not in page


def test_preferences_are_saved_per_kind_and_a_bad_value_changes_nothing(client, auth, setup):
    (founder_email, ann_email, ann_id), _ = _people(setup)
    auth.login(ann_email)
    page = client.get("/c/pages/notifications/settings").get_data(as_text=True)
    assert 'name="payout_sent" value="email" checked' in page  # money: e-mail by default
    assert 'name="proposal_opened" value="app" checked' in page
    response = client.post("/c/pages/notifications/settings",
                           data={"payout_sent": "digest", "proposal_opened": "email"})
    assert response.status_code == 302
    with setup():
        assert service.preferences(ann_id)["payout_sent"] == "digest"
        assert service.preferences(ann_id)["proposal_opened"] == "email"
    bad = client.post("/c/pages/notifications/settings",
                      data={"payout_sent": "app", "proposal_opened": "pigeon"})
    assert bad.status_code == 200 and "choose one of the offered ways" in bad.get_data(
        as_text=True)
    with setup():
        assert service.preferences(ann_id)["payout_sent"] == "digest"  # nothing half-written


def test_unsubscribe_get_writes_nothing_and_a_tampered_token_is_refused(app, client, setup):
    (founder_email, ann_email, ann_id), _ = _people(setup)
    with app.app_context():
        token = unsubscribe_token(ann_id, "payout_sent")
    page = client.get(f"/notifications/unsubscribe/{token}")
    assert page.status_code == 200
    assert "Stop e-mail about: a payout was sent to you?" in page.get_data(as_text=True)
    assert _preference_rows(setup, ann_id) == 0
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/notifications/unsubscribe/{tampered}").status_code == 404
    assert client.post(f"/notifications/unsubscribe/{tampered}").status_code == 404
    with app.app_context():
        forged = unsubscribe_token(ann_id, "payout_sent").replace(str(ann_id), "1", 1)
    assert client.post(f"/notifications/unsubscribe/{forged}x").status_code == 404
    assert _preference_rows(setup, ann_id) == 0
    done = client.post(f"/notifications/unsubscribe/{token}")
    assert done.status_code == 200 and "Done" in done.get_data(as_text=True)
    with setup():
        assert service.channel_for(ann_id, "payout_sent") == "app"


def test_the_pages_need_a_member(client, auth, setup):
    (founder_email, ann_email, ann_id), _ = _people(setup)
    assert client.get("/c/pages/notifications").status_code == 302  # sign in first
    with setup():
        outsider = make_collective(slug="elsewhere").user.email
        commit()
    auth.login(outsider)
    assert client.get("/c/pages/notifications").status_code == 404
    assert client.post("/c/pages/notifications/read").status_code == 404
