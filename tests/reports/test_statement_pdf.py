"""Statement PDFs: names in any script the collective's members write (Devanagari, Filipino
diacritics, Chinese) come out as themselves, through the Unicode fonts shipped in the
package, and long text wraps onto more lines instead of being cut."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pypdf

from collective.ledger import services as ledger
from collective.ledger.services import Line
from collective.reports.pdf import FONT_FILES, FONTS, statement_pdf
from collective.reports.services import Statement, StatementLine
from tests.factories import PASSWORD, commit, make_collective, make_member, make_user

NAMES = ["Priya Śarmā प्रिया", "Ñiño Dela Cruz", "王小明"]
LONG_MEMO = ("Benefits contribution 2026-08: Parental leave for Rhea Bautista at the level of "
             "USD 1,250.00, taken from the members' reserves in proportion to what each put in, "
             "the last words of which are ENDOFMEMO")


def _text(pdf: bytes) -> str:
    """The PDF's text as a reader copies it. A shaped Devanagari glyph that stands for no
    single character can map to a control character in the font's character map; those are
    dropped, as a reader shows nothing for them."""
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return "".join(char for char in text if char == "\n" or ord(char) >= 0x20)


def _fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return names


def _statement(name: str, memo: str = "Share of Harbour Dental retainer") -> Statement:
    return Statement(name, "Bayanihan Remote Collective", "USD", date(2026, 1, 1),
                     date(2026, 11, 26), 10_000,
                     [StatementLine(date(2026, 8, 1), 12, "contribution", memo, -5_625, 4_375)])


def test_the_shipped_fonts_are_in_the_package_with_their_licences():
    for styles in FONT_FILES.values():
        for filename in styles.values():
            assert (FONTS / filename).stat().st_size > 100_000
    assert "SIL Open Font License" in (FONTS / "LICENSE-Noto.txt").read_text()
    assert "Apache License" in (FONTS / "LICENSE-DroidSansFallback.txt").read_text()
    assert sum(f.stat().st_size for f in FONTS.iterdir()) < 10_000_000


def test_names_in_devanagari_diacritics_and_chinese_come_out_as_themselves():
    pdf = statement_pdf(_statement(" · ".join(NAMES)))

    text = _text(pdf)
    for name in NAMES:
        assert name in text
    assert "?" not in text
    assert {"NotoSans", "NotoSansDevanagari", "DroidSansFallback"} <= _fonts(pdf)
    assert not any(font.startswith("Helvetica") for font in _fonts(pdf))


def test_a_latin_statement_embeds_only_the_fonts_it_needs():
    fonts = _fonts(statement_pdf(_statement("Ñiño Dela Cruz")))
    assert "NotoSans" in fonts and "DroidSansFallback" not in fonts


def test_a_long_memo_wraps_onto_more_lines_and_keeps_every_word():
    text = _text(statement_pdf(_statement("Joy", LONG_MEMO)))
    assert "ENDOFMEMO" in text
    memo_lines = [line for line in text.splitlines()
                  if any(word in line for word in ("Parental", "Bautista", "reserves",
                                                   "ENDOFMEMO"))]
    assert len(memo_lines) >= 3
    assert " ".join(" ".join(memo_lines).split()).count("ENDOFMEMO") == 1


def test_a_member_downloads_their_statement_with_their_name_in_devanagari(client, auth,
                                                                            setup):
    day = date.today() - timedelta(days=3)
    with setup():
        treasurer = make_collective()
        priya = make_member(treasurer.collective,
                            user=make_user(name=NAMES[0], email="priya@example.test"))
        cid = treasurer.collective_id
        ledger.post_entry(cid, kind="payment", occurred_on=day, idempotency_key="pdf:1",
                          memo=LONG_MEMO,
                          lines=[Line(ledger.account_by_code(cid, ledger.BANK).id, 5_000, "USD"),
                                 Line(ledger.member_account(priya.id).id, -5_000, "USD")])
        slug, member_id = treasurer.collective.slug, priya.id
        commit()
    auth.login("priya@example.test", PASSWORD)

    response = client.get(f"/c/{slug}/reports/statement.pdf?date_from={day - timedelta(days=5)}"
                          f"&date_to={day}&member={member_id}")

    assert response.status_code == 200
    text = _text(response.get_data())
    assert f"Statement of account for {NAMES[0]}" in text
    assert "ENDOFMEMO" in text
    assert "$50.00" in text
