"""The page layout of the public statement.

Page 1 opens with the header band (organization, title, number, period, issue
time), the statement's identity (period, scope, log range, checkpoint), the
headline figures and the recipients' own word (how many disbursements they acknowledged,
disputed or left awaiting, and every dispute in a red box). Then: changes in each fund's balance with its overhead ratio
against its cap; disbursements per beneficiary and per purpose; the trial
balance of every account at the opening and closing tree sizes; every entry of
the range; the log integrity proof (checkpoint, previous statement, consistency
proof); how to verify, beside a QR code to the statement's public page.

Later pages carry a slim running head. Every footer says "Halaman X dari Y" /
"Page X of Y": Y is a form XObject drawn once at the end and referenced by every
page, so the document is drawn in one pass. A provisional statement carries a
red "SEMENTARA · PROVISIONAL" band under the header of every page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.colors import HexColor, white
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from reports.pdf.attachments import Attachment, embed_attachments
from reports.pdf.fonts import FontSet
from reports.pdf.localization import PDF_LANGUAGE_TAGS, Language
from reports.pdf.page_layout import (
    BAND_HEIGHT,
    BRAND,
    CONTENT_WIDTH,
    INK,
    MARGIN,
    MUTED,
    PAGE_HEIGHT,
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
from reports.statement.charts import draw_charts
from reports.statement.data import (
    StatementData,
    StatementEntry,
    display_order,
)
from reports.statement.summaries import (
    ALERT,
    draw_balances,
    draw_funds,
    draw_groups,
    draw_note,
    draw_recipients,
    money,
)
from reports.statement.tables import (
    Column,
    EntriesTable,
    draw_heading,
    fit_size,
)
from reports.statement.text import (
    STATEMENT_LABELS,
    period_dates,
    period_name,
)
from schemas.statements import StatementTotals

PAGES_FORM = "statementPageCount"
"""Name of the form XObject that holds the total page count."""
RUNNING_HEAD = 34.0
"""Height of the slim band on pages after the first."""
QR_SIZE = 96.0
"""Side of the QR code to the statement page."""

ENTRY_COLUMNS = (
    "col_index",
    "col_date",
    "col_recorded",
    "col_kind",
    "col_fund",
    "col_counterparty",
)
ENTRY_WIDTHS = (36.0, 42.0, 42.0, 58.0, 62.0, 108.0, 60.0, 91.0)
"""Entry table columns; they fill the content width exactly."""


def draw_statement(
    data: StatementData,
    totals: StatementTotals,
    lang: Language,
    issued: str,
    fonts: FontSet,
    attachments: list[Attachment],
) -> bytes:
    """Draw the whole statement in one pass; returns the (unsigned) PDF bytes."""
    labels = STATEMENT_LABELS[lang]
    number = labels["number"].format(number=data.number)
    period = period_name(data.period_from, data.period_to, lang)
    buffer = io.BytesIO()
    canvas = new_canvas(
        buffer,
        language_tag=PDF_LANGUAGE_TAGS[lang],
        title=f"{labels['title']} — {number} — {data.org_name}",
        author=data.org_name,
        subject=f"{data.origin} [{data.start}, {data.end})",
    )
    footer_lines = [labels["signed_by"].format(org=data.org_name)]
    if attachments:
        names = ", ".join(a.name for a in attachments)
        footer_lines.append(labels["attachments"].format(files=names))
    table: list[EntriesTable] = []

    def start_page(canvas: Canvas, page: int) -> float:
        if page == 1:
            right = [number, f"{labels['period']}: {period}", f"{labels['issued']} {issued}"]
            y = draw_header_band(
                canvas, fonts, organization=data.org_name, title=labels["title"], right_lines=right
            )
            band_top = PAGE_HEIGHT - BAND_HEIGHT
        else:
            y = _draw_running_head(canvas, fonts, data.org_name, f"{number} · {period}")
            band_top = PAGE_HEIGHT - RUNNING_HEAD
        if data.provisional:
            _draw_provisional_band(canvas, fonts, band_top, labels["provisional_band"])
            y -= 14
        return y

    def end_page(canvas: Canvas, page: int) -> None:
        for each in table:
            each.flush(canvas)
        draw_footer(
            canvas,
            fonts,
            left_lines=footer_lines,
            page_label=labels["page"].format(page=page),
            count_form=PAGES_FORM,
        )

    flow = PageFlow(canvas, fonts, start_page, end_page)
    flow.begin()
    _draw_identity(flow, data, lang, period)
    _draw_headline(flow, data, totals, lang)
    draw_recipients(flow, data, totals, lang)
    draw_funds(flow, data, totals, lang)
    draw_groups(flow, data, totals, lang)
    draw_charts(flow, data, totals, lang)
    draw_balances(flow, data, lang)
    _draw_entries(flow, data, lang, table)
    _draw_integrity(flow, data, lang)
    _draw_verification(flow, data, lang, attachments)
    pages = flow.finish()
    canvas.beginForm(PAGES_FORM)
    canvas.setFillColor(MUTED)
    canvas.setFont(fonts.regular, 7.5)
    canvas.drawString(0, 0, str(pages))
    canvas.endForm()
    embed_attachments(canvas, attachments)
    canvas.save()
    return buffer.getvalue()


def _draw_provisional_band(canvas: Canvas, fonts: FontSet, top: float, text: str) -> float:
    """A red band across the page under the header: the statement is provisional.
    Horizontal text, so text extraction reads it in place. Returns the y below it."""
    height = 16.0
    canvas.setFillColor(ALERT)
    canvas.rect(0, top - height, PAGE_WIDTH, height, stroke=0, fill=1)
    canvas.setFillColor(white)
    canvas.setFont(fonts.bold, 8)
    canvas.drawCentredString(PAGE_WIDTH / 2, top - height + 5, fonts.printable(text))
    return top - height


def _draw_running_head(canvas: Canvas, fonts: FontSet, organization: str, right: str) -> float:
    canvas.setFillColor(BRAND)
    canvas.rect(0, PAGE_HEIGHT - RUNNING_HEAD, PAGE_WIDTH, RUNNING_HEAD, stroke=0, fill=1)
    canvas.setFillColor(white)
    canvas.setFont(fonts.regular, 8.5)
    right_text = fonts.printable(right)
    right_width = stringWidth(right_text, fonts.regular, 8.5)
    canvas.drawRightString(PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 21, right_text)
    canvas.setFont(fonts.bold, 10)
    name = fit_text(fonts.printable(organization), fonts.bold, 10, CONTENT_WIDTH - right_width - 24)
    canvas.drawString(MARGIN, PAGE_HEIGHT - 21, name)
    return PAGE_HEIGHT - RUNNING_HEAD - 18


def _range_text(data: StatementData, labels: dict[str, str]) -> str:
    if data.end == data.start:
        return labels["range_empty"].format(start=data.start)
    return labels["range_value"].format(
        first=data.start,
        last=data.end - 1,
        count=data.end - data.start,
        start=data.start,
        end=data.end,
    )


def _draw_identity(flow: PageFlow, data: StatementData, lang: Language, period: str) -> None:
    labels = STATEMENT_LABELS[lang]
    if data.fund_scope is not None:
        names = {f.code: f.name for f in data.funds}
        code = data.fund_scope
        scope = labels["scope_fund"].format(name=names.get(code, code), code=code)
    elif data.beneficiary_scope is not None:
        names = {b.code: b.name for b in data.beneficiaries}
        code = data.beneficiary_scope
        scope = labels["scope_beneficiary"].format(name=names.get(code, code), code=code)
    else:
        scope = labels["scope_all"]
    dates = period_dates(data.period_from, data.period_to, lang)
    zone = f"{dates} ({data.time_zone})"
    shown = _range_text(data, labels)
    draw_field_grid(
        flow,
        [
            (labels["period"], zone if period == dates else f"{period}\n{zone}"),
            (labels["scope"], scope),
            (labels["range"], shown),
            (labels["checkpoint_size"], str(data.checkpoint.size)),
        ],
    )


def _draw_headline(
    flow: PageFlow, data: StatementData, totals: StatementTotals, lang: Language
) -> None:
    """Per currency, the four figures a reader looks for first, in a tinted panel."""
    canvas, fonts = flow.canvas, flow.fonts
    labels = STATEMENT_LABELS[lang]
    for figures in totals.currencies:
        height = 58.0
        flow.ensure(height + 10)
        draw_panel(canvas, x=MARGIN, top=flow.y, width=CONTENT_WIDTH, height=height)
        canvas.setFillColor(BRAND)
        canvas.rect(MARGIN, flow.y - height, 4, height, stroke=0, fill=1)
        items = [
            (labels["summary_donations"], figures.donations),
            (labels["summary_disbursed"], figures.disbursements),
            (labels["summary_fees"], figures.fees),
        ]
        if figures.closing_funds is not None:
            items.append((labels["summary_closing"], figures.closing_funds))
        cell = (CONTENT_WIDTH - 18) / 4
        for position, (label, amount) in enumerate(items):
            x = MARGIN + 14 + position * cell
            draw_label(canvas, fonts, x, flow.y - 18, label)
            text = fonts.printable(money(data, amount, figures.currency, lang))
            size = fit_size(text, fonts.bold, 13, cell - 10, 7)
            canvas.setFillColor(BRAND)
            canvas.setFont(fonts.bold, size)
            canvas.drawString(x, flow.y - 38, text)
        flow.y -= height + 8
    canvas.setFillColor(MUTED)
    canvas.setFont(fonts.regular, 7.5)
    flow.ensure(12)
    canvas.drawString(MARGIN, flow.y - 8, fonts.printable(labels["net_note"]))
    flow.y -= 14
    if data.provisional:
        lines = wrap_text(
            fonts.printable(labels["provisional_note"].format(end=data.end - 1)),
            fonts.bold,
            8.5,
            CONTENT_WIDTH - 24,
        )
        height = 12 * len(lines) + 12
        flow.ensure(height + 8)
        canvas.setStrokeColor(ALERT)
        canvas.setLineWidth(1)
        canvas.setFillColor(HexColor("#FDECEA"))
        canvas.roundRect(MARGIN, flow.y - height, CONTENT_WIDTH, height, 4, stroke=1, fill=1)
        canvas.setFillColor(ALERT)
        canvas.setFont(fonts.bold, 8.5)
        for position, line in enumerate(lines):
            canvas.drawString(MARGIN + 12, flow.y - 15 - position * 12, line)
        flow.y -= height + 8


def _draw_entries(
    flow: PageFlow, data: StatementData, lang: Language, holder: list[EntriesTable]
) -> None:
    """The entries table, then the late entries for earlier periods; ``holder`` receives
    each table first, so page turns can flush its text."""
    labels = STATEMENT_LABELS[lang]
    headings = [*ENTRY_COLUMNS, "col_reference", "col_amount"]
    columns = [
        Column(labels[key], width, key in ("col_index", "col_amount"))
        for key, width in zip(headings, ENTRY_WIDTHS, strict=True)
    ]

    def table_of(entries: Sequence[StatementEntry]) -> None:
        table = EntriesTable(flow, lang, dict(data.minor_units), columns, data.time_zone)
        holder.append(table)
        flow.ensure(16 + 3 * 12)
        draw_heading(flow, columns)
        table.draw(display_order(entries), lambda: draw_heading(flow, columns))
        flow.y -= 4
        draw_note(flow, labels["entries_count"].format(count=table.rows))

    draw_section_title(flow, labels["entries_section"], keep_with=60)
    draw_note(flow, labels["entries_note"].format(zone=data.time_zone))
    if data.entries:
        table_of(data.entries)
    else:
        draw_note(flow, labels["no_entries"])
    if data.late_entries:
        draw_section_title(flow, labels["late_section"], keep_with=60)
        draw_note(flow, labels["late_note"])
        table_of(data.late_entries)


def _draw_integrity(flow: PageFlow, data: StatementData, lang: Language) -> None:
    labels = STATEMENT_LABELS[lang]
    draw_section_title(flow, labels["integrity_section"], keep_with=120)
    range_text = _range_text(data, labels)
    previous = labels["previous_none"]
    if data.previous is not None:
        previous = labels["previous_value"].format(
            number=data.previous.number,
            size=data.previous.checkpoint.size,
            root=data.previous.checkpoint.root_b64,
        )
    draw_key_value_rows(
        flow,
        [
            (labels["origin"], data.origin, False),
            (labels["range"], range_text, False),
            (labels["checkpoint_size"], str(data.checkpoint.size), False),
            (labels["root_hash"], data.checkpoint.root_b64, True),
            (labels["previous"], previous, False),
        ],
        key_width=130,
    )
    _draw_mono_section(flow, labels["checkpoint"], data.checkpoint.note.rstrip("\n"))
    if data.consistency is not None:
        c = data.consistency
        title = labels["consistency"].format(old=c.old_size, new=c.new_size, count=len(c.proof))
        body = "\n".join(c.proof) if c.proof else labels["consistency_empty"]
        _draw_mono_section(flow, title, body)


def _draw_mono_section(flow: PageFlow, title: str, text: str) -> None:
    canvas, fonts = flow.canvas, flow.fonts
    size = fitting_mono_size(fonts, text, CONTENT_WIDTH, largest=7.5, smallest=6.0)
    lines = wrap_mono(fonts, text, CONTENT_WIDTH, size=size)
    # Short blocks (a checkpoint, a proof of a few dozen hashes) stay on one page.
    shown = len(lines) if len(lines) <= 40 else 3
    flow.ensure(22 + size * 1.45 * shown + 12)
    flow.y -= 6
    draw_label(canvas, fonts, MARGIN, flow.y - 8, title)
    flow.y -= 14
    draw_mono_block(flow, lines, size=size)
    flow.y -= 8


def _draw_verification(
    flow: PageFlow, data: StatementData, lang: Language, attachments: list[Attachment]
) -> None:
    """Numbered steps on the left (the consistency check as a command to run), the QR code
    to the statement's public page on the right; kept together on one page."""
    canvas, fonts = flow.canvas, flow.fonts
    labels = STATEMENT_LABELS[lang]
    json_file = next((a.name for a in attachments if a.name.endswith(".json")), "")
    args = {
        "org": data.org_name,
        "slug": data.org_slug,
        "checkpoint": f"checkpoint-{data.checkpoint.size}.txt",
        "start": data.start,
        "last": max(data.start, data.end - 1),
        "json": json_file,
    }
    text_width = CONTENT_WIDTH - QR_SIZE - 24
    indent = 14.0
    steps: list[tuple[list[str], list[str]]] = []
    for key in ("verify_signature", "verify_checkpoint", "third", "verify_completeness"):
        command: list[str] = []
        if key == "third":
            key = "verify_first" if data.consistency is None else "verify_consistency"
        if key == "verify_consistency" and data.consistency is not None:
            c = data.consistency
            command = wrap_mono(
                fonts,
                f"ledger-verify consistency checkpoint-{c.old_size}.txt "
                f"checkpoint-{c.new_size}.txt consistency-{c.old_size}-{c.new_size}.txt "
                "--vkey VKEY",
                text_width - indent,
                size=7.5,
            )
        text = fonts.printable(labels[key].format(**args))
        steps.append((wrap_text(text, fonts.regular, 8.5, text_width - indent), command))
    text_height = sum(
        11.5 * len(lines) + (7.5 * 1.45 * len(command) + 18 if command else 0) + 5
        for lines, command in steps
    )
    shown_url = data.verify_url.removeprefix("https://").removeprefix("http://")
    url_lines = wrap_url(fonts.printable(shown_url), fonts.mono, 6.5, QR_SIZE + 16)[:3]
    draw_section_title(flow, labels["verify_section"], keep_with=max(text_height, QR_SIZE + 40))
    top = flow.y
    y = top - 9
    for number, (lines, command) in enumerate(steps, start=1):
        canvas.setFillColor(BRAND)
        canvas.setFont(fonts.bold, 8.5)
        canvas.drawString(MARGIN, y, f"{number}.")
        canvas.setFillColor(INK)
        canvas.setFont(fonts.regular, 8.5)
        for line in lines:
            canvas.drawString(MARGIN + indent, y, line)
            y -= 11.5
        if command:
            y -= draw_mono_box(
                canvas,
                fonts,
                x=MARGIN + indent,
                top=y + 6,
                width=text_width - indent,
                lines=command,
                size=7.5,
            )
            y -= 6
        y -= 5
    qr_x = PAGE_WIDTH - MARGIN - QR_SIZE
    draw_qr_code(canvas, data.verify_url, x=qr_x, y=top - QR_SIZE, size=QR_SIZE)
    canvas.setFillColor(MUTED)
    canvas.setFont(fonts.regular, 7)
    canvas.drawCentredString(qr_x + QR_SIZE / 2, top - QR_SIZE - 9, fonts.printable(labels["scan"]))
    canvas.setFont(fonts.mono, 6.5)
    for position, line in enumerate(url_lines):
        canvas.drawCentredString(qr_x + QR_SIZE / 2, top - QR_SIZE - 19 - position * 8.5, line)
    flow.y = min(y, top - QR_SIZE - 19 - 8.5 * len(url_lines))


__all__ = ["ENTRY_WIDTHS", "PAGES_FORM", "draw_statement"]
