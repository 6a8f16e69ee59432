"""How the site writes money, ratios and times: the conventions of the PDF receipts and
statements (``reports.pdf.localization``), so a figure reads the same on a page and on paper.

Money stays integer minor units until it is written; no float is ever involved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from babel.numbers import get_currency_symbol

from ledger.http.site.i18n import Lang
from reports.pdf.localization import BABEL_LOCALES, format_amount, format_day, format_moment
from reports.statement.text import period_dates
from schemas.iso4217 import MINOR_UNITS

MINUS = "\u2212"
"""The minus sign written before a negative amount (a typographic minus, not a hyphen)."""


@dataclass(frozen=True)
class Money:
    """An amount as the site shows it."""

    amount: int
    """Signed integer minor units (what the API returns)."""
    currency: str
    """ISO 4217 code."""
    minor_units: int
    """Decimal exponent the fund's entry recorded (IDR: 2); never looked up at render time."""

    @property
    def text(self) -> str:
        """``Rp 1.250.000`` for 125000000 IDR; negative amounts get a leading minus sign."""
        shown = format_amount(abs(self.amount), self.currency, self.minor_units, "id")
        return MINUS + shown if self.amount < 0 else shown


def ratio_text(bps: int) -> str:
    """Basis points as a percentage, Indonesian separators: 450 → ``4,5%``, 1000 → ``10%``."""
    value = Decimal(bps).scaleb(-2).normalize()
    text = f"{value:f}".replace(".", ",")
    return f"{text}%"


def moment_text(moment: dt.datetime, lang: Lang) -> str:
    """A server time in UTC, in words: ``21 November 2026 06:00 UTC``."""
    return format_moment(moment.astimezone(dt.UTC), lang)


def day_text(value: str | dt.date, lang: Lang) -> str:
    """A ``YYYY-MM-DD`` date in words (``1 November 2026``); an odd string is shown as is."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    return format_day(value, lang)


def month_text(value: dt.date, lang: Lang) -> str:
    """A month as a chart labels it: ``Nov 2026`` (``Mei 2026`` in Bahasa Indonesia)."""
    from babel.dates import format_date

    return format_date(value, "MMM yyyy", locale=BABEL_LOCALES[lang])


def period_text(start: dt.date, end: dt.date, lang: Lang) -> str:
    """A statement's period [start, end) as its PDFs print it (``1–31 Desember 2026``)."""
    return period_dates(start, end, lang)


@cache
def currency_table() -> dict[str, tuple[int, str]]:
    """Currency → (exponent, symbol) for every active ISO 4217 code. The browser verifier
    formats an amount with the exponent its receipt's fund entry recorded; this table's
    exponent (ISO 4217 as of 2026-01-01) is the docs/FORMAT.md rule for a fund entry that
    recorded none. Babel gives only the symbol."""
    locale = BABEL_LOCALES["id"]
    return {
        code: (MINOR_UNITS[code], get_currency_symbol(code, locale=locale))
        for code in sorted(MINOR_UNITS)
    }
