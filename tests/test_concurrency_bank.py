"""Two treasurers confirming the same statement line against an invoice at the same time:
one payment, one link. This commits for real (no rollback fixture), each thread with its own
app context and connection, like tests/test_concurrency.py, and so runs after the page tests
that count every statement line in the database."""
from __future__ import annotations

import threading
from datetime import date

import sqlalchemy as sa

from collective.books.bank import matching
from collective.books.bank.models import BankLine
from collective.errors import Conflict
from collective.extensions import db
from collective.members.models import Membership, Role
from collective.pool.models import ClientPayment
from tests.books.bank.factories import make_bank
from tests.books.invoice_factories import issued, set_up_invoicing
from tests.books.test_invoice_matching import NOW, _work, import_lines
from tests.factories import make_member
from tests.pool.factories import found_rule


def test_two_treasurers_confirming_one_line_at_once_record_one_payment(app):
    """Commits for real, each thread with its own connection; on SQLite they queue."""

    with app.app_context():
        treasurer, account = make_bank("EUR")
        second = make_member(treasurer.collective, roles=(Role.MEMBER, Role.TREASURER))
        found_rule(treasurer, common_fund_bp=1000, finder_fee_bp=0, method="equal")
        invoice = issued(treasurer, _work(treasurer), set_up_invoicing(treasurer))
        line, = import_lines(treasurer, account, [
            (date(2026, 10, 20), "Harbour Dental", invoice.number, 274_000)])
        db.session.commit()
        ids = (treasurer.id, second.id, line.id, invoice.id, treasurer.collective_id)
    first_id, second_id, line_id, invoice_id, cid = ids
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def run(i, actor_id):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                actor = db.session.get(Membership, actor_id)
                entry = matching.confirm_match(actor, db.session.get(BankLine, line_id),
                                               "invoice", invoice_id, now=NOW)
                db.session.commit()
                outcomes[i] = entry.id
            except Exception as exc:  # reported by the assertions
                db.session.rollback()
                outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i, a))
               for i, a in enumerate((first_id, second_id))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    won = [o for o in outcomes if isinstance(o, int)]
    assert len(won) == 1 and isinstance(next(o for o in outcomes if o not in won), Conflict), \
        outcomes
    with app.app_context():
        paid = db.session.scalars(sa.select(ClientPayment).filter_by(collective_id=cid)).all()
        assert [p.entry_id for p in paid] == won
        assert db.session.get(BankLine, line_id).entry_id == won[0]
