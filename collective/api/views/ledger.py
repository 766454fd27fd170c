"""The ledger: journal entries with their postings (read), a reversal for treasurers (the
ledger's own service, as the entry page), balances as of a day, and the exports, streamed
as the report pages stream them (the same generators) and scoped and role-checked alike."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g
from sqlalchemy import orm as so

from collective import audit
from collective.api.errors import ApiProblem
from collective.api.idempotency import PARAMETER
from collective.api.paging import (
    DEFAULT_LIMIT,
    Page,
    day_range,
    decode_cursor,
    encode_cursor,
    page_body,
    page_of,
    page_schema,
)
from collective.api.schemas_books import (
    AccountBalanceOut,
    AuditExportArgs,
    BalanceArgs,
    EntryArgs,
    EntryOut,
    LedgerExportArgs,
    ReversalIn,
    StatementExportArgs,
)
from collective.api.views import api_blueprint, written
from collective.api.views.auth import caller, scoped
from collective.audit import queries as audit_queries
from collective.books.invoices import queries as invoice_queries
from collective.errors import Conflict
from collective.extensions import db
from collective.ledger import balances, services
from collective.ledger.models import Account, JournalEntry, Posting
from collective.members import services as members
from collective.members.models import Role
from collective.reports import exports, pdf
from collective.reports import services as reports
from collective.web.headers import streamed_download

C, T = Role.COORDINATOR, Role.TREASURER
blp = api_blueprint("api_ledger", "Journal entries, reversals, balances and the exports.")

EntryPage = page_schema(EntryOut, "EntryPage")
BalancePage = page_schema(AccountBalanceOut, "BalancePage")


def _entry_body(entry: JournalEntry) -> dict:
    return {"id": entry.id, "kind": str(entry.kind), "occurred_on": entry.occurred_on,
            "posted_at": entry.posted_at, "memo": entry.memo,
            "idempotency_key": entry.idempotency_key, "reverses_id": entry.reverses_id,
            "reversed_by_id": entry.reversed_by.id if entry.reversed_by else None,
            "postings": [{"account_id": p.account_id, "account_code": p.account.code,
                          "account_name": p.account.name, "amount": p.amount,
                          "currency": p.currency} for p in entry.postings]}


def _entries_query() -> sa.Select:
    return (sa.select(JournalEntry).where(JournalEntry.collective_id == g.collective.id)
            .options(so.selectinload(JournalEntry.reversed_by),
                     so.selectinload(JournalEntry.postings).joinedload(Posting.account)))


def _one_entry(entry_id: int) -> dict:
    """The entry's body (for EntryOut to dump), or a 404."""
    entry = db.session.scalar(_entries_query().where(JournalEntry.id == entry_id))
    if entry is None:
        raise ApiProblem(404, "no such entry in this collective")
    return _entry_body(entry)


@blp.route("/collectives/<slug>/ledger/entries")
@scoped(T)
@blp.arguments(EntryArgs, location="query")
@blp.response(200, EntryPage)
def entry_list(args: dict):
    """The journal (treasurers), in the order entries were posted, each with its postings
    and its reversal; filter by `kind` (a reversal's kind is `reversal`) and by the day
    each happened."""
    query = _entries_query().where(*day_range(JournalEntry.occurred_on, args))
    if args.get("kind"):
        query = query.where(JournalEntry.kind == args["kind"])
    return page_body(page_of(query, JournalEntry.id, "ledger-entries", args,
                             convert=_entry_body))


@blp.route("/collectives/<slug>/ledger/entries/<int:entry_id>")
@scoped(T)
@blp.response(200, EntryOut)
def entry(entry_id: int):
    """One entry with its postings, what it reverses and what reverses it (treasurers)."""
    return _one_entry(entry_id)


