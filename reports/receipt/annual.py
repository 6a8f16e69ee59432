"""The page layout of the annual receipt: a summary panel, then a table of
every donation of the year with its log index, then the total.

The table repeats its column headings on every page and the footer numbers
pages "X of Y". Column widths are fixed; a fund or reference too wide for its
cell wraps to a second line and is then shortened with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportlab.lib.colors import HexColor
from reportlab.pdfgen.canvas import Canvas

from reports.pdf.attachments import Attachment
from reports.pdf.fonts import FontSet
from reports.pdf.localization import (
    LABELS,
    Language,
    format_amount,
    format_short_day,
)
from reports.pdf.page_layout import (
    BRAND,
    CONTENT_WIDTH,
    INK,
    MARGIN,
    MUTED,
    PAGE_WIDTH,
    PANEL,
    TINT,
    PageFlow,
    draw_label,
    draw_mono_box,
    draw_panel,
    draw_qr_code,
    fit_text,
    wrap_mono,
    wrap_text,
)
from reports.receipt.layout import begin_receipt, finish_receipt

if TYPE_CHECKING:
    from reports.receipt.data import AnnualDonation, AnnualReceiptData

REVERSED = HexColor("#B42318")
"""Colour of the reversed donations' heading, notes and strike-through."""
REVERSED_BG = HexColor("#FDECEC")
"""Fill behind a reversed donation's row."""

ANNUAL_VERIFY_COMMAND = "ledger-verify receipt receipt-<index>.tlog-proof --vkey VKEY"
"""The offline check printed on annual receipts (one run per donation)."""

ROW_HEIGHT = 19.0
"""Height of a one-line table row, in points."""

LINE_STEP = 11.0
"""Extra height per additional line when a fund or reference wraps."""

MAX_CELL_LINES = 2
"""A fund or reference wraps to at most this many lines, then is shortened."""

BODY_SIZE = 9.0
"""Font size of table cells."""

CELL_PADDING = 6.0
"""Horizontal padding inside a table cell."""


@dataclass(frozen=True)
class _Column:
    """One table column."""

    label_key: str
    """Key of the heading in :data:`reports.pdf.localization.LABELS`."""

    width: float
    """Width in points, padding included."""

    right_aligned: bool = False
    """Numbers are right-aligned so their digits line up."""


_FIXED_COLUMNS_WIDTH = 66 + 108 + 66 + 92
COLUMNS = (
    _Column("date", 66),
    _Column("fund", CONTENT_WIDTH - _FIXED_COLUMNS_WIDTH),
    _Column("reference", 108),
    _Column("log_index", 66, right_aligned=True),
    _Column("amount_column", 92, right_aligned=True),
)
"""Date, fund, reference, log index, amount: filling the content width exactly."""


def draw_annual_receipt(
    data: AnnualReceiptData,
    donations: Sequence[AnnualDonation],
    lang: Language,
    issued: str,
    fonts: FontSet,
    attachments: list[Attachment],
    total_pages: int | None,
) -> tuple[bytes, int]:
    """Draw the whole annual receipt; returns the PDF bytes and page count.

    ``donations`` is the display order; ``total_pages`` None draws "?" in the
    footer (the counting pass of :func:`reports.pdf.page_layout.render_paginated`).
    """
    labels = LABELS[lang]
    donor = data.donor_display or labels["anonymous"]
    title = f"{labels['annual_title']} {data.year}"
    buffer, flow = begin_receipt(
        fonts,
        lang,
        total_pages,
        organization=data.org_name,
        title=title,
        document_title=f"{title} — {data.org_name}",
        subject=f"{data.origin} {data.year}",
        right_lines=[f"{labels['donor']}: {donor}", f"{labels['issued']} {issued}"],
        footer_lines=[
            labels["signed_by"].format(org=data.org_name),
            labels["attachments_count"].format(count=len(donations)),
        ],
    )
    _draw_summary(flow, data, donor, lang)

    intro = labels["annual_intro"].format(
        donor=donor, org=data.org_name, year=data.year, origin=data.origin
    )
    _draw_paragraph(flow, intro, size=9.5)
    flow.y -= 10

    _draw_table_heading(flow, labels)
    for row_number, donation in enumerate(d for d in donations if d.reversal is None):
        cells = _row_cells(fonts, donation, data, lang)
        height = _row_height(cells)
        if flow.ensure(height):
            _draw_table_heading(flow, labels)
        _draw_row(flow, cells, height, zebra=row_number % 2 == 1)
    if flow.ensure(ROW_HEIGHT + 6):
        _draw_table_heading(flow, labels)
    _draw_total_row(flow, data, lang, labels)
    flow.y -= 18
    reversed_ones = [d for d in donations if d.reversal is not None]
    if reversed_ones:
        _draw_reversed(flow, data, reversed_ones, lang, labels)

    _draw_closing(flow, data, labels)
    return finish_receipt(buffer, flow, attachments)


