"""ISAK 35 and PSAK 109 statements as PDF (:func:`render_financial`), in Bahasa Indonesia or
English. Rendering returns an *unsigned* PDF; :func:`reports.pdf.signing.sign_pdf` signs it.

Determinism: the same document, language and ``now`` give byte-identical PDFs (reportlab
``invariant`` mode; no clock is read).
"""

from __future__ import annotations

import datetime as dt

from reports.errors import reportlab_failures
from reports.financial.layout import draw_financial
from reports.pdf.fonts import report_fonts
from reports.pdf.localization import Language, check_language, check_money, format_moment
from schemas.financial import FinancialDocument


def render_financial(doc: FinancialDocument, lang: Language, *, now: dt.datetime) -> bytes:
    """Render the unsigned statements of ``doc`` in ``lang`` ("id" or "en"); ``now``
    (timezone-aware) is printed as the time they were made."""
    lang = check_language(lang)
    check_money(0, doc.currency, doc.minor_units)
    with reportlab_failures(f"{doc.standard} statements of {doc.origin}"):
        return draw_financial(doc, lang, format_moment(now, lang), report_fonts())


__all__ = ["render_financial"]
