"""What reports say, in Bahasa Indonesia and English, and how they write
money and dates (CLDR conventions through Babel).

Both languages use Indonesian number conventions (CLDR ``id_ID`` and ``en_ID``):
``Rp 1.250.000`` reads the same on either receipt, so a donor comparing an
Indonesian and an English copy sees identical figures.

Money is formatted from integer minor units with :class:`decimal.Decimal`;
no float is ever involved.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from babel.core import UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from reports.errors import ReportDataError

Language = Literal["id", "en"]
"""A report language: Bahasa Indonesia or English."""

LANGUAGES: tuple[Language, ...] = ("id", "en")

BABEL_LOCALES: dict[Language, str] = {"id": "id_ID", "en": "en_ID"}
"""CLDR locale per language; English uses English-in-Indonesia (``en_ID``)."""

PDF_LANGUAGE_TAGS: dict[Language, str] = {"id": "id-ID", "en": "en-ID"}
"""BCP 47 tags written to the PDF catalog's ``/Lang`` (read by screen readers)."""

WHOLE_UNIT_CURRENCIES = frozenset({"IDR"})
"""Currencies shown without a fractional part when the minor units are zero:
rupiah amounts are written ``Rp 1.250.000``, never ``Rp 1.250.000,00``."""

MAX_MINOR_UNITS = 4
"""The largest ISO 4217 exponent in use (CLF, UYW); anything above is a data error."""