def _draw_summary(flow: PageFlow, data: AnnualReceiptData, donor: str, lang: Language) -> None:
    """The tinted panel: total in large type, donor and count beside it."""
    canvas, fonts = flow.canvas, flow.fonts
    labels = LABELS[lang]
    height = 86.0
    draw_panel(canvas, x=MARGIN, top=flow.y, width=CONTENT_WIDTH, height=height)
    canvas.setFillColor(BRAND)
    canvas.rect(MARGIN, flow.y - height, 4, height, stroke=0, fill=1)
    draw_label(canvas, fonts, MARGIN + 18, flow.y - 20, f"{labels['total']} {data.year}")
    canvas.setFillColor(BRAND)
    canvas.setFont(fonts.bold, 26)
    total = format_amount(data.total, data.currency, data.minor_units, lang)
    canvas.drawString(MARGIN + 18, flow.y - 50, fonts.printable(total))
    canvas.setFillColor(INK)
    canvas.setFont(fonts.regular, 11)
    count = labels["count"].format(count=len(data.counted))
    if data.reversed:
        count += " · " + labels["reversed_count"].format(count=len(data.reversed))
    canvas.drawString(
        MARGIN + 18,
        flow.y - 71,
        fit_text(fonts.printable(count), fonts.regular, 11, CONTENT_WIDTH * 0.6 - 30),
    )

    right_x = MARGIN + CONTENT_WIDTH * 0.6
    right_width = CONTENT_WIDTH * 0.4 - 18
    draw_label(canvas, fonts, right_x, flow.y - 20, labels["donor"])
    canvas.setFillColor(INK)
    canvas.setFont(fonts.bold, 11)
    canvas.drawString(
        right_x, flow.y - 35, fit_text(fonts.printable(donor), fonts.bold, 11, right_width)
    )
    draw_label(canvas, fonts, right_x, flow.y - 55, labels["origin"])
    canvas.setFillColor(INK)
    canvas.setFont(fonts.mono, 8.5)
    canvas.drawString(
        right_x, flow.y - 69, fit_text(fonts.printable(data.origin), fonts.mono, 8.5, right_width)
    )
    flow.y -= height + 18


def _draw_paragraph(
    flow: PageFlow, text: str, *, size: float, width: float = CONTENT_WIDTH
) -> None:
    canvas, fonts = flow.canvas, flow.fonts
    leading = size * 1.4
    for line in wrap_text(fonts.printable(text), fonts.regular, size, width):
        flow.ensure(leading)
        canvas.setFillColor(INK)
        canvas.setFont(fonts.regular, size)
        canvas.drawString(MARGIN, flow.y - size, line)
        flow.y -= leading


