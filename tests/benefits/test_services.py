"""Fund services on a real database: contribution and payout runs, catching up, claims and
their decisions, levels and plan changes by vote. Each test rolls back."""
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from collective.benefits import claims, jobs, plans, queries, runs
from collective.benefits.compute import PlanTerms
from collective.benefits.models import BenefitPlan, BenefitRun, Claim, MemberLevel, RunLine
from collective.demo.fund import BREAD_FUND
from collective.errors import Conflict, DomainError, NotAllowed, NotFound
from collective.extensions import db
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry, Posting
from collective.members import proposals
from collective.members.models import Proposal, Role, VoteChoice
from tests.benefits.factories import (
    NOW,
    TODAY,
    balance,
    deposit,
    found_fund,
    plan,
    seed_fund,
    set_level,
)
from tests.factories import make_collective, make_member

JAN, FEB, JUL, AUG, SEP, OCT = (date(2026, m, 1) for m in (1, 2, 7, 8, 9, 10))
#: The day the runs here happen: after every month they run has ended.
RUN_DAY = date(2027, 1, 1)
CONTRIBUTIONS, PAYOUTS = "contributions", "payouts"


def _by_code(collective_id: int, key: str) -> dict[str, int]:
    entry = ledger.find_entry(collective_id, key)
    codes = dict(db.session.execute(sa.select(ledger.Account.id, ledger.Account.code)).all())
    return {codes[p.account_id]: p.amount for p in entry.postings}


def _entries(collective_id: int, kind: str) -> list[JournalEntry]:
    return list(db.session.scalars(
        sa.select(JournalEntry).filter_by(collective_id=collective_id, kind=kind)
        .order_by(JournalEntry.id)))


def _entry_count(collective_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(JournalEntry.id))
                             .filter_by(collective_id=collective_id))


def _lines(run: BenefitRun) -> list[tuple]:
    """(membership_id, kind, amount, shortfall, claim_id, for_period) of a run, in order."""
    return [tuple(row) for row in db.session.execute(
        sa.select(RunLine.membership_id, RunLine.kind, RunLine.amount, RunLine.shortfall,
                  RunLine.claim_id, RunLine.for_period)
        .filter_by(run_id=run.id).order_by(RunLine.id))]


def _runs(collective_id: int) -> list[tuple[str, date]]:
    return [tuple(row) for row in db.session.execute(
        sa.select(BenefitRun.kind, BenefitRun.period).filter_by(collective_id=collective_id)
        .order_by(BenefitRun.period, BenefitRun.id))]


def _postings(entry: JournalEntry) -> list[tuple[int, int]]:
    return sorted((p.account_id, p.amount) for p in db.session.scalars(
        sa.select(Posting).filter_by(entry_id=entry.id)))


# --- Contribution runs ----------------------------------------------------------------------


def test_a_contribution_run_moves_each_contribution_from_the_payable_into_the_fund(ctx):
    treasurer, ann, bob = found_fund(3)
    cid = treasurer.collective_id
    set_level(treasurer, 100_000)
    set_level(ann, 50_000)  # bob chose nothing: he pays the lowest level's contribution
    for person in (treasurer, ann, bob):
        deposit(treasurer, person, 10_000)

    result = runs.run_contributions(cid, date(2026, 1, 20), triggered_by="test", today=RUN_DAY)

    assert (result.period, result.total, result.shortfall, result.entries,
            result.already_done, result.skipped) == (JAN, 9_000, 0, 3, False, "")
    assert [balance(p) for p in (treasurer, ann, bob)] == [5_500, 7_750, 7_750]
    assert queries.fund_balance(cid) == 9_000
    entries = _entries(cid, "contribution")
    assert [e.idempotency_key for e in entries] == [
        f"contribution:2026-01:member:{p.id}" for p in (treasurer, ann, bob)]
    assert {e.occurred_on for e in entries} == {date(2026, 1, 31)}
    fund = ledger.account_by_code(cid, ledger.BENEFITS_FUND)
    payable = ledger.member_account(treasurer.id)
    assert _postings(entries[0]) == sorted([(payable.id, 4_500), (fund.id, -4_500)])
    run = result.run
    assert (run.kind, run.period, run.total_amount, run.shortfall_amount, run.entry_count,
            run.triggered_by) == (CONTRIBUTIONS, JAN, 9_000, 0, 3, "test")
    assert _lines(run) == [(treasurer.id, "contribution", 4_500, 0, None, None),
                           (ann.id, "contribution", 2_250, 0, None, None),
                           (bob.id, "contribution", 2_250, 0, None, None)]
    assert db.session.scalars(sa.select(RunLine.entry_id).filter_by(run_id=run.id)).all() == [
        e.id for e in entries]
    assert balances.check_ledger(cid).ok


