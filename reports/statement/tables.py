"""Tables of the public statement, drawn straight on the canvas.

Two kinds: small summary tables (balances, beneficiaries, purposes), drawn cell by
cell, and the entries table, which may run to 100,000 rows. The entries table
writes each page's text through one reportlab text object (a string drawn through
``canvas.drawString`` costs a text object of its own, about a third more) and
caches what repeats across rows (dates, kinds, fund codes, fitted labels), so its
cost is dominated by reportlab encoding each cell once.

Rows have fixed heights (one line, or two for rows with a note: marked as corrected or as a
correction, or a disbursement with its recipient's status; a dispute's row is red), cells are shortened with "…" rather than wrapped, and amounts are
never shortened: a figure too wide for its column is set smaller instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from reportlab.lib.colors import HexColor
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from reports.pdf.localization import (
    WHOLE_UNIT_CURRENCIES,
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
    PANEL,
    TINT,
    PageFlow,
    fit_text,
)
from reports.statement.data import ACKNOWLEDGED, AWAITING, DISPUTED, StatementEntry
from reports.statement.text import STATEMENT_LABELS, kind_label
from schemas import kinds

CELL_PADDING = 4.0
"""Horizontal padding inside a cell."""
HEADING_HEIGHT = 16.0
"""Height of a table's heading row."""
SUMMARY_ROW = 15.0
"""Height of a summary table row."""
ENTRY_ROW = 12.0
"""Height of a one-line entry row: about 55 rows a page."""
MARKED_ROW = 20.0
"""Height of an entry row with a correction note under it."""
ENTRY_SIZE = 7.5
"""Font size of entry cells."""
NOTE_SIZE = 6.5
"""Font size of the correction notes."""
SMALLEST_AMOUNT_SIZE = 5.0
"""An amount never shrinks below this size."""

AMBER = HexColor("#B45309")
"""Correction marks."""
AMBER_TINT = HexColor("#FDF3E1")
"""Background of rows marked as corrected or as corrections."""
MINUS = "\u2212"
"""The minus sign of negative amounts."""
RED = HexColor("#B42318")
"""Disputes by the recipient (the statement's alert colour)."""
RED_TINT = HexColor("#FDECEA")
"""Background of a disputed disbursement's row."""
GREEN = HexColor("#1E7B46")
"""Acknowledged by the recipient."""
CORRECTED = "corrected"
"""Note style of a correction and of the entry it reverses."""
ROW_TINTS = {CORRECTED: (AMBER_TINT, AMBER), DISPUTED: (RED_TINT, RED)}
"""Row background and left bar per note style; other rows are zebra-striped."""
NOTE_COLOURS = {CORRECTED: AMBER, DISPUTED: RED, ACKNOWLEDGED: GREEN, AWAITING: MUTED}
"""Colour of the note line under a row, per style."""


@dataclass(frozen=True)
class Column:
    """One column of a table."""

    heading: str
    """Heading text (already localized)."""
    width: float
    """Width in points, padding included."""
    right: bool = False
    """Right-aligned (figures)."""


class AmountFormatter:
    """``format_amount`` for one currency and language, without Babel on every call.

    Formatting 100,000 amounts through Babel costs about two seconds. The pattern of
    ``format_amount`` is fixed (symbol, space, grouped digits, decimals), so its pieces
    are learned from Babel once and the output is checked against Babel on probe values;
    if any differs, every call goes through Babel instead.
    """

    PROBES = (0, 1, 99, 100, 12_345, 1_000_000, 123_456_789, 125_000_000, 10**15)

    def __init__(self, currency: str, minor_units: int, lang: Language) -> None:
        self.currency, self.minor_units, self.lang = currency, minor_units, lang
        self.scale = 10**minor_units
        sample = format_amount(1_234_567 * self.scale + self.scale - 1, currency, minor_units, lang)
        first_digit = next((n for n, ch in enumerate(sample) if ch.isdigit()), 0)
        self.prefix = sample[:first_digit]
        self.group = sample[first_digit + 1] if len(sample) > first_digit + 1 else ","
        self.decimal = sample[-minor_units - 1] if minor_units else ""
        self.whole_units = currency in WHOLE_UNIT_CURRENCIES
        self.fast = all(
            self._format(p) == format_amount(p, currency, minor_units, lang) for p in self.PROBES
        )

    def _format(self, amount: int) -> str:
        whole, fraction = divmod(amount, self.scale)
        text = self.prefix + f"{whole:,}".replace(",", self.group)
        if self.minor_units and (fraction or not self.whole_units):
            text += self.decimal + f"{fraction:0{self.minor_units}d}"
        return text

    def __call__(self, amount: int) -> str:
        """The amount, with a leading minus sign when negative."""
        if not self.fast:
            return signed_amount(amount, self.currency, self.minor_units, self.lang)
        return MINUS + self._format(-amount) if amount < 0 else self._format(amount)


