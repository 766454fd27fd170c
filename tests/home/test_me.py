"""/me: one person's week, earnings, votes and claims across their collectives."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import time_machine

from collective.benefits import claims, runs
from collective.exchange import rates
from collective.members import accounts, proposals
from collective.pool import allocation, payments, pitches
from collective.pool.models import PitchState
from tests.benefits.factories import deposit, found_fund
from tests.factories import commit, make_collective, make_member, make_user
from tests.pool.factories import NOW, TODAY, found_rule, log, make_pitch, move_to

#: A Saturday: its week runs from Monday 5 to Sunday 11 October 2026.
PAGE_MOMENT = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)


def _work(coordinator, member, *, title: str, weekly_hours: int):
    """A pitch in progress with `member` allocated `weekly_hours` a week."""
    pitch = make_pitch(coordinator, title=title)
    move_to(coordinator, pitch, PitchState.WON)
    part = allocation.allocate_member(coordinator, pitch, membership_id=member.id,
                                      weekly_hours=weekly_hours)
    pitches.transition_pitch(coordinator, pitch, PitchState.IN_PROGRESS, at=NOW)
    return pitch, part


def two_collectives():
    """Pat is in a USD collective with a fund (20 h offered) and a EUR one (15 h), and has
    said their week is 30 h. In the USD one: 10 h a week on "Harbour retainer", 2 h logged
    this week and 1 h the week before, and a payment of 1,000.00 of which Pat gets 900.00
    (10% to the common fund; the finder's 5% stays with the members). In the EUR one: 8 h
    a week on "Oak book", 1.5 h logged this week, a payment of 500.00: 450.00 to Pat.
    Someone else, Quinn, works in the USD collective too."""
    people = found_fund(size=3)
    usd_founder, pat_usd, quinn = people
    pat = pat_usd.user
    pat_usd.weekly_capacity_hours = 20
    found_rule(usd_founder)
    eur_founder = make_collective(currency="EUR")
    found_rule(eur_founder)
    pat_eur = make_member(eur_founder.collective, user=pat, hours=15)
    harbour, part = _work(usd_founder, pat_usd, title="Harbour retainer", weekly_hours=10)
    log(pat_usd, part, 120, worked_on=date(2026, 10, 6))
    log(pat_usd, part, 60, worked_on=date(2026, 10, 2))
    payments.record_payment(usd_founder, harbour, amount=100_000, currency="USD",
                            received_on=TODAY, reference="H-1", today=TODAY)
    oak, oak_part = _work(eur_founder, pat_eur, title="Oak book", weekly_hours=8)
    log(pat_eur, oak_part, 90, worked_on=date(2026, 10, 8))
    payments.record_payment(eur_founder, oak, amount=50_000, currency="EUR",
                            received_on=TODAY, reference="O-1", today=TODAY)
    secret, secret_part = _work(usd_founder, quinn, title="Quinn's secret work",
                                weekly_hours=7)
    log(quinn, secret_part, 300, worked_on=date(2026, 10, 7))
    payments.record_payment(usd_founder, secret, amount=77_700, currency="USD",
                            received_on=TODAY, reference="S-1", today=TODAY)
    accounts.update_week_settings(pat, weekly_capacity_hours=30, display_currency="USD",
                                  is_other_work_private=False)
    return pat, pat_usd, pat_eur, quinn


def _me(client, auth, email: str) -> str:
    """/me as the person with this address sees it on PAGE_MOMENT (signed in then: a
    session cookie from the future is not taken)."""
    with time_machine.travel(PAGE_MOMENT, tick=False):
        auth.logout()
        auth.login(email)
        response = client.get("/me")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _row(html: str, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell holds `first_cell`, as text."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        cells = [re.sub(r"<[^>]+>", " ", c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>",
                                                                 row, re.S)]
        cells = [" ".join(c.split()) for c in cells]
        if cells and first_cell in cells[0]:
            return cells
    raise AssertionError(f"no row for {first_cell!r}")


def _month(html: str, month: str) -> dict[str, str]:
    """The earnings table's row of `month`, by column heading."""
    return dict(zip(_row(html, "Month"), _row(html, month), strict=True))


def test_me_shows_the_week_across_both_collectives_against_one_capacity(client, auth, setup):
    with setup():
        pat, pat_usd, pat_eur, _ = two_collectives()
        usd, eur = pat_usd.collective.name, pat_eur.collective.name
        rates.set_rate("EUR", "USD", "1.0842", date(2026, 10, 1))
        commit()
        email = pat.email
    html = _me(client, auth, email)
    # 10 + 8 h a week allocated; 2 + 1.5 h logged Monday 5 to Sunday 11 October (the hour
    # of 2 October was the week before); against Pat's own 30 h.
    assert _row(html, usd) == [usd, "10 h", "2 h", "20 h"]
    assert _row(html, eur) == [eur, "8 h", "1.5 h", "15 h"]
    assert _row(html, "All collectives") == ["All collectives", "18 h", "3.5 h",
                                             "my week 30 h"]
    assert "18 of 30 h" in html and "3.5 of 30 h" in html  # the chart
    assert "Harbour retainer" in html and "Oak book" in html


def test_me_shows_earnings_per_month_in_each_collective_and_converted(client, auth, setup):
    with setup():
        pat, pat_usd, pat_eur, _ = two_collectives()
        usd, eur = pat_usd.collective.name, pat_eur.collective.name
        rates.set_rate("EUR", "USD", "1.0842", date(2026, 10, 1))
        rates.set_rate("EUR", "USD", "2", date(2026, 10, 11))  # after the page's day
        commit()
        email = pat.email
    html = _me(client, auth, email)
    # 450.00 EUR at 1.0842 is 487.89 USD exactly; with 900.00 USD, 1,387.89.
    assert _month(html, "Oct 2026") == {"Month": "Oct 2026", usd: "$900.00",
                                        eur: "€450.00 $487.89", "Total in USD": "$1,387.89"}
    assert _month(html, "Sep 2026") == {"Month": "Sep 2026", usd: "$0.00",
                                        eur: "€0.00 $0.00", "Total in USD": "$0.00"}
    assert f"{eur}: converted from EUR at the rate 1 EUR = 1.0842 USD as of" in html
    assert f"{usd}: in USD, its own currency" in html


def test_without_a_rate_the_amount_stays_in_its_currency_and_out_of_the_total(
        client, auth, setup):
    with setup():
        pat, pat_usd, pat_eur, _ = two_collectives()
        rates.set_rate("EUR", "GBP", "0.8700", date(2026, 10, 1))  # not the pair needed
        commit()
        email, eur, usd = pat.email, pat_eur.collective.name, pat_usd.collective.name
    html = _me(client, auth, email)
    assert _month(html, "Oct 2026") == {"Month": "Oct 2026", usd: "$900.00", eur: "€450.00",
                                        "Total in USD": "$900.00"}
    assert f"{eur}: no rate from EUR to USD is known : shown in EUR" in re.sub(
        r"<[^>]+>", " ", html).replace("  ", " ")


def test_a_rate_kept_the_other_way_round_is_used_inverted(client, auth, setup):
    with setup():
        pat, pat_usd, pat_eur, _ = two_collectives()
        usd, eur = pat_usd.collective.name, pat_eur.collective.name
        accounts.update_week_settings(pat, weekly_capacity_hours=30, display_currency="EUR",
                                      is_other_work_private=False)
        rates.set_rate("EUR", "USD", "1.25", date(2026, 9, 30))
        commit()
        email = pat.email
    html = _me(client, auth, email)
    # 900.00 USD at 1/1.25 = 0.8 is 720.00 EUR; with Pat's 450.00 EUR, 1,170.00.
    assert _month(html, "Oct 2026") == {"Month": "Oct 2026", usd: "$900.00 €720.00",
                                        eur: "€450.00", "Total in EUR": "€1,170.00"}
    assert "1 EUR = 1.25 USD as of" in html


def test_me_shows_votes_waiting_and_open_claims_with_links_into_their_collective(
        client, auth, setup):
    with setup():
        pat, pat_usd, pat_eur, quinn = two_collectives()
        usd_founder = pat_usd.collective.memberships[0]
        for person in (pat_usd, quinn):  # a month of contributions: claims may start
            deposit(usd_founder, person, 5_000)
        runs.run_contributions(pat_usd.collective_id, date(2026, 9, 1), today=TODAY)
        founder = proposals.open_proposal(
            pat_eur.collective.memberships[0], kind="share_rule", title="Half to the fund",
            now=PAGE_MOMENT - timedelta(hours=1),
            payload={"common_fund_bp": 5000, "finder_fee_bp": 0, "method": "equal",
                     "effective_on": "2026-12-01"})
        claim = claims.file_claim(pat_usd, kind="unpaid_invoice", start_period=TODAY,
                                  invoice_amount=10_000, today=TODAY, now=NOW)
        quinns = claims.file_claim(quinn, kind="unpaid_invoice", start_period=TODAY,
                                   invoice_amount=20_000, today=TODAY, now=NOW)
        commit()
        email, eur_slug, usd_slug = pat.email, pat_eur.collective.slug, pat_usd.collective.slug
        proposal_id, claim_id, quinns_id = founder.id, claim.id, quinns.id
    html = _me(client, auth, email)
    assert f'href="/c/{eur_slug}/proposals/{proposal_id}">Half to the fund</a>' in html
    assert f'href="/c/{usd_slug}/fund/claims/{claim_id}"' in html
    assert f"/fund/claims/{quinns_id}\"" not in html


def test_another_persons_data_never_shows(client, auth, setup):
    with setup():
        pat, pat_usd, _, quinn = two_collectives()
        elsewhere = make_collective(founder=quinn.user)
        _work(elsewhere, elsewhere, title="Quinn's side project", weekly_hours=5)
        commit()
        email, quinn_email = pat.email, quinn.user.email
        other_name = elsewhere.collective.name
    html = _me(client, auth, email)
    assert "Quinn's secret work" not in html and "$699.30" not in html
    assert "Quinn's side project" not in html and other_name not in html
    # And Quinn's page shows Quinn's work, none of Pat's.
    theirs = _me(client, auth, quinn_email)
    assert "Quinn&#39;s secret work" in theirs and "Quinn&#39;s side project" in theirs
    assert "Harbour retainer" not in theirs and "Oak book" not in theirs


def test_me_needs_signing_in(client):
    response = client.get("/me")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_settings_are_saved_and_bad_input_names_the_field(client, auth, setup):
    with setup():
        user = make_user()
        make_collective(founder=user)
        commit()
        email = user.email
    auth.login(email)
    page = client.get("/me").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    bad = client.post("/me/settings", data={"csrf_token": token,
                                            "weekly_capacity_hours": "200",
                                            "display_currency": "XYZ"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Number must be between 0 and 168" in text and "ISO 4217" in text
    good = client.post("/me/settings", data={"csrf_token": token,
                                             "weekly_capacity_hours": "32",
                                             "display_currency": "eur",
                                             "is_other_work_private": "y"})
    assert good.status_code == 302
    with setup():
        from collective.extensions import db
        from collective.members.models import User
        saved = db.session.get(User, user.id)
        assert (saved.weekly_capacity_hours, saved.display_currency,
                saved.is_other_work_private) == (32, "EUR", True)


def test_a_person_in_several_collectives_lands_on_me_after_signing_in(client, auth, setup):
    with setup():
        one = make_user()
        make_collective(founder=one)
        two = make_user()
        first = make_collective(founder=two)
        make_member(make_collective().collective, user=two)
        commit()
        emails = one.email, two.email
        del first
    assert auth.login(emails[0]).headers["Location"] == "/collectives"
    auth.logout()
    assert auth.login(emails[1]).headers["Location"] == "/me"
    assert 'href="/me"' in client.get("/collectives").get_data(as_text=True)


def test_someone_in_no_collective_gets_a_page_that_says_so(client, auth, setup):
    with setup():
        user = make_user()
        commit()
        email = user.email
    html = _me(client, auth, email)
    assert "You are not in a collective yet." in html and "My week" not in html
