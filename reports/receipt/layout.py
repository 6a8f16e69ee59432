"""The page layout of the one-donation receipt.

Top to bottom: the header band (organization, title, entry number, issue
time); the amount panel; the donation's details; the log proof (origin, index,
tree size, root, the signed checkpoint verbatim); offline verification
instructions beside a QR code to the entry's public page; the footer naming
the signer and the attachments. It fits one A4 page for ordinary data and
flows onto more pages (with "page X of Y") when a checkpoint is very long.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from reportlab.lib.colors import HexColor
from reportlab.pdfgen.canvas import Canvas

from reports.pdf.attachments import Attachment, embed_attachments
from reports.pdf.fonts import FontSet
from reports.pdf.localization import (
    LABELS,
    PDF_LANGUAGE_TAGS,
    Language,
    format_amount,
    format_day,
)
from reports.pdf.page_layout import (
    BRAND,
    CONTENT_WIDTH,
    INK,
    MARGIN,
    MUTED,
    PAGE_WIDTH,
    PageFlow,
    draw_field_grid,
    draw_footer,
    draw_header_band,
    draw_key_value_rows,
    draw_label,
    draw_mono_block,
    draw_mono_box,
    draw_panel,
    draw_qr_code,
    draw_section_title,
    fit_text,
    fitting_mono_size,
    new_canvas,
    wrap_mono,
    wrap_text,
    wrap_url,
)

if TYPE_CHECKING:
    from reports.receipt.data import ReceiptData

REVERSED = HexColor("#B42318")
"""Colour of the reversal banner's frame, title and the struck-through amount."""
REVERSED_BG = HexColor("#FDECEC")
"""Fill of the reversal banner."""

QR_SIZE = 108.0
"""Side of the verification QR code, in points (about 38 mm)."""


def draw_receipt(
    data: ReceiptData,
    lang: Language,
    issued: str,
    fonts: FontSet,
    attachments: list[Attachment],
    total_pages: int | None,
) -> tuple[bytes, int]:
    """Draw the whole one-donation receipt; returns the PDF bytes and page count.

    ``total_pages`` None draws "?" in the footer (the counting pass of
    :func:`reports.pdf.page_layout.render_paginated`).
    """
    labels = LABELS[lang]
    proof_name = f"receipt-{data.index}.tlog-proof"
    if data.reversal is not None and data.receipt_json is not None:
        proof_name = f"receipt-{data.index}.json"  # the file that proves the reversal too
    buffer, flow = begin_receipt(
        fonts,
        lang,
        total_pages,
        organization=data.org_name,
        title=labels["title"],
        document_title=f"{labels['title']} #{data.index} — {data.org_name}",
        subject=f"{data.origin} #{data.index}",
        right_lines=[f"{labels['entry']} #{data.index}", f"{labels['issued']} {issued}"],
        footer_lines=[
            labels["signed_by"].format(org=data.org_name),
            labels["attachments"].format(files=", ".join(a.name for a in attachments)),
        ],
    )
    canvas = flow.canvas

    if data.reversal is not None:  # before anything else: what the receipt now means
        _draw_reversal_banner(flow, labels, data, lang)

    # The amount panel: the one figure a donor looks for first.
    panel_height = 86.0
    draw_panel(canvas, x=MARGIN, top=flow.y, width=CONTENT_WIDTH, height=panel_height)
    canvas.setFillColor(BRAND)
    canvas.rect(MARGIN, flow.y - panel_height, 4, panel_height, stroke=0, fill=1)
    draw_label(canvas, fonts, MARGIN + 18, flow.y - 20, labels["amount"])
    canvas.setFillColor(BRAND)
    canvas.setFont(fonts.bold, 26)
    amount = format_amount(data.amount, data.currency, data.minor_units, lang)
    canvas.drawString(MARGIN + 18, flow.y - 50, fonts.printable(amount))
    if data.reversal is not None:  # struck through: it no longer counts
        canvas.setStrokeColor(REVERSED)
        canvas.setLineWidth(2)
        width = canvas.stringWidth(fonts.printable(amount), fonts.bold, 26)
        canvas.line(MARGIN + 16, flow.y - 41, MARGIN + 20 + width, flow.y - 41)
    canvas.setFillColor(INK)
    canvas.setFont(fonts.regular, 11)
    canvas.drawString(
        MARGIN + 18,
        flow.y - 71,
        fit_text(
            fonts.printable(f"{labels['fund']}: {data.fund_name}"),
            fonts.regular,
            11,
            CONTENT_WIDTH - 36,
        ),
    )
    flow.y -= panel_height + 22

    draw_field_grid(
        flow,
        [
            (labels["received_on"], format_day(data.received_on, lang)),
            (labels["donor"], data.donor_display or labels["anonymous"]),
            (labels["channel"], data.channel),
            (labels["reference"], data.reference),
        ],
    )
    draw_section_title(flow, labels["log_section"])
    draw_key_value_rows(
        flow,
        [
            (labels["origin"], data.origin, False),
            (labels["index"], str(data.index), False),
            (labels["tree_size"], str(data.tree_size), False),
            (labels["root_hash"], data.root_b64, True),
        ],
    )
    note = data.checkpoint_note.rstrip("\n")
    note_size = fitting_mono_size(fonts, note, CONTENT_WIDTH, largest=7.5, smallest=6.0)
    checkpoint_lines = wrap_mono(fonts, note, CONTENT_WIDTH, size=note_size)
    flow.ensure(22 + note_size * 1.45 * min(len(checkpoint_lines), 3) + 12)
    flow.y -= 8
    draw_label(canvas, fonts, MARGIN, flow.y - 8, labels["checkpoint"])
    flow.y -= 14
    draw_mono_block(flow, checkpoint_lines, size=note_size)
    flow.y -= 12

    _draw_verification(flow, labels, data, proof_name)
    return finish_receipt(buffer, flow, attachments)


