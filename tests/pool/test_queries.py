"""The pool's read side: a member's monthly earnings."""
from __future__ import annotations

from datetime import date

from collective.pool import payments, pitches, queries
from collective.pool.models import PitchState
from tests.factories import make_collective, make_member
from tests.pool.factories import NOW, TODAY, allocate, found_rule, log, make_pitch, move_to


def test_monthly_earnings_show_months_without_payments_as_zero(ctx):
    founder = make_collective()
    ann = make_member(founder.collective)
    found_rule(founder, common_fund_bp=1000, finder_fee_bp=0, method="equal")
    work = move_to(founder, make_pitch(founder), PitchState.WON)
    log(ann, allocate(founder, work, ann), 60, worked_on=date(2026, 7, 1))
    pitches.transition_pitch(founder, work, PitchState.IN_PROGRESS, at=NOW)
    for amount, on in ((10_000, date(2026, 7, 3)), (5_000, date(2026, 7, 20)),
                       (20_000, date(2026, 9, 8))):
        payments.record_payment(founder, work, amount=amount, currency="USD", received_on=on,
                                today=TODAY)

    table = queries.monthly_earnings(ann)

    assert table.to_dict("list") == {"month": ["2026-07", "2026-08", "2026-09"],
                                     "earned": [13_500, 0, 18_000]}
    assert str(table["earned"].dtype) == "int64"


def test_monthly_earnings_of_a_member_never_paid_are_empty(ctx):
    founder = make_collective()

    table = queries.monthly_earnings(founder)

    assert list(table.columns) == ["month", "earned"] and table.empty
