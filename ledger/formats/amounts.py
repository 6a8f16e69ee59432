"""Amounts as people type them ("Rp 250.000", "250.000,50", "250000"), read into integer
minor units with the exponent the fund recorded (its ``fund.created`` entry: ``minor_units``).

The convention is the one the ledger writes amounts in (CLDR's ``id`` locale, as
``reports.pdf.localization.format_amount`` prints them): a full stop groups thousands, a comma
starts the decimals. Nothing is guessed: "250.5" (a full stop that cannot be grouping),
"1,005" for a currency with two decimals (three decimals), or a symbol of another currency is
refused with a message saying what to type, and the console shows the amount back
(``Rp 250.000``) for the clerk to confirm before anything is recorded.
"""

from __future__ import annotations

import re

from ledger.errors import InvalidInputError

CURRENCY_SIGNS = {"IDR": ("rp", "idr"), "USD": ("us$", "$", "usd"), "EUR": ("€", "eur")}
"""Words a person may put before or after the figure, per currency (lower case); the ISO
code itself is always accepted."""

_FIGURE = re.compile(r"^(?P<whole>\d{1,3}(?:\.\d{3})+|\d+)(?:,(?P<fraction>\d+))?$")
MAX_DIGITS = 18
"""An int64 holds every amount of up to 18 digits."""


def _strip_currency(text: str, currency: str) -> str:
    lowered = text.lower()
    signs = (*CURRENCY_SIGNS.get(currency, ()), currency.lower())
    for sign in sorted(signs, key=len, reverse=True):
        if lowered.startswith(sign):
            return text[len(sign) :].strip()
        if lowered.endswith(sign):
            return text[: -len(sign)].strip()
    return text


def parse_amount(text: str, currency: str, minor_units: int) -> int:
    """``text`` as integer minor units of ``currency`` with exponent ``minor_units``.

    ``parse_amount("Rp 250.000", "IDR", 2) == 25000000``; ``"250.000,50"`` gives 25000050.
    Raises ``InvalidInputError`` (with a message template for the catalog) for anything that
    is not one positive amount written that way.
    """
    raw = " ".join(text.split())
    if not raw:
        raise InvalidInputError.of("type the amount, for example {example}", example="250.000")
    figure = _strip_currency(raw, currency).replace(" ", "")
    if figure.startswith("-"):
        raise InvalidInputError.of("the amount must be more than zero")
    match = _FIGURE.fullmatch(figure)
    if match is None:
        raise InvalidInputError.of(
            "{text} is not an amount: write digits, a full stop between thousands and a comma "
            "before decimals, for example {example}",
            text=raw,
            example="250.000" if minor_units == 0 else "250.000 / 250.000,50",
        )
    whole = match["whole"].replace(".", "")
    fraction = match["fraction"] or ""
    if len(fraction) > minor_units:
        raise InvalidInputError.of(
            "{currency} amounts have at most {digits} decimals; {text} has {found}",
            currency=currency,
            digits=minor_units,
            text=raw,
            found=len(fraction),
        )
    digits = (whole + fraction.ljust(minor_units, "0")).lstrip("0")
    if len(digits) > MAX_DIGITS:
        raise InvalidInputError.of("{text} is too large for one entry", text=raw)
    amount = int(digits or "0")
    if amount <= 0:
        raise InvalidInputError.of("the amount must be more than zero")
    return amount
