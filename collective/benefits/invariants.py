"""The fund's invariants: the members' reserves add up to what the fund holds for them, what
each member owes the fund (as the runs count it) is what their receivable holds, and no run
takes a reserve below zero.

A reserve is a member's contributions (and settled arrears), less what was returned to them
(above the cap, or on leaving) and the gifts they made towards others' benefits. The part of
a gift a reserve could not cover is not taken from it: the donor owes it to the fund (run
lines 'debt'), until their contributions pay it back ('debt-paid'). Contributions a member's
payable could not cover are owed too (run lines 'owed', until 'settled'). The fund account (a
liability: the members' money held for them) holds what the runs put into it; each member's
receivable (receivables.py) holds what they owe it, both kinds; the old aggregate receivable
FUND_OWED counts with them (its balance moved to the members' receivables in migration
0019); FUND_DUE holds the contributions owed and not paid. Every benefit paid is split into
gifts from that month's donors, so the sums stay equal, to the cent.

Money put into the fund account outside the runs (an opening donation, say) belongs to no
member; it is reported beside the check, not inside it.

`check_run` guards each run: a run that would change the gap between the two is refused
with a DomainError, so the caller's transaction rolls back and nothing is posted (a wrong
posting is worse than a late one; the refusal names the month, and the scheduler logs it and
tries again next time). `reserve_problems` is registered into `flask ledger check`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa

from collective.benefits.models import BenefitRun, RunLine, RunLineKind
from collective.benefits.plans import collectives_with_plans
from collective.benefits.receivables import owed_by_members, receivable_accounts
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger import totals as ledger_totals
from collective.ledger.models import EntryKind, Posting
from collective.members.services import base_currency
from collective.money import format_money

log = logging.getLogger(__name__)

#: The entries the runs post to the fund account (the money held for members).
RUN_ENTRY_KINDS = (EntryKind.CONTRIBUTION, EntryKind.BENEFIT, EntryKind.CONTRIBUTION_RETURN)
#: How each kind of run line moves a reserve (as reserve_sums.reserves counts it).
_ADDS = (RunLineKind.CONTRIBUTION, RunLineKind.SETTLED, RunLineKind.DEBT)
_TAKES = (RunLineKind.RETURN, RunLineKind.GIFT, RunLineKind.DEBT_PAID, RunLineKind.LEAVING)


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
    #: What members owe the fund for gifts and for contributions (from the run lines), and
    #: what the receivables hold (the members' and the old aggregate one).
    debts: int = 0
    owed_held: int = 0
    #: Contributions owed and not paid (from the run lines), and what FUND_DUE holds.
    arrears: int = 0
    due_held: int = 0
    #: Members whose receivable holds other than what the runs say they owe:
    #: (membership id, owed by the runs, held by the receivable).
    mismatched: tuple[tuple[int, int, int], ...] = ()
    #: Members whose reserve is below zero, by membership id.
    negative: tuple[tuple[int, int], ...] = ()
    #: Each member's (reserve, gift debt, contributions in arrears), from the run lines: the
    #: figures a contribution run starts from.
    by_member: dict[int, tuple[int, int, int]] = field(default_factory=dict, compare=False,
                                                       repr=False)

    @property
    def gap(self) -> int:
        """What the fund holds for members beyond (or, negative, short of) their reserves."""
        return self.held - self.reserves

    @property
    def debt_gap(self) -> int:
        """What the receivables hold beyond (or short of) what members owe."""
        return self.owed_held - self.debts - self.arrears

    @property
    def due_gap(self) -> int:
        """What FUND_DUE holds beyond (or short of) the contributions owed."""
        return self.due_held - self.arrears

    @property
    def member_gaps(self) -> dict[int, int]:
        """What each mismatched member's receivable holds beyond (or short of) what they owe."""
        return {member: held - owed for member, owed, held in self.mismatched}

    @property
    def ok(self) -> bool:
        """True when the reserves add up to what the fund holds for the members, and each
        member's receivable holds what they owe."""
        return (self.gap == 0 and self.debt_gap == 0 and self.due_gap == 0
                and not self.mismatched)

    def describe(self) -> str:
        """The check in words, with the amounts."""
        money = lambda amount: format_money(amount, self.currency)  # noqa: E731
        words = (f"members' reserves add up to {money(self.reserves)}; the runs left "
                 f"{money(self.held)} in the fund")
        if self.other:
            words += f" (besides {money(self.other)} put in outside the runs)"
        if self.debts or self.arrears or self.owed_held:
            words += (f"; members owe the fund {money(self.debts)} for gifts and "
                      f"{money(self.arrears)} in contributions, and the receivables hold "
                      f"{money(self.owed_held)}")
        if self.due_held != self.arrears:
            words += f"; contributions due hold {money(self.due_held)}"
        for member, owed, held in self.mismatched[:5]:
            words += (f"; membership {member} owes {money(owed)} but their receivable holds "
                      f"{money(held)}")
        return words


