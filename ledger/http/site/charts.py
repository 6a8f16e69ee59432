"""Charts of the public site as server-rendered SVG: no JavaScript, no chart library, no CDN.

Each chart is an inline ``<svg role="img">`` with a ``<title>`` and ``<desc>`` (what a screen
reader announces), a ``<title>`` on every bar with its exact figure, and its numbers written
beside the bars, so it reads without colour: inflow bars are solid, outflow bars hatched, and
the legend says which is which. The page puts a table of the same numbers under each chart
(the text alternative). Only presentation attributes are used (the site's
Content-Security-Policy allows no inline ``style``). Every bar carries ``data-amount`` (the
integer minor units), so a test compares a chart with the API without reading pixels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

INFLOW = "#0b5d4b"
OUTFLOW = "#a4161a"
INK = "#17212b"
MUTED = "#4b5563"
GRID = "#d5dbe1"


@dataclass(frozen=True)
class MonthBars:
    """One month of the monthly chart."""

    label: str
    """The month as people read it (``Nov 2026``)."""
    inflow: int
    """Donations that month, integer minor units."""
    outflow: int
    """Disbursements that month, integer minor units."""


@dataclass(frozen=True)
class Share:
    """One bar of a distribution chart (a category or a beneficiary)."""

    label: str
    amount: int
    """Integer minor units."""


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def monthly_chart(
    months: Sequence[MonthBars],
    money: Callable[[int], str],
    *,
    title: str,
    desc: str,
    inflow_label: str,
    outflow_label: str,
    chart_id: str = "monthly",
) -> Markup:
    """Grouped bars per month: inflow (solid) beside outflow (hatched), values above."""
    width, height, left, bottom, top = 360, 220, 6, 30, 40
    peak = max([1, *(m.inflow for m in months), *(m.outflow for m in months)])
    slot = (width - 2 * left) / max(1, len(months))
    bar = min(30.0, slot * 0.36)
    plot = height - bottom - top
    parts = [
        f'<svg class="chart" id="{_attr(chart_id)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{_attr(chart_id)}-t {_attr(chart_id)}-d" '
        'xmlns="http://www.w3.org/2000/svg" width="100%" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{_attr(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{_attr(chart_id)}-d">{escape(desc)}</desc>',
        f'<defs><pattern id="{_attr(chart_id)}-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="{OUTFLOW}"/>'
        "</pattern></defs>",
        # legend
        f'<rect x="{left}" y="6" width="14" height="14" fill="{INFLOW}"/>'
        f'<text x="{left + 20}" y="18" font-size="13" fill="{INK}">{escape(inflow_label)}</text>',
        f'<rect x="{left + 150}" y="6" width="14" height="14" fill="url(#{_attr(chart_id)}-hatch)" '
        f'stroke="{OUTFLOW}"/>'
        f'<text x="{left + 170}" y="18" font-size="13" fill="{INK}">{escape(outflow_label)}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" '
        f'stroke="{GRID}"/>',
    ]
    for i, m in enumerate(months):
        center = left + slot * (i + 0.5)
        for offset, amount, fill, kind, label in (
            (-bar - 1, m.inflow, INFLOW, "inflow", inflow_label),
            (1, m.outflow, f"url(#{chart_id}-hatch)", "outflow", outflow_label),
        ):
            h = round(plot * amount / peak, 1)
            x = round(center + offset, 1)
            y = round(height - bottom - h, 1)
            text = money(amount)
            parts.append(
                f'<rect class="bar bar-{kind}" x="{x}" y="{y}" width="{bar:.1f}" height="{h}" '
                f'fill="{_attr(fill)}" stroke="{OUTFLOW if kind == "outflow" else INFLOW}" '
                f'data-kind="{kind}" data-month="{_attr(m.label)}" data-amount="{amount}">'
                f"<title>{escape(m.label)} · {escape(label)}: {escape(text)}</title></rect>"
            )
            if amount:
                parts.append(
                    f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" font-size="10" '
                    f'text-anchor="middle" fill="{MUTED}">{escape(_short(text))}</text>'
                )
        parts.append(
            f'<text x="{center:.1f}" y="{height - bottom + 18}" font-size="12" '
            f'text-anchor="middle" fill="{INK}">{escape(m.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def share_chart(
    shares: Sequence[Share],
    money: Callable[[int], str],
    *,
    title: str,
    desc: str,
    chart_id: str,
) -> Markup:
    """Horizontal bars, largest first, each with its label, amount and percentage of the
    whole written out (percentages of the sum, in basis points rounded down)."""
    ordered = sorted(shares, key=lambda s: (-s.amount, s.label))
    total = sum(s.amount for s in ordered) or 1
    row, width, label_w = 44, 360, 4
    height = max(1, len(ordered)) * row + 8
    parts = [
        f'<svg class="chart" id="{_attr(chart_id)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{_attr(chart_id)}-t {_attr(chart_id)}-d" '
        'xmlns="http://www.w3.org/2000/svg" width="100%" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{_attr(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{_attr(chart_id)}-d">{escape(desc)}</desc>',
    ]
    for i, s in enumerate(ordered):
        y = 4 + i * row
        bar_w = round((width - 2 * label_w) * s.amount / total, 1)
        text = f"{money(s.amount)} · {percent(s.amount, total)}"
        parts.append(
            f'<text x="{label_w}" y="{y + 14}" font-size="13" fill="{INK}">{escape(s.label)}'
            f'<tspan fill="{MUTED}"> — {escape(text)}</tspan></text>'
            f'<rect class="bar" x="{label_w}" y="{y + 20}" width="{bar_w}" height="16" '
            f'fill="{INFLOW}" data-label="{_attr(s.label)}" data-amount="{s.amount}">'
            f"<title>{escape(s.label)}: {escape(text)}</title></rect>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage with two decimals and a decimal comma, computed
    on integers (``46,51%``)."""
    if whole <= 0:
        return "0,00%"
    hundredths = part * 10000 // whole
    return f"{hundredths // 100},{hundredths % 100:02d}%"


def _short(text: str) -> str:
    """An amount label short enough to sit above a bar: ``Rp 1.250.000`` → ``1,25 jt``."""
    digits = "".join(c for c in text.split(",")[0] if c.isdigit())
    if not digits:
        return text
    value = int(digits)
    for size, suffix in ((10**12, "T"), (10**9, "M"), (10**6, "jt"), (10**3, "rb")):
        if value >= size:
            whole, rest = divmod(value * 100 // size, 100)
            return f"{whole},{rest:02d} {suffix}" if rest else f"{whole} {suffix}"
    return str(value)


__all__ = ["MonthBars", "Share", "monthly_chart", "percent", "share_chart"]