LABELS: dict[Language, dict[str, str]] = {
    "id": {
        "title": "Tanda Terima Donasi",
        "annual_title": "Tanda Terima Donasi Tahunan",
        "amount": "Jumlah donasi",
        "fund": "Program / dana",
        "received_on": "Tanggal diterima",
        "channel": "Saluran",
        "reference": "Referensi",
        "donor": "Donatur",
        "anonymous": "Anonim",
        "issued": "Diterbitkan",
        "entry": "Entri log",
        "log_section": "Bukti pencatatan di log transparansi",
        "origin": "Asal log",
        "index": "Indeks entri",
        "tree_size": "Ukuran pohon",
        "root_hash": "Hash akar",
        "checkpoint": "Checkpoint bertanda tangan",
        "verify_section": "Cara memverifikasi secara offline",
        "verify_text": (
            "PDF ini membawa lampiran {proof} (bukti offline berformat c2sp.org/tlog-proof). "
            "Simpan lampiran itu, lalu jalankan:"
        ),
        "verify_text_after": (
            "dengan VKEY kunci publik log yang diumumkan {org}. Perintah itu memeriksa tanpa "
            "menghubungi server bahwa donasi ini tercatat sebagai entri {index} pada log yang "
            "checkpoint-nya tertera di atas. Tanda tangan digital PDF ini dapat diperiksa "
            "dengan pembaca PDF biasa."
        ),
        "scan": "Pindai untuk memeriksa daring",
        "signed_by": "Ditandatangani secara digital oleh {org}.",
        "attachments": "Lampiran: {files}",
        "page": "Halaman {page} dari {pages}",
        "year": "Tahun",
        "date": "Tanggal",
        "log_index": "Indeks log",
        "amount_column": "Jumlah",
        "total": "Total",
        "count": "{count} donasi",
        "annual_intro": (
            "Rincian semua donasi {donor} kepada {org} yang diterima pada tahun {year}. "
            "Setiap donasi tercatat di log transparansi {origin}; bukti offline masing-masing "
            "dilampirkan pada PDF ini sebagai receipt-<indeks>.tlog-proof."
        ),
        "annual_verify": (
            "Untuk memverifikasi satu donasi tanpa menghubungi server, simpan lampirannya "
            "(receipt-<indeks>.tlog-proof, dengan indeks dari kolom Indeks log) lalu jalankan "
            "perintah berikut, dengan VKEY kunci publik log yang diumumkan organisasi:"
        ),
        "attachments_count": "Lampiran: bukti offline untuk {count} donasi (receipt-<indeks>.tlog-proof)",
        "reversed_banner": "DIBATALKAN",
        "verify_text_reversed": (
            "PDF ini membawa lampiran {proof} (tanda terima JSON: bukti offline donasi ini dan "
            "koreksi yang membatalkannya). Simpan lampiran itu, lalu jalankan:"
        ),
        "reversed_text": (
            "Donasi ini dibatalkan oleh entri log #{index}, dicatat pada {day}. Alasan: "
            "{reason}. Entri donasi tetap ada di log (log tidak pernah diubah), tetapi tidak "
            "lagi dihitung: tanda terima ini tidak dapat dipakai sebagai bukti pemberian."
        ),
        "reversed_row": "dibatalkan oleh #{index} ({day}): {reason}",
        "reversed_count": "{count} dibatalkan (tidak dihitung)",
        "reversed_section": "Donasi yang dibatalkan (tidak dihitung)",
    },
    "en": {
        "title": "Donation Receipt",
        "annual_title": "Annual Donation Receipt",
        "amount": "Amount donated",
        "fund": "Fund",
        "received_on": "Date received",
        "channel": "Channel",
        "reference": "Reference",
        "donor": "Donor",
        "anonymous": "Anonymous",
        "issued": "Issued",
        "entry": "Log entry",
        "log_section": "Proof of inclusion in the transparency log",
        "origin": "Log origin",
        "index": "Entry index",
        "tree_size": "Tree size",
        "root_hash": "Root hash",
        "checkpoint": "Signed checkpoint",
        "verify_section": "How to verify offline",
        "verify_text": (
            "This PDF carries the attachment {proof} (an offline proof in the "
            "c2sp.org/tlog-proof format). Save the attachment, then run:"
        ),
        "verify_text_after": (
            "where VKEY is the log public key published by {org}. The command checks, without "
            "contacting any server, that this donation is entry {index} of the log whose "
            "checkpoint is printed above. The PDF's digital signature can be checked in any "
            "ordinary PDF reader."
        ),
        "scan": "Scan to check online",
        "signed_by": "Digitally signed by {org}.",
        "attachments": "Attachments: {files}",
        "page": "Page {page} of {pages}",
        "year": "Year",
        "date": "Date",
        "log_index": "Log index",
        "amount_column": "Amount",
        "total": "Total",
        "count": "{count} donations",
        "annual_intro": (
            "All donations from {donor} to {org} received in {year}. Each donation is recorded "
            "in the transparency log {origin}; its offline proof is attached to this PDF as "
            "receipt-<index>.tlog-proof."
        ),
        "annual_verify": (
            "To verify one donation without contacting any server, save its attachment "
            "(receipt-<index>.tlog-proof, with the index from the Log index column) and run the "
            "command below, where VKEY is the log public key published by the organization:"
        ),
        "attachments_count": "Attachments: offline proofs for {count} donations (receipt-<index>.tlog-proof)",
        "reversed_banner": "REVERSED",
        "verify_text_reversed": (
            "This PDF carries the attachment {proof} (the JSON receipt: offline proofs of this "
            "donation and of the correction that reversed it). Save the attachment, then run:"
        ),
        "reversed_text": (
            "This donation was reversed by log entry #{index}, recorded on {day}. Reason: "
            "{reason}. The donation's entry stays in the log (the log never changes), but it "
            "no longer counts: this receipt cannot be used as proof of a gift."
        ),
        "reversed_row": "reversed by #{index} ({day}): {reason}",
        "reversed_count": "{count} reversed (not counted)",
        "reversed_section": "Reversed donations (not counted)",
    },
}
"""Every sentence a report prints, per language; ``{name}`` marks a value."""


def check_language(lang: str) -> Language:
    """``lang`` itself when it is a supported language, else :class:`ReportDataError`."""
    if lang not in LANGUAGES:
        raise ReportDataError(f"expected a report language in {LANGUAGES}, got {lang!r}")
    return lang  # type: ignore[return-value]


