"""The demo collective loads, loads again without duplicates, and resets."""
from datetime import date

import pytest
import sqlalchemy as sa

from collective.demo import load_demo
from collective.extensions import db
from collective.ledger.balances import check_ledger
from collective.ledger.models import Posting
from collective.members.models import Collective, Membership, User
from tests.benefits.test_runs_reliability import _install_crash


def _counts(app):
    with app.app_context():
        return {
            "users": db.session.scalar(sa.select(sa.func.count(User.id))),
            "memberships": db.session.scalar(sa.select(sa.func.count(Membership.id))),
            "collectives": db.session.scalar(sa.select(sa.func.count(Collective.id))),
        }


def test_demo_loads_once_and_resets(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Loaded Bayanihan Remote Collective" in first.output
    after_first = _counts(app)
    with app.app_context():
        demo = db.session.scalar(sa.select(Collective).filter_by(slug="demo"))
        members = demo.memberships
        assert len(members) == 12
        countries = {m.user.country for m in members}
        assert countries == {"PH", "IN", "AU"}
        roles = {r.value for m in members for r in m.roles}
        assert roles == {"member", "coordinator", "treasurer"}
        rhea = next(m for m in members if m.user.email == "rhea@demo.coop")
        assert rhea.status == "paused" and rhea.status_note == "parental leave"
        anjali = next(m for m in members if m.user.email == "anjali@demo.coop")
        assert {s.name: s.level for s in anjali.user.skills}["bookkeeping"] == 5
        assert check_ledger(demo.id).entries >= 1
        assert check_ledger(demo.id).ok

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0
    assert "already loaded" in again.output
    assert _counts(app) == after_first

    reset = runner.invoke(args=["demo", "--reset"])
    assert reset.exit_code == 0, reset.output
    after_reset = _counts(app)
    assert after_reset["users"] == after_first["users"]
    assert after_reset["collectives"] == after_first["collectives"] + 1
    with app.app_context():
        live = db.session.scalars(
            sa.select(Collective).where(Collective.archived_at.is_(None),
                                        Collective.slug.like("demo%"))).all()
        assert [c.slug for c in live] == ["demo"]


def test_demo_users_can_sign_in(client, runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    response = client.post("/login", data={"email": "priya@demo.coop",
                                           "password": "demo-password"})
    assert response.status_code == 302
    home = client.get("/c/demo/", follow_redirects=True)
    assert home.status_code == 200
    assert b"Bayanihan Remote Collective" in home.data


def test_ledger_check_command(runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 0
    assert result.output.startswith("ledger ok:")


@pytest.mark.parametrize("today", [date(2026, 12, 15), date(2027, 1, 3), date(2028, 2, 29)])
def test_the_demo_loads_on_any_day_of_the_year(ctx, today):
    collective = load_demo(today)
    assert len(collective.memberships) == 12
    result = check_ledger(collective.id)
    assert result.ok and result.entries > 50


def test_a_reset_that_fails_to_load_keeps_the_old_demo_and_writes_nothing(app, runner, setup):
    assert runner.invoke(args=["demo"]).exit_code == 0
    before = _counts(app)
    with setup():
        old_id = db.session.scalar(sa.select(Collective.id).filter_by(slug="demo"))
        postings = db.session.scalar(sa.select(sa.func.count(Posting.id)))
        _install_crash(postings)  # a real trigger: every new posting is refused
        db.session.commit()

    failed = runner.invoke(args=["demo", "--reset"])

    assert failed.exit_code != 0
    assert "simulated crash" in str(failed.exception)
    assert "Loaded" not in failed.output
    assert _counts(app) == before
    with setup():
        demo = db.session.scalar(sa.select(Collective).filter_by(slug="demo"))
        assert (demo.id, demo.archived_at) == (old_id, None)
        assert db.session.scalar(sa.select(sa.func.count(Posting.id))) == postings
