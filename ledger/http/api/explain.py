"""Explaining a body that does not match its schema, to the person who sent it.

msgspec says what failed in its own terms ("Expected `int`, got `str` - at `$.amount`",
"Invalid RFC3339 encoded date", "Invalid enum value 'makanan'"). ``explain`` turns that into
an ``InvalidInputError`` whose message names the field, the form expected and an example
("amount: expected integer minor units, e.g. Rp 250.000 is 25000000"), lists the allowed
values of an enumeration, and carries the member's JSON pointer. The schema type decides
the wording (a date field, an amount, a code, a literal), so new request types get the
same messages without a table per field. Templates are msgids of the gettext catalog
(``ledger.messages``), so ``ledger.http.problems`` can show them in Bahasa Indonesia.
"""

from __future__ import annotations

import re
from typing import Any

from msgspec import inspect as mi

from ledger.errors import InvalidInputError
from schemas.money import CURRENCY_PATTERN

_AT = re.compile(r"^(?P<text>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.S)
_FIELD = re.compile(r"^Object (?:missing required|contains unknown) field `(?P<name>[^`]+)`")
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_ENUM_VALUE = re.compile(r"^Invalid enum value (?P<value>.+)$")

EXAMPLES = {
    "fund": "senyum-2026",
    "from_fund": "senyum-2026",
    "to_fund": "operasional",
    "beneficiary": "lksa-harapan",
    "code": "senyum-2026",
    "currency": "IDR",
    "reference": "BCA-20261122-0001",
}
"""Example values shown for fields whose form a pattern alone would not make clear."""

AMOUNT = "{field}: expected integer minor units, e.g. Rp 250.000 is 25000000 (IDR has 2 decimals)"
DATE = "{field}: expected a date as YYYY-MM-DD, e.g. 2026-11-22"
CHOICE = "{field}: expected one of {allowed}"
CHOICE_GOT = "{field}: {value} is not allowed; expected one of {allowed}"
MISSING = "{field}: this field is required"
UNKNOWN = "{field}: unknown field; expected only {allowed}"
CODE = "{field}: expected a code of lowercase letters, digits and '-', e.g. {example}"
CURRENCY = "{field}: expected an active ISO 4217 currency code in capitals, e.g. IDR"
TEXT = "{field}: expected text of {low} to {high} characters, without control characters"
INTEGER = "{field}: expected a whole number from {low} to {high}, e.g. {low}"
LIST = "{field}: expected a list of {low} to {high} items"
OBJECT = "{field}: expected a JSON object, e.g. {example}"
BOOLEAN = "{field}: expected true or false"
OTHER = "{field}: {reason}"


def _strip(t: Any) -> Any:
    """The type without its Metadata wrapper and without ``| None``."""
    while True:
        if isinstance(t, mi.Metadata):
            t = t.type
        elif isinstance(t, mi.UnionType):
            others = [u for u in t.types if not isinstance(u, mi.NoneType)]
            if len(others) != 1:
                return t
            t = others[0]
        else:
            return t


def _type_at(model: type, path: str) -> Any:
    """The type info at a msgspec path like ``$.a[3].b`` (None when there is none)."""
    t: Any = _strip(mi.type_info(model))
    for name, index in _SEGMENT.findall(path[1:]):
        if name and isinstance(t, mi.StructType):
            t = next((_strip(f.type) for f in t.fields if f.encode_name == name), None)
        elif index and isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType):
            t = _strip(t.item_type)
        else:
            return None
    return t


def _pointer(path: str) -> str:
    return "".join(f"/{name or index}" for name, index in _SEGMENT.findall(path[1:]))


def _field(path: str) -> str:
    return path[2:] if path.startswith("$.") else ("the body" if path == "$" else path[1:])


def _names(struct: Any) -> str:
    fields = struct.fields if isinstance(struct, mi.StructType) else ()
    return ", ".join(f.encode_name for f in fields)


def explain(message: str, model: type) -> InvalidInputError:
    """The 400 for msgspec's ``message`` about a body of type ``model``."""
    found = _AT.match(message)
    text = found["text"] if found else message
    path = (found and found["path"]) or "$"
    named = _FIELD.match(text)
    container = _type_at(model, path)
    if named:
        path = f"{path}.{named['name']}"
    elif "ISO 4217" in text:  # schemas.money.check_currency, from the struct's __post_init__
        path = f"{path}.currency"
    t = _type_at(model, path)
    field = _field(path)
    leaf = path.rsplit(".", 1)[-1]

    def of(template: str, **params: Any) -> InvalidInputError:
        return InvalidInputError.of(template, pointer=_pointer(path), field=field, **params)

    if named and text.startswith("Object missing"):
        return of(MISSING)
    if named:
        return of(UNKNOWN, allowed=_names(container))
    if isinstance(t, mi.LiteralType):
        allowed = ", ".join(str(v) for v in t.values)
        enum = _ENUM_VALUE.match(text)
        if enum:
            return of(CHOICE_GOT, value=enum["value"], allowed=allowed)
        return of(CHOICE, allowed=allowed)
    if isinstance(t, mi.DateType):
        return of(DATE)
    if isinstance(t, mi.IntType) and leaf.endswith("amount"):
        return of(AMOUNT)
    if isinstance(t, mi.StrType) and t.pattern == CURRENCY_PATTERN:
        return of(CURRENCY)
    if isinstance(t, mi.StrType) and t.pattern and t.pattern.startswith("^[a-z0-9]"):
        return of(CODE, example=EXAMPLES.get(leaf, "senyum-2026"))
    if isinstance(t, mi.StrType) and t.max_length is not None and "length" in text:
        return of(TEXT, low=t.min_length or 0, high=t.max_length)
    if isinstance(t, mi.IntType):
        low = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else -(2**63))
        high = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else 2**63 - 1)
        return of(INTEGER, low=low, high=high)
    if isinstance(t, mi.ListType) and "length" in text:
        return of(LIST, low=t.min_length or 0, high=t.max_length)
    if isinstance(t, mi.StructType) and "Expected `object`" in text:
        example = "{" + ", ".join(f'"{f.encode_name}": ...' for f in t.fields[:2]) + "}"
        return of(OBJECT, example=example)
    if isinstance(t, mi.BoolType):
        return of(BOOLEAN)
    return of(OTHER, reason=text)
