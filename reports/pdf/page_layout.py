"""The house layout of every report page: geometry, colours, header band,
footer, text wrapping and the drawing primitives receipts and statements share.

Everything here draws on a reportlab canvas at explicit coordinates (the brief
measured the canvas at ~8x the speed of platypus tables). Nothing reads a clock
or the environment, so what is drawn depends only on the arguments.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from reports.errors import RenderError
from reports.pdf.fonts import FontSet

CREATOR = "donation-ledger reports"
"""The PDF ``/Creator`` entry of every report."""

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 48.0
"""Left, right and bottom margin in points."""
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN

BAND_HEIGHT = 84.0
"""Height of the coloured header band at the top of every page."""
FOOTER_HEIGHT = 40.0
"""Space reserved above the bottom margin for the footer."""

INK = HexColor("#1F2933")
"""Body text."""
MUTED = HexColor("#5F6B7A")
"""Labels and secondary text."""
BRAND = HexColor("#0F4C5C")
"""Header band, headings, the amount."""
TINT = HexColor("#EAF2F3")
"""Background of the amount panel and table headers."""
PANEL = HexColor("#F4F6F8")
"""Background of monospaced boxes and zebra rows."""
RULE = HexColor("#CBD2D9")
"""Hairlines."""


def new_canvas(
    buffer: io.BytesIO, *, language_tag: str, title: str, author: str, subject: str
) -> Canvas:
    """A deterministic A4 canvas (reportlab ``invariant`` mode: fixed dates and
    document ID) with the document information filled in."""
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1, lang=language_tag)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setSubject(subject)
    canvas.setCreator(CREATOR)
    return canvas


def wrap_text(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width``.

    Breaks at spaces; a word wider than the line (a hash, a URL) is broken
    between characters. Explicit newlines are kept; an empty input gives one
    empty line.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = word if not current else f"{current} {word}"
            if stringWidth(candidate, font, size) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = _break_run(word, font, size, width, lines)
        lines.append(current)
    return lines


def wrap_url(url: str, font: str, size: float, width: float) -> list[str]:
    """Break a URL into lines no wider than ``width``, preferring breaks after
    "/", "?", "&" and "=" so each line reads as a part of the address."""
    segments = re.findall(r"[^/?&=]*[/?&=]?", url)
    lines: list[str] = []
    current = ""
    for segment in filter(None, segments):
        if stringWidth(current + segment, font, size) <= width:
            current += segment
            continue
        if current:
            lines.append(current)
        current = _break_run(segment, font, size, width, lines)
    lines.append(current)
    return lines


def _break_run(run: str, font: str, size: float, width: float, lines: list[str]) -> str:
    """Break a run too wide for one line between characters: full lines go to ``lines``;
    returns the unfinished last one."""
    current = ""
    for char in run:
        if current and stringWidth(current + char, font, size) > width:
            lines.append(current)
            current = ""
        current += char
    return current


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """``text`` shortened with "…" (or "..." in standard fonts) to fit ``width``."""
    if stringWidth(text, font, size) <= width:
        return text
    ellipsis = "…" if font not in ("Helvetica", "Helvetica-Bold", "Courier") else "..."
    while text and stringWidth(text + ellipsis, font, size) > width:
        text = text[:-1]
    return text.rstrip() + ellipsis


@dataclass
class PageFlow:
    """A top-to-bottom cursor over pages that starts a new page when content
    would run into the footer.

    ``start_page(canvas, page_number)`` draws the page furniture and returns
    the y where content starts; ``end_page(canvas, page_number)`` draws the
    footer. Page numbers count from 1.
    """

    canvas: Canvas
    fonts: FontSet
    start_page: Callable[[Canvas, int], float]
    end_page: Callable[[Canvas, int], None]
    page_number: int = 0
    y: float = 0.0

    def begin(self) -> None:
        """Open the first page."""
        self.page_number = 1
        self.y = self.start_page(self.canvas, self.page_number)

    def ensure(self, height: float) -> bool:
        """Make room for ``height`` points; returns True when a page was turned."""
        if self.y - height >= MARGIN + FOOTER_HEIGHT:
            return False
        self.end_page(self.canvas, self.page_number)
        self.canvas.showPage()
        self.page_number += 1
        self.y = self.start_page(self.canvas, self.page_number)
        return True

    def finish(self) -> int:
        """Close the last page; returns the number of pages drawn."""
        self.end_page(self.canvas, self.page_number)
        self.canvas.showPage()
        return self.page_number


def draw_header_band(
    canvas: Canvas, fonts: FontSet, *, organization: str, title: str, right_lines: list[str]
) -> float:
    """The coloured band across the top: organization and document title on
    the left, identifying lines (entry number, issue date) on the right.
    Returns the y just below the band's breathing space."""
    top = PAGE_HEIGHT
    canvas.setFillColor(BRAND)
    canvas.rect(0, top - BAND_HEIGHT, PAGE_WIDTH, BAND_HEIGHT, stroke=0, fill=1)
    canvas.setFillColor(white)
    right_width = max(
        (stringWidth(fonts.printable(line), fonts.regular, 8.5) for line in right_lines), default=0
    )
    left_width = CONTENT_WIDTH - right_width - 24
    name = fonts.printable(organization)
    size = 16.0  # a long name shrinks to 12 pt, then takes two lines, then is shortened
    while size > 12 and stringWidth(name, fonts.bold, size) > left_width:
        size -= 0.5
    if stringWidth(name, fonts.bold, size) <= left_width:
        canvas.setFont(fonts.bold, size)
        canvas.drawString(MARGIN, top - 38, name)
        title_baseline = top - 58
    else:
        lines = wrap_text(name, fonts.bold, 12.5, left_width)
        lines = [lines[0], fit_text(" ".join(lines[1:]), fonts.bold, 12.5, left_width)]
        canvas.setFont(fonts.bold, 12.5)
        canvas.drawString(MARGIN, top - 30, lines[0])
        canvas.drawString(MARGIN, top - 45, lines[1])
        title_baseline = top - 65
    canvas.setFont(fonts.regular, 11.5)
    canvas.drawString(MARGIN, title_baseline, fonts.printable(title))
    canvas.setFont(fonts.regular, 8.5)
    right_x = PAGE_WIDTH - MARGIN
    for position, line in enumerate(right_lines):
        canvas.drawRightString(right_x, top - 38 - position * 13, fonts.printable(line))
    return top - BAND_HEIGHT - 26