def test_a_member_whose_payable_is_short_owes_the_month_and_settles_it_when_topped_up(ctx):
    treasurer, ann = found_fund(2)
    cid = treasurer.collective_id
    deposit(treasurer, treasurer, 10_000)
    deposit(treasurer, ann, 1_000)

    january = runs.run_contributions(cid, JAN, today=RUN_DAY)

    assert _lines(january.run) == [(treasurer.id, "contribution", 2_250, 0, None, None),
                                   (ann.id, "owed", 2_250, 0, None, None)]
    # Two entries: the treasurer's contribution, and Ann's month owed, on her receivable
    # against the contributions due (not the reserves: she paid nothing).
    assert (january.entries, january.total, january.shortfall) == (2, 2_250, 2_250)
    assert january.run.shortfall_amount == 2_250
    assert balance(ann) == 1_000  # nothing taken
    assert _by_code(cid, f"arrears:2026-01:member:{ann.id}") == {
        f"1210-{ann.id}": 2_250, ledger.FUND_DUE: -2_250}
    assert queries.owing(cid).to_dict("records") == [
        {"membership_id": ann.id, "name": ann.user.name, "owed": 2_250, "debt": 0}]
    assert queries.fund_balance(cid) == 2_250

    deposit(treasurer, ann, 5_000, on=date(2026, 2, 3))
    february = runs.run_contributions(cid, FEB, today=RUN_DAY)

    assert _lines(february.run) == [(treasurer.id, "contribution", 2_250, 0, None, None),
                                    (ann.id, "contribution", 2_250, 0, None, None),
                                    (ann.id, "settled", 2_250, 0, None, None)]
    assert february.run.total_amount == 6_750
    assert _by_code(cid, f"contribution:2026-02:member:{ann.id}") == {
        f"2100-{ann.id}": 2_250, ledger.BENEFITS_FUND: -2_250}
    # Settling is an entry of its own: her payable pays her receivable, and the 22.50 due
    # goes into the reserves.
    assert _by_code(cid, f"settled:2026-02:member:{ann.id}") == {
        f"2100-{ann.id}": 2_250, f"1210-{ann.id}": -2_250, ledger.FUND_DUE: 2_250,
        ledger.BENEFITS_FUND: -2_250}
    assert balance(ann) == 6_000 - 4_500
    assert queries.owing(cid).empty
    assert queries.fund_balance(cid) == 2_250 + 2_250 + 4_500


def test_running_the_same_period_twice_posts_once(ctx):
    treasurer, ann = found_fund(2)
    cid = treasurer.collective_id
    for person in (treasurer, ann):
        deposit(treasurer, person, 10_000)
    first = runs.run_contributions(cid, JAN, today=RUN_DAY)
    entries = _entry_count(cid)

    again = runs.run_contributions(cid, date(2026, 1, 31), today=RUN_DAY)

    assert again.already_done
    assert again.run.id == first.run.id
    assert again.total == first.total == 4_500
    assert again.entries == 0
    assert _entry_count(cid) == entries
    assert _runs(cid) == [(CONTRIBUTIONS, JAN)]
    assert queries.fund_balance(cid) == 4_500


def test_a_dry_run_shows_the_numbers_and_writes_nothing(ctx):
    treasurer, ann = found_fund(2)
    cid = treasurer.collective_id
    set_level(ann, 125_000)
    deposit(treasurer, treasurer, 10_000)
    deposit(treasurer, ann, 3_000)
    entries = _entry_count(cid)

    preview = runs.run_contributions(cid, JAN, dry_run=True, today=RUN_DAY)

    # Two entries: the treasurer's contribution and Ann's month owed.
    assert (preview.dry_run, preview.run, preview.entries, preview.total, preview.shortfall) == (
        True, None, 2, 2_250, 5_625)
    assert preview.lines[["membership_id", "paid", "owed"]].to_dict("records") == [
        {"membership_id": treasurer.id, "paid": 2_250, "owed": 0},
        {"membership_id": ann.id, "paid": 0, "owed": 5_625}]
    assert _entry_count(cid) == entries
    assert _runs(cid) == []
    assert (balance(treasurer), balance(ann), queries.fund_balance(cid)) == (10_000, 3_000, 0)
    # The real run still runs.
    assert not runs.run_contributions(cid, JAN, today=RUN_DAY).already_done


def test_a_month_before_the_plan_is_skipped(ctx):
    treasurer, _ = found_fund(2, start=JUL)
    result = runs.run_contributions(treasurer.collective_id, JAN, today=RUN_DAY)
    assert result.skipped == "the fund had no plan for this month"
    assert _runs(treasurer.collective_id) == []


def test_the_december_run_gives_back_reserves_above_the_cap(ctx):
    treasurer, ann = found_fund(2, terms=plan(reserve_cap_months=1), start=OCT)
    cid = treasurer.collective_id
    set_level(ann, 100_000, start=OCT)
    for person in (treasurer, ann):
        deposit(treasurer, person, 50_000, on=OCT)

    october = runs.run_contributions(cid, OCT, today=RUN_DAY)
    november = runs.run_contributions(cid, date(2026, 11, 1), today=RUN_DAY)
    december = runs.run_contributions(cid, date(2026, 12, 1), today=RUN_DAY)

    assert [line[1] for line in _lines(october.run) + _lines(november.run)] == [
        "contribution"] * 4
    # Reserves after December: 3 x 2,250 and 3 x 4,500; the cap is one month's contribution.
    assert _lines(december.run) == [(treasurer.id, "contribution", 2_250, 0, None, None),
                                    (ann.id, "contribution", 4_500, 0, None, None),
                                    (treasurer.id, "return", 4_500, 0, None, None),
                                    (ann.id, "return", 9_000, 0, None, None)]
    assert december.run.entry_count == 4
    returns = _entries(cid, "contribution-return")
    assert [e.idempotency_key for e in returns] == [f"return:2026:member:{treasurer.id}",
                                                    f"return:2026:member:{ann.id}"]
    assert (balance(treasurer), balance(ann)) == (50_000 - 6_750 + 4_500,
                                                  50_000 - 13_500 + 9_000)
    assert queries.fund_balance(cid) == 2_250 + 4_500
    assert balances.check_ledger(cid).ok