def reserve_check(collective_id: int) -> ReserveCheck:
    """Sum the members' reserves, debts and arrears (from the run lines) and what the fund,
    the contributions due and each member's receivable hold (from the postings)."""
    reserve = sa.case((RunLine.kind.in_(_ADDS), RunLine.amount),
                      (RunLine.kind.in_(_TAKES), -RunLine.amount), else_=0)
    debt = sa.case((RunLine.kind == RunLineKind.DEBT, RunLine.amount),
                   (RunLine.kind == RunLineKind.DEBT_PAID, -RunLine.amount), else_=0)
    arrears = sa.case((RunLine.kind == RunLineKind.OWED, RunLine.amount),
                      (RunLine.kind == RunLineKind.SETTLED, -RunLine.amount), else_=0)
    by_member = db.session.execute(
        sa.select(RunLine.membership_id, sa.func.sum(reserve), sa.func.sum(debt),
                  sa.func.sum(arrears))
        .join(BenefitRun, BenefitRun.id == RunLine.run_id)
        .where(BenefitRun.collective_id == collective_id)
        .group_by(RunLine.membership_id).order_by(RunLine.membership_id)).all()
    currency = base_currency(collective_id)
    fund = ledger.account_by_code(collective_id, ledger.BENEFITS_FUND)
    owed = ledger.account_by_code(collective_id, ledger.FUND_OWED)
    due = ledger.account_by_code(collective_id, ledger.FUND_DUE)
    # What the three accounts hold, by whether a run's entry moved it: from the ledger
    # totals (exactly the postings; the fund's account takes one for every contribution).
    run_kinds = {kind.value for kind in RUN_ENTRY_KINDS}
    totals: dict[tuple[int, bool], int] = {}
    for account, kind, debits, credits, _ in ledger_totals.read_totals(
            collective_id, ["account_id", "kind"], accounts=[fund.id, owed.id, due.id],
            currency=currency):
        key = (account, str(kind) in run_kinds)
        totals[key] = totals.get(key, 0) + debits - credits
    held_by = {m: a + d for m, (a, d) in owed_by_members(collective_id).items()}
    owes = {m: int(d or 0) + int(a or 0) for m, _, d, a in by_member}
    mismatched = tuple((m, owes.get(m, 0), held_by.get(m, 0))
                       for m in sorted(set(owes) | set(held_by))
                       if owes.get(m, 0) != held_by.get(m, 0))
    # The fund and FUND_DUE are credit-normal (what they hold is the negated sum of their
    # postings); the receivables are debit-normal. Only the runs' entries move the fund.
    held = lambda account: totals.get((account, True), 0) + totals.get((account, False), 0)  # noqa: E731
    return ReserveCheck(
        collective_id, currency,
        reserves=sum(int(r or 0) for _, r, _, _ in by_member),
        held=-totals.get((fund.id, True), 0), other=-totals.get((fund.id, False), 0),
        debts=sum(int(d or 0) for _, _, d, _ in by_member),
        owed_held=held(owed.id) + sum(held_by.values()),
        arrears=sum(int(a or 0) for _, _, _, a in by_member), due_held=-held(due.id),
        mismatched=mismatched,
        negative=tuple((m, int(r)) for m, r, _, _ in by_member if r is not None and r < 0),
        by_member={m: (int(r or 0), int(d or 0), int(a or 0)) for m, r, d, a in by_member})


