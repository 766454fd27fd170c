"""Invoice pages: settings, drafting with lines added and removed without a script, issuing,
credit notes and write-offs through their confirmation pages, scoping and roles, bad input."""
from __future__ import annotations

import re

import sqlalchemy as sa

from collective.books.invoices.models import CreditNote, Invoice, InvoicingDetails, TaxRate
from collective.books.invoices.queries import Status, standing
from collective.extensions import db
from collective.members.models import Collective, Membership, Role
from tests.books.invoice_factories import delivered_work, draft, issued, set_up_invoicing
from tests.factories import commit, make_collective, make_member
from tests.forms import form_values


def _cid(slug: str) -> int:
    """The id of the collective with this slug (rows are counted per collective: other
    tests commit rows of their own)."""
    return db.session.scalar(sa.select(Collective.id).filter_by(slug=slug))


def _founder(setup, **kwargs):
    with setup():
        founder = make_collective(**kwargs)
        vat = set_up_invoicing(founder)
        work = delivered_work(founder)
        commit()
        return founder.collective.slug, founder.user.email, vat.id, work.id, founder.id


def test_a_treasurer_sets_the_details_and_adds_a_tax_rate(client, auth, setup):
    with setup():
        founder = make_collective()
        commit()
        slug, email = founder.collective.slug, founder.user.email
    auth.login(email)
    url = f"/c/{slug}/books/invoices/settings"
    page = client.get(url)
    assert page.status_code == 200 and b"Invoicing settings" in page.data
    sent = client.post(url, data={"details-legal_name": "Bayanihan Remote Collective",
                                  "details-address": "Quezon City", "details-tax_id": "",
                                  "details-payment_instructions": "BPI 1234",
                                  "details-payment_terms_days": "14",
                                  "details-number_prefix": "brc"})
    assert sent.status_code == 302
    with setup():
        details = db.session.scalar(sa.select(InvoicingDetails).filter_by(
            collective_id=_cid(slug)))
        assert (details.number_prefix, details.payment_terms_days) == ("BRC", 14)
    shown = form_values(client.get(url).get_data(as_text=True))
    values = {k: v for k, v in shown.items() if k.startswith("tax-")}
    values.update({"tax-name": "GST", "tax-rate": "10"})
    assert client.post(url, data=values).status_code == 302
    with setup():
        rate = db.session.scalar(sa.select(TaxRate).filter_by(name="GST",
                                                              collective_id=_cid(slug)))
        assert (rate.rate_bp, rate.account.code) == (1000, "2300")


def test_bad_settings_are_refused_on_the_field_and_write_nothing(client, auth, setup):
    with setup():
        founder = make_collective()
        commit()
        slug, email = founder.collective.slug, founder.user.email
    auth.login(email)
    url = f"/c/{slug}/books/invoices/settings"
    bad = client.post(url, data={"details-legal_name": "X", "details-payment_terms_days": "30",
                                 "details-number_prefix": "B R-C"})
    assert bad.status_code == 422 and b"letters A-Z or digits" in bad.data
    rate = client.post(url, data={"tax-name": "VAT", "tax-rate": "0"})
    assert rate.status_code == 422
    nan = client.post(url, data={"tax-name": "VAT", "tax-rate": "NaN"})
    assert nan.status_code == 422
    with setup():
        assert db.session.scalar(sa.select(sa.func.count(TaxRate.id)).filter_by(
            collective_id=_cid(slug))) == 0
        assert db.session.scalar(sa.select(sa.func.count(InvoicingDetails.id)).filter_by(
            collective_id=_cid(slug))) == 0


def test_a_draft_grows_and_shrinks_without_a_script_then_saves(client, auth, setup):
    slug, email, vat_id, work_id, _ = _founder(setup)
    auth.login(email)
    url = f"/c/{slug}/books/invoices/new?pitch_id={work_id}"
    values = form_values(client.get(url).get_data(as_text=True))
    assert values["pitch_id"] == str(work_id) and values["due_on"]
    values.update({"lines-0-description": "Design, days", "lines-0-quantity": "2",
                   "lines-0-unit_price": "1,000.00", "lines-0-tax_rate_id": str(vat_id),
                   "add_line": "Add a line"})
    grown = client.post(url, data=values)
    assert grown.status_code == 200
    values = form_values(grown.get_data(as_text=True))
    assert values["lines-0-description"] == "Design, days" and "lines-1-description" in values
    values.update({"lines-1-description": "Hosting", "lines-1-unit_price": "500",
                   "save": "Save the draft"})
    saved = client.post(url, data=values)
    assert saved.status_code == 302
    with setup():
        invoice = db.session.scalar(sa.select(Invoice).filter_by(collective_id=_cid(slug)))
        assert [(ln.description, ln.unit_price, ln.tax_rate_id) for ln in invoice.lines] == [
            ("Design, days", 100_000, vat_id), ("Hosting", 50_000, None)]
        invoice_id = invoice.id
    edit = f"/c/{slug}/books/invoices/{invoice_id}/edit"
    values = form_values(client.get(edit).get_data(as_text=True))
    assert values["lines-1-description"] == "Hosting"
    values.update({"lines-1-remove": "y"})
    trimmed = client.post(edit, data=values)
    assert trimmed.status_code == 200
    values = form_values(trimmed.get_data(as_text=True))
    assert "lines-1-description" not in values
    assert client.post(edit, data={**values, "save": "Save"}).status_code == 302
    with setup():
        invoice = db.session.get(Invoice, invoice_id)
        assert [ln.description for ln in invoice.lines] == ["Design, days"]


