"""Two treasurers issuing at the same moment on PostgreSQL get consecutive numbers: no gap,
no duplicate. These tests commit for real, each thread with its own connection."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from collective.books.invoices import adjustments, issuing
from collective.books.invoices.models import CreditNote, Invoice
from collective.extensions import db
from collective.members.models import Membership, Role
from collective.pool.models import PitchState
from tests.books.invoice_factories import TODAY, delivered_work, draft, issued, set_up_invoicing
from tests.factories import make_collective, make_member

ROUNDS = 3
#: Won work has nobody allocated yet: these committed rows stay out of tests that count
#: allocations across the whole database.
WON = PitchState.WON


def _race(app, actions) -> list[object]:
    """Run the actions at once, each in its own thread, app context and transaction."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[object] = [None] * len(actions)

    def run(i, action):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                outcomes[i] = action()
                db.session.commit()
            except Exception as exc:  # reported by the assertions
                db.session.rollback()
                outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.fixture
def two_treasurers(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite runs one writer at a time (writes begin IMMEDIATE): issuers "
                        "queue and cannot overlap; the race is PostgreSQL's")
        founder = make_collective()
        second = make_member(founder.collective, roles=(Role.MEMBER, Role.TREASURER))
        vat = set_up_invoicing(founder, prefix="RACE")
        drafts = [draft(founder, delivered_work(founder, client_name=f"Client {n}",
                                                  state=WON), vat).id
                  for n in range(2 * ROUNDS)]
        db.session.commit()
        return founder.id, second.id, drafts, founder.collective_id


def test_two_treasurers_issuing_at_once_get_consecutive_numbers(app, two_treasurers):
    first, second, drafts, collective_id = two_treasurers

    def issue(actor_id, invoice_id):
        def action():
            actor = db.session.get(Membership, actor_id)
            invoice = db.session.get(Invoice, invoice_id)
            return issuing.issue_invoice(actor, invoice, issued_on=TODAY, today=TODAY).number
        return action

    numbers = []
    for round_ in range(ROUNDS):
        a, b = drafts[2 * round_], drafts[2 * round_ + 1]
        outcomes = _race(app, [issue(first, a), issue(second, b)])
        assert all(isinstance(o, str) for o in outcomes), outcomes
        numbers += outcomes
    assert sorted(numbers) == [f"RACE-2026-{n:04d}" for n in range(1, 2 * ROUNDS + 1)]
    with app.app_context():
        stored = db.session.scalars(sa.select(Invoice.number).filter_by(
            collective_id=collective_id).where(Invoice.number.is_not(None))).all()
        assert sorted(stored) == sorted(numbers)


def test_the_same_draft_issued_twice_at_once_is_issued_once(app, two_treasurers):
    first, second, drafts, _ = two_treasurers

    def issue(actor_id):
        def action():
            actor = db.session.get(Membership, actor_id)
            invoice = db.session.get(Invoice, drafts[0])
            return issuing.issue_invoice(actor, invoice, issued_on=TODAY, today=TODAY).number
        return action

    outcomes = _race(app, [issue(first), issue(second)])
    assert sorted(type(o).__name__ for o in outcomes) == ["NotADraft", "str"]
    # the loser took no number: the next one follows on
    with app.app_context():
        actor = db.session.get(Membership, first)
        invoice = db.session.get(Invoice, drafts[1])
        assert issuing.issue_invoice(actor, invoice, issued_on=TODAY,
                                     today=TODAY).number == "RACE-2026-0002"
        db.session.commit()


def test_credit_notes_issued_at_once_get_consecutive_numbers(app, two_treasurers):
    first, second, _, collective_id = two_treasurers
    with app.app_context():
        founder = db.session.get(Membership, first)
        invoices = [issued(founder, delivered_work(founder, client_name=f"CN client {n}",
                                                     state=WON)).id
                    for n in range(2)]
        db.session.commit()

    def credit(actor_id, invoice_id):
        def action():
            actor = db.session.get(Membership, actor_id)
            invoice = db.session.get(Invoice, invoice_id)
            return adjustments.issue_credit_note(actor, invoice, amount=None, reason="race",
                                                 issued_on=TODAY, today=TODAY).number
        return action

    outcomes = _race(app, [credit(first, invoices[0]), credit(second, invoices[1])])
    assert sorted(outcomes) == ["RACE-2026-CN-0001", "RACE-2026-CN-0002"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CreditNote.id)).filter_by(
            collective_id=collective_id)) == 2
