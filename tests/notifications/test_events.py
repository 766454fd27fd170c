"""Each event tells the people it concerns, and nobody else; once; and only if it commits."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from collective.benefits import claims, runs
from collective.extensions import db
from collective.ledger import balances
from collective.members import proposals
from collective.members.models import Role, VoteChoice
from collective.money import format_money
from collective.notifications.models import Notification
from collective.notifications.service import notify
from collective.pool import payments, payouts, pitches, rules
from collective.pool.models import PitchState
from collective.transactions import transaction
from tests.benefits.factories import deposit, found_fund, seed_fund, set_level
from tests.factories import commit, make_collective, make_member
from tests.notifications.helpers import mailed, told
from tests.pool.factories import NOW, TODAY, allocate, found_rule, log, make_pitch, move_to
from tests.pool.test_voting import AFTER, DEADLINE, DURING, OPENED, PROPOSED

JUL, AUG = date(2026, 7, 1), date(2026, 8, 1)
RUN_DAY = date(2027, 1, 1)


def _members(size: int):
    founder = make_collective()
    return [founder] + [make_member(founder.collective) for _ in range(size - 1)]


def test_a_proposal_opened_tells_every_voter_with_the_deadline_in_their_timezone(ctx):
    founder, ann, bob = _members(3)
    ann.user.timezone = "Asia/Manila"
    proposal = rules.propose_share_rule(founder, PROPOSED, effective_on=date(2026, 11, 1),
                                        deadline_at=DEADLINE, today=OPENED.date(), now=OPENED)
    opened = told("proposal_opened")
    assert set(opened) == {founder.id, ann.id, bob.id}
    assert opened[ann.id].body == \
        "Voting closes Sat, Oct 17, 2026, 5:00 PM (Asia/Manila)."
    assert opened[bob.id].body == "Voting closes Sat, Oct 17, 2026, 9:00 AM (UTC)."
    assert opened[bob.id].link == f"/c/{founder.collective.slug}/proposals/{proposal.id}"
    assert opened[bob.id].created_at == OPENED
    # In-app only by default: nothing was queued to mail.
    assert mailed("notification:proposal-opened") == []

    for voter in (founder, ann, bob):
        proposals.cast_vote(voter, proposal, VoteChoice.AGREE, now=DURING)
    assert proposals.close_due_proposals(founder.collective_id, now=AFTER) == [proposal]
    decided = told("proposal_decided")
    assert set(decided) == {founder.id, ann.id, bob.id}
    assert decided[ann.id].title == f"Decided: {proposal.title} was adopted"
    assert decided[ann.id].body == proposal.outcome != ""
    # Deciding again (another scheduler run) tells nobody twice.
    assert proposals.close_due_proposals(founder.collective_id, now=AFTER) == []
    assert len(told("proposal_decided")) == 3


@pytest.fixture
def claim_setup(ctx):
    """Ann (level 1,000.00) in a fund of three; a second treasurer beside the founder."""
    treasurer, ann, bob = found_fund(3, start=JUL)
    other_treasurer = make_member(treasurer.collective, roles=(Role.MEMBER, Role.TREASURER))
    set_level(ann, 100_000, start=JUL)
    for person in (treasurer, ann, bob):
        deposit(treasurer, person, 20_000, on=JUL)
    seed_fund(treasurer.collective_id, 500_000, on=JUL)
    runs.run_contributions(treasurer.collective_id, JUL, today=RUN_DAY)
    return treasurer, other_treasurer, ann, bob


def test_a_claim_filed_tells_treasurers_only_and_its_decision_the_claimant_only(claim_setup):
    treasurer, other_treasurer, ann, bob = claim_setup
    claim = claims.file_claim(ann, kind="sick", start_period=AUG, months=3, today=TODAY,
                              now=NOW)
    filed = told("claim_filed")
    assert set(filed) == {treasurer.id, other_treasurer.id}  # not Ann, not Bob
    assert filed[treasurer.id].title.startswith(f"{ann.user.name} filed a claim: ")
    assert filed[treasurer.id].link == \
        f"/c/{ann.collective.slug}/fund/claims/{claim.id}"

    claims.decide_claim(treasurer, claim, approve=False, reason="No doctor's note yet.",
                        now=NOW)
    decided = told("claim_decided")
    assert set(decided) == {ann.id}  # privacy: Bob and the treasurers are not told
    assert decided[ann.id].title.startswith("Your claim was not approved: ")
    assert decided[ann.id].body == "Reason: No doctor's note yet."
    # Claim decisions are e-mailed at once by default, to Ann alone.
    [mail] = mailed("notification:claim-decided")
    assert (mail.recipient, mail.user_id) == (ann.user.email, ann.user_id)
    assert "No doctor's note yet." in mail.text_body


@pytest.fixture
def team(ctx):
    """Work found by Cat, done by Ann (3 h) and Bob (1 h); Dan is a member with no part."""
    founder = make_collective()
    ann, bob, cat, dan = (make_member(founder.collective) for _ in range(4))
    pitch = make_pitch(founder, finder=cat)
    move_to(founder, pitch, PitchState.WON)
    log(ann, allocate(founder, pitch, ann, role="lead"), 180)
    log(bob, allocate(founder, pitch, bob, weight=3), 60)
    pitches.transition_pitch(founder, pitch, PitchState.IN_PROGRESS, at=NOW)
    found_rule(founder)
    return founder, ann, bob, cat, dan, pitch


def _pay(founder, pitch, key="pay-1"):
    return payments.record_payment(founder, pitch, amount=10_000, currency="USD",
                                   received_on=date(2026, 10, 5), today=TODAY,
                                   request_key=key)


def test_a_payment_split_tells_each_sharer_their_own_amount_and_nobody_else(team):
    founder, ann, bob, cat, dan, pitch = team
    _pay(founder, pitch)
    split = told("payment_split")
    assert set(split) == {ann.id, bob.id, cat.id}  # not the founder, not Dan: no share
    shares = {m.id: balances.member_balance(m.id)["USD"] for m in (ann, bob, cat)}
    assert len(set(shares.values())) == 3
    for member in (ann, bob, cat):
        note = split[member.id]
        assert note.title == (f"A payment for {pitch.title} brought you "
                              f"{format_money(shares[member.id], 'USD')}")
        assert note.body == ("Split by share rule version 1, from the client's payment "
                             "received on Oct 5, 2026.")
        others = [format_money(v, "USD") for k, v in shares.items() if k != member.id]
        assert not any(o in note.title + note.body for o in others)  # privacy
    # Money is e-mailed at once: one message per sharer, each only to them.
    assert sorted(m.recipient for m in mailed("notification:payment-split")) == \
        sorted(m.user.email for m in (ann, bob, cat))
    # The same form again records nothing and tells nobody again.
    _pay(founder, pitch)
    assert len(told("payment_split")) == 3
    assert len(mailed("notification:payment-split")) == 3


def test_a_payout_tells_its_member_only(team):
    founder, ann, bob, cat, dan, pitch = team
    _pay(founder, pitch)
    owed = balances.member_balance(ann.id)["USD"]
    payouts.pay_member(founder, ann, amount=owed, paid_on=TODAY, request_key="po-1",
                       today=TODAY)
    sent = told("payout_sent")
    assert set(sent) == {ann.id}
    assert sent[ann.id].title == f"A payout of {format_money(owed, 'USD')} was sent to you"
    assert sent[ann.id].body == "Paid on Oct 10, 2026."
    [mail] = mailed("notification:payout")
    assert mail.recipient == ann.user.email
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.headers["List-Unsubscribe"].startswith(
        "<http://collective.test/notifications/unsubscribe/")


def test_paying_everyone_tells_each_their_own_amount(team):
    founder, ann, bob, cat, dan, pitch = team
    _pay(founder, pitch)
    owed = {m.id: balances.member_balance(m.id)["USD"] for m in (ann, bob, cat)}
    payouts.pay_everyone(founder, paid_on=TODAY, reference="BANK-7", request_key="all-1",
                         today=TODAY)
    sent = told("payout_sent")
    assert set(sent) == set(owed)
    for member_id, amount in owed.items():
        assert sent[member_id].title == \
            f"A payout of {format_money(amount, 'USD')} was sent to you"


def test_an_allocation_tells_the_member_once(team):
    founder, ann, bob, cat, dan, pitch = team
    assert set(told("pitch_allocated")) == {ann.id, bob.id}  # the fixture's allocations
    allocate(founder, pitch, dan)
    allocate(founder, pitch, dan, weight=2)  # a change, not a new allocation
    allocated = told("pitch_allocated")
    assert set(allocated) == {ann.id, bob.id, dan.id}
    assert allocated[dan.id].title == f"You were allocated to {pitch.title} as contributor"
    assert allocated[dan.id].link == f"/c/{founder.collective.slug}/pool/pitches/{pitch.id}"


def test_the_same_event_twice_is_one_notification_and_one_mail(ctx):
    founder, ann = _members(2)
    first = notify(ann, kind="payout_sent", event_key="test:1", title="Paid", now=NOW)
    second = notify(ann, kind="payout_sent", event_key="test:1", title="Paid again", now=NOW)
    assert first is not None and second is None
    assert [n.title for n in told("payout_sent").values()] == ["Paid"]
    assert len(mailed("notification:test:1")) == 1


def test_a_change_that_rolls_back_notifies_nobody(team):
    founder, ann, bob, cat, dan, pitch = team
    commit()
    before = db.session.scalar(sa.select(sa.func.count(Notification.id)))
    with pytest.raises(RuntimeError), transaction():
        _pay(founder, pitch)
        assert len(told("payment_split")) == 3
        raise RuntimeError("the request failed after the payment")
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == before
    assert told("payment_split") == {}
    assert mailed("notification:payment-split") == []


def test_a_day_before_the_deadline_only_members_who_have_not_voted_are_reminded_once(ctx):
    founder, ann, bob = _members(3)
    proposal = rules.propose_share_rule(founder, PROPOSED, effective_on=date(2026, 11, 1),
                                        deadline_at=DEADLINE, today=OPENED.date(), now=OPENED)
    proposals.cast_vote(founder, proposal, VoteChoice.AGREE, now=DURING)
    assert proposals.remind_voters(DEADLINE - timedelta(hours=25)) == []  # not yet
    assert told("proposal_closing") == {}
    day_before = DEADLINE - timedelta(hours=23)
    assert proposals.remind_voters(day_before) == [proposal]
    proposals.cast_vote(ann, proposal, VoteChoice.AGREE, now=day_before)
    proposals.remind_voters(day_before + timedelta(minutes=10))  # the next run
    closing = told("proposal_closing")
    assert set(closing) == {ann.id, bob.id}  # the founder had voted
    assert closing[bob.id].title == f"Your vote is missing: {proposal.title}"
    assert proposals.remind_voters(AFTER) == []  # past the deadline: nothing


def test_the_scheduler_runs_the_digest_and_the_vote_reminders(app):
    from collective.scheduling import build_scheduler

    jobs = {job.id for job in build_scheduler(app, blocking=False).get_jobs()}
    assert {"notification-digest", "reminders", "mail-outbox"} <= jobs


def test_a_fund_run_tells_the_treasurers_only_once(ctx):
    treasurer, ann, bob = found_fund(3, start=JUL)
    other_treasurer = make_member(treasurer.collective, roles=(Role.MEMBER, Role.TREASURER))
    for person in (treasurer, ann, bob):
        deposit(treasurer, person, 20_000, on=JUL)
    runs.run(treasurer.collective_id, "contributions", JUL, today=RUN_DAY)
    runs.run(treasurer.collective_id, "contributions", JUL, today=RUN_DAY)  # already done
    runs.run(treasurer.collective_id, "payouts", JUL, today=RUN_DAY, dry_run=True)
    done = told("fund_run")
    assert set(done) == {treasurer.id, other_treasurer.id}  # not Ann, not Bob
    assert done[treasurer.id].title == "Fund run done: contributions for Jul 2026"
    assert done[treasurer.id].body.startswith("Total $")


def test_failed_fund_runs_tell_the_treasurers_once_a_day(ctx):
    from collective.benefits import notices

    treasurer, ann = _members(2)
    for _ in range(2):
        notices.fund_runs_failed(treasurer.collective_id, RUN_DAY, "OperationalError: gone")
    failed = told("fund_run")
    assert set(failed) == {treasurer.id}
    assert failed[treasurer.id].body.endswith("Error: OperationalError: gone")


def test_work_due_within_three_days_tells_the_members_on_it_once(ctx):
    from collective.pool import pitches as pitch_service
    from collective.pool.notices import send_reminders
    from tests.pool.factories import make_client

    founder, ann, bob, dan = _members(4)
    pitch = pitch_service.create_pitch(
        founder, client_id=make_client(founder).id, title="Brochure", value_amount=100_000,
        value_currency="USD", deadline_on=date(2026, 10, 20), today=TODAY, at=NOW)
    move_to(founder, pitch, PitchState.WON)
    allocate(founder, pitch, ann)
    allocate(founder, pitch, bob)
    far = datetime(2026, 10, 16, 12, 0, tzinfo=UTC)  # four days before
    assert send_reminders(far) == (0, 0)
    assert told("work_deadline") == {}
    near = datetime(2026, 10, 17, 12, 0, tzinfo=UTC)
    assert send_reminders(near) == (0, 1)
    send_reminders(near + timedelta(hours=1))  # the next run tells nobody again
    due = told("work_deadline")
    assert set(due) == {ann.id, bob.id}  # not Dan, not the founder: not on it
    assert due[ann.id].title == "Brochure is due in 3 days"
    assert due[ann.id].body == "The deadline is Oct 20, 2026."


def test_a_contribution_owed_then_settled_tells_that_member_only(ctx):
    treasurer, ann, bob = found_fund(3)
    cid = treasurer.collective_id
    deposit(treasurer, treasurer, 10_000)
    deposit(treasurer, bob, 10_000)
    deposit(treasurer, ann, 1_000)
    runs.run(cid, "contributions", date(2026, 1, 1), today=RUN_DAY)
    owed = told("contribution")
    assert set(owed) == {ann.id}  # privacy: Bob and the treasurer paid and hear nothing
    assert owed[ann.id].title == "Your fund contribution is owed (Jan 2026)"
    assert owed[ann.id].body.startswith("$22.50 of your Jan 2026 contribution could not be")
    assert [m.recipient for m in mailed("notification:contribution")] == [ann.user.email]

    deposit(treasurer, ann, 5_000, on=date(2026, 2, 3))
    runs.run(cid, "contributions", date(2026, 2, 1), today=RUN_DAY)
    settled = [n for n in db.session.scalars(sa.select(Notification).filter_by(
        kind="contribution", membership_id=ann.id).order_by(Notification.id))][-1]
    assert settled.title == "Your owed fund contribution was settled (Feb 2026)"
    assert settled.body == "$22.50 you owed the fund from earlier months was settled."
    assert {n.membership_id for n in db.session.scalars(sa.select(Notification).filter_by(
        kind="contribution").where(Notification.membership_id.in_([bob.id, treasurer.id])))
    } == set()
