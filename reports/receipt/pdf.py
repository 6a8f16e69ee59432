"""Donor receipts as PDF: one donation (:func:`render_receipt`) or one donor's
year (:func:`render_annual_receipt`).

A receipt has two readers. A person reads the printed page: who received how
much, for which fund, and how to check it. A program reads the attachments:
the donation's ``c2sp.org/tlog-proof`` file (``receipt-<index>.tlog-proof``)
and, when given, the JSON receipt (``receipt-<index>.json``), from which
``ledger-verify receipt`` proves offline that the entry is in the log.

Rendering returns an *unsigned* PDF; :func:`reports.pdf.signing.sign_pdf` signs it
as an incremental update, which keeps the attachments inside the signed range.

Determinism: the same data, language and ``now`` give byte-identical PDFs
(reportlab ``invariant`` mode; no clock is read; the document information's
creation date is reportlab's fixed invariant date, the real issue time is
printed on the page from ``now``).

The data classes take plain values (no ledger types) so this package stays
importable on its own; their checks run at construction.
"""

from __future__ import annotations

import datetime as dt

from reports.errors import reportlab_failures
from reports.pdf.attachments import Attachment
from reports.pdf.fonts import report_fonts
from reports.pdf.localization import (
    Language,
    check_language,
    format_moment,
)
from reports.pdf.page_layout import render_paginated
from reports.receipt.annual import draw_annual_receipt
from reports.receipt.data import AnnualDonation, AnnualReceiptData, ReceiptData, ReversalNote
from reports.receipt.layout import draw_receipt


def render_receipt(data: ReceiptData, lang: Language, *, now: dt.datetime) -> bytes:
    """Render the unsigned one-donation receipt in ``lang`` ("id" or "en").

    ``now`` (timezone-aware) is printed as the issue time. Guaranteed: equal
    inputs give equal bytes; the PDF embeds ``receipt-<index>.tlog-proof`` (and
    ``receipt-<index>.json`` when ``receipt_json`` is set).
    """
    lang = check_language(lang)
    issued = format_moment(now, lang)
    fonts = report_fonts()
    attachments = _attachments(data.index, data.tlog_proof, data.receipt_json, lang)
    return _render(
        lambda total: draw_receipt(data, lang, issued, fonts, attachments, total),
        description=f"{data.origin} #{data.index}",
    )


def render_annual_receipt(data: AnnualReceiptData, lang: Language, *, now: dt.datetime) -> bytes:
    """Render the unsigned annual receipt in ``lang``: every donation of the
    year, the total, each donation's proof attached, "page X of Y" footers.

    Guaranteed: equal inputs give equal bytes.
    """
    lang = check_language(lang)
    issued = format_moment(now, lang)
    fonts = report_fonts()
    donations = sorted(data.donations, key=lambda d: (d.received_on, d.index))
    attachments = [
        attachment
        for donation in donations
        for attachment in _attachments(
            donation.index, donation.tlog_proof, donation.receipt_json, lang
        )
    ]
    return _render(
        lambda total: draw_annual_receipt(data, donations, lang, issued, fonts, attachments, total),
        description=f"{data.origin} {data.year}",
    )


def _render(build, *, description: str) -> bytes:
    """Run a two-pass paginated render, translating reportlab failures."""
    with reportlab_failures(f"the receipt for {description}"):
        return render_paginated(build)


def _attachments(
    index: int, tlog_proof: str, receipt_json: bytes | None, lang: Language
) -> list[Attachment]:
    """The files attached for one donation."""
    proof_desc = {
        "id": "Bukti offline c2sp.org/tlog-proof",
        "en": "Offline proof, c2sp.org/tlog-proof",
    }
    json_desc = {"id": "Tanda terima JSON", "en": "JSON receipt"}
    files = [
        Attachment(
            f"receipt-{index}.tlog-proof",
            tlog_proof.encode("utf-8"),
            "text/plain",
            proof_desc[lang],
        )
    ]
    if receipt_json is not None:
        files.append(
            Attachment(f"receipt-{index}.json", receipt_json, "application/json", json_desc[lang])
        )
    return files


__all__ = [
    "AnnualDonation",
    "AnnualReceiptData",
    "ReceiptData",
    "ReversalNote",
    "render_annual_receipt",
    "render_receipt",
]
