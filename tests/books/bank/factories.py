"""Bank test data: a EUR collective with a bank account, the sample files, and ledger
movements on the bank posted through the real ledger service."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from collective.books.bank import services
from collective.books.bank.importers import CsvMapping
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind
from tests.factories import make_collective

SAMPLES = Path(__file__).parent / "samples"
TODAY = date(2026, 11, 15)
#: How the sample CSV (a European bank's export) is read.
SAMPLE_MAPPING = CsvMapping(date="Booking date", date_format="%d.%m.%Y", debit="Debit",
                            credit="Credit", description="Description", reference="Reference",
                            decimal_separator=",", delimiter=";")
SAMPLE_FILES = {"csv": "statement.csv", "ofx": "statement.ofx", "camt053": "statement.camt053.xml"}


def sample(fmt: str) -> bytes:
    """The sample statement of a format: October 2026, 1,000.00 EUR opening."""
    return (SAMPLES / SAMPLE_FILES[fmt]).read_bytes()


def make_bank(currency: str = "EUR"):
    """(treasurer membership, bank account booked on 1000 Bank)."""
    treasurer = make_collective(currency=currency)
    account = services.create_bank_account(treasurer, name="Main account", currency=currency,
                                           number="DE89370400440532013000")
    return treasurer, account


def import_sample(treasurer, account, fmt: str, data: bytes | None = None):
    """Import a sample file (or `data` in its format) as the treasurer, on TODAY."""
    return services.import_statement(
        treasurer, account, fmt=fmt, data=sample(fmt) if data is None else data,
        filename=SAMPLE_FILES[fmt], mapping=SAMPLE_MAPPING if fmt == "csv" else None,
        today=TODAY)


def post_bank(collective_id: int, day: date, amount: int, *, kind: str = EntryKind.PAYOUT,
              other: str = ledger.COMMON_FUND, key: str | None = None, currency: str = "EUR"):
    """An entry moving the bank by `amount` (in > 0), against account `other`."""
    bank = ledger.account_by_code(collective_id, ledger.BANK)
    counter = ledger.account_by_code(collective_id, other)
    return ledger.post_entry(
        collective_id, kind=kind, occurred_on=day,
        idempotency_key=key or f"test:{kind}:{day}:{amount}",
        lines=[ledger.Line(bank.id, amount, currency), ledger.Line(counter.id, -amount, currency)],
        memo=f"test {kind}")
