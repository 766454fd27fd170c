"""The forecast keeps a band around its median case (the 10th and 90th percentile of the
fund's balance each month), and the treasurer's page draws the median line inside it; a
forecast stored before the band was kept still shows its line."""
from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, datetime

from collective.benefits import forecasts, simulation
from collective.benefits.compute import add_months, month_start
from collective.benefits.models import FundForecast
from collective.benefits.simulation import ForecastAssumptions
from collective.clock import today_in
from collective.extensions import db
from tests.benefits.factories import found_fund, seed_fund
from tests.factories import commit

TODAY = today_in("UTC")
THIS_MONTH = month_start(TODAY)


def test_the_band_holds_the_median_case_every_month():
    result = simulation.forecast_months(
        200_000, [100_000] * 12, [4_500] * 12, 1, 24,
        ForecastAssumptions(runs=400, horizon_months=60, monthly_claim_rate=0.02))
    low, mid, high = result["p10_path"], result["median_path"], result["p90_path"]
    assert len(low) == len(mid) == len(high) == 60
    assert all(lo <= m <= hi for lo, m, hi in zip(low, mid, high, strict=True))
    assert low[-1] < high[-1]  # bad and good luck part ways: a band, not a line
    assert all(isinstance(v, int) for v in low + high)


def test_the_treasurer_page_draws_the_median_case_inside_its_band(client, auth, setup):
    with setup():
        founder, *_ = found_fund(3, start=add_months(THIS_MONTH, -1))
        seed_fund(founder.collective_id, 250_000)
        stored = forecasts.compute_forecast(founder.collective_id, today=TODAY,
                                            now=datetime.now(UTC))
        assert {"median_path", "p10_path", "p90_path"} <= set(stored.result)
        slug, email = founder.collective.slug, founder.user.email
        commit()
    auth.login(email)

    html = client.get(f"/c/{slug}/fund/treasurer").get_data(as_text=True)

    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "The fund's balance in the median case, with the band where 8 futures in 10 fall" \
        in text
    chart = html[html.index("Line: the median case") - 2000:]
    assert "<polygon" in chart and "<polyline" in chart
    assert "Band: 8 in 10 futures fall inside" in chart
    assert ">Year 10<" in chart


def test_a_forecast_stored_without_a_band_still_shows_its_median_line(client, auth, setup):
    with setup():
        founder, *_ = found_fund(2, start=add_months(THIS_MONTH, -1))
        db.session.add(FundForecast(
            collective_id=founder.collective_id, for_period=THIS_MONTH, plan_id=None,
            fund_amount=10_000, computed_at=datetime(2026, 11, 2, 3, 4, tzinfo=UTC),
            assumptions=asdict(ForecastAssumptions(runs=17, horizon_months=24)),
            result={"median": 24, "p10": 20, "never_out_share": 0.9, "members": 2,
                    "monthly_in": 900, "median_path": list(range(24))}))
        slug, email = founder.collective.slug, founder.user.email
        commit()
    auth.login(email)

    html = client.get(f"/c/{slug}/fund/treasurer").get_data(as_text=True)

    assert "<polyline" in html and "<polygon" not in html
    assert "stored before the band was kept" in html
    assert "Band: 8 in 10" not in html