# --- Payout runs ----------------------------------------------------------------------------


@pytest.fixture
def sick_leave(ctx):
    """Ann (level 1,000.00) is ill from August for three months, approved by the founder;
    everyone contributed in July and the fund holds 5,000.00 besides."""
    treasurer, ann, bob = found_fund(3, start=JUL)
    cid = treasurer.collective_id
    set_level(ann, 100_000, start=JUL)
    for person in (treasurer, ann, bob):
        deposit(treasurer, person, 20_000, on=JUL)
    seed_fund(cid, 500_000, on=JUL)
    runs.run_contributions(cid, JUL, today=RUN_DAY)
    claim = claims.file_claim(ann, kind="sick", start_period=AUG, months=3, today=TODAY,
                              now=NOW)
    claims.decide_claim(treasurer, claim, approve=True, reason="Get well soon.", now=NOW)
    return treasurer, ann, bob, claim


def test_an_approved_claim_is_paid_from_the_fund_after_the_waiting_month(sick_leave):
    treasurer, ann, bob, claim = sick_leave
    cid = treasurer.collective_id
    runs.run_contributions(cid, AUG, today=RUN_DAY)
    august = runs.run_payouts(cid, AUG, today=RUN_DAY)
    assert (august.total, august.entries, _lines(august.run)) == (0, 0, [])

    runs.run_contributions(cid, SEP, today=RUN_DAY)
    september = runs.run_payouts(cid, SEP, triggered_by="test", today=RUN_DAY)

    # September's donors are everyone who contributed: 2,250 (founder), 4,500 (Ann), 2,250.
    # Each gives 500.00; their reserves (3 x 22.50 = 67.50) cover that much of it, and the
    # other 432.50 each is owed to the fund, so no reserve goes below zero.
    assert _lines(september.run) == [
        (ann.id, "benefit", 100_000, 0, claim.id, SEP),
        (treasurer.id, "gift", 50_000, 0, claim.id, SEP),
        (treasurer.id, "debt", 43_250, 0, claim.id, SEP),
        (bob.id, "gift", 50_000, 0, claim.id, SEP),
        (bob.id, "debt", 43_250, 0, claim.id, SEP)]
    assert (september.total, september.shortfall, september.entries) == (100_000, 0, 1)
    entry = ledger.find_entry(cid, f"benefit:{claim.id}:2026-09")
    assert entry.occurred_on == date(2026, 9, 30)
    assert balance(ann) == 20_000 - 3 * 4_500 + 100_000
    assert queries.fund_balance(cid) == 500_000 + 3 * 9_000 - 100_000
    assert balances.check_ledger(cid).ok


def test_a_payout_run_pays_every_month_due_up_to_its_period(sick_leave):
    treasurer, ann, _, claim = sick_leave
    cid = treasurer.collective_id

    runs.run_contributions(cid, OCT, today=RUN_DAY)
    october = runs.run_payouts(cid, OCT, today=RUN_DAY)

    # Both months' benefits are gifts from October's donors (2,250 each: half and half).
    treasurer, _, bob, _ = sick_leave
    # Their reserves (July and October, 45.00 each) cover 45.00 of September's gifts; the
    # rest of both months' gifts is owed to the fund.
    assert _lines(october.run) == [(ann.id, "benefit", 100_000, 0, claim.id, SEP),
                                   (ann.id, "benefit", 100_000, 0, claim.id, OCT),
                                   (treasurer.id, "gift", 50_000, 0, claim.id, SEP),
                                   (treasurer.id, "debt", 45_500, 0, claim.id, SEP),
                                   (bob.id, "gift", 50_000, 0, claim.id, SEP),
                                   (bob.id, "debt", 45_500, 0, claim.id, SEP),
                                   (treasurer.id, "gift", 50_000, 0, claim.id, OCT),
                                   (treasurer.id, "debt", 50_000, 0, claim.id, OCT),
                                   (bob.id, "gift", 50_000, 0, claim.id, OCT),
                                   (bob.id, "debt", 50_000, 0, claim.id, OCT)]
    assert october.entries == 2
    assert [e.idempotency_key for e in _entries(cid, "benefit")] == [
        f"benefit:{claim.id}:2026-09", f"benefit:{claim.id}:2026-10"]
    assert balance(ann) == 20_000 - 2 * 4_500 + 200_000
    # The claim is used up.
    runs.run_contributions(cid, date(2026, 11, 1), today=RUN_DAY)
    assert runs.run_payouts(cid, date(2026, 11, 1), today=RUN_DAY).total == 0


def test_a_short_fund_cuts_every_payout_pro_rata_and_keeps_its_minimum(ctx):
    treasurer, ann, bob = found_fund(3, terms=plan(eligibility_months=0,
                                                   min_fund_balance=10_000), start=JUL)
    cid = treasurer.collective_id
    set_level(ann, 100_000, start=JUL)
    set_level(bob, 50_000, start=JUL)
    deposit(treasurer, treasurer, 2_250, on=JUL)  # September's one donor
    seed_fund(cid, 10_000 + 90_001 - 2_250, on=JUL)
    filed = []
    for person in (ann, bob):
        claim = claims.file_claim(person, kind="sick", start_period=AUG, months=2,
                                  today=TODAY, now=NOW)
        claims.decide_claim(treasurer, claim, approve=True, reason="Approved.", now=NOW)
        filed.append(claim)
    runs.run_contributions(cid, SEP, today=RUN_DAY)

    result = runs.run_payouts(cid, SEP, today=RUN_DAY)

    # 90,001 above the minimum for 150,000 due: quotas 60,000.67 and 30,000.33.
    assert _lines(result.run)[:2] == [(ann.id, "benefit", 60_001, 39_999, filed[0].id, SEP),
                                      (bob.id, "benefit", 30_000, 20_000, filed[1].id, SEP)]
    assert result.total == result.run.total_amount == 90_001
    assert result.shortfall == result.run.shortfall_amount == 39_999 + 20_000
    assert queries.fund_balance(cid) == 10_000
    assert (balance(ann), balance(bob)) == (60_001, 30_000)


