"""Importing statements: each sample twice (the second adds nothing), identical lines in one
file, malformed files naming their line and importing nothing, CSV mappings."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from collective.books.bank import services
from collective.books.bank.importers import CsvMapping, StatementError
from collective.books.bank.models import BankLine, BankStatement
from collective.errors import DomainError
from collective.extensions import db
from tests.books.bank.factories import TODAY, import_sample, make_bank, sample


def _count(model, account) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)
                             .filter_by(bank_account_id=account.id))


@pytest.mark.parametrize(("fmt", "lines", "closing"), [("csv", 6, None), ("ofx", 4, 178251),
                                                      ("camt053", 4, 178251)])
def test_each_sample_imported_twice_adds_its_lines_once(ctx, fmt, lines, closing):
    treasurer, account = make_bank()
    first = import_sample(treasurer, account, fmt)
    assert (first.line_count, first.new_count) == (lines, lines)
    assert first.statement.closing_balance == closing
    assert (first.statement.starts_on, first.statement.ends_on) == (
        date(2026, 10, 1) if fmt != "csv" else date(2026, 10, 2), date(2026, 10, 31))
    again = import_sample(treasurer, account, fmt)
    assert (again.statement, again.line_count, again.new_count) == (None, lines, 0)
    assert _count(BankLine, account) == lines
    assert _count(BankStatement, account) == 1
    amounts = sorted(db.session.scalars(sa.select(BankLine.amount)
                                        .filter_by(bank_account_id=account.id)))
    assert amounts[0] == -40000 and amounts[-1] == 125000 and -750 in amounts


def test_the_camt_sample_reads_payer_references_and_balances(ctx):
    treasurer, account = make_bank()
    result = import_sample(treasurer, account, "camt053")
    assert result.statement.opening_balance == 100000
    line = db.session.scalar(sa.select(BankLine).filter_by(amount=125000,
                                                           bank_account_id=account.id))
    assert (line.booked_on, line.reference) == (date(2026, 10, 2), "INV-2026-014")
    assert "ACME GmbH" in line.description


def test_two_identical_lines_in_one_file_are_both_kept(ctx):
    """Two equal transfer fees on one day are two fees: the second gets occurrence 2 in its
    key, so both are imported once, and importing the file again adds neither."""
    treasurer, account = make_bank()
    import_sample(treasurer, account, "csv")
    fees = db.session.scalars(sa.select(BankLine).filter_by(bank_account_id=account.id,
                                                            amount=-50)).all()
    assert len(fees) == 2 and fees[0].line_key != fees[1].line_key
    assert import_sample(treasurer, account, "csv").new_count == 0


def test_a_later_file_overlapping_an_earlier_one_adds_only_the_new_lines(ctx):
    treasurer, account = make_bank()
    head = b"\n".join(sample("csv").splitlines()[:3]) + b"\n"
    assert import_sample(treasurer, account, "csv", head).new_count == 2
    assert import_sample(treasurer, account, "csv").new_count == 4


BROKEN = {
    "csv": (b"20.10.2026", b"2026-10-20", "line 6: '2026-10-20' is not a date written DD.MM.YYYY"),
    "ofx": (b"<TRNAMT>-59.99", b"<TRNAMT>-59,9x", "line 59: '-59,9x' is not an amount (TRNAMT)"),
    "camt053": (b"<Dt>2026-10-20</Dt>", b"<Dt>2026-10-40</Dt>",
                "line 60: '2026-10-40' is not an ISO date"),
}


@pytest.mark.parametrize("fmt", sorted(BROKEN))
def test_a_malformed_file_names_its_line_and_imports_nothing(ctx, fmt):
    treasurer, account = make_bank()
    good, bad, message = BROKEN[fmt]
    data = sample(fmt).replace(good, bad)
    assert data != sample(fmt)
    with pytest.raises(StatementError) as caught:
        import_sample(treasurer, account, fmt, data)
    assert caught.value.message == message
    assert caught.value.field == "file"
    assert _count(BankLine, account) == 0 and _count(BankStatement, account) == 0


def test_broken_xml_names_the_line_where_it_breaks(ctx):
    treasurer, account = make_bank()
    data = sample("camt053").replace(b"</Ntry>", b"</Nt>", 1)
    with pytest.raises(StatementError, match="^line 43: the XML is malformed$"):
        import_sample(treasurer, account, "camt053", data)


def test_xml_with_entities_is_refused(ctx):
    treasurer, account = make_bank()
    bomb = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaa">]>'
            b"<Document>&a;&a;</Document>")
    with pytest.raises(StatementError, match="entities or a DTD"):
        import_sample(treasurer, account, "camt053", bomb)


def test_a_statement_in_another_currency_is_refused(ctx):
    treasurer, account = make_bank(currency="USD")
    with pytest.raises(StatementError, match="in EUR, the account in USD"):
        import_sample(treasurer, account, "camt053")


def test_a_csv_with_one_signed_amount_column_and_its_mapping_is_kept(ctx):
    treasurer, account = make_bank()
    mapping = CsvMapping(date="date", amount="amount", description="text", reference="ref")
    data = b"date,amount,text,ref\n2026-10-03,\"1,200.50\",Client X,R1\n2026-10-04,-3.2,Fee,\n"
    result = services.import_statement(treasurer, account, fmt="csv", data=data,
                                       mapping=mapping, closing_balance=119730, today=TODAY)
    assert result.new_count == 2
    assert sorted(db.session.scalars(sa.select(BankLine.amount)
                                     .filter_by(bank_account_id=account.id))) == [-320, 120050]
    assert result.statement.closing_balance == 119730
    assert CsvMapping.from_dict(account.csv_mapping) == mapping


def test_a_csv_missing_a_mapped_column_names_the_header_line(ctx):
    treasurer, account = make_bank()
    mapping = CsvMapping(date="Date", amount="Amount")
    with pytest.raises(StatementError, match="^line 1: no column 'Date'"):
        services.import_statement(treasurer, account, fmt="csv", data=b"Day,Amount\n1,2\n",
                                  mapping=mapping, today=TODAY)


def test_a_line_dated_after_tomorrow_is_refused(ctx):
    treasurer, account = make_bank()
    mapping = CsvMapping(date="date", amount="amount")
    with pytest.raises(StatementError, match="^line 2: 2026-11-20 is in the future"):
        services.import_statement(treasurer, account, fmt="csv", mapping=mapping,
                                  data=b"date,amount\n2026-11-20,5\n", today=TODAY)


def test_only_a_treasurer_imports(ctx):
    from collective.members.models import Role
    from tests.factories import make_member

    treasurer, account = make_bank()
    member = make_member(treasurer.collective, roles=(Role.MEMBER, Role.COORDINATOR))
    with pytest.raises(DomainError) as caught:
        import_sample(member, account, "ofx")
    assert caught.value.status == 403
