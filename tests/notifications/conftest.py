"""Each test here looks only at the notifications and mail its own events made: rows other
test files committed for real (concurrency tests, say) are left out."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.mail.models import OutboxMessage
from collective.notifications.models import Notification
from tests.notifications import helpers


@pytest.fixture(autouse=True)
def only_this_tests_rows(app, db_session):
    with app.app_context():
        helpers.BASELINE["notification"] = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.max(Notification.id), 0)))
        helpers.BASELINE["outbox"] = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.max(OutboxMessage.id), 0)))
    yield