def draw_footer(
    canvas: Canvas,
    fonts: FontSet,
    *,
    left_lines: list[str],
    page_label: str,
    count_form: str | None = None,
) -> None:
    """A hairline and up to two short lines of small print, the page label on the right.

    With ``count_form``, the label ("Page 3 of ") is followed by that form XObject, which holds
    the page count once it is known; room is kept for five digits."""
    y = MARGIN + FOOTER_HEIGHT - 12
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.line(MARGIN, y, PAGE_WIDTH - MARGIN, y)
    canvas.setFillColor(MUTED)
    canvas.setFont(fonts.regular, 7.5)
    if count_form is None:
        room = CONTENT_WIDTH - stringWidth(page_label, fonts.regular, 7.5) - 16
    else:
        label_x = PAGE_WIDTH - MARGIN - stringWidth(page_label + "00000", fonts.regular, 7.5)
        room = label_x - MARGIN - 12
    for position, line in enumerate(left_lines[:2]):
        canvas.drawString(
            MARGIN,
            y - 13 - position * 10,
            fit_text(fonts.printable(line), fonts.regular, 7.5, room),
        )
    if count_form is None:
        canvas.drawRightString(PAGE_WIDTH - MARGIN, y - 13, page_label)
        return
    canvas.drawString(label_x, y - 13, page_label)
    canvas.saveState()
    canvas.translate(label_x + stringWidth(page_label, fonts.regular, 7.5), y - 13)
    canvas.doForm(count_form)
    canvas.restoreState()