def check_money(amount: int, currency: str, minor_units: int) -> None:
    """Raise :class:`ReportDataError` unless the triple is a well-formed amount.

    Well-formed: ``amount`` a non-negative ``int`` (``bool`` is refused), ``currency``
    three upper-case ASCII letters (an unknown code is shown as the code), ``minor_units`` in 0..4.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ReportDataError(f"expected the amount as an integer of minor units, got {amount!r}")
    if amount < 0:
        raise ReportDataError(f"expected a non-negative amount, got {amount}")
    if len(currency) != 3 or not currency.isascii() or not currency.isupper():
        raise ReportDataError(f"expected an ISO 4217 currency code like 'IDR', got {currency!r}")
    if isinstance(minor_units, bool) or not isinstance(minor_units, int):
        raise ReportDataError(f"expected minor_units as an integer, got {minor_units!r}")
    if not 0 <= minor_units <= MAX_MINOR_UNITS:
        raise ReportDataError(f"expected minor_units in 0..{MAX_MINOR_UNITS}, got {minor_units}")


def format_amount(amount: int, currency: str, minor_units: int, lang: Language) -> str:
    """Format ``amount`` minor units of ``currency`` for ``lang``.

    ``125000000`` IDR with 2 minor units gives ``Rp 1.250.000``; ``125000050`` gives
    ``Rp 1.250.000,50``; other currencies always show ``minor_units`` decimals
    (``US$ 12,50``). The symbol is followed by a plain space, so the figure is
    found verbatim by text search and extraction.
    """
    check_money(amount, currency, minor_units)
    value = Decimal(amount).scaleb(-minor_units)
    shown_digits = minor_units
    if currency in WHOLE_UNIT_CURRENCIES and amount % 10**minor_units == 0:
        shown_digits = 0
    # An explicit pattern (rather than the locale's "¤#,##0.00") gives the space
    # after the symbol and the ledger's own exponent; Babel still localizes the
    # symbol and the separators.
    pattern = "¤ #,##0" + ("." + "0" * shown_digits if shown_digits else "")
    try:
        return format_currency(
            value, currency, format=pattern, locale=BABEL_LOCALES[lang], currency_digits=False
        )
    except (UnknownLocaleError, ValueError) as exc:
        raise ReportDataError(f"cannot format {amount} minor units of {currency!r}: {exc}") from exc


def format_day(day: dt.date, lang: Language) -> str:
    """A calendar date in words: ``7 Maret 2025`` / ``7 March 2025``."""
    return format_date(day, format="long", locale=BABEL_LOCALES[lang])


def format_short_day(day: dt.date, lang: Language) -> str:
    """A compact date for table cells: ``07/03/2025`` in both languages (day first)."""
    return format_date(day, format="dd/MM/y", locale=BABEL_LOCALES[lang])


def format_moment(moment: dt.datetime, lang: Language) -> str:
    """A timezone-aware instant in its own offset: ``7 Maret 2025 10:05 UTC+07:00``,
    or ``… 10:05 UTC`` at offset zero."""
    offset = moment.utcoffset()
    if offset is None:
        raise ReportDataError(f"expected a timezone-aware datetime, got naive {moment.isoformat()}")
    local = format_datetime(
        moment, format="d MMMM y HH:mm", tzinfo=moment.tzinfo, locale=BABEL_LOCALES[lang]
    )
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return f"{local} UTC"
    sign = "+" if minutes > 0 else "-"
    return f"{local} UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


__all__ = [
    "BABEL_LOCALES",
    "LABELS",
    "LANGUAGES",
    "PDF_LANGUAGE_TAGS",
    "WHOLE_UNIT_CURRENCIES",
    "Language",
    "check_language",
    "check_money",
    "format_amount",
    "format_day",
    "format_moment",
    "format_short_day",
]
