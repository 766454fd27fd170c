"""The governance and benefits test world of the API: a fund with two months of
contributions behind it, a share rule, open, decided and overdue proposals, a pending claim,
and another collective beside it whose objects our founder's token must not reach.

Everything is dated from the real today (the API works it out from the clock), so the
months run and the claims filed are always ones the services accept."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from collective.api import tokens
from collective.benefits import claims, runs
from collective.benefits.compute import add_months, month_start
from collective.clock import now_utc, today_in
from collective.extensions import db, limiter
from collective.members import proposals
from collective.members.models import Role
from collective.pool import rules
from tests.benefits.factories import deposit, found_fund, plan, set_level
from tests.factories import commit, make_member
from tests.pool.factories import found_rule


@dataclass
class GovWorld:
    """Ids and secrets of the world (its rows belong to the set-up's session)."""

    founder: str
    read_only: str
    ann: str
    bob: str
    ann_id: int
    rule_id: int
    plan_id: int
    open_id: int
    decided_id: int
    overdue_id: int
    claim_id: int
    run_ids: list[int]
    their_rule_id: int
    their_plan_id: int
    their_proposal_id: int
    their_claim_id: int
    their_run_id: int


def _fund(slug: str, first):
    """A fund of three (founder, then two plain members) with its plan from `first`, a
    deposit and a level each, and `first`'s and the next month's contributions run."""
    people = found_fund(size=3, slug=slug, terms=plan(eligibility_months=1), start=first)
    founder = people[0]
    for person in people:
        deposit(founder, person, 20_000, on=first, today=today_in("UTC"))
        set_level(person, 500_00, start=first)
    today = today_in("UTC")
    made = [runs.run_contributions(founder.collective_id, month, today=today).run
            for month in (first, add_months(first, 1))]
    found_rule(founder)
    return people, [run.id for run in made]


@pytest.fixture
def gov(app, setup) -> GovWorld:
    """Ours and theirs; our founder is a treasurer in theirs too, so only the collective
    in the URL keeps their objects out of reach."""
    limiter.reset()
    with setup():
        now, today = now_utc(), today_in("UTC")
        first = add_months(month_start(today), -2)
        (founder, ann, bob), run_ids = _fund("ours", first)
        (their_founder, their_ann, _), their_runs = _fund("theirs", first)
        make_member(their_founder.collective, user=founder.user,
                    roles=(Role.MEMBER, Role.COORDINATOR, Role.TREASURER))

        def rule_proposal(author, **kwargs):
            return rules.propose_share_rule(
                author, rules.terms_from(800, 500, "weights"),
                effective_on=add_months(month_start(today), 1), today=today, now=now,
                **kwargs)

        open_one = rule_proposal(founder)
        decided = rule_proposal(founder, deadline_at=now + timedelta(hours=1))
        proposals.decide_proposal(decided, now + timedelta(hours=2))
        overdue = rule_proposal(founder, deadline_at=now + timedelta(hours=1))
        overdue.deadline_at = now - timedelta(minutes=1)  # the scheduler has not come by
        claim = claims.file_claim(ann, kind="unpaid_invoice", start_period=today,
                                  invoice_amount=40_000, today=today, now=now)
        their_claim = claims.file_claim(their_ann, kind="unpaid_invoice", start_period=today,
                                        invoice_amount=40_000, today=today, now=now)
        user = founder.user

        def token(owner=user, **kwargs) -> str:
            return tokens.create_token(owner, name="script", now=now, **kwargs)[1]

        made = GovWorld(
            founder=token(), read_only=token(is_read_only=True), ann=token(ann.user),
            bob=token(bob.user), ann_id=ann.id,
            rule_id=rules.rule_in_force(founder.collective_id, today).id,
            plan_id=_plan_id(founder.collective_id), open_id=open_one.id,
            decided_id=decided.id, overdue_id=overdue.id, claim_id=claim.id,
            run_ids=run_ids,
            their_rule_id=rules.rule_in_force(their_founder.collective_id, today).id,
            their_plan_id=_plan_id(their_founder.collective_id),
            their_proposal_id=rule_proposal(their_founder).id,
            their_claim_id=their_claim.id, their_run_id=their_runs[0])
        db.session.flush()
        commit()
    return made


def _plan_id(collective_id: int) -> int:
    from collective.benefits.plans import plans_of

    return plans_of(collective_id, limit=1)[0].id
