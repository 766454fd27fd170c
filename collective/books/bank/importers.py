"""Reading bank statements: CSV with a saved column mapping, OFX (ofxtools) and ISO 20022
CAMT.053 XML (defusedxml). Each reader turns a file into a ParsedStatement or raises
StatementError naming the line at fault; nothing here touches the database."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from collective.errors import DomainError
from collective.money import MAX_MINOR_UNITS, minor_digits

#: Largest file accepted (bytes): a year of a busy account's lines fits many times over.
MAX_FILE_BYTES = 5 * 1024 * 1024
DATE_FORMATS = {"%Y-%m-%d": "YYYY-MM-DD", "%d.%m.%Y": "DD.MM.YYYY", "%d/%m/%Y": "DD/MM/YYYY",
                "%m/%d/%Y": "MM/DD/YYYY", "%d-%m-%Y": "DD-MM-YYYY", "%Y%m%d": "YYYYMMDD"}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


class StatementError(DomainError):
    """A file that cannot be read as a statement; the message names the line."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message, field="file")
        self.line = line


@dataclass(frozen=True)
class ParsedLine:
    """One statement line as read: signed minor units (money in > 0)."""

    line_no: int
    booked_on: date
    amount: int
    description: str
    reference: str


@dataclass
class ParsedStatement:
    """What a file says: its lines, and the period and balances when it states them."""

    lines: list[ParsedLine] = field(default_factory=list)
    starts_on: date | None = None
    ends_on: date | None = None
    opening_balance: int | None = None
    closing_balance: int | None = None
    currency: str | None = None
    skipped: int = 0  # lines of no amount (zero), or not booked yet (CAMT pending)


def to_minor(text: str, currency: str, decimal_separator: str = ".") -> int:
    """Signed minor units from a bank's number: '1.250,00', '-7.50', '400,00-', '(12.00)'."""
    raw = (text or "").strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        raw, negative = raw[1:-1], True
    if raw.endswith("-"):
        raw, negative = raw[:-1], not negative
    if raw.startswith(("-", "+")):
        negative ^= raw[0] == "-"
        raw = raw[1:]
    thousands = "." if decimal_separator == "," else ","
    raw = raw.replace(thousands, "").replace(decimal_separator, ".")
    if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", raw, re.ASCII):
        raise ValueError(f"{text.strip()!r} is not an amount")
    try:
        value = Decimal(raw).scaleb(minor_digits(currency))
    except InvalidOperation as exc:  # pragma: no cover - the pattern keeps this out
        raise ValueError(f"{text.strip()!r} is not an amount") from exc
    if value != value.to_integral_value():
        raise ValueError(f"{text.strip()!r} has more decimals than {currency} has")
    if value > MAX_MINOR_UNITS:
        raise ValueError(f"{text.strip()!r} is too large")
    return -int(value) if negative else int(value)


# --- CSV --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvMapping:
    """Which column holds what, by header name; saved on the bank account for next time.
    Either `amount` (signed) or `debit` and `credit` (money out, money in) is set."""

    date: str
    date_format: str = "%Y-%m-%d"
    amount: str = ""
    debit: str = ""
    credit: str = ""
    description: str = ""
    reference: str = ""
    decimal_separator: str = "."
    delimiter: str = ","

    @classmethod
    def from_dict(cls, data: dict | None) -> CsvMapping | None:
        """The mapping saved as JSON, or None."""
        if not data:
            return None
        known = {k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known) if known.get("date") else None

    def as_dict(self) -> dict[str, str]:
        """The mapping as JSON."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def check(self) -> None:
        """Raise DomainError naming the setting that cannot work."""
        if self.date_format not in DATE_FORMATS:
            raise DomainError("choose one of the date formats offered", field="date_format")
        if self.delimiter not in DELIMITERS:
            raise DomainError("choose one of the separators offered", field="delimiter")
        if self.decimal_separator not in (".", ","):
            raise DomainError("the decimal separator is . or ,", field="decimal_separator")
        if not self.amount and not (self.debit and self.credit):
            raise DomainError("name the amount column, or both the debit and credit columns",
                              field="amount")


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def parse_csv(data: bytes, mapping: CsvMapping, currency: str) -> ParsedStatement:
    """Read a CSV statement with a header row, column by column as `mapping` says."""
    mapping.check()
    reader = csv.reader(io.StringIO(_decode(data)), delimiter=mapping.delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise StatementError("the file is empty, or not CSV", 1) from exc
    wanted = [mapping.date, mapping.amount, mapping.debit, mapping.credit,
              mapping.description, mapping.reference]
    missing = [name for name in wanted if name and name not in header]
    if missing:
        raise StatementError(f"no column {missing[0]!r}; the columns are "
                             f"{', '.join(repr(h) for h in header)}", 1)
    where = {name: header.index(name) for name in wanted if name}
    statement = ParsedStatement(currency=currency)
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            line = _csv_line(reader.line_num, row, where, mapping, currency)
            if line is None:
                statement.skipped += 1
            else:
                statement.lines.append(line)
    except csv.Error as exc:
        raise StatementError(f"the CSV is malformed ({exc})", reader.line_num) from exc
    if not statement.lines:
        raise StatementError("the file has no statement lines")
    return statement


def _csv_line(line_no: int, row: list[str], where: dict[str, int], mapping: CsvMapping,
              currency: str) -> ParsedLine | None:
    def cell(name: str) -> str:
        if not name:
            return ""
        index = where[name]
        if index >= len(row):
            raise StatementError(f"the row has no {name!r} column", line_no)
        return row[index].strip()

    text = cell(mapping.date)
    try:
        booked_on = datetime.strptime(text, mapping.date_format).date()
    except ValueError as exc:
        raise StatementError(f"{text!r} is not a date written "
                             f"{DATE_FORMATS[mapping.date_format]}", line_no) from exc
    try:
        if mapping.amount:
            amount = to_minor(cell(mapping.amount), currency, mapping.decimal_separator)
        else:
            debit, credit = cell(mapping.debit), cell(mapping.credit)
            if debit and credit:
                raise ValueError("both the debit and the credit column hold an amount")
            if not debit and not credit:
                raise ValueError("neither the debit nor the credit column holds an amount")
            value = abs(to_minor(debit or credit, currency, mapping.decimal_separator))
            amount = -value if debit else value
    except ValueError as exc:
        raise StatementError(str(exc), line_no) from exc
    if amount == 0:
        return None
    return ParsedLine(line_no, booked_on, amount, cell(mapping.description)[:500],
                      cell(mapping.reference)[:200])
