"""Tax receipts and reports on the reports package alone: amounts in words, deterministic
rendering, the CSV's bytes, and the checks the data classes make."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from reports.errors import ReportDataError
from reports.pdf.attachments import read_attachments
from reports.tax.csvfile import report_csv
from reports.tax.data import Payer, Recipient, ReportRow, TaxReceiptData, TaxReportData
from reports.tax.pdf import render_tax_receipt, render_tax_report
from reports.tax.words import english, indonesian, rupiah_in_words

NOW = dt.datetime(2027, 1, 5, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
RECIPIENT = Recipient("Yayasan Senyum", "012345678901000", "Jl. Melati 5", "SK BAZNAS 12/2025")


@pytest.mark.parametrize(
    ("n", "words_id", "words_en"),
    [
        (0, "nol", "zero"),
        (11, "sebelas", "eleven"),
        (15, "lima belas", "fifteen"),
        (100, "seratus", "one hundred"),
        (1_000, "seribu", "one thousand"),
        (1_100, "seribu seratus", "one thousand one hundred"),
        (11_000, "sebelas ribu", "eleven thousand"),
        (250_000, "dua ratus lima puluh ribu", "two hundred fifty thousand"),
        (1_250_000, "satu juta dua ratus lima puluh ribu", "one million two hundred fifty thousand"),
        (2_000_000_001, "dua miliar satu", "two billion one"),
        (7 * 10**12, "tujuh triliun", "seven trillion"),
    ],
)
def test_numbers_in_words(n: int, words_id: str, words_en: str) -> None:
    assert indonesian(n) == words_id and english(n) == words_en


def test_rupiah_in_words_with_sen_and_its_limits() -> None:
    assert rupiah_in_words(25_000_050, 2, "id") == "dua ratus lima puluh ribu rupiah lima puluh sen"
    assert rupiah_in_words(25_000_000, 2, "en") == "two hundred fifty thousand rupiah"
    with pytest.raises(ReportDataError):
        indonesian(10**15)
    with pytest.raises(ReportDataError):
        indonesian(-1)


def receipt(**changes) -> TaxReceiptData:  # type: ignore[no-untyped-def]
    base = dict(
        number="BSZ/2026/42",
        received_on=dt.date(2026, 11, 20),
        category="zakat",
        amount=25_000_000,
        currency="IDR",
        minor_units=2,
        fund_name="Zakat Mal 2026",
        fund_code="zakat-2026",
        payer=Payer("Siti Aminah", "098765432210000", None),
        recipient=RECIPIENT,
        origin="ledger.example/orgs/senyum",
        index=42,
        tree_size=50,
        root_b64=base64.b64encode(bytes(32)).decode(),
        verify_url="https://transparansi.example/verify?org=senyum&entry=42",
        tlog_proof="c2sp.org/tlog-proof@v1\nindex 42\n",
    )
    return TaxReceiptData(**{**base, **changes})  # type: ignore[arg-type]


def test_tax_receipt_renders_the_same_bytes_twice_and_attaches_the_proof() -> None:
    first = render_tax_receipt(receipt(), "id", now=NOW)
    assert first == render_tax_receipt(receipt(), "id", now=NOW)
    assert read_attachments(first)["receipt-42.tlog-proof"].startswith(b"c2sp.org/tlog-proof")
    assert first != render_tax_receipt(receipt(category="disaster"), "id", now=NOW)


def test_the_data_refuses_what_a_receipt_cannot_be() -> None:
    with pytest.raises(ReportDataError, match="NPWP or NIK"):
        Payer("Siti", None, None)
    with pytest.raises(ReportDataError, match="full_name"):
        Payer(" ", "098765432210000", None)
    with pytest.raises(ReportDataError, match="npwp"):
        Recipient("Yayasan", "")
    with pytest.raises(ReportDataError, match="tax category"):
        receipt(category="charity")
    with pytest.raises(ReportDataError, match="tree_size"):
        receipt(tree_size=42)


def report(rows: tuple[ReportRow, ...], **changes) -> TaxReportData:  # type: ignore[no-untyped-def]
    base = dict(
        kind="zakat", year=2026, quarter=None, start=dt.date(2026, 1, 1),
        end=dt.date(2027, 1, 1), due=dt.date(2027, 1, 14), recipient=RECIPIENT,
        currency="IDR", minor_units=2, origin="ledger.example/orgs/senyum", tree_size=99,
        rows=rows,
    )  # fmt: skip
    return TaxReportData(**{**base, **changes})  # type: ignore[arg-type]


def row(index: int, **changes) -> ReportRow:  # type: ignore[no-untyped-def]
    base = dict(
        number=f"BSZ/2026/{index}", received_on=dt.date(2026, 11, 1), index=index,
        amount=1_000_050, fund_code="zakat-2026", fund_name="Zakat", full_name="Budi",
        npwp=None, nik="3273012345670001",
    )  # fmt: skip
    return ReportRow(**{**base, **changes})  # type: ignore[arg-type]


def test_report_csv_and_pdf() -> None:
    data = report((row(5), row(7, full_name=None, nik=None)))
    text = report_csv(data).decode()
    assert text.splitlines()[1] == (
        "1,BSZ/2026/5,2026-11-01,NIK,3273012345670001,Budi,1000050,10000.50,IDR,2,zakat-2026,5"
    )
    assert text.splitlines()[2] == "2,BSZ/2026/7,2026-11-01,,,,1000050,10000.50,IDR,2,zakat-2026,7"
    assert data.total == 2_000_100 and data.identified_total == 1_000_050
    pdf = render_tax_report(data, "en", now=NOW)
    assert pdf == render_tax_report(data, "en", now=NOW)
    assert read_attachments(pdf)["zakat-2026.csv"] == report_csv(data)


def test_a_report_keeps_its_rows_in_its_period_and_reversals_apart() -> None:
    with pytest.raises(ReportDataError, match="outside"):
        report((row(5, received_on=dt.date(2027, 1, 1)),))
    with pytest.raises(ReportDataError, match="unreversed"):
        report((row(5, reversed_by=9, reversed_on=dt.date(2026, 11, 2)),))


def test_a_name_that_starts_like_a_formula_stays_text_in_the_csv() -> None:
    from reports.tax.csvfile import spreadsheet_safe

    assert spreadsheet_safe('=HYPERLINK("http://x","klik")') == '\'=HYPERLINK("http://x","klik")'
    assert spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_safe("-1+2") == "'-1+2"
    assert spreadsheet_safe("Siti Aminah") == "Siti Aminah"
