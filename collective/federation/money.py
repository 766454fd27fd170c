"""Money between partner collectives.

A client payment on a shared pitch posts once in each collective's ledger, in the same
transaction. The host books the whole payment as usual, gives the partner its basis points
of the split amount (largest remainder: the two parts add up exactly) as an expense, 5800
"Partner collectives' shares", against 2400-<partner id>, what it owes the partner, and
splits the rest among its own members by its own share rule. The partner books its part as
client work income against 1400-<host id>, what the host owes it, and splits that by its
own share rule among its members' hours on the pitch. Both entries are keyed by the payment
(`payment:<id>` in the host, `partner-share:<id>` in the partner), so posting again returns
them. A settlement moves the money: 2400 against the bank in the payer's books, the bank
against 1400 in the payee's, both keyed `settlement:<id>`. Flush, never commit.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from collective import audit
from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.federation.models import Federation, PartnerSettlement, SharedPitch
from collective.federation.sharing import accepted_sharing
from collective.ledger import services as ledger
from collective.ledger.models import Account, AccountType, EntryKind, JournalEntry, Posting
from collective.members.models import Collective, Membership, Role
from collective.members.services import require_role
from collective.money import MAX_MINOR_UNITS, format_money, split
from collective.pool import compute, notices
from collective.pool.checks import check_date, is_whole
from collective.pool.models import Allocation, ClientPayment, Pitch
from collective.pool.payments import PartnerPart, split_lines
from collective.pool.queries import payment_split_seed
from collective.pool.rules import rule_in_force, rule_terms

#: What a partner owes the collective (asset), and what it owes a partner (liability), one
#: account per partner: <prefix>-<partner collective id>.
PARTNER_RECEIVABLE_PREFIX = "1400"
PARTNER_PAYABLE_PREFIX = "2400"
#: The partners' parts of shared pitches' payments, an expense like members' shares.
PARTNER_SHARES = ledger.PARTNER_SHARES
#: How many lines the history of one partner shows per page.
HISTORY_PAGE = 25


def _open_account(collective_id: int, code: str, name: str, kind: AccountType) -> Account:
    """The collective's account with this code, created the first time it is needed."""
    account = db.session.scalar(sa.select(Account).filter_by(collective_id=collective_id,
                                                             code=code))
    if account is None:
        account = Account(collective_id=collective_id, code=code, name=name[:120],
                          type=kind.value)
        try:
            with db.session.begin_nested():
                db.session.add(account)
                db.session.flush()
        except sa.exc.IntegrityError:  # opened by a request at the same moment
            account = ledger.account_by_code(collective_id, code)
    return account


def payable_to(collective_id: int, partner: Collective) -> Account:
    """What the collective owes `partner` (a liability)."""
    return _open_account(collective_id, f"{PARTNER_PAYABLE_PREFIX}-{partner.id}",
                         f"Owed to partner {partner.name}", AccountType.LIABILITY)


def receivable_from(collective_id: int, partner: Collective) -> Account:
    """What `partner` owes the collective (an asset)."""
    return _open_account(collective_id, f"{PARTNER_RECEIVABLE_PREFIX}-{partner.id}",
                         f"Owed by partner {partner.name}", AccountType.ASSET)


def partner_shares_account(collective_id: int) -> Account:
    """The host's expense for partners' parts of shared pitches."""
    return _open_account(collective_id, PARTNER_SHARES, "Partner collectives' shares",
                         AccountType.EXPENSE)


def split_with_partner(amount: int, partner_bp: int) -> tuple[int, int]:
    """(host's part, partner's part) of `amount` by largest remainder: they add up exactly."""
    host, partner = split(amount, [10_000 - partner_bp, partner_bp])
    return host, partner


