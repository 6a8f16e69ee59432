"""Decimal amount strings to minor units (ledger.formats.decimals): exact, or refused."""

from __future__ import annotations

import pytest

from ledger.errors import AmountFormatError
from ledger.formats.decimals import MAX_AMOUNT, minor_units_of


@pytest.mark.parametrize(
    "text,exponent,minor",
    [
        ("24145.00", 2, 2414500),  # Midtrans's documented gross_amount
        ("24145", 2, 2414500),
        ("24145.5", 2, 2414550),
        ("24145.000", 2, 2414500),  # extra zeros change nothing
        ("0.01", 2, 1),
        ("250000", 0, 250000),  # JPY-like exponent 0
        ("250000.00", 0, 250000),
        ("1.234", 3, 1234),  # KWD
        ("10000000000000", 2, MAX_AMOUNT),
    ],
)
def test_exact_amounts(text: str, exponent: int, minor: int) -> None:
    assert minor_units_of(text, exponent, "gross_amount") == minor


@pytest.mark.parametrize(
    "text,exponent",
    [
        ("24145.001", 2),  # would need rounding
        ("0.5", 0),
        ("1e3", 2),
        ("-5.00", 2),
        ("+5.00", 2),
        (" 5", 2),
        ("5 ", 2),
        ("5.", 2),
        (".5", 2),
        ("05", 2),
        ("5,00", 2),
        ("1.250.000", 2),
        ("", 2),
        ("0", 2),
        ("0.00", 2),
        ("10000000000000.01", 2),  # one minor unit above the bound
        ("NaN", 2),
        ("Infinity", 2),
        ("٥", 2),  # a non-ASCII digit
    ],
)
def test_refused_amounts_name_the_field(text: str, exponent: int) -> None:
    with pytest.raises(AmountFormatError) as raised:
        minor_units_of(text, exponent, "data.amount")
    assert raised.value.pointer == "/data/amount"
    assert str(raised.value).startswith("data.amount: ")


def test_messages_have_indonesian_translations_with_the_same_fields() -> None:
    from ledger.formats import decimals
    from ledger.ingest import bankimports, midtrans, payments, routing, xendit
    from ledger.messages import catalog

    templates = [
        decimals.AMOUNT_FORMAT,
        decimals.AMOUNT_RANGE,
        routing.UNROUTED,
        payments.PAYMENT_ID_FORM,
        midtrans.MIDTRANS_TIME,
        midtrans.REFUND_AMOUNT_MISSING,
        midtrans.REFUNDS_OVER_GROSS,
        xendit.XENDIT_TIME,
        xendit.AMOUNT_MISSING,
        bankimports.BAD_LINES,
        "order id",
        "the custom field",
    ]
    translated = catalog("id")
    assert [t for t in templates if not translated.get(t)] == []
    for template in templates:
        fields = {part.split("}")[0] for part in template.split("{")[1:]}
        assert {part.split("}")[0] for part in translated[template].split("{")[1:]} == fields
