"""A tax report as CSV (RFC 4180, UTF-8, comma-separated, CRLF line ends): one row per
donation that counts, in the order of the PDF.

Columns: ``no``, ``receipt_number``, ``value_date`` (YYYY-MM-DD), ``donor_id_type`` (``NPWP``,
``NIK`` or empty), ``donor_id`` (digits), ``donor_name`` (the full name the donor gave, or
empty), ``amount`` (integer minor units; a name that starts like a spreadsheet formula is prefixed
with an apostrophe), ``amount_decimal`` (the same with the fund's
exponent: ``250000.00``), ``currency``, ``minor_units``, ``fund``, ``entry_index``. Reversed
donations are not rows (the PDF lists them apart). This layout is ours: the tax office's
own e-form layout could not be confirmed here (README, "Tax receipts and reports").
"""

from __future__ import annotations

import csv
import io

from reports.tax.data import TaxReportData
from schemas.money import decimal_amount

COLUMNS = (
    "no", "receipt_number", "value_date", "donor_id_type", "donor_id", "donor_name", "amount",
    "amount_decimal", "currency", "minor_units", "fund", "entry_index",
)  # fmt: skip


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula in a cell (OWASP, CSV injection)."""


def spreadsheet_safe(text: str) -> str:
    """``text`` for a cell staff open in a spreadsheet: a name a donor typed that starts like
    a formula (``=HYPERLINK(…)``) gets a leading apostrophe, so it stays text."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def report_csv(data: TaxReportData) -> bytes:
    """The report's rows as CSV bytes; equal data give equal bytes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for n, row in enumerate(data.rows, start=1):
        writer.writerow(
            (
                n,
                row.number,
                row.received_on.isoformat(),
                row.id_type,
                row.id_number,
                spreadsheet_safe(row.full_name or ""),
                row.amount,
                decimal_amount(row.amount, data.minor_units),
                data.currency,
                data.minor_units,
                row.fund_code,
                row.index,
            )
        )
    return out.getvalue().encode("utf-8")
