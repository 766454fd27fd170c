"""Pure pool computations: payment splits, currency conversion, rule previews, ranking.

No database and no app: plain values and DataFrames in, values and DataFrames out.
"""
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collective.pool import compute
from collective.pool.compute import NoParticipants, Participant, RuleTerms, split_payment

ANN, BOB, CAT = 1, 2, 3
HOURS_3_TO_1 = [Participant(ANN, weight=1, minutes=180), Participant(BOB, weight=1, minutes=60)]


# --- split_payment ----------------------------------------------------------------------


def test_fund_and_finder_come_off_the_top_and_the_rest_follows_hours():
    result = split_payment(10_000, RuleTerms(1000, 500, "hours"), HOURS_3_TO_1, finder_id=CAT)

    assert result.common_fund == 1000
    assert result.finder_fee == 500
    assert result.finder_id == CAT
    assert result.members == {ANN: 6375, BOB: 2125}
    assert result.by_member() == {ANN: 6375, BOB: 2125, CAT: 500}
    assert result.total == 10_000
    assert result.note == "by 4 hours logged"


def test_without_a_finder_the_finders_part_stays_with_the_members():
    result = split_payment(10_000, RuleTerms(1000, 500, "hours"), HOURS_3_TO_1, finder_id=None)

    assert (result.common_fund, result.finder_fee, result.finder_id) == (1000, 0, None)
    assert result.members == {ANN: 6750, BOB: 2250}
    assert result.total == 10_000


@pytest.mark.parametrize(
    ("method", "expected", "note"),
    [
        # 8,500 after 10% fund and 5% finder; hours 3:1, weights 1:2:4, equal thirds.
        ("hours", {ANN: 6375, BOB: 2125, CAT: 0}, "by 4 hours logged"),
        ("weights", {ANN: 1214, BOB: 2429, CAT: 4857}, "by allocation weights"),
        ("equal", {ANN: 2834, BOB: 2833, CAT: 2833}, "equally"),
    ],
)
def test_each_method_divides_the_members_part_exactly(method, expected, note):
    participants = [Participant(ANN, weight=1, minutes=180),
                    Participant(BOB, weight=2, minutes=60),
                    Participant(CAT, weight=4, minutes=0)]

    result = split_payment(10_000, RuleTerms(1000, 500, method), participants, finder_id=99)

    assert result.members == expected
    assert sum(result.members.values()) == 8500
    assert result.total == 10_000
    assert result.note == note


@pytest.mark.parametrize("method", ["hours", "equal", "weights"])
@pytest.mark.parametrize("amount", [0, 1, 2, 3, 7, 99, 10_001, 123_456_789])
def test_every_method_sums_exactly_to_the_amount(method, amount):
    participants = [Participant(ANN, 3, 100), Participant(BOB, 5, 7), Participant(CAT, 7, 1)]

    result = split_payment(amount, RuleTerms(1234, 321, method), participants, finder_id=ANN)

    assert result.total == amount
    assert sum(result.by_member().values()) + result.common_fund == amount


def test_hours_with_no_time_logged_falls_back_to_weights_and_says_so():
    participants = [Participant(ANN, weight=1, minutes=0), Participant(BOB, weight=3, minutes=0)]

    result = split_payment(10_000, RuleTerms(1000, 0, "hours"), participants, finder_id=None)

    assert result.members == {ANN: 2250, BOB: 6750}
    assert result.note == "by allocation weights (no unpaid hours logged)"


def test_no_participants_cannot_be_split():
    with pytest.raises(NoParticipants, match="allocate it first"):
        split_payment(10_000, RuleTerms(1000, 500, "hours"), [], finder_id=CAT)


def test_a_finder_who_also_worked_gets_both_shares():
    result = split_payment(10_000, RuleTerms(1000, 500, "hours"), HOURS_3_TO_1, finder_id=ANN)

    assert result.members == {ANN: 6375, BOB: 2125}
    assert result.by_member() == {ANN: 6875, BOB: 2125}
    assert sum(result.by_member().values()) == 9000


