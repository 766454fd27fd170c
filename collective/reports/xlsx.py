"""The ledger as an XLSX workbook: postings, the trial balance, and a sheet per fund.

Written row by row (openpyxl's write-only mode) into a temporary file, then copied with fixed
zip timestamps, so the same request gives the same bytes.
"""
from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO

from collective.ledger import balances
from collective.ledger import services as ledger
from collective.reports.exports import Amounts, LedgerQuery, Progress, iter_rows

#: Fixed zip timestamps, so an XLSX file is the same bytes whenever it is written.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _number_format(currency: str, digits: int) -> str:
    decimals = "." + "0" * digits if digits else ""
    return f'#,##0{decimals} "{currency}";-#,##0{decimals} "{currency}"'


def _xlsx_cells(sheet, values: list, formats: dict[int, str]) -> list:
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for index, value in enumerate(values):
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # text, never a formula
        if index in formats and value is not None:
            cell.number_format = formats[index]
        cells.append(cell)
    return cells


def write_xlsx(q: LedgerQuery, out: BinaryIO, progress: Progress = None) -> None:
    """The ledger as an XLSX workbook: postings, trial balance, and one sheet per fund."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    workbook = Workbook(write_only=True)
    amounts = Amounts()
    formats_cache: dict[str, str] = {}

    def fmt(currency: str) -> str:
        if currency not in formats_cache:
            formats_cache[currency] = _number_format(currency, amounts.digits(currency))
        return formats_cache[currency]

    def posting_sheet(title: str, query: LedgerQuery, progress: Progress = None) -> None:
        sheet = workbook.create_sheet(title)
        sheet.append(["Date", "Entry", "Kind", "Memo", "Account", "Account name", "Member",
                      "Debit", "Credit", "Currency", "Balance"])
        for row in iter_rows(query, progress=progress):
            money = fmt(row.currency)
            values = [row.occurred_on, row.entry_id, row.kind, row.memo, row.account_code,
                      row.account_name, row.member,
                      amounts.number(row.amount, row.currency) if row.amount > 0 else None,
                      amounts.number(-row.amount, row.currency) if row.amount < 0 else None,
                      row.currency, amounts.number(row.balance, row.currency)]
            sheet.append(_xlsx_cells(sheet, values, {0: "yyyy-mm-dd", 7: money, 8: money,
                                                      10: money}))

    posting_sheet("Postings", q, progress)
    balance_sheet = workbook.create_sheet("Trial balance")
    balance_sheet.append([f"Trial balance as of {q.date_to.isoformat()}"])
    balance_sheet.append(["Account", "Account name", "Type", "Currency", "Debits", "Credits",
                          "Balance"])
    for row in balances.trial_balance(q.collective_id, q.date_to):
        money = fmt(row.currency)
        values = [row.code, row.name, row.type, row.currency,
                  amounts.number(row.debits, row.currency),
                  amounts.number(row.credits, row.currency),
                  amounts.number(row.natural_balance, row.currency)]
        balance_sheet.append(_xlsx_cells(balance_sheet, values, {4: money, 5: money, 6: money}))
    for code, title in ((ledger.COMMON_FUND, "Common fund"),
                        (ledger.BENEFITS_FUND, "Benefits fund")):
        posting_sheet(title, LedgerQuery(q.collective_id, q.date_from, q.date_to,
                                         account_code=code))
    stamp = datetime.combine(q.date_to, datetime.min.time())
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    workbook.properties.creator = "Collective"
    with tempfile.TemporaryFile() as raw:
        with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            ExcelWriter(workbook, archive).save()
        raw.seek(0)
        _normalise_zip(raw, out)


def _normalise_zip(source: BinaryIO, out: BinaryIO) -> None:
    """Copy a zip with every entry's timestamp fixed, streaming each entry."""
    with zipfile.ZipFile(source) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            with src.open(info) as reader, dst.open(fixed, "w", force_zip64=True) as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)


def xlsx_chunks(q: LedgerQuery, size: int = 1 << 16, progress: Progress = None
                ) -> Iterator[bytes]:
    """The XLSX workbook as byte chunks (built in a temporary file first)."""
    with tempfile.TemporaryFile() as out:
        write_xlsx(q, out, progress)
        out.seek(0)
        while chunk := out.read(size):
            yield chunk
