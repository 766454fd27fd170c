"""The demo's partner collective (issue 15): Harambee Virtual Assistants, three Kenyan
assistants who federated with Bayanihan by a vote on each side. Bayanihan subcontracts the
overflow of a Brightline Legal intake job to them at 40%: Amina works it with Grace, one
client payment has come in (posted in both ledgers), and Bayanihan has settled half of
what that made it owe."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from collective.extensions import db
from collective.federation import money, partners, sharing
from collective.members import services as members
from collective.members.models import Collective, Membership, Proposal, Role
from collective.members.proposals import cast_vote, close_due_proposals
from collective.pool.models import Client, PitchState
from collective.pool.payments import record_payment
from collective.pool.pitches import create_pitch, transition_pitch
from collective.pool.rules import set_founding_rule, terms_from
from collective.pool.time import log_time

PARTNER_SLUG = "harambee"
M, C, T = Role.MEMBER, Role.COORDINATOR, Role.TREASURER
#: (name, e-mail, country, timezone, roles, skills, weekly hours)
PARTNER_PEOPLE = [
    ("Wanjiru Kamau", "wanjiru@harambee.coop", "KE", "Africa/Nairobi", {C, T, M},
     {"bookkeeping": 4, "client relations": 4}, 20),
    ("Otieno Odhiambo", "otieno@harambee.coop", "KE", "Africa/Nairobi", {M},
     {"bookkeeping": 4, "spreadsheets": 4, "data entry": 3}, 30),
    ("Amina Hassan", "amina@harambee.coop", "KE", "Africa/Nairobi", {M},
     {"customer service": 4, "live chat": 4, "data entry": 4}, 25),
]


def archive_partner() -> None:
    """Rename and hide the demo's partner collective, with the demo's (archive_demo)."""
    from collective.extensions import utcnow
    existing = db.session.scalar(sa.select(Collective).filter_by(slug=PARTNER_SLUG))
    if existing is not None:
        existing.slug = f"{PARTNER_SLUG}-archived-{existing.id}"
        existing.archived_at = utcnow()
        db.session.flush()


def load_partner(people: dict[str, Membership], person, start: date, today: date
                 ) -> Collective:
    """Create Harambee, federate it with the demo collective, and share one pitch."""
    from collective.demo.pool import _at

    (founder_row, *others) = PARTNER_PEOPLE
    founder = person(*founder_row[:4], founder_row[5])
    wanjiru = members.create_collective(founder, name="Harambee Virtual Assistants",
                                        slug=PARTNER_SLUG, base_currency="USD",
                                        timezone="Africa/Nairobi")
    wanjiru.weekly_capacity_hours = founder_row[6]
    theirs = {"wanjiru": wanjiru}
    for name, email, country, tz, roles, skills, hours in others:
        theirs[email.split("@")[0]] = members.add_member(
            wanjiru.collective, person(name, email, country, tz, skills), roles,
            weekly_capacity_hours=hours)
    set_founding_rule(wanjiru, terms_from(1500, 0, "hours"), start, today=today)

    # Maria asks; Bayanihan votes; then Harambee votes.
    asked = today - timedelta(days=40)
    federation = partners.propose_federation(
        people["maria"], PARTNER_SLUG, now=_at(asked),
        description="Harambee's assistants cover Nairobi hours and take overflow work.")
    vote = db.session.get(Proposal, federation.proposal_id(people["maria"].collective_id))
    for name in ("maria", "anjali", "kate", "joy", "priya", "liza", "grace", "deepa",
                 "carmen"):
        cast_vote(people[name], vote, "agree" if name != "liza" else "abstain",
                  "Overflow help for the retainer months." if name == "grace" else "",
                  now=_at(asked + timedelta(days=1)))
    close_due_proposals(vote.collective_id, now=vote.deadline_at + timedelta(minutes=1))
    answered = vote.deadline_at + timedelta(days=1)
    their_vote = partners.put_request_to_vote(wanjiru, federation, now=answered)
    for member in theirs.values():
        cast_vote(member, their_vote, "agree", "", now=answered + timedelta(hours=3))
    close_due_proposals(wanjiru.collective_id,
                        now=their_vote.deadline_at + timedelta(minutes=1))

    # A Brightline Legal overflow job, subcontracted to Harambee at 40%.
    maria = people["maria"]
    brightline = db.session.scalar(sa.select(Client).filter_by(
        collective_id=maria.collective_id, name="Brightline Legal"))
    won = their_vote.deadline_at.date() + timedelta(days=1)
    job = create_pitch(
        maria, client_id=brightline.id, title="Client intake calls (overflow)",
        value_amount=3_000_00, value_currency="USD", estimated_hours=60,
        required_skills={"customer service": 4, "data entry": 3},
        finder_id=people["kate"].id, deadline_on=today + timedelta(days=20),
        description="New-client intake calls and matter set-up, Denver mornings.",
        today=won, at=_at(won))
    for step, offset in ((PitchState.PITCHED, 0), (PitchState.WON, 1)):
        transition_pitch(maria, job, step, at=_at(won + timedelta(days=offset)))
    shared = sharing.propose_sharing(
        maria, job, federation_id=federation.id, partner_bp=4000, role="supplier",
        note="Amina takes the Nairobi-morning calls and the data entry.",
        now=_at(won + timedelta(days=1)))
    sharing.answer_sharing(wanjiru, shared, accept=True, now=_at(won + timedelta(days=2)))
    from collective.pool.allocation import allocate_member
    grace = allocate_member(maria, job, membership_id=people["grace"].id, role="lead",
                            weight=1, weekly_hours=6)
    sharing.allocate_partner_member(maria, shared, membership_id=theirs["amina"].id,
                                    weekly_hours=8, now=_at(won + timedelta(days=2)))
    transition_pitch(maria, job, PitchState.IN_PROGRESS, at=_at(won + timedelta(days=3)))
    for week in range(2):
        day = won + timedelta(days=4 + 7 * week)
        log_time(people["grace"], grace, worked_on=day, minutes=5 * 60,
                 note="intake calls", today=today)
        sharing.log_partner_time(theirs["amina"], shared, worked_on=day + timedelta(days=1),
                                 minutes=6 * 60, note="calls and matter set-up", today=today)
    paid_on = today - timedelta(days=5)
    record_payment(people["anjali"], job, amount=1_500_00, currency="USD",
                   received_on=paid_on, reference="BL-2290", today=today)
    money.settle(people["anjali"], federation, amount=300_00,
                 paid_on=today - timedelta(days=2), reference="Wise T-55102",
                 request_key="demo-partner-settle-1", today=today)
    return wanjiru.collective
