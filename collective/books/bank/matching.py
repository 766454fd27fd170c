"""Matching statement lines to the ledger: a small registry of matchers. Each matcher
suggests targets for lines and knows how to confirm one (returning the journal entry the
line is then linked to). A line is matched at most once; an entry matches at most one line.

Matchers here: recorded ledger movements on the bank account (payouts out, client payments
in) by amount and date, and known fees by rule. Another package adds its own (the invoices:
amount and the invoice number in the reference) with `register_matcher` at start-up.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.books.bank.models import BankAccount, BankLine, FeeRule
from collective.books.bank.services import check_line_open
from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind, JournalEntry, Posting
from collective.members.models import Membership
from collective.members.services import require_role
from collective.pool.checks import TREASURER, same_collective

#: How many days apart a statement line and a ledger entry may be dated and still match.
DATE_WINDOW = timedelta(days=4)


@dataclass(frozen=True)
class Suggestion:
    """A possible match for a line: which matcher, what target (an entry id, a rule id...)."""

    matcher: str
    target: int
    label: str
    detail: str = ""
    #: Smaller is better: days apart for entries, 0 for exact rules.
    distance: int = 0


class Matcher(Protocol):
    """What a matcher does: suggest targets for lines, and confirm one."""

    name: str

    def suggest(self, account: BankAccount, lines: list[BankLine]
                ) -> dict[int, list[Suggestion]]:
        """Suggestions per line id, for the unresolved `lines` of one bank account."""

    def confirm(self, actor: Membership, account: BankAccount, line: BankLine,
                target: int) -> JournalEntry:
        """The entry the line is to be linked to (posting it if the match means a new one);
        DomainError when `target` is no match for `line`."""


MATCHERS: dict[str, Matcher] = {}


def register_matcher(matcher: Matcher) -> None:
    """Offer a matcher's suggestions on the statement lines page."""
    MATCHERS[matcher.name] = matcher


class LedgerMovementMatcher:
    """Entries already in the ledger that moved the bank account by the line's amount,
    within DATE_WINDOW of its date and linked to no other line: `outgoing` for payouts
    (entries that credited the bank), otherwise client payments (that debited it)."""

    def __init__(self, name: str, outgoing: bool, label: str) -> None:
        self.name, self.outgoing, self.label = name, outgoing, label

    def _wanted(self, line: BankLine) -> bool:
        return (line.amount < 0) == self.outgoing

    def _candidates(self, account: BankAccount, lines: list[BankLine]) -> list:
        wanted = [ln for ln in lines if self._wanted(ln)]
        if not wanted:
            return []
        linked = sa.select(BankLine.entry_id).where(BankLine.entry_id.is_not(None))
        reversal = so.aliased(JournalEntry)
        reversed_ = sa.exists().where(reversal.reverses_id == JournalEntry.id)
        first = min(ln.booked_on for ln in wanted) - DATE_WINDOW
        last = max(ln.booked_on for ln in wanted) + DATE_WINDOW
        return db.session.execute(
            sa.select(JournalEntry.id, JournalEntry.occurred_on, JournalEntry.kind,
                      JournalEntry.memo, Posting.amount)
            .join(Posting, Posting.entry_id == JournalEntry.id)
            .where(JournalEntry.collective_id == account.collective_id,
                   Posting.account_id == account.ledger_account_id,
                   Posting.currency == account.currency,
                   Posting.amount.in_({ln.amount for ln in wanted}),
                   JournalEntry.occurred_on.between(first, last),
                   JournalEntry.reverses_id.is_(None), ~reversed_,
                   JournalEntry.id.not_in(linked))
            .order_by(JournalEntry.occurred_on, JournalEntry.id)).all()

    def suggest(self, account, lines):
        found: dict[int, list[Suggestion]] = defaultdict(list)
        candidates = self._candidates(account, lines)
        for line in lines:
            if not self._wanted(line):
                continue
            for entry_id, occurred_on, kind, memo, amount in candidates:
                apart = abs((occurred_on - line.booked_on).days)
                if amount == line.amount and apart <= DATE_WINDOW.days:
                    found[line.id].append(Suggestion(
                        self.name, entry_id, f"{self.label}: entry {entry_id} ({kind})",
                        f"{occurred_on.isoformat()} {memo}"[:200], apart))
        return found

    def confirm(self, actor, account, line, target):
        if not any(s.target == target for s in self.suggest(account, [line]).get(line.id, [])):
            raise DomainError(f"entry {target} does not match this line (amount, date, or it "
                              "is matched to another line)", field="target")
        return db.session.get(JournalEntry, target)