def signed_amount(amount: int, currency: str, minor_units: int, lang: Language) -> str:
    """``format_amount`` for any sign: negative amounts get a leading minus sign."""
    text = format_amount(abs(amount), currency, minor_units, lang)
    return MINUS + text if amount < 0 else text


def fit_size(text: str, font: str, size: float, width: float, smallest: float) -> float:
    """The largest size, from ``size`` down to ``smallest`` in 0.25 pt steps, at which
    ``text`` fits ``width``."""
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.25
    return size


def draw_heading(flow: PageFlow, columns: list[Column]) -> None:
    """A tinted heading row in small upper-case letters."""
    canvas, fonts = flow.canvas, flow.fonts
    canvas.setFillColor(TINT)
    canvas.rect(MARGIN, flow.y - HEADING_HEIGHT, CONTENT_WIDTH, HEADING_HEIGHT, stroke=0, fill=1)
    canvas.setFillColor(BRAND)
    canvas.setFont(fonts.bold, 6.5)
    x = MARGIN
    baseline = flow.y - HEADING_HEIGHT / 2 - 2.3
    for column in columns:
        text = fit_text(
            fonts.printable(column.heading.upper()),
            fonts.bold,
            6.5,
            column.width - 2 * CELL_PADDING,
        )
        if column.right:
            canvas.drawRightString(x + column.width - CELL_PADDING, baseline, text)
        else:
            canvas.drawString(x + CELL_PADDING, baseline, text)
        x += column.width
    flow.y -= HEADING_HEIGHT


def draw_summary_table(
    flow: PageFlow,
    columns: list[Column],
    rows: Iterable[list[str]],
    *,
    bold_rows: frozenset[int] = frozenset(),
) -> None:
    """A small table: heading, zebra rows, headings repeated after a page turn.
    Text cells are shortened to fit; right-aligned cells (figures) are set smaller."""
    canvas, fonts = flow.canvas, flow.fonts
    flow.ensure(HEADING_HEIGHT + SUMMARY_ROW * 2)
    draw_heading(flow, columns)
    for number, cells in enumerate(rows):
        if flow.ensure(SUMMARY_ROW):
            draw_heading(flow, columns)
        bold = number in bold_rows
        if bold:
            canvas.setStrokeColor(BRAND)
            canvas.setLineWidth(0.8)
            canvas.line(MARGIN, flow.y, MARGIN + CONTENT_WIDTH, flow.y)
        elif number % 2:
            canvas.setFillColor(PANEL)
            canvas.rect(MARGIN, flow.y - SUMMARY_ROW, CONTENT_WIDTH, SUMMARY_ROW, stroke=0, fill=1)
        font = fonts.bold if bold else fonts.regular
        canvas.setFillColor(INK)
        baseline = flow.y - SUMMARY_ROW / 2 - 2.8
        x = MARGIN
        for column, cell in zip(columns, cells, strict=True):
            inner = column.width - 2 * CELL_PADDING
            text = fonts.printable(cell)
            if column.right:
                size = fit_size(text, font, 8, inner, SMALLEST_AMOUNT_SIZE)
                canvas.setFont(font, size)
                canvas.drawRightString(x + column.width - CELL_PADDING, baseline, text)
            else:
                canvas.setFont(font, 8)
                canvas.drawString(x + CELL_PADDING, baseline, fit_text(text, font, 8, inner))
            x += column.width
        flow.y -= SUMMARY_ROW


def format_tiny_day(day: dt.date) -> str:
    """A date for the entries table's narrow columns, day first in both languages:
    ``20/11/26``."""
    return f"{day.day:02d}/{day.month:02d}/{day.year % 100:02d}"


