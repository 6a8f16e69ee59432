"""Money: integer minor units plus an ISO 4217 currency, defined in this one place.

Amounts are never floats. The minor unit is ISO 4217's (CLDR data through Babel): IDR has
two decimals, so ``Rp 1.250.000`` is ``{"amount": 125000000, "currency": "IDR"}``. The
accepted currencies are those in legal tender somewhere on 2026-01-01 (CLDR), which is the
ISO 4217 list of active codes.
"""

from __future__ import annotations

import datetime
from functools import cache
from typing import Annotated

import msgspec

MAX_AMOUNT = 10**15
"""Largest amount in minor units (Rp 10 trillion): beyond any real gift, far below 2**53."""

Amount = Annotated[int, msgspec.Meta(gt=0, le=MAX_AMOUNT, description="positive minor units")]
CurrencyCode = Annotated[
    str, msgspec.Meta(pattern="^[A-Z]{3}$", description="ISO 4217 alphabetic code")
]


@cache
def active_currencies() -> frozenset[str]:
    from babel.core import get_global
    from babel.numbers import get_territory_currencies

    found: set[str] = set()
    for territory in get_global("territory_currencies"):
        found.update(
            get_territory_currencies(territory, start_date=datetime.date(2026, 1, 1), tender=True)
        )
    return frozenset(found)


def minor_units(currency: str) -> int:
    """Decimal places of the currency's minor unit (IDR: 2, JPY: 0)."""
    from babel.numbers import get_currency_precision

    return get_currency_precision(currency)


def check_currency(currency: str) -> None:
    """Raise ValueError unless ``currency`` is an active ISO 4217 code."""
    if currency not in active_currencies():
        raise ValueError(f"expected an active ISO 4217 currency code, got {currency!r}")
