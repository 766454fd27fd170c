"""A month's payouts wait for its contributions, and the members' reserves always add up to
what the runs left in the fund: checked after every run and by `flask ledger check`."""
from datetime import date

import pytest
import sqlalchemy as sa

from collective.benefits import claims, invariants, jobs, queries, runs
from collective.benefits.models import BenefitRun
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import services as ledger
from tests.benefits.factories import NOW, TODAY, deposit, found_fund, seed_fund, set_level

JUL, AUG, SEP = (date(2026, m, 1) for m in (7, 8, 9))
RUN_DAY = date(2027, 1, 1)


def _runs(collective_id: int) -> list[tuple[str, date]]:
    return [tuple(row) for row in db.session.execute(
        sa.select(BenefitRun.kind, BenefitRun.period).filter_by(collective_id=collective_id)
        .order_by(BenefitRun.period, BenefitRun.id))]


@pytest.fixture
def ill_in_august(ctx):
    """Ann (level 1,000.00) is ill from August for three months; the founder and Bob (lowest
    level, 22.50 a month) and Ann (45.00) each deposited 200.00; a donation of 5,000.00
    (no member's money) sits in the fund; July's contributions ran."""
    treasurer, ann, bob = found_fund(3, start=JUL)
    set_level(ann, 100_000, start=JUL)
    for person in (treasurer, ann, bob):
        deposit(treasurer, person, 20_000, on=JUL)
    seed_fund(treasurer.collective_id, 500_000, on=JUL)
    runs.run_contributions(treasurer.collective_id, JUL, today=RUN_DAY)
    claim = claims.file_claim(ann, kind="sick", start_period=AUG, months=3, today=TODAY,
                              now=NOW)
    claims.decide_claim(treasurer, claim, approve=True, reason="Get well soon.", now=NOW)
    return treasurer, ann, bob, claim


@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry"])
def test_a_month_s_payouts_are_refused_until_its_contributions_have_run(ill_in_august,
                                                                         dry_run):
    treasurer, *_ = ill_in_august
    cid = treasurer.collective_id

    with pytest.raises(DomainError, match="run the contributions for September 2026 first"
                       ) as refused:
        runs.run(cid, "payouts", SEP, today=RUN_DAY, dry_run=dry_run)

    assert refused.value.field == "kind"
    assert _runs(cid) == [("contributions", JUL)]
    runs.run_contributions(cid, SEP, today=RUN_DAY)
    assert runs.run(cid, "payouts", SEP, today=RUN_DAY, dry_run=dry_run).total == 100_000


def test_the_run_command_refuses_payouts_before_contributions(runner, setup):
    with setup():
        treasurer, _ = found_fund(2, start=JUL)
        db.session.commit()
        slug, cid = treasurer.collective.slug, treasurer.collective_id

    refused = runner.invoke(args=["benefits", "run", "payouts", "--collective", slug,
                                  "--period", "2026-07"])

    assert refused.exit_code != 0
    assert "run the contributions for July 2026 first" in refused.output
    with setup():
        assert _runs(cid) == []


def test_the_catch_up_runs_each_month_s_contributions_before_its_payouts(ill_in_august):
    treasurer, *_ = ill_in_august
    cid = treasurer.collective_id

    done = jobs.run_due(cid, date(2026, 11, 5))

    assert [(r.kind.value, r.period) for r in done] == [
        ("payouts", JUL), ("contributions", AUG), ("payouts", AUG), ("contributions", SEP),
        ("payouts", SEP), ("contributions", date(2026, 10, 1)),
        ("payouts", date(2026, 10, 1))]
    assert invariants.reserve_check(cid).ok


