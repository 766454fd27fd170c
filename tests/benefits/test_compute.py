"""The fund's numbers without a database: plan terms, contributions, benefits, cuts, gifts,
reserves and the forecast, each checked against examples worked out by hand."""
from copy import deepcopy
from datetime import date

import pandas as pd
import pytest

from collective.benefits import compute, reserve_sums, simulation
from collective.benefits.compute import PlanError, PlanTerms
from collective.benefits.simulation import ForecastAssumptions
from collective.demo.fund import BREAD_FUND

BREAD = PlanTerms.from_json(BREAD_FUND)


def _terms(**changes) -> dict:
    """BREAD_FUND with some top-level parts replaced."""
    data = deepcopy(BREAD_FUND)
    data.update(changes)
    return data


def _benefits(**rules) -> dict:
    """BREAD_FUND with some benefit rules replaced (None removes one)."""
    data = deepcopy(BREAD_FUND)
    for kind, rule in rules.items():
        if rule is None:
            data["benefits"].pop(kind)
        else:
            data["benefits"][kind] = rule
    return data


# --- Plan terms -----------------------------------------------------------------------------


def test_bread_fund_plan_reads_as_levels_with_four_benefit_rules():
    assert BREAD.contribution_kind == compute.LEVELS
    # 4.5% of each level, lowest first.
    assert BREAD.levels == ((50_000, 2_250), (75_000, 3_375), (100_000, 4_500),
                            (125_000, 5_625))
    assert BREAD.lowest_level == 50_000
    sick = BREAD.rule("sick")
    assert (sick.amount, sick.waiting_months, sick.max_months, sick.approval) == (
        "level", 1, 24, "treasurer")
    assert sick.is_monthly
    hardship = BREAD.rule("hardship")
    assert (hardship.amount, hardship.per_year, hardship.approval) == (30_000, 1, "vote")
    assert not hardship.is_monthly
    invoice = BREAD.rule("unpaid_invoice")
    assert (invoice.amount, invoice.invoice_bp, invoice.per_year) == (100_000, 5_000, 1)
    assert (BREAD.reserve_cap_months, BREAD.min_fund_balance, BREAD.level_change_months,
            BREAD.eligibility_months) == (36, 0, 12, 1)
    assert BREAD.contribution_for_level(75_000) == 3_375


def test_plan_terms_survive_a_round_trip_through_json():
    assert PlanTerms.from_json(BREAD.to_json()) == BREAD


def test_levels_are_sorted_lowest_first_whatever_order_they_are_given_in():
    terms = PlanTerms.from_json(_terms(contribution={"kind": "levels", "levels": [
        {"benefit": 900, "contribution": 40}, {"benefit": 100, "contribution": 5}]},
        benefits={}))
    assert terms.levels == ((100, 5), (900, 40))
    assert terms.lowest_level == 100


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (_terms(contribution={"kind": "levels", "levels": []}), "levels", "at least one level"),
        (_terms(contribution={"kind": "levels", "levels": [
            {"benefit": 500, "contribution": 20}, {"benefit": 500, "contribution": 30}]}),
         "levels", "same benefit"),
        (_benefits(hardship={"amount": "level", "per_year": 1}), "benefits",
         "hardship cannot pay 'the level'"),
        (_benefits(holiday={"amount": 100}), "benefits", "'holiday' is not a kind of benefit"),
        (_terms(contribution={"kind": "tithe"}), "contribution",
         "levels, earnings_pct or flat"),
        (_benefits(sick={"amount": "level", "max_months": 24, "approval": "boss"}),
         "benefits", "treasurer or by a vote"),
        (_benefits(sick={"amount": "level", "waiting_months": 1}), "benefits",
         "sick needs a maximum number of months"),
        (_terms(contribution={"kind": "flat", "amount": 3000}), "benefits",
         "sick cannot pay 'the level'"),
        (_terms(contribution={"kind": "flat"}, benefits={}), "contribution",
         "flat contribution needs an amount"),
        (_terms(contribution={"kind": "earnings_pct", "bp": 450, "min": 5000, "max": 1000},
                benefits={}), "contribution", "maximum contribution is below the minimum"),
        (_terms(reserve_cap_months=0), "reserve cap", "from 1 to 600"),
        (_terms(eligibility_months=True), "eligibility", "whole number"),
    ],
    ids=["no-levels", "duplicate-levels", "level-for-hardship", "unknown-benefit",
         "unknown-contribution", "approval-boss", "monthly-without-max", "level-in-flat-plan",
         "flat-without-amount", "max-below-min", "reserve-cap-zero", "bool-is-not-a-number"],
)
def test_bad_plan_terms_are_refused_naming_the_part_at_fault(data, field, words):
    with pytest.raises(PlanError, match=words) as refused:
        PlanTerms.from_json(data)
    assert refused.value.field == field


