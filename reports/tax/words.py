"""Amounts in words, as Indonesian receipts write them under the figure ("terbilang"):
``Rp 250.000`` is *dua ratus lima puluh ribu rupiah*. English receipts add the same in
English (*two hundred fifty thousand rupiah*).

Exact for every whole number below 10^15 (the ledger's largest amount is 10^15 minor units):
the words are built from the integer, never from a float. Cents (sen) are written after the
rupiah: *… rupiah lima puluh sen*.
"""

from __future__ import annotations

from reports.errors import ReportDataError

_ID_UNITS = (
    "nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
    "sepuluh", "sebelas",
)  # fmt: skip
_ID_SCALES = ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"))
_EN_UNITS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))
LIMIT = 10**15


def _check(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < LIMIT:
        raise ReportDataError(f"expected a whole number from 0 to {LIMIT - 1}, got {n!r}")


def indonesian(n: int) -> str:
    """``n`` in Indonesian words: 1 *satu*, 11 *sebelas*, 100 *seratus*, 1000 *seribu*,
    250000 *dua ratus lima puluh ribu*, 1000000 *satu juta*."""
    _check(n)
    return _id(n) if n else "nol"


def _id(n: int) -> str:
    if n < 12:
        return _ID_UNITS[n] if n else ""
    if n < 20:
        return f"{_ID_UNITS[n - 10]} belas"
    if n < 100:
        return _join(f"{_ID_UNITS[n // 10]} puluh", _id(n % 10))
    if n < 200:
        return _join("seratus", _id(n - 100))
    if n < 1000:
        return _join(f"{_ID_UNITS[n // 100]} ratus", _id(n % 100))
    if n < 2000:
        return _join("seribu", _id(n - 1000))
    if n < 10**6:
        return _join(f"{_id(n // 1000)} ribu", _id(n % 1000))
    for scale, word in _ID_SCALES:
        if n >= scale:
            return _join(f"{_id(n // scale)} {word}", _id(n % scale))
    raise AssertionError(n)  # pragma: no cover


def english(n: int) -> str:
    """``n`` in English words (short scale, no "and"): 250000 *two hundred fifty thousand*."""
    _check(n)
    return _en(n) if n else "zero"


def _en(n: int) -> str:
    if n < 20:
        return _EN_UNITS[n] if n else ""
    if n < 100:
        return _join(_EN_TENS[n // 10], _EN_UNITS[n % 10] if n % 10 else "", sep="-")
    if n < 1000:
        return _join(f"{_EN_UNITS[n // 100]} hundred", _en(n % 100))
    for scale, word in _EN_SCALES:
        if n >= scale:
            return _join(f"{_en(n // scale)} {word}", _en(n % scale))
    raise AssertionError(n)  # pragma: no cover


def _join(head: str, tail: str, sep: str = " ") -> str:
    return f"{head}{sep}{tail}" if tail else head


def rupiah_in_words(amount: int, minor_units: int, lang: str) -> str:
    """An IDR amount of ``amount`` minor units (exponent ``minor_units``) in words:
    ``dua ratus lima puluh ribu rupiah`` (id) or ``two hundred fifty thousand rupiah`` (en);
    a fraction is written as sen (hundredths) when the exponent is 2."""
    if isinstance(minor_units, bool) or not isinstance(minor_units, int) or minor_units < 0:
        raise ReportDataError(f"expected minor_units >= 0, got {minor_units!r}")
    words = indonesian if lang == "id" else english
    whole, fraction = divmod(amount, 10**minor_units)
    text = f"{words(whole)} rupiah"
    if fraction:
        if minor_units != 2:
            raise ReportDataError(
                f"expected an exponent of 2 to write a fraction of a rupiah, got {minor_units}"
            )
        text += f" {words(fraction)} sen"
    return text
