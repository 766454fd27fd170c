"""A second, smaller collective for the demo's micro-careers story (issue 15): Southern
Cross Editors (slug `demo-editors`, AUD), where Emma coordinates and Priya and Kate also
work. Priya's home (/me) then shows her week and earnings across both collectives, her
AUD earnings converted to USD at reference rates, and a vote waiting in the guild."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from collective.exchange import rates
from collective.members import accounts
from collective.members import services as members
from collective.members.models import Membership, Role
from collective.pool.allocation import allocate_member
from collective.pool.clients import create_client
from collective.pool.models import PitchState
from collective.pool.payments import record_payment
from collective.pool.pitches import create_pitch, transition_pitch
from collective.pool.rules import propose_share_rule, set_founding_rule, terms_from
from collective.pool.time import log_time

GUILD_SLUG = "demo-editors"
#: What one AUD was worth in USD on the first of each of the last months, oldest first
#: (illustrative reference rates, as `flask rates set` would keep them).
AUD_USD = ["0.6512", "0.6478", "0.6590", "0.6634", "0.6551", "0.6572"]


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def load_guild(people: dict[str, Membership], today: date, months: list[date]) -> None:
    """The guild, its members, two months of a copy-edit for a publisher paid in AUD, a
    share rule out for a vote, and the AUD/USD rates of `months` (the first days of the
    last months, oldest first)."""
    emma, priya, kate = people["emma"].user, people["priya"].user, people["kate"].user
    founder = members.create_collective(emma, name="Southern Cross Editors",
                                        slug=GUILD_SLUG, base_currency="AUD",
                                        timezone="Australia/Sydney")
    founder.weekly_capacity_hours = 10
    guild = founder.collective
    priya_here = members.add_member(guild, priya, {Role.MEMBER}, weekly_capacity_hours=10)
    members.add_member(guild, kate, {Role.MEMBER}, weekly_capacity_hours=5)
    for membership in (founder, priya_here):
        membership.joined_at = _at(months[-3] - timedelta(days=10))
    # Priya's week: 30 h across both collectives, her earnings added up in USD.
    accounts.update_week_settings(priya, weekly_capacity_hours=30, display_currency="USD",
                                  is_other_work_private=False)
    start = months[-3]
    set_founding_rule(founder, terms_from(1000, 0, "hours"), start, today=today)
    client = create_client(founder, name="Wattle Press", country="AU",
                           contact="Ruth Baker, managing editor")
    work = create_pitch(founder, client_id=client.id, title="Bush cookbook copy-edit",
                        value_amount=6_400_00, value_currency="AUD", estimated_hours=80,
                        required_skills={"editing": 4}, today=start, at=_at(start))
    for state in (PitchState.PITCHED, PitchState.WON):
        transition_pitch(founder, work, state, at=_at(start + timedelta(days=1)))
    allocate_member(founder, work, membership_id=founder.id, role="lead", weekly_hours=4)
    allocate_member(founder, work, membership_id=priya_here.id, weekly_hours=6)
    transition_pitch(founder, work, PitchState.IN_PROGRESS, at=_at(start + timedelta(days=2)))
    emma_part, priya_part = work.allocations[0], work.allocations[1]
    if emma_part.membership_id != founder.id:
        emma_part, priya_part = priya_part, emma_part
    day = start + timedelta(days=3)
    while day <= today:
        log_time(founder, emma_part, worked_on=day, minutes=180, note="structural edit",
                 today=today)
        if day < today:
            log_time(priya_here, priya_part, worked_on=day + timedelta(days=1), minutes=300,
                     note="copy-edit", today=today)
        day += timedelta(days=7)
    monday = today - timedelta(days=today.weekday())
    if monday < today:  # this week's hours so far
        log_time(priya_here, priya_part, worked_on=monday, minutes=150,
                 note="copy-edit: index", today=today)
    for n, month in enumerate(months[-2:]):
        record_payment(founder, work, amount=3_200_00, currency="AUD",
                       received_on=month + timedelta(days=2), reference=f"WP-{n + 1}",
                       today=today)
    propose_share_rule(
        founder, terms_from(800, 500, "hours"), effective_on=months[-1] + timedelta(days=40),
        title="8% to the common fund, 5% finder's fee",
        description="Less to the fund now that it holds three months of costs.",
        today=today, now=_at(today, 1))
    for month, rate in zip(months, AUD_USD, strict=False):
        rates.set_rate("AUD", "USD", rate, month, source="demo")
