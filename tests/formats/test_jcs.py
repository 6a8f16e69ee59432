"""The canonical subset's check in C (``ledger/formats/_jcs.c``) against the Python
``_check`` it stands in front of: it says "in the subset" only where ``_check`` accepts, and
says it for every plain value, so entry bodies take the fast path and the canonical bytes are
the same either way."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import CanonicalError
from ledger.formats import canonical
from ledger.formats.canonical import _check, canonical_json

plain = canonical._plain
SAFE = 2**53 - 1


def test_the_check_was_built_by_the_install() -> None:
    assert plain is not None, "ledger.formats._jcs was not built by the install"


class Text(str):
    pass


class Number(int):
    pass


class Mapping(dict):  # type: ignore[type-arg]
    pass


# Values of every kind _check meets: in the subset, just outside it, and subclasses (which
# _check accepts and the C check leaves to it).
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(SAFE + 3), SAFE + 3),
    st.sampled_from([2**64, -(2**64), 2**53, -(2**53), 0]),
    st.text(max_size=5),
    st.floats(allow_nan=False, max_value=1e6, min_value=-1e6),
    st.binary(max_size=2),
    st.builds(Text, st.text(max_size=3)),
    st.builds(Number, st.integers(-5, 5)),
)
NAMES = st.one_of(st.sampled_from(["a", "b", "amount", "é", "名"]), st.integers(0, 2))
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(NAMES, inner, max_size=4),
        st.dictionaries(st.just("k"), inner, max_size=1).map(Mapping),
    ),
    max_leaves=20,
)


def check_accepts(value: Any) -> bool:
    try:
        _check(value, "$")
    except CanonicalError:
        return False
    return True


def plainly_inside(value: Any) -> bool:
    """Exact built-in types, ASCII string names, safe integers, at most 64 deep."""
    kind = type(value)
    if value is None or kind in (bool, str):
        return True
    if kind is int:
        return -SAFE <= value <= SAFE
    if kind in (list, tuple):
        return all(plainly_inside(v) for v in value)
    if kind is dict:
        return all(type(k) is str and k.isascii() and plainly_inside(v) for k, v in value.items())
    return False


@settings(max_examples=800, deadline=None)
@given(VALUES)
def test_plain_is_sure_only_where_check_accepts(value: Any) -> None:
    said = plain(value)  # type: ignore[misc]
    if said:
        assert check_accepts(value), value
    assert said == plainly_inside(value), value


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_canonical_json_is_the_same_with_and_without_it(value: Any) -> None:
    def encoded() -> bytes | str:
        try:
            return canonical_json(value)
        except CanonicalError as exc:
            return str(exc)

    fast = encoded()
    try:
        canonical._plain = None
        slow = encoded()
    finally:
        canonical._plain = plain
    assert fast == slow


@pytest.mark.parametrize(("depth", "sure"), [(63, True), (64, True), (65, False), (200, False)])
def test_deep_values_go_to_the_python_check(depth: int, sure: bool) -> None:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    assert plain(value) is sure  # type: ignore[misc]
    assert check_accepts(value)
