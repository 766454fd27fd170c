"""The demo collective loads, loads again without duplicates, and resets; its books show
invoices, expenses and a bank statement."""
import re
from datetime import date

import pytest
import sqlalchemy as sa

from collective.books.bank.models import BankAccount, BankLine
from collective.clock import today_in
from collective.demo import DEMO_TIMEZONE, load_demo
from collective.demo.pool import months_ago
from collective.extensions import db
from collective.ledger import balances, periods
from collective.ledger import services as ledger
from collective.ledger.balances import check_ledger
from collective.ledger.models import Posting
from collective.members.models import Collective, Membership, User
from tests.benefits.test_runs_reliability import _install_crash


def _counts(app):
    with app.app_context():
        return {
            "users": db.session.scalar(sa.select(sa.func.count(User.id))),
            "memberships": db.session.scalar(sa.select(sa.func.count(Membership.id))),
            "collectives": db.session.scalar(sa.select(sa.func.count(Collective.id))),
        }


def test_demo_loads_once_and_resets(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Loaded Bayanihan Remote Collective" in first.output
    after_first = _counts(app)
    with app.app_context():
        demo = db.session.scalar(sa.select(Collective).filter_by(slug="demo"))
        members = demo.memberships
        assert len(members) == 12
        countries = {m.user.country for m in members}
        assert countries == {"PH", "IN", "AU"}
        roles = {r.value for m in members for r in m.roles}
        assert roles == {"member", "coordinator", "treasurer"}
        rhea = next(m for m in members if m.user.email == "rhea@demo.coop")
        assert rhea.status == "paused" and rhea.status_note == "parental leave"
        anjali = next(m for m in members if m.user.email == "anjali@demo.coop")
        assert {s.name: s.level for s in anjali.user.skills}["bookkeeping"] == 5
        assert check_ledger(demo.id).entries >= 1
        assert check_ledger(demo.id).ok

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0
    assert "already loaded" in again.output
    assert _counts(app) == after_first

    reset = runner.invoke(args=["demo", "--reset"])
    assert reset.exit_code == 0, reset.output
    after_reset = _counts(app)
    assert after_reset["users"] == after_first["users"]
    # The demo, its partner collective (Harambee) and the demo's second one (Southern Cross
    # Editors) are archived and loaded anew.
    assert after_reset["collectives"] == after_first["collectives"] + 3
    with app.app_context():
        live = db.session.scalars(
            sa.select(Collective).where(Collective.archived_at.is_(None),
                                        Collective.slug.like("demo%"))
            .order_by(Collective.slug)).all()
        assert [c.slug for c in live] == ["demo", "demo-editors"]
        partners = db.session.scalars(
            sa.select(Collective.slug).where(Collective.archived_at.is_(None),
                                             Collective.slug.like("harambee%"))).all()
        assert partners == ["harambee"]


def test_demo_users_can_sign_in(client, runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    response = client.post("/login", data={"email": "priya@demo.coop",
                                           "password": "demo-password"})
    assert response.status_code == 302
    home = client.get("/c/demo/", follow_redirects=True)
    assert home.status_code == 200
    assert b"Bayanihan Remote Collective" in home.data
    # Priya also edits for Southern Cross Editors (AUD): she lands on her home across both,
    # with her AUD earnings converted to USD at a rate it names, and a vote waiting there.
    assert response.headers["Location"] == "/me"
    mine = client.get("/me").get_data(as_text=True)
    assert "Southern Cross Editors" in mine and "Bayanihan Remote Collective" in mine
    assert "converted from AUD at the rate 1 AUD = " in mine
    assert "8% to the common fund, 5% finder&#39;s fee</a>" in mine


def test_ledger_check_command(runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 0
    assert result.output.startswith("ledger ok:")


@pytest.mark.parametrize("today", [date(2026, 12, 15), date(2027, 1, 3), date(2028, 2, 29)])
def test_the_demo_loads_on_any_day_of_the_year(ctx, today):
    collective = load_demo(today)
    assert len(collective.memberships) == 12
    result = check_ledger(collective.id)
    assert result.ok and result.entries > 50


def test_a_reset_that_fails_to_load_keeps_the_old_demo_and_writes_nothing(app, runner, setup):
    assert runner.invoke(args=["demo"]).exit_code == 0
    before = _counts(app)
    with setup():
        old_id = db.session.scalar(sa.select(Collective.id).filter_by(slug="demo"))
        postings = db.session.scalar(sa.select(sa.func.count(Posting.id)))
        _install_crash(postings)  # a real trigger: every new posting is refused
        db.session.commit()

    failed = runner.invoke(args=["demo", "--reset"])

    assert failed.exit_code != 0
    assert "simulated crash" in str(failed.exception)
    assert "Loaded" not in failed.output
    assert _counts(app) == before
    with setup():
        demo = db.session.scalar(sa.select(Collective).filter_by(slug="demo"))
        assert (demo.id, demo.archived_at) == (old_id, None)
        assert db.session.scalar(sa.select(sa.func.count(Posting.id))) == postings


def _page_text(response) -> str:
    import html
    import re
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", response.data.decode(),
                  flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def test_the_demo_books_show_invoices_expenses_and_the_bank(app, client, runner, auth):
    assert runner.invoke(args=["demo"]).exit_code == 0
    auth.login("anjali@demo.coop", "demo-password")

    invoices = _page_text(client.get("/c/demo/books/invoices/"))
    # Numbers run per issue year, so a demo loaded in January or February spans two years.
    number = r"BRC-\d{4}-\d{4}"
    assert re.search(rf"{number} Harbour Dental Patient support retainer [^$]*? A\$660.00 "
                     r"A\$0.00 credited", invoices)
    assert re.search(rf"{number} Summit Realty Bookkeeping clean-up FY2025 [^$]*? \$2,400.00 "
                     r"\$2,400.00 issued, overdue", invoices)
    assert re.search(rf"{number} Harbour Dental Patient support retainer [^$]*? A\$1,320.00 "
                     r"A\$0.00 paid", invoices)  # 16 hours at A$75 plus 10% GST
    assert re.search(rf"{number} Oakfield Publishing .*? £900.00 £500.00 partly paid", invoices)
    assert len(re.findall(number, invoices)) == 4
    assert " draft" in invoices

    aging = _page_text(client.get("/c/demo/books/invoices/aging"))
    assert re.search(r"Summit Realty (\$0.00 )*\$2,400.00", aging)
    assert "Oakfield Publishing" in aging and "Harbour Dental" not in aging

    queue = _page_text(client.get("/c/demo/books/expenses/queue"))
    assert "Emma Clarke Courier for the printed proof" in queue
    assert "A$38.50 $25.22 waiting" in queue
    assert re.search(r"Google Workspace, 12 seats.*\$86.40 paid by the collective", queue)
    assert re.search(r"USB headset .* \$45.00 approved", queue)

    with app.app_context():
        demo = db.session.scalar(sa.select(Collective).filter_by(slug="demo"))
        account = db.session.scalar(sa.select(BankAccount).filter_by(collective_id=demo.id))
        lines = db.session.scalars(sa.select(BankLine).filter_by(
            bank_account_id=account.id)).all()
        open_lines = sorted((ln.description, ln.amount) for ln in lines if not ln.is_resolved)
        assert open_lines[0][0] == "INWARD REMITTANCE - NO DETAILS"
        assert open_lines[1][0].startswith("SERVICE CHARGE")
        assert [a for _, a in open_lines] == [18_75, -5_00] and len(lines) > 20
        rows = balances.trial_balance(demo.id)
        # Oakfield paid £400.00 at 1.2741 on an invoice booked at 1.2688: a gain of
        # 400 x 0.0053 = $2.12 on exchange.
        exchange = {r.code: r.natural_balance for r in rows if r.currency == "USD"}
        assert exchange[ledger.EXCHANGE] == 2_12
        assert all(debits == credits for debits, credits
                   in balances.trial_balance_totals(rows).values())
        last = months_ago(today_in(DEMO_TIMEZONE), 1)
        month = min(ln.booked_on for ln in lines).replace(day=1)
        closed = []
        while month < last:
            closed.append(periods.closed_period(demo.id, month) is not None)
            month = months_ago(month, -1)
        assert len(closed) >= 5 and all(closed)
        assert periods.closed_period(demo.id, last) is None  # its two lines are to be done
        assert periods.unreconciled(demo.id, last)
    assert check_ledger_ok(runner)

    bank_lines = _page_text(client.get(f"/c/demo/bank/accounts/{account.id}/lines"
                                       f"?month={last:%Y-%m}"))
    assert "INWARD REMITTANCE - NO DETAILS" in bank_lines and "SERVICE CHARGE" in bank_lines
    reconciliation = _page_text(client.get(f"/c/demo/bank/accounts/{account.id}/"
                                           f"reconciliation?on={periods.month_end(last)}"))
    assert "INWARD REMITTANCE - NO DETAILS" in reconciliation


def check_ledger_ok(runner) -> bool:
    result = runner.invoke(args=["ledger", "check"])
    return result.exit_code == 0 and result.output.startswith("ledger ok:")
