"""A member's statement as a PDF, in Unicode fonts shipped in the package (fonts/): Noto Sans
for Latin (Filipino and Indian names with diacritics too), Noto Sans Devanagari, and Droid
Sans Fallback for Chinese, Japanese and Korean, so no name turns into '?'. Long text wraps
in its table cell instead of being cut. Text in Devanagari is shaped with HarfBuzz
(uharfbuzz), so its conjuncts and vowel signs sit where they belong."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from collective.ledger.models import EntryKind
from collective.money import format_money
from collective.web.formatting import day_label

if TYPE_CHECKING:
    from fpdf import FPDF

    from collective.reports.services import Statement

FONTS = Path(__file__).parent / "fonts"
#: family -> style -> file; the first family is the text font, the others its fallbacks.
FONT_FILES = {
    "NotoSans": {"": "NotoSans-Regular.ttf", "B": "NotoSans-Bold.ttf",
                 "I": "NotoSans-Italic.ttf"},
    "NotoSansDevanagari": {"": "NotoSansDevanagari-Regular.ttf",
                           "B": "NotoSansDevanagari-Bold.ttf"},
    "DroidSansFallback": {"": "DroidSansFallbackFull.ttf"},
}
TEXT_FONT = "NotoSans"


#: Where the CJK blocks begin (radicals, kana, Hangul, ideographs, full-width forms): only a
#: statement with such text loads the large fallback font, which takes most of a second.
CJK_START = 0x2E80


def _document(texts: list[str]) -> FPDF:
    """An A4 document with the shipped fonts its texts need loaded, and the fallbacks set."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    needs_cjk = any(ord(char) >= CJK_START for text in texts for char in text)
    families = [f for f in FONT_FILES if needs_cjk or f != "DroidSansFallback"]
    for family in families:
        for style, filename in FONT_FILES[family].items():
            pdf.add_font(family, style, FONTS / filename)
    # a bold or italic character missing from Noto Sans falls back to the regular face of
    # the script's font (exact_match=False), never to '?'
    pdf.set_fallback_fonts([f for f in families if f != TEXT_FONT], exact_match=False)
    # Devanagari (and the other scripts from Hebrew to the Indic ones) need shaping to put
    # conjuncts and vowel signs in place; plain Latin text is laid out faster without it
    if any(0x0590 <= ord(char) < 0x1D00 for text in texts for char in text):
        pdf.set_text_shaping(True)
    pdf.set_auto_page_break(auto=True, margin=15)
    return pdf


def statement_document(statement: Statement) -> FPDF:
    """The statement laid out on pages (the caller outputs it)."""
    cur = statement.currency
    pdf = _document([statement.member_name, statement.collective_name,
                     *(line.memo for line in statement.lines)])
    pdf.set_creation_date(datetime.combine(statement.date_to, datetime.min.time()))
    pdf.set_title(f"Statement for {statement.member_name}")
    pdf.set_author(statement.collective_name)
    pdf.add_page()
    pdf.set_font(TEXT_FONT, "B", 16)
    pdf.multi_cell(0, 9, statement.collective_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(TEXT_FONT, "", 11)
    pdf.multi_cell(0, 7, f"Statement of account for {statement.member_name}",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 7, f"Period: {day_label(statement.date_from)} to "
                         f"{day_label(statement.date_to)}, amounts in {cur}",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    summary = [("Opening balance (owed to you)", statement.opening),
               ("Shares of client payments", statement.total(EntryKind.PAYMENT)),
               ("Benefits received", statement.total(EntryKind.BENEFIT,
                                                     EntryKind.CONTRIBUTION_RETURN)),
               ("Benefits fund contributions", statement.total(EntryKind.CONTRIBUTION)),
               ("Deposits you paid in", statement.total(EntryKind.DEPOSIT)),
               ("Paid out to you", statement.total(EntryKind.PAYOUT)),
               ("Corrections", statement.total(EntryKind.REVERSAL)),
               ("Closing balance (owed to you)", statement.closing)]
    for label, amount in summary:
        pdf.cell(110, 7, label)
        pdf.cell(50, 7, format_money(amount, cur), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(TEXT_FONT, "", 9)
    # A table wraps each cell's text onto as many lines as it needs, and repeats its
    # heading on every page.
    with pdf.table(col_widths=(24, 14, 88, 32, 32), text_align=("LEFT", "LEFT", "LEFT",
                                                                  "RIGHT", "RIGHT"),
                   line_height=5, padding=1, borders_layout="HORIZONTAL_LINES",
                   first_row_as_headings=True, repeat_headings=1) as table:
        table.row(("Date", "Entry", "What", "Amount", "Balance"))
        for line in statement.lines:
            table.row((day_label(line.occurred_on), str(line.entry_id),
                       f"{line.label}: {line.memo}" if line.memo else line.label,
                       format_money(line.amount, cur), format_money(line.balance, cur)))
    pdf.ln(4)
    pdf.set_font(TEXT_FONT, "I", 8)
    pdf.multi_cell(0, 5, (
        "Amounts owed to you are what the collective holds on your behalf: your shares of "
        "client payments and benefits received, less contributions and payouts. Every line "
        "is a journal entry of the collective's double-entry ledger (entry number shown)."))
    return pdf


def statement_pdf(statement: Statement) -> bytes:
    """The statement as a PDF a member can hand to a bank or a tax office."""
    return bytes(statement_document(statement).output())
