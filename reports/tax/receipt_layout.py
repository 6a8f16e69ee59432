"""The page layout of a tax receipt (Bukti Setor Zakat, or a PP 93/2010 donation receipt).

Top to bottom, in the order of PMK 114/2025 art. 9: the header band (the receiving body, the
title, the receipt number and issue time); (1) the number and date; the amount panel with
the amount in words (3); the payer (2); the recipient (4); the legal basis; (5) the
validation: the signature this PDF carries, the log entry, the attached proof and a QR code
to the public verify page. One A4 page.
"""

from __future__ import annotations

from reportlab.lib.colors import HexColor

from reports.pdf.attachments import Attachment
from reports.pdf.fonts import FontSet
from reports.pdf.localization import Language, format_amount, format_day
from reports.pdf.page_layout import (
    BRAND,
    CONTENT_WIDTH,
    INK,
    MARGIN,
    MUTED,
    PAGE_WIDTH,
    PageFlow,
    draw_field_grid,
    draw_label,
    draw_panel,
    draw_qr_code,
    draw_section_title,
    wrap_text,
)
from reports.receipt.layout import begin_receipt, finish_receipt
from reports.tax.data import TaxReceiptData
from reports.tax.labels import CATEGORY_NAMES, TAX_LABELS
from reports.tax.words import rupiah_in_words
from schemas.taxids import format_npwp

QR_SIZE = 96.0
NOTE = HexColor("#7A5C00")
"""Colour of the personal-data note."""


def receipt_title(category: str, lang: Language) -> str:
    labels = TAX_LABELS[lang]
    return labels["zakat_title"] if category == "zakat" else labels["gift_title_short"]


def draw_tax_receipt(
    data: TaxReceiptData,
    lang: Language,
    issued: str,
    fonts: FontSet,
    attachments: list[Attachment],
    total_pages: int | None,
) -> tuple[bytes, int]:
    """Draw the whole tax receipt; returns the PDF bytes and the page count."""
    labels = TAX_LABELS[lang]
    title = receipt_title(data.category, lang)
    recipient = data.recipient
    buffer, flow = begin_receipt(
        fonts,
        lang,
        total_pages,
        organization=recipient.legal_name,
        title=title,
        document_title=f"{title} {data.number} — {recipient.legal_name}",
        subject=f"{data.origin} #{data.index}",
        right_lines=[f"{labels['number']} {data.number}", f"{labels['issued']} {issued}"],
        footer_lines=[
            labels["signed_by"].format(
                org=recipient.legal_name, npwp=format_npwp(recipient.npwp)
            ),
            labels["personal"],
        ],
    )
    canvas = flow.canvas
    if data.category != "zakat":
        _paragraph(flow, labels["gift_title"], size=11, font=fonts.bold, color=BRAND)
        flow.y -= 4

    # (1) number and date, (3) the amount in figures and in words.
    words = (
        rupiah_in_words(data.amount, data.minor_units, lang) if data.currency == "IDR" else ""
    )
    word_lines = wrap_text(
        fonts.printable(f"{labels['in_words']}: {words}"), fonts.regular, 10, CONTENT_WIDTH - 36
    ) if words else []
    height = 78.0 + 13 * len(word_lines)
    draw_panel(canvas, x=MARGIN, top=flow.y, width=CONTENT_WIDTH, height=height)
    canvas.setFillColor(BRAND)
    canvas.rect(MARGIN, flow.y - height, 4, height, stroke=0, fill=1)
    draw_label(canvas, fonts, MARGIN + 18, flow.y - 20, labels["amount"])
    canvas.setFillColor(BRAND)
    canvas.setFont(fonts.bold, 24)
    amount = format_amount(data.amount, data.currency, data.minor_units, lang)
    canvas.drawString(MARGIN + 18, flow.y - 48, fonts.printable(amount))
    right = PAGE_WIDTH - MARGIN - 18
    draw_label(canvas, fonts, right - 150, flow.y - 20, labels["number"])
    canvas.setFillColor(INK)
    canvas.setFont(fonts.bold, 11)
    canvas.drawString(right - 150, flow.y - 34, fonts.printable(data.number))
    draw_label(canvas, fonts, right - 150, flow.y - 50, labels["date"])
    canvas.setFillColor(INK)
    canvas.setFont(fonts.regular, 10.5)
    canvas.drawString(right - 150, flow.y - 63, fonts.printable(format_day(data.received_on, lang)))
    canvas.setFont(fonts.regular, 10)
    canvas.setFillColor(INK)
    y = flow.y - 78
    for line in word_lines:
        canvas.drawString(MARGIN + 18, y, line)
        y -= 13
    flow.y -= height + 14

    # (2) the payer.
    payer = data.payer
    draw_section_title(flow, labels["payer_section"], keep_with=50)
    payer_fields = [(labels["payer_name"], payer.full_name)]
    if payer.npwp:
        payer_fields.append((labels["payer_npwp"], format_npwp(payer.npwp)))
    if payer.nik:
        payer_fields.append((labels["payer_nik"], payer.nik))
    draw_field_grid(flow, payer_fields)

    # The payment: its kind and fund.
    draw_section_title(flow, labels["gift_section"], keep_with=50)
    draw_field_grid(
        flow,
        [
            (labels["category"], CATEGORY_NAMES[lang][data.category]),
            (labels["fund"], f"{data.fund_name} ({data.fund_code})"),
        ],
    )

    # (4) the receiving body.
    draw_section_title(flow, labels["recipient_section"], keep_with=50)
    fields = [
        (labels["recipient_name"], recipient.legal_name),
        (labels["recipient_npwp"], format_npwp(recipient.npwp)),
    ]
    if recipient.zakat_license:
        fields.append((labels["zakat_license"], recipient.zakat_license))
    if recipient.address:
        fields.append((labels["address"], recipient.address))
    draw_field_grid(flow, fields)

    basis = labels["zakat_basis"] if data.category == "zakat" else labels["gift_basis"]
    flow.y -= 4
    _paragraph(flow, basis, size=8.5, font=fonts.regular, color=MUTED)
    flow.y -= 6

    # (5) validation.
    _draw_validation(flow, data, labels, attachments)
    return finish_receipt(buffer, flow, attachments)