def test_a_fund_at_its_minimum_pays_nothing_and_records_the_whole_shortfall(ctx):
    treasurer, ann = found_fund(2, terms=plan(eligibility_months=0, min_fund_balance=50_000),
                                start=JUL)
    cid = treasurer.collective_id
    set_level(ann, 50_000, start=JUL)
    seed_fund(cid, 40_000, on=JUL)
    claim = claims.file_claim(ann, kind="sick", start_period=AUG, months=2, today=TODAY, now=NOW)
    claims.decide_claim(treasurer, claim, approve=True, reason="Approved.", now=NOW)
    runs.run_contributions(cid, SEP, today=RUN_DAY)  # nobody can pay: both owe

    result = runs.run_payouts(cid, SEP, today=RUN_DAY)

    assert _lines(result.run) == [(ann.id, "benefit", 0, 50_000, claim.id, SEP)]
    assert (result.total, result.shortfall, result.entries) == (0, 50_000, 0)
    assert queries.fund_balance(cid) == 40_000


TWO_LEVELS = plan(eligibility_months=0, contribution={"kind": "levels", "levels": [
    {"benefit": 50_000, "contribution": 2_500}, {"benefit": 100_000, "contribution": 5_000}]})


@pytest.mark.parametrize("stored_level", [None, 75_000], ids=["never-chosen",
                                                               "dropped-by-the-plan"])
def test_a_sick_member_is_paid_the_level_they_contribute_for(ctx, stored_level):
    """A member who never chose, or whose level (chosen under an earlier plan) is not in
    this plan, pays the lowest level's contribution; if ill, they get the lowest level."""
    treasurer, ann = found_fund(2, terms=TWO_LEVELS, start=JUL)
    cid = treasurer.collective_id
    if stored_level:
        set_level(ann, stored_level, start=JAN)
    seed_fund(cid, 500_000, on=JUL)
    deposit(treasurer, ann, 10_000, on=JUL)
    assert runs.run_contributions(cid, JUL, today=RUN_DAY).lines["paid"].tolist() == [0, 2_500]
    claim = claims.file_claim(ann, kind="sick", start_period=AUG, months=2, today=TODAY, now=NOW)
    claims.decide_claim(treasurer, claim, approve=True, reason="Approved.", now=NOW)
    deposit(treasurer, treasurer, 2_500, on=SEP)  # September's donor
    runs.run_contributions(cid, SEP, today=RUN_DAY)

    result = runs.run_payouts(cid, SEP, today=RUN_DAY)

    assert _lines(result.run)[0] == (ann.id, "benefit", 50_000, 0, claim.id, SEP)


def test_pending_and_rejected_claims_are_not_paid(ctx):
    treasurer, ann, bob = found_fund(3, terms=plan(eligibility_months=0), start=JUL)
    cid = treasurer.collective_id
    seed_fund(cid, 500_000, on=JUL)
    claims.file_claim(ann, kind="sick", start_period=AUG, months=2, today=TODAY, now=NOW)
    rejected = claims.file_claim(bob, kind="sick", start_period=AUG, months=2, today=TODAY, now=NOW)
    claims.decide_claim(treasurer, rejected, approve=False, reason="No doctor's note.", now=NOW)
    runs.run_contributions(cid, OCT, today=RUN_DAY)

    assert runs.run_payouts(cid, OCT, today=RUN_DAY).total == 0
    assert queries.fund_balance(cid) == 500_000


# --- Catching up ----------------------------------------------------------------------------


def test_due_periods_lists_every_missed_month_in_order_contributions_first(ctx):
    treasurer, _ = found_fund(2, start=JUL)
    cid = treasurer.collective_id

    assert runs.due_periods(cid, TODAY) == [
        (CONTRIBUTIONS, JUL), (PAYOUTS, JUL), (CONTRIBUTIONS, AUG), (PAYOUTS, AUG),
        (CONTRIBUTIONS, SEP), (PAYOUTS, SEP)]
    runs.run_contributions(cid, AUG, today=RUN_DAY)
    assert runs.due_periods(cid, TODAY) == [
        (CONTRIBUTIONS, JUL), (PAYOUTS, JUL), (PAYOUTS, AUG), (CONTRIBUTIONS, SEP),
        (PAYOUTS, SEP)]
    # The current month is not due until it has ended.
    assert runs.due_periods(cid, date(2026, 7, 31)) == []


def test_a_collective_without_a_plan_has_nothing_due(ctx):
    founder = make_collective()
    assert plans.first_period(founder.collective_id) is None
    assert runs.due_periods(founder.collective_id, TODAY) == []
    assert jobs.run_due(founder.collective_id, TODAY) == []


