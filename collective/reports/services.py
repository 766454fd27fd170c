"""Member statements and the collective's financial statements, from the ledger."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from collective.ledger import balances, totals
from collective.ledger import services as ledger
from collective.ledger.models import AccountType, EntryKind
from collective.members.models import Membership
from collective.reports.exports import Amounts, LedgerQuery, iter_rows, safe_text

#: What each kind of entry means on a member's statement.
KIND_LABELS = {EntryKind.PAYMENT: "Share of a client payment",
               EntryKind.PAYOUT: "Paid out to you",
               EntryKind.CONTRIBUTION: "Benefits fund contribution",
               EntryKind.BENEFIT: "Benefit received",
               EntryKind.CONTRIBUTION_RETURN: "Reserve returned",
               EntryKind.DEPOSIT: "Deposit you paid in",
               EntryKind.REVERSAL: "Correction (reversal)",
               EntryKind.OPENING: "Opening balance"}


@dataclass
class StatementLine:
    """One movement on a member's account; amount > 0 adds to what they are owed."""

    occurred_on: date
    entry_id: int
    kind: str
    memo: str
    amount: int
    balance: int

    @property
    def label(self) -> str:
        """What the movement was, in words."""
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass
class Statement:
    """A member's statement for a period: opening balance, every movement, closing balance."""

    member_name: str
    collective_name: str
    currency: str
    date_from: date
    date_to: date
    opening: int
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def closing(self) -> int:
        """What the collective owed the member at the end of the period."""
        return self.lines[-1].balance if self.lines else self.opening

    def total(self, *kinds: str) -> int:
        """Sum of the movements of these kinds."""
        return sum(line.amount for line in self.lines if line.kind in kinds)


def member_statement(membership: Membership, date_from: date, date_to: date) -> Statement:
    """Opening balance, every share, contribution, benefit and payout, closing balance."""
    collective = membership.collective
    currency = collective.base_currency
    query = LedgerQuery(collective.id, date_from, date_to, membership_id=membership.id)
    account = ledger.member_account(membership.id)
    opening = -balances.account_balance(account.id, date_from - timedelta(days=1)).get(currency, 0)
    statement = Statement(membership.user.name, collective.name, currency, date_from, date_to,
                          opening)
    for row in iter_rows(query):
        if row.currency != currency:
            continue
        statement.lines.append(StatementLine(row.occurred_on, row.entry_id, row.kind, row.memo,
                                             -row.amount, row.balance))
    return statement


def statement_csv(statement: Statement) -> bytes:
    """The statement as CSV: a line per movement, with opening and closing lines."""
    amounts = Amounts()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "entry_id", "kind", "description", "memo", "amount", "balance",
                     "currency"])
    cur = statement.currency
    writer.writerow([statement.date_from.isoformat(), "", "opening", "Opening balance", "",
                     "", amounts.text(statement.opening, cur), cur])
    for line in statement.lines:
        writer.writerow([line.occurred_on.isoformat(), line.entry_id, line.kind, line.label,
                         safe_text(line.memo), amounts.text(line.amount, cur),
                         amounts.text(line.balance, cur), cur])
    writer.writerow([statement.date_to.isoformat(), "", "closing", "Closing balance", "", "",
                     amounts.text(statement.closing, cur), cur])
    return out.getvalue().encode()


# --- Financial statements ------------------------------------------------------------------


@dataclass
class StatementSection:
    """A titled group of accounts with their balances (natural sign) and a total."""

    title: str
    rows: list[tuple[str, str, int]]

    @property
    def total(self) -> int:
        """The section's total."""
        return sum(amount for _, _, amount in self.rows)


#: A balance sheet names each member's account up to this many of one kind (code prefix);
#: past it, one line sums them (10,000 members' payables are one liability).
MEMBER_ACCOUNTS_NAMED = 20


def balance_sheet(collective_id: int, currency: str, as_of: date) -> dict:
    """Assets = liabilities + equity (with this year's result), as of a date."""
    # Accounts at zero (a member who owes the fund nothing) say nothing on a balance sheet.
    lines = balances.statement_lines(collective_id, currency, as_of,
                                     named=MEMBER_ACCOUNTS_NAMED)
    by_type = {t: [(code, name, amount) for code, name, kind, amount in lines
                   if kind == t.value] for t in AccountType}
    result = (sum(a for _, _, a in by_type[AccountType.INCOME])
              - sum(a for _, _, a in by_type[AccountType.EXPENSE]))
    equity_rows = by_type[AccountType.EQUITY] + ([("", "Result (income less expenses)",
                                                   result)] if result else [])
    assets = StatementSection("Assets", by_type[AccountType.ASSET])
    liabilities = StatementSection("Liabilities (owed to members, the fund and the tax office)",
                                   by_type[AccountType.LIABILITY])
    equity = StatementSection("Equity (the collective's funds)", equity_rows)
    return {"assets": assets, "liabilities": liabilities, "equity": equity,
            "balanced": assets.total == liabilities.total + equity.total}


def income_statement(collective_id: int, currency: str, date_from: date, date_to: date
                     ) -> dict:
    """Income and expenses over a period, and every money movement by kind. The year-end
    closing entries are left out: they move the year's result to the common fund, and a
    closed year still shows what it earned and spent."""
    result_types = (AccountType.INCOME, AccountType.EXPENSE)
    period = [r for r in balances.trial_balance(collective_id, date_to, since=date_from,
                                                without_closing=True, types=result_types)
              if r.currency == currency]
    income = StatementSection("Income", [(r.code, r.name, r.natural_balance) for r in period
                                         if r.type == AccountType.INCOME.value])
    expenses = StatementSection("Expenses", [(r.code, r.name, r.natural_balance)
                                             for r in period
                                             if r.type == AccountType.EXPENSE.value])
    bank = ledger.account_by_code(collective_id, ledger.BANK)
    flows: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for kind, debits, credits, postings in totals.read_totals(
            collective_id, ["kind"], as_of=date_to, since=date_from, accounts=[bank.id],
            currency=currency):
        flows[kind][0] += debits - credits
        flows[kind][1] += postings
    return {"income": income, "expenses": expenses, "result": income.total - expenses.total,
            "bank_flows": [(kind, total, count) for kind, (total, count) in sorted(flows.items())
                           if count]}
