"""Reading ISO 20022 CAMT.053 bank-to-customer statements, parsed with defusedxml (no
entities, no external references), keeping each element's line for the error messages."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from collective.books.bank.importers import ParsedLine, ParsedStatement, StatementError, to_minor

#: Balance codes: the opening booked balance (or the previous closing), and the closing.
OPENING_CODES = ("OPBD", "PRCD")
CLOSING_CODES = ("CLBD",)


class _Element(ET.Element):
    """An element that can carry the line it starts on."""

    sourceline = 0


class _Builder(ET.TreeBuilder):
    """A tree builder that notes the line each element starts on (as `sourceline`)."""

    parser = None

    def start(self, tag, attrs):
        element = super().start(tag.rpartition("}")[2], attrs)  # namespaces dropped
        element.sourceline = self.parser.parser.CurrentLineNumber if self.parser else 0
        return element


def _tree(data: bytes) -> ET.Element:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    builder = _Builder(element_factory=_Element)
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        parser.feed(data)
        return parser.close()
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise StatementError("the XML is malformed", line) from exc
    except DefusedXmlException as exc:
        raise StatementError("the XML declares entities or a DTD, which are refused") from exc


def _text(element: ET.Element | None, path: str) -> str:
    found = element.find(path) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def _day(element: ET.Element, path: str) -> date | None:
    """The date at `path` (a Dt, or the day of a DtTm); None when absent."""
    for suffix in ("/Dt", "/DtTm"):
        text = _text(element, path + suffix)
        if text:
            try:
                return date.fromisoformat(text[:10])
            except ValueError as exc:
                node = element.find(path + suffix)
                raise StatementError(f"{text!r} is not an ISO date", node.sourceline) from exc
    return None


def _signed(element: ET.Element, currency: str) -> int:
    """An Amt with its CdtDbtInd: credits in (> 0), debits out (< 0)."""
    amount = element.find("Amt")
    if amount is None:
        raise StatementError("the entry has no amount (Amt)", element.sourceline)
    if amount.get("Ccy") and amount.get("Ccy") != currency:
        raise StatementError(f"the amount is in {amount.get('Ccy')}, the account in {currency}",
                             amount.sourceline)
    try:
        value = to_minor(amount.text or "", currency)
    except ValueError as exc:
        raise StatementError(str(exc), amount.sourceline) from exc
    if value < 0:
        raise StatementError("a CAMT amount is never negative; CdtDbtInd gives the sign",
                             amount.sourceline)
    indicator = _text(element, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        node = element.find("CdtDbtInd")
        raise StatementError(f"CdtDbtInd is {indicator!r}, not CRDT or DBIT",
                             node.sourceline if node is not None else element.sourceline)
    return value if indicator == "CRDT" else -value


def _entry(entry: ET.Element, currency: str) -> ParsedLine | None:
    status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
    if status and status != "BOOK":
        return None  # pending or informational: not on the books yet
    amount = _signed(entry, currency)
    booked_on = _day(entry, "BookgDt") or _day(entry, "ValDt")
    if booked_on is None:
        raise StatementError("the entry has no booking date (BookgDt)", entry.sourceline)
    details = entry.find("NtryDtls/TxDtls")
    end_to_end = _text(details, "Refs/EndToEndId")
    reference = (end_to_end if end_to_end not in ("", "NOTPROVIDED")
                 else _text(entry, "AcctSvcrRef"))
    parts = [_text(details, "RltdPties/Dbtr/Nm") or _text(details, "RltdPties/Cdtr/Nm"),
             _text(details, "RmtInf/Ustrd"), _text(entry, "AddtlNtryInf")]
    description = " ".join(dict.fromkeys(p for p in parts if p))
    if amount == 0:
        return None
    return ParsedLine(entry.sourceline, booked_on, amount, description[:500], reference[:200])


def parse_camt053(data: bytes, currency: str) -> ParsedStatement:
    """Read the first statement (Stmt) of a CAMT.053 document."""
    root = _tree(data)
    stmt = root.find("BkToCstmrStmt/Stmt")
    if root.tag != "Document" or stmt is None:
        raise StatementError("the file is not a CAMT.053 statement (no BkToCstmrStmt/Stmt)")
    account_currency = _text(stmt, "Acct/Ccy")
    if account_currency and account_currency != currency:
        raise StatementError(f"the statement is in {account_currency}, the account in "
                             f"{currency}", stmt.find("Acct/Ccy").sourceline)
    statement = ParsedStatement(currency=currency)
    for balance in stmt.findall("Bal"):
        code = _text(balance, "Tp/CdOrPrtry/Cd")
        if code in OPENING_CODES and statement.opening_balance is None:
            statement.opening_balance = _signed(balance, currency)
            statement.starts_on = _day(balance, "Dt")
        elif code in CLOSING_CODES:
            statement.closing_balance = _signed(balance, currency)
            statement.ends_on = _day(balance, "Dt")
    starts = _text(stmt, "FrToDt/FrDtTm")[:10]
    ends = _text(stmt, "FrToDt/ToDtTm")[:10]
    try:
        statement.starts_on = date.fromisoformat(starts) if starts else statement.starts_on
        statement.ends_on = date.fromisoformat(ends) if ends else statement.ends_on
    except ValueError as exc:
        raise StatementError("FrToDt holds a date that is not ISO",
                             stmt.find("FrToDt").sourceline) from exc
    for entry in stmt.findall("Ntry"):
        line = _entry(entry, currency)
        if line is None:
            statement.skipped += 1
        else:
            statement.lines.append(line)
    if not statement.lines:
        raise StatementError("the statement has no booked entries")
    return statement
