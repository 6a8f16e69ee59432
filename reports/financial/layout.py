"""The pages of the ISAK 35 and PSAK 109 statements, laid out the way Indonesian financial
statements are: each statement on its own page under a centred title block (organization,
statement, date or period, "(Dinyatakan dalam Rupiah)"), one amount column, sub-totals
over a hairline, grand totals double-ruled, negative figures in parentheses; then a page
of notes (basis of preparation, the funds and their classes, the amil share against its
cap, the log the figures come from).

Drawn on a reportlab canvas with the house primitives of :mod:`reports.pdf.page_layout`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from reportlab.pdfgen.canvas import Canvas

from reports.financial.text import CURRENCY_NAMES, LABELS, figure, percent
from reports.pdf.fonts import FontSet
from reports.pdf.localization import PDF_LANGUAGE_TAGS, Language, format_day
from reports.pdf.page_layout import (
    BRAND,
    CONTENT_WIDTH,
    INK,
    MARGIN,
    MUTED,
    PAGE_WIDTH,
    RULE,
    TINT,
    PageFlow,
    draw_footer,
    draw_header_band,
    draw_key_value_rows,
    draw_section_title,
    fit_text,
    new_canvas,
    render_paginated,
    wrap_text,
)
from schemas.financial import FinancialDocument

RowKind = Literal["heading", "subheading", "line", "subtotal", "total", "grand"]
AMOUNT_WIDTH = 120.0
"""Width of the amount column."""
ROW_HEIGHT = 15.0


@dataclass(frozen=True)
class Row:
    kind: RowKind
    text: str
    amount: int | None = None
    indent: int = 0


def _isak35_pages(doc: FinancialDocument, lang: Language) -> list[tuple[str, list[Row]]]:
    t = LABELS[lang]
    pos = doc.section("financial_position")
    inc = doc.section("comprehensive_income")
    chg = doc.section("changes_in_net_assets")

    def line(
        key: str,
        lines: dict[str, int],
        kind: RowKind = "line",
        indent: int = 1,
        label: str | None = None,
    ) -> Row:
        return Row(kind, label or t[key], lines[key], indent)

    position = [
        Row("heading", t["h.assets"]),
        Row("subheading", t["h.current_assets"], indent=1),
        line("assets.cash", pos, indent=2),
        line("assets.total", pos, "grand", 0),
        Row("heading", t["h.liabilities"]),
        line("liabilities.total", pos, "subtotal", 1),
        Row("heading", t["h.net_assets"]),
        line("net_assets.without", pos),
        line("net_assets.with", pos),
        line("net_assets.total", pos, "subtotal", 1),
        line("liabilities_and_net_assets.total", pos, "grand", 0),
    ]
    programs = [
        Row(
            "line",
            t["program_fund"].format(name=f.name),
            inc[f"without.expenses.program.{f.code}"],
            3,
        )
        for f in doc.funds
        if inc[f"without.expenses.program.{f.code}"] != 0
    ]
    income = [
        Row("heading", t["h.without"]),
        Row("subheading", t["h.revenue"], indent=1),
        line("without.revenue.donations", inc, indent=2),
        line("without.revenue.released", inc, indent=2),
        line("without.revenue.reclassified", inc, indent=2),
        line("without.revenue.total", inc, "subtotal", 1),
        Row("subheading", t["h.expenses"], indent=1),
        Row("line", t["h.program"], None, 2),
        *programs,
        line("without.expenses.program", inc, "subtotal", 2),
        line("without.expenses.fees", inc, indent=2),
        line("without.expenses.total", inc, "subtotal", 1),
        line("without.surplus", inc, "total", 0),
        Row("heading", t["h.with"]),
        Row("subheading", t["h.revenue"], indent=1),
        line("with.revenue.donations", inc, indent=2),
        line("with.released", inc, indent=2),
        line("with.reclassified", inc, indent=2),
        line("with.surplus", inc, "total", 0),
        line("total.surplus", inc, "total", 0),
        line("other_comprehensive_income", inc, indent=0),
        line("total.comprehensive_income", inc, "grand", 0),
    ]
    changes: list[Row] = []
    for cls, heading in (
        ("without", "h.without"),
        ("with", "h.with"),
        ("total", "h.total_net_assets"),
    ):
        changes += [
            Row("heading", t[heading]),
            line(f"{cls}.opening", chg, label=t["opening"]),
            line(f"{cls}.surplus", chg, label=t["surplus_period"]),
            line(f"{cls}.closing", chg, "grand" if cls == "total" else "total", 1, t["closing"]),
        ]
    return [
        ("financial_position", position),
        ("comprehensive_income", income),
        ("changes_in_net_assets", changes),
    ]


def _psak109_pages(doc: FinancialDocument, lang: Language) -> list[tuple[str, list[Row]]]:
    t = LABELS[lang]
    f = doc.section("changes_in_funds")
    rows: list[Row] = []
    for cls in ("zakat", "infak", "amil", "non_halal"):
        rows += [Row("heading", t[f"h.{cls}"]), Row("subheading", t["h.receipts"], indent=1)]
        if cls == "amil":
            rows += [
                Row("line", t["amil.share_from_zakat"], f["amil.share_from_zakat"], 2),
                Row("line", t["amil.share_from_infak"], f["amil.share_from_infak"], 2),
                Row("line", t["amil.receipts"], f["amil.receipts"], 2),
                Row("subtotal", t["amil.receipts_total"], f["amil.receipts_total"], 1),
            ]
        else:
            rows.append(Row("line", t[f"{cls}.receipts"], f[f"{cls}.receipts"], 2))
            if cls in ("zakat", "infak"):
                rows += [
                    Row("line", t[f"{cls}.amil_share"], -f[f"{cls}.amil_share"], 2),
                    Row(
                        "subtotal",
                        t[f"{cls}.receipts_after_amil"],
                        f[f"{cls}.receipts_after_amil"],
                        1,
                    ),
                ]
        rows += [
            Row("line", t["transfers"], f[f"{cls}.transfers"], 1),
            Row("subheading", t["h.use" if cls == "amil" else "h.distributions"], indent=1),
            Row("line", t["distributions"], f[f"{cls}.distributions"], 2),
            Row("line", t["fees"], f[f"{cls}.fees"], 2),
            Row(
                "subtotal",
                t["amil.distributions_total" if cls == "amil" else "distributions_total"],
                f[f"{cls}.distributions_total"],
                1,
            ),
            Row("line", t["surplus"], f[f"{cls}.surplus"], 0),
            Row("line", t["opening"], f[f"{cls}.opening"], 0),
            Row("total", t["closing"], f[f"{cls}.closing"], 0),
        ]
    rows.append(Row("grand", t["total.funds_closing"], f["total.closing"], 0))
    if f["outside.closing"] or f["outside.opening"]:
        rows.append(Row("line", t["outside.closing"], f["outside.closing"], 0))
    return [("changes_in_funds", rows)]


class _Pages:
    """Page furniture (header band, footer with "page X of Y")."""

    def __init__(
        self, doc: FinancialDocument, lang: Language, fonts: FontSet, issued: str, total: int | None
    ):
        self.doc, self.lang, self.fonts, self.issued, self.total = doc, lang, fonts, issued, total
        self.t = LABELS[lang]

    def start(self, canvas: Canvas, page: int) -> float:
        d, t = self.doc, self.t
        last = d.to.fromordinal(d.to.toordinal() - 1)
        right = [f"{format_day(d.from_, self.lang)} – {format_day(last, self.lang)}", self.issued]
        if d.npwp:
            right.insert(0, t["npwp"].format(npwp=d.npwp))
        return draw_header_band(
            canvas,
            self.fonts,
            organization=d.legal_name or d.org_name,
            title=t[f"{d.standard}_title"],
            right_lines=right,
        )

    def end(self, canvas: Canvas, page: int) -> None:
        d, t = self.doc, self.t
        label = t["page"].format(page=page) + (str(self.total) if self.total else "")
        draw_footer(
            canvas,
            self.fonts,
            left_lines=[
                t["footer"].format(size=d.tree_size, origin=d.origin),
                t["footer_unlogged"].format(size=d.tree_size),
            ],
            page_label=label,
        )


def _title_block(flow: PageFlow, doc: FinancialDocument, lang: Language, name: str) -> None:
    t, fonts, canvas = LABELS[lang], flow.fonts, flow.canvas
    last = doc.to.fromordinal(doc.to.toordinal() - 1)
    when = (
        t["as_of"].format(day=format_day(last, lang))
        if name == "financial_position"
        else t["for_period"].format(first=format_day(doc.from_, lang), last=format_day(last, lang))
    )
    currency = CURRENCY_NAMES[lang].get(doc.currency, doc.currency)
    lines = [
        (fonts.bold, 11.5, (doc.legal_name or doc.org_name).upper()),
        (fonts.bold, 12.5, t[name]),
        (fonts.regular, 10, when),
        (fonts.regular, 9, t["expressed"].format(currency=currency)),
    ]
    canvas.setFillColor(INK)
    for font, size, text in lines:
        canvas.setFont(font, size)
        canvas.drawCentredString(PAGE_WIDTH / 2, flow.y - size, fonts.printable(text))
        flow.y -= size + 6
    flow.y -= 10


def _column_head(flow: PageFlow, doc: FinancialDocument, lang: Language) -> None:
    canvas, fonts = flow.canvas, flow.fonts
    last = doc.to.fromordinal(doc.to.toordinal() - 1)
    canvas.setFillColor(TINT)
    canvas.rect(MARGIN, flow.y - 18, CONTENT_WIDTH, 18, stroke=0, fill=1)
    canvas.setFillColor(BRAND)
    canvas.setFont(fonts.bold, 8.5)
    canvas.drawRightString(PAGE_WIDTH - MARGIN - 4, flow.y - 12.5, format_day(last, lang))
    flow.y -= 24


def _draw_rows(flow: PageFlow, rows: list[Row], doc: FinancialDocument, lang: Language) -> None:
    canvas, fonts = flow.canvas, flow.fonts
    right = PAGE_WIDTH - MARGIN - 4
    label_width = CONTENT_WIDTH - AMOUNT_WIDTH - 8
    for position, row in enumerate(rows):
        gap = 6.0 if row.kind == "heading" else 0.0
        if row.kind == "heading":  # keep a section together when it fits on a page
            size = next(
                (n for n, r in enumerate(rows[position + 1 :], 1) if r.kind == "heading"),
                len(rows) - position,
            )
            if size * ROW_HEIGHT < 600:
                flow.ensure(size * ROW_HEIGHT + gap + 12)
        flow.ensure(ROW_HEIGHT * (3 if row.kind == "subheading" else 1) + gap + 6)
        flow.y -= gap
        bold = row.kind in ("heading", "subheading", "total", "grand")
        font = fonts.bold if bold else fonts.regular
        size = 9.5
        x = MARGIN + 4 + 14 * row.indent
        canvas.setFillColor(BRAND if row.kind == "heading" else INK)
        canvas.setFont(font, size)
        text = fit_text(fonts.printable(row.text), font, size, label_width - 14 * row.indent)
        if row.kind == "subheading":
            canvas.setFont(fonts.bold, 9)
            canvas.setFillColor(MUTED)
        canvas.drawString(x, flow.y - 11, text)
        if row.amount is not None:
            if row.kind in ("subtotal", "total", "grand"):
                canvas.setStrokeColor(INK)
                canvas.setLineWidth(0.6)
                canvas.line(right - AMOUNT_WIDTH + 20, flow.y + 0.5, right, flow.y + 0.5)
            canvas.setFont(font, size)
            canvas.setFillColor(INK)
            canvas.drawRightString(
                right, flow.y - 11, figure(row.amount, doc.currency, doc.minor_units, lang)
            )
            if row.kind == "grand":
                canvas.setLineWidth(0.6)
                canvas.line(right - AMOUNT_WIDTH + 20, flow.y - 15, right, flow.y - 15)
                canvas.line(right - AMOUNT_WIDTH + 20, flow.y - 17, right, flow.y - 17)
        flow.y -= ROW_HEIGHT + (4 if row.kind == "grand" else 0)


def _paragraph(flow: PageFlow, text: str, size: float = 9) -> None:
    canvas, fonts = flow.canvas, flow.fonts
    for line in wrap_text(fonts.printable(text), fonts.regular, size, CONTENT_WIDTH):
        flow.ensure(size * 1.45 + 2)
        canvas.setFillColor(INK)
        canvas.setFont(fonts.regular, size)
        canvas.drawString(MARGIN, flow.y - size, line)
        flow.y -= size * 1.45
    flow.y -= 6


def _fund_table(flow: PageFlow, doc: FinancialDocument, lang: Language) -> None:
    t, canvas, fonts = LABELS[lang], flow.canvas, flow.fonts
    columns = (
        (t["col.fund"], 190.0, False),
        (t["col.isak35"], 90.0, False),
        (t["col.psak109"], 70.0, False),
        (t["col.opening"], 74.0, True),
        (t["col.closing"], CONTENT_WIDTH - 424.0, True),
    )

    def draw(values: list[str], font: str, fill: bool) -> None:
        flow.ensure(16)
        if fill:
            canvas.setFillColor(TINT)
            canvas.rect(MARGIN, flow.y - 15, CONTENT_WIDTH, 15, stroke=0, fill=1)
        canvas.setFillColor(INK)
        canvas.setFont(font, 8)
        x = MARGIN
        for (_, width, numeric), value in zip(columns, values, strict=True):
            value = fit_text(fonts.printable(value), font, 8, width - 8)
            if numeric:
                canvas.drawRightString(x + width - 4, flow.y - 10.5, value)
            else:
                canvas.drawString(x + 4, flow.y - 10.5, value)
            x += width
        flow.y -= 15

    draw([c[0] for c in columns], fonts.bold, True)
    for f in doc.funds:
        draw(
            [
                f"{f.name} ({f.code})",
                t[f"class.{f.restriction}"],
                t[f"zclass.{f.zakat_class or 'none'}"],
                figure(f.opening, doc.currency, doc.minor_units, lang),
                figure(f.closing, doc.currency, doc.minor_units, lang),
            ],
            fonts.regular,
            False,
        )
    canvas.setStrokeColor(RULE)
    canvas.line(MARGIN, flow.y, PAGE_WIDTH - MARGIN, flow.y)
    flow.y -= 8


def _notes(flow: PageFlow, doc: FinancialDocument, lang: Language) -> None:
    t = LABELS[lang]
    last = doc.to.fromordinal(doc.to.toordinal() - 1)
    _title_block(flow, doc, lang, "notes")
    draw_section_title(flow, t["n.basis"])
    _paragraph(
        flow,
        t[f"n.basis_{doc.standard}"].format(
            origin=doc.origin,
            zone=doc.time_zone,
            first=format_day(doc.from_, lang),
            last=format_day(last, lang),
        ),
    )
    draw_section_title(flow, t["n.funds"])
    _fund_table(flow, doc, lang)
    n = 3
    share = doc.amil_share
    if share is not None:
        n = 4

        def money(amount: int) -> str:
            return f"{doc.currency} {figure(amount, doc.currency, doc.minor_units, lang)}"

        draw_section_title(flow, t["n.amil"])
        rows = [
            (
                t["amil.period"].format(
                    amil=money(share.period_amil), zakat=money(share.period_zakat)
                ),
                percent(share.period_bps, lang) if share.period_zakat else t["amil.no_zakat"],
            ),
            (
                t["amil.cumulative"].format(
                    amil=money(share.cumulative_amil), zakat=money(share.cumulative_zakat)
                ),
                percent(share.cumulative_bps, lang)
                if share.cumulative_zakat
                else t["amil.no_zakat"],
            ),
            (
                t["amil.cap"].format(
                    cap=percent(share.cap_bps, lang), allowed=money(share.allowed)
                ),
                t["amil.within"] if share.within_cap else t["amil.over"],
            ),
        ]
        canvas, fonts = flow.canvas, flow.fonts
        for text, value in rows:
            flow.ensure(16)
            canvas.setFillColor(INK)
            canvas.setFont(fonts.regular, 9)
            canvas.drawString(
                MARGIN + 4,
                flow.y - 10,
                fit_text(fonts.printable(text), fonts.regular, 9, CONTENT_WIDTH - 110),
            )
            canvas.setFont(fonts.bold, 9)
            canvas.drawRightString(PAGE_WIDTH - MARGIN - 4, flow.y - 10, value)
            flow.y -= 16
        flow.y -= 6
    draw_section_title(flow, t["n.log"].format(n=n))
    checkpoint = (
        t["log.checkpoint_value"].format(size=doc.checkpoint_size, root=doc.checkpoint_root)
        if doc.checkpoint_size is not None
        else t["log.no_checkpoint"]
    )
    draw_key_value_rows(
        flow,
        [
            (t["log.origin"], doc.origin, True),
            (t["log.size"], f"[0, {doc.tree_size})", True),
            (t["log.checkpoint"], checkpoint, True),
        ],
        key_width=150,
    )
    flow.y -= 4
    _paragraph(
        flow,
        t["log.recompute"].format(
            org=doc.org,
            standard=doc.standard,
            first=doc.from_.isoformat(),
            to=doc.to.isoformat(),
            size=doc.tree_size,
        ),
        8,
    )


def draw_financial(doc: FinancialDocument, lang: Language, issued: str, fonts: FontSet) -> bytes:
    """Every page of the document, unsigned ("page X of Y" in two deterministic passes)."""
    t = LABELS[lang]
    pages = _isak35_pages(doc, lang) if doc.standard == "isak35" else _psak109_pages(doc, lang)

    def build(total: int | None) -> tuple[bytes, int]:
        buffer = io.BytesIO()
        canvas = new_canvas(
            buffer,
            language_tag=PDF_LANGUAGE_TAGS[lang],
            title=f"{t[f'{doc.standard}_title']} — {doc.legal_name or doc.org_name} — {doc.from_}/{doc.to}",
            author=doc.legal_name or doc.org_name,
            subject=f"{doc.origin} [0, {doc.tree_size})",
        )
        furniture = _Pages(doc, lang, fonts, issued, total)
        flow = PageFlow(canvas, fonts, furniture.start, furniture.end)
        flow.begin()
        sections: list[Callable[[], None]] = []
        for name, rows in pages:
            sections.append(lambda name=name, rows=rows: _statement(flow, doc, lang, name, rows))
        sections.append(lambda: _notes(flow, doc, lang))
        for position, draw in enumerate(sections):
            if position:
                flow.ensure(flow.y)  # each statement on a new page
            draw()
        count = flow.finish()
        canvas.save()
        return buffer.getvalue(), count

    return render_paginated(build)


def _statement(
    flow: PageFlow, doc: FinancialDocument, lang: Language, name: str, rows: list[Row]
) -> None:
    _title_block(flow, doc, lang, name)
    _column_head(flow, doc, lang)
    _draw_rows(flow, rows, doc, lang)


__all__ = ["Row", "draw_financial"]
