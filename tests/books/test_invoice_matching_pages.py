"""The invoice matcher on the statement lines page: the suggestion names the invoice, its
button records the payment, and another collective's invoice cannot be used."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from collective.books.bank.models import BankLine
from collective.books.invoices.models import Invoice
from collective.books.invoices.queries import Status, standing
from collective.extensions import db
from collective.pool.models import ClientPayment
from tests.books.bank.factories import make_bank
from tests.books.invoice_factories import issued, set_up_invoicing
from tests.books.test_invoice_matching import _work, import_lines
from tests.factories import commit, make_collective
from tests.pool.factories import found_rule


@pytest.fixture
def world(setup):
    with setup():
        treasurer, account = make_bank("EUR")
        found_rule(treasurer, common_fund_bp=1000, finder_fee_bp=0, method="equal")
        invoice = issued(treasurer, _work(treasurer), set_up_invoicing(treasurer))
        line, = import_lines(treasurer, account, [
            (date(2026, 10, 20), "Harbour Dental", "brc-2026-0001", 274_000)])
        theirs = make_collective(currency="EUR")
        found_rule(theirs)
        their_invoice = issued(theirs, _work(theirs), set_up_invoicing(theirs))
        commit()
        return {"slug": treasurer.collective.slug, "email": treasurer.user.email,
                "account_id": account.id, "line_id": line.id, "invoice_id": invoice.id,
                "their_invoice_id": their_invoice.id, "cid": treasurer.collective_id}


def _payments(world) -> int:
    return db.session.scalar(sa.select(sa.func.count(ClientPayment.id)).filter_by(
        collective_id=world["cid"]))


def test_a_treasurer_records_an_invoice_payment_from_the_lines_page(client, auth, setup, world):
    auth.login(world["email"])
    slug, line_id = world["slug"], world["line_id"]
    lines_url = f"/c/{slug}/bank/accounts/{world['account_id']}/lines?month=2026-10"
    page = client.get(lines_url).get_data(as_text=True)
    assert "Invoice BRC-2026-0001: Harbour Dental" in page
    assert "Record €2,740.00 paid and match" in page
    assert f'name="target" value="{world["invoice_id"]}"' in page
    # another collective's invoice: refused, nothing written
    refused = client.post(f"/c/{slug}/bank/lines/{line_id}/confirm",
                          data={"matcher": "invoice", "target": world["their_invoice_id"]})
    assert refused.status_code == 302
    assert "no such invoice in this collective" in client.get(lines_url).get_data(as_text=True)
    with setup():
        assert db.session.get(BankLine, line_id).entry_id is None
        assert _payments(world) == 0
    for _ in range(2):  # sent twice: one payment
        response = client.post(f"/c/{slug}/bank/lines/{line_id}/confirm",
                               data={"matcher": "invoice", "target": world["invoice_id"]})
        assert response.status_code == 302
    page = client.get(lines_url).get_data(as_text=True)
    assert "all matched or explained" in page
    with setup():
        line = db.session.get(BankLine, line_id)
        payment = db.session.scalar(sa.select(ClientPayment).filter_by(collective_id=world["cid"]))
        assert line.entry_id == payment.entry_id
        assert _payments(world) == 1
        assert standing(db.session.get(Invoice, world["invoice_id"])).status == Status.PAID


def test_a_closed_months_lines_offer_no_match_nor_explanation(client, auth, setup, world):
    from collective.ledger import periods
    from collective.members.models import Membership

    with setup():
        treasurer = db.session.scalar(sa.select(Membership).filter_by(collective_id=world["cid"]))
        periods._close(world["cid"], date(2026, 10, 1), treasurer.user_id)  # as a forced close
        commit()
    auth.login(world["email"])
    page = client.get(f"/c/{world['slug']}/bank/accounts/{world['account_id']}/lines"
                      "?month=2026-10").get_data(as_text=True)
    assert "Oct 2026 is closed: its lines can be matched or explained again only" in page
    assert "Not matched when the month was closed." in page
    assert "paid and match" not in page and "Explain</button>" not in page

