"""Public statements as PDF (:func:`render_statement`), in Bahasa Indonesia or English.

A statement has two readers. A person reads the pages: opening and closing
balances, every entry of the period, totals per fund, beneficiary and purpose,
each fund's overhead against its cap, and the log proof. A program reads the
attachments: the statement as JSON (``statement-<n>.json``), the signed
checkpoint that covers the period (``checkpoint-<size>.txt``) and, when there is
a previous statement, its checkpoint and the consistency proof between the two
(``consistency-<old>-<new>.txt``), ready for ``ledger-verify consistency``.

Rendering returns an *unsigned* PDF; :func:`reports.pdf.signing.sign_pdf` signs it as
an incremental update, which keeps the attachments inside the signed range.

Determinism: the same data, language and ``now`` give byte-identical PDFs
(reportlab ``invariant`` mode; no clock is read; the page count is a form
XObject filled at the end, so one pass suffices).
"""

from __future__ import annotations

import datetime as dt

from reports.errors import reportlab_failures
from reports.pdf.attachments import Attachment
from reports.pdf.fonts import report_fonts
from reports.pdf.localization import Language, check_language, check_money, format_moment
from reports.statement.data import StatementData, compute_totals
from reports.statement.layout import draw_statement
from reports.statement.text import STATEMENT_LABELS
from schemas.statements import StatementTotals

_MIME = {"json": "application/json", "checkpoint": "text/plain", "proof": "text/plain"}
_DESCRIPTION = {
    "json": "json_description",
    "checkpoint": "checkpoint_description",
    "proof": "proof_description",
}


def render_statement(
    data: StatementData,
    lang: Language,
    *,
    now: dt.datetime,
    totals: StatementTotals | None = None,
) -> bytes:
    """Render the unsigned statement in ``lang`` ("id" or "en").

    ``now`` (timezone-aware) is printed as the issue time. ``totals`` defaults to
    :func:`reports.statement.data.compute_totals` of ``data`` (pass them when the
    caller already has them, e.g. to print the same numbers in JSON). Guaranteed:
    equal inputs give equal bytes; the attachments of ``data`` are embedded.
    """
    lang = check_language(lang)
    issued = format_moment(now, lang)
    for currency, units in data.minor_units.items():
        check_money(0, currency, units)
    totals = compute_totals(data) if totals is None else totals
    labels = STATEMENT_LABELS[lang]
    attachments = [
        Attachment(name, content, _MIME[kind], labels[_DESCRIPTION[kind]])
        for name, content, kind in data.attachments
    ]
    with reportlab_failures(f"statement {data.number} of {data.origin}"):
        return draw_statement(data, totals, lang, issued, report_fonts(), attachments)


__all__ = ["render_statement"]
