"""The bank and periods pages as a treasurer uses them: add an account, upload a statement,
confirm a suggestion, explain a line, reconcile, close and reopen a month."""
from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from collective.books.bank.models import BankAccount, BankLine
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import ClosedPeriod, EntryKind, PeriodEvent
from collective.members.models import Role
from tests.books.bank.factories import post_bank, sample
from tests.factories import commit, make_collective, make_member
from tests.forms import form_values


@pytest.fixture
def people(setup):
    with setup():
        founder = make_collective(currency="EUR")
        coordinator = make_member(founder.collective, roles=(Role.MEMBER, Role.COORDINATOR))
        theirs = make_collective(currency="EUR")
        commit()
        return {"slug": founder.collective.slug, "cid": founder.collective_id,
                "treasurer": founder.user.email, "coordinator": coordinator.user.email,
                "theirs": theirs.user.email, "their_slug": theirs.collective.slug}


@pytest.fixture
def read(app, db_session):
    """Run a query in its own app context: read(lambda: ...)."""
    def run(query):
        with app.app_context():
            return query()
    return run


def _add_account(client, slug, read) -> int:
    page = client.get(f"/c/{slug}/bank/")
    assert page.status_code == 200
    data = {k: v for k, v in form_values(page.get_data(as_text=True)).items()
            if k.startswith("account-")}
    data["account-name"] = "Main account"
    response = client.post(f"/c/{slug}/bank/accounts", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return read(lambda: db.session.scalar(sa.select(sa.func.max(BankAccount.id))))


def _upload(client, slug, account_id, fmt, data, **fields):
    return client.post(f"/c/{slug}/bank/accounts/{account_id}/import",
                       data={"format": fmt, "file": (io.BytesIO(data), f"statement.{fmt}"),
                             "date_format": "%d.%m.%Y", "decimal_separator": ",",
                             "delimiter": ";", **fields},
                       content_type="multipart/form-data")


CSV_FIELDS = {"date_column": "Booking date", "debit_column": "Debit",
              "credit_column": "Credit", "description_column": "Description",
              "reference_column": "Reference", "closing_balance": "1781.51"}


def test_a_treasurer_imports_a_csv_and_its_mapping_is_offered_next_time(client, auth, people, read):
    auth.login(people["treasurer"])
    slug = people["slug"]
    account_id = _add_account(client, slug, read)
    response = _upload(client, slug, account_id, "csv", sample("csv"), **CSV_FIELDS)
    assert response.status_code == 302
    assert "month=2026-10" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "6 new lines imported" in page and "Transfer fee" in page
    again = _upload(client, slug, account_id, "csv", sample("csv"), **CSV_FIELDS)
    assert "Nothing new: all 6 lines" in client.get(again.headers["Location"]).get_data(
        as_text=True)
    shown = form_values(client.get(f"/c/{slug}/bank/accounts/{account_id}/import")
                        .get_data(as_text=True))
    assert (shown["format"], shown["date_column"], shown["debit_column"],
            shown["decimal_separator"]) == ("csv", "Booking date", "Debit", ",")


def test_a_malformed_upload_shows_the_line_and_imports_nothing(client, auth, people, read):
    auth.login(people["treasurer"])
    account_id = _add_account(client, people["slug"], read)
    bad = sample("ofx").replace(b"<TRNAMT>-59.99", b"<TRNAMT>-59,9x")
    response = _upload(client, people["slug"], account_id, "ofx", bad)
    assert response.status_code == 422
    assert "line 59: &#39;-59,9x&#39; is not an amount (TRNAMT)" in response.get_data(
        as_text=True)
    assert read(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(BankLine))) == 0