def test_the_reserves_add_up_to_the_fund_in_a_hand_checked_example(ill_in_august):
    """July and September: the founder and Bob pay 22.50 a month, Ann 45.00, so 90.00 a
    month goes in: 180.00. September pays Ann 1,000.00, given by September's donors other
    than Ann, by what they paid (22.50 each): 500.00 from the founder, 500.00 from Bob.
    The founder's reserve (45.00) covers 45.00 of his gift and he owes the fund the other
    455.00; Bob the same. Reserves: founder 0, Bob 0, Ann 90.00: together 90.00, and the
    runs left 180.00 - 90.00 = 90.00 in the fund account, beside a 5,000.00 donation (no
    member's) that let it pay. Members owe the fund 910.00, and the receivable holds that.
    The fund holds 5,000.00 + 90.00 - 910.00 = 4,180.00."""
    treasurer, ann, bob, _ = ill_in_august
    cid = treasurer.collective_id
    runs.run_contributions(cid, SEP, today=RUN_DAY)
    runs.run_payouts(cid, SEP, today=RUN_DAY)

    check = invariants.reserve_check(cid)

    reserves = queries.reserve_sums.reserves(queries.run_lines_frame(cid))
    assert reserves.to_dict() == {treasurer.id: 0, ann.id: 9_000, bob.id: 0}
    debts = queries.reserve_sums.gift_debts(queries.run_lines_frame(cid))
    assert debts[debts != 0].to_dict() == {treasurer.id: 45_500, bob.id: 45_500}
    assert (check.reserves, check.held, check.other, check.gap) == (9_000, 9_000, 500_000, 0)
    assert (check.debts, check.owed_held, check.negative) == (91_000, 91_000, ())
    assert check.ok and invariants.reserve_problems(cid) == []
    assert queries.fund_balance(cid) == 500_000 - 82_000


def test_money_put_in_outside_the_runs_is_no_member_s_and_stays_outside_the_check(
        ill_in_august):
    treasurer, *_ = ill_in_august
    cid = treasurer.collective_id

    check = invariants.reserve_check(cid)

    assert (check.reserves, check.held, check.other, check.ok) == (9_000, 9_000, 500_000, True)
    assert queries.fund_balance(cid) == 509_000


def _benefit_behind_the_runs_back(cid: int, ann_id: int) -> None:
    """A benefit posted by hand: balanced, so only the fund's check sees it."""
    fund = ledger.account_by_code(cid, ledger.BENEFITS_FUND)
    ledger.post_entry(cid, kind="benefit", occurred_on=JUL, idempotency_key="by-hand",
                      lines=[ledger.Line(fund.id, 1_000, "USD"),
                             ledger.Line(ledger.member_account(ann_id).id, -1_000, "USD")])
    db.session.commit()


def test_ledger_check_runs_the_fund_s_check_and_names_a_broken_collective(runner, setup):
    with setup():
        treasurer, ann = found_fund(2, start=JUL)
        deposit(treasurer, ann, 10_000, on=JUL)
        runs.run_contributions(treasurer.collective_id, JUL, today=RUN_DAY)
        db.session.commit()
        cid, ann_id = treasurer.collective_id, ann.id

    fine = runner.invoke(args=["ledger", "check"])

    assert fine.exit_code == 0, fine.output
    assert "fund reserves: ok" in fine.output
    with setup():
        _benefit_behind_the_runs_back(cid, ann_id)

    broken = runner.invoke(args=["ledger", "check"])

    assert broken.exit_code == 1
    assert (f"fund reserves: collective {cid}: members' reserves add up to $22.50; the runs "
            "left $12.50 in the fund") in broken.output


def test_the_ledger_check_page_shows_the_fund_s_check_as_the_command_does(client, auth,
                                                                           setup):
    with setup():
        treasurer, ann = found_fund(2, start=JUL)
        deposit(treasurer, ann, 10_000, on=JUL)
        runs.run_contributions(treasurer.collective_id, JUL, today=RUN_DAY)
        db.session.commit()
        cid, ann_id = treasurer.collective_id, ann.id
        slug, email = treasurer.collective.slug, treasurer.user.email
    auth.login(email)

    fine = client.post(f"/c/{slug}/ledger/check").get_data(as_text=True)

    assert "✓ balanced" in fine
    assert "fund reserves: <span class=\"badge ok\">✓ ok</span>" in fine
    with setup():
        _benefit_behind_the_runs_back(cid, ann_id)

    broken = client.post(f"/c/{slug}/ledger/check").get_data(as_text=True)

    assert "✓ balanced" in broken
    assert "fund reserves: <span class=\"badge warn\">✗ not ok</span>" in broken
    assert (f"collective {cid}: members&#39; reserves add up to $22.50; the runs left $12.50 "
            "in the fund") in broken