def begin_receipt(
    fonts: FontSet,
    lang: Language,
    total_pages: int | None,
    *,
    organization: str,
    title: str,
    document_title: str,
    subject: str,
    right_lines: list[str],
    footer_lines: list[str],
) -> tuple[io.BytesIO, PageFlow]:
    """The canvas and page flow of a receipt (one donation's or a year's), its first page
    begun: every page has the header band (``organization``, ``title``, ``right_lines``)
    and the footer (``footer_lines``, "page X of N", N "?" while ``total_pages`` is None)."""
    labels = LABELS[lang]
    buffer = io.BytesIO()
    canvas = new_canvas(
        buffer,
        language_tag=PDF_LANGUAGE_TAGS[lang],
        title=document_title,
        author=organization,
        subject=subject,
    )

    def start_page(canvas: Canvas, page: int) -> float:
        return draw_header_band(
            canvas, fonts, organization=organization, title=title, right_lines=right_lines
        )

    def end_page(canvas: Canvas, page: int) -> None:
        label = labels["page"].format(page=page, pages=total_pages or "?")
        draw_footer(canvas, fonts, left_lines=footer_lines, page_label=label)

    flow = PageFlow(canvas, fonts, start_page, end_page)
    flow.begin()
    return buffer, flow


def finish_receipt(
    buffer: io.BytesIO, flow: PageFlow, attachments: list[Attachment]
) -> tuple[bytes, int]:
    """End the last page, embed the attachments; the PDF bytes and the page count."""
    pages = flow.finish()
    embed_attachments(flow.canvas, attachments)
    flow.canvas.save()
    return buffer.getvalue(), pages


