"""Contributions a member owes the fund are a receivable of theirs in the ledger: a run that
finds their payable short posts the month owed, a later run that takes it from the payable
posts the settlement, and every page shows what their receivable holds, so an entry outside
the runs shows there too (and `flask ledger check` says the runs no longer agree)."""
from __future__ import annotations

import re

import sqlalchemy as sa

from collective.benefits import invariants, queries, runs
from collective.benefits.compute import add_months, month_start
from collective.benefits.receivables import receivable_code
from collective.clock import today_in
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import Account
from collective.money import format_money
from tests.benefits.factories import balance, deposit, found_fund
from tests.factories import commit

TODAY = today_in("UTC")
THIS_MONTH = month_start(TODAY)
LAST_MONTH, TWO_AGO = add_months(THIS_MONTH, -1), add_months(THIS_MONTH, -2)


def _usd(amount: int) -> str:
    return format_money(amount, "USD")


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _by_code(collective_id: int, key: str) -> dict[str, int]:
    entry = ledger.find_entry(collective_id, key)
    codes = dict(db.session.execute(sa.select(Account.id, Account.code)).all())
    return {codes[p.account_id]: p.amount for p in entry.postings}


def test_a_short_month_is_posted_owed_and_the_next_run_settles_it(ctx):
    """Ann's payable holds 10.00 when her 22.50 falls due: the month is owed (22.50 on her
    receivable against contributions due; her reserve and payable untouched). She pays in
    50.00; the next run takes 22.50 for the month and 22.50 for the month owed: the
    settlement moves 22.50 from her payable to her receivable, and from contributions due
    into the reserves."""
    founder, ann = found_fund(2)
    cid = founder.collective_id
    deposit(founder, founder, 10_000, on=TWO_AGO.replace(day=2), today=TODAY)
    deposit(founder, ann, 1_000, on=TWO_AGO.replace(day=2), today=TODAY)
    runs.run_contributions(cid, TWO_AGO, today=TODAY)
    first = f"{TWO_AGO:%Y-%m}"

    assert _by_code(cid, f"arrears:{first}:member:{ann.id}") == {
        receivable_code(ann.id): 2_250, ledger.FUND_DUE: -2_250}
    assert ledger.find_entry(cid, f"contribution:{first}:member:{ann.id}") is None
    assert balance(ann) == 1_000
    assert queries.owing(cid)[["membership_id", "owed", "debt"]].to_dict("records") == [
        {"membership_id": ann.id, "owed": 2_250, "debt": 0}]
    # Only the founder's 22.50 was paid: that is all the fund holds, and all the reserves.
    assert queries.fund_balance(cid) == 2_250
    check = invariants.reserve_check(cid)
    assert check.ok and (check.reserves, check.arrears, check.due_held) == (2_250, 2_250, 2_250)

    deposit(founder, ann, 5_000, on=LAST_MONTH.replace(day=2), today=TODAY)
    runs.run_contributions(cid, LAST_MONTH, today=TODAY)
    second = f"{LAST_MONTH:%Y-%m}"

    assert _by_code(cid, f"contribution:{second}:member:{ann.id}") == {
        f"2100-{ann.id}": 2_250, ledger.BENEFITS_FUND: -2_250}
    assert _by_code(cid, f"settled:{second}:member:{ann.id}") == {
        f"2100-{ann.id}": 2_250, receivable_code(ann.id): -2_250, ledger.FUND_DUE: 2_250,
        ledger.BENEFITS_FUND: -2_250}
    assert balance(ann) == 6_000 - 4_500
    assert queries.owing(cid).empty
    assert queries.fund_balance(cid) == 4 * 2_250
    check = invariants.reserve_check(cid)
    assert check.ok and (check.reserves, check.arrears, check.due_held) == (9_000, 0, 0)


def _ann_owes_a_month(setup) -> dict:
    """Last month Ann's payable (10.00) could not pay her 22.50: she owes it."""
    with setup():
        founder, ann = found_fund(2, start=add_months(THIS_MONTH, -3))
        deposit(founder, founder, 10_000, on=LAST_MONTH, today=TODAY)
        deposit(founder, ann, 1_000, on=LAST_MONTH, today=TODAY)
        runs.run_contributions(founder.collective_id, LAST_MONTH, today=TODAY)
        result = {"slug": founder.collective.slug, "cid": founder.collective_id,
                  "ann_id": ann.id, "founder": founder.user.email, "ann": ann.user.email,
                  "ann_name": ann.user.name}
        commit()
        return result


