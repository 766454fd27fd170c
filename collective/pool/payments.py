"""Client payments: recorded against a pitch, split by the share rule in force over the
hours no earlier payment used, posted as one journal entry, and reversed when entered by
mistake (which gives those hours back)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from collective.errors import Conflict, DomainError
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind, JournalEntry
from collective.members.models import Collective, Membership
from collective.members.services import require_role
from collective.money import (
    MAX_MINOR_UNITS,
    MoneyError,
    check_currency,
    format_money,
    format_plain,
    minor_digits,
)
from collective.pool import compute, notices
from collective.pool.checks import (
    COORDINATOR,
    TREASURER,
    check_date,
    get_in,
    is_whole,
    same_collective,
)
from collective.pool.evidence.credits import credit_pitch
from collective.pool.models import PAYABLE_STATES, ClientPayment, Pitch
from collective.pool.participation import counted, hours_for_payment, release_hours, use_hours
from collective.pool.queries import payment_split_seed
from collective.pool.rules import rule_in_force, rule_terms


@dataclass(frozen=True, slots=True)
class Settles:
    """What a payment of a receivable (an invoice) clears, instead of being income: the
    income was booked when the invoice was issued.

    The payment's entry credits `account_id` by `cleared` (base minor units: what the part
    paid was booked at); the rest of the payment's base amount is an exchange gain, or a loss
    when negative. Only `split_amount` of the base amount (the invoice's net, tax left out)
    is split under the share rule.
    """

    account_id: int
    cleared: int
    split_amount: int


@dataclass(frozen=True, slots=True)
class PartnerPart:
    """What a payment of a shared pitch owes the partner collective that shares it (the
    federation package says, through `register_partner_part`).

    The host's entry books `amount` (base minor units) as an expense against
    `payable_account_id`, what the host owes the partner, and splits only the rest among its
    own members. The hours of the partner's members (`membership_ids`) are linked to the
    payment like the host's, and `post` posts the partner's side in the same transaction,
    with the partner's participants, to be split by the partner's own share rule.
    """

    amount: int
    payable_account_id: int
    expense_account_id: int
    membership_ids: frozenset[int]
    label: str
    post: Callable[[ClientPayment, list[compute.Participant]], None]


#: pitch, split amount, day received -> the partner's part, or None for a pitch not shared.
_partner_parts: list[Callable[[Pitch, int, date], PartnerPart | None]] = []


def register_partner_part(partner_part: Callable[[Pitch, int, date], PartnerPart | None]
                          ) -> None:
    """Say what a shared pitch's payment owes a partner collective (called once by the app
    factory; the pool knows no partners)."""
    _partner_parts[:] = [partner_part]


def partner_part_of(pitch: Pitch, split_amount: int, received_on: date) -> PartnerPart | None:
    """The partner's part of a payment of this pitch, if the pitch is shared."""
    return _partner_parts[0](pitch, split_amount, received_on) if _partner_parts else None