def _draw_table_heading(flow: PageFlow, labels: dict[str, str]) -> None:
    canvas, fonts = flow.canvas, flow.fonts
    canvas.setFillColor(TINT)
    canvas.rect(MARGIN, flow.y - ROW_HEIGHT, CONTENT_WIDTH, ROW_HEIGHT, stroke=0, fill=1)
    canvas.setFillColor(BRAND)
    headings = [[fonts.printable(labels[c.label_key]).upper()] for c in COLUMNS]
    _draw_cells(canvas, fonts.bold, 7.5, flow.y, headings)
    flow.y -= ROW_HEIGHT


def _row_cells(
    fonts: FontSet, donation: AnnualDonation, data: AnnualReceiptData, lang: Language
) -> list[list[str]]:
    """The lines of each cell of one donation's row."""
    return [
        [format_short_day(donation.received_on, lang)],
        _cell_lines(fonts, donation.fund_name, COLUMNS[1]),
        _cell_lines(fonts, donation.reference, COLUMNS[2]),
        [str(donation.index)],
        [fonts.printable(format_amount(donation.amount, data.currency, data.minor_units, lang))],
    ]


def _cell_lines(fonts: FontSet, text: str, column: _Column) -> list[str]:
    """``text`` wrapped to the column, at most :data:`MAX_CELL_LINES` lines."""
    inner = column.width - 2 * CELL_PADDING
    lines = wrap_text(fonts.printable(text), fonts.regular, BODY_SIZE, inner)
    if len(lines) > MAX_CELL_LINES:
        rest = " ".join(lines[MAX_CELL_LINES - 1 :])
        lines = [*lines[: MAX_CELL_LINES - 1], fit_text(rest, fonts.regular, BODY_SIZE, inner)]
    return lines


def _row_height(cells: list[list[str]]) -> float:
    return ROW_HEIGHT + LINE_STEP * (max(len(lines) for lines in cells) - 1)


def _draw_row(flow: PageFlow, cells: list[list[str]], height: float, *, zebra: bool) -> None:
    canvas, fonts = flow.canvas, flow.fonts
    if zebra:
        canvas.setFillColor(PANEL)
        canvas.rect(MARGIN, flow.y - height, CONTENT_WIDTH, height, stroke=0, fill=1)
    canvas.setFillColor(INK)
    _draw_cells(canvas, fonts.regular, BODY_SIZE, flow.y, cells)
    flow.y -= height


def _draw_total_row(
    flow: PageFlow, data: AnnualReceiptData, lang: Language, labels: dict[str, str]
) -> None:
    canvas, fonts = flow.canvas, flow.fonts
    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(1)
    canvas.line(MARGIN, flow.y, PAGE_WIDTH - MARGIN, flow.y)
    canvas.setFillColor(INK)
    total = format_amount(data.total, data.currency, data.minor_units, lang)
    count = labels["count"].format(count=len(data.counted))
    cells = [[labels["total"]], [count], [""], [""], [fonts.printable(total)]]
    _draw_cells(canvas, fonts.bold, 9.5, flow.y - 2, cells)
    flow.y -= ROW_HEIGHT + 2