def test_run_due_catches_up_three_missed_months_in_order_then_has_nothing_left(ctx):
    treasurer, ann = found_fund(2, start=JUL)
    cid = treasurer.collective_id
    for person in (treasurer, ann):
        deposit(treasurer, person, 10_000, on=JUL)

    results = jobs.run_due(cid, TODAY, triggered_by="test")

    assert [(r.kind, r.period) for r in results] == [
        (CONTRIBUTIONS, JUL), (PAYOUTS, JUL), (CONTRIBUTIONS, AUG), (PAYOUTS, AUG),
        (CONTRIBUTIONS, SEP), (PAYOUTS, SEP)]
    assert [r.run.triggered_by for r in results] == ["test"] * 6
    assert [e.idempotency_key for e in _entries(cid, "contribution")] == [
        f"contribution:2026-{m:02d}:member:{p.id}" for m in (7, 8, 9) for p in (treasurer, ann)]
    assert (balance(treasurer), balance(ann)) == (10_000 - 3 * 2_250, 10_000 - 3 * 2_250)
    assert runs.due_periods(cid, TODAY) == []
    assert jobs.run_due(cid, TODAY) == []
    assert len(_runs(cid)) == 6


# --- Claims ---------------------------------------------------------------------------------


@pytest.fixture
def fund(ctx):
    """The bread fund from January: the founder (treasurer), Ann (level 1,000.00), Bob, and
    Tess, a second treasurer; everyone contributed in July."""
    treasurer, ann, bob = found_fund(3)
    tess = make_member(treasurer.collective, roles=(Role.MEMBER, Role.TREASURER))
    tess.joined_at = ann.joined_at
    set_level(ann, 100_000)
    for person in (treasurer, ann, bob, tess):
        deposit(treasurer, person, 50_000)
    runs.run_contributions(treasurer.collective_id, JUL, today=RUN_DAY)
    return treasurer, ann, bob, tess


def _refused(member, field: str, words: str, **claim) -> DomainError:
    with pytest.raises(DomainError, match=words) as refused:
        claims.file_claim(member, today=TODAY, now=NOW, **claim)
    assert refused.value.field == field
    return refused.value


def test_a_sick_claim_is_filed_pending_with_a_first_event(fund):
    _, ann, _, _ = fund
    claim = claims.file_claim(ann, kind="sick", start_period=date(2026, 8, 17), months=3,
                              note="Broken wrist.", today=TODAY, now=NOW)
    assert (claim.kind, claim.status, claim.start_period, claim.months, claim.amount,
            claim.proposal_id) == ("sick", "pending", AUG, 3, 0, None)
    assert [(e.status, e.actor_id, e.note, e.at) for e in claim.events] == [
        ("pending", ann.id, "filed", NOW)]


@pytest.mark.parametrize(
    ("claim", "field", "words"),
    [
        ({"kind": "holiday", "start_period": OCT}, "kind", "'holiday' is not a kind"),
        ({"kind": "sick", "start_period": JUL, "months": 3}, "start_period",
         r"claims need 1 month\(s\) of contributions before they start; you have 0"),
        # The waiting month is not one of the 24 paid: 25 months in all is allowed.
        ({"kind": "sick", "start_period": AUG, "months": 26}, "months", "at most 24 months"),
        ({"kind": "sick", "start_period": AUG, "months": 1}, "months", "waiting period"),
        ({"kind": "sick", "start_period": AUG, "months": 0}, "months", "at least one month"),
        ({"kind": "sick", "start_period": date(2026, 6, 1), "months": 3}, "start_period",
         "at most three months back"),
        ({"kind": "sick", "start_period": date(2027, 11, 1), "months": 3}, "start_period",
         "at most a year ahead"),
        ({"kind": "hardship", "start_period": OCT, "amount": 30_001}, "amount",
         "pays at most \\$300.00"),
        ({"kind": "hardship", "start_period": OCT, "amount": 0}, "amount", "at most"),
        ({"kind": "unpaid_invoice", "start_period": OCT}, "invoice_amount",
         "unpaid invoice's amount"),
    ],
    ids=["unknown-kind", "no-contributions-yet", "more-than-max", "waiting-only",
         "no-months", "too-far-back", "too-far-ahead", "one-off-over-cap", "one-off-zero",
         "invoice-without-amount"],
)
def test_a_claim_the_plan_does_not_allow_is_refused_naming_the_field(fund, claim, field,
                                                                      words):
    _, ann, _, _ = fund
    _refused(ann, field, words, **claim)
    assert claims.claims_of(ann.collective_id) == []


def test_a_kind_the_plan_does_not_cover_is_refused(ctx):
    without_parental = plan(eligibility_months=0)
    del without_parental["benefits"]["parental"]
    _, ann = found_fund(2, terms=without_parental)
    _refused(ann, "kind", "does not cover parental leave", kind="parental", start_period=OCT,
             months=2)


def test_a_claim_overlapping_an_open_claim_of_the_same_kind_is_refused(fund):
    _, ann, _, _ = fund
    claims.file_claim(ann, kind="sick", start_period=AUG, months=3, today=TODAY, now=NOW)
    _refused(ann, "start_period", "already have a sick leave claim", kind="sick",
             start_period=OCT, months=2)
    # The month after the first claim ends is free, and so is another kind.
    after = claims.file_claim(ann, kind="sick", start_period=date(2026, 11, 1), months=2,
                              today=TODAY, now=NOW)
    parental = claims.file_claim(ann, kind="parental", start_period=OCT, months=2,
                                 today=TODAY, now=NOW)
    assert (after.status, parental.status) == ("pending", "pending")


