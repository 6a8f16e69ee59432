"""The summary sections of the public statement: each fund's statement of changes
(opening balance, movements, closing balance, overhead ratio against its cap),
disbursements per beneficiary and per purpose, and the trial balance of every account
at the opening and closing tree sizes. Every figure comes from
:func:`reports.statement.data.compute_totals` or from the balances themselves.
"""

from __future__ import annotations

from reportlab.lib.colors import HexColor

from reports.pdf.localization import Language, format_day
from reports.pdf.page_layout import (
    BRAND,
    CONTENT_WIDTH,
    FOOTER_HEIGHT,
    INK,
    MARGIN,
    MUTED,
    RULE,
    TINT,
    PageFlow,
    draw_section_title,
    fit_text,
    wrap_text,
)
from reports.statement.data import DISPUTED, StatementData, display_order
from reports.statement.tables import (
    RED_TINT,
    Column,
    draw_summary_table,
    fit_size,
    signed_amount,
)
from reports.statement.text import STATEMENT_LABELS, format_ratio, purpose_label
from schemas.statements import StatementTotals

ALERT = HexColor("#B42318")
"""Over-cap status (and the provisional marks of the layout)."""
GOOD = HexColor("#1E7B46")
"""Within-cap status."""


def money(data: StatementData, amount: int, currency: str, lang: Language) -> str:
    return signed_amount(amount, currency, data.minor_units[currency], lang)


def draw_funds(
    flow: PageFlow, data: StatementData, totals: StatementTotals, lang: Language
) -> None:
    labels = STATEMENT_LABELS[lang]
    if data.beneficiary_scope is not None:
        draw_section_title(flow, labels["funds_paid"])
        rows = [
            [f"{f.name} ({f.code})", money(data, f.disbursements, f.currency, lang)]
            for f in totals.funds
        ]
        draw_summary_table(
            flow, [Column(labels["fund"], 349), Column(labels["disbursements"], 150, True)], rows
        )
        return
    draw_section_title(flow, labels["funds_section"], keep_with=170)
    if not totals.funds:
        draw_note(flow, labels["no_funds"])
        return
    gutter = 15.0
    width = (CONTENT_WIDTH - gutter) / 2
    for first in range(0, len(totals.funds), 2):
        pair = totals.funds[first : first + 2]
        height = 190.0
        flow.ensure(height)
        for position, fund in enumerate(pair):
            _draw_fund_block(flow, data, fund, lang, MARGIN + position * (width + gutter), width)
        flow.y -= height


def _draw_fund_block(flow, data, fund, lang, x: float, width: float) -> None:  # type: ignore[no-untyped-def]
    """One fund's statement of changes: opening, movements, closing, overhead vs cap."""
    canvas, fonts = flow.canvas, flow.fonts
    labels = STATEMENT_LABELS[lang]
    top = flow.y
    canvas.setFillColor(TINT)
    canvas.rect(x, top - 20, width, 20, stroke=0, fill=1)
    canvas.setFillColor(BRAND)
    canvas.setFont(fonts.bold, 9)
    title = fit_text(fonts.printable(f"{fund.name} ({fund.code})"), fonts.bold, 9, width - 12)
    canvas.drawString(x + 6, top - 13.5, title)
    lines = [
        (labels["opening"], fund.opening, ""),
        (labels["donations"], fund.donations, "+"),
        (labels["disbursements"], fund.disbursements, "−"),
        (labels["fees"], fund.fees, "−"),
        (labels["transfers_in"], fund.transfers_in, "+"),
        (labels["transfers_out"], fund.transfers_out, "−"),
    ]
    y = top - 34
    for label, amount, sign in lines:
        canvas.setFillColor(MUTED if sign else INK)
        canvas.setFont(fonts.regular, 8.5)
        canvas.drawString(x + 6, y, fonts.printable(f"{sign} {label}".strip()))
        _amount_right(canvas, fonts, data, amount or 0, fund.currency, lang, x + width - 6, y, 8.5)
        y -= 13
    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(0.8)
    canvas.line(x + 6, y + 8.5, x + width - 6, y + 8.5)
    y -= 2
    canvas.setFillColor(INK)
    canvas.setFont(fonts.bold, 9)
    canvas.drawString(x + 6, y, fonts.printable(f"= {labels['closing']}"))
    _amount_right(
        canvas, fonts, data, fund.closing or 0, fund.currency, lang, x + width - 6, y, 9, bold=True
    )
    y -= 18
    canvas.setFillColor(MUTED)
    canvas.setFont(fonts.regular, 7.5)
    canvas.drawString(x + 6, y, fonts.printable(labels["overhead"]))
    canvas.drawRightString(x + width - 6, y, format_ratio(fund.overhead_bps, lang))
    y -= 11
    canvas.drawString(x + 6, y, fonts.printable(labels["overhead_cumulative"]))
    canvas.setFillColor(INK)
    canvas.setFont(fonts.bold, 7.5)
    canvas.drawRightString(x + width - 6, y, format_ratio(fund.cumulative_overhead_bps, lang))
    y -= 11
    status = labels["over_cap"] if fund.over_cap else labels["within_cap"]
    cap = labels["cap"].format(cap=format_ratio(fund.fee_cap_bps, lang))
    canvas.setFillColor(ALERT if fund.over_cap else GOOD)
    canvas.drawRightString(x + width - 6, y, fonts.printable(f"{cap} · {status}"))
    y -= 12
    text, alert = _permit_line(fund, labels, lang)
    canvas.setFillColor(ALERT if alert else MUTED)
    canvas.setFont(fonts.regular, 7.5)
    for line in wrap_text(fonts.printable(text), fonts.regular, 7.5, width - 12)[:2]:
        canvas.drawString(x + 6, y, fit_text(line, fonts.regular, 7.5, width - 12))
        y -= 9
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.rect(x, top - 180, width, 180, stroke=1, fill=0)


