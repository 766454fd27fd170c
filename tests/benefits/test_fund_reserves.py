"""The fund as bread-fund members know it, each rule checked on a hand-computed example: a
gift never takes a reserve below zero (the donor owes the rest, or the others cover it, as
the plan says), what is owed is paid back from the next contributions, a shortfall is made
up in a later month, and a leaver gets their reserve back."""
from datetime import date

import pytest
import sqlalchemy as sa

from collective.benefits import claims, compute, invariants, queries, reserve_sums, run_steps, runs
from collective.benefits.models import BenefitPlan, BenefitRun, RunLine
from collective.extensions import db
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.members import services as members
from collective.reports import dashboard
from tests.benefits.factories import (
    NOW,
    TODAY,
    balance,
    deposit,
    found_fund,
    plan,
    seed_fund,
)

JUL, AUG, SEP, OCT, NOV, DEC = (date(2026, m, 1) for m in (7, 8, 9, 10, 11, 12))
RUN_DAY = date(2027, 1, 1)


def _lines(collective_id: int, period: date, kind: str = "payouts") -> list[tuple]:
    """(membership_id, kind, amount, shortfall, claim_id, for_period) of a run, in order."""
    run = db.session.scalar(sa.select(BenefitRun).filter_by(
        collective_id=collective_id, kind=kind, period=period))
    return [tuple(row) for row in db.session.execute(
        sa.select(RunLine.membership_id, RunLine.kind, RunLine.amount, RunLine.shortfall,
                  RunLine.claim_id, RunLine.for_period)
        .filter_by(run_id=run.id).order_by(RunLine.id))]


def _reserves(collective_id: int) -> dict[int, int]:
    return reserve_sums.reserves(queries.run_lines_frame(collective_id)).to_dict()


def _debts(collective_id: int) -> dict[int, int]:
    debts = reserve_sums.gift_debts(queries.run_lines_frame(collective_id))
    return {m: int(v) for m, v in debts.items() if v}


def _postings(collective_id: int, key: str) -> dict[str, int]:
    entry = ledger.find_entry(collective_id, key)
    codes = dict(db.session.execute(sa.select(ledger.Account.id, ledger.Account.code)).all())
    return {codes[p.account_id]: p.amount for p in entry.postings}


@pytest.fixture
def invoice_fund(ctx):
    """Four members at the lowest level (22.50 a month). Ann, Bob and Cara paid July to
    October (reserve 90.00 each); the founder only October (22.50). Ann, whose client did
    not pay a 240.00 invoice, is given half of it: 120.00 in October. A 1,000.00 donation
    sits in the fund."""
    def build(rule: str):
        founder, ann, bob, cara = found_fund(4, terms=plan(gift_shortfall=rule), start=JUL)
        cid = founder.collective_id
        for person in (ann, bob, cara):
            deposit(founder, person, 20_000, on=JUL)
        seed_fund(cid, 100_000, on=JUL)
        for month in (JUL, AUG, SEP):
            runs.run_contributions(cid, month, today=RUN_DAY)
        deposit(founder, founder, 2_250, on=OCT)
        claim = claims.file_claim(ann, kind="unpaid_invoice", start_period=OCT,
                                  invoice_amount=24_000, today=TODAY, now=NOW)
        claims.decide_claim(founder, claim, approve=True, reason="Approved.", now=NOW)
        runs.run_contributions(cid, OCT, today=RUN_DAY)
        assert _reserves(cid) == {founder.id: 2_250, ann.id: 9_000, bob.id: 9_000,
                                  cara.id: 9_000}
        runs.run_payouts(cid, OCT, today=RUN_DAY)
        return founder, ann, bob, cara, claim
    return build