def draw_section_title(flow: PageFlow, title: str, *, keep_with: float = 40) -> None:
    """A heading in the brand colour with a hairline under it, set off from
    what precedes it; kept on the same page as the next ``keep_with`` points."""
    flow.y -= 8
    flow.ensure(30 + keep_with)
    canvas, fonts = flow.canvas, flow.fonts
    canvas.setFillColor(BRAND)
    canvas.setFont(fonts.bold, 11)
    canvas.drawString(MARGIN, flow.y - 11, fonts.printable(title))
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.line(MARGIN, flow.y - 17, PAGE_WIDTH - MARGIN, flow.y - 17)
    flow.y -= 30


def draw_label(canvas: Canvas, fonts: FontSet, x: float, y: float, label: str) -> None:
    """A small upper-case label in the muted colour, baseline at ``y``."""
    canvas.setFillColor(MUTED)
    canvas.setFont(fonts.regular, 7.5)
    canvas.drawString(x, y, fonts.printable(label.upper()))


def draw_field_grid(flow: PageFlow, fields: list[tuple[str, str]], *, columns: int = 2) -> None:
    """Label-over-value pairs in a grid; long values wrap within their cell."""
    canvas, fonts = flow.canvas, flow.fonts
    gutter = 18.0
    cell_width = (CONTENT_WIDTH - gutter * (columns - 1)) / columns
    for row_start in range(0, len(fields), columns):
        row = fields[row_start : row_start + columns]
        wrapped = [
            wrap_text(fonts.printable(value), fonts.regular, 10.5, cell_width) for _, value in row
        ]
        height = 14 + 13.5 * max(len(lines) for lines in wrapped) + 10
        flow.ensure(height)
        for column, ((label, _), lines) in enumerate(zip(row, wrapped, strict=True)):
            x = MARGIN + column * (cell_width + gutter)
            draw_label(canvas, fonts, x, flow.y - 8, label)
            canvas.setFillColor(INK)
            canvas.setFont(fonts.regular, 10.5)
            for position, line in enumerate(lines):
                canvas.drawString(x, flow.y - 22 - position * 13.5, line)
        flow.y -= height


def draw_key_value_rows(
    flow: PageFlow, rows: list[tuple[str, str, bool]], *, key_width: float = 120
) -> None:
    """Rows of ``label: value``; values flagged ``True`` are set monospaced."""
    canvas, fonts = flow.canvas, flow.fonts
    value_width = CONTENT_WIDTH - key_width
    for label, value, mono in rows:
        font, size = (fonts.mono, 8.5) if mono else (fonts.regular, 10)
        lines = wrap_text(fonts.printable(value), font, size, value_width)
        height = 13.5 * len(lines) + 4
        flow.ensure(height)
        canvas.setFillColor(MUTED)
        canvas.setFont(fonts.regular, 9)
        canvas.drawString(MARGIN, flow.y - 10, fonts.printable(label))
        canvas.setFillColor(INK)
        canvas.setFont(font, size)
        for position, line in enumerate(lines):
            canvas.drawString(MARGIN + key_width, flow.y - 10 - position * 13.5, line)
        flow.y -= height


def draw_mono_box(
    canvas: Canvas,
    fonts: FontSet,
    *,
    x: float,
    top: float,
    width: float,
    lines: list[str],
    size: float = 7.5,
) -> float:
    """Monospaced ``lines`` (pre-wrapped to fit ``width - 16``) in a tinted box;
    returns the box height."""
    leading = size * 1.45
    height = leading * len(lines) + 12
    canvas.setFillColor(PANEL)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.roundRect(x, top - height, width, height, 3, stroke=1, fill=1)
    canvas.setFillColor(INK)
    canvas.setFont(fonts.mono, size)
    for position, line in enumerate(lines):
        canvas.drawString(x + 8, top - 6 - size - position * leading, line)
    return height


