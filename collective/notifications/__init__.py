"""Notifications: what members are told (docs/notifications.md).

A service where something happens calls `service.notify(membership, ...)` in its own
transaction, once per person the event concerns. The notification is stored (the in-app list
and the unread count in the menu) and, by the recipient's preference for its kind, e-mailed at
once through the mail outbox or left for the daily digest. A unique (event key, user) keeps
one notification per event and person; a rolled-back change notifies nobody.

Modules
-------
- kinds.py: the kinds of notification, their labels and default channels.
- models.py: the notification row and the per-user preference.
- service.py: `notify`, the list, marking read, the unread count, preferences.
- mailing.py: the e-mail of one notification, the daily digest, signed unsubscribe links.
- jobs.py: the scheduler's digest job.
- views.py: the list, mark read, preferences and the one-click unsubscribe.

The package sits below members in the layers: it knows memberships and users only through
the attributes it reads (id, user_id, collective_id, user.email, user.name, user.timezone).
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the notification pages and the menu's unread count."""
    from collective.notifications import views

    app.register_blueprint(views.bp)
    app.jinja_env.globals["unread_notifications"] = views.unread_for_menu