def test_a_finder_fee_that_rounds_to_nothing_names_no_finder():
    result = split_payment(10, RuleTerms(0, 100, "equal"), HOURS_3_TO_1, finder_id=CAT)

    assert (result.finder_fee, result.finder_id) == (0, None)
    assert result.by_member() == {ANN: 5, BOB: 5}


def test_everything_to_the_fund_leaves_members_nothing():
    result = split_payment(10_000, RuleTerms(10_000, 0, "hours"), HOURS_3_TO_1, finder_id=None)

    assert result.common_fund == 10_000
    assert result.members == {ANN: 0, BOB: 0}


def test_a_tie_between_the_fund_and_the_members_goes_to_each_in_turn():
    # Half to the fund, half to the members: 5 cents leave a 2.5/2.5 tie. It used to go to
    # the fund every time; consecutive payments now alternate.
    halves = RuleTerms(5000, 0, "equal")
    splits = [split_payment(5, halves, [Participant(ANN, 1, 0)], None, seed=s)
              for s in range(4)]
    assert [r.common_fund for r in splits] == [3, 2, 3, 2]
    assert [r.members[ANN] for r in splits] == [2, 3, 2, 3]


def test_an_equal_split_gives_the_odd_cents_round_the_members():
    three = [Participant(ANN, 1, 0), Participant(BOB, 1, 0), Participant(CAT, 1, 0)]
    pitch_id = 7
    totals = {ANN: 0, BOB: 0, CAT: 0}
    for earlier in range(30):
        result = split_payment(100, RuleTerms(0, 0, "equal"), three, None,
                               seed=compute.split_seed(pitch_id, earlier))
        for member, part in result.members.items():
            totals[member] += part
    assert totals == {ANN: 1000, BOB: 1000, CAT: 1000}


@settings(deadline=None)  # dozens of splits per example
@given(amount=st.integers(1, 10**9), fund_bp=st.one_of(st.just(5000), st.integers(0, 10_000)),
       method=st.sampled_from(["equal", "weights"]), members=st.integers(2, 7),
       first=st.integers(0, 10**6), count=st.integers(30, 60))
def test_repeated_payments_favour_neither_the_fund_nor_any_member(amount, fund_bp, method,
                                                                   members, first, count):
    people = [Participant(m, 1, 0) for m in range(1, members + 1)]
    terms = RuleTerms(fund_bp, 0, method)
    fund = 0
    shares = dict.fromkeys(range(1, members + 1), 0)
    for seed in range(first, first + count):
        result = split_payment(amount, terms, people, None, seed=seed)
        assert result.total == amount
        fund += result.common_fund
        for member, part in result.members.items():
            shares[member] += part
    # Each member's rounding gain is within one unit of every other's.
    assert max(shares.values()) - min(shares.values()) <= 1
    if 2 * fund_bp == 10_000:
        # Half to the fund: every odd amount is a tie between the fund and the members,
        # which they take in turn, so the fund ends within one unit of half of it all.
        assert abs(2 * fund - amount * count) <= 2


@st.composite
def _terms(draw):
    fund = draw(st.integers(0, 10_000))
    finder = draw(st.integers(0, 10_000 - fund))
    return RuleTerms(fund, finder, draw(st.sampled_from(["hours", "equal", "weights"])))


_participants = st.lists(
    st.builds(Participant, membership_id=st.integers(1, 50), weight=st.integers(1, 10_000),
              minutes=st.integers(0, 100_000)),
    min_size=1, max_size=20, unique_by=lambda p: p.membership_id)


@given(amount=st.integers(0, 10**12), terms=_terms(), participants=_participants,
       finder_id=st.one_of(st.none(), st.integers(1, 60)))
def test_a_split_always_adds_up_and_is_never_negative(amount, terms, participants, finder_id):
    result = split_payment(amount, terms, participants, finder_id)

    assert result.total == amount
    assert result.common_fund >= 0 and result.finder_fee >= 0
    assert all(part >= 0 for part in result.members.values())
    assert all(part >= 0 for part in result.by_member().values())
    assert sum(result.by_member().values()) + result.common_fund == amount
    assert set(result.members) == {p.membership_id for p in participants}


