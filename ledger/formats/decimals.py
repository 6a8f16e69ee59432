"""Decimal amount strings to integer minor units, exactly.

Payment gateways send amounts as decimal text (Midtrans ``"gross_amount": "24145.00"``) or as
JSON numbers (Xendit ``"amount": 50000``). Both are read here from their text, never through
a float: ``"24145.00"`` with the fund's recorded exponent 2 is ``2414500`` minor units. A
fraction with more digits than the exponent is accepted only when the extra digits are
zeros (``"24145.000"`` is the same amount); anything else would have to be rounded, and is
refused. So are signs, exponents (``1e3``), spaces, and amounts outside ``(0, MAX_AMOUNT]``.
"""

from __future__ import annotations

import re

from ledger.errors import AmountFormatError

MAX_AMOUNT = 10**15
"""Largest amount in minor units (the same bound as ``schemas.money.MAX_AMOUNT``)."""

_DECIMAL = re.compile(r"(0|[1-9][0-9]{0,24})(?:\.([0-9]{1,20}))?")

AMOUNT_FORMAT = (
    "{field}: expected a positive decimal amount with at most {exponent} decimal places "
    "(the fund's exponent), e.g. {example}; got {found}"
)
AMOUNT_RANGE = (
    "{field}: expected an amount from 1 to {most} minor units; {found} is {minor} minor units"
)


def minor_units_of(text: str, exponent: int, field: str) -> int:
    """``text`` (a plain decimal such as ``"24145.00"``) as integer minor units with
    ``exponent`` decimals; raises :class:`AmountFormatError` naming ``field`` otherwise."""
    found = _DECIMAL.fullmatch(text) if isinstance(text, str) else None
    fraction = (found[2] or "") if found else ""
    if found is None or fraction[exponent:].strip("0"):
        raise AmountFormatError.of(
            AMOUNT_FORMAT,
            pointer="/" + field.replace(".", "/"),
            field=field,
            exponent=exponent,
            example="24145.00" if exponent == 2 else "24145",
            found=repr(text)[:60],
        )
    minor = int(found[1]) * 10**exponent + int(fraction[:exponent].ljust(exponent, "0") or "0")
    if not 0 < minor <= MAX_AMOUNT:
        raise AmountFormatError.of(
            AMOUNT_RANGE,
            pointer="/" + field.replace(".", "/"),
            field=field,
            most=MAX_AMOUNT,
            found=repr(text)[:60],
            minor=minor,
        )
    return minor