def test_a_withdrawn_claim_no_longer_blocks_the_months(fund):
    _, ann, _, _ = fund
    first = claims.file_claim(ann, kind="sick", start_period=AUG, months=3, today=TODAY, now=NOW)
    claims.withdraw_claim(ann, first, now=NOW)
    again = claims.file_claim(ann, kind="sick", start_period=AUG, months=3, today=TODAY, now=NOW)
    assert again.status == "pending"


def test_an_unpaid_invoice_pays_its_share_up_to_the_cap_once_a_year(fund):
    _, ann, bob, _ = fund
    claim = claims.file_claim(ann, kind="unpaid_invoice", start_period=AUG,
                              invoice_amount=64_000, today=TODAY, now=NOW)
    # Half the invoice; a one-off claim starts this month at the earliest.
    assert (claim.amount, claim.invoice_amount, claim.start_period, claim.months) == (
        32_000, 64_000, OCT, 1)
    big = claims.file_claim(bob, kind="unpaid_invoice", start_period=OCT,
                            invoice_amount=500_000, today=TODAY, now=NOW)
    assert big.amount == 100_000
    _refused(ann, "kind", r"can be claimed 1 time\(s\) a year", kind="unpaid_invoice",
             start_period=OCT, invoice_amount=10_000)
    # Next year is another year.
    next_year = claims.file_claim(ann, kind="unpaid_invoice", start_period=date(2027, 1, 1),
                                  invoice_amount=10_000, today=TODAY, now=NOW)
    assert next_year.amount == 5_000


def test_a_treasurer_cannot_decide_their_own_claim(fund):
    treasurer, _, _, tess = fund
    claim = claims.file_claim(treasurer, kind="sick", start_period=AUG, months=3,
                              today=TODAY, now=NOW)
    with pytest.raises(DomainError, match="cannot decide your own claim") as refused:
        claims.decide_claim(treasurer, claim, approve=True, reason="Looks fine to me.", now=NOW)
    assert refused.value.field == "reason"
    assert claim.status == "pending"

    claims.decide_claim(tess, claim, approve=True, reason="Doctor's note seen.", now=NOW)
    assert (claim.status, claim.decided_by_id, claim.decision_reason) == (
        "approved", tess.id, "Doctor's note seen.")


def test_deciding_a_claim_needs_a_reason(fund):
    treasurer, ann, _, _ = fund
    claim = claims.file_claim(ann, kind="sick", start_period=AUG, months=3, today=TODAY, now=NOW)
    with pytest.raises(DomainError, match="give a reason") as refused:
        claims.decide_claim(treasurer, claim, approve=False, reason="   ", now=NOW)
    assert refused.value.field == "reason"
    assert claim.status == "pending"
    assert [e.status for e in claim.events] == ["pending"]


def test_a_plain_member_cannot_decide_a_claim(fund):
    _, ann, bob, _ = fund
    claim = claims.file_claim(ann, kind="sick", start_period=AUG, months=3, today=TODAY, now=NOW)
    with pytest.raises(NotAllowed) as refused:
        claims.decide_claim(bob, claim, approve=True, reason="Sure.", now=NOW)
    assert refused.value.role == "treasurer"
    assert claim.status == "pending"


def test_every_status_change_of_a_claim_is_an_event(fund):
    treasurer, ann, _, _ = fund
    claim = claims.file_claim(ann, kind="sick", start_period=AUG, months=3, today=TODAY,
                              now=NOW)
    later = NOW + timedelta(days=1)
    claims.decide_claim(treasurer, claim, approve=False, reason="Please add a note.",
                        now=later)
    assert [(e.status, e.actor_id, e.note, e.at) for e in claim.events] == [
        ("pending", ann.id, "filed", NOW),
        ("rejected", treasurer.id, "Please add a note.", later)]
    with pytest.raises(DomainError, match="already rejected"):
        claims.decide_claim(treasurer, claim, approve=True, reason="Changed my mind.", now=NOW)


def test_the_claimant_withdraws_a_pending_claim_and_nobody_else_can(fund):
    treasurer, ann, bob, _ = fund
    claim = claims.file_claim(ann, kind="sick", start_period=AUG, months=3, today=TODAY, now=NOW)
    with pytest.raises(NotFound):
        claims.withdraw_claim(bob, claim, now=NOW)

    claims.withdraw_claim(ann, claim, now=NOW)

    assert claim.status == "withdrawn"
    assert [(e.status, e.actor_id) for e in claim.events] == [("pending", ann.id),
                                                              ("withdrawn", ann.id)]
    decided = claims.file_claim(ann, kind="parental", start_period=OCT, months=2,
                                today=TODAY, now=NOW)
    claims.decide_claim(treasurer, decided, approve=True, reason="Congratulations!", now=NOW)
    with pytest.raises(DomainError, match="only a pending claim"):
        claims.withdraw_claim(ann, decided, now=NOW)


# --- Hardship: decided by vote --------------------------------------------------------------


def _vote_on(claim: Claim, voters, choice: VoteChoice) -> Proposal:
    proposal = db.session.get(Proposal, claim.proposal_id)
    for voter in voters:
        proposals.cast_vote(voter, proposal, choice, now=NOW + timedelta(hours=1))
    proposals.close_due_proposals(claim.collective_id,
                                  now=proposal.deadline_at + timedelta(minutes=1))
    return proposal