def test_a_plan_without_the_level_it_is_asked_about_says_so():
    with pytest.raises(PlanError) as refused:
        BREAD.contribution_for_level(60_000)
    assert refused.value.field == "level"


# --- Periods --------------------------------------------------------------------------------


def test_month_arithmetic_crosses_years_both_ways():
    assert compute.add_months(date(2026, 11, 1), 2) == date(2027, 1, 1)
    assert compute.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert compute.month_start(date(2026, 2, 28)) == date(2026, 2, 1)


# --- Contributions --------------------------------------------------------------------------


def _members(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    data = {"membership_id": list(range(1, n + 1)), "level": [0] * n, "earnings": [0] * n}
    data.update(columns)
    return pd.DataFrame(data)


def test_levels_contribution_is_the_level_s_and_the_lowest_without_a_known_level():
    members = _members(level=[100_000, 0, 75_000, 12_345])
    due = compute.contributions_due(BREAD, members)
    assert due.tolist() == [4_500, 2_250, 3_375, 2_250]
    assert due.dtype == "int64"


def test_flat_contribution_is_the_same_for_everyone():
    terms = PlanTerms.from_json({"contribution": {"kind": "flat", "amount": 3_000}})
    due = compute.contributions_due(terms, _members(level=[0, 100_000, 0]))
    assert due.tolist() == [3_000, 3_000, 3_000]


def test_earnings_share_is_floored_and_clipped_to_the_minimum_and_maximum():
    terms = PlanTerms.from_json({"contribution": {"kind": "earnings_pct", "bp": 450,
                                                  "min": 1_000, "max": 5_000}})
    members = _members(earnings=[0, 100_000, 33_333, 200_000, -5_000])
    # 4.5% of 33,333 is 1,499.985: floored to 1,499. 4.5% of 200,000 is 9,000: capped.
    assert compute.contributions_due(terms, members).tolist() == [1_000, 4_500, 1_499, 5_000,
                                                                 1_000]


def test_earnings_share_without_a_maximum_is_not_capped():
    terms = PlanTerms.from_json({"contribution": {"kind": "earnings_pct", "bp": 1_000}})
    members = _members(earnings=[1_000_000, 9])
    assert compute.contributions_due(terms, members).tolist() == [100_000, 0]


@pytest.mark.parametrize("terms", [
    BREAD,
    PlanTerms.from_json({"contribution": {"kind": "flat", "amount": 3_000}}),
    PlanTerms.from_json({"contribution": {"kind": "earnings_pct", "bp": 450, "min": 1_000,
                                          "max": 5_000}}),
    PlanTerms.from_json({"contribution": {"kind": "earnings_pct", "bp": 1_000}}),
])
def test_one_member_s_contribution_is_the_frame_s(terms):
    """contribution_due (a member's own page) agrees with contributions_due (the run)."""
    members = _members(level=[100_000, 0, 75_000, 12_345, 0, 0],
                       earnings=[0, 100_000, 33_333, 200_000, -5_000, 9])
    frame = compute.contributions_due(terms, members).tolist()
    one = [compute.contribution_due(terms, level, earnings)
           for level, earnings in zip(members["level"], members["earnings"], strict=True)]
    assert one == frame and all(type(due) is int for due in one)


def test_contribution_run_pays_settles_what_the_balance_allows_and_records_the_short():
    members = pd.DataFrame({
        "membership_id": [1, 2, 3, 4, 5],
        "due": [2_250, 2_250, 2_250, 2_250, 2_250],
        "arrears": [0, 4_500, 2_250, 0, 1_000],
        "available": [10_000, 5_000, 2_249, -500, 2_250],
    })
    result = compute.contribution_run(members)
    assert result["membership_id"].tolist() == [1, 2, 3, 4, 5]
    # 1 covered; 2 pays the month and 2,750 of 4,500 arrears; 3 is one cent short and owes;
    # 4 is overdrawn; 5 covers the month exactly, nothing is left for arrears.
    assert result["paid"].tolist() == [2_250, 2_250, 0, 0, 2_250]
    assert result["settled"].tolist() == [0, 2_750, 0, 0, 0]
    assert result["owed"].tolist() == [0, 0, 2_250, 2_250, 0]
    assert all(dtype == "int64" for dtype in result.dtypes)


def test_reserves_above_the_cap_are_returned_and_the_rest_is_kept():
    reserves = pd.DataFrame({"membership_id": [1, 2, 3],
                             "reserve": [90_000, 81_000, 1_000],
                             "monthly": [2_250, 2_250, 4_500]})
    returned = compute.reserve_returns(reserves, cap_months=36)
    # 36 x 2,250 = 81,000: member 1 gets 9,000 back, member 2 is exactly at the cap.
    assert returned.to_dict("records") == [{"membership_id": 1, "returned": 9_000}]


# --- Benefits -------------------------------------------------------------------------------


def test_paid_months_skip_the_waiting_months_and_cross_the_year():
    assert compute.paid_months(date(2026, 11, 1), 4, 1) == [
        date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    assert compute.paid_months(date(2026, 8, 1), 3, 0) == [
        date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
    assert compute.paid_months(date(2026, 8, 1), 1, 1) == []


def _claims(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["claim_id", "membership_id", "kind", "start_period",
                                       "months", "amount", "level"])


NO_PAYMENTS = pd.DataFrame({"claim_id": [], "for_period": []})


def test_sick_leave_pays_from_the_second_month_up_to_the_period():
    claims = _claims([(1, 10, "sick", date(2026, 8, 1), 5, 0, 100_000)])
    due = compute.benefits_due(claims, NO_PAYMENTS, BREAD, date(2026, 10, 1))
    # August is the waiting month; September and October are due by October.
    assert list(zip(due["for_period"], due["amount"], strict=True)) == [
        (date(2026, 9, 1), 100_000), (date(2026, 10, 1), 100_000)]
    assert due["amount"].dtype == "int64"


def test_sick_leave_pays_at_most_its_months_after_the_wait():
    claims = _claims([(1, 10, "sick", date(2026, 1, 1), 24, 0, 50_000)])
    due = compute.benefits_due(claims, NO_PAYMENTS, BREAD, date(2030, 1, 1))
    assert len(due) == 23
    assert due["for_period"].iloc[0] == date(2026, 2, 1)
    assert due["for_period"].iloc[-1] == date(2027, 12, 1)
    assert int(due["amount"].sum()) == 23 * 50_000


def test_benefits_due_skip_paid_months_pay_arrears_and_wait_for_future_claims():
    claims = _claims([
        (1, 10, "sick", date(2026, 8, 1), 5, 0, 100_000),
        (2, 11, "parental", date(2026, 9, 1), 3, 0, 50_000),
        (3, 12, "hardship", date(2026, 10, 1), 1, 25_000, 0),
        (4, 13, "unpaid_invoice", date(2026, 11, 1), 1, 32_000, 0),
    ])
    paid = pd.DataFrame({"claim_id": [1], "for_period": [date(2026, 9, 1)]})
    due = compute.benefits_due(claims, paid, BREAD, date(2026, 10, 1))
    assert list(due.itertuples(index=False, name=None)) == [
        (2, 11, "parental", date(2026, 9, 1), 50_000),
        (1, 10, "sick", date(2026, 10, 1), 100_000),
        (2, 11, "parental", date(2026, 10, 1), 50_000),
        (3, 12, "hardship", date(2026, 10, 1), 25_000),
    ]


def test_a_one_off_benefit_is_paid_once():
    claims = _claims([(3, 12, "hardship", date(2026, 10, 1), 1, 25_000, 0)])
    first = compute.benefits_due(claims, NO_PAYMENTS, BREAD, date(2026, 10, 1))
    assert first["amount"].tolist() == [25_000]
    paid = pd.DataFrame({"claim_id": [3], "for_period": [date(2026, 10, 1)]})
    assert compute.benefits_due(claims, paid, BREAD, date(2026, 12, 1)).empty


def test_a_claim_the_plan_no_longer_covers_is_not_paid():
    terms = PlanTerms.from_json(_benefits(parental=None))
    claims = _claims([(2, 11, "parental", date(2026, 9, 1), 3, 0, 50_000)])
    assert compute.benefits_due(claims, NO_PAYMENTS, terms, date(2026, 12, 1)).empty


def test_a_fixed_monthly_amount_is_paid_whatever_the_level():
    terms = PlanTerms.from_json({"contribution": {"kind": "flat", "amount": 3_000},
                                 "benefits": {"sick": {"amount": 80_000, "waiting_months": 0,
                                                       "max_months": 2}}})
    claims = _claims([(1, 10, "sick", date(2026, 9, 1), 2, 0, 0)])
    due = compute.benefits_due(claims, NO_PAYMENTS, terms, date(2026, 12, 1))
    assert due["amount"].tolist() == [80_000, 80_000]


def test_a_fund_that_covers_everything_pays_everything():
    assert compute.cut_to_fund([100_000, 50_000], 150_000) == ([100_000, 50_000], [0, 0])
    assert compute.cut_to_fund([], 0) == ([], [])


def test_a_short_fund_cuts_each_benefit_pro_rata_and_pays_exactly_what_it_has():
    paid, short = compute.cut_to_fund([100_000, 50_000], 90_001)
    # Quotas 60,000.67 and 30,000.33: the larger remainder gets the odd cent.
    assert paid == [60_001, 30_000]
    assert short == [39_999, 20_000]
    assert sum(paid) == 90_001
    assert sum(short) == 150_000 - 90_001


def test_equal_remainders_go_to_the_earlier_claim():
    assert compute.cut_to_fund([1, 1, 1], 2) == ([1, 1, 0], [0, 0, 1])


def test_a_fund_below_its_minimum_pays_nothing():
    assert compute.cut_to_fund([300, 200], -50) == ([0, 0], [300, 200])


def test_a_benefit_is_a_gift_from_the_other_members_pro_rata_to_their_weights():
    benefits = pd.DataFrame({"claim_id": [1, 2], "membership_id": [10, 11],
                             "for_period": [date(2026, 10, 1)] * 2, "paid": [10_000, 0]})
    donors = pd.DataFrame({"membership_id": [10, 11, 12, 13],
                           "weight": [4_500, 4_500, 2_250, 0]})
    given = compute.gifts(benefits, donors)
    # Not from the claimant (10), nor from a member who paid nothing (13); claim 2 paid 0.
    october = date(2026, 10, 1)
    assert given.to_dict("records") == [
        {"claim_id": 1, "membership_id": 11, "for_period": october, "amount": 6_667, "debt": 0},
        {"claim_id": 1, "membership_id": 12, "for_period": october, "amount": 3_333, "debt": 0}]
    assert int(given["amount"].sum()) == 10_000
    assert given["amount"].dtype == "int64"


def test_gifts_add_up_to_each_benefit_for_many_donors():
    benefits = pd.DataFrame({"claim_id": [7, 8], "membership_id": [1, 5],
                             "for_period": [date(2026, 10, 1)] * 2, "paid": [99_999, 12_345]})
    donors = pd.DataFrame({"membership_id": [1, 2, 3, 4, 5],
                           "weight": [2_250, 3_375, 4_500, 5_625, 3_375]})
    given = compute.gifts(benefits, donors)
    assert given.groupby("claim_id")["amount"].sum().to_dict() == {7: 99_999, 8: 12_345}
    assert 1 not in given.loc[given["claim_id"] == 7, "membership_id"].tolist()
    assert 5 not in given.loc[given["claim_id"] == 8, "membership_id"].tolist()


def test_a_reserve_is_what_was_paid_in_less_returns_and_gifts():
    lines = pd.DataFrame([
        (1, "contribution", 2_250), (1, "contribution", 2_250), (1, "contribution", 2_250),
        (1, "settled", 2_250), (1, "return", 4_500), (1, "gift", 1_000),
        (1, "benefit", 50_000), (1, "owed", 2_250), (2, "contribution", 3_375),
    ], columns=["membership_id", "kind", "amount"])
    assert reserve_sums.reserves(lines).to_dict() == {1: 3_500, 2: 3_375}
    assert reserve_sums.reserves(lines.iloc[0:0]).empty


# --- Forecast -------------------------------------------------------------------------------

QUICK = ForecastAssumptions(runs=400, horizon_months=60)


def test_the_forecast_is_the_same_for_the_same_seed():
    args = (200_000, [100_000] * 12, [4_500] * 12, 1, 24)
    first = simulation.forecast_months(*args, QUICK)
    again = simulation.forecast_months(*args, QUICK)
    assert first == again
    assert len(first["median_path"]) == 60


def test_a_huge_fund_never_runs_out_within_the_horizon():
    result = simulation.forecast_months(10**12, [125_000] * 10, [5_625] * 10, 1, 24, QUICK)
    assert result["never_out_share"] == 1.0
    assert result["median"] == result["p10"] == 60


def test_an_empty_fund_with_big_levels_runs_out_early():
    bad_luck = ForecastAssumptions(monthly_claim_rate=0.05, runs=400, horizon_months=60)
    result = simulation.forecast_months(0, [125_000] * 20, [100] * 20, 1, 24, bad_luck)
    assert result["p10"] <= 3
    assert result["median"] <= 6
    assert result["never_out_share"] < 0.05


def test_a_fund_with_nobody_in_it_lasts_the_whole_horizon():
    result = simulation.forecast_months(5_000, [], [], 1, 24, QUICK)
    assert result == {"median": 60, "p10": 60, "never_out_share": 1.0,
                      "median_path": [5_000] * 60, "p10_path": [5_000] * 60,
                      "p90_path": [5_000] * 60}


def test_compute_counts_reserves_by_the_run_line_kinds_the_tables_store():
    from collective.benefits import kinds, models

    assert (models.BenefitKind, models.ClaimStatus, models.RunKind, models.RunLineKind) == (
        kinds.BenefitKind, kinds.ClaimStatus, kinds.RunKind, kinds.RunLineKind)
    lines = pd.DataFrame([(1, kinds.RunLineKind.CONTRIBUTION, 2_250),
                          (1, kinds.RunLineKind.GIFT, 250), (1, kinds.RunLineKind.OWED, 900)],
                         columns=["membership_id", "kind", "amount"])
    assert reserve_sums.reserves(lines).to_dict() == {1: 2_000}
    assert set(compute.MONTHLY_KINDS) < set(kinds.BenefitKind)
