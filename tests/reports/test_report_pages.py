"""The report pages through the test client: who may export, the downloads, statements and
the balance sheet.

Data is built with the real services inside `with setup(): ...; commit()` (the ledger of
tests/reports/factories.py), and checked in fresh app contexts.
"""
from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from collective.ledger import balances
from collective.ledger import services as ledger
from collective.members.models import Role
from collective.reports import exports
from collective.web.formatting import day_label
from tests.factories import commit, make_collective, make_member, make_user
from tests.reports.factories import LATER, RANGE_FROM, RANGE_TO, make_books

D1, D2 = RANGE_FROM.isoformat(), RANGE_TO.isoformat()
_ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)


@dataclass(frozen=True)
class World:
    """Plain values of the report ledger's collective and the people who look at it."""

    slug: str
    treasurer: str  # the founder: every role
    ann: str        # plain member with movements
    member: str     # plain member
    coordinator: str
    outsider_treasurer: str  # treasurer of another collective
    ann_id: int
    bob_id: int
    other_collective_member_id: int


@pytest.fixture
def world(setup) -> World:
    with setup():
        books = make_books()
        collective = books.treasurer.collective
        member = make_member(collective, user=make_user(name="Mia Member"))
        coordinator = make_member(collective, (Role.MEMBER, Role.COORDINATOR),
                                  user=make_user(name="Cole Coordinator"))
        outsider = make_collective()
        world = World(collective.slug, books.treasurer.user.email, books.ann.user.email,
                      member.user.email, coordinator.user.email, outsider.user.email,
                      books.ann.id, books.bob.id, outsider.id)
        commit()
    return world


def _login(auth, email: str) -> None:
    assert auth.login(email).status_code == 302, f"could not sign in {email}"


def _errors(response) -> list[str]:
    return [html.unescape(e.strip()) for e in _ERROR.findall(response.get_data(as_text=True))]


def _ledger_url(world: World, fmt: str = "csv", date_from: str = D1, date_to: str = D2,
                **extra) -> str:
    params = {"format": fmt, "date_from": date_from, "date_to": date_to, **extra}
    return f"/c/{world.slug}/reports/ledger?" + "&".join(f"{k}={v}" for k, v in params.items())


def _statement_url(world: World, fmt: str | None = None, **params) -> str:
    suffix = f".{fmt}" if fmt else ""
    query = {"date_from": D1, "date_to": D2, **params}
    return (f"/c/{world.slug}/reports/statement{suffix}?"
            + "&".join(f"{k}={v}" for k, v in query.items()))


def _statement_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


# --- Ledger export ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["member", "coordinator"])
def test_only_treasurers_can_export_the_ledger(client, auth, world, who):
    _login(auth, getattr(world, who))
    for fmt in exports.FORMATS:
        response = client.get(_ledger_url(world, fmt))
        assert response.status_code == 403
        assert "Content-Disposition" not in response.headers
    assert client.get(f"/c/{world.slug}/reports/").status_code == 403
    assert client.get(f"/c/{world.slug}/reports/balance-sheet").status_code == 403


def test_a_treasurer_of_another_collective_gets_404(client, auth, world):
    _login(auth, world.outsider_treasurer)
    assert client.get(_ledger_url(world)).status_code == 404


@pytest.mark.parametrize(("date_from", "date_to", "message"), [
    (D2, D1, "the start date is after the end date"),
    ("1999-12-31", D2, "dates must lie between 2000-01-01 and"),
], ids=["reversed", "too-early"])
def test_a_bad_range_gives_422_with_the_message_and_no_download(client, auth, world,
                                                                   date_from, date_to,
                                                                   message):
    _login(auth, world.treasurer)
    response = client.get(_ledger_url(world, "csv", date_from, date_to))

    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "Content-Disposition" not in response.headers
    assert any(e.startswith(message) for e in _errors(response)), _errors(response)


