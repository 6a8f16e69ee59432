"""What a tax receipt and a tax report say, as plain values checked at construction: the
data of :mod:`reports.tax.pdf`, which :mod:`reports.tax.receipt_layout` and
:mod:`reports.tax.report_layout` draw, and of :mod:`reports.tax.csvfile`.

Both hold personal data (the donor's NPWP or NIK and full name): a receipt is given only to
its donor (and to the organization's auditor), a report only to the organization's admin
and auditor for the tax office. Neither is ever written to the log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from reports.errors import ReportDataError
from reports.pdf.localization import check_money

Category = Literal["zakat", "disaster", "education", "research", "sport", "social_infrastructure"]
"""Why a gift is deductible: zakat (PMK 114/2025) or a PP 93/2010 category."""
CATEGORIES: tuple[str, ...] = (
    "zakat", "disaster", "education", "research", "sport", "social_infrastructure"
)  # fmt: skip


@dataclass(frozen=True)
class Payer:
    """The donor as a tax receipt names them (PMK 114/2025 art. 9 (2))."""

    full_name: str
    """Full legal name, as on the KTP or NPWP card."""
    npwp: str | None
    """NPWP digits (15 or 16), or None."""
    nik: str | None
    """NIK digits (16), or None; at least one of ``npwp`` and ``nik`` is given."""

    def __post_init__(self) -> None:
        _text("full_name", self.full_name)
        if self.npwp is None and self.nik is None:
            raise ReportDataError("expected the payer's NPWP or NIK, got neither")


@dataclass(frozen=True)
class Recipient:
    """The receiving body (PMK 114/2025 art. 9 (4)), from its ``org.profile`` entry."""

    legal_name: str
    npwp: str
    """NPWP digits."""
    address: str | None = None
    zakat_license: str | None = None
    """The decree that makes it a zakat body (BAZNAS, LAZ), if it is one."""
    profile_index: int | None = None
    """The ``org.profile`` entry the identity comes from."""

    def __post_init__(self) -> None:
        _text("legal_name", self.legal_name)
        _text("npwp", self.npwp)


@dataclass(frozen=True)
class TaxReceiptData:
    """Everything printed on, and attached to, one donation's tax receipt.

    The whole document is covered by the organization's PAdES signature (the validation of
    art. 9 (5)); the log fields are also committed to by the log's signed checkpoint and
    checkable offline from the attached proof.
    """

    number: str
    """The receipt number (``BSZ/<year>/<entry index>`` for zakat, ``BSP/…`` otherwise)."""
    received_on: dt.date
    """The day the money was received (the donation's value date): the receipt's date."""
    category: Category
    amount: int
    """Integer minor units of ``currency``."""
    currency: str
    minor_units: int
    fund_name: str
    fund_code: str
    payer: Payer
    recipient: Recipient
    origin: str
    """The log's origin line."""
    index: int
    """The donation's entry index."""
    tree_size: int
    root_b64: str
    verify_url: str
    """The public verify page of the entry (the QR code)."""
    tlog_proof: str
    """Attached as ``receipt-<index>.tlog-proof``."""
    receipt_json: bytes | None = None
    """The donor receipt JSON (with the opening of the donor commitment), attached as
    ``receipt-<index>.json``."""

    def __post_init__(self) -> None:
        check_money(self.amount, self.currency, self.minor_units)
        if self.category not in CATEGORIES:
            raise ReportDataError(f"expected a tax category in {CATEGORIES}, got {self.category!r}")
        for name in ("number", "fund_name", "origin", "verify_url", "tlog_proof"):
            _text(name, getattr(self, name))
        if self.tree_size <= self.index:
            raise ReportDataError(
                f"expected tree_size greater than the entry index {self.index}, got {self.tree_size}"
            )


@dataclass(frozen=True)
class ReportRow:
    """One donation of a report (a receipt given, or that could be given)."""

    number: str
    """Its receipt number."""
    received_on: dt.date
    index: int
    """The donation's entry index."""
    amount: int
    fund_code: str
    fund_name: str
    full_name: str | None
    """The donor's full name, when they gave it (None: not given, or erased)."""
    npwp: str | None
    nik: str | None
    reversed_by: int | None = None
    """The correction that reversed it (then it is listed apart and counted nowhere)."""
    reversed_on: dt.date | None = None

    @property
    def id_type(self) -> str:
        """``NPWP``, ``NIK`` or "" (none given)."""
        return "NPWP" if self.npwp else "NIK" if self.nik else ""

    @property
    def id_number(self) -> str:
        return self.npwp or self.nik or ""

    @property
    def identified(self) -> bool:
        """The donor gave what a tax receipt needs: an NPWP or NIK, and their full name."""
        return bool(self.id_number and self.full_name)


ReportKind = Literal["zakat", "disaster"]


@dataclass(frozen=True)
class TaxReportData:
    """The donations of one tax category in one period, for the tax office: the yearly
    report of zakat receipts (PMK 114/2025) or the quarterly report of disaster donations
    (PMK 76/2011)."""

    kind: ReportKind
    year: int
    quarter: int | None
    """1–4 for a quarterly report, None for a yearly one."""
    start: dt.date
    """First value date of the period."""
    end: dt.date
    """First value date after the period."""
    due: dt.date | None
    """When the report is due at the tax office, where the regulation says (zakat: 14 days
    after the year ends); None where it could not be confirmed."""
    recipient: Recipient
    currency: str
    minor_units: int
    origin: str
    tree_size: int
    """The log's size when the report was gathered: it covers entries below it."""
    rows: tuple[ReportRow, ...]
    """Donations that count, by value date then entry index."""
    reversed_rows: tuple[ReportRow, ...] = ()
    """Donations of the period that a correction reversed: listed apart, never counted."""

    def __post_init__(self) -> None:
        check_money(0, self.currency, self.minor_units)
        if self.end <= self.start:
            raise ReportDataError(f"expected a period [start, end), got {self.start}, {self.end}")
        for row in (*self.rows, *self.reversed_rows):
            check_money(row.amount, self.currency, self.minor_units)
            if not self.start <= row.received_on < self.end:
                raise ReportDataError(
                    f"entry {row.index} was received on {row.received_on}, outside "
                    f"[{self.start}, {self.end})"
                )
        if any(r.reversed_by is not None for r in self.rows):
            raise ReportDataError("expected only unreversed donations in rows")

    @property
    def total(self) -> int:
        return sum(r.amount for r in self.rows)

    @property
    def identified(self) -> tuple[ReportRow, ...]:
        return tuple(r for r in self.rows if r.identified)

    @property
    def identified_total(self) -> int:
        return sum(r.amount for r in self.identified)

    @property
    def slug(self) -> str:
        """The file name stem: ``zakat-2026``, ``disaster-2026-q4``."""
        return f"{self.kind}-{self.year}" + (f"-q{self.quarter}" if self.quarter else "")


def _text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ReportDataError(f"expected a non-empty {name}, got {value!r}")