def after_run(before: ReserveCheck, run_id: int, entry_count: int) -> ReserveCheck | None:
    """The check after the run `run_id`, from `before` and what that run wrote (its lines,
    and the postings of the entries its lines name), so its cost follows the run, not the
    fund's history; None when some entry of the run has no line (then only a full check
    can see it). Runs of a collective are serialised by its balance lock, and nothing else
    writes run lines or posts the fund's run entries."""
    sums = (sa.func.sum(sa.case((RunLine.kind.in_(_ADDS), RunLine.amount),
                                (RunLine.kind.in_(_TAKES), -RunLine.amount), else_=0)),
            sa.func.sum(sa.case((RunLine.kind == RunLineKind.DEBT, RunLine.amount),
                                (RunLine.kind == RunLineKind.DEBT_PAID, -RunLine.amount),
                                else_=0)),
            sa.func.sum(sa.case((RunLine.kind == RunLineKind.OWED, RunLine.amount),
                                (RunLine.kind == RunLineKind.SETTLED, -RunLine.amount),
                                else_=0)))
    lines = db.session.execute(sa.select(RunLine.membership_id, *sums)
                               .where(RunLine.run_id == run_id)
                               .group_by(RunLine.membership_id)).all()
    entries = sa.select(RunLine.entry_id).where(RunLine.run_id == run_id,
                                                RunLine.entry_id.is_not(None)).distinct()
    named = db.session.scalar(sa.select(sa.func.count()).select_from(entries.subquery()))
    if named != entry_count:
        return None
    moved = dict(db.session.execute(
        sa.select(Posting.account_id, sa.func.sum(Posting.amount))
        .where(Posting.entry_id.in_(entries), Posting.currency == before.currency)
        .group_by(Posting.account_id)).all())
    fund = ledger.account_by_code(before.collective_id, ledger.BENEFITS_FUND).id
    owed = ledger.account_by_code(before.collective_id, ledger.FUND_OWED).id
    due = ledger.account_by_code(before.collective_id, ledger.FUND_DUE).id
    receivable_of = {account: member for member, account in
                     receivable_accounts(before.collective_id).items()}
    figures = dict(before.by_member)
    for member, reserve, debt, arrears in lines:
        was = figures.get(member, (0, 0, 0))
        figures[member] = (was[0] + int(reserve or 0), was[1] + int(debt or 0),
                           was[2] + int(arrears or 0))
    held_by_moves: dict[int, int] = {}
    for account, amount in moved.items():
        if account in receivable_of:
            held_by_moves[receivable_of[account]] = int(amount)
    # What each member's receivable held before: what they owed, unless it was off.
    held_before = {m: held for m, _, held in before.mismatched}
    touched = ({m for m, *_ in lines} | set(held_by_moves)
               | {m for m, _, _ in before.mismatched})
    mismatched = []
    for member in sorted(touched):
        reserve, debt, arrears = figures.get(member, (0, 0, 0))
        was = before.by_member.get(member, (0, 0, 0))
        held = held_before.get(member, was[1] + was[2]) + held_by_moves.get(member, 0)
        if debt + arrears != held:
            mismatched.append((member, debt + arrears, held))
    delta = lambda account: int(moved.get(account, 0))  # noqa: E731
    return ReserveCheck(
        before.collective_id, before.currency,
        reserves=sum(r for r, _, _ in figures.values()),
        held=before.held - delta(fund), other=before.other,
        debts=sum(d for _, d, _ in figures.values()),
        owed_held=before.owed_held + delta(owed) + sum(held_by_moves.values()),
        arrears=sum(a for _, _, a in figures.values()),
        due_held=before.due_held - delta(due), mismatched=tuple(mismatched),
        negative=tuple((m, r) for m, (r, _, _) in sorted(figures.items()) if r < 0),
        by_member=figures)


def check_run(before: ReserveCheck, what: str, after: ReserveCheck | None = None) -> None:
    """Refuse the run just written (raising, so the caller rolls it back) if it changed the
    gap between the reserves and the fund, or between what members owe and the receivables
    or the contributions due, or left a member's receivable off what they owe (it would
    have moved money no reserve or debt accounts for), or took a reserve below zero (or
    further below, for one left from before gifts were limited). `after` is the check after
    the run if the caller has it (after_run); else it is read whole."""
    if after is None:
        after = reserve_check(before.collective_id)
    was = dict(before.negative)
    lower = [m for m, r in after.negative if r < was.get(m, 0)]
    if lower:
        log.error("fund invariant: %s refused for collective %s: reserves below zero %s",
                  what, before.collective_id, lower)
        raise FundOutOfBalance(f"{what} was not posted: it would take the reserve of "
                               f"membership {lower[0]} below zero", field="period")
    if (after.gap == before.gap and after.debt_gap == before.debt_gap
            and after.due_gap == before.due_gap
            and after.member_gaps == before.member_gaps):
        return
    log.error("fund invariant: %s refused for collective %s: %s", what,
              before.collective_id, after.describe())
    moved = format_money(after.gap - before.gap + after.debt_gap - before.debt_gap
                         + after.due_gap - before.due_gap, after.currency)
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