@pytest.mark.parametrize(("fmt", "preset"), [("csv", "accounting"), ("csv", "full"),
                                             ("xlsx", "accounting"),
                                             ("beancount", "accounting")])
def test_the_download_is_typed_named_and_the_same_bytes_as_the_cli(client, auth, runner,
                                                                    world, tmp_path, fmt,
                                                                    preset):
    _login(auth, world.treasurer)
    response = client.get(_ledger_url(world, fmt, preset=preset))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == exports.MEDIA_TYPES[fmt]
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{world.slug}-ledger-{D1}-{D2}.{fmt}"')
    downloaded = response.get_data()
    output = tmp_path / "x"
    result = runner.invoke(args=["reports", "export-ledger", "--collective", world.slug,
                                 "--format", fmt, "--preset", preset, "--from", D1,
                                 "--to", D2, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert f"wrote {len(downloaded)} bytes, 24 postings" in result.output
    assert output.read_bytes() == downloaded
    if fmt == "csv":
        header = downloaded.decode().splitlines()[0].split(",")
        assert header == (exports.FULL_COLUMNS if preset == "full"
                          else exports.ACCOUNTING_COLUMNS)
        assert len(downloaded.decode().splitlines()) == 25  # the header and 24 postings
    elif fmt == "xlsx":
        assert downloaded[:2] == b"PK"
    else:
        assert downloaded.startswith(b"; Ledger of collective")


def test_the_cli_refuses_a_reversed_range_and_an_unknown_collective(runner, world, tmp_path):
    output = tmp_path / "x"
    reversed_range = runner.invoke(args=["reports", "export-ledger", "--collective",
                                         world.slug, "--from", D2, "--to", D1,
                                         "--output", str(output)])
    unknown = runner.invoke(args=["reports", "export-ledger", "--collective", "no-such",
                                  "--from", D1, "--to", D2, "--output", str(output)])
    assert reversed_range.exit_code == 2
    assert "the start date is after the end date" in reversed_range.output
    assert unknown.exit_code == 2
    assert "no collective 'no-such'" in unknown.output
    assert not output.exists()


def test_the_page_filters_by_member(client, auth, world, setup):
    _login(auth, world.treasurer)
    response = client.get(_ledger_url(world, member=world.ann_id))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    with setup():
        code = ledger.member_account(world.ann_id).code
    assert len(rows) == 4
    assert {r["account_code"] for r in rows} == {code}


# --- Member statements --------------------------------------------------------------------


def test_a_member_sees_and_downloads_their_own_statement(client, auth, world):
    _login(auth, world.ann)
    page = client.get(_statement_url(world))
    csv_download = client.get(_statement_url(world, "csv"))
    # Each download read to its end before the next request: a streamed response left
    # unread keeps its request context pushed, and later anonymous requests (even another
    # test's) would run as this member.
    csv_text = csv_download.get_data(as_text=True)
    pdf = client.get(_statement_url(world, "pdf"))
    pdf_bytes = pdf.get_data()

    assert page.status_code == 200
    assert "Statement for Zoë Ångström-Ruiz" in html.unescape(page.get_data(as_text=True))
    assert csv_download.status_code == 200
    assert csv_download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_download.headers["Content-Disposition"] == (
        f'attachment; filename="{world.slug}-statement-{world.ann_id}-{D1}-{D2}.csv"')
    assert csv_text.startswith("date,entry_id,kind")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"] == (
        f'attachment; filename="{world.slug}-statement-{world.ann_id}-{D1}-{D2}.pdf"')
    assert pdf_bytes.startswith(b"%PDF")


@pytest.mark.parametrize("fmt", [None, "csv", "pdf"])
def test_a_member_cannot_see_someone_elses_statement(client, auth, world, fmt):
    _login(auth, world.ann)
    response = client.get(_statement_url(world, fmt, member=world.bob_id))
    assert response.status_code == 404
    assert "Content-Disposition" not in response.headers


@pytest.mark.parametrize("fmt", [None, "csv", "pdf"])
def test_a_treasurer_sees_any_members_statement_but_not_another_collectives(client, auth,
                                                                             world, fmt):
    _login(auth, world.ann)
    own = client.get(_statement_url(world, fmt)).get_data()
    auth.logout()
    _login(auth, world.treasurer)

    response = client.get(_statement_url(world, fmt, member=world.ann_id))

    assert response.status_code == 200
    if fmt is None:
        assert "Statement for Zoë Ångström-Ruiz" in html.unescape(
            response.get_data(as_text=True))
    else:
        assert response.get_data() == own
    outside = client.get(_statement_url(world, fmt, member=world.other_collective_member_id))
    assert outside.status_code == 404


def test_two_pdf_downloads_of_a_statement_are_identical(client, auth, world):
    _login(auth, world.ann)
    first = client.get(_statement_url(world, "pdf")).get_data()
    with time_machine.travel(LATER, tick=False):  # a clock that leaked in would show now
        second = client.get(_statement_url(world, "pdf")).get_data()
    assert first.startswith(b"%PDF") and len(first) > 1000
    assert first == second


def test_the_statement_closes_at_the_ledgers_member_balance(client, auth, world, setup):
    _login(auth, world.ann)
    rows = _statement_rows(client.get(_statement_url(world, "csv")).get_data())
    with setup():
        closing = balances.member_balance(world.ann_id, RANGE_TO)["USD"]
        opening = balances.member_balance(world.ann_id, RANGE_FROM - timedelta(days=1))["USD"]

    first, *lines, last = rows
    assert (first["kind"], last["kind"]) == ("opening", "closing")
    cents = lambda text: int(Decimal(text) * 100)  # noqa: E731
    assert cents(first["balance"]) == opening == 675_000
    assert cents(last["balance"]) == closing == 715_412
    assert [cents(line["amount"]) for line in lines] == [90_412, -50_000, 135_000, -135_000]
    assert opening + sum(cents(line["amount"]) for line in lines) == closing
    # each line's balance is the running total
    running = opening
    for line in lines:
        running += cents(line["amount"])
        assert cents(line["balance"]) == running
    assert [line["kind"] for line in lines] == ["payment", "payout", "payment", "reversal"]


def test_a_reversed_statement_period_gives_422_and_no_download(client, auth, world):
    _login(auth, world.ann)
    for fmt in (None, "csv", "pdf"):
        response = client.get(_statement_url(world, fmt, date_from=D2, date_to=D1))
        assert response.status_code == 422
        assert "Content-Disposition" not in response.headers
        assert "the start date is after the end date" in _errors(response)


def test_the_statement_page_without_dates_shows_this_year_without_errors(client, auth, world):
    _login(auth, world.ann)
    response = client.get(f"/c/{world.slug}/reports/statement")
    assert response.status_code == 200
    assert "Statement for Zoë Ångström-Ruiz" in html.unescape(response.get_data(as_text=True))
    assert _errors(response) == []


# --- Balance sheet ------------------------------------------------------------------------


def test_the_balance_sheet_shows_that_assets_equal_liabilities_plus_equity(client, auth,
                                                                           world):
    _login(auth, world.treasurer)
    response = client.get(f"/c/{world.slug}/reports/balance-sheet?as_of={D2}")

    assert response.status_code == 200
    text = html.unescape(response.get_data(as_text=True))
    assert f"Balance sheet as of {day_label(RANGE_TO)}" in text
    assert "assets equal liabilities plus equity" in text
    assert "does not balance" not in text
    # Bank 10,839.43 = owed to members 7,154.12 + 2,551.37 + common fund 1,133.94
    assert re.search(r"Total assets</th><th class=\"num\">\$10,839\.43", text)
    assert re.search(r"Total liabilities</th><th class=\"num\">\$9,705\.49", text)
    assert re.search(r"Total equity</th><th class=\"num\">\$1,133\.94", text)
