"""The treasurer's fund page at 1,500 members: the forecast computed per view vs. stored.

The page used to run the Monte Carlo fund forecast on every view; now the scheduler computes
and stores it (benefits/forecasts.py) and the page reads the stored row (benefits/queries.py).
Builds a throw-away SQLite database with the real migrations, fills it in bulk (members, a
founding plan with the demo's bread-fund terms, each member's chosen level), then times, in
the same run and with the real default assumptions:

- before: computing the forecast once (`compute_forecast`, the same work the old view ran);
- now: the median of N GETs of /c/<slug>/fund/treasurer by a signed-in treasurer, once the
  forecast is stored.

Prints both, the member count and the ratio. BENCH_MEMBERS (default 1500) and BENCH_VIEWS
(default 5) override the sizes.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("COLLECTIVE_ENV", "testing")

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.bulk import add_members  # noqa: E402
from collective import create_app  # noqa: E402
from collective.benefits import simulation  # noqa: E402
from collective.benefits.compute import PlanTerms, month_start  # noqa: E402
from collective.benefits.forecasts import compute_forecast  # noqa: E402
from collective.benefits.models import BenefitKind, MemberLevel  # noqa: E402
from collective.benefits.plans import plan_in_force, plan_terms, set_founding_plan  # noqa: E402
from collective.benefits.queries import fund_balance, stored_forecast  # noqa: E402
from collective.benefits.runs import members_frame  # noqa: E402
from collective.demo.fund import BREAD_FUND, LEVELS  # noqa: E402
from collective.extensions import db  # noqa: E402
from collective.members.accounts import register_user  # noqa: E402
from collective.members.models import Membership  # noqa: E402
from collective.members.services import create_collective  # noqa: E402

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "1500"))
VIEWS = int(os.environ.get("BENCH_VIEWS", "5"))
SLUG = "bench"
EMAIL, PASSWORD = "treasurer@bench.test", "treasurer-password"


def build(app) -> int:
    """The collective: a treasurer (the founder), MEMBERS members, the bread-fund plan from
    this month, and a level for everyone. Returns the collective's id."""
    rng = random.Random(7)
    with app.app_context():
        flask_migrate.upgrade()
        founder = create_collective(register_user(EMAIL, "Treasurer", PASSWORD),
                                    name="Bench", slug=SLUG, base_currency="USD",
                                    timezone="UTC")
        cid = founder.collective_id
        add_members(founder, MEMBERS)
        conn = db.session.connection()
        period = month_start(date.today())
        set_founding_plan(founder, PlanTerms.from_json(BREAD_FUND), period, today=date.today())
        member_ids = db.session.scalars(sa.select(Membership.id).where(
            Membership.collective_id == cid)).all()
        conn.execute(sa.insert(MemberLevel.__table__), [
            {"membership_id": mid, "benefit_amount": rng.choice(LEVELS), "from_period": period,
             "chosen_at": founder.joined_at} for mid in member_ids])
        db.session.commit()
        return cid


def forecast_inputs(cid: int, today: date) -> tuple:
    """What compute_forecast hands the simulation (to time the pure part on its own)."""
    period = month_start(today)
    terms = plan_terms(plan_in_force(cid, period))
    members = members_frame(cid, period, terms)
    sick = terms.rule(BenefitKind.SICK)
    levels = members["level"].where(members["level"] > 0, terms.lowest_level)
    return (fund_balance(cid), levels.tolist(), members["due"].tolist(),
            sick.waiting_months, sick.max_months)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                          "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                          "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})
        t0 = time.perf_counter()
        cid = build(app)
        print(f"built {MEMBERS} members with levels and the bread-fund plan in "
              f"{time.perf_counter() - t0:.1f} s")

        assumptions = simulation.ForecastAssumptions()
        print(f"forecast assumptions (the real defaults): {assumptions.runs} runs x "
              f"{assumptions.horizon_months} months")
        with app.app_context():
            today, now = date.today(), datetime.now(UTC)
            # Before: what each view used to cost, the whole forecast (its reads included).
            start = time.perf_counter()
            forecast = compute_forecast(cid, today=today, now=now)
            before = time.perf_counter() - start
            db.session.commit()
            result = forecast.result
            assert result is not None and result["members"] == MEMBERS + 1, result
            inputs = forecast_inputs(cid, today)
            start = time.perf_counter()
            simulation.forecast_months(*inputs, assumptions)
            simulated = time.perf_counter() - start
            computed_at = stored_forecast(cid).computed_at
            print(f"compute_forecast once: {before:.2f} s (the simulation alone, "
                  f"timed separately: {simulated:.2f} s); stored: median {result['median']}, "
                  f"p10 {result['p10']}, never out {result['never_out_share']:.0%}")

        client = app.test_client()
        response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        url = f"/c/{SLUG}/fund/treasurer"
        expected = (f"In {assumptions.runs:,} simulated futures of "
                    f"{assumptions.horizon_months // 12} years, the fund")
        warm = client.get(url)  # first view: templates compiled, caches filled
        assert warm.status_code == 200, warm.status_code
        times = []
        for _ in range(VIEWS):
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code
            page = response.get_data(as_text=True)
            assert expected in page, "the page does not show the stored forecast"
            assert f"{MEMBERS + 1:,} members paying" in page
            assert f"{month_start(today):%B %Y}" in page
        after = statistics.median(times)
        print(f"treasurer page, {VIEWS} views after one warm-up: "
              + ", ".join(f"{t:.3f}" for t in times) + " s")

        with app.app_context():
            # The views read the stored forecast; none of them computed a new one.
            assert stored_forecast(cid).computed_at == computed_at
        print(f"{MEMBERS + 1} fund members: forecast computed per view (before): "
              f"{before:.2f} s; page reading the stored forecast (now): {after:.2f} s; "
              f"ratio {before / after:.0f}x")


if __name__ == "__main__":
    main()