def _pages(client, auth, fund: dict) -> tuple[str, str, str]:
    """Ann's fund page, the treasurer's fund page and the treasurer's dashboard, as text."""
    auth.login(fund["ann"])
    hers = _text(client.get(f"/c/{fund['slug']}/fund/").get_data(as_text=True))
    auth.login(fund["founder"])
    treasurer = _text(client.get(f"/c/{fund['slug']}/fund/treasurer").get_data(as_text=True))
    dashboard = _text(client.get(f"/c/{fund['slug']}/dashboard").get_data(as_text=True))
    return hers, treasurer, dashboard


def test_the_pages_show_what_the_members_receivable_holds(client, auth, setup):
    fund = _ann_owes_a_month(setup)

    hers, treasurer, dashboard = _pages(client, auth, fund)
    assert f"you owe {_usd(2_250)} in contributions" in hers
    owing_row = f"{fund['ann_name']} {_usd(2_250)} {_usd(0)}"
    assert owing_row in treasurer and owing_row in dashboard

    # The treasurer settles 5.00 of it by hand, from what the collective owes Ann: the
    # runs know nothing of it, the pages show it all the same.
    with setup():
        cid, ann_id = fund["cid"], fund["ann_id"]
        accounts = dict(db.session.execute(sa.select(Account.code, Account.id).where(
            Account.collective_id == cid)).all())
        ledger.post_entry(cid, kind="transfer", occurred_on=TODAY, idempotency_key="by-hand",
                          memo="Part of Ann's month owed, from her balance", lines=[
                              ledger.Line(accounts[f"2100-{ann_id}"], 500, "USD"),
                              ledger.Line(accounts[receivable_code(ann_id)], -500, "USD"),
                              ledger.Line(accounts[ledger.FUND_DUE], 500, "USD"),
                              ledger.Line(accounts[ledger.BENEFITS_FUND], -500, "USD")])
        commit()

    hers, treasurer, dashboard = _pages(client, auth, fund)
    assert f"you owe {_usd(1_750)} in contributions" in hers
    owing_row = f"{fund['ann_name']} {_usd(1_750)} {_usd(0)}"
    assert owing_row in treasurer and owing_row in dashboard
    with setup():
        problems = invariants.reserve_problems(fund["cid"])
        assert len(problems) == 1
        assert (f"membership {fund['ann_id']} owes {_usd(2_250)} but their receivable holds "
                f"{_usd(1_750)}") in problems[0]


def test_a_dry_run_shows_the_month_owed_and_opens_no_receivable(ctx):
    founder, ann = found_fund(2)
    cid = founder.collective_id
    deposit(founder, founder, 10_000, on=TWO_AGO.replace(day=2), today=TODAY)

    preview = runs.run_contributions(cid, TWO_AGO, today=TODAY, dry_run=True)

    assert (preview.entries, preview.shortfall) == (2, 2_250)
    assert db.session.scalar(sa.select(sa.func.count(Account.id)).where(
        Account.collective_id == cid, Account.owed_by_membership_id.is_not(None))) == 0
    runs.run_contributions(cid, TWO_AGO, today=TODAY)
    assert db.session.scalars(sa.select(Account.code).where(
        Account.collective_id == cid, Account.owed_by_membership_id.is_not(None))).all() == [
        receivable_code(ann.id)]


def test_the_treasurers_page_lists_those_owing_the_most_and_counts_the_rest(
        client, auth, setup, monkeypatch):
    from collective.benefits import views
    monkeypatch.setattr(views, "OWING_SHOWN", 1)
    with setup():
        founder, ann, bob = found_fund(3, start=add_months(THIS_MONTH, -3))
        deposit(founder, founder, 10_000, on=LAST_MONTH, today=TODAY)
        deposit(founder, ann, 1_000, on=LAST_MONTH, today=TODAY)
        runs.run_contributions(founder.collective_id, LAST_MONTH, today=TODAY)
        slug, email = founder.collective.slug, founder.user.email
        first, second = sorted([ann.user.name, bob.user.name])
        commit()

    auth.login(email)
    treasurer = _text(client.get(f"/c/{slug}/fund/treasurer").get_data(as_text=True))
    # Both owe one month: the tie goes by name.
    assert f"{first} {_usd(2_250)} {_usd(0)}" in treasurer
    assert f"{second} {_usd(2_250)}" not in treasurer
    assert "And 1 more members owing: the 1 who owe the most are listed." in treasurer
    assert f"Members owing 2 {_usd(4_500)} in all" in treasurer