def _permit_line(fund, labels, lang) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    """The fund's fundraising permit (PUB) in one line, and whether it is a warning."""
    p = fund.permit
    if p is None:
        return labels["permit_missing"], False
    if p.exemption is not None:
        return labels[f"exempt_{p.exemption}"], False
    key = {"period": "permit", "part": "permit_part", "none": "permit_none"}[p.covers]
    text = labels[key].format(
        number=p.number,
        start=format_day(p.valid_from, lang),
        end=format_day(p.valid_until, lang),
    )
    return text, p.covers != "period"


def _amount_right(  # type: ignore[no-untyped-def]
    canvas, fonts, data, amount, currency, lang, right, y, size, *, bold=False
) -> None:
    font = fonts.bold if bold else fonts.regular
    text = fonts.printable(money(data, amount, currency, lang))
    canvas.setFont(font, fit_size(text, font, size, 120, 5))
    canvas.drawRightString(right, y, text)


def draw_note(flow: PageFlow, text: str) -> None:
    canvas, fonts = flow.canvas, flow.fonts
    for line in wrap_text(fonts.printable(text), fonts.regular, 8, CONTENT_WIDTH):
        flow.ensure(12)
        canvas.setFillColor(MUTED)
        canvas.setFont(fonts.regular, 8)
        canvas.drawString(MARGIN, flow.y - 8, line)
        flow.y -= 12
    flow.y -= 4


def draw_groups(
    flow: PageFlow, data: StatementData, totals: StatementTotals, lang: Language
) -> None:
    """Disbursements per beneficiary, then per purpose category."""
    labels = STATEMENT_LABELS[lang]
    draw_section_title(flow, labels["beneficiaries_section"])
    if not totals.beneficiaries:
        draw_note(flow, labels["no_beneficiaries"])
    else:
        cities = {b.code: b.city for b in data.beneficiaries}
        rows = [
            [
                f"{b.name} ({b.key})",
                cities.get(b.key, ""),
                money(data, b.amount, b.currency, lang),
                money(data, b.cumulative or 0, b.currency, lang),
            ]
            for b in totals.beneficiaries
        ]
        columns = [
            Column(labels["beneficiary"], 200),
            Column(labels["city"], 89),
            Column(labels["period_amount"], 105, True),
            Column(labels["cumulative"], 105, True),
        ]
        draw_summary_table(flow, columns, rows)
    if not totals.purposes:
        return
    draw_section_title(flow, labels["purposes_section"])
    rows = [
        [
            purpose_label(p.key, lang),
            money(data, p.amount, p.currency, lang),
            format_ratio(p.share_bps or 0, lang),
        ]
        for p in totals.purposes
    ]
    columns = [
        Column(labels["purpose"], 289),
        Column(labels["period_amount"], 125, True),
        Column(labels["share"], 85, True),
    ]
    draw_summary_table(flow, columns, rows)