def _paragraph(flow: PageFlow, text: str, *, size: float, font: str, color) -> None:  # type: ignore[no-untyped-def]
    canvas, fonts = flow.canvas, flow.fonts
    for line in wrap_text(fonts.printable(text), font, size, CONTENT_WIDTH):
        flow.ensure(size * 1.45)
        canvas.setFillColor(color)
        canvas.setFont(font, size)
        canvas.drawString(MARGIN, flow.y - size, line)
        flow.y -= size * 1.45


def _draw_validation(
    flow: PageFlow, data: TaxReceiptData, labels: dict[str, str], attachments: list[Attachment]
) -> None:
    canvas, fonts = flow.canvas, flow.fonts
    width = CONTENT_WIDTH - QR_SIZE - 20
    text = labels["validation_text"].format(
        org=data.recipient.legal_name,
        index=data.index,
        origin=data.origin,
        size=data.tree_size,
        root=data.root_b64,
        files=", ".join(a.name for a in attachments),
    )
    lines = wrap_text(fonts.printable(text), fonts.regular, 8.5, width)
    height = max(12 * len(lines), QR_SIZE + 12)
    draw_section_title(flow, labels["validation_section"], keep_with=height)
    top = flow.y
    canvas.setFillColor(INK)
    canvas.setFont(fonts.regular, 8.5)
    y = top - 9
    for line in lines:
        canvas.drawString(MARGIN, y, line)
        y -= 12
    qr_x = PAGE_WIDTH - MARGIN - QR_SIZE
    draw_qr_code(canvas, data.verify_url, x=qr_x, y=top - QR_SIZE, size=QR_SIZE)
    canvas.setFillColor(MUTED)
    canvas.setFont(fonts.regular, 7)
    canvas.drawCentredString(qr_x + QR_SIZE / 2, top - QR_SIZE - 8, fonts.printable(labels["scan"]))
    flow.y = min(y, top - QR_SIZE - 12)


__all__ = ["draw_tax_receipt", "receipt_title"]
