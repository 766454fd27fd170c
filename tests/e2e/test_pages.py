"""Each role's pages on the demo collective, in a real browser at desktop and phone size:
axe-core finds nothing serious, no money column is hidden, nothing is logged to the console;
and signing in works from the keyboard alone."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from collective.books.bank.models import BankAccount
from collective.books.invoices.models import Invoice
from collective.clock import today_in
from collective.demo import DEMO_PASSWORD, DEMO_TIMEZONE, load_demo
from collective.demo.pool import months_ago
from collective.extensions import db
from collective.webhooks.models import WebhookEndpoint

from .checks import assert_accessible, assert_money_visible

pytestmark = pytest.mark.e2e

#: (who, their pages: (path under /c/demo, screenshot name, is it the role's main page)).
#: A path may name {account} (the demo's bank account), {invoice} (its paid invoice),
#: {webhook} (its webhook endpoint) and {last} (last month, YYYY-MM).
ROLE_PAGES = {
    "priya@demo.coop": [("dashboard", "member-dashboard", True),
                        ("pool/shares", "member-my-shares", False),
                        ("pool/my-work", "member-my-work", False),
                        ("fund/", "member-fund", False),
                        ("books/expenses/", "member-expenses", False)],
    "maria@demo.coop": [("pool/", "coordinator-pool-board", True),
                        ("pool/payments", "coordinator-payments", False),
                        ("books/invoices/", "coordinator-invoices", False)],
    "anjali@demo.coop": [("fund/treasurer", "treasurer-fund", True),
                         ("dashboard", "treasurer-dashboard", True),
                         ("pool/payouts", "treasurer-payouts", False),
                         ("pool/shares/all", "treasurer-all-shares", False),
                         ("books/invoices/", "treasurer-invoices", True),
                         ("books/invoices/{invoice}", "treasurer-invoice", False),
                         ("books/invoices/aging", "treasurer-aging", True),
                         ("books/expenses/queue", "treasurer-expenses-queue", True),
                         ("bank/", "treasurer-bank", True),
                         ("bank/accounts/{account}/lines?month={last}", "treasurer-bank-lines",
                          True),
                         ("bank/accounts/{account}/reconciliation", "treasurer-reconciliation",
                          False),
                         ("ledger/periods", "treasurer-periods", True),
                         ("webhooks", "treasurer-webhooks", True),
                         ("webhooks/{webhook}", "treasurer-webhook-deliveries", True)],
}
#: Pages without money columns (the pool board lists cards, the member's fund shows tiles,
#: the bank's lines are cards; the member's expenses, the bank and periods show no money).
WITHOUT_MONEY = {"pool/", "fund/", "books/expenses/", "bank/", "ledger/periods",
                 "bank/accounts/{account}/lines?month={last}", "webhooks", "webhooks/{webhook}"}


@pytest.fixture(scope="module")
def demo(live_app):
    """The demo collective, loaded once through its loader (as `flask demo` does)."""
    with live_app.app_context():
        collective = load_demo()
        db.session.commit()
        found = {"account": db.session.scalar(sa.select(BankAccount.id).filter_by(
                     collective_id=collective.id)),
                 # the paid one, third of the four issued (collective/demo/books.py)
                 "invoice": db.session.scalars(sa.select(Invoice.id).filter_by(
                     collective_id=collective.id).where(Invoice.number.is_not(None))
                     .order_by(Invoice.issued_on)).all()[2],
                 "webhook": db.session.scalar(sa.select(WebhookEndpoint.id).filter_by(
                     collective_id=collective.id)),
                 "last": f"{months_ago(today_in(DEMO_TIMEZONE), 1):%Y-%m}"}
    DEMO_IDS.update(found)
    return "/c/demo"


#: The demo's ids the page paths name, once the demo is loaded.
DEMO_IDS: dict[str, object] = {}


@pytest.mark.parametrize("email", list(ROLE_PAGES))
def test_each_roles_pages_are_accessible_and_show_every_money_column(browse, demo, email):
    page = browse.as_user(email, DEMO_PASSWORD)
    for path, name, is_main in ROLE_PAGES[email]:
        page.goto(f"{demo}/{path.format(**DEMO_IDS)}")
        expect(page.locator("main h1")).to_be_visible()
        if is_main:
            assert_accessible(page)
        assert_money_visible(page, at_least=0 if path in WITHOUT_MONEY else 1)
        browse.shot(page, name)


def test_sign_in_with_the_keyboard_alone(browse, demo):
    page = browse.page()
    page.goto("/login")
    email = page.get_by_label("E-mail")
    for _ in range(10):  # from the top of the page to the first field, by Tab
        if email.evaluate("field => field === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(email).to_be_focused()
    page.keyboard.type("priya@demo.coop")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    # Priya works in two collectives: she lands on her home across them.
    expect(page.get_by_role("heading", name="My home", level=1)).to_be_visible()
    page.goto(f"{demo}/dashboard")
    expect(page.locator("main h1")).to_be_visible()
    browse.shot(page, "keyboard-signed-in")