def partner_part(pitch: Pitch, split_amount: int, received_on: date) -> PartnerPart | None:
    """What a payment of `pitch` owes the partner it is shared with (pool's hook): None for a
    pitch not shared. A pitch shared under a federation that has ended still pays the
    partner for the work done under it."""
    shared = accepted_sharing(pitch.id)
    if shared is None:
        return None
    host, partner = shared.host, shared.partner
    if host.base_currency != partner.base_currency:
        raise DomainError(f"{partner.name} keeps its books in {partner.base_currency}, not "
                          f"{host.base_currency}", field="currency")
    _host_part, amount = split_with_partner(split_amount, shared.partner_bp)
    members = frozenset(db.session.scalars(
        sa.select(Allocation.membership_id)
        .join(Membership, Membership.id == Allocation.membership_id)
        .where(Allocation.pitch_id == pitch.id,
               Membership.collective_id == partner.id)))
    return PartnerPart(
        amount=amount, payable_account_id=payable_to(host.id, partner).id,
        expense_account_id=partner_shares_account(host.id).id, membership_ids=members,
        label=f"{shared.partner_bp / 100:g}% to {partner.name}",
        post=functools.partial(post_partner_share, shared, amount))


def partner_share_key(payment: ClientPayment) -> str:
    """The partner's entry's idempotency key for a host's payment."""
    return f"partner-share:{payment.id}"


def post_partner_share(shared: SharedPitch, amount: int, payment: ClientPayment,
                       participants: list[compute.Participant]) -> JournalEntry | None:
    """Post the partner's side of a shared pitch's payment: its part as income against what
    the host owes it, split by the partner's own share rule among its members' hours. Posting
    it again returns the same entry. Nothing for a part of zero."""
    if not amount:
        return None
    partner, host = shared.partner, shared.host
    posted = ledger.find_entry(partner.id, partner_share_key(payment))
    if posted is not None:   # posted already: the hours it used are paid, nothing to split
        return posted
    rule = rule_in_force(partner.id, payment.received_on)
    if rule is None:
        raise DomainError(f"{partner.name} had no share rule in force on "
                          f"{payment.received_on.isoformat()}, so its part cannot be split",
                          field="received_on")
    try:
        result = compute.split_payment(amount, rule_terms(rule), participants, None,
                                       seed=payment_split_seed(payment.pitch_id))
    except compute.NoParticipants as exc:
        raise DomainError(f"nobody of {partner.name} is allocated to this pitch, so its part "
                          "has no one to go to; allocate its members first",
                          field="pitch") from exc
    base = partner.base_currency
    lines = [ledger.Line(receivable_from(partner.id, host).id, amount, base),
             ledger.Line(ledger.account_by_code(partner.id, ledger.CLIENT_INCOME).id,
                         -amount, base),
             *split_lines(partner.id, result, base)]
    pitch = db.session.get(Pitch, payment.pitch_id)
    entry = ledger.post_entry(
        partner.id, kind=EntryKind.PAYMENT, occurred_on=payment.received_on,
        idempotency_key=partner_share_key(payment),
        memo=(f"{host.name}: {pitch.title}, our {shared.partner_bp / 100:g}% "
              f"({result.note})")[:500],
        lines=lines)
    notices.payment_split(partner, payment, pitch, rule, result.by_member())
    return entry


def reverse_partner_share(entry: JournalEntry, reversal: JournalEntry) -> None:
    """When a host's payment is reversed, reverse the partner's side of it too (same
    transaction). Safe to call again, and a no-op for a payment not shared. The partner's
    side alone is refused: the two ledgers would disagree on what the host owes."""
    if entry.idempotency_key.startswith("partner-share:"):
        host_payment = int(entry.idempotency_key.split(":", 1)[1])
        host_entry = db.session.scalar(sa.select(ClientPayment.entry_id)
                                       .where(ClientPayment.id == host_payment))
        if ledger.find_entry(db.session.get(ClientPayment, host_payment).collective_id,
                             f"reversal:{host_entry}") is None:
            raise ledger.LedgerError(
                "this entry is this collective's part of a partner's client payment: the "
                "partner (the host) reverses its payment, and this part is reversed with it",
                field="entry")
        return
    payment_id = db.session.scalar(sa.select(ClientPayment.id)
                                   .where(ClientPayment.entry_id == entry.id))
    if payment_id is None:
        return
    theirs = db.session.scalar(sa.select(JournalEntry).where(
        JournalEntry.idempotency_key == f"partner-share:{payment_id}",
        JournalEntry.kind == EntryKind.PAYMENT.value))
    if theirs is not None:
        ledger.reverse_entry(theirs, occurred_on=reversal.occurred_on,
                             memo=f"Reversal: the host reversed payment {payment_id}")


