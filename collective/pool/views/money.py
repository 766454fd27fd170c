"""Pages of the pool's money: client payments, members' shares and payouts."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from collective.ledger import balances
from collective.ledger.models import EntryKind
from collective.members import pickers
from collective.members import services as members
from collective.money import format_money
from collective.pool import payments as payment_services
from collective.pool import payouts as payout_services
from collective.pool import queries
from collective.pool.forms import (
    PayEveryoneForm,
    PaymentForm,
    PayoutForm,
    ReverseForm,
)
from collective.pool.pitches import get_pitch
from collective.pool.rules import rule_in_force
from collective.pool.views.base import C, T, bp
from collective.web.forms import currency_error
from collective.web.paging import page_number
from collective.web.scoping import collective_view
from collective.web.transaction import committed

#: Payments a page of the payments list shows.
PAGE_SIZE = 50
#: Months of earnings, and payouts, that "My shares" shows (the statement has the rest).
MONTHS_SHOWN = 24
PAYOUTS_SHOWN = 24


@bp.route("/pitches/<int:pitch_id>/payments/new", methods=["GET", "POST"])
@collective_view(C, T)
def record_payment(pitch_id: int):
    """Record a client payment against a pitch; it is split and posted at once. A payment
    like one recorded already waits for "record it again"; the same form sent twice (Back,
    then send) records nothing new and shows the payment it recorded."""
    work = get_pitch(g.collective.id, pitch_id)
    form = PaymentForm()
    status, duplicate = 200, None
    if request.method == "GET":
        form.currency.data = work.value_currency
        form.received_on.data = g.today
    if form.validate_on_submit() and not currency_error(form.currency):
        amount = form.parsed_amount(form.amount, form.currency.data)
        if amount is not None:
            sent = payment_services.payment_for_request(g.collective.id, form.request_key.data)
            with committed(form) as done:
                payment = payment_services.record_payment(
                    g.membership, work, amount=amount, currency=form.currency.data,
                    received_on=form.received_on.data, reference=form.reference.data or "",
                    rate=form.rate.data, request_key=form.request_key.data,
                    confirm_duplicate=form.confirm_duplicate.data, today=g.today)
            if done:
                if sent is not None:
                    flash(f"This form was sent already: it recorded payment {payment.id}, "
                          "shown here. Nothing new was recorded.", "info")
                    return redirect(url_for("pool.payment", slug=g.collective.slug,
                                            payment_id=payment.id))
                flash(f"Payment recorded and split: "
                      f"{format_money(payment.base_amount, g.collective.base_currency)}.", "info")
                return redirect(url_for("pool.pitch", slug=g.collective.slug,
                                        pitch_id=pitch_id))
            if isinstance(done.error, payment_services.DuplicatePayment):
                duplicate = done.error
    if request.method == "POST":
        status = 409 if duplicate is not None else 422
    rule = rule_in_force(g.collective.id, g.today)
    return render_template("pool/payment.html", pitch=work, form=form, rule=rule,
                           duplicate=duplicate), status


@bp.get("/payments")
@collective_view(C, T)
def payments():
    """Client payments with the rule each was split under, newest first, PAGE_SIZE a page
    (`?page=N`; what is not a page number shows the first)."""
    page = page_number()
    found = queries.payments_of(g.collective.id, limit=PAGE_SIZE + 1,
                                offset=(page - 1) * PAGE_SIZE)
    shown = found[:PAGE_SIZE]
    return render_template("pool/payments.html", payments=shown, page=page,
                           more=len(found) > PAGE_SIZE,
                           reversed_ids=queries.reversed_entry_ids(
                               g.collective.id, [p.entry_id for p in shown]))


@bp.route("/payments/<int:payment_id>/reverse", methods=["GET", "POST"])
@collective_view(T)
def reverse_payment(payment_id: int):
    """Reverse a payment entered by mistake (the ledger keeps both entries): a page that
    shows the payment and asks why, then one button. A refusal comes back with the reason
    as typed."""
    payment = payment_services.get_payment(g.collective.id, payment_id)
    form = ReverseForm(prefix="rev")
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with committed(form) as done:
                payment_services.reverse_payment(g.membership, payment, form.memo.data,
                                                 today=g.today)
            if done:
                flash(f"Payment {payment.id} is reversed: both entries stay in the ledger, "
                      "and the hours it paid are unpaid again.", "info")
                return redirect(url_for("pool.payments", slug=g.collective.slug))
    reversed_ids = queries.reversed_entry_ids(g.collective.id, [payment.entry_id])
    return render_template("pool/confirm_reverse.html", payment=payment, form=form,
                           is_reversed=payment.entry_id in reversed_ids,
                           reversal_on=payment_services.reversal_day(payment, g.today),
                           overdrawn=queries.overdrawn_by_reversal(payment)), status


@bp.get("/shares")
@collective_view()
def my_shares():
    """Your balance and totals over your whole history, your earnings in the last
    MONTHS_SHOWN months, your latest PAYOUTS_SHOWN payouts, and the payments that paid you,
    PAGE_SIZE a page (`?page=N`)."""
    page = page_number()
    monthly = queries.monthly_earnings(g.membership, until=g.today, last_months=MONTHS_SHOWN)
    shares = queries.shares_of(g.membership, limit=PAGE_SIZE + 1,
                               offset=(page - 1) * PAGE_SIZE)
    totals = queries.payable_totals(g.membership)
    return render_template(
        "pool/my_shares.html", shares=shares[:PAGE_SIZE], page=page,
        more=len(shares) > PAGE_SIZE,
        payouts=queries.payouts_of(g.membership, limit=PAYOUTS_SHOWN),
        monthly=list(zip(monthly["month"], monthly["earned"], strict=True)),
        earned=totals.get(EntryKind.PAYMENT, 0), paid_out=-totals.get(EntryKind.PAYOUT, 0),
        MONTHS_SHOWN=MONTHS_SHOWN, PAYOUTS_SHOWN=PAYOUTS_SHOWN,
        balance=balances.member_balance(g.membership.id).get(g.collective.base_currency, 0))


@bp.get("/shares/all")
@collective_view(T)
def all_shares():
    """Every member's earnings, payouts and balance, PAGE_SIZE members a page by name, with
    totals over everyone that tie to the ledger."""
    page = page_number()
    table = queries.members_summary(g.collective.id, limit=PAGE_SIZE + 1,
                                    offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "pool/all_shares.html", rows=table.head(PAGE_SIZE).to_dict("records"), page=page,
        more=len(table) > PAGE_SIZE, totals=queries.summary_totals(g.collective.id),
        ledger_total=balances.members_owed_total(g.collective.id, g.collective.base_currency))


@bp.route("/payouts", methods=["GET", "POST"])
@collective_view(T)
def payouts():
    """Pay a member what the collective owes them (members owed something are listed
    PAGE_SIZE a page); a second payout of the same amount on the same day waits for "pay it
    again". Paying everyone starts from here too."""
    page = page_number()
    owed, owed_count, total = queries.owed_page(g.collective.id, limit=PAGE_SIZE + 1,
                                                offset=(page - 1) * PAGE_SIZE)
    form = PayoutForm(prefix="one")
    pickers.offer_members(form.membership_id, g.collective)
    status, duplicate = 200, None
    if request.method == "GET":
        form.paid_on.data = g.today
    else:
        status = 422
        amount = (form.parsed_amount(form.amount, g.collective.base_currency)
                  if form.validate_on_submit() else None)
        if amount is not None:
            sent = payout_services.payout_for_request(g.collective.id, form.request_key.data)
            with committed(form) as done:
                member = members.get_membership(g.collective.id, form.membership_id.data)
                payout_services.pay_member(
                    g.membership, member, amount=amount, paid_on=form.paid_on.data,
                    request_key=form.request_key.data, reference=form.reference.data or "",
                    confirm_duplicate=form.confirm_duplicate.data, today=g.today)
            if done:
                flash("This form was sent already: its payout was posted then. Nothing new "
                      "was paid." if sent is not None else "The payout is posted.", "info")
                return redirect(url_for("pool.payouts", slug=g.collective.slug))
            if isinstance(done.error, payout_services.DuplicatePayout):
                duplicate, status = done.error, 409
    return render_template("pool/payouts.html", form=form, duplicate=duplicate,
                           owed=owed.head(PAGE_SIZE).to_dict("records"), page=page,
                           more=len(owed) > PAGE_SIZE, owed_count=owed_count,
                           total=total), status