def record_payment(
    actor: Membership,
    pitch: Pitch,
    *,
    amount: int,
    currency: str,
    received_on: date,
    reference: str = "",
    rate: Decimal | None = None,
    request_key: str | None = None,
    confirm_duplicate: bool = False,
    settles: Settles | None = None,
    bank_account_id: int | None = None,
    today: date,
) -> ClientPayment:
    """Record a client payment and post its split as one journal entry.

    The entry debits Bank. Without `settles` it credits Client work income; with it, the
    receivable it clears and the exchange difference. The split posts Members' shares and
    Finder's fees (expenses) against each member's payable; the common fund's part stays as
    the collective's surplus.

    With a `request_key` (from the form), the same request again returns the payment it
    recorded the first time instead of recording a second one. A payment like one that
    stands already (same pitch, amount, currency and reference) is refused with
    DuplicatePayment unless `confirm_duplicate` says it is a second, separate payment.

    `bank_account_id` is the ledger asset account the money came into (a bank account's own
    account, when a statement line is matched); 1000 Bank unless given.
    """
    require_role(actor, COORDINATOR, TREASURER, action="record payments")
    same_collective(actor, pitch, "pitch")
    if request_key:
        earlier = _payment_by_key(actor.collective_id, request_key)
        if earlier is not None:
            if earlier.pitch_id != pitch.id or earlier.amount != amount:
                raise Conflict("this form was already used for another payment; reload the "
                               "page to record a new one", field="amount")
            return earlier
    collective = actor.collective
    if pitch.pitch_state not in PAYABLE_STATES:
        raise DomainError(f"a payment cannot be recorded on a pitch that is "
                          f"{pitch.pitch_state.label}", field="pitch")
    try:
        currency = check_currency(currency)
    except MoneyError as exc:
        raise DomainError(str(exc), field="currency") from exc
    if not is_whole(amount):
        raise DomainError("the amount must be more than zero", field="amount")
    if amount > MAX_MINOR_UNITS:
        raise DomainError("the amount is too large", field="amount")
    check_date(received_on, today, "received_on", "date received")
    reference = (reference or "").strip()[:120]
    if not confirm_duplicate:
        earlier = similar_payment(pitch, amount=amount, currency=currency, reference=reference,
                                  received_on=received_on)
        if earlier is not None:
            raise DuplicatePayment(earlier)
    base = collective.base_currency
    rate = checked_rate(rate, currency, base)
    base_amount = compute.convert_to_base(amount, minor_digits(currency), rate,
                                          minor_digits(base))
    if base_amount <= 0:
        raise DomainError(f"that comes to nothing in {base}", field="amount")
    if base_amount > MAX_MINOR_UNITS:
        raise DomainError("the amount is too large", field="amount")
    split_amount = base_amount if settles is None else settles.split_amount
    if settles is not None and not (0 < split_amount <= base_amount and settles.cleared > 0):
        raise DomainError("what the payment clears and splits must be more than zero, and "
                          "no more than the payment", field="amount")
    rule = rule_in_force(collective.id, received_on)
    if rule is None:
        raise DomainError(f"no share rule was in force on {received_on.isoformat()}; "
                          "the collective must agree one first", field="received_on")
    # One payment of a pitch at a time, so two cannot pick the same unpaid hours (the unique
    # key on the hours' links would refuse the second anyway).
    db.session.execute(sa.select(Pitch.id).where(Pitch.id == pitch.id).with_for_update())
    hours = hours_for_payment(pitch, received_on)
    partner = partner_part_of(pitch, split_amount, received_on)
    own, theirs = hours.participants, []
    if partner is not None:
        own = [p for p in hours.participants if p.membership_id not in partner.membership_ids]
        theirs = [p for p in hours.participants if p.membership_id in partner.membership_ids]
    own_amount = split_amount - (partner.amount if partner else 0)
    try:
        result = (compute.split_payment(own_amount, rule_terms(rule), own, pitch.finder_id,
                                        seed=payment_split_seed(pitch.id))
                  if own_amount else compute.Split(0, 0, None, {}, "nothing kept"))
    except compute.NoParticipants as exc:
        raise DomainError(str(exc), field="pitch") from exc
    note = result.note if partner is None else f"{result.note}; {partner.label}"
    payment = ClientPayment(
        collective_id=collective.id, pitch_id=pitch.id, amount=amount, currency=currency,
        rate=rate, base_amount=base_amount, split_amount=split_amount, received_on=received_on,
        reference=reference, share_rule_id=rule.id, split_note=note[:300],
        recorded_by_id=actor.id, request_key=request_key or None)
    try:
        with db.session.begin_nested():
            db.session.add(payment)
            db.session.flush()
    except sa.exc.IntegrityError:
        # The same form, sent twice at once: the other request recorded it.
        earlier = _payment_by_key(actor.collective_id, request_key) if request_key else None
        if earlier is None:
            raise
        return earlier
    entry = ledger.post_entry(
        collective.id, kind=EntryKind.PAYMENT, occurred_on=received_on,
        idempotency_key=f"payment:{payment.id}",
        memo=_payment_memo(pitch, payment, base),
        lines=_payment_lines(collective.id, result, base_amount, base, settles,
                             bank_account_id, partner),
        created_by_id=actor.user_id)
    payment.entry_id = entry.id
    use_hours(payment, hours.entry_ids)
    db.session.flush()
    if partner is not None:
        partner.post(payment, theirs)
    credit_pitch(pitch.id)  # paid after it was delivered: its skills are credited now
    notices.payment_split(collective, payment, pitch, rule, result.by_member())
    notices.payment_recorded(collective, payment)
    return payment


class DuplicatePayment(Conflict):
    """A payment like one that stands already: recording it needs an explicit confirmation."""

    def __init__(self, earlier: ClientPayment) -> None:
        recorder = db.session.get(Membership, earlier.recorded_by_id)
        reference = f" with reference {earlier.reference}" if earlier.reference else ""
        super().__init__(
            f"{format_money(earlier.amount, earlier.currency)}{reference} was already "
            f"recorded for this work on {earlier.received_on.isoformat()} (payment "
            f"{earlier.id}, by {recorder.user.name}); record it again only if the client "
            "really paid twice", field="confirm_duplicate")
        self.earlier = earlier
        self.recorded_by = recorder.user.name


def similar_payment(pitch: Pitch, *, amount: int, currency: str, reference: str,
                    received_on: date) -> ClientPayment | None:
    """The latest payment that stands (posted, not reversed) on the pitch with the same
    amount, currency and reference (in any case), if any. Without a reference, only one
    received the same day counts: a retainer's equal monthly payments are not duplicates."""
    query = (sa.select(ClientPayment)
             .where(ClientPayment.pitch_id == pitch.id, ClientPayment.amount == amount,
                    ClientPayment.currency == currency,
                    sa.func.lower(ClientPayment.reference) == reference.lower(), counted())
             .order_by(ClientPayment.id.desc()).limit(1))
    if not reference:
        query = query.where(ClientPayment.received_on == received_on)
    return db.session.scalar(query)


def payment_for_request(collective_id: int, request_key: str | None) -> ClientPayment | None:
    """The payment a form with this request key recorded already, if any."""
    return _payment_by_key(collective_id, request_key) if request_key else None


