"""The outbox: queued in the caller's transaction, one row per (event, recipient), delivered
by the job to a real SMTP server with retries, backoff and a stable Message-ID."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from collective.errors import DomainError
from collective.extensions import db
from collective.mail.jobs import deliver_outbox
from collective.mail.models import OutboxMessage, OutboxStatus
from collective.mail.outbox import MAX_BACKOFF, backoff, claim_next, queue_mail
from collective.scheduling import build_scheduler
from collective.transactions import transaction
from tests.smtp_server import REFUSED, text_and_html

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _queue(event: str = "test:1", to: str = "ana@example.test", now: datetime = NOW,
           **extra) -> OutboxMessage | None:
    return queue_mail(event_key=event, to=to, subject=f"About {event}",
                      template="password_reset", now=now,
                      context={"name": "Ana", "email": to, "link": f"https://x.test/{event}"},
                      **extra)


def _rows() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_one_event_queues_one_row_per_recipient(ctx):
    first = _queue("vote:7", "ana@example.test")
    again = _queue("vote:7", "ANA@example.test ")
    other = _queue("vote:7", "ben@example.test")
    assert first is not None and other is not None
    assert again is None
    assert [(r.event_key, r.recipient) for r in _rows()] == [
        ("vote:7", "ana@example.test"), ("vote:7", "ben@example.test")]
    assert first.status == OutboxStatus.PENDING and first.attempts == 0
    assert first.next_attempt_at == NOW
    assert first.message_id.startswith("<") and first.message_id != other.message_id


def test_a_queued_message_has_both_parts_rendered(ctx):
    row = _queue("vote:8")
    assert "https://x.test/vote:8" in row.text_body
    assert 'href="https://x.test/vote:8"' in row.html_body
    assert row.html_body.lstrip().startswith("<!doctype html>")


def test_a_rolled_back_transaction_queues_nothing(ctx):
    with pytest.raises(RuntimeError), transaction():
        _queue("claim:1")
        assert len(_rows()) == 1
        raise RuntimeError("the change failed")
    assert _rows() == []


def test_an_invalid_address_is_refused(ctx):
    with pytest.raises(DomainError, match="not an e-mail address"):
        _queue(to="not an address")
    with pytest.raises(DomainError):
        _queue(to="ana@localhost")
    assert _rows() == []


def test_the_server_receives_recipients_subject_both_parts_and_the_rows_message_id(ctx, smtp):
    row = _queue("vote:9", "ana@example.test")
    db.session.commit()
    done = deliver_outbox(NOW)
    assert done.sent == [row.id]
    [(recipients, message)] = smtp.inbox.received
    assert recipients == ["ana@example.test"]
    assert message["Subject"] == "About vote:9"
    assert message["From"] == "Collective <noreply@collective.test>"
    assert message["Message-ID"] == row.message_id
    text, html = text_and_html(message)
    assert "https://x.test/vote:9" in text and 'href="https://x.test/vote:9"' in html
    assert row.status == OutboxStatus.SENT and row.sent_at == NOW and row.attempts == 1
    assert deliver_outbox(NOW + timedelta(minutes=5)).sent == []  # sent once only


def test_a_message_is_not_sent_before_its_time(ctx, smtp):
    _queue("later:1", now=NOW + timedelta(minutes=10))
    assert deliver_outbox(NOW).sent == []
    assert smtp.inbox.received == []


def test_a_server_that_is_down_delays_mail_and_every_message_arrives_exactly_once(ctx, smtp):
    smtp.stop()
    with time_machine.travel(NOW, tick=False):
        rows = [_queue(f"payment:{n}", f"member{n}@example.test", now=NOW) for n in range(4)]
        db.session.commit()
        done = deliver_outbox()
    assert done.sent == [] and sorted(done.retrying) == sorted(r.id for r in rows)
    for row in rows:
        assert row.status == OutboxStatus.PENDING
        assert row.attempts == 1
        assert row.next_attempt_at == NOW + timedelta(seconds=60)
        assert "ConnectionRefusedError" in row.last_error
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        assert deliver_outbox().retrying == []  # the backoff is not over: nothing tried
    assert {row.attempts for row in rows} == {1}

    smtp.start()
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        assert sorted(deliver_outbox().sent) == sorted(r.id for r in rows)
        assert deliver_outbox().sent == []
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        assert deliver_outbox().sent == []
    received = [m["Message-ID"] for m in smtp.inbox.messages]
    assert sorted(received) == sorted(row.message_id for row in rows)  # each exactly once
    assert sorted(m["To"] for m in smtp.inbox.messages) == [
        f"member{n}@example.test" for n in range(4)]
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert {row.attempts for row in rows} == {2}


def test_a_message_that_keeps_failing_is_marked_failed_after_the_set_tries(ctx, smtp, app,
                                                                            monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    smtp.stop()
    row = _queue("fund-run:1")
    waits = []
    moment = NOW
    for _ in range(3):
        deliver_outbox(moment)
        waits.append(row.next_attempt_at - moment)
        moment = row.next_attempt_at
    assert row.status == OutboxStatus.FAILED and row.attempts == 3
    assert waits[:2] == [timedelta(minutes=1), timedelta(minutes=2)]
    smtp.start()
    assert deliver_outbox(moment + timedelta(days=1)).sent == []  # failed is not retried
    assert smtp.inbox.received == []


def test_a_recipient_refused_for_good_fails_at_once(ctx, smtp):
    refused = _queue("vote:10", REFUSED)
    fine = _queue("vote:10", "ana@example.test")
    done = deliver_outbox(NOW)
    assert done.failed == [refused.id] and done.sent == [fine.id]
    assert refused.status == OutboxStatus.FAILED and refused.attempts == 1
    assert "550" in refused.last_error
    assert [m["To"] for m in smtp.inbox.messages] == ["ana@example.test"]


def test_backoff_doubles_and_stops_growing_at_the_cap():
    first = timedelta(minutes=1)
    assert [backoff(n, first) for n in (1, 2, 3, 4)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(30, first) == MAX_BACKOFF


def test_without_a_server_outside_development_mail_waits_in_the_outbox(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "COLLECTIVE_ENV", "production")
    row = _queue("vote:11")
    done = deliver_outbox(NOW + timedelta(days=3))
    assert done.configured is False
    assert row.status == OutboxStatus.PENDING and row.attempts == 0


def test_the_scheduler_delivers_the_outbox_every_minute(app):
    scheduler = build_scheduler(app, blocking=False)
    job = scheduler.get_job("mail-outbox")
    assert job is not None and job.trigger.interval == timedelta(minutes=1)
    assert {"fund-runs", "close-proposals"} <= {j.id for j in scheduler.get_jobs()}


def test_two_deliverers_never_claim_the_same_row(app, database_url):
    """PostgreSQL: a row one scheduler holds is skipped by the other (SKIP LOCKED)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time; SKIP LOCKED is PostgreSQL's")
    with app.app_context():
        ids = [_queue(f"skip-locked:{n}").id for n in range(2)]
        db.session.commit()
        try:
            with db.engine.connect() as other:
                other.begin()
                held = other.execute(
                    sa.select(OutboxMessage.id).where(OutboxMessage.id.in_(ids))
                    .order_by(OutboxMessage.id).limit(1).with_for_update(skip_locked=True)
                ).scalar()
                assert held == ids[0]
                claimed = claim_next(NOW + timedelta(minutes=1))
                assert claimed is not None and claimed.id == ids[1]
                db.session.rollback()
                other.rollback()
        finally:
            db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
            db.session.commit()


def test_a_subject_is_one_line(ctx):
    row = queue_mail(event_key="x:1", to="ana@example.test", subject="Hi\r\nBcc: evil@x.test",
                     template="password_reset", now=NOW,
                     context={"name": "Ana", "email": "a", "link": "l"})
    assert row.subject == "Hi Bcc: evil@x.test"


def test_a_row_no_message_can_be_made_of_is_failed_and_does_not_block_the_queue(ctx, smtp):
    broken = _queue("broken:1", "ana@example.test")
    broken.headers = {"X-Bad": "line\nbreak"}  # written by hand: a header with a line break
    fine = _queue("fine:1", "ben@example.test")
    db.session.flush()
    done = deliver_outbox(NOW)
    assert done.failed == [broken.id] and done.sent == [fine.id]
    assert broken.status == OutboxStatus.FAILED and "ValueError" in broken.last_error
    assert [m["To"] for m in smtp.inbox.messages] == ["ben@example.test"]
