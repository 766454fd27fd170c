"""The ledger as a Beancount file that bean-check accepts: open directives, opening
balances, every entry as a transaction, and monthly balance assertions for the bank and the
funds."""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import Account, JournalEntry, Posting
from collective.members.services import base_currency
from collective.reports.exports import (
    Amounts,
    ExportRow,
    LedgerQuery,
    Progress,
    filters,
    iter_rows,
    opening_balances,
)

_ROOTS = {"asset": "Assets", "liability": "Liabilities", "equity": "Equity",
          "income": "Income", "expense": "Expenses"}
OPENING_ACCOUNT = "Equity:Opening-Balances"


def _component(text: str) -> str:
    """A Beancount account component: ASCII letters, digits and dashes, capital first."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_text)
    name = "-".join(w[:1].upper() + w[1:] for w in words) or "X"
    return name if name[0].isalpha() else f"A{name}"


def beancount_account(account_type: str, code: str, name: str) -> str:
    """Beancount name of an account, e.g. 'Liabilities:Members:Payable-To-Maria-Santos-2100-7'."""
    root = _ROOTS[account_type]
    if code.startswith(ledger.MEMBER_PAYABLE_PREFIX + "-"):
        return f"{root}:Members:{_component(name)}-{code}"
    return f"{root}:{_component(name)}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def beancount_chunks(q: LedgerQuery, progress: Progress = None) -> Iterator[bytes]:
    """The ledger as a Beancount file that bean-check accepts: open directives, opening
    balances, every entry as a transaction, and monthly balance assertions for the bank and
    the funds."""
    amounts = Amounts()
    accounts = db.session.execute(
        sa.select(Account.id, Account.type, Account.code, Account.name)
        .where(Account.collective_id == q.collective_id)).all()
    names = {a_id: beancount_account(t, code, name) for a_id, t, code, name in accounts}
    watched = {a_id for a_id, _, code, _ in accounts
               if code in (ledger.BANK, ledger.COMMON_FUND, ledger.BENEFITS_FUND)}
    used = db.session.scalars(
        sa.select(Posting.account_id).distinct()
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Account, Account.id == Posting.account_id)
        .where(*filters(q, whole_entries=True), JournalEntry.occurred_on <= q.date_to)).all()
    open_on = q.date_from - timedelta(days=1)
    lines = [f"; Ledger of collective {q.collective_id}, {q.date_from} to {q.date_to}",
             'option "operating_currency" "' + base_currency(q.collective_id) + '"', ""]
    lines.append(f"{open_on.isoformat()} open {OPENING_ACCOUNT}")
    lines += [f"{open_on.isoformat()} open {names[a]}" for a in sorted(used, key=names.get)]
    lines.append("")
    # Beancount needs whole entries: a filter on an account or member keeps every posting
    # of the entries that touch it, so each transaction balances.
    opening = opening_balances(q, whole_entries=True)
    balances: dict[tuple[int, str], int] = defaultdict(int, opening)
    if opening:
        lines.append(f'{open_on.isoformat()} * "Opening balances"')
        for (account_id, currency), amount in sorted(opening.items(),
                                                     key=lambda kv: names[kv[0][0]]):
            lines.append(f"  {names[account_id]}  {amounts.text(amount, currency)} {currency}")
        totals: dict[str, int] = defaultdict(int)
        for (_, currency), amount in opening.items():
            totals[currency] += amount
        for currency, total in sorted(totals.items()):
            if total:
                lines.append(f"  {OPENING_ACCOUNT}  {amounts.text(-total, currency)} {currency}")
        lines.append("")
    yield ("\n".join(lines) + "\n").encode()

    def assertions(on: date) -> str:
        out = [f"{on.isoformat()} balance {names[a]}  {amounts.text(v, c)} {c}"
               for (a, c), v in sorted(balances.items(), key=lambda kv: names[kv[0][0]])
               if a in watched]
        return "\n".join(out) + "\n\n" if out else ""

    current: list[ExportRow] = []
    month = None
    buffer: list[str] = []

    def flush_entry() -> None:
        if not current:
            return
        first = current[0]
        meta = [f"  entry: {_quote(str(first.entry_id))}",
                f"  key: {_quote(first.idempotency_key)}", f"  kind: {_quote(first.kind)}"]
        if first.reverses_id:
            meta.append(f"  reverses: {_quote(str(first.reverses_id))}")
        if first.original_currency:
            original = amounts.text(first.original_amount, first.original_currency)
            meta.append(f"  original: {_quote(original + ' ' + first.original_currency)}")
            meta.append(f"  rate: {_quote(format(first.rate.normalize(), 'f'))}")
        buffer.append(f"{first.occurred_on.isoformat()} * {_quote(first.memo or first.kind)}")
        buffer.extend(meta)
        for row in current:
            buffer.append(f"  {names[row.account_id]}  {amounts.text(row.amount, row.currency)} "
                          f"{row.currency}")
        buffer.append("")
        current.clear()

    for row in iter_rows(q, progress=progress, whole_entries=True):
        row_month = (row.occurred_on.year, row.occurred_on.month)
        if current and current[0].entry_id != row.entry_id:
            flush_entry()
        if month is not None and row_month != month:
            flush_entry()
            buffer.append(assertions(date(row_month[0], row_month[1], 1)))
        month = row_month
        current.append(row)
        balances[(row.account_id, row.currency)] += row.amount
        if len(buffer) > 2000:
            yield ("\n".join(buffer) + "\n").encode()
            buffer.clear()
    flush_entry()
    buffer.append(assertions(q.date_to + timedelta(days=1)))
    yield ("\n".join(buffer) + "\n").encode()
