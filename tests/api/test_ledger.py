"""The ledger through the API: entries with their postings, a reversal posted once however
often it is sent, balances as of a day, and the exports streamed as the pages stream them."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import sqlalchemy as sa

from collective.audit.models import AuditEvent
from collective.clock import today_in
from collective.extensions import db
from collective.ledger.balances import check_ledger
from collective.ledger.models import JournalEntry
from tests.api.conftest import payment_body

ENTRIES = "/collectives/ours/ledger/entries"


def _paid(api, world) -> dict:
    made = api("POST", "/collectives/ours/payments", world.full, json=payment_body(world))
    assert made.status_code == 201, made.get_data(as_text=True)
    return made.get_json()


def _entries() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry))


def test_entries_come_with_their_postings_filtered_and_paged(api, world, books):
    payment = _paid(api, world)
    listed = api("GET", ENTRIES, world.full).get_json()
    assert [e["id"] for e in listed["items"]] == [payment["entry_id"]]
    [entry] = listed["items"]
    assert entry["kind"] == "payment" and entry["reversed_by_id"] is None
    assert sum(p["amount"] for p in entry["postings"]) == 0
    assert "1000" in {p["account_code"] for p in entry["postings"]}
    assert api("GET", ENTRIES, world.full, query={"kind": "payout"}).get_json()["items"] == []
    yesterday = (today_in("UTC") - timedelta(days=1)).isoformat()
    assert api("GET", ENTRIES, world.full,
               query={"until": yesterday}).get_json()["items"] == []
    backwards = api("GET", ENTRIES, world.full, query={"since": "2026-02-02",
                                                       "until": "2026-02-01"})
    assert backwards.status_code == 422 and "until" in backwards.get_json()["error"]["fields"]
    bad_kind = api("GET", ENTRIES, world.full, query={"kind": "gift"})
    assert bad_kind.status_code == 422 and "kind" in bad_kind.get_json()["error"]["fields"]


def test_a_reversal_replayed_with_its_key_posts_once_and_the_ledger_balances(api, world,
                                                                           books, setup):
    payment = _paid(api, world)
    reverse = f"{ENTRIES}/{payment['entry_id']}/reversal"
    key = {"Idempotency-Key": "undo-payment-1"}
    with setup():
        before = _entries()
    first = api("POST", reverse, world.full, json={"memo": "Entered twice"}, headers=key)
    assert first.status_code == 201, first.get_data(as_text=True)
    reversal = first.get_json()
    assert (reversal["kind"], reversal["reverses_id"], reversal["memo"]) == (
        "reversal", payment["entry_id"], "Entered twice")
    assert sum(p["amount"] for p in reversal["postings"]) == 0
    replayed = api("POST", reverse, world.full, json={"memo": "Entered twice"}, headers=key)
    assert (replayed.status_code, replayed.get_data()) == (201, first.get_data())
    assert replayed.headers["Idempotent-Replayed"] == "true"
    with setup():
        assert _entries() == before + 1
        assert check_ledger().ok
    # Reversing it again, without the key or under another, is a 409 naming the entry.
    for headers in ({}, {"Idempotency-Key": "undo-payment-2"}):
        twice = api("POST", reverse, world.full, json={}, headers=headers)
        assert twice.status_code == 409
        assert list(twice.get_json()["error"]["fields"]) == ["entry"]
    original = api("GET", f"{ENTRIES}/{payment['entry_id']}", world.full).get_json()
    assert original["reversed_by_id"] == reversal["id"]
    # A reversal is not reversed, and an invoice is corrected by a credit note: 422s.
    of_reversal = api("POST", f"{ENTRIES}/{reversal['id']}/reversal", world.full, json={})
    assert of_reversal.status_code == 422
    assert list(of_reversal.get_json()["error"]["fields"]) == ["entry"]
    with setup():
        assert _entries() == before + 1


def test_only_treasurers_read_the_journal_and_reverse(api, world, books, setup):
    payment = _paid(api, world)
    for token in (world.member, books.coordinator):
        assert api("GET", ENTRIES, token).status_code == 403
        assert api("GET", f"{ENTRIES}/{payment['entry_id']}", token).status_code == 403
        assert api("POST", f"{ENTRIES}/{payment['entry_id']}/reversal", token,
                   json={}).status_code == 403
    assert api("POST", f"{ENTRIES}/{payment['entry_id']}/reversal", world.read_only,
               json={}).status_code == 403
    with setup():
        assert db.session.scalar(sa.select(JournalEntry).filter_by(
            reverses_id=payment["entry_id"])) is None


def test_another_collectives_entry_is_a_404(api, world, books):
    theirs = f"{ENTRIES}/{books.their_entry_id}"
    assert api("GET", theirs, world.full).status_code == 404
    assert api("POST", f"{theirs}/reversal", world.full, json={}).status_code == 404
    assert api("GET", f"/collectives/theirs/ledger/entries/{books.their_entry_id}",
               world.limited).status_code == 404


def test_balances_as_of_a_day_every_account_or_the_members_own(api, world, books):
    payment = _paid(api, world)  # 100.00: 10.00 to the fund, 90.00 to the member
    accounts = api("GET", "/collectives/ours/balances", world.full).get_json()["items"]
    by_code = {a["code"]: a for a in accounts}
    assert by_code["1000"]["balances"] == [{"currency": "USD", "debits": 10_000,
                                           "credits": 0, "balance": 10_000}]
    owed = by_code[f"2100-{world.member_id}"]
    assert owed["membership_id"] == world.member_id
    assert owed["balances"][0]["balance"] == 9_000
    mine = api("GET", "/collectives/ours/balances", world.member).get_json()["items"]
    assert [(a["code"], a["balances"][0]["balance"]) for a in mine] == [
        (f"2100-{world.member_id}", 9_000)]
    before = (today_in("UTC") - timedelta(days=1)).isoformat()
    assert payment["received_on"] > before
    assert api("GET", "/collectives/ours/balances", world.member,
               query={"as_of": before}).get_json()["items"] == []
    first = api("GET", "/collectives/ours/balances", world.full, query={"limit": 1}).get_json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    rest = api("GET", "/collectives/ours/balances", world.full,
               query={"cursor": first["next_cursor"], "limit": 200}).get_json()
    assert [a["account_id"] for a in first["items"] + rest["items"]] == [
        a["account_id"] for a in accounts]
    bad = api("GET", "/collectives/ours/balances", world.full, query={"as_of": "yesterday"})
    assert bad.status_code == 422 and "as_of" in bad.get_json()["error"]["fields"]


def _range() -> dict:
    today = today_in("UTC")
    return {"date_from": (today - timedelta(days=30)).isoformat(),
            "date_to": today.isoformat()}


def test_the_ledger_export_is_streamed_in_every_format(api, world, books, setup):
    payment = _paid(api, world)
    path = "/collectives/ours/exports/ledger"
    as_csv = api("GET", path, world.full, query={**_range(), "preset": "full"})
    assert as_csv.status_code == 200 and as_csv.is_streamed
    assert as_csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in as_csv.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert {int(r["entry_id"]) for r in rows} == {payment["entry_id"]}
    assert "idempotency_key" in rows[0]
    bank = api("GET", path, world.full, query={**_range(), "account": "1000"})
    assert {r["account_code"] for r in csv.DictReader(io.StringIO(
        bank.get_data(as_text=True)))} == {"1000"}
    assert api("GET", path, world.full, query={**_range(), "account": ""}).get_data() == \
        api("GET", path, world.full, query=_range()).get_data()
    xlsx = api("GET", path, world.full, query={**_range(), "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.is_streamed and xlsx.get_data()[:2] == b"PK"
    beancount = api("GET", path, world.full, query={**_range(), "format": "beancount"})
    assert beancount.status_code == 200 and "USD" in beancount.get_data(as_text=True)
    with setup():
        exported = db.session.scalars(sa.select(AuditEvent).filter_by(
            action="export.ledger")).all()
        assert len(exported) == 6 and {e.actor_user_id for e in exported} != {None}


def test_exports_are_role_checked_and_refusals_name_the_field(api, world, books):
    path = "/collectives/ours/exports/ledger"
    assert api("GET", path, world.member, query=_range()).status_code == 403
    assert api("GET", path, books.coordinator, query=_range()).status_code == 403
    missing = api("GET", path, world.full, query={"date_to": "2026-01-01"})
    assert missing.status_code == 422 and "date_from" in missing.get_json()["error"]["fields"]
    backwards = api("GET", path, world.full, query={"date_from": "2026-02-01",
                                                    "date_to": "2026-01-01"})
    assert backwards.status_code == 422
    assert list(backwards.get_json()["error"]["fields"]) == ["date_from"]
    odd = api("GET", path, world.full, query={**_range(), "format": "ods"})
    assert odd.status_code == 422 and "format" in odd.get_json()["error"]["fields"]
    assert api("GET", "/collectives/ours/exports/aging", world.member).status_code == 403
    assert api("GET", "/collectives/theirs/exports/ledger", world.limited,
               query=_range()).status_code == 404


def test_a_statement_is_the_members_own_or_any_for_a_treasurer(api, world, books):
    _paid(api, world)
    path = "/collectives/ours/exports/statement"
    mine = api("GET", path, world.member, query=_range())
    assert mine.status_code == 200 and mine.is_streamed
    text = mine.get_data(as_text=True)
    assert text.startswith("date,entry_id,kind") and "90.00" in text
    as_pdf = api("GET", path, world.full, query={**_range(), "format": "pdf",
                                                 "membership_id": world.member_id})
    assert as_pdf.status_code == 200 and as_pdf.get_data()[:5] == b"%PDF-"
    founder = api("GET", "/collectives/ours", world.full).get_json()["membership_id"]
    others = api("GET", path, world.member, query={**_range(), "membership_id": founder})
    assert others.status_code == 404


def test_the_aging_export_is_the_pages_csv(api, world, books):
    aging = api("GET", "/collectives/ours/exports/aging", books.coordinator)
    assert aging.status_code == 200 and aging.is_streamed
    assert aging.get_data(as_text=True).splitlines()[0].startswith("client,current")
