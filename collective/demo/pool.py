"""Six months of work and money for the demo collective: clients, pitches in every state,
hours, payments in three currencies, payouts, a reversal, an adopted and a pending rule."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from collective.benefits.compute import add_months
from collective.members.models import Membership
from collective.members.proposals import cast_vote, close_due_proposals
from collective.pool.allocation import allocate_member
from collective.pool.clients import BillingDetails, create_client
from collective.pool.models import Pitch, PitchState
from collective.pool.payments import record_payment, reverse_payment
from collective.pool.payouts import pay_everyone, pay_member
from collective.pool.pitches import create_pitch, transition_pitch, volunteer_for
from collective.pool.rules import propose_share_rule, set_founding_rule, terms_from
from collective.pool.time import log_time
from collective.standards.checklists import confirm_item, create_checklist, deliver_pitch

S = PitchState


def months_ago(today: date, months_back: int) -> date:
    """The first day of the month `months_back` months before today's (negative: ahead)."""
    return add_months(today.replace(day=1), -months_back)


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _walk(actor: Membership, pitch, states: list[PitchState], day: date) -> None:
    for i, state in enumerate(states):
        transition_pitch(actor, pitch, state, at=_at(day + timedelta(days=i)))


def load_pool_history(people: dict[str, Membership], today: date,
                      after_month: Callable[[int, date], None] | None = None
                      ) -> dict[str, Pitch]:
    """Post the demo collective's work-pool history; `people` maps first names to members.
    Returns the work the books invoice: `retainer`, `book` and `cleanup`.

    `after_month(i, month)` is called at the end of each of the five past months.
    """
    maria, anjali, kate = people["maria"], people["anjali"], people["kate"]
    start = months_ago(today, 6)
    months = [months_ago(today, k) for k in range(5, 0, -1)]  # the five full months

    # What a delivery of each kind of work must show (collective/standards).
    checklists = {
        "cleanup": create_checklist(maria, kind="Bookkeeping clean-up", items=[
            ("Reconciled to the bank statements", False),
            ("Reviewed by a second member", True), ("Client sign-off", False)]),
        "research": create_checklist(maria, kind="Research sprint", items=[
            ("Every source cited", False), ("Summary of findings sent", False),
            ("Fact-checked by a second member", True)]),
    }

    # The founding agreement, then a rule adopted by vote.
    set_founding_rule(anjali, terms_from(1000, 0, "equal"), start, today=today)
    adopted = propose_share_rule(
        anjali, terms_from(1000, 500, "hours"), effective_on=months[0],
        title="10% common fund, 5% finder's fee, the rest by logged hours",
        description="Reward the members who bring in work, and pay by the hours we put in.",
        deadline_at=_at(months[0] - timedelta(days=3)), today=start + timedelta(days=5),
        now=_at(start + timedelta(days=5)))
    for name, choice, reason in [
        ("maria", "agree", ""), ("anjali", "agree", ""), ("kate", "agree", ""),
        ("joy", "agree", ""), ("priya", "agree", "Finders deserve something."),
        ("liza", "abstain", ""), ("grace", "agree", ""), ("deepa", "agree", ""),
        ("carmen", "disagree", "Equal shares felt fairer to me."),
    ]:
        cast_vote(people[name], adopted, choice, reason, now=_at(start + timedelta(days=8)))
    close_due_proposals(anjali.collective_id, now=_at(months[0]))

    clients = {
        key: create_client(maria, name=name, country=country, contact=contact, notes=notes,
                           billing=BillingDetails(*billing))
        for key, name, country, contact, notes, billing in [
            ("harbour", "Harbour Dental", "AU", "Olivia Chen, practice manager",
             "Three clinics in Sydney; pays monthly in AUD.",
             ("Harbour Dental Pty Ltd\nLevel 2, 88 Pitt Street\nSydney NSW 2000\nAustralia",
              "accounts@harbourdental.example", "ABN 51 824 753 556")),
            ("brightline", "Brightline Legal", "US", "Marcus Webb", "Boutique law firm, Denver.",
             ("Brightline Legal LLP\n1600 Glenarm Place, Suite 400\nDenver, CO 80202\nUSA",
              "ap@brightline.example", "EIN 84-1234567")),
            ("oakfield", "Oakfield Publishing", "GB", "Harriet Lowe, commissioning editor", "",
             ("Oakfield Publishing Ltd\n14 Bedford Row\nLondon WC1R 4BU\nUnited Kingdom",
              "finance@oakfield.example", "GB 287 4411 63")),
            ("summit", "Summit Realty", "US", "Dana Ortiz", "Invoice net 30.",
             ("Summit Realty Inc.\n2200 Market Street\nSan Francisco, CA 94114\nUSA",
              "dana.ortiz@summitrealty.example", "")),
            ("koala", "Koala Cafe Group", "AU", "Sam Nguyen", "Six cafes in Brisbane.",
             ("Koala Cafe Group Pty Ltd\n5 Little Edward Street\nSpring Hill QLD 4000\nAustralia",
              "sam@koalacafe.example", "ABN 33 615 902 118")),
        ]
    }

    def pitch(client, title, currency, value, hours, skills, finder=None, deadline=None,
              description=""):
        return create_pitch(
            maria, client_id=clients[client].id, title=title, value_amount=value,
            value_currency=currency, estimated_hours=hours, required_skills=skills,
            finder_id=finder.id if finder else None, deadline_on=deadline,
            description=description, today=start, at=_at(start))

    # 1. A customer-service retainer, won, in progress and paid monthly in AUD.
    retainer = pitch("harbour", "Patient support retainer", "AUD", 4_500_00, 120,
                     {"customer service": 4, "scheduling": 3}, finder=kate,
                     description="Phones, e-mail and bookings for three clinics, weekdays.")
    _walk(maria, retainer, [S.PITCHED, S.WON], start + timedelta(days=2))
    for member, role, weight, weekly in [("maria", "lead", 2, 8), ("grace", "contributor", 2, 12),
                                         ("joy", "contributor", 1, 8)]:
        allocate_member(maria, retainer, membership_id=people[member].id, role=role,
                        weight=weight, weekly_hours=weekly)
    transition_pitch(maria, retainer, S.IN_PROGRESS, at=_at(start + timedelta(days=6)))

    # 2. A ghostwritten book Priya found, drafted by her with Emma editing.
    book = pitch("oakfield", "Ghostwritten memoir: 'Salt and Steel'", "GBP", 6_000_00, 160,
                 {"ghostwriting": 4, "editing": 4}, finder=people["priya"],
                 deadline=today + timedelta(days=45),
                 description="A retired shipbuilder's memoir, 60,000 words.")
    _walk(maria, book, [S.PITCHED, S.WON], months[1])
    allocate_member(maria, book, membership_id=people["priya"].id, role="lead", weight=3,
                    weekly_hours=12)
    allocate_member(maria, book, membership_id=people["emma"].id, weight=1, weekly_hours=5)
    transition_pitch(maria, book, S.IN_PROGRESS, at=_at(months[1] + timedelta(days=3)))

    # 3. A research sprint, delivered, invoiced and paid in USD.
    sprint = pitch("brightline", "Case-law research sprint", "USD", 1_800_00, 40,
                   {"research": 4}, finder=maria)
    _walk(maria, sprint, [S.PITCHED, S.WON], months[2])
    allocate_member(maria, sprint, membership_id=people["liza"].id, role="lead", weight=1,
                    weekly_hours=10)
    transition_pitch(maria, sprint, S.IN_PROGRESS, at=_at(months[2] + timedelta(days=3)))

    # 4. A bookkeeping clean-up: delivered and invoiced, not paid yet.
    cleanup = pitch("summit", "Bookkeeping clean-up FY2025", "USD", 2_400_00, 50,
                    {"bookkeeping": 4, "spreadsheets": 3}, finder=anjali,
                    deadline=today - timedelta(days=20))
    _walk(maria, cleanup, [S.PITCHED, S.WON], months[3])
    allocate_member(maria, cleanup, membership_id=anjali.id, role="lead", weight=2,
                    weekly_hours=6)
    allocate_member(maria, cleanup, membership_id=people["joy"].id, weight=1,
                    weekly_hours=4)
    transition_pitch(maria, cleanup, S.IN_PROGRESS, at=_at(months[3] + timedelta(days=2)))

    def log(member, work, day, hours, note=""):
        allocation = next(a for a in work.allocations if a.membership_id == people[member].id)
        log_time(people[member], allocation, worked_on=day, minutes=int(hours * 60),
                 note=note, today=today)

    # Hours each month, then the month's payments.
    rates_aud = [Decimal("0.6512"), Decimal("0.6478"), Decimal("0.6590"), Decimal("0.6634"),
                 Decimal("0.6551")]
    for i, month in enumerate(months):
        for day_offset, (maria_h, grace_h, joy_h) in enumerate([(6, 10, 6), (7, 12, 5),
                                                               (8, 11, 7), (6, 13, 6)]):
            day = month + timedelta(days=3 + 7 * day_offset)
            log("maria", retainer, day, maria_h, "phones and bookings")
            log("grace", retainer, day, grace_h, "live chat and e-mail")
            log("joy", retainer, day + timedelta(days=1), joy_h, "recall reminders")
        if i >= 1:
            for week in range(4):
                day = month + timedelta(days=2 + 7 * week)
                log("priya", book, day, 9 + week % 2, "drafting")
                if i >= 2:
                    log("emma", book, day + timedelta(days=2), 3.5, "line edit")
        if i == 2:
            for week in range(3):
                log("liza", sprint, month + timedelta(days=4 + 7 * week), 12.5, "case research")
        if i == 3:
            for week in range(3):
                log("anjali", cleanup, month + timedelta(days=5 + 7 * week), 7, "reconciling")
                log("joy", cleanup, month + timedelta(days=6 + 7 * week), 4, "receipts")
        paid_on = months_ago(today, 4 - i) + timedelta(days=1)
        record_payment(maria, retainer, amount=4_500_00, currency="AUD",
                       received_on=paid_on, rate=rates_aud[i],
                       reference=f"HD-INV-{2026_00 + i + 1}", today=today)
        if i == 2:
            # Maria ticked "record it again" by mistake; Anjali reverses it.
            duplicate = record_payment(
                maria, retainer, amount=4_500_00, currency="AUD", received_on=paid_on,
                rate=rates_aud[i], reference=f"HD-INV-{2026_00 + i + 1}",
                confirm_duplicate=True, today=today)
            reverse_payment(anjali, duplicate, "Entered twice by mistake")
        if i == 2:
            # Delivered against its checklist; the fact-check still waits for a second member.
            delivered_on = month + timedelta(days=24)
            deliver_pitch(maria, sprint, checklist_id=checklists["research"].id,
                          ticked={1, 2}, today=delivered_on, at=_at(delivered_on))
            _walk(maria, sprint, [S.INVOICED], delivered_on + timedelta(days=1))
        if i == 3:
            record_payment(anjali, sprint, amount=1_800_00, currency="USD",
                           received_on=month + timedelta(days=8), reference="BL-2231",
                           today=today)
            transition_pitch(maria, sprint, S.PAID, at=_at(month + timedelta(days=9)))
            # Delivered; the books issue its invoice (collective/demo/books.py).
            # Its checklist met: Deepa reviewed the books Anjali and Joy cleaned up.
            delivered_on = month + timedelta(days=25)
            done = deliver_pitch(maria, cleanup, checklist_id=checklists["cleanup"].id,
                                 ticked={1, 3}, today=delivered_on, at=_at(delivered_on))
            confirm_item(people["deepa"], done, done.items[1].id,
                         at=_at(delivered_on + timedelta(days=1)))
        if i in (2, 4):
            record_payment(anjali, book, amount=3_000_00, currency="GBP",
                           received_on=month + timedelta(days=20),
                           rate=Decimal("1.2684") if i == 2 else Decimal("1.2741"),
                           reference=f"OP-{i}", today=today)
        if after_month is not None:
            after_month(i, month)
        if i == 3:
            pay_everyone(anjali, paid_on=month + timedelta(days=27),
                         reference="BDO batch 0427", request_key="demo-payout-all-1", today=today)
    pay_member(anjali, people["grace"], amount=500_00, paid_on=months[4] + timedelta(days=5),
               request_key="demo-payout-grace", reference="GCash 88213", today=today)

    # 5. Lost, cancelled and open work.
    lost = pitch("koala", "Social media refresh", "AUD", 2_200_00, 30, {"social media": 3})
    _walk(maria, lost, [S.PITCHED], months[2])
    transition_pitch(maria, lost, S.LOST, note="The client chose an agency with a designer",
                     at=_at(months[2] + timedelta(days=1)))
    cancelled = pitch("brightline", "Data entry backlog", "USD", 900_00, 30, {"data entry": 4})
    transition_pitch(kate, cancelled, S.CANCELLED, note="Client hired in-house",
                     at=_at(months[3]))
    research = pitch("brightline", "Legal research assistant (ongoing)", "USD", 3_000_00, 80,
                     {"research": 4, "web research": 3}, finder=kate,
                     deadline=today + timedelta(days=21))
    volunteer_for(people["liza"], research, "I did their research sprint")
    volunteer_for(people["sunita"], research, "")
    chat = pitch("koala", "Holiday live-chat cover", "AUD", 1_600_00, 60,
                 {"live chat": 4, "customer service": 4}, deadline=today + timedelta(days=30))
    transition_pitch(kate, chat, S.PITCHED, at=_at(today - timedelta(days=3)))
    volunteer_for(people["grace"], chat, "Happy to cover the late shifts")

    # A pending proposal with some votes in.
    pending = propose_share_rule(
        anjali, terms_from(800, 500, "weights"), effective_on=months_ago(today, -1),
        title="8% common fund, 5% finder's fee, the rest by allocation weights",
        description="Our common fund is healthy; weights agreed up front are simpler than "
                    "tracking every hour.", deadline_at=_at(today + timedelta(days=6), 18),
        today=today - timedelta(days=1), now=_at(today - timedelta(days=1)))
    cast_vote(people["maria"], pending, "agree", "", now=_at(today - timedelta(days=1), 12))
    cast_vote(people["grace"], pending, "disagree",
              "Hours show the real work on the retainer; weights hide overtime.",
              now=_at(today - timedelta(days=1), 14))
    cast_vote(people["priya"], pending, "agree", "", now=_at(today - timedelta(days=1), 15))
    return {"retainer": retainer, "book": book, "cleanup": cleanup}
