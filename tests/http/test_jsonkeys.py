"""The C walk for repeated member names (``ledger/http/api/_jsonkeys.c``) against the
standard library's pass it stands in front of (``ledger.http.api.bodies``): it says "all
distinct" only where the Python pass finds no repeat, and says it for every plain body, so
the fast path is taken and never accepts what the slow one refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidInputError
from ledger.http.api import bodies
from ledger.http.api.bodies import check_unique_keys, repeated_key_pass

unique = bodies._plainly_unique


def test_the_walk_was_built_by_the_install() -> None:
    assert unique is not None, "ledger.http.api._jsonkeys was not built by the install"


# A JSON document as a tree whose objects are lists of (name, value) pairs, so that names
# can repeat, written out by hand; names are drawn from a small alphabet (repeats are common)
# with some that need escapes, or that only differ once escapes are decoded.
NAMES = st.sampled_from(["a", "b", "ab", "é", "a:b", 'q"', "back\\slash", "\u0061", "}", "{"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.text(alphabet='ab:{}[]",\\ é\n', max_size=6),
)
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(st.tuples(NAMES, inner), max_size=5).map(lambda pairs: ("object", pairs)),
    ),
    max_leaves=25,
)


def write(tree: Any, escape_names: bool) -> str:
    if isinstance(tree, tuple) and tree[0] == "object":
        members = []
        for name, value in tree[1]:
            spelled = json.dumps(name, ensure_ascii=escape_names)
            members.append(f"{spelled} : {write(value, escape_names)}")
        return "{" + ",".join(members) + "}"
    if isinstance(tree, list):
        return "[ " + ", ".join(write(item, escape_names) for item in tree) + "]"
    return json.dumps(tree, ensure_ascii=False)


def plain_and_distinct(tree: Any) -> bool:
    """No object repeats a name, and no name is written with an escape."""
    if isinstance(tree, tuple) and tree[0] == "object":
        names = [name for name, _ in tree[1]]
        if len(set(names)) != len(names):
            return False
        if any(json.dumps(n, ensure_ascii=False) != f'"{n}"' for n in names):
            return False
        return all(plain_and_distinct(value) for _, value in tree[1])
    if isinstance(tree, list):
        return all(plain_and_distinct(item) for item in tree)
    return True


def python_pass_accepts(raw: bytes) -> bool:
    try:
        repeated_key_pass(raw)
    except InvalidInputError:
        return False
    return True


@settings(max_examples=600, deadline=None)
@given(TREES, st.booleans())
def test_the_walk_is_sure_only_where_the_python_pass_accepts(tree: Any, escape: bool) -> None:
    raw = write(tree, escape).encode()
    said = unique(raw)  # type: ignore[misc]
    accepted = python_pass_accepts(raw)
    if said:
        assert accepted, raw
    if not escape and plain_and_distinct(tree):
        assert said, raw  # the common case takes the fast path
    # What check_unique_keys decides is the Python pass's answer, either way.
    try:
        check_unique_keys(raw)
    except InvalidInputError:
        assert not accepted
    else:
        assert accepted


@pytest.mark.parametrize(
    ("raw", "sure"),
    [
        (b'{"fund":"senyum-2026","amount":10000,"reference":"I-1"}', True),
        (b'{"a":1,"a":2}', False),
        (b'{ "a" : 1 , "a" : 2 }', False),
        (b'{"a":{"b":1,"b":2}}', False),
        (b'{"a":{"b":1},"b":2}', True),  # the same name in two objects
        (b'[{"a":1},{"a":1}]', True),
        (b'{"a":1,"\\u0061":2}', False),  # the same name once decoded: the Python pass says
        (b'{"x":"a:b","y":"}\\"{"}', True),  # colons, braces and quotes inside values
        (b"[" * 64 + b"]" * 64, True),
        (b"[" * 65 + b"]" * 65, False),  # deeper than the walk keeps: the Python pass
        (b"{" + b",".join(b'"k%d":0' % i for i in range(600)) + b"}", False),  # too wide
        (b'"just a string"', True),
    ],
)
def test_known_bodies(raw: bytes, sure: bool) -> None:
    assert unique(raw) is sure  # type: ignore[misc]


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_get_an_answer(raw: bytes) -> None:
    # Not JSON (the caller never asks then, msgspec refused it first): still no crash, and
    # no read outside the buffer.
    assert unique(raw) in (True, False)  # type: ignore[misc]
    for cut in (1, len(raw) // 2):
        assert unique(raw[:cut]) in (True, False)  # type: ignore[misc]


def test_truncated_json_is_never_sure() -> None:
    raw = b'{"a":{"b":[1,2,{"c":"x\\"y"}]},"d":"e"}'
    assert unique(raw)  # type: ignore[misc]
    for cut in range(len(raw)):
        assert not unique(raw[:cut]), raw[:cut]  # type: ignore[misc]