class EntriesTable:
    """The entries table: index, value date, recording date (both local dates of the
    organization), kind, fund, counterparty, reference, amount.

    ``draw`` adds rows to the flow; text goes into one text object per page, which the
    page's ``end_page`` must emit through :meth:`flush` before the page is shown.
    """

    def __init__(
        self,
        flow: PageFlow,
        lang: Language,
        minor_units: dict[str, int],
        columns: list[Column],
        time_zone: str = "Asia/Jakarta",
    ) -> None:
        self.flow = flow
        self.zone = ZoneInfo(time_zone)
        self.fonts = flow.fonts
        self.lang = lang
        self.labels = STATEMENT_LABELS[lang]
        self.minor_units = minor_units
        self.columns = columns
        self.text = None
        self._fitted: dict[tuple[int, str], str] = {}
        self._money = {c: AmountFormatter(c, units, lang) for c, units in minor_units.items()}
        self._dates: dict[object, str] = {}
        self.rows = 0

    def flush(self, canvas: Canvas) -> None:
        """Emit the pending text of the current page (call before ``showPage``)."""
        if self.text is not None:
            canvas.drawText(self.text)
            self.text = None

    def _fit(self, column: int, text: str) -> str:
        key = (column, text)
        found = self._fitted.get(key)
        if found is None:
            inner = self.columns[column].width - 2 * CELL_PADDING
            found = fit_text(self.fonts.printable(text), self.fonts.regular, ENTRY_SIZE, inner)
            if len(self._fitted) < 50_000:  # labels repeat; free text need not stay cached
                self._fitted[key] = found
        return found

    def _day(self, day: dt.date) -> str:
        found = self._dates.get(day)
        if found is None:
            found = self._dates[day] = format_tiny_day(day)
        return found

    def _recorded(self, entry: StatementEntry) -> str:
        """The local date (organization's zone) the log recorded the entry."""
        return self._day(entry.time.astimezone(self.zone).date())

    def _date(self, entry: StatementEntry) -> str:
        """The value date of a money entry; other entries have only their recording date."""
        return self._day(entry.value_date) if entry.value_date else ""

    def _counterparty(self, e: StatementEntry) -> str:
        labels = self.labels
        # A correction shows the party of the entry it reverses.
        moved = e.corrected_kind if e.kind == kinds.CORRECTION else e.kind
        if moved == kinds.DONATION:
            return e.counterparty or labels["anonymous"]
        if moved == kinds.TRANSFER:
            return "→ " + (e.counterparty or "")
        if e.kind == kinds.STATEMENT_ISSUED:
            return labels["statement_ref"].format(number=e.detail)
        if e.kind == kinds.DONOR_ERASED:
            return labels["records"].format(count=e.detail)
        return e.counterparty or ""

    def _amount(self, e: StatementEntry) -> str:
        if e.amount is None or e.currency is None:
            return ""
        amount = -e.amount if e.kind == kinds.CORRECTION else e.amount
        return self.fonts.printable(self._money[e.currency](amount))

    def _recipient_note(self, e: StatementEntry) -> tuple[str, str] | None:
        """A disbursement's recipient status, and its style (the status itself)."""
        r = e.recipient
        if r is None:
            return None
        if r.status == AWAITING:
            return self.labels["awaiting_note"].format(days=r.awaiting_days), AWAITING
        on = format_day(r.on, self.lang) if r.on else ""
        if r.status == ACKNOWLEDGED:
            return self.labels["ack_note"].format(entry=r.entry, on=on), ACKNOWLEDGED
        received = self._money[e.currency](r.received or 0) if e.currency else ""
        text = self.labels["disputed_note"].format(entry=r.entry, on=on, received=received)
        return "⚠ " + text, DISPUTED

    def _note(self, e: StatementEntry) -> tuple[str, str] | None:
        """The line under an entry's row and its style: a correction's mark (amber), a
        disbursement's recipient status (a dispute in red), or both."""
        if e.kind == kinds.CORRECTION and e.corrects is not None:
            note = "↳ " + self.labels["corrects"].format(index=e.corrects)
            return (f"{note} — {e.detail}" if e.detail else note), CORRECTED
        status = self._recipient_note(e)
        if e.corrected_by is not None:
            note = "✱ " + self.labels["corrected_by"].format(index=e.corrected_by)
            if status is None:
                return note, CORRECTED
            return f"{note} · {status[0]}", DISPUTED if status[1] == DISPUTED else CORRECTED
        return status

    def draw(self, entries: Iterable[StatementEntry], on_new_page: Callable[[], None]) -> None:
        """Draw every row; ``on_new_page`` runs after each page turn (it draws the heading)."""
        flow, fonts, columns = self.flow, self.fonts, self.columns
        canvas = flow.canvas
        regular = fonts.regular
        xs = []
        x = MARGIN
        for column in columns:
            xs.append((x + CELL_PADDING, x + column.width - CELL_PADDING))
            x += column.width
        last = len(columns) - 1  # the amount column
        amount_inner = columns[last].width - 2 * CELL_PADDING
        digit = stringWidth("0", regular, ENTRY_SIZE)
        tabular = all(stringWidth(d, regular, ENTRY_SIZE) == digit for d in "123456789")
        note_x = xs[3][0]
        # The note line runs under the kind, fund, party, reference and amount cells.
        note_width = sum(c.width for c in columns[3:]) - 2 * CELL_PADDING
        size = 0.0
        for e in entries:
            marked = self._note(e)
            note, style = marked if marked else (None, "")
            height = MARKED_ROW if note else ENTRY_ROW
            if flow.ensure(height):
                on_new_page()
            top = flow.y
            tint = ROW_TINTS.get(style)
            if tint is not None:
                canvas.setFillColor(tint[0])
                canvas.rect(MARGIN, top - height, CONTENT_WIDTH, height, stroke=0, fill=1)
                canvas.setFillColor(tint[1])
                canvas.rect(MARGIN, top - height, 2 if style == CORRECTED else 3, height, stroke=0, fill=1)
            elif self.rows % 2:
                canvas.setFillColor(PANEL)
                canvas.rect(MARGIN, top - height, CONTENT_WIDTH, height, stroke=0, fill=1)
            text = self.text
            if text is None:
                text = self.text = canvas.beginText()
                text.setFillColor(INK)
                size = 0.0
            baseline = top - ENTRY_ROW / 2 - 2.6
            if size != ENTRY_SIZE:  # set only when it changed: every operator costs
                text.setFont(regular, ENTRY_SIZE)
                size = ENTRY_SIZE
            cells = (
                (0, str(e.index), True),
                (1, self._date(e), False),
                (2, self._recorded(e), False),
                (3, self._fit(3, kind_label(e.kind, self.lang)), False),
                (4, self._fit(4, e.fund or ""), False),
                (5, self._fit(5, self._counterparty(e)), False),
                (6, self._fit(6, e.reference or ""), False),
            )
            for column, value, right in cells:
                if not value:
                    continue
                left, right_edge = xs[column]
                if right:  # the index: digits of one width in the house fonts
                    width = (
                        digit * len(value) if tabular else stringWidth(value, regular, ENTRY_SIZE)
                    )
                    left = right_edge - width
                text.setTextOrigin(left, baseline)
                text.textOut(value)
            amount = self._amount(e)
            if amount:
                width = stringWidth(amount, regular, ENTRY_SIZE)
                if width > amount_inner:
                    size = fit_size(amount, regular, ENTRY_SIZE, amount_inner, SMALLEST_AMOUNT_SIZE)
                    width = stringWidth(amount, regular, size)
                    text.setFont(regular, size)
                text.setTextOrigin(xs[last][1] - width, baseline)
                text.textOut(amount)
            if note:
                text.setFillColor(NOTE_COLOURS[style])
                text.setFont(fonts.bold if style == DISPUTED else regular, NOTE_SIZE)
                size = NOTE_SIZE
                text.setTextOrigin(note_x, baseline - 9)
                font = fonts.bold if style == DISPUTED else regular
                text.textOut(fit_text(fonts.printable(note), font, NOTE_SIZE, note_width))
                text.setFillColor(INK)
            flow.y -= height
            self.rows += 1


__all__ = [
    "AMBER",
    "ENTRY_ROW",
    "MARKED_ROW",
    "AmountFormatter",
    "Column",
    "EntriesTable",
    "draw_heading",
    "draw_summary_table",
    "fit_size",
    "signed_amount",
]