def test_a_donor_whose_reserve_cannot_cover_their_gift_owes_the_fund_the_rest(invoice_fund):
    """The founder, Bob and Cara each give a third of 120.00 (40.00 each: they paid the same
    in October). The founder's reserve holds 22.50, so he gives that and owes the fund
    17.50; his reserve stays at zero, never below."""
    founder, ann, bob, cara, claim = invoice_fund(compute.DONOR_OWES)
    cid = founder.collective_id

    assert _lines(cid, OCT) == [
        (ann.id, "benefit", 12_000, 0, claim.id, OCT),
        (founder.id, "gift", 4_000, 0, claim.id, OCT),
        (founder.id, "debt", 1_750, 0, claim.id, OCT),
        (bob.id, "gift", 4_000, 0, claim.id, OCT),
        (cara.id, "gift", 4_000, 0, claim.id, OCT)]
    assert _reserves(cid) == {founder.id: 0, ann.id: 9_000, bob.id: 5_000, cara.id: 5_000}
    assert _debts(cid) == {founder.id: 1_750}
    # One entry: Ann's payable is credited 120.00; 102.50 comes out of the reserves and
    # 17.50 is owed to the fund by the founder, on his own receivable.
    assert _postings(cid, f"benefit:{claim.id}:2026-10") == {
        ledger.BENEFITS_FUND: 10_250, f"1210-{founder.id}": 1_750, f"2100-{ann.id}": -12_000}
    # His own receivable holds it, beside the three months (67.50) he has not paid.
    assert queries.owing(cid).to_dict("records") == [
        {"membership_id": founder.id, "name": founder.user.name, "owed": 6_750, "debt": 1_750}]
    # The fund holds the donation and what the runs put in, less the 120.00 paid out; the
    # treasurer's dashboard counts every member's receivable too.
    assert queries.fund_balance(cid) == 100_000 + 3 * 9_000 + 2_250 - 12_000
    assert dashboard.current_balances(cid)["benefits_fund"] == queries.fund_balance(cid)
    assert invariants.reserve_check(cid).ok
    assert balances.check_ledger(cid).ok


def test_the_others_cover_a_gift_a_reserve_cannot_when_the_plan_says_so(invoice_fund):
    """Same month, but the plan says the others cover it: the founder gives his 22.50, and
    the 97.50 left is shared by Bob and Cara (who paid the same): 48.75 each. Nobody owes
    anything."""
    founder, ann, bob, cara, claim = invoice_fund(compute.OTHERS_COVER)
    cid = founder.collective_id

    assert _lines(cid, OCT) == [
        (ann.id, "benefit", 12_000, 0, claim.id, OCT),
        (founder.id, "gift", 2_250, 0, claim.id, OCT),
        (bob.id, "gift", 4_875, 0, claim.id, OCT),
        (cara.id, "gift", 4_875, 0, claim.id, OCT)]
    assert _reserves(cid) == {founder.id: 0, ann.id: 9_000, bob.id: 4_125, cara.id: 4_125}
    assert _debts(cid) == {}
    assert invariants.reserve_check(cid).ok


def test_a_debt_is_paid_back_from_the_next_contributions_before_the_reserve(invoice_fund):
    """In November the founder pays 22.50: 17.50 pays back what he owes, 5.00 goes into his
    reserve. One entry: his payable gives 22.50, his receivable takes 17.50, the fund 5.00."""
    founder, *_ = invoice_fund(compute.DONOR_OWES)
    cid = founder.collective_id
    deposit(founder, founder, 2_250, on=NOV, today=RUN_DAY)

    runs.run_contributions(cid, NOV, today=RUN_DAY)

    mine = [line for line in _lines(cid, NOV, "contributions") if line[0] == founder.id]
    assert mine == [(founder.id, "contribution", 2_250, 0, None, None),
                    (founder.id, "debt-paid", 1_750, 0, None, None)]
    assert _reserves(cid)[founder.id] == 500
    assert _debts(cid) == {}
    assert _postings(cid, f"contribution:2026-11:member:{founder.id}") == {
        f"2100-{founder.id}": 2_250, f"1210-{founder.id}": -1_750, ledger.BENEFITS_FUND: -500}
    assert queries.owing(cid)[["owed", "debt"]].to_dict("records") == [{"owed": 6_750, "debt": 0}]
    check = invariants.reserve_check(cid)
    assert check.ok and (check.debts, check.arrears, check.owed_held) == (0, 6_750, 6_750)