def test_a_hardship_claim_opens_a_vote_and_is_paid_when_the_vote_adopts_it(fund):
    treasurer, ann, bob, tess = fund
    claim = claims.file_claim(ann, kind="hardship", start_period=OCT, amount=25_000,
                              note="Laptop stolen.", today=TODAY, now=NOW)
    proposal = db.session.get(Proposal, claim.proposal_id)
    assert (proposal.kind, proposal.status, proposal.payload) == (
        "benefit_claim", "open", {"claim_id": claim.id})
    assert proposal.title == f"Hardship for {ann.user.name}: $250.00"
    with pytest.raises(DomainError, match="decided by the members' vote"):
        claims.decide_claim(treasurer, claim, approve=True, reason="Sure.", now=NOW)

    _vote_on(claim, (treasurer, bob, tess), VoteChoice.AGREE)

    assert proposal.status == "adopted"
    assert claim.status == "approved"
    assert claim.decision_reason.startswith("approved by vote: Adopted: 3 agree")
    assert [(e.status, e.actor_id) for e in claim.events] == [("pending", ann.id),
                                                              ("approved", None)]
    seed_fund(ann.collective_id, 100_000)
    runs.run_contributions(ann.collective_id, OCT, today=RUN_DAY)
    paid = runs.run_payouts(ann.collective_id, OCT, today=RUN_DAY)
    assert [line for line in _lines(paid.run) if line[1] == "benefit"] == [
        (ann.id, "benefit", 25_000, 0, claim.id, OCT)]


def test_a_hardship_claim_the_vote_turns_down_is_rejected(fund):
    treasurer, ann, bob, tess = fund
    claim = claims.file_claim(ann, kind="hardship", start_period=OCT, amount=25_000,
                              today=TODAY, now=NOW)

    proposal = _vote_on(claim, (treasurer, bob, tess), VoteChoice.DISAGREE)

    assert proposal.status == "rejected"
    assert claim.status == "rejected"
    assert claim.decision_reason.startswith("not approved by vote: Not enough agreement")
    assert [(e.status, e.actor_id) for e in claim.events] == [("pending", ann.id),
                                                              ("rejected", None)]
    runs.run_contributions(ann.collective_id, OCT, today=RUN_DAY)
    assert runs.run_payouts(ann.collective_id, OCT, today=RUN_DAY).total == 0


def test_a_withdrawn_hardship_claim_stays_withdrawn_whatever_the_vote(fund):
    treasurer, ann, bob, tess = fund
    claim = claims.file_claim(ann, kind="hardship", start_period=OCT, amount=25_000,
                              today=TODAY, now=NOW)
    claims.withdraw_claim(ann, claim, now=NOW)

    # Withdrawing the claim withdraws its vote: nobody can vote it through any more.
    with pytest.raises(DomainError, match="voting on this proposal has closed"):
        _vote_on(claim, (treasurer, bob, tess), VoteChoice.AGREE)
    assert proposals.close_due_proposals(ann.collective_id, now=NOW + timedelta(days=60)) == []

    assert claim.status == "withdrawn"
    runs.run_contributions(ann.collective_id, OCT, today=RUN_DAY)
    assert runs.run_payouts(ann.collective_id, OCT, today=RUN_DAY).total == 0


# --- Levels and plans -----------------------------------------------------------------------


def test_a_level_is_chosen_from_next_month_and_changed_once_per_allowed_period(ctx):
    _, ann = found_fund(2)
    first = plans.choose_level(ann, 75_000, today=date(2026, 1, 15))
    assert (first.benefit_amount, first.from_period) == (75_000, FEB)
    # A change of mind before it starts replaces it.
    again = plans.choose_level(ann, 100_000, today=date(2026, 1, 28))
    assert again.id == first.id
    assert (again.benefit_amount, again.from_period) == (100_000, FEB)

    with pytest.raises(DomainError, match="next change can start February 2027") as refused:
        plans.choose_level(ann, 50_000, today=date(2026, 3, 10))
    assert refused.value.field == "level"
    with pytest.raises(DomainError, match="choose one of the plan's levels"):
        plans.choose_level(ann, 60_000, today=date(2027, 1, 10))

    later = plans.choose_level(ann, 50_000, today=date(2027, 1, 10))
    assert (later.benefit_amount, later.from_period) == (50_000, date(2027, 2, 1))
    assert plans.level_of(ann.id, date(2026, 12, 1)) == 100_000
    assert plans.level_of(ann.id, date(2027, 2, 1)) == 50_000
    assert plans.level_of(ann.id, JAN) == 0
    assert db.session.scalar(sa.select(sa.func.count(MemberLevel.id))
                             .filter_by(membership_id=ann.id)) == 2


def test_levels_cannot_be_chosen_in_a_plan_without_levels(ctx):
    _, ann = found_fund(2, terms={"contribution": {"kind": "flat", "amount": 3_000}})
    with pytest.raises(DomainError, match="no levels") as refused:
        plans.choose_level(ann, 50_000, today=TODAY)
    assert refused.value.field == "level"


def test_the_founding_plan_is_set_once_by_a_treasurer(ctx):
    treasurer, ann = found_fund(2)
    with pytest.raises(Conflict, match="already has a benefit plan"):
        plans.set_founding_plan(treasurer, PlanTerms.from_json(BREAD_FUND), JAN, today=TODAY)
    with pytest.raises(NotAllowed):
        plans.set_founding_plan(ann, PlanTerms.from_json(BREAD_FUND), JAN, today=TODAY)
    with pytest.raises(DomainError) as refused:
        plans.check_terms({"contribution": {"kind": "levels", "levels": []}})
    assert refused.value.field == "levels"