# --- convert_to_base --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "digits", "rate", "base_digits", "expected"),
    [
        (12_345, 2, Decimal("0.65"), 2, 8024),         # AUD 123.45 -> USD 80.2425
        (12_345, 0, Decimal("0.0066"), 2, 8148),       # JPY 12,345 -> USD 81.477
        (12_345, 2, Decimal("0.376"), 3, 46_417),      # USD 123.45 -> BHD 46.4172
        (46_417, 3, Decimal("2.66"), 2, 12_347),       # BHD 46.417 -> USD 123.46922
        (500, 2, Decimal("1"), 2, 500),
    ],
)
def test_conversion_to_the_base_currency_respects_minor_digits(amount, digits, rate,
                                                               base_digits, expected):
    assert compute.convert_to_base(amount, digits, rate, base_digits) == expected


@pytest.mark.parametrize(("amount", "expected"), [(1, 0), (3, 2), (5, 2), (7, 4), (9, 4)])
def test_conversion_rounds_half_to_even(amount, expected):
    # x.5 exactly: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.5 -> 4, 4.5 -> 4
    assert compute.convert_to_base(amount, 2, Decimal("0.5"), 2) == expected


def test_conversion_to_fewer_digits_rounds_half_to_even():
    # BHD fils to USD cents: 12.5 cents -> 12, 13.5 cents -> 14
    assert compute.convert_to_base(125, 3, Decimal(1), 2) == 12
    assert compute.convert_to_base(135, 3, Decimal(1), 2) == 14


# --- preview_totals ---------------------------------------------------------------------


def test_preview_totals_compares_two_rules_over_two_payments():
    payments = [
        (10_000, HOURS_3_TO_1, CAT, 0),
        (5_000, [Participant(ANN, weight=1, minutes=0)], None, 1),
    ]

    table = compute.preview_totals(payments, RuleTerms(1000, 500, "hours"),
                                   RuleTerms(2000, 0, "equal"))

    assert list(table.columns) == ["membership_id", "current", "proposed", "difference"]
    rows = {r.membership_id: (r.current, r.proposed, r.difference)
            for r in table.itertuples(index=False)}
    assert rows == {
        0: (1500, 3000, 1500),        # the common fund
        ANN: (10_875, 8000, -2875),   # 6,375 + 4,500 now; 4,000 + 4,000 proposed
        BOB: (2125, 4000, 1875),
        CAT: (500, 0, -500),          # the finder's fee disappears
    }
    assert table["current"].sum() == table["proposed"].sum() == 15_000
    assert table["difference"].sum() == 0
    assert all(table[c].dtype == "int64" for c in ("current", "proposed", "difference"))


def test_preview_totals_of_no_payments_is_an_empty_table():
    table = compute.preview_totals([], RuleTerms(1000, 500, "hours"),
                                   RuleTerms(2000, 0, "equal"))

    assert table.empty
    assert list(table.columns) == ["membership_id", "current", "proposed", "difference"]


# --- rank_candidates --------------------------------------------------------------------


def _frame(columns, rows):
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(
        {c: pd.Series(dtype="int64" if c != "skill" else object) for c in columns})


def _rank(members, skills=(), required=None, load=(), earnings=(), volunteers=()):
    """Rank (membership_id, capacity[, is_active]) rows; names are 'm<id>'."""
    rows = [(m[0], f"m{m[0]}", m[1], m[2] if len(m) > 2 else True) for m in members]
    return compute.rank_candidates(
        pd.DataFrame(rows, columns=["membership_id", "name", "capacity", "is_active"]),
        _frame(["membership_id", "skill", "level"], list(skills)),
        required if required is not None else {"design": 4},
        _frame(["membership_id", "hours"], list(load)),
        _frame(["membership_id", "earned"], list(earnings)),
        list(volunteers),
    )


def test_paused_members_never_appear():
    ranked = _rank(members=[(ANN, 10), (BOB, 40, False)],
                   skills=[(ANN, "design", 1), (BOB, "design", 5)], volunteers=[BOB])

    assert list(ranked["membership_id"]) == [ANN]