def test_bad_lines_come_back_with_errors_and_save_nothing(client, auth, setup):
    slug, email, _, work_id, _ = _founder(setup)
    auth.login(email)
    url = f"/c/{slug}/books/invoices/new?pitch_id={work_id}"
    values = form_values(client.get(url).get_data(as_text=True))
    for price, quantity, message in (("12abc", "1", b"is not an amount"),
                                     ("1.001", "1", b"at most 2 decimal places"),
                                     ("10", "-1", b"quantity is more than 0"),
                                     ("10", "0.0001", b"at most 3 decimals")):
        values.update({"lines-0-description": "Design", "lines-0-quantity": quantity,
                       "lines-0-unit_price": price, "save": "Save"})
        refused = client.post(url, data=values)
        assert refused.status_code == 422, price
        assert message in refused.data, (price, quantity)
    values.update({"lines-0-description": "", "lines-0-unit_price": ""})
    empty = client.post(url, data=values)
    assert empty.status_code == 422 and b"at least one line" in empty.data
    with setup():
        assert db.session.scalar(sa.select(sa.func.count(Invoice.id)).filter_by(
            collective_id=_cid(slug))) == 0


def test_issue_credit_and_write_off_through_their_pages(client, auth, setup):
    slug, email, vat_id, work_id, founder_id = _founder(setup)
    with setup():
        founder = db.session.get(Membership, founder_id)
        invoice = draft(founder, delivered_work(founder, client_name="Kite"),
                        db.session.get(TaxRate, vat_id))
        commit()
        invoice_id = invoice.id
    auth.login(email)
    base = f"/c/{slug}/books/invoices/{invoice_id}"
    page = client.get(f"{base}/issue")
    assert b"Issue and post" in page.data
    assert client.post(f"{base}/issue", data=form_values(page.get_data(as_text=True))
                       ).status_code == 302
    with setup():
        assert db.session.get(Invoice, invoice_id).number == "BRC-2026-0001"
    # sent again (Back, then send): refused, nothing new
    again = client.post(f"{base}/issue", data=form_values(page.get_data(as_text=True)))
    assert again.status_code == 302
    with setup():
        assert db.session.scalars(sa.select(Invoice.number).filter_by(
            id=invoice_id)).all() == ["BRC-2026-0001"]
        assert db.session.scalar(sa.select(sa.func.count(Invoice.id)).where(
            Invoice.number.is_not(None), Invoice.collective_id == db.session.get(
                Invoice, invoice_id).collective_id)) == 1
    shown = client.get(base).get_data(as_text=True)
    assert "BRC-2026-0001" in shown and "issued" in shown
    credit = form_values(client.get(f"{base}/credit-note").get_data(as_text=True))
    credit.update({"amount": "740.00", "reason": "Discount agreed"})
    assert client.post(f"{base}/credit-note", data=credit).status_code == 302
    with setup():
        assert db.session.scalar(sa.select(CreditNote.number).filter_by(
            invoice_id=invoice_id)) == "BRC-2026-CN-0001"
    too_much = client.post(f"{base}/credit-note", data={**credit, "amount": "5000"})
    assert too_much.status_code == 422 and b"is open on this invoice" in too_much.data
    off = form_values(client.get(f"{base}/write-off").get_data(as_text=True))
    assert client.post(f"{base}/write-off", data=off).status_code == 302
    with setup():
        assert standing(db.session.get(Invoice, invoice_id)).status == Status.WRITTEN_OFF
    listed = client.get(f"/c/{slug}/books/invoices/?status=written+off").get_data(as_text=True)
    assert "BRC-2026-0001" in listed
    assert "BRC-2026-0001" not in client.get(
        f"/c/{slug}/books/invoices/?status=paid").get_data(as_text=True)


def test_another_collectives_invoice_is_404_and_members_without_the_role_get_403(
        client, auth, setup):
    slug, _, vat_id, work_id, founder_id = _founder(setup)
    with setup():
        founder = db.session.get(Membership, founder_id)
        invoice_id = issued(founder, delivered_work(founder, client_name="Ube"),
                            db.session.get(TaxRate, vat_id)).id
        member = make_member(founder.collective)
        other = make_collective()
        commit()
        member_email, other_email, other_slug = (member.user.email, other.user.email,
                                                 other.collective.slug)
    auth.login(other_email)
    for path in ("", "/pdf", "/issue", "/credit-note", "/write-off", "/edit"):
        assert client.get(f"/c/{other_slug}/books/invoices/{invoice_id}{path}"
                          ).status_code == 404, path
        assert client.get(f"/c/{slug}/books/invoices/{invoice_id}{path}").status_code == 404
    auth.logout()
    auth.login(member_email)
    for path in ("/", f"/{invoice_id}", f"/{invoice_id}/pdf", "/aging", "/settings"):
        assert client.get(f"/c/{slug}/books/invoices{path}").status_code == 403, path
    assert client.post(f"/c/{slug}/books/invoices/{invoice_id}/write-off",
                       data={"written_off_on": "2026-10-10"}).status_code == 403


