"""Tax receipts and tax reports as unsigned PDFs (sign them with
:func:`reports.pdf.signing.sign_pdf`, which keeps the attachments in the signed range).

Deterministic like the donor receipts: equal data, language and ``now`` give equal bytes.

* :func:`render_tax_receipt`: one donation's Bukti Setor Zakat (PMK 114/2025 art. 9) or
  PP 93/2010 donation receipt, with the donation's ``receipt-<index>.tlog-proof`` (and JSON
  receipt) attached as on the donor receipt.
* :func:`render_tax_report`: the report of a period for the tax office, with the same rows as
  CSV attached (``<kind>-<year>[-q<n>].csv``), so the signature covers the CSV too.
"""

from __future__ import annotations

import datetime as dt

from reports.errors import reportlab_failures
from reports.pdf.attachments import Attachment
from reports.pdf.fonts import report_fonts
from reports.pdf.localization import Language, check_language, format_moment
from reports.pdf.page_layout import render_paginated
from reports.tax.csvfile import report_csv
from reports.tax.data import TaxReceiptData, TaxReportData
from reports.tax.receipt_layout import draw_tax_receipt
from reports.tax.report_layout import draw_tax_report


def render_tax_receipt(data: TaxReceiptData, lang: Language, *, now: dt.datetime) -> bytes:
    """The unsigned tax receipt in ``lang`` ("id" or "en")."""
    lang = check_language(lang)
    issued = format_moment(now, lang)
    fonts = report_fonts()
    files = [
        Attachment(
            f"receipt-{data.index}.tlog-proof",
            data.tlog_proof.encode(),
            "text/plain",
            "Offline proof, c2sp.org/tlog-proof",
        )
    ]
    if data.receipt_json is not None:
        files.append(
            Attachment(
                f"receipt-{data.index}.json", data.receipt_json, "application/json", "JSON receipt"
            )
        )
    with reportlab_failures(f"the tax receipt {data.number}"):
        return render_paginated(
            lambda total: draw_tax_receipt(data, lang, issued, fonts, files, total)
        )


def report_csv_name(data: TaxReportData) -> str:
    return f"{data.slug}.csv"


def render_tax_report(data: TaxReportData, lang: Language, *, now: dt.datetime) -> bytes:
    """The unsigned tax report in ``lang``, its CSV attached."""
    lang = check_language(lang)
    issued = format_moment(now, lang)
    fonts = report_fonts()
    files = [Attachment(report_csv_name(data), report_csv(data), "text/csv", "CSV")]
    with reportlab_failures(f"the tax report {data.slug}"):
        return render_paginated(
            lambda total: draw_tax_report(data, lang, issued, fonts, files, total)
        )


__all__ = ["render_tax_receipt", "render_tax_report", "report_csv_name"]