def fee_key(line: BankLine) -> str:
    """Idempotency key of the expense entry a fee line posts."""
    return f"bank-fee:{line.id}"


class FeeRuleMatcher:
    """Money out whose description or reference holds a fee rule's text: confirming posts
    the expense (debit the rule's account, credit the bank) dated the line's date."""

    name = "fee"

    def _rules(self, collective_id: int) -> list[FeeRule]:
        return list(db.session.scalars(sa.select(FeeRule).filter_by(collective_id=collective_id)
                                       .order_by(FeeRule.id)))

    @staticmethod
    def _applies(rule: FeeRule, line: BankLine) -> bool:
        text = f"{line.description} {line.reference}".lower()
        return line.amount < 0 and rule.pattern.lower() in text

    def suggest(self, account, lines):
        rules = self._rules(account.collective_id)
        found: dict[int, list[Suggestion]] = defaultdict(list)
        for line in lines:
            for rule in rules:
                if self._applies(rule, line):
                    found[line.id].append(Suggestion(
                        self.name, rule.id, f"Fee \u201c{rule.pattern}\u201d",
                        f"post to {rule.expense_account.code} {rule.expense_account.name}"))
        return found

    def confirm(self, actor, account, line, target):
        rule = db.session.get(FeeRule, target)
        if rule is None or rule.collective_id != line.collective_id:
            raise NotFound("no such fee rule in this collective")
        if not self._applies(rule, line):
            raise DomainError(f"the rule \u201c{rule.pattern}\u201d does not apply to this "
                              "line", field="target")
        return ledger.post_entry(
            line.collective_id, kind=EntryKind.EXPENSE, occurred_on=line.booked_on,
            idempotency_key=fee_key(line), created_by_id=actor.user_id,
            memo=f"Bank fee: {line.description or line.reference}"[:500],
            lines=[ledger.Line(rule.expense_account_id, -line.amount, account.currency),
                   ledger.Line(account.ledger_account_id, line.amount, account.currency)])


register_matcher(LedgerMovementMatcher("payout", True, "Payout"))
register_matcher(LedgerMovementMatcher("payment", False, "Client payment"))
register_matcher(FeeRuleMatcher())


def suggestions(account: BankAccount, lines: list[BankLine]) -> dict[int, list[Suggestion]]:
    """Every matcher's suggestions for the unresolved lines, best first, per line id."""
    open_lines = [ln for ln in lines if not ln.is_resolved]
    found: dict[int, list[Suggestion]] = defaultdict(list)
    if not open_lines:
        return found
    for matcher in MATCHERS.values():
        for line_id, items in matcher.suggest(account, open_lines).items():
            found[line_id].extend(items)
    for items in found.values():
        items.sort(key=lambda s: (s.distance, s.matcher, s.target))
    return found


def confirm_match(actor: Membership, line: BankLine, matcher_name: str, target: int, *,
                  now: datetime) -> JournalEntry:
    """Link the line to the entry a matcher confirms for `target`; the entry must move the
    bank account by exactly the line's amount and be linked to no other line."""
    require_role(actor, TREASURER, action="match statement lines")
    same_collective(actor, line, "statement line")
    matcher = MATCHERS.get(matcher_name)
    if matcher is None:
        raise DomainError("no such kind of match", field="matcher")
    # Two treasurers confirming the same line: the second waits here, then sees it resolved.
    db.session.execute(sa.select(BankLine.id).where(BankLine.id == line.id).with_for_update())
    db.session.refresh(line)
    if line.is_resolved:
        raise Conflict("this line is matched or explained already", field="line")
    check_line_open(line)
    account = db.session.get(BankAccount, line.bank_account_id)
    entry = matcher.confirm(actor, account, line, target)
    moved = sum(p.amount for p in entry.postings
                if p.account_id == account.ledger_account_id and p.currency == account.currency)
    if entry.collective_id != line.collective_id or moved != line.amount:
        raise DomainError(f"entry {entry.id} does not move the bank by this line's amount",
                          field="target")
    if db.session.scalar(sa.select(BankLine.id).filter_by(entry_id=entry.id)):
        raise Conflict(f"entry {entry.id} is matched to another line already", field="target")
    line.entry_id, line.resolved_at, line.resolved_by_id = entry.id, now, actor.user_id
    db.session.flush()
    return entry