def test_a_coordinator_drafts_but_only_a_treasurer_issues(client, auth, setup):
    slug, _, vat_id, work_id, founder_id = _founder(setup)
    with setup():
        founder = db.session.get(Membership, founder_id)
        coordinator = make_member(founder.collective, roles=(Role.MEMBER, Role.COORDINATOR))
        invoice_id = draft(coordinator, delivered_work(founder, client_name="Coord"),
                           db.session.get(TaxRate, vat_id)).id
        commit()
        email = coordinator.user.email
    auth.login(email)
    assert client.get(f"/c/{slug}/books/invoices/{invoice_id}").status_code == 200
    assert client.get(f"/c/{slug}/books/invoices/{invoice_id}/issue").status_code == 403
    assert client.get(f"/c/{slug}/books/invoices/settings").status_code == 403


def test_the_invoice_page_mails_the_invoice_with_one_button(client, auth, setup):
    slug, email, vat_id, work_id, founder_id = _founder(setup)
    with setup():
        founder = db.session.get(Membership, founder_id)
        invoice_id = issued(founder, delivered_work(founder, client_name="Mail"),
                            db.session.get(TaxRate, vat_id)).id
        commit()
    auth.login(email)
    page = client.get(f"/c/{slug}/books/invoices/{invoice_id}").get_data(as_text=True)
    assert "E-mail it to accounts@harbour.test" in page
    values = {k: v for k, v in form_values(page).items() if k.startswith("send-")}
    sent = client.post(f"/c/{slug}/books/invoices/{invoice_id}/send", data=values)
    assert sent.status_code == 302
    from collective.mail.models import OutboxMessage
    with setup():
        assert db.session.scalars(sa.select(OutboxMessage.recipient).filter_by(
            collective_id=_cid(slug))).all() == [
            "accounts@harbour.test"]


def test_a_payment_is_recorded_from_the_invoice_page(client, auth, setup):
    from tests.pool.factories import found_rule

    slug, email, vat_id, _, founder_id = _founder(setup)
    with setup():
        founder = db.session.get(Membership, founder_id)
        found_rule(founder, method="equal")
        invoice_id = issued(founder, delivered_work(founder, client_name="Pay"),
                            db.session.get(TaxRate, vat_id)).id
        commit()
    auth.login(email)
    url = f"/c/{slug}/books/invoices/{invoice_id}/payments/new"
    values = form_values(client.get(url).get_data(as_text=True))
    assert values["amount"] == "2,740.00"
    refused = client.post(url, data={**values, "amount": "9,999.00"})
    assert refused.status_code == 422 and b"is open on this invoice" in refused.data
    assert client.post(url, data={**values, "amount": "1,000.00"}).status_code == 302
    with setup():
        found = standing(db.session.get(Invoice, invoice_id))
        assert (found.status, found.open_amount) == (Status.PARTLY_PAID, 174_000)
    # the same form again records nothing new
    assert client.post(url, data={**values, "amount": "1,000.00"}).status_code == 302
    with setup():
        assert standing(db.session.get(Invoice, invoice_id)).open_amount == 174_000


def test_the_draft_form_offers_the_newest_work_and_older_work_from_its_page(
        client, auth, setup, monkeypatch):
    from collective.books.invoices import drafts

    with setup():
        founder = make_collective()
        set_up_invoicing(founder)
        works = [delivered_work(founder, client_name=f"Client {n}") for n in range(3)]
        commit()
        slug, email, ids = founder.collective.slug, founder.user.email, [w.id for w in works]
    monkeypatch.setattr(drafts, "PITCH_CHOICES", 2)
    auth.login(email)
    page = client.get(f"/c/{slug}/books/invoices/new")
    select = re.search(r'<select[^>]*name="pitch_id".*?</select>', page.get_data(as_text=True),
                       re.S).group()
    offered = {int(v) for v in re.findall(r'<option[^>]*value="(\d+)"', select)}
    assert offered == set(ids[1:])  # the two newest
    assert b"for older work" in page.data
    # The oldest, from its page: its link chooses it, and the form offers it too.
    pitch_page = client.get(f"/c/{slug}/pool/pitches/{ids[0]}").get_data(as_text=True)
    link = f"/c/{slug}/books/invoices/new?pitch_id={ids[0]}"
    assert link in pitch_page
    chosen = form_values(client.get(link).get_data(as_text=True))
    assert chosen["pitch_id"] == str(ids[0])
