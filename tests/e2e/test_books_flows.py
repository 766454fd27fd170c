"""The books in a real browser, one flow per capability: an invoice drafted by a coordinator,
issued and paid through a treasurer's pages; a member's expense with a receipt, approved by
a treasurer and owed to the member; a bank statement imported, matched, reconciled to zero
and its month closed."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from collective.benefits.compute import add_months
from collective.books.bank import services as bank
from collective.books.invoices import settings
from collective.extensions import db
from collective.ledger import periods
from collective.ledger import services as ledger
from collective.pool.allocation import allocate_member
from collective.pool.models import PitchState
from collective.pool.payouts import record_deposit

from . import seeds
from .checks import assert_accessible, assert_money_visible
from .seeds import C, M, T

pytestmark = pytest.mark.e2e


def _receipt_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(out, "PNG")
    return out.getvalue()


def test_invoice_drafted_from_won_work_issued_and_paid(browse, seed, viewport):
    with seed():
        crew = seeds.crew(f"inv-{viewport}", {"tom": ({M, C, T}, {}), "cora": ({M, C}, {}),
                                              "mia": ({M}, {})})
        seeds.founding_rule(crew, "tom", method="weights")
        seeds.work(crew, "site", "tom", "Clinic website rebuild", value=2_000_00,
                   state=PitchState.WON)
        allocate_member(crew.member("tom"), crew.pitch("site"), membership_id=crew.ids["mia"],
                        weight=1, weekly_hours=5)
        settings.save_details(crew.member("tom"), legal_name=f"{crew.slug} Cooperative",
                              address="1 Main St", tax_id="", payment_instructions="Bank 123",
                              payment_terms_days=30, number_prefix="INV")

    coordinator = browse.as_user(crew.emails["cora"])
    coordinator.goto(f"/c/{crew.slug}/books/invoices/")
    coordinator.get_by_role("link", name="New invoice").first.click()
    form = coordinator.locator("main form")
    form.get_by_label("Work").select_option(label="Clinic website rebuild "
                                                  "(Client of Clinic website rebuild, USD)")
    form.get_by_label("What").fill("Design and build, fixed price")
    form.get_by_label("Quantity").fill("1")
    form.get_by_label("Unit price").fill("2000.00")
    form.get_by_role("button", name="Save the draft").click()
    expect(coordinator.locator(".flash")).to_contain_text("The draft is saved")
    invoice_url = coordinator.url
    browse.shot(coordinator, "books1-invoice-draft")

    treasurer = browse.as_user(crew.emails["tom"])
    treasurer.goto(invoice_url)
    treasurer.get_by_role("link", name="Issue…").click()
    treasurer.get_by_role("button", name="Issue and post").click()
    main = treasurer.locator("main")
    expect(main).to_contain_text(f"INV-{seeds.today().year}-0001")
    treasurer.get_by_role("link", name="Record a payment…").click()
    treasurer.get_by_label("Amount received").fill("2000.00")
    treasurer.get_by_label("Reference").fill("EFT 7781")
    treasurer.get_by_role("button", name="Record and split").click()
    treasurer.goto(invoice_url)
    expect(treasurer.get_by_role("heading", level=1)).to_contain_text("paid")
    expect(treasurer.get_by_role("heading", level=1)).not_to_contain_text("partly")
    expect(main.locator("tr", has_text="Still open")).to_contain_text("$0.00")
    assert_accessible(treasurer)
    assert_money_visible(treasurer)
    browse.shot(treasurer, "books1-invoice-paid")


def test_expense_with_a_receipt_approved_and_owed_to_the_member(browse, seed, viewport):
    with seed():
        crew = seeds.crew(f"exp-{viewport}", {"tom": ({M, C, T}, {}), "tara": ({M, T}, {}),
                                              "mia": ({M}, {})})

    member = browse.as_user(crew.emails["mia"])
    member.goto(f"/c/{crew.slug}/books/expenses/")
    form = member.locator("main form")
    form.get_by_label("Category").select_option(label="Travel")
    form.get_by_label("Amount").fill("42.50")
    form.get_by_label("What for").fill("Train to the client workshop")
    form.get_by_label("Receipts").set_input_files(
        files=[{"name": "ticket.png", "mimeType": "image/png", "buffer": _receipt_png()}])
    form.get_by_role("button", name="Submit for approval").click()
    expect(member.locator("main")).to_contain_text("Train to the client workshop")
    browse.shot(member, "books2-expense-submitted")

    treasurer = browse.as_user(crew.emails["tara"])
    treasurer.goto(f"/c/{crew.slug}/books/expenses/queue")
    assert_money_visible(treasurer)
    treasurer.get_by_role("link", name="Train to the client workshop").click()
    expect(treasurer.locator("main")).to_contain_text("ticket.png")
    treasurer.get_by_role("button", name=re.compile(r"^Approve: the collective owes")).click()
    expect(treasurer.locator("main")).to_contain_text("approved")
    browse.shot(treasurer, "books2-expense-approved")

    member.goto(f"/c/{crew.slug}/pool/shares")
    expect(member.locator(".tile", has_text="Owed to you now")).to_contain_text("$42.50")


def test_statement_imported_matched_reconciled_and_month_closed(browse, seed, viewport):
    last = add_months(seeds.today().replace(day=1), -1)
    end = periods.month_end(last)
    with seed():
        crew = seeds.crew(f"bank-{viewport}", {"tom": ({M, C, T}, {}), "mia": ({M}, {})})
        tom = crew.member("tom")
        account = bank.create_bank_account(tom, name="Main account", currency="USD")
        bank.add_fee_rule(tom, pattern="ACCOUNT FEE", expense_account_id=ledger.account_by_code(
            tom.collective_id, ledger.BANK_FEES).id)
        record_deposit(tom, crew.member("mia"), amount=250_00, received_on=last + timedelta(9),
                       request_key=f"{crew.slug}-mia", reference="transfer",
                       today=seeds.today())
        db.session.flush()
        account_id = account.id
    csv = (f"Date,Description,Reference,Amount\n"
           f"{last + timedelta(10):%Y-%m-%d},TRANSFER FROM MIA,TR-1,250.00\n"
           f"{end:%Y-%m-%d},MONTHLY ACCOUNT FEE,FEE-1,-4.00\n").encode()

    treasurer = browse.as_user(crew.emails["tom"])
    treasurer.goto(f"/c/{crew.slug}/bank/accounts/{account_id}/import")
    form = treasurer.locator("main form")
    form.get_by_label("Format").select_option("csv")
    form.get_by_label("Statement file").set_input_files(
        files=[{"name": "statement.csv", "mimeType": "text/csv", "buffer": csv}])
    details = form.locator("details.csv-mapping")
    if not details.evaluate("d => d.open"):
        form.get_by_text("For a CSV file: which column holds what").click()
    form.get_by_label("Date column").fill("Date")
    form.get_by_label("Amount column (signed)").fill("Amount")
    form.get_by_label("Description column").fill("Description")
    form.get_by_label("Reference column").fill("Reference")
    form.get_by_label("Opening balance (optional)").fill("0.00")
    form.get_by_label("Closing balance (optional)").fill("246.00")
    form.get_by_role("button", name="Import statement").click()
    expect(treasurer.locator(".flash")).to_contain_text("2 new lines imported")

    treasurer.goto(f"/c/{crew.slug}/bank/accounts/{account_id}/lines?month={last:%Y-%m}")
    treasurer.get_by_role("button", name="Confirm match").click()
    treasurer.get_by_role("button", name="Post fee and match").click()
    expect(treasurer.locator("main")).to_contain_text("all matched or explained")
    assert_money_visible(treasurer, at_least=0)  # a list of cards, no table
    browse.shot(treasurer, "books3-bank-lines")

    treasurer.goto(f"/c/{crew.slug}/bank/accounts/{account_id}/reconciliation?on={end}")
    expect(treasurer.locator(".tile", has_text="Difference")).to_contain_text("none")
    assert_accessible(treasurer)
    browse.shot(treasurer, "books3-reconciled")

    treasurer.goto(f"/c/{crew.slug}/ledger/periods?year={last.year}")
    month_name = f"{last:%b %Y}"
    treasurer.get_by_role("button", name=re.compile(rf"^Close {last:%b}\w* {last.year}$")).click()
    row = treasurer.locator("tr", has_text=month_name).first
    expect(row).to_contain_text("Closed")
    browse.shot(treasurer, "books3-month-closed")