@blp.route("/collectives/<slug>/ledger/entries/<int:entry_id>/reversal", methods=["POST"])
@scoped(T)
@blp.arguments(ReversalIn)
@blp.response(201, EntryOut)
@blp.doc(parameters=[PARAMETER])
def reverse_entry(data: dict, entry_id: int):
    """Reverse an entry (treasurers), as its page does: its mirror is posted and points at
    it, and what its domain does on a reversal follows (a payment's hours are given back,
    an expense is marked rejected). An entry reversed already is a 409; an entry that is
    corrected some other way (an invoice: a credit note) is a 422 naming `entry`. Send an
    Idempotency-Key to retry safely: the same key answers with the same reversal."""

    def reverse():
        found = balances.get_entry(g.collective.id, entry_id)
        # The entry's row lock makes a second reversal sent at the same time wait for the
        # first, then find it (and be refused) rather than answer with the first's.
        db.session.execute(sa.select(JournalEntry.id).where(JournalEntry.id == found.id)
                           .with_for_update())
        earlier = db.session.scalar(sa.select(JournalEntry.id)
                                    .where(JournalEntry.reverses_id == found.id))
        if earlier is not None:
            raise Conflict(f"entry {found.id} is reversed already, by entry {earlier}",
                           field="entry")
        reversal = services.reverse_entry(found, memo=data["memo"] or None, today=g.today,
                                          created_by_id=caller().id)
        return EntryOut().dump(_one_entry(reversal.id)), 201

    return written(reverse)


# --- Balances ----------------------------------------------------------------------------

def _balance_rows(as_of) -> list[balances.BalanceRow]:
    """Every account's totals for a treasurer; a member's own accounts for anyone else."""
    if g.membership.has_role(T):
        return balances.trial_balance(g.collective.id, as_of)
    own = db.session.scalars(sa.select(Account).where(
        Account.collective_id == g.collective.id,
        sa.or_(Account.membership_id == g.membership.id,
               Account.owed_by_membership_id == g.membership.id)).order_by(Account.id))
    rows = []
    for account in own:
        sums = db.session.execute(
            sa.select(Posting.currency,
                      sa.func.sum(sa.case((Posting.amount > 0, Posting.amount), else_=0)),
                      -sa.func.sum(sa.case((Posting.amount < 0, Posting.amount), else_=0)))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(Posting.account_id == account.id, JournalEntry.occurred_on <= as_of)
            .group_by(Posting.currency).order_by(Posting.currency))
        rows += [balances.BalanceRow(account.id, account.code, account.name, str(account.type),
                                     account.membership_id or account.owed_by_membership_id,
                                     currency, int(debits), int(credits))
                 for currency, debits, credits in sums]
    return rows


def _balance_page(rows: list[balances.BalanceRow], args: dict) -> Page:
    """Accounts in id order, each with its currencies, a page of `limit` accounts."""
    after = decode_cursor("balances", args.get("cursor")) or 0
    limit = args.get("limit") or DEFAULT_LIMIT
    accounts: dict[int, dict] = {}
    for row in sorted(rows, key=lambda r: (r.account_id, r.currency)):
        if row.account_id <= after:
            continue
        item = accounts.get(row.account_id)
        if item is None:
            if len(accounts) == limit:
                return Page(list(accounts.values()),
                            encode_cursor("balances", list(accounts)[-1]))
            item = accounts[row.account_id] = {
                "account_id": row.account_id, "code": row.code, "name": row.name,
                "type": str(row.type), "membership_id": row.membership_id, "balances": []}
        item["balances"].append({"currency": row.currency, "debits": row.debits,
                                 "credits": row.credits, "balance": row.natural_balance})
    return Page(list(accounts.values()), None)


@blp.route("/collectives/<slug>/balances")
@scoped()
@blp.arguments(BalanceArgs, location="query")
@blp.response(200, BalancePage)
def balance_list(args: dict):
    """Balances as of `as_of` (today unless given), from the postings: every account with
    postings for a treasurer; for anyone else their own accounts only (what the collective
    owes them, and what they owe the benefits fund)."""
    as_of = args.get("as_of") or g.today
    return page_body(_balance_page(_balance_rows(as_of), args))


# --- Exports (streamed) ------------------------------------------------------------------

FILE = {"description": "The file, streamed as it is written.",
        "content": {media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                    for media in (*exports.MEDIA_TYPES.values(), "application/pdf")}}