def test_a_member_who_leaves_gets_their_reserve_back(invoice_fund):
    """Bob leaves in November with 50.00 in his reserve. November's contribution run gives
    it back to his payable (he pays no November contribution), and his reserve is zero."""
    founder, ann, bob, cara, _ = invoice_fund(compute.DONOR_OWES)
    cid = founder.collective_id
    before = balance(bob)
    members.set_status(founder, bob, "removed", note="moved on")

    runs.run_contributions(cid, NOV, today=RUN_DAY)

    assert [line for line in _lines(cid, NOV, "contributions") if line[0] == bob.id] == [
        (bob.id, "leaving", 5_000, 0, None, None)]
    assert balance(bob) == before + 5_000
    assert _postings(cid, f"leaving:2026-11:member:{bob.id}") == {
        ledger.BENEFITS_FUND: 5_000, f"2100-{bob.id}": -5_000}
    assert _reserves(cid)[bob.id] == 0
    assert invariants.reserve_check(cid).ok
    # Nothing more is returned the month after.
    runs.run_contributions(cid, DEC, today=RUN_DAY)
    assert [line for line in _lines(cid, DEC, "contributions") if line[0] == bob.id] == []


def test_a_leaver_whose_reserve_is_below_zero_owes_it_on_their_own_receivable(invoice_fund):
    """Bob's reserve is 30.00 below zero (a gift larger than it, as runs wrote before gifts
    were limited to reserves) when he leaves: November's run records the 30.00 as owed on
    his own receivable, and his reserve is back to zero."""
    founder, ann, bob, cara, _ = invoice_fund(compute.DONOR_OWES)
    cid = founder.collective_id
    october = db.session.scalar(sa.select(BenefitRun.id).filter_by(
        collective_id=cid, kind="contributions", period=OCT))
    db.session.add(RunLine(run_id=october, membership_id=bob.id, kind="gift",
                           amount=_reserves(cid)[bob.id] + 3_000, shortfall=0))
    db.session.flush()
    members.set_status(founder, bob, "removed", note="moved on")

    runs.run_contributions(cid, NOV, today=RUN_DAY)

    assert [line for line in _lines(cid, NOV, "contributions") if line[0] == bob.id] == [
        (bob.id, "debt", 3_000, 0, None, None)]
    assert _postings(cid, f"contribution:2026-11:member:{bob.id}") == {
        f"1210-{bob.id}": 3_000, ledger.BENEFITS_FUND: -3_000}
    assert _reserves(cid)[bob.id] == 0


def _figures(check: invariants.ReserveCheck) -> tuple:
    return (check.reserves, check.held, check.other, check.debts, check.owed_held,
            check.arrears, check.due_held, check.mismatched, check.negative, check.by_member)


def test_the_check_after_a_run_from_its_own_rows_is_the_whole_check(invoice_fund):
    """November (Bob leaving with a reserve below zero, arrears owed and settled): the check
    built from the run's own lines and postings equals the check read from all of them."""
    founder, ann, bob, cara, _ = invoice_fund(compute.DONOR_OWES)
    cid = founder.collective_id
    october = db.session.scalar(sa.select(BenefitRun.id).filter_by(
        collective_id=cid, kind="contributions", period=OCT))
    db.session.add(RunLine(run_id=october, membership_id=bob.id, kind="gift",
                           amount=_reserves(cid)[bob.id] + 3_000, shortfall=0))
    db.session.flush()
    members.set_status(founder, bob, "removed", note="moved on")
    before = invariants.reserve_check(cid)

    result = runs.run_contributions(cid, NOV, today=RUN_DAY)

    after = invariants.after_run(before, result.run.id, result.run.entry_count)
    assert after is not None and _figures(after) == _figures(invariants.reserve_check(cid))
    assert after.by_member[bob.id][0] == 0


