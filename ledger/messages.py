"""Messages for people in the caller's language: English, or Bahasa Indonesia on request.

The text lives in a gettext catalog, ``ledger/locale/id/LC_MESSAGES/messages.po``, so a
volunteer translator can work on it without touching Python. Each msgid is the English
template itself, with ``{named}`` fields; the catalog is read with Babel when first needed
(no compile step: a fresh clone works as it is). A template missing from the catalog, or
not yet translated, is shown in English.

An error raised with ``LedgerError.of(template, **params)`` keeps its template and
parameters; ``ledger.http.problems`` renders it in the language ``Accept-Language`` asks for
(``language_of``). Amounts are ``Money`` parameters, formatted with the fund's recorded
exponent for each language (``Rp 1.250.000``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Language = Literal["en", "id"]
DEFAULT_LANGUAGE: Language = "en"
CATALOG = Path(__file__).parent / "locale" / "{lang}" / "LC_MESSAGES" / "messages.po"
"""Where the catalog of each language other than English lives."""


@dataclass(frozen=True)
class Money:
    """An amount in a message: formatted for people, with the fund's recorded exponent."""

    amount: int
    """Integer minor units."""
    currency: str
    """ISO 4217 code."""
    minor_units: int
    """The exponent the fund recorded (FundRow.minor_units)."""

    def text(self, lang: Language) -> str:
        from reports.pdf.localization import format_amount

        try:
            return format_amount(self.amount, self.currency, self.minor_units, lang)
        except Exception:  # a message must never fail: fall back to the plain integer
            return f"{self.amount} {self.currency}"

    def __format__(self, spec: str) -> str:
        return self.text(DEFAULT_LANGUAGE)


class Term(str):
    """A word of ours inside a message ("a disbursement"), translated with it (a ``str``
    parameter that is not a ``Term`` is shown as given: it is the caller's data)."""


def language_of(accept_language: str | None) -> Language:
    """The language an ``Accept-Language`` header (RFC 9110 §12.5.4) prefers among ours:
    ``id`` when Indonesian (``id``, ``id-ID``, ...) has a higher q-value than English (and
    is not refused with q=0), else English."""
    if not accept_language or "id" not in accept_language.lower():
        return DEFAULT_LANGUAGE
    best: tuple[float, int] = (0.0, 0)
    chosen: Language = DEFAULT_LANGUAGE
    for position, part in enumerate(accept_language.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        if primary not in ("id", "en", "*"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # Higher q wins; on a tie, the earlier tag (the client's own order).
        if q > 0 and (q, -position) > (best[0], best[1]):
            best = (q, -position)
            chosen = "id" if primary == "id" else DEFAULT_LANGUAGE
    return chosen


@functools.cache
def catalog(lang: Language) -> Mapping[str, str]:
    """msgid → translation for ``lang``, from its .po file (empty for English)."""
    if lang == DEFAULT_LANGUAGE:
        return {}
    from babel.messages.pofile import read_po

    with open(str(CATALOG).format(lang=lang), "rb") as f:
        po = read_po(f, locale=lang)
    return {
        str(m.id): str(m.string)
        for m in po
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


def translate(text: str, lang: Language) -> str:
    """A fixed text (a title) in ``lang``; itself when the catalog has no translation."""
    return catalog(lang).get(text, text) if lang != DEFAULT_LANGUAGE else text


def render(template: str, params: Mapping[str, Any], lang: Language) -> str:
    """``template`` translated into ``lang`` and filled with ``params`` (``Money`` formatted
    for that language)."""
    values = {
        k: v.text(lang)
        if isinstance(v, Money)
        else translate(v, lang)
        if isinstance(v, Term)
        else v
        for k, v in params.items()
    }
    try:
        return translate(template, lang).format(**values)
    except (KeyError, IndexError, ValueError):  # a broken translation: say it in English
        return template.format(**values)