@blp.route("/collectives/<slug>/exports/ledger")
@scoped(T)
@blp.arguments(LedgerExportArgs, location="query")
@blp.doc(responses={"200": FILE})
def export_ledger(args: dict):
    """The ledger for a date range in CSV (`preset` accounting or full), XLSX or Beancount
    (treasurers): the reports page's export, streamed; the download is in the audit log."""
    date_from, date_to = exports.check_range(args["date_from"], args["date_to"], g.today)
    query = exports.LedgerQuery(g.collective.id, date_from, date_to,
                                account_code=args["account"] or None,
                                membership_id=args["membership_id"], kind=args["kind"])
    chunks = exports.export_chunks(query, args["format"], args["preset"])
    audit.record_apart("export.ledger", collective=query.collective_id, actor=caller().id,
                       format=args["format"], preset=args["preset"], date_from=date_from,
                       date_to=date_to, account=query.account_code,
                       membership_id=query.membership_id, kind=query.kind, via="api")
    return streamed_download(chunks, exports.filename(g.collective.slug, query,
                                                      args["format"]),
                             exports.MEDIA_TYPES[args["format"]])


@blp.route("/collectives/<slug>/exports/statement")
@scoped()
@blp.arguments(StatementExportArgs, location="query")
@blp.doc(responses={"200": FILE})
def export_statement(args: dict):
    """A member's statement for a period as CSV or PDF: your own, or any member's for a
    treasurer (another member's is a 404 to anyone else)."""
    wanted = args["membership_id"] or g.membership.id
    if wanted != g.membership.id and not g.membership.has_role(T):
        raise ApiProblem(404, "no such member of yours")
    member = members.get_membership(g.collective.id, wanted)
    date_from, date_to = exports.check_range(args["date_from"], args["date_to"], g.today)
    result = reports.member_statement(member, date_from, date_to)
    audit.record_apart("export.statement", collective=member.collective_id, actor=caller().id,
                       subject=("membership", member.id), format=args["format"],
                       date_from=date_from, date_to=date_to, via="api")
    name = f"{g.collective.slug}-statement-{member.id}-{date_from}-{date_to}"
    if args["format"] == "csv":
        return streamed_download(iter([reports.statement_csv(result)]), f"{name}.csv",
                                 "text/csv; charset=utf-8")
    return streamed_download(iter([pdf.statement_pdf(result)]), f"{name}.pdf",
                             "application/pdf")


@blp.route("/collectives/<slug>/exports/aging")
@scoped(C, T)
@blp.doc(responses={"200": FILE})
def export_aging():
    """What clients owe, per client, by days past due, as of today, as CSV (coordinators
    and treasurers): the aging page's download."""
    name = f"{g.collective.slug}-aging-{g.today.isoformat()}.csv"
    body = invoice_queries.aging_csv(g.collective.id, g.collective.base_currency, g.today)
    return streamed_download(iter([body]), name, "text/csv; charset=utf-8")



@blp.route("/collectives/<slug>/exports/audit-log")
@scoped(T)
@blp.arguments(AuditExportArgs, location="query")
@blp.doc(responses={"200": FILE})
def export_audit_log(args: dict):
    """The audit log as CSV, newest first, filtered as its page filters it (treasurers): by
    action, by member (what they did and what was done to them) and by the collective's
    calendar days. The download is itself in the log, before its first byte."""
    member = (members.get_membership(g.collective.id, args["membership_id"])
              if args["membership_id"] else None)
    wanted = audit_queries.AuditFilter(
        action=args["action"], user_id=member.user_id if member else None,
        membership_id=member.id if member else None, date_from=args["date_from"],
        date_to=args["date_to"], timezone=g.collective.timezone)
    collective_id = g.collective.id
    audit.record_apart("export.audit_log", collective=collective_id, actor=caller().id,
                       filter_action=wanted.action, filter_membership=wanted.membership_id,
                       date_from=wanted.date_from, date_to=wanted.date_to, via="api")
    return streamed_download(members.audit_log_csv(collective_id, wanted),
                             f"{g.collective.slug}-audit-log.csv",
                             "text/csv; charset=utf-8")
