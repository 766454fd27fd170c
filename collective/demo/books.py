"""The demo collective's books: invoicing details and GST, invoices in every state, expenses
with receipts made here, a bank account with a statement for each past month (generated from
what the demo posted), and the months before last closed."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from collective.benefits.compute import add_months
from collective.books.bank import matching
from collective.books.bank import services as bank
from collective.books.bank.importers import CsvMapping
from collective.books.bank.models import BankAccount, BankLine, StatementFormat
from collective.books.expenses import categories, decisions, submissions
from collective.books.expenses.storage import receipt_storage
from collective.books.expenses.uploads import Upload
from collective.books.invoices import adjustments, drafts, issuing, payments, settings
from collective.books.invoices.drafts import DraftLine
from collective.books.invoices.models import Invoice, TaxRate
from collective.extensions import db
from collective.ledger import balances, periods
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry, Posting
from collective.members.models import Membership
from collective.pool.models import Pitch

ONE = Decimal(1)
#: The rates the demo's AUD and GBP money came in at last month.
AUD_RATE, GBP_RATE = Decimal("0.6551"), Decimal("1.2741")
#: The rate Oakfield's GBP invoice was booked at when it was issued.
GBP_ISSUE_RATE = Decimal("1.2688")
#: The columns of the bank's CSV export.
CSV_MAPPING = CsvMapping(date="Date", amount="Amount", description="Description",
                         reference="Reference")
#: The two lines of last month's statement the demo leaves for the treasurer.
BANK_FEE = -5_00
UNKNOWN_CREDIT = 18_75


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def receipt_png(lines: list[str]) -> bytes:
    """A small till receipt drawn as a PNG (Pillow), so no binary file is shipped."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 30 + 16 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, text in enumerate(lines):
        draw.text((12, 12 + 16 * i), text, fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def receipt_pdf(lines: list[str]) -> bytes:
    """A one-page PDF receipt (fpdf2, already used for invoices)."""
    from fpdf import FPDF

    pdf = FPDF(format=(148, 120))
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for text in lines:
        pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def set_up_invoicing(anjali: Membership) -> TaxRate:
    """The collective's invoicing details (prefix BRC, 30 days) and Australian GST."""
    settings.save_details(
        anjali, legal_name="Bayanihan Remote Collective Cooperative",
        address="Unit 1204, Cityland Pasong Tamo Tower\n2210 Don Chino Roces Avenue\n"
                "Makati City 1231\nPhilippines",
        tax_id="TIN 009-876-543-000",
        payment_instructions="BPI dollar account 1234-5678-90, SWIFT BOPIPHMM, in the name "
                             "of Bayanihan Remote Collective Cooperative. Please quote the "
                             "invoice number.",
        payment_terms_days=30, number_prefix="BRC")
    return settings.add_tax_rate(anjali, name="GST (Australia)", rate_bp=1000)


def _invoice(actor: Membership, pitch: Pitch, lines: list[DraftLine], *, on: date,
             issuer: Membership | None = None, rate: Decimal | None = None,
             today: date) -> Invoice:
    invoice = drafts.draft_invoice(actor, pitch, lines=lines, today=on)
    if issuer is None:
        return invoice
    return issuing.issue_invoice(issuer, invoice, issued_on=on, rate=rate, today=today)


def load_invoices(people: dict[str, Membership], work: dict[str, Pitch], gst: TaxRate,
                  today: date) -> None:
    """One invoice credited, one overdue, one paid, one partly paid and one draft."""
    maria, anjali = people["maria"], people["anjali"]
    two_ago, last = add_months(today.replace(day=1), -2), add_months(today.replace(day=1), -1)
    retainer, book, cleanup = work["retainer"], work["book"], work["cleanup"]

    credited = _invoice(maria, retainer, [
        DraftLine("Onboarding of the Bondi clinic", ONE, 600_00, gst.id)],
        on=two_ago + timedelta(days=9), issuer=anjali, rate=Decimal("0.6634"), today=today)
    adjustments.issue_credit_note(
        anjali, credited, amount=None, issued_on=two_ago + timedelta(days=13), today=today,
        reason="Onboarding a clinic is part of the retainer; invoiced by mistake.")

    _invoice(maria, cleanup, [
        DraftLine("Bookkeeping clean-up FY2025: reconciling 14 months", Decimal(36), 50_00),
        DraftLine("Receipts and vendor files sorted", Decimal(12), 50_00)],
        on=two_ago + timedelta(days=26), issuer=anjali, today=today)
    # Issuing the invoice moved the delivered clean-up to "invoiced".

    paid = _invoice(maria, retainer, [
        DraftLine(f"After-hours phone cover, {last:%B %Y}", Decimal(16), 75_00, gst.id)],
        on=last + timedelta(days=1), issuer=anjali, rate=AUD_RATE, today=today)
    payments.pay_invoice(anjali, paid, amount=paid.net_amount + paid.tax_amount,
                         received_on=last + timedelta(days=15), rate=AUD_RATE,
                         reference="HARBOUR DENTAL EFT 55102", today=today)

    part = _invoice(maria, book, [
        DraftLine("Permissions research for quoted material", Decimal(10), 45_00),
        DraftLine("Index, 60,000-word manuscript", ONE, 450_00)],
        on=last + timedelta(days=4), issuer=anjali, rate=GBP_ISSUE_RATE, today=today)
    # Paid in part three weeks later, when the pound was worth more than on the invoice:
    # the difference is an exchange gain (4900).
    payments.pay_invoice(anjali, part, amount=400_00, received_on=last + timedelta(days=24),
                         rate=GBP_RATE, reference="OAKFIELD PUB BACS", today=today)

    _invoice(maria, retainer, [
        DraftLine(f"Patient support retainer, {today:%B %Y}", ONE, 4_500_00, gst.id)],
        on=today, today=today)


def load_expenses(people: dict[str, Membership], today: date) -> None:
    """Maria's headset (approved), Emma's courier (waiting) and the software subscription."""
    maria, anjali, emma = people["maria"], people["anjali"], people["emma"]
    storage = receipt_storage()
    last = add_months(today.replace(day=1), -1)
    by_name = {c.name: c for c in categories.categories_of(anjali.collective_id)}

    spent = last + timedelta(days=6)
    headset = submissions.submit_expense(
        maria, category_id=by_name["Equipment"].id, amount=45_00, currency="USD",
        spent_on=spent, description="USB headset for the Harbour Dental phone line",
        receipts=[Upload("headset-receipt.png", receipt_png([
            "SM MEGAMALL - CYBERZONE", f"{spent:%Y-%m-%d}", "USB headset H390    45.00",
            "TOTAL USD           45.00", "PAID - THANK YOU"]))],
        storage=storage, today=spent + timedelta(days=1), now=_at(spent + timedelta(days=1)))
    headset.created_at = _at(spent + timedelta(days=1))  # submitted then, as history
    decisions.decide_expense(anjali, headset, approve=True, reason="",
                             today=spent + timedelta(days=2), now=_at(spent + timedelta(days=2)))

    sent = max(today - timedelta(days=3), last)
    courier = submissions.submit_expense(
        emma, category_id=by_name["Other"].id, amount=38_50, currency="AUD", rate=AUD_RATE,
        spent_on=sent, description="Courier for the printed proof of 'Salt and Steel'",
        receipts=[Upload("courier.png", receipt_png([
            "AUSTRALIA POST - PERTH", f"{sent:%Y-%m-%d}", "Express parcel      38.50",
            "TOTAL AUD           38.50"]))],
        storage=storage, today=today, now=_at(today, 3))
    courier.created_at = _at(sent + timedelta(days=1))

    paid_on = last + timedelta(days=1)
    subscription = submissions.record_direct_expense(
        anjali, category_id=by_name["Software and subscriptions"].id, amount=86_40,
        currency="USD", spent_on=paid_on,
        description=f"Google Workspace, 12 seats, {paid_on:%B %Y}",
        receipts=[Upload("workspace-invoice.pdf", receipt_pdf([
            "Google Workspace - invoice", f"Billing period: {paid_on:%B %Y}",
            "Business Starter x 12 seats", "Total: USD 86.40"]))],
        storage=storage, today=paid_on, now=_at(paid_on))
    subscription.created_at = _at(paid_on)


def _bank_movements(collective_id: int, ledger_account_id: int, first: date, last: date
                    ) -> list[tuple[int, date, int, str]]:
    """(entry id, day, amount, memo) of each entry that moved the bank in the days, leaving
    out an entry reversed and its reversal (the bank never saw either)."""
    rows = db.session.execute(
        sa.select(JournalEntry.id, JournalEntry.occurred_on, sa.func.sum(Posting.amount),
                  JournalEntry.memo, JournalEntry.reverses_id)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(JournalEntry.collective_id == collective_id,
               Posting.account_id == ledger_account_id, Posting.currency == "USD",
               JournalEntry.occurred_on.between(first, last))
        .group_by(JournalEntry.id, JournalEntry.occurred_on, JournalEntry.memo,
                  JournalEntry.reverses_id)
        .order_by(JournalEntry.occurred_on, JournalEntry.id)).all()
    reversed_ids = {r.reverses_id for r in rows if r.reverses_id}
    return [(entry_id, day, int(amount), memo) for entry_id, day, amount, memo, reverses in rows
            if amount and reverses is None and entry_id not in reversed_ids]


def statement_csv(lines: list[tuple[date, str, str, int]]) -> bytes:
    """The bank's CSV export: Date, Description, Reference, Amount (signed, 2 decimals)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Date", "Description", "Reference", "Amount"])
    for day, description, reference, amount in lines:
        sign = "-" if amount < 0 else ""
        writer.writerow([day.isoformat(), description, reference,
                         f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"])
    return out.getvalue().encode()


def _import_month(anjali: Membership, account: BankAccount, month: date, today: date,
                  extra: list[tuple[date, str, str, int]]) -> None:
    """Import the month's statement and confirm each line against the entry it came from."""
    end = periods.month_end(month)
    moved = _bank_movements(account.collective_id, account.ledger_account_id, month, end)
    if not moved and not extra:
        return
    lines = [(day, memo.split(":")[0][:60] or "Transfer", f"BPI{entry_id:08d}", amount)
             for entry_id, day, amount, memo in moved]
    opening = balances.account_balance(
        account.ledger_account_id, month - timedelta(days=1)).get("USD", 0)
    closing = opening + sum(line[3] for line in lines + extra)
    result = bank.import_statement(
        anjali, account, fmt=StatementFormat.CSV, mapping=CSV_MAPPING,
        data=statement_csv(sorted(lines + extra)), filename=f"bpi-{month:%Y-%m}.csv",
        opening_balance=opening, closing_balance=closing, today=today)
    by_reference = {line.reference: line for line in db.session.scalars(
        sa.select(BankLine).filter_by(statement_id=result.statement.id))}
    for entry_id, _day, amount, _memo in moved:
        line = by_reference[f"BPI{entry_id:08d}"]
        matching.confirm_match(anjali, line, "payment" if amount > 0 else "payout", entry_id,
                               now=_at(today))


def load_bank(people: dict[str, Membership], today: date) -> None:
    """A USD account on 1000 Bank, a fee rule, a statement for each month until last month,
    and every month before last reconciled and closed."""
    anjali = people["anjali"]
    cid = anjali.collective_id
    account = bank.create_bank_account(anjali, name="BPI dollar account", currency="USD",
                                       number="1234-5678-90")
    bank.add_fee_rule(anjali, pattern="SERVICE CHARGE",
                      expense_account_id=ledger.account_by_code(cid, ledger.BANK_FEES).id)
    first = db.session.scalar(
        sa.select(sa.func.min(JournalEntry.occurred_on))
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(Posting.account_id == account.ledger_account_id))
    this_month = today.replace(day=1)
    last = add_months(this_month, -1)
    months = [first.replace(day=1)]
    while months[-1] < last:
        months.append(add_months(months[-1], 1))
    end = periods.month_end(last)
    for month in months[:-1]:
        _import_month(anjali, account, month, today, [])
    _import_month(anjali, account, last, today, [
        (end, f"SERVICE CHARGE {last:%m/%Y}", "SC" + f"{last:%Y%m}", BANK_FEE),
        (end - timedelta(days=3), "INWARD REMITTANCE - NO DETAILS", "IR7730419",
         UNKNOWN_CREDIT)])
    # A CSV statement ends on its last line's day: a month closes once the next one's
    # statement is in, so every month before last closes now and last month stays open.
    for month in months[:-1]:
        periods.close_month(anjali, cid, month, today=today)


def load_books(people: dict[str, Membership], work: dict[str, Pitch], today: date) -> None:
    """Invoices, expenses and the bank, in the order they happened."""
    gst = set_up_invoicing(people["anjali"])
    load_invoices(people, work, gst, today)
    load_expenses(people, today)
    load_bank(people, today)
