"""Money: integer minor units plus an ISO 4217 currency, defined in this one place.

Amounts are never floats. What the integer means is ISO 4217's minor unit
(``schemas.iso4217``, list one as published on 2026-01-01), never CLDR's display digits:
IDR has two decimals, so ``Rp 1.250.000`` is ``{"amount": 125000000, "currency": "IDR"}``.

The exponent is data. A fund records it when it is created (``fund.created`` member
``minor_units``), and every amount of the fund is read and written with that recorded
exponent from then on (:func:`recorded_minor_units`), whatever a later ISO or CLDR edition
says. Fund entries from before the member existed follow the documented rule in
docs/FORMAT.md §6: ISO 4217 as of 2026-01-01.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from schemas.iso4217 import MINOR_UNITS

MAX_AMOUNT = 10**15
"""Largest amount in minor units (Rp 10 trillion): beyond any real gift, far below 2**53."""

MAX_MINOR_UNITS = 4
"""The largest ISO 4217 exponent in use (CLF, UYW)."""

Amount = Annotated[int, msgspec.Meta(gt=0, le=MAX_AMOUNT, description="positive minor units")]
CURRENCY_PATTERN = "^[A-Z]{3}$"
"""The form of a currency code; the codes themselves are ``active_currencies()``."""

CurrencyCode = Annotated[
    str,
    msgspec.Meta(
        pattern=CURRENCY_PATTERN,
        description="ISO 4217 alphabetic code (an active one: list one of 2026-01-01)",
        extra_json_schema={"enum": sorted(MINOR_UNITS)},
    ),
]
MinorUnits = Annotated[
    int,
    msgspec.Meta(
        ge=0,
        le=MAX_MINOR_UNITS,
        description="decimal exponent of the currency's minor unit (ISO 4217; IDR 2)",
    ),
]


def active_currencies() -> frozenset[str]:
    """The active ISO 4217 alphabetic codes (list one, 2026-01-01) that have a minor unit."""
    return frozenset(MINOR_UNITS)


def minor_units(currency: str) -> int:
    """ISO 4217's exponent for ``currency`` (IDR: 2, JPY: 0, KWD: 3).

    Use it only when a fund is created, to record the exponent; everything after that reads
    the recorded one (:func:`recorded_minor_units`).
    """
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"expected an active ISO 4217 currency code, got {currency!r}") from None


def recorded_minor_units(recorded: int | None, currency: str) -> int:
    """The exponent a fund's entry recorded; for a v1 ``fund.created`` entry without one,
    ISO 4217 list one as published on 2026-01-01 (docs/FORMAT.md §6)."""
    return recorded if recorded is not None else MINOR_UNITS[currency]


def check_currency(currency: str) -> None:
    """Raise ValueError unless ``currency`` is an active ISO 4217 code."""
    if currency not in MINOR_UNITS:
        raise ValueError(f"expected an active ISO 4217 currency code, got {currency!r}")


def decimal_amount(amount: int, exponent: int) -> str:
    """Minor units as a plain decimal string with exactly ``exponent`` places:
    ``125000050`` with 2 gives ``"1250000.50"``; with 0, ``"1250000"``. For machines
    (CSV, JSON); people get ``reports.pdf.localization.format_amount``."""
    sign = "-" if amount < 0 else ""
    digits = str(abs(amount)).rjust(exponent + 1, "0")
    if not exponent:
        return sign + digits
    return f"{sign}{digits[:-exponent]}.{digits[-exponent:]}"

