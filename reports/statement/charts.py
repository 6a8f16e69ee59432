"""The statement's charts (issue 17): the fund page's pictures, drawn with reportlab into the
signed PDF, from the same totals as its tables.

* Money in and out per month of value date (donations received, disbursements paid; each
  net of the corrections the statement lists);
* disbursements by category, and by beneficiary (the twelve largest).

Each chart is horizontal bars with the amount and share written beside every bar, so it
reads without colour (inflow bars are solid, outflow bars hatched) and its numbers are the
tables' numbers; the tables stay the record.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from reportlab.lib.colors import HexColor, white

from reports.pdf.localization import BABEL_LOCALES, Language
from reports.pdf.page_layout import (
    BRAND,
    CONTENT_WIDTH,
    INK,
    MARGIN,
    MUTED,
    RULE,
    PageFlow,
    draw_section_title,
    fit_text,
)
from reports.statement.data import MONEY_KINDS, StatementData
from reports.statement.tables import signed_amount
from reports.statement.text import STATEMENT_LABELS, format_ratio, purpose_label
from schemas import kinds
from schemas.statements import StatementTotals

INFLOW = BRAND
OUTFLOW = HexColor("#8A5A00")
BAR_HEIGHT = 9.0
ROW = 15.0
LABEL_WIDTH = 150.0
VALUE_WIDTH = 120.0
MOST_BENEFICIARIES = 12


def monthly_flows(data: StatementData, currency: str) -> list[tuple[dt.date, int, int]]:
    """(first day of month, donations in, disbursements out) per month of value date, net of
    the corrections listed, for the statement's entries in ``currency``."""
    months: dict[dt.date, list[int]] = {}
    for e in data.entries:
        if e.kind not in MONEY_KINDS or e.currency != currency or e.value_date is None:
            continue
        kind = e.corrected_kind if e.kind == kinds.CORRECTION else e.kind
        if kind not in (kinds.DONATION, kinds.DISBURSEMENT) or e.amount is None:
            continue
        amount = -e.amount if e.kind == kinds.CORRECTION else e.amount
        pair = months.setdefault(e.value_date.replace(day=1), [0, 0])
        pair[0 if kind == kinds.DONATION else 1] += amount
    return [(m, v[0], v[1]) for m, v in sorted(months.items())]


def draw_charts(
    flow: PageFlow, data: StatementData, totals: StatementTotals, lang: Language
) -> None:
    """Every chart of the statement, per currency it holds money in."""
    labels = STATEMENT_LABELS[lang]
    currencies = [c.currency for c in totals.currencies] or sorted(data.minor_units)
    for currency in currencies:

        def money(amount: int, currency: str = currency) -> str:
            return signed_amount(amount, currency, data.minor_units[currency], lang)

        flows = monthly_flows(data, currency)
        if flows:
            draw_section_title(flow, labels["chart_monthly"], keep_with=40 + ROW * 2)
            peak = max(max(i, o) for _, i, o in flows) or 1
            for month, inflow, outflow in flows:
                flow.ensure(2 * ROW + 6)
                name = format_date(month, format="MMMM y", locale=BABEL_LOCALES[lang])
                _bar(flow, f"{name} · {labels['chart_in']}", inflow, peak, money(inflow), False)
                _bar(flow, labels["chart_out"], outflow, peak, money(outflow), True)
                flow.y -= 6
            _legend(flow, labels)
        purposes = [p for p in totals.purposes if p.currency == currency]
        if purposes:
            draw_section_title(flow, labels["chart_purpose"], keep_with=40 + ROW * 2)
            peak = max(p.amount for p in purposes) or 1
            for p in sorted(purposes, key=lambda p: (-p.amount, p.key)):
                share = format_ratio(p.share_bps or 0, lang)
                _bar(flow, purpose_label(p.key, lang), p.amount, peak, f"{money(p.amount)} · {share}", True)
        given = sorted(
            (b for b in totals.beneficiaries if b.currency == currency),
            key=lambda b: (-b.amount, b.key),
        )
        if given:
            total = sum(b.amount for b in given)
            draw_section_title(flow, labels["chart_beneficiary"], keep_with=40 + ROW * 2)
            peak = given[0].amount or 1
            for b in given[:MOST_BENEFICIARIES]:
                share = format_ratio(b.amount * 10_000 // total if total else 0, lang)
                _bar(flow, b.name, b.amount, peak, f"{money(b.amount)} · {share}", True)
            if len(given) > MOST_BENEFICIARIES:
                rest = given[MOST_BENEFICIARIES:]
                _note(
                    flow,
                    labels["chart_more"].format(
                        count=len(rest), amount=money(sum(b.amount for b in rest))
                    ),
                )


def _bar(  # type: ignore[no-untyped-def]
    flow: PageFlow, label: str, amount: int, peak: int, value: str, hatched: bool
) -> None:
    """One labelled horizontal bar, its length ``amount / peak`` of the plot's width."""
    canvas, fonts = flow.canvas, flow.fonts
    flow.ensure(ROW)
    y = flow.y - ROW + 3
    plot = CONTENT_WIDTH - LABEL_WIDTH - VALUE_WIDTH - 12
    canvas.setFillColor(INK)
    canvas.setFont(fonts.regular, 8)
    canvas.drawString(
        MARGIN, y + 1.5, fit_text(fonts.printable(label), fonts.regular, 8, LABEL_WIDTH - 4)
    )
    x = MARGIN + LABEL_WIDTH
    width = max(0.0, plot * max(amount, 0) / peak)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.4)
    canvas.line(x, y - 2, x, y + BAR_HEIGHT + 1)
    if width > 0:
        colour = OUTFLOW if hatched else INFLOW
        canvas.setFillColor(white if hatched else colour)
        canvas.setStrokeColor(colour)
        canvas.setLineWidth(0.8)
        canvas.rect(x, y, width, BAR_HEIGHT, stroke=1, fill=1)
        if hatched:  # diagonal hatching: the outflow reads as such in black and white too
            canvas.saveState()
            clip = canvas.beginPath()
            clip.rect(x, y, width, BAR_HEIGHT)
            canvas.clipPath(clip, stroke=0, fill=0)
            canvas.setLineWidth(0.5)
            offset = -BAR_HEIGHT
            while offset < width:
                canvas.line(x + offset, y, x + offset + BAR_HEIGHT, y + BAR_HEIGHT)
                offset += 4.0
            canvas.restoreState()
    canvas.setFillColor(INK)
    canvas.setFont(fonts.regular, 8)
    canvas.drawString(x + width + 4, y + 1.5, fonts.printable(value))
    flow.y -= ROW


def _legend(flow: PageFlow, labels: dict[str, str]) -> None:
    _note(flow, labels["chart_legend"])


def _note(flow: PageFlow, text: str) -> None:
    canvas, fonts = flow.canvas, flow.fonts
    flow.ensure(12)
    canvas.setFillColor(MUTED)
    canvas.setFont(fonts.regular, 7.5)
    canvas.drawString(MARGIN, flow.y - 8, fit_text(fonts.printable(text), fonts.regular, 7.5, CONTENT_WIDTH))
    flow.y -= 14