def test_confirm_explain_reconcile_and_close_through_the_pages(client, auth, people, read, setup):
    auth.login(people["treasurer"])
    slug, cid = people["slug"], people["cid"]
    account_id = _add_account(client, slug, read)
    assert _upload(client, slug, account_id, "camt053", sample("camt053")).status_code == 302
    with setup():
        post_bank(cid, date(2026, 9, 30), 100000, kind=EntryKind.OPENING)
        post_bank(cid, date(2026, 10, 2), 125000, kind=EntryKind.PAYMENT,
                  other=ledger.CLIENT_INCOME)
        post_bank(cid, date(2026, 10, 4), -40000)
        post_bank(cid, date(2026, 10, 31), -750, kind=EntryKind.EXPENSE, other=ledger.EXPENSES)
        post_bank(cid, date(2026, 10, 20), -5999, kind=EntryKind.EXPENSE,
                  other=ledger.EXPENSES)
        commit()
    lines_url = f"/c/{slug}/bank/accounts/{account_id}/lines?month=2026-10"
    page = client.get(lines_url).get_data(as_text=True)
    assert page.count("Confirm match") == 4
    for line_id, amount in read(lambda: db.session.execute(
            sa.select(BankLine.id, BankLine.amount).order_by(BankLine.id)).all()):
        if amount == -5999:
            response = client.post(f"/c/{slug}/bank/lines/{line_id}/explain",
                                   data={"note": "Card paid by mistake, booked as expense"})
        else:
            html = client.get(lines_url).get_data(as_text=True)
            target = html.split(f'id="line-{line_id}"')[1].split('name="target" value="')[1]
            response = client.post(f"/c/{slug}/bank/lines/{line_id}/confirm",
                                   data={"matcher": "payment" if amount > 0 else "payout",
                                         "target": target.split('"')[0]})
        assert response.status_code == 302
    assert "all matched or explained" in client.get(lines_url).get_data(as_text=True)
    # The explained card payment was booked by hand, so nothing differs, but the page
    # lists the explained line and the entry that has no line.
    recon = client.get(f"/c/{slug}/bank/accounts/{account_id}/reconciliation?month=2026-10")
    text = recon.get_data(as_text=True)
    assert text.count("€1,782.51") == 2 and "✓ none" in text
    assert "Explained: Card paid by mistake" in text
    assert "Ledger expense with no statement line" in text
    # The explanation was wrong: undo it and match the card payment to its entry instead.
    card = read(lambda: db.session.scalar(sa.select(BankLine.id).filter_by(amount=-5999)))
    assert client.post(f"/c/{slug}/bank/lines/{card}/reopen").status_code == 302
    html = client.get(lines_url).get_data(as_text=True)
    target = html.split(f'id="line-{card}"')[1].split('name="target" value="')[1]
    client.post(f"/c/{slug}/bank/lines/{card}/confirm",
                data={"matcher": "payout", "target": target.split('"')[0]})
    text = client.get(f"/c/{slug}/bank/accounts/{account_id}/reconciliation?month=2026-10"
                      ).get_data(as_text=True)
    assert "Reconciled" in text and "with no statement line" not in text
    assert "Close Oct 2026" in client.get(f"/c/{slug}/ledger/periods?year=2026").get_data(
        as_text=True)
    assert client.post(f"/c/{slug}/ledger/periods/2026-10/close").status_code == 302
    assert read(lambda: db.session.scalar(sa.select(ClosedPeriod.starts_on).filter_by(
        collective_id=cid))) == date(2026, 10, 1)
    refused = client.post(f"/c/{slug}/ledger/periods/2026-10/reopen", data={"reason": ""})
    assert refused.status_code == 422
    assert client.post(f"/c/{slug}/ledger/periods/2026-10/reopen",
                       data={"reason": "Late bank fee"}).status_code == 302
    assert read(lambda: db.session.scalar(sa.select(PeriodEvent.reason).filter_by(
        collective_id=cid, action="reopened"))) == "Late bank fee"


def test_the_year_end_button_needs_confirming_and_a_reason_to_force(client, auth, people,
                                                                    setup):
    auth.login(people["treasurer"])
    slug, cid = people["slug"], people["cid"]
    with setup():
        post_bank(cid, date(2025, 6, 1), 5000, kind=EntryKind.PAYMENT,
                  other=ledger.CLIENT_INCOME)
        commit()
    url = f"/c/{slug}/ledger/periods/2025/close-year"
    assert client.post(url, data={}).status_code == 422
    unreconciled = client.post(url, data={"confirm": "y"})
    assert unreconciled.status_code == 422
    assert "not reconciled (June)" in unreconciled.get_data(as_text=True)
    assert client.post(url, data={"confirm": "y", "force": "y"}).status_code == 422
    done = client.post(url, data={"confirm": "y", "force": "y", "reason": "Before bank import"})
    assert done.status_code == 302
    assert "2025 is closed" in client.get(f"/c/{slug}/ledger/periods?year=2025").get_data(
        as_text=True)


def test_bank_pages_are_for_treasurers_and_their_own_collective(client, auth, people, read, setup):
    auth.login(people["treasurer"])
    account_id = _add_account(client, people["slug"], read)
    _upload(client, people["slug"], account_id, "ofx", sample("ofx"))
    line_id = read(lambda: db.session.scalar(sa.select(sa.func.min(BankLine.id))))
    auth.logout()
    auth.login(people["coordinator"])
    assert client.get(f"/c/{people['slug']}/bank/").status_code == 403
    assert client.get(f"/c/{people['slug']}/ledger/periods").status_code == 403
    auth.logout()
    auth.login(people["theirs"])
    theirs = people["their_slug"]
    assert client.get(f"/c/{theirs}/bank/accounts/{account_id}/lines").status_code == 404
    assert client.post(f"/c/{theirs}/bank/lines/{line_id}/explain",
                       data={"note": "x"}).status_code == 404
    assert client.get(f"/c/{theirs}/bank/accounts/{account_id}/reconciliation"
                      ).status_code == 404


def test_bad_input_on_the_bank_pages_names_the_field_and_writes_nothing(client, auth, people,
                                                                        read):
    auth.login(people["treasurer"])
    slug = people["slug"]
    account_id = _add_account(client, slug, read)
    _upload(client, slug, account_id, "ofx", sample("ofx"))
    line_id = read(lambda: db.session.scalar(sa.select(sa.func.min(BankLine.id))))
    bad_month = client.get(f"/c/{slug}/bank/accounts/{account_id}/lines?month=2026-13")
    assert bad_month.status_code == 422 and "write the period as YYYY-MM" in bad_month.get_data(
        as_text=True)
    bad_day = client.get(f"/c/{slug}/bank/accounts/{account_id}/reconciliation?on=31.10.2026")
    assert bad_day.status_code == 422
    for target in ("99999999999", "-1", "abc"):
        response = client.post(f"/c/{slug}/bank/lines/{line_id}/confirm",
                               data={"matcher": "fee", "target": target})
        assert response.status_code == 302
    assert read(lambda: db.session.scalar(sa.select(BankLine.entry_id).filter_by(
        id=line_id))) is None
    no_mapping = _upload(client, slug, account_id, "csv", b"a,b\n1,2\n")
    assert no_mapping.status_code == 422
    assert "name the date column" in no_mapping.get_data(as_text=True)
    assert client.post(f"/c/{slug}/ledger/periods/2026-13/close").status_code == 404
    assert client.post(f"/c/{slug}/ledger/periods/99999/close-year").status_code == 404