def test_a_plan_adopted_by_vote_becomes_version_2_from_the_month_after_the_decision(ctx):
    treasurer, ann, bob = found_fund(3)
    cid = treasurer.collective_id
    five_percent = plan(contribution={"kind": "levels", "levels": [
        {"benefit": b, "contribution": b // 20} for b in (50_000, 100_000)]})
    deadline = NOW + timedelta(days=7)
    proposal = plans.propose_plan(treasurer, PlanTerms.from_json(five_percent),
                                  effective_on=OCT, deadline_at=deadline, today=TODAY,
                                  now=NOW)
    assert (proposal.kind, proposal.title, proposal.payload["effective_on"]) == (
        "benefit_plan", "A new benefit plan", "2026-10-01")
    with pytest.raises(NotAllowed):
        plans.propose_plan(ann, PlanTerms.from_json(five_percent), effective_on=OCT,
                           today=TODAY, now=NOW)

    for voter in (treasurer, ann, bob):
        proposals.cast_vote(voter, proposal, VoteChoice.AGREE, now=NOW + timedelta(days=1))
    proposals.close_due_proposals(cid, now=deadline + timedelta(minutes=1))

    newest = plans.plans_of(cid)[0]
    assert (newest.version, newest.effective_on, newest.proposal_id) == (
        2, date(2026, 11, 1), proposal.id)
    assert PlanTerms.from_json(newest.terms) == PlanTerms.from_json(five_percent)
    assert plans.plan_in_force(cid, date(2026, 10, 31)).version == 1
    assert plans.plan_in_force(cid, date(2026, 11, 1)).version == 2
    for person in (treasurer, ann, bob):
        deposit(treasurer, person, 10_000)
    november = runs.run_contributions(cid, date(2026, 11, 1), today=RUN_DAY)
    assert november.run.plan_id == newest.id
    assert november.total == 3 * 2_500
    assert db.session.scalar(sa.select(sa.func.count(BenefitPlan.id))
                             .filter_by(collective_id=cid)) == 2


def test_a_proposed_plan_s_start_is_checked_against_the_today_the_caller_gives(ctx):
    treasurer, _ = found_fund(2)
    terms = PlanTerms.from_json(BREAD_FUND)
    far = date(2028, 11, 1)  # 25 months after October 2026, 24 after November
    #: 00:30 on 1 November in Manila, still October in UTC.
    moment = datetime(2026, 10, 31, 16, 30, tzinfo=UTC)
    with pytest.raises(DomainError, match="at most a year back or two years ahead") as refused:
        plans.propose_plan(treasurer, terms, effective_on=far, today=date(2026, 10, 31),
                           now=moment)
    assert refused.value.field == "effective_on"

    proposal = plans.propose_plan(treasurer, terms, effective_on=far, today=date(2026, 11, 1),
                                  now=moment)

    assert (proposal.payload["effective_on"], proposal.created_at) == ("2028-11-01", moment)


# --- A month that has not ended -------------------------------------------------------------


@pytest.mark.parametrize("kind", [CONTRIBUTIONS, PAYOUTS])
@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry"])
def test_a_run_of_a_month_that_has_not_ended_is_refused_and_writes_nothing(ctx, kind,
                                                                           dry_run):
    treasurer, ann = found_fund(2)
    cid = treasurer.collective_id
    for person in (treasurer, ann):
        deposit(treasurer, person, 10_000)
    entries = _entry_count(cid)

    for period in (OCT, date(2026, 11, 1)):  # this month (TODAY is in October), and later
        with pytest.raises(DomainError, match="only a month that has ended can be run; "
                                              f"{period:%B %Y} ends on") as refused:
            runs.run(cid, kind, period, today=TODAY, dry_run=dry_run)
        assert refused.value.field == "period"

    assert _runs(cid) == []
    assert _entry_count(cid) == entries
    # The month before runs; October runs once it has ended, in the collective's own date.
    if kind == PAYOUTS:  # a month's payouts wait for its contributions
        runs.run_contributions(cid, SEP, today=TODAY)
        runs.run_contributions(cid, OCT, today=date(2026, 11, 1))
    assert runs.run(cid, kind, SEP, today=TODAY, dry_run=dry_run).skipped == ""
    assert runs.run(cid, kind, OCT, today=date(2026, 11, 1), dry_run=dry_run).skipped == ""


def test_the_fund_months_have_no_gaps_and_end_each_month_with_the_balance(sick_leave):
    treasurer, _, _, _ = sick_leave
    cid = treasurer.collective_id
    runs.run_contributions(cid, OCT, today=RUN_DAY)
    runs.run_payouts(cid, OCT, today=RUN_DAY)  # pays September and October, on October 31

    assert queries.fund_months(cid).to_dict("records") == [
        {"month": "2026-07", "contributions": 9_000, "payouts": 0, "other": 500_000,
         "balance": 509_000},
        {"month": "2026-08", "contributions": 0, "payouts": 0, "other": 0, "balance": 509_000},
        {"month": "2026-09", "contributions": 0, "payouts": 0, "other": 0, "balance": 509_000},
        {"month": "2026-10", "contributions": 9_000, "payouts": 200_000, "other": 0,
         "balance": 318_000}]
    assert queries.fund_balance(cid) == 318_000


def test_a_fund_without_entries_has_no_months(ctx):
    treasurer, _ = found_fund(2)
    assert queries.fund_months(treasurer.collective_id).empty