def draw_mono_block(flow: PageFlow, lines: list[str], *, size: float = 7.5) -> None:
    """Monospaced ``lines`` in tinted boxes, continued on the next page when
    they do not fit (never fewer than three lines before a page turn)."""
    leading = size * 1.45
    while lines:
        room = int((flow.y - MARGIN - FOOTER_HEIGHT - 12) // leading)
        if room < min(3, len(lines)):
            flow.ensure(flow.y)  # turn the page
            continue
        chunk, lines = lines[:room], lines[room:]
        flow.y -= draw_mono_box(
            flow.canvas,
            flow.fonts,
            x=MARGIN,
            top=flow.y,
            width=CONTENT_WIDTH,
            lines=chunk,
            size=size,
        )
        if lines:
            flow.ensure(flow.y)


def wrap_mono(fonts: FontSet, text: str, width: float, size: float = 7.5) -> list[str]:
    """``text`` wrapped for :func:`draw_mono_box` of the given outer ``width``."""
    return wrap_text(fonts.printable(text), fonts.mono, size, width - 16)


def fitting_mono_size(
    fonts: FontSet, text: str, width: float, *, largest: float, smallest: float
) -> float:
    """The largest size (in 0.25 pt steps, within bounds) at which every line of
    ``text`` fits a :func:`draw_mono_box` of outer ``width`` unwrapped; ``smallest``
    when none does. Keeps lines such as a signed note's signature line whole."""
    longest = max(text.split("\n"), key=len, default="")
    size = largest
    while size > smallest and stringWidth(fonts.printable(longest), fonts.mono, size) > width - 16:
        size -= 0.25
    return size


def draw_qr_code(canvas: Canvas, value: str, *, x: float, y: float, size: float) -> None:
    """A QR code (error correction M, 4-module quiet zone) for ``value``,
    ``size`` points square with its lower-left corner at (x, y)."""
    drawing = Drawing(size, size)
    drawing.add(QrCodeWidget(value, barLevel="M", barWidth=size, barHeight=size, barBorder=4))
    renderPDF.draw(drawing, canvas, x, y)


def draw_panel(
    canvas: Canvas, *, x: float, top: float, width: float, height: float, color: Color = TINT
) -> None:
    """A rounded, borderless tinted panel."""
    canvas.setFillColor(color)
    canvas.roundRect(x, top - height, width, height, 6, stroke=0, fill=1)


__all__ = [
    "BAND_HEIGHT",
    "BRAND",
    "CONTENT_WIDTH",
    "CREATOR",
    "FOOTER_HEIGHT",
    "INK",
    "MARGIN",
    "MUTED",
    "PAGE_HEIGHT",
    "PAGE_WIDTH",
    "PANEL",
    "RULE",
    "TINT",
    "PageFlow",
    "draw_field_grid",
    "draw_footer",
    "draw_header_band",
    "draw_key_value_rows",
    "draw_label",
    "draw_mono_block",
    "draw_mono_box",
    "draw_panel",
    "draw_qr_code",
    "draw_section_title",
    "fit_text",
    "fitting_mono_size",
    "new_canvas",
    "render_paginated",
    "wrap_mono",
    "wrap_text",
    "wrap_url",
]


def render_paginated(build: Callable[[int | None], tuple[bytes, int]]) -> bytes:
    """Render a document whose footer says "page X of Y".

    ``build(total_pages)`` draws the whole document and returns its bytes and
    page count; it is called once with ``None`` to count pages (the footer
    label does not move content, so the count cannot change) and once with
    the count. Both passes are deterministic, so the result is too.
    """
    _, pages = build(None)
    document, pages_again = build(pages)
    if pages_again != pages:  # pragma: no cover - would mean the footer moved content
        raise RenderError(f"expected {pages} pages on the second pass, drew {pages_again}")
    return document