@bp.route("/payouts/everyone", methods=["GET", "POST"])
@collective_view(T)
def pay_everyone():
    """Pay every member their whole balance: this page shows who gets what and the total
    first, and pays exactly that, once, with the bank reference."""
    form = PayEveryoneForm()
    status, confirmed = 200, {}
    if request.method == "GET":
        form.paid_on.data = g.today
    else:
        status = 422
        if form.validate_on_submit():
            sent = payout_services.payout_for_request(g.collective.id, form.request_key.data,
                                                      everyone=True)
            with committed(form) as done:
                entry = payout_services.pay_everyone(
                    g.membership, paid_on=form.paid_on.data, reference=form.reference.data,
                    request_key=form.request_key.data, expected=form.confirmed_amounts(),
                    today=g.today)
            if done:
                total = sum(p.amount for p in entry.postings if p.amount > 0)
                flash(f"This form was sent already: entry {entry.id} paid everyone then. "
                      "Nothing new was paid." if sent is not None else
                      f"Paid {format_money(total, g.collective.base_currency)} to every "
                      f"member owed something, in entry {entry.id}.", "info")
                return redirect(url_for("pool.payouts", slug=g.collective.slug))
            if isinstance(done.error, payout_services.BalancesChanged):
                status, confirmed = 409, form.confirmed_amounts()
    owed = payout_services.balances_to_pay(g.collective.id, g.collective.base_currency)
    # The page shows, and the form confirms, the figures of now.
    form.amounts.data = PayEveryoneForm.encode(owed)
    names = queries.member_names(g.collective.id, owed)
    rows = sorted(({"membership_id": m, "name": names[m], "amount": a,
                    "was": confirmed.get(m, 0) if confirmed else None}
                   for m, a in owed.items()), key=lambda r: r["name"])
    gone = [{"name": name, "was": confirmed[m]} for m, name
            in queries.member_names(g.collective.id, confirmed).items() if m not in owed]
    return render_template("pool/pay_everyone.html", form=form, rows=rows, gone=gone,
                           total=sum(owed.values())), status