def test_no_active_members_gives_an_empty_ranking():
    ranked = _rank(members=[(ANN, 10, False)])

    assert ranked.empty
    assert ranked["score"].dtype == "int64"


def test_a_better_skill_match_ranks_higher():
    ranked = _rank(members=[(ANN, 10), (BOB, 10)],
                   skills=[(ANN, "design", 2), (BOB, "design", 5)])

    assert list(ranked["membership_id"]) == [BOB, ANN]
    assert list(ranked["skill_match"]) == [1.0, 0.5]
    assert list(ranked["score"]) == [100, 75]
    assert list(ranked["skills"]) == ["design 5", "design 2"]


def test_the_match_averages_over_every_required_skill():
    ranked = _rank(members=[(ANN, 10)], skills=[(ANN, "design", 4), (ANN, "cooking", 5)],
                   required={"design": 4, "copywriting": 2})

    assert ranked.loc[0, "skill_match"] == 0.5
    assert ranked.loc[0, "skills"] == "design 4"


def test_with_equal_skills_more_free_hours_ranks_higher():
    ranked = _rank(members=[(ANN, 20), (BOB, 20)],
                   skills=[(ANN, "design", 4), (BOB, "design", 4)],
                   load=[(ANN, 10), (ANN, 5), (BOB, 5)])

    assert list(ranked["membership_id"]) == [BOB, ANN]
    assert list(ranked["free_hours"]) == [15, 5]
    assert list(ranked["score"]) == [100, 80]


def test_an_overloaded_member_has_no_free_hours_not_negative_ones():
    ranked = _rank(members=[(ANN, 10), (BOB, 10)], load=[(ANN, 25)],
                   skills=[(ANN, "design", 4), (BOB, "design", 4)])

    assert ranked.set_index("membership_id").loc[ANN, "free_hours"] == 0


def test_with_equal_skills_and_hours_who_earned_less_ranks_higher():
    ranked = _rank(members=[(ANN, 10), (BOB, 10)],
                   skills=[(ANN, "design", 4), (BOB, "design", 4)],
                   earnings=[(ANN, 100_000), (BOB, 20_000), (BOB, 5_000)])

    assert list(ranked["membership_id"]) == [BOB, ANN]
    assert list(ranked["earned"]) == [25_000, 100_000]
    assert list(ranked["score"]) == [95, 80]


def test_a_volunteer_gets_the_bonus():
    ranked = _rank(members=[(ANN, 10), (BOB, 10)],
                   skills=[(ANN, "design", 2), (BOB, "design", 2)], volunteers=[BOB])

    assert list(ranked["membership_id"]) == [BOB, ANN]
    scores = dict(zip(ranked["membership_id"], ranked["score"], strict=True))
    assert scores[BOB] == scores[ANN] + compute.VOLUNTEER_BONUS == 80
    assert list(ranked["volunteer"]) == [True, False]


def test_the_score_is_a_whole_number_column():
    ranked = _rank(members=[(ANN, 7), (BOB, 3), (CAT, 5)],
                   skills=[(ANN, "design", 3), (BOB, "design", 1)],
                   earnings=[(ANN, 333), (CAT, 1000)])

    assert ranked["score"].dtype == "int64"
    assert ranked["free_hours"].dtype == "int64"
    assert ranked["earned"].dtype == "int64"
    assert list(ranked["score"]) == sorted(ranked["score"], reverse=True)


def test_without_required_skills_everyone_matches_fully():
    ranked = _rank(members=[(ANN, 10), (BOB, 10)], required={})

    assert list(ranked["skill_match"]) == [1.0, 1.0]
    assert list(ranked["membership_id"]) == [ANN, BOB]   # a tie goes to the lower id


def test_the_ranking_stops_at_the_limit():
    members = pd.DataFrame([(i, f"m{i}", 10, True) for i in range(1, 31)],
                           columns=["membership_id", "name", "capacity", "is_active"])
    ranked = compute.rank_candidates(
        members, _frame(["membership_id", "skill", "level"], []), {},
        _frame(["membership_id", "hours"], []), _frame(["membership_id", "earned"], []),
        limit=5)

    assert list(ranked["membership_id"]) == [1, 2, 3, 4, 5]