def draw_recipients(
    flow: PageFlow, data: StatementData, totals: StatementTotals, lang: Language
) -> None:
    """The recipients' own word: per currency, one summary line (how many disbursements,
    and how much, their recipients acknowledged, disputed, or had not answered), then every
    disputed disbursement listed in the statement in a red box, so no reader misses one."""
    if data.recipients_as_of is None:
        return
    canvas, fonts = flow.canvas, flow.fonts
    labels = STATEMENT_LABELS[lang]
    draw_section_title(flow, labels["recipients_section"], keep_with=60)
    if not totals.recipients:
        draw_note(flow, labels["recipients_none"])
    for t in totals.recipients:

        def m(amount: int, currency: str = t.currency) -> str:
            return money(data, amount, currency, lang)

        line = labels["recipients_summary"].format(
            currency=t.currency,
            count=t.disbursements,
            disbursed=m(t.disbursed),
            acknowledged=t.acknowledged,
            acknowledged_amount=m(t.acknowledged_amount),
            disputed=t.disputed,
            disputed_amount=m(t.disputed_amount),
            disputed_received=m(t.disputed_received),
            awaiting=t.awaiting,
            awaiting_amount=m(t.awaiting_amount),
        )
        for text in wrap_text(fonts.printable(line), fonts.bold, 8.5, CONTENT_WIDTH):
            flow.ensure(13)
            canvas.setFillColor(INK)
            canvas.setFont(fonts.bold, 8.5)
            canvas.drawString(MARGIN, flow.y - 9, text)
            flow.y -= 13
        flow.y -= 3
    as_of = format_day(data.recipients_as_of, lang)
    draw_note(flow, labels["recipients_note"].format(end=data.end, as_of=as_of))
    disputed = [
        e
        for e in display_order([*data.entries, *data.late_entries])
        if e.recipient is not None and e.recipient.status == DISPUTED
    ]
    if not disputed:
        return
    lines: list[str] = []
    for e in disputed:
        r = e.recipient
        assert r is not None and e.currency is not None and e.amount is not None
        line = labels["dispute_line"].format(
            index=e.index,
            day=format_day(e.value_date, lang) if e.value_date else "",
            name=e.counterparty or e.beneficiary or "",
            amount=money(data, e.amount, e.currency, lang),
            received=money(data, r.received or 0, e.currency, lang),
            entry=r.entry,
            on=format_day(r.on, lang) if r.on else "",
        )
        if e.corrected_by is not None:
            line += labels["dispute_reversed"].format(index=e.corrected_by)
        lines += wrap_text(fonts.printable("• " + line), fonts.regular, 8.5, CONTENT_WIDTH - 24)
    title = fonts.printable(labels["disputes_title"].format(count=len(disputed)))
    # One box per page: a long list continues in a new box after a page turn.
    while lines:
        flow.ensure(12 * 2 + 30)
        room = max(1, int((flow.y - MARGIN - FOOTER_HEIGHT - 36) // 12))
        chunk, lines = lines[:room], lines[room:]
        height = 12 * len(chunk) + 28
        flow.ensure(height + 8)
        canvas.setStrokeColor(ALERT)
        canvas.setLineWidth(1.2)
        canvas.setFillColor(RED_TINT)
        canvas.roundRect(MARGIN, flow.y - height, CONTENT_WIDTH, height, 4, stroke=1, fill=1)
        canvas.setFillColor(ALERT)
        canvas.setFont(fonts.bold, 9.5)
        canvas.drawString(MARGIN + 12, flow.y - 15, title)
        canvas.setFont(fonts.regular, 8.5)
        for position, text in enumerate(chunk):
            canvas.drawString(MARGIN + 12, flow.y - 29 - position * 12, text)
        flow.y -= height + 8


def _account_name(account: str, data: StatementData, labels: dict[str, str]) -> str:
    """The account as the API names it, then what it is."""
    if account == "donors":
        return f"donors · {labels['account_donors']}"
    if account == "fees":
        return f"fees · {labels['account_fees']}"
    kind, _, code = account.partition(":")
    if kind == "fund":
        names = {f.code: f.name for f in data.funds}
        return f"{account} · {names.get(code, code)}"
    if kind == "beneficiary":
        names = {b.code: b.name for b in data.beneficiaries}
        return f"{account} · {names.get(code, code)}"
    return account


def draw_balances(flow: PageFlow, data: StatementData, lang: Language) -> None:
    """The trial balance: every account of the scope at both tree sizes."""
    labels = STATEMENT_LABELS[lang]
    draw_section_title(flow, labels["balances_section"])
    opening = {(b.account, b.currency): b.amount for b in data.opening}
    closing = {(b.account, b.currency): b.amount for b in data.closing}
    keys = sorted(set(opening) | set(closing))
    rows, bold = [], set()
    for account, currency in keys:
        start, end = opening.get((account, currency), 0), closing.get((account, currency), 0)
        rows.append(
            [
                _account_name(account, data, labels),
                money(data, start, currency, lang),
                money(data, end - start, currency, lang),
                money(data, end, currency, lang),
            ]
        )
    if data.fund_scope is None and data.beneficiary_scope is None:
        for currency in sorted({c for _, c in keys}):
            bold.add(len(rows))
            start = sum(v for (_, c), v in opening.items() if c == currency)
            end = sum(v for (_, c), v in closing.items() if c == currency)
            rows.append(
                [
                    labels["balances_total"].format(currency=currency),
                    money(data, start, currency, lang),
                    money(data, end - start, currency, lang),
                    money(data, end, currency, lang),
                ]
            )
    columns = [
        Column(labels["account"], 184),
        Column(labels["opening"], 105, True),
        Column(labels["movement"], 105, True),
        Column(labels["closing"], 105, True),
    ]
    if rows:
        draw_summary_table(flow, columns, rows, bold_rows=frozenset(bold))
    else:
        draw_note(flow, labels["no_balances"])
    draw_note(
        flow,
        labels["balances_note"].format(start=data.start, end=data.end, slug=data.org_slug),
    )


__all__ = [
    "ALERT",
    "GOOD",
    "draw_balances",
    "draw_funds",
    "draw_groups",
    "draw_note",
    "draw_recipients",
    "money",
]