def _draw_reversed(
    flow: PageFlow,
    data: AnnualReceiptData,
    donations: Sequence[AnnualDonation],
    lang: Language,
    labels: dict[str, str],
) -> None:
    """The donations a correction reversed, after the total: each row struck through and
    followed by the reversing entry, its day and reason. None of them is in the total."""
    canvas, fonts = flow.canvas, flow.fonts
    flow.ensure(30 + ROW_HEIGHT + LINE_STEP)
    canvas.setFillColor(REVERSED)
    canvas.setFont(fonts.bold, 10.5)
    canvas.drawString(MARGIN, flow.y - 12, fonts.printable(labels["reversed_section"]))
    flow.y -= 20
    for donation in donations:
        reversal = donation.reversal
        assert reversal is not None
        cells = _row_cells(fonts, donation, data, lang)
        note = labels["reversed_row"].format(
            index=reversal.index,
            day=format_short_day(reversal.effective_on, lang),
            reason=reversal.reason,
        )
        note_lines = wrap_text(fonts.printable(note), fonts.regular, 8.5, CONTENT_WIDTH - 12)[:3]
        height = _row_height(cells) + 11 * len(note_lines) + 4
        if flow.ensure(height):
            _draw_table_heading(flow, labels)
        top = flow.y
        canvas.setFillColor(REVERSED_BG)
        canvas.rect(MARGIN, top - height, CONTENT_WIDTH, height, stroke=0, fill=1)
        canvas.setFillColor(MUTED)
        _draw_cells(canvas, fonts.regular, BODY_SIZE, top, cells)
        amount = cells[-1][0]
        width = canvas.stringWidth(amount, fonts.regular, BODY_SIZE)
        baseline = top - ROW_HEIGHT / 2 - BODY_SIZE * 0.35
        canvas.setStrokeColor(REVERSED)
        canvas.setLineWidth(1)
        right = PAGE_WIDTH - MARGIN - CELL_PADDING
        canvas.line(right - width - 1, baseline + 3, right + 1, baseline + 3)
        canvas.setFillColor(REVERSED)
        canvas.setFont(fonts.regular, 8.5)
        y = top - _row_height(cells) - 6
        for line in note_lines:
            canvas.drawString(MARGIN + CELL_PADDING, y, line)
            y -= 11
        flow.y -= height
    flow.y -= 18


def _draw_cells(canvas: Canvas, font: str, size: float, top: float, cells: list[list[str]]) -> None:
    """Draw one row's cells, each line fitted into its column; the first line
    sits where a one-line row centres its text."""
    first_baseline = top - ROW_HEIGHT / 2 - size * 0.35
    canvas.setFont(font, size)
    x = MARGIN
    for column, lines in zip(COLUMNS, cells, strict=True):
        inner = column.width - 2 * CELL_PADDING
        for position, line in enumerate(lines):
            shown = fit_text(line, font, size, inner)
            baseline = first_baseline - position * LINE_STEP
            if column.right_aligned:
                canvas.drawRightString(x + column.width - CELL_PADDING, baseline, shown)
            else:
                canvas.drawString(x + CELL_PADDING, baseline, shown)
        x += column.width


def _draw_closing(flow: PageFlow, data: AnnualReceiptData, labels: dict[str, str]) -> None:
    """How to verify, with the optional QR code to the donor-year page."""
    canvas, fonts = flow.canvas, flow.fonts
    qr_size = 84.0 if data.verify_url else 0.0
    text_width = CONTENT_WIDTH - (qr_size + 24 if qr_size else 0)
    lines = wrap_text(fonts.printable(labels["annual_verify"]), fonts.regular, 9, text_width)
    command = wrap_mono(fonts, ANNUAL_VERIFY_COMMAND, text_width, size=8)
    text_height = 24 + 12.5 * len(lines) + 8 * 1.45 * len(command) + 18
    height = max(text_height, qr_size + 14)
    flow.ensure(height)
    top = flow.y
    canvas.setFillColor(BRAND)
    canvas.setFont(fonts.bold, 11)
    canvas.drawString(MARGIN, top - 11, fonts.printable(labels["verify_section"]))
    canvas.setFillColor(INK)
    canvas.setFont(fonts.regular, 9)
    y = top - 28
    for line in lines:
        canvas.drawString(MARGIN, y, line)
        y -= 12.5
    draw_mono_box(canvas, fonts, x=MARGIN, top=y + 4, width=text_width, lines=command, size=8)
    if data.verify_url:
        qr_x = PAGE_WIDTH - MARGIN - qr_size
        draw_qr_code(canvas, data.verify_url, x=qr_x, y=top - qr_size, size=qr_size)
        canvas.setFillColor(MUTED)
        canvas.setFont(fonts.regular, 7)
        canvas.drawCentredString(
            qr_x + qr_size / 2, top - qr_size - 8, fonts.printable(labels["scan"])
        )
    flow.y -= height


__all__ = ["COLUMNS", "ROW_HEIGHT", "draw_annual_receipt"]
