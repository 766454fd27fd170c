"""Report pages, the dashboard and the export command take "today" from the collective's
timezone: at 20:00 UTC on 31 December it is already 1 January in Manila."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from collective.ledger import services as ledger
from collective.ledger.services import Line
from collective.members import services as members
from collective.web.formatting import day_label
from tests.factories import PASSWORD, commit, make_user

#: 2026-12-31 20:00 UTC is 2027-01-01 04:00 in Asia/Manila.
NEW_YEARS_EVE = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)


@pytest.fixture(params=["Asia/Manila", "UTC"])
def books(request, setup):
    """A collective in the given zone with one client payment into the bank in December."""
    with setup():
        founder = members.create_collective(make_user(), name="Books", slug="books",
                                            base_currency="USD", timezone=request.param)
        cid = founder.collective_id
        ledger.post_entry(cid, kind="payment", occurred_on=date(2026, 12, 15),
                          idempotency_key="payment:1",
                          lines=[Line(ledger.account_by_code(cid, ledger.BANK).id, 500_00, "USD"),
                                 Line(ledger.account_by_code(cid, ledger.CLIENT_INCOME).id,
                                      -500_00, "USD")])
        commit()
        today = date(2027, 1, 1) if request.param == "Asia/Manila" else date(2026, 12, 31)
        return {"email": founder.user.email, "today": today}


@pytest.fixture
def new_years_eve():
    with time_machine.travel(NEW_YEARS_EVE, tick=False):
        yield


def _value(page: str, field: str) -> str:
    return re.search(rf'<input[^>]*id="{field}"[^>]*value="([^"]*)"', page).group(1)


def test_report_pages_start_from_the_collectives_today(client, auth, books, new_years_eve):
    auth.login(books["email"], PASSWORD)
    today = books["today"]
    year_start = today.replace(month=1, day=1).isoformat()

    statement = client.get("/c/books/reports/statement").get_data(as_text=True)
    exports_page = client.get("/c/books/reports/").get_data(as_text=True)
    sheet = client.get("/c/books/reports/balance-sheet").get_data(as_text=True)

    assert (_value(statement, "date_from"), _value(statement, "date_to")) == (
        year_start, today.isoformat())
    assert (_value(exports_page, "date_from"), _value(exports_page, "date_to")) == (
        year_start, today.isoformat())
    assert f"Balance sheet as of {day_label(today)}" in sheet


def test_the_dashboard_counts_months_up_to_the_collectives_month(client, auth, books,
                                                                 new_years_eve):
    auth.login(books["email"], PASSWORD)

    page = client.get("/c/books/dashboard").get_data(as_text=True)

    assert "<td>Dec 2026</td>" in page
    assert ("<td>Jan 2027</td>" in page) == (books["today"].year == 2027)


def test_the_export_command_allows_dates_up_to_a_year_past_the_collectives_today(
        runner, books, new_years_eve, tmp_path):
    # A year and a day past Manila's 1 January, one day too far for UTC's 31 December.
    result = runner.invoke(args=["reports", "export-ledger", "--collective", "books",
                                 "--from", "2026-12-01", "--to", "2028-01-02",
                                 "--output", str(tmp_path / "x.csv")])

    if books["today"] == date(2027, 1, 1):
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2
        assert "dates must lie between 2000-01-01 and 2028-01-01" in result.output
