"""The receivables aging report: open amounts per client by days past due, with dates
checked by hand, on the page and in the CSV."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from collective.books.invoices import adjustments, compute, queries
from collective.books.invoices.drafts import DraftLine
from collective.extensions import db
from collective.members.models import Membership
from collective.pool.models import Client
from tests.books.invoice_factories import NOW, TODAY, delivered_work, issued, set_up_invoicing
from tests.factories import commit, make_collective

AS_OF = date(2026, 10, 10)


def test_buckets_by_days_past_due():
    # due on the day: current; the day after: 1-30; Sept 10 is 30 days back, Sept 9 is 31
    assert compute.bucket_of(date(2026, 10, 10), AS_OF) == "current"
    assert compute.bucket_of(date(2026, 11, 30), AS_OF) == "current"
    assert compute.bucket_of(date(2026, 10, 9), AS_OF) == "1-30"
    assert compute.bucket_of(date(2026, 9, 10), AS_OF) == "1-30"
    assert compute.bucket_of(date(2026, 9, 9), AS_OF) == "31-60"
    assert compute.bucket_of(date(2026, 8, 11), AS_OF) == "31-60"   # 60 days
    assert compute.bucket_of(date(2026, 8, 10), AS_OF) == "61-90"   # 61 days
    assert compute.bucket_of(date(2026, 7, 12), AS_OF) == "61-90"   # 90 days
    assert compute.bucket_of(date(2026, 7, 11), AS_OF) == "over 90"  # 91 days


def _one(founder, vat, client_name, due_on, price):
    known = db.session.scalar(sa.select(Client).filter_by(
        collective_id=founder.collective_id, name=client_name))
    work = delivered_work(founder, client_name=client_name, client=known)
    return issued(founder, work, vat, issued_on=date(2026, 6, 1), due_on=due_on,
                  lines=[DraftLine("Work", Decimal(1), price, None)])


def test_open_receivables_per_client_and_bucket(ctx):
    founder = make_collective()
    vat = set_up_invoicing(founder)
    _one(founder, vat, "Acme", date(2026, 10, 20), 10_000)    # current
    _one(founder, vat, "Acme", date(2026, 9, 9), 20_000)      # 31 days: 31-60
    kite = _one(founder, vat, "Kite", date(2026, 7, 11), 40_000)   # 91 days: over 90
    adjustments.issue_credit_note(founder, kite, amount=15_000, reason="part",
                                  issued_on=TODAY, today=TODAY)
    paid_off = _one(founder, vat, "Kite", date(2026, 8, 10), 5_000)  # written off: gone
    adjustments.write_off(founder, paid_off, written_off_on=TODAY, today=TODAY, now=NOW)
    rows = queries.aging_report(founder.collective_id, AS_OF)
    assert rows == [
        {"client": "Acme", "current": 10_000, "1-30": 0, "31-60": 20_000, "61-90": 0,
         "over 90": 0, "total": 30_000},
        {"client": "Kite", "current": 0, "1-30": 0, "31-60": 0, "61-90": 0,
         "over 90": 25_000, "total": 25_000},
        {"client": "All clients", "current": 10_000, "1-30": 0, "31-60": 20_000, "61-90": 0,
         "over 90": 25_000, "total": 55_000},
    ]


def test_the_aging_page_and_csv(client, auth, setup):
    with setup():
        founder = make_collective()
        vat = set_up_invoicing(founder)
        _one(founder, vat, "=Acme", date(2026, 9, 9), 20_000)
        commit()
        slug, email = founder.collective.slug, founder.user.email
        founder_id = founder.id
    auth.login(email)
    page = client.get(f"/c/{slug}/books/invoices/aging")
    assert page.status_code == 200 and "$200.00" in page.get_data(as_text=True)
    sheet = client.get(f"/c/{slug}/books/invoices/aging.csv")
    assert sheet.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(sheet.get_data(as_text=True))))
    assert rows[0][0] == "client" and rows[0][-1] == "total (USD)"
    # a client name that looks like a formula stays text; aging is "as of" the real today
    assert rows[1][0] == "'=Acme" and rows[1][-1] == "200.00"
    assert rows[-1][0] == "All clients" and rows[-1][-1] == "200.00"
    with setup():
        assert db.session.get(Membership, founder_id) is not None
