"""The fund's invariant: the members' reserves add up to what the fund holds for them.

A reserve is a member's contributions (and settled arrears), less what was returned to them
above the cap and the gifts they made towards others' benefits. The fund holds for its
members what the runs put into it: contributions in, returns and benefits out. Every benefit
paid is split into gifts from that month's donors, so the two stay equal, to the cent.

Money put into the fund account outside the runs (an opening donation, say) belongs to no
member; it is reported beside the check, not inside it. How the fund carries such money (and
members' reserves as a liability) is a later change.

`check_run` guards each run: a run that would change the gap between the two is refused
with a DomainError, so the caller's transaction rolls back and nothing is posted (a wrong
posting is worse than a late one; the refusal names the month, and the scheduler logs it and
tries again next time). `reserve_problems` is registered into `flask ledger check`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from collective.benefits.models import BenefitRun, RunLine, RunLineKind
from collective.benefits.plans import collectives_with_plans
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind, JournalEntry, Posting
from collective.members.services import base_currency
from collective.money import format_money

log = logging.getLogger(__name__)

#: The entries the runs post to the fund account (the money held for members).
RUN_ENTRY_KINDS = (EntryKind.CONTRIBUTION, EntryKind.BENEFIT, EntryKind.CONTRIBUTION_RETURN)
#: How each kind of run line moves a reserve (as compute.reserves counts it).
_ADDS = (RunLineKind.CONTRIBUTION, RunLineKind.SETTLED)
_TAKES = (RunLineKind.RETURN, RunLineKind.GIFT)


class FundOutOfBalance(DomainError):
    """A run would leave the members' reserves not adding up to what the fund holds."""


@dataclass(frozen=True)
class ReserveCheck:
    """The members' reserves against the fund, for one collective, in base minor units."""

    collective_id: int
    currency: str
    #: The sum of every member's reserve (from the run lines).
    reserves: int
    #: What the runs' entries left in the fund account (from the ledger).
    held: int
    #: What other entries put into the fund account (no member's money).
    other: int

    @property
    def gap(self) -> int:
        """What the fund holds for members beyond (or, negative, short of) their reserves."""
        return self.held - self.reserves

    @property
    def ok(self) -> bool:
        """True when the reserves add up to what the fund holds for the members."""
        return self.gap == 0

    def describe(self) -> str:
        """The check in words, with the amounts."""
        money = lambda amount: format_money(amount, self.currency)  # noqa: E731
        words = (f"members' reserves add up to {money(self.reserves)}; the runs left "
                 f"{money(self.held)} in the fund")
        if self.other:
            words += f" (besides {money(self.other)} put in outside the runs)"
        return words


def reserve_check(collective_id: int) -> ReserveCheck:
    """Sum the members' reserves and what the runs left in the fund, in two queries."""
    signed = sa.case((RunLine.kind.in_(_ADDS), RunLine.amount),
                     (RunLine.kind.in_(_TAKES), -RunLine.amount), else_=0)
    reserves = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(signed), 0))
        .join(BenefitRun, BenefitRun.id == RunLine.run_id)
        .where(BenefitRun.collective_id == collective_id))
    currency = base_currency(collective_id)
    fund = ledger.account_by_code(collective_id, ledger.BENEFITS_FUND)
    is_run = JournalEntry.kind.in_([kind.value for kind in RUN_ENTRY_KINDS])
    rows = db.session.execute(
        sa.select(is_run.label("is_run"), sa.func.sum(Posting.amount))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.account_id == fund.id, Posting.currency == currency)
        .group_by(is_run)).all()
    # The fund is credit-normal: what it holds is the negated sum of its postings.
    by_kind = {bool(flag): -int(total or 0) for flag, total in rows}
    return ReserveCheck(collective_id, currency, int(reserves), by_kind.get(True, 0),
                        by_kind.get(False, 0))


def check_run(before: ReserveCheck, what: str) -> None:
    """Refuse the run just written (raising, so the caller rolls it back) if it changed the
    gap between the reserves and the fund: it would have moved money no reserve accounts for."""
    after = reserve_check(before.collective_id)
    if after.gap == before.gap:
        return
    log.error("fund invariant: %s refused for collective %s: %s", what,
              before.collective_id, after.describe())
    moved = format_money(after.gap - before.gap, after.currency)
    raise FundOutOfBalance(
        f"{what} was not posted: it would move {moved} in or out of the fund that no "
        f"member's reserve accounts for ({after.describe()})", field="period")


def reserve_problems(collective_id: int | None = None) -> list[str]:
    """For `flask ledger check`: each collective (or the one) whose members' reserves do not
    add up to what the runs left in its fund, in words."""
    ids = ([collective_id] if collective_id is not None
           else [cid for cid, _, _ in collectives_with_plans()])
    return [f"collective {check.collective_id}: {check.describe()}"
            for check in map(reserve_check, ids) if not check.ok]