def _balance(account_ids: list[int]) -> int:
    if not account_ids:
        return 0
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Posting.amount), 0))
                                 .where(Posting.account_id.in_(account_ids))))


@dataclass(frozen=True)
class Standing:
    """Between one collective and one partner, in the collective's base currency."""

    #: What the collective owes the partner (the credit balance of 2400-<partner>).
    we_owe: int
    #: What the partner owes the collective (the debit balance of 1400-<partner>).
    they_owe: int
    currency: str

    @property
    def net(self) -> int:
        """Positive when the partner owes more than the collective does."""
        return self.they_owe - self.we_owe


def _partner_accounts(collective_id: int, partner_id: int) -> dict[str, int]:
    codes = {f"{PARTNER_PAYABLE_PREFIX}-{partner_id}": "payable",
             f"{PARTNER_RECEIVABLE_PREFIX}-{partner_id}": "receivable"}
    return {codes[code]: account_id for account_id, code in db.session.execute(
        sa.select(Account.id, Account.code).where(Account.collective_id == collective_id,
                                                  Account.code.in_(list(codes))))}


def standing(collective: Collective, partner_id: int) -> Standing:
    """What the collective and a partner owe each other (two queries)."""
    accounts = _partner_accounts(collective.id, partner_id)
    payable = accounts.get("payable")
    receivable = accounts.get("receivable")
    return Standing(-_balance([payable] if payable else []),
                    _balance([receivable] if receivable else []), collective.base_currency)


@dataclass(frozen=True)
class HistoryLine:
    """One entry that moved what the collective and a partner owe each other."""

    entry_id: int
    occurred_on: date
    kind: str
    memo: str
    #: Positive: the partner owes the collective more (or it owes the partner less).
    amount: int


def history(collective_id: int, partner_id: int, page: int = 1
            ) -> tuple[list[HistoryLine], bool]:
    """The entries on the two partner accounts, newest first, a page at a time; and
    whether there are more."""
    accounts = list(_partner_accounts(collective_id, partner_id).values())
    if not accounts:
        return [], False
    rows = db.session.execute(
        sa.select(JournalEntry.id, JournalEntry.occurred_on, JournalEntry.kind,
                  JournalEntry.memo, sa.func.sum(Posting.amount))
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(Posting.account_id.in_(accounts))
        .group_by(JournalEntry.id, JournalEntry.occurred_on, JournalEntry.kind,
                  JournalEntry.memo)
        .order_by(JournalEntry.occurred_on.desc(), JournalEntry.id.desc())
        .offset((page - 1) * HISTORY_PAGE).limit(HISTORY_PAGE + 1)).all()
    lines = [HistoryLine(r[0], r[1], str(r[2]), r[3], int(r[4])) for r in rows]
    return lines[:HISTORY_PAGE], len(lines) > HISTORY_PAGE


