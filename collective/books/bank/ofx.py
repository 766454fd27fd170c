"""Reading OFX statements (1.x SGML and 2.x XML) with ofxtools."""
from __future__ import annotations

import io
import re
import warnings
from decimal import Decimal

from collective.books.bank.importers import ParsedLine, ParsedStatement, StatementError, to_minor

_TAG = re.compile(rb"<(STMTTRN|DTPOSTED|TRNAMT)>\s*([^<\r\n]*)", re.IGNORECASE)


def _transaction_lines(data: bytes) -> list[dict[str, tuple[int, str]]]:
    """For each <STMTTRN> in the file, the line numbers and texts of its tags."""
    found: list[dict[str, tuple[int, str]]] = []
    for number, text in enumerate(data.splitlines(), start=1):
        for match in _TAG.finditer(text):
            tag = match[1].decode().upper()
            value = match[2].decode("latin-1").strip()
            if tag == "STMTTRN":
                found.append({"STMTTRN": (number, "")})
            elif found:
                found[-1][tag] = (number, value)
    return found


def _blame(data: bytes, index: int, currency: str) -> StatementError:
    """The error for the index-th transaction, naming its line and, when it is plain, what
    is wrong with it."""
    tags = _transaction_lines(data)
    if index >= len(tags):
        return StatementError(f"transaction {index + 1} cannot be read")
    txn = tags[index]
    amount = txn.get("TRNAMT")
    if amount is None:
        return StatementError("the transaction has no amount (TRNAMT)", txn["STMTTRN"][0])
    try:
        Decimal(amount[1])
        to_minor(amount[1], currency)
    except Exception:  # noqa: BLE001 - any failure means the amount is what is wrong
        return StatementError(f"{amount[1]!r} is not an amount (TRNAMT)", amount[0])
    posted = txn.get("DTPOSTED")
    if posted is None:
        return StatementError("the transaction has no date (DTPOSTED)", txn["STMTTRN"][0])
    if not re.fullmatch(r"\d{8}(\d{6}(\.\d{3})?)?(\[[^\]]*\])?", posted[1]):
        return StatementError(f"{posted[1]!r} is not an OFX date (DTPOSTED)", posted[0])
    return StatementError(f"transaction {index + 1} cannot be read", txn["STMTTRN"][0])


def parse_ofx(data: bytes, currency: str) -> ParsedStatement:
    """Read the first bank statement of an OFX file."""
    from ofxtools.models.base import Aggregate
    from ofxtools.Parser import OFXTree

    tree = OFXTree()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree.parse(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - ofxtools raises many kinds; all mean "not OFX"
        raise StatementError(f"the file is not OFX ({str(exc).splitlines()[0][:120]})") from exc
    root = tree.getroot()
    elements = list(root.iter("STMTTRN"))
    for index, element in enumerate(elements):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                Aggregate.from_etree(element)
        except Exception as exc:  # noqa: BLE001
            raise _blame(data, index, currency) from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            statements = tree.convert().statements
    except Exception as exc:  # noqa: BLE001
        raise StatementError(f"the statement cannot be read ({str(exc)[:160]})") from exc
    if not statements:
        raise StatementError("the file holds no bank statement")
    stmt = statements[0]
    if stmt.curdef and stmt.curdef != currency:
        raise StatementError(f"the statement is in {stmt.curdef}, the account in {currency}")
    statement = ParsedStatement(currency=currency)
    numbers = [txn["STMTTRN"][0] for txn in _transaction_lines(data)]
    for index, txn in enumerate(stmt.banktranlist or []):
        line_no = numbers[index] if index < len(numbers) else 0
        try:
            amount = to_minor(str(txn.trnamt), currency)
        except ValueError as exc:
            raise StatementError(str(exc), line_no) from exc
        if amount == 0:
            statement.skipped += 1
            continue
        description = " ".join(part for part in (txn.name, txn.memo) if part)
        reference = txn.refnum or txn.checknum or txn.fitid or ""
        statement.lines.append(ParsedLine(line_no, txn.dtposted.date(), amount,
                                          description[:500], reference[:200]))
    tranlist = stmt.banktranlist
    if tranlist is not None and tranlist.dtstart and tranlist.dtend:
        statement.starts_on, statement.ends_on = tranlist.dtstart.date(), tranlist.dtend.date()
    if stmt.ledgerbal is not None:
        try:
            statement.closing_balance = to_minor(str(stmt.ledgerbal.balamt), currency)
        except ValueError as exc:
            raise StatementError(f"the closing balance: {exc}") from exc
        statement.ends_on = stmt.ledgerbal.dtasof.date()
    if not statement.lines:
        raise StatementError("the statement has no transactions")
    return statement
