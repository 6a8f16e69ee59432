"""Reports of tax receipts for the tax office (DJP), as CSV and as signed PDF.

* **Zakat, yearly** (PMK 114/2025): every zakat payment received in a calendar year, due 14
  days after the year ends (by 14 January), on pain of the zakat body being struck off the
  list of bodies whose receipts are deductible.
* **Disaster relief, quarterly** (PP 93/2010, PMK 76/2011): every gift to a fund whose tax
  category is ``disaster``, received in a calendar quarter.

A donation belongs to a report when its value date (``received_on``: a local date of the
organization's calendar) is in the period and its fund had the report's tax category when it
was recorded (``ledger.charity.taxreceipts.CategoryHistory``). Reversed donations are left out
of the rows and the total and listed apart (PDF only). Each row names the receipt number,
the date, the donor's NPWP or NIK and full name (when given and not erased), the amount and
the fund. The report is gathered as of the log's size when asked, and is never stored or
logged: it holds donors' personal data (admin and auditor keys only).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable

from ledger.charity.documents import document_signer
from ledger.charity.taxreceipts import (
    CategoryHistory,
    receipt_number,
    recipient_of,
    tax_identity,
)
from ledger.errors import RuleError
from ledger.store import charity as P
from ledger.store import compliance as S
from ledger.store import taxes as T
from ledger.store.log import Organization, Store
from reports.pdf.signing import sign_pdf
from reports.tax.csvfile import report_csv
from reports.tax.data import ReportKind, ReportRow, TaxReportData
from reports.tax.pdf import render_tax_report

CATEGORY: dict[str, str] = {"zakat": "zakat", "disaster": "disaster"}
"""The tax category each report lists."""

SEVERAL_CURRENCIES = (
    "the {kind} funds hold several currencies ({currencies}): a report adds amounts of one "
    "currency only"
)
BAD_QUARTER = "quarter: expected 1, 2, 3 or 4, got {quarter}"


def period(
    kind: ReportKind, year: int, quarter: int | None = None
) -> tuple[dt.date, dt.date, dt.date | None]:
    """The report's [start, end) of value dates and its due date (None where the regulation's
    deadline could not be confirmed: the quarterly disaster report)."""
    if kind == "zakat":
        return dt.date(year, 1, 1), dt.date(year + 1, 1, 1), dt.date(year + 1, 1, 14)
    if quarter not in (1, 2, 3, 4):
        raise RuleError.of(BAD_QUARTER, quarter=quarter)
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end, None


async def gather(
    store: Store,
    org: Organization,
    kind: ReportKind,
    year: int,
    quarter: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> TaxReportData:
    """The report's data, as of the log's current size."""
    start, end, due = period(kind, year, quarter)
    category = CATEGORY[kind]
    size = (await store.head(org.id)).size
    async with store.connection() as conn:
        found = await S.compliance_entries(conn, org.id, size)
        recipient = recipient_of(found.profile, found.profile_index)
        history = CategoryHistory(found.funds)
        codes = history.funds_ever(category)
        funds = await P.funds(conn, org.id, codes)
        donations = await T.donations_in_period(conn, org.id, codes, start, end, size)
    if progress:
        progress(f"{len(donations)} donation(s) to {', '.join(codes) or 'no fund'} in the period")
    currencies = sorted({(f.currency, f.minor_units) for f in funds.values()})
    if len(currencies) > 1:
        raise RuleError.of(
            SEVERAL_CURRENCIES,
            kind=kind,
            currencies=", ".join(f"{c} (exponent {e})" for c, e in currencies),
        )
    currency, minor_units = currencies[0] if currencies else ("IDR", 2)
    rows: list[ReportRow] = []
    reversed_rows: list[ReportRow] = []
    for d in donations:
        body = json.loads(d.body)["body"]
        if history.at(body["fund"], d.index) != category:
            continue  # the fund had another category (or none) when this gift was recorded
        full_name, npwp, nik = tax_identity(d.personal)
        row = ReportRow(
            number=receipt_number(category, d.value_on, d.index),
            received_on=d.value_on,
            index=d.index,
            amount=body["amount"],
            fund_code=body["fund"],
            fund_name=funds[body["fund"]].name,
            full_name=full_name,
            npwp=npwp,
            nik=nik,
            reversed_by=d.reversed_by,
            reversed_on=d.reversed_on,
        )
        (rows if d.reversed_by is None else reversed_rows).append(row)
    return TaxReportData(
        kind=kind,
        year=year,
        quarter=quarter if kind != "zakat" else None,
        start=start,
        end=end,
        due=due,
        recipient=recipient,
        currency=currency,
        minor_units=minor_units,
        origin=org.origin,
        tree_size=size,
        rows=tuple(rows),
        reversed_rows=tuple(reversed_rows),
    )


def csv_bytes(data: TaxReportData) -> bytes:
    return report_csv(data)


async def report_pdf(
    store: Store, org: Organization, kek: bytes, data: TaxReportData, lang: str
) -> bytes:
    """The report as a PAdES-signed PDF with its CSV attached (rendered off the event loop)."""
    signer = await document_signer(store, org, kek)

    def build() -> bytes:
        now = dt.datetime.now(dt.UTC)
        pdf = render_tax_report(data, lang, now=now)  # type: ignore[arg-type]
        return sign_pdf(
            pdf, signer.cert_der, signer.key_der, reason=f"Laporan {data.slug}",
            location=org.origin, signing_time=now,
        )  # fmt: skip

    return await asyncio.to_thread(build)


def file_name(slug: str, data: TaxReportData, lang: str | None, ext: str) -> str:
    """``tax-report-<slug>-zakat-2026[-id].pdf`` / ``….csv``."""
    return f"tax-report-{slug}-{data.slug}" + (f"-{lang}" if lang else "") + f".{ext}"