def _draw_reversal_banner(
    flow: PageFlow, labels: dict[str, str], data: ReceiptData, lang: Language
) -> None:
    """A red-framed banner: DIBATALKAN / REVERSED, then by which entry, when and why."""
    canvas, fonts = flow.canvas, flow.fonts
    reversal = data.reversal
    assert reversal is not None
    text = labels["reversed_text"].format(
        index=reversal.index, day=format_day(reversal.effective_on, lang), reason=reversal.reason
    )
    lines = wrap_text(fonts.printable(text), fonts.regular, 9.5, CONTENT_WIDTH - 32)
    height = 34 + 12 * len(lines) + 6
    flow.ensure(height)
    top = flow.y
    canvas.setFillColor(REVERSED_BG)
    canvas.setStrokeColor(REVERSED)
    canvas.setLineWidth(2)
    canvas.roundRect(MARGIN, top - height, CONTENT_WIDTH, height, 6, stroke=1, fill=1)
    canvas.setFillColor(REVERSED)
    canvas.setFont(fonts.bold, 20)
    canvas.drawString(MARGIN + 16, top - 25, fonts.printable(labels["reversed_banner"]))
    canvas.setFillColor(INK)
    canvas.setFont(fonts.regular, 9.5)
    y = top - 41
    for line in lines:
        canvas.drawString(MARGIN + 16, y, line)
        y -= 12
    flow.y -= height + 10


def _draw_verification(
    flow: PageFlow, labels: dict[str, str], data: ReceiptData, proof_name: str
) -> None:
    """The verification section: offline instructions on the left, the QR
    code to the public page on the right, kept together with its heading."""
    canvas, fonts = flow.canvas, flow.fonts
    text_width = CONTENT_WIDTH - QR_SIZE - 24
    intro = "verify_text_reversed" if proof_name.endswith(".json") else "verify_text"
    before = wrap_text(
        fonts.printable(labels[intro].format(proof=proof_name)),
        fonts.regular,
        9,
        text_width,
    )
    command = wrap_mono(
        fonts, f"ledger-verify receipt {proof_name} --vkey VKEY", text_width, size=8
    )
    after = wrap_text(
        fonts.printable(labels["verify_text_after"].format(org=data.org_name, index=data.index)),
        fonts.regular,
        9,
        text_width,
    )
    # The caption drops the scheme and keeps three lines; the QR code holds the full URL.
    shown_url = data.verify_url.removeprefix("https://")
    url_lines = wrap_url(fonts.printable(shown_url), fonts.mono, 6.5, QR_SIZE + 16)[:3]
    left_height = 12.5 * (len(before) + len(after)) + (8 * 1.45 * len(command) + 12) + 16
    right_height = QR_SIZE + 14 + 8.5 * len(url_lines)
    draw_section_title(flow, labels["verify_section"], keep_with=max(left_height, right_height))
    top = flow.y

    canvas.setFillColor(INK)
    canvas.setFont(fonts.regular, 9)
    y = top - 9
    for line in before:
        canvas.drawString(MARGIN, y, line)
        y -= 12.5
    y -= 2
    y -= (
        draw_mono_box(canvas, fonts, x=MARGIN, top=y + 6, width=text_width, lines=command, size=8)
        - 2
    )
    y -= 8
    canvas.setFillColor(INK)
    canvas.setFont(fonts.regular, 9)
    for line in after:
        canvas.drawString(MARGIN, y, line)
        y -= 12.5

    qr_x = PAGE_WIDTH - MARGIN - QR_SIZE
    draw_qr_code(canvas, data.verify_url, x=qr_x, y=top - QR_SIZE, size=QR_SIZE)
    canvas.setFillColor(MUTED)
    canvas.setFont(fonts.regular, 7.5)
    canvas.drawCentredString(qr_x + QR_SIZE / 2, top - QR_SIZE - 9, fonts.printable(labels["scan"]))
    canvas.setFont(fonts.mono, 6.5)
    for position, line in enumerate(url_lines):
        canvas.drawCentredString(qr_x + QR_SIZE / 2, top - QR_SIZE - 19 - position * 8.5, line)
    flow.y = min(y, top - right_height)


__all__ = ["QR_SIZE", "draw_receipt"]
