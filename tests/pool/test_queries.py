"""The pool's read side: a member's monthly earnings, read once per page."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from collective.extensions import db
from collective.pool import payments, payouts, pitches, queries
from collective.pool.models import PitchState
from tests.factories import commit, make_collective, make_member
from tests.pool.factories import NOW, TODAY, allocate, found_rule, log, make_pitch, move_to


def _paid_in_july_and_september(founder, ann):
    """Ann's share of three payments: 135.00 in July 2026, 180.00 in September."""
    found_rule(founder, common_fund_bp=1000, finder_fee_bp=0, method="equal")
    work = move_to(founder, make_pitch(founder), PitchState.WON)
    log(ann, allocate(founder, work, ann), 60, worked_on=date(2026, 7, 1))
    pitches.transition_pitch(founder, work, PitchState.IN_PROGRESS, at=NOW)
    for amount, on in ((10_000, date(2026, 7, 3)), (5_000, date(2026, 7, 20)),
                       (20_000, date(2026, 9, 8))):
        payments.record_payment(founder, work, amount=amount, currency="USD", received_on=on,
                                today=TODAY)


def test_monthly_earnings_show_months_without_payments_as_zero(ctx):
    founder = make_collective()
    ann = make_member(founder.collective)
    _paid_in_july_and_september(founder, ann)

    table = queries.monthly_earnings(ann)

    assert table.to_dict("list") == {"month": ["2026-07", "2026-08", "2026-09"],
                                     "earned": [13_500, 0, 18_000]}
    assert str(table["earned"].dtype) == "int64"


def test_monthly_earnings_of_a_member_never_paid_are_empty(ctx):
    founder = make_collective()

    table = queries.monthly_earnings(founder)

    assert list(table.columns) == ["month", "earned"] and table.empty


def test_monthly_earnings_run_to_a_given_month_and_keep_the_last_ones(ctx):
    founder = make_collective()
    ann = make_member(founder.collective)
    _paid_in_july_and_september(founder, ann)

    table = queries.monthly_earnings(ann, until=date(2026, 11, 15), last_months=3)

    assert table.to_dict("list") == {"month": ["2026-09", "2026-10", "2026-11"],
                                     "earned": [18_000, 0, 0]}
    assert str(table["earned"].dtype) == "int64"


def test_the_my_shares_page_reads_the_members_movements_bounded(client, auth, setup):
    with setup():
        founder = make_collective()
        ann = make_member(founder.collective)
        _paid_in_july_and_september(founder, ann)
        payouts.pay_member(founder, ann, amount=10_000, paid_on=date(2026, 9, 30),
                           request_key="shares-once", today=TODAY)
        slug, email = founder.collective.slug, ann.user.email
        engine = db.engine
        commit()
    auth.login(email)
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(f"/c/{slug}/pool/shares")
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    assert response.status_code == 200
    assert "Sep 2026" in response.get_data(as_text=True)
    # The payable movements (which take a reversal's kind from its original entry) are read
    # three times, none of them whole: the totals grouped, the months shown, the latest
    # payouts.
    movements = [s.lower() for s in sent if "coalesce(" in s.lower()]
    assert len(movements) == 3
    assert sum("group by" in s for s in movements) == 1
    assert sum("occurred_on >=" in s for s in movements) == 1
    assert sum("limit" in s for s in movements) == 1