def test_a_run_whose_postings_disagree_with_its_lines_is_refused(invoice_fund):
    """A run that puts 10.00 into the fund but writes a line of 9.00 is refused by the check
    after it, as the whole check would refuse it."""
    founder, ann, *_ = invoice_fund(compute.DONOR_OWES)
    cid = founder.collective_id
    before = invariants.reserve_check(cid)
    posting = run_steps.Posting()
    key = f"contribution:2026-11:member:{ann.id}"
    posting.entries.append(ledger.NewEntry(
        kind="contribution", occurred_on=date(2026, 11, 30), idempotency_key=key, memo="",
        lines=[ledger.Line(ledger.member_account(ann.id).id, 1_000, "USD"),
               ledger.Line(ledger.account_by_code(cid, ledger.BENEFITS_FUND).id, -1_000,
                           "USD")]))
    posting.line(ann.id, "contribution", 900, key)
    plan = db.session.scalar(sa.select(BenefitRun.plan_id).filter_by(collective_id=cid))
    run = run_steps._record_run(cid, runs.RunKind.CONTRIBUTIONS, NOV,
                                db.session.get(BenefitPlan, plan), posting, 0, "test")
    after = invariants.after_run(before, run.id, run.entry_count)
    assert _figures(after) == _figures(invariants.reserve_check(cid))
    with pytest.raises(invariants.FundOutOfBalance, match=r"move \$1.00 in or out"):
        invariants.check_run(before, "the test run", after)


def test_a_benefit_nobody_else_gave_towards_is_owed_and_made_up_later(ctx):
    """In September only Ann contributed, and she cannot give to herself, so her 500.00 is
    not paid that month: it is owed to her, not refused and not lost. In October the
    founder contributes (and settles what he owed for July and September); October's run
    makes September up first, as a gift from him."""
    founder, ann = found_fund(2, start=JUL)
    cid = founder.collective_id
    deposit(founder, ann, 10_000, on=JUL)
    seed_fund(cid, 500_000, on=JUL)
    runs.run_contributions(cid, JUL, today=RUN_DAY)
    claim = claims.file_claim(ann, kind="sick", start_period=AUG, months=2, today=TODAY,
                              now=NOW)
    claims.decide_claim(founder, claim, approve=True, reason="Approved.", now=NOW)
    runs.run_contributions(cid, SEP, today=RUN_DAY)

    september = runs.run_payouts(cid, SEP, today=RUN_DAY)

    assert _lines(cid, SEP) == [(ann.id, "benefit", 0, 50_000, claim.id, SEP)]
    assert (september.total, september.shortfall, september.entries) == (0, 50_000, 0)
    assert queries.member_fund(ann, RUN_DAY).owed_to_me == 50_000
    owed = queries.benefits_owed(cid)
    assert owed[["claim_id", "for_period", "amount"]].to_dict("records") == [
        {"claim_id": claim.id, "for_period": SEP, "amount": 50_000}]

    deposit(founder, founder, 10_000, on=OCT)
    runs.run_contributions(cid, OCT, today=RUN_DAY)
    october = runs.run_payouts(cid, OCT, today=RUN_DAY)

    # His reserve: 22.50 for October and 45.00 settled for July and September.
    assert _lines(cid, OCT) == [
        (ann.id, "makeup", 50_000, 0, claim.id, SEP),
        (founder.id, "gift", 50_000, 0, claim.id, SEP),
        (founder.id, "debt", 50_000 - 6_750, 0, claim.id, SEP)]
    assert (october.total, october.shortfall) == (50_000, 0)
    assert ledger.find_entry(cid, f"makeup:{claim.id}:2026-09:2026-10") is not None
    assert queries.benefits_owed(cid).empty
    assert balance(ann) == 10_000 - 3 * 2_250 + 50_000
    assert queries.member_fund(ann, RUN_DAY).owed_to_me == 0
    assert invariants.reserve_check(cid).ok