def settle(actor: Membership, federation: Federation, *, amount: int, paid_on: date,
           reference: str = "", request_key: str | None = None, today: date
           ) -> PartnerSettlement:
    """Record that the actor's collective paid its partner `amount` of what it owes: one
    entry in each ledger, in this transaction. At most what is owed; the same form sent
    twice records one settlement. Allowed after the partnership ended: debts stay debts."""
    require_role(actor, Role.TREASURER, action="settle with a partner")
    if not federation.has(actor.collective_id):
        raise NotFound("no such partnership of this collective")
    payer = actor.collective
    payee = federation.other(actor.collective_id)
    if request_key:
        earlier = db.session.scalar(sa.select(PartnerSettlement).filter_by(
            payer_collective_id=payer.id, request_key=request_key))
        if earlier is not None:
            if earlier.amount != amount or earlier.payee_collective_id != payee.id:
                raise Conflict("this form was already used for another settlement; reload "
                               "the page", field="amount")
            return earlier
    if not is_whole(amount) or amount > MAX_MINOR_UNITS:
        raise DomainError("the amount must be more than zero", field="amount")
    check_date(paid_on, today, "paid_on", "day paid")
    # Both collectives' balances are read then spent: hold both locks, in id order.
    for collective_id in sorted((payer.id, payee.id)):
        ledger.lock_balances(collective_id)
    owed = standing(payer, payee.id).we_owe
    if amount > owed:
        raise DomainError(f"{payer.name} owes {payee.name} "
                          f"{format_money(owed, payer.base_currency)}; a settlement cannot "
                          "be more", field="amount")
    currency = payer.base_currency
    row = PartnerSettlement(federation_id=federation.id, payer_collective_id=payer.id,
                            payee_collective_id=payee.id, amount=amount, currency=currency,
                            paid_on=paid_on, reference=(reference or "").strip()[:120],
                            recorded_by_id=actor.id, request_key=request_key or None)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except sa.exc.IntegrityError:
        earlier = db.session.scalar(sa.select(PartnerSettlement).filter_by(
            payer_collective_id=payer.id, request_key=request_key)) if request_key else None
        if earlier is None:
            raise
        return earlier
    key = f"settlement:{row.id}"
    memo = f"Settled with partner: {payer.name} paid {payee.name}"
    if row.reference:
        memo += f", ref {row.reference}"
    payer_entry = ledger.post_entry(
        payer.id, kind=EntryKind.PAYOUT, occurred_on=paid_on, idempotency_key=key, memo=memo,
        lines=[ledger.Line(payable_to(payer.id, payee).id, amount, currency),
               ledger.Line(ledger.account_by_code(payer.id, ledger.BANK).id, -amount,
                           currency)],
        created_by_id=actor.user_id)
    payee_entry = ledger.post_entry(
        payee.id, kind=EntryKind.DEPOSIT, occurred_on=paid_on, idempotency_key=key, memo=memo,
        lines=[ledger.Line(ledger.account_by_code(payee.id, ledger.BANK).id, amount, currency),
               ledger.Line(receivable_from(payee.id, payer).id, -amount, currency)],
        created_by_id=actor.user_id)
    row.payer_entry_id, row.payee_entry_id = payer_entry.id, payee_entry.id
    db.session.flush()
    for collective_id in (payer.id, payee.id):
        audit.record("settlement.recorded", collective=collective_id, subject=row,
                     actor=actor.user_id, amount=amount, currency=currency,
                     payer=payer.slug, payee=payee.slug)
    return row


def mismatched_partner_balances(collective_id: int | None = None) -> list[str]:
    """`flask ledger check`: what each host owes a partner must be what the partner says
    the host owes it (2400-<partner> in one ledger against 1400-<host> in the other)."""
    query = sa.select(Federation)
    if collective_id is not None:
        query = query.where(sa.or_(Federation.low_collective_id == collective_id,
                                   Federation.high_collective_id == collective_id))
    problems = []
    for federation in db.session.scalars(query.order_by(Federation.id).limit(1000)):
        for one, other in ((federation.low_collective, federation.high_collective),
                           (federation.high_collective, federation.low_collective)):
            owed = standing(one, other.id).we_owe
            claimed = standing(other, one.id).they_owe
            if owed != claimed:
                problems.append(f"{one.slug} owes {other.slug} {owed} by its books, but "
                                f"{other.slug}'s books say {claimed}")
    return problems