def checked_rate(rate: Decimal | None, currency: str, base: str) -> Decimal:
    """The rate from `currency` to `base`: 1 for the base itself, else a sane given one."""
    if currency == base:
        return Decimal(1)
    if rate is None:
        raise DomainError(f"give the rate from {currency} to {base}", field="rate")
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise DomainError("the rate must be a positive number", field="rate")
    if (rate > Decimal(10) ** 9 or rate.as_tuple().exponent < -10
            or len(rate.normalize().as_tuple().digits) > 15):
        # 15 significant digits survive every database's numeric type exactly.
        raise DomainError("the rate must be below 10^9, with at most 10 decimals and 15 "
                          "digits", field="rate")
    return rate


def _payment_by_key(collective_id: int, request_key: str) -> ClientPayment | None:
    return db.session.scalar(sa.select(ClientPayment).filter_by(
        collective_id=collective_id, request_key=request_key))


def _payment_memo(pitch: Pitch, payment: ClientPayment, base: str) -> str:
    memo = f"{pitch.client.name}: {pitch.title}"
    if payment.currency != base:
        memo += f" ({payment.currency} {format_plain(payment.amount, payment.currency)}"
        memo += f" at {payment.rate.normalize()})"
    if payment.reference:
        memo += f" ref {payment.reference}"
    return memo[:500]


def _payment_lines(collective_id: int, result: compute.Split, base_amount: int, base: str,
                   settles: Settles | None, bank_account_id: int | None = None,
                   partner: PartnerPart | None = None) -> list[ledger.Line]:
    """Bank against income (or the receivable cleared and the exchange difference), and the
    split: members' shares and the finder's fee, as expenses, against their payables; on a
    shared pitch, the partner's part too, as an expense against what the host owes it."""
    def account(code: str) -> int:
        return ledger.account_by_code(collective_id, code).id

    lines = [ledger.Line(bank_account_id or account(ledger.BANK), base_amount, base)]
    if settles is None:
        lines.append(ledger.Line(account(ledger.CLIENT_INCOME), -base_amount, base))
    else:
        lines.append(ledger.Line(settles.account_id, -settles.cleared, base))
        if base_amount != settles.cleared:
            lines.append(ledger.Line(account(ledger.EXCHANGE), settles.cleared - base_amount,
                                     base))
    if partner is not None and partner.amount:
        lines += [ledger.Line(partner.expense_account_id, partner.amount, base),
                  ledger.Line(partner.payable_account_id, -partner.amount, base)]
    return lines + split_lines(collective_id, result, base)


def split_lines(collective_id: int, result: compute.Split, base: str) -> list[ledger.Line]:
    """The lines of a split: members' shares and the finder's fee, as expenses, against each
    member's payable (what stays, the common fund's part, is the collective's surplus)."""
    def account(code: str) -> int:
        return ledger.account_by_code(collective_id, code).id

    lines = []
    members_part = sum(result.members.values())
    for code, amount in ((ledger.MEMBER_SHARES, members_part),
                         (ledger.FINDER_FEES, result.finder_fee)):
        if amount:
            lines.append(ledger.Line(account(code), amount, base))
    credits: dict[int, int] = defaultdict(int)
    for membership_id, share in result.by_member().items():
        credits[ledger.member_account(membership_id).id] += share
    lines += [ledger.Line(account_id, -share, base)
              for account_id, share in credits.items() if share]
    return lines


def get_payment(collective_id: int, payment_id: int) -> ClientPayment:
    """A payment of this collective, or NotFound."""
    return get_in(ClientPayment, collective_id, payment_id, "payment")


def reversal_day(payment: ClientPayment, today: date) -> date:
    """The day reversing the payment would be dated: its own, or `today` when its month is
    closed (the confirmation page says which)."""
    return ledger.reversal_day(db.session.get(JournalEntry, payment.entry_id), today)


def reverse_payment(actor: Membership, payment: ClientPayment, memo: str = "", *,
                    today: date | None = None) -> JournalEntry:
    """Undo a payment entered by mistake (or refunded) with a reversal entry, dated the
    payment's day, or `today` when that month is closed; the hours it used are unpaid again
    (the ledger calls follow_payment_reversal)."""
    require_role(actor, TREASURER, action="reverse payments")
    same_collective(actor, payment, "payment")
    entry = db.session.get(JournalEntry, payment.entry_id)
    return ledger.reverse_entry(entry, memo=memo or f"Reversal of payment {payment.id}",
                                today=today, created_by_id=actor.user_id)


def follow_payment_reversal(entry: JournalEntry, reversal: JournalEntry) -> None:
    """What reversing a client payment's entry does, from any page, the API or the CLI: the
    hours it used are unpaid again, the pitch's skill credits are what remains paid, and
    the collective's webhooks hear of it (once per payment). Safe to call again for the
    same pair."""
    release_hours(entry, reversal)
    payment = db.session.scalar(sa.select(ClientPayment).filter_by(entry_id=entry.id))
    if payment is not None:
        credit_pitch(payment.pitch_id)  # the pitch's credits are what remains paid
        notices.payment_reversed(db.session.get(Collective, payment.collective_id), payment,
                                 reversal)