def test_a_shortfall_is_made_up_before_the_next_month_s_benefits(ctx):
    """The fund holds 100.00 + 3 x 22.50 = 167.50 when September's 500.00 falls due: it pays
    167.50 and owes 332.50. A 1,000.00 donation arrives in October. October's run makes up
    the 332.50 first, then pays October's 500.00."""
    founder, ann, bob = found_fund(3, terms=plan(eligibility_months=0), start=JUL)
    cid = founder.collective_id
    for person in (founder, ann, bob):
        deposit(founder, person, 20_000, on=JUL)
    seed_fund(cid, 10_000, on=JUL)
    claim = claims.file_claim(ann, kind="sick", start_period=AUG, months=3, today=TODAY,
                              now=NOW)
    claims.decide_claim(founder, claim, approve=True, reason="Approved.", now=NOW)
    runs.run_contributions(cid, SEP, today=RUN_DAY)
    runs.run_payouts(cid, SEP, today=RUN_DAY)
    assert _lines(cid, SEP)[0] == (ann.id, "benefit", 16_750, 33_250, claim.id, SEP)
    assert queries.fund_balance(cid) == 0

    seed_fund(cid, 100_000, on=OCT)
    runs.run_contributions(cid, OCT, today=RUN_DAY)
    runs.run_payouts(cid, OCT, today=RUN_DAY)

    assert _lines(cid, OCT)[:2] == [(ann.id, "makeup", 33_250, 0, claim.id, SEP),
                                    (ann.id, "benefit", 50_000, 0, claim.id, OCT)]
    assert queries.benefits_owed(cid).empty
    assert balance(ann) == 20_000 - 2 * 2_250 + 16_750 + 33_250 + 50_000
    assert queries.fund_balance(cid) == 100_000 + 6_750 - 83_250
    assert invariants.reserve_check(cid).ok


def test_when_the_fund_cannot_make_it_all_up_the_rest_stays_owed(ctx):
    founder, ann, bob = found_fund(3, terms=plan(eligibility_months=0), start=JUL)
    cid = founder.collective_id
    for person in (founder, ann, bob):
        deposit(founder, person, 20_000, on=JUL)
    claim = claims.file_claim(ann, kind="sick", start_period=AUG, months=3, today=TODAY,
                              now=NOW)
    claims.decide_claim(founder, claim, approve=True, reason="Approved.", now=NOW)
    runs.run_contributions(cid, SEP, today=RUN_DAY)
    runs.run_payouts(cid, SEP, today=RUN_DAY)  # 67.50 paid, 432.50 owed
    runs.run_contributions(cid, OCT, today=RUN_DAY)

    runs.run_payouts(cid, OCT, today=RUN_DAY)  # 67.50 more in: all of it makes September up

    assert _lines(cid, OCT)[:2] == [(ann.id, "makeup", 6_750, 0, claim.id, SEP),
                                    (ann.id, "benefit", 0, 50_000, claim.id, OCT)]
    owed = queries.benefits_owed(cid)
    assert owed[["for_period", "amount"]].to_dict("records") == [
        {"for_period": SEP, "amount": 50_000 - 2 * 6_750},
        {"for_period": OCT, "amount": 50_000}]
    assert invariants.reserve_check(cid).ok
    # Ann's own page reads the same from her lines alone: both months, less the makeup.
    assert queries.member_fund(ann, RUN_DAY).owed_to_me == 50_000 - 2 * 6_750 + 50_000
    assert queries.member_fund(bob, RUN_DAY).owed_to_me == 0
