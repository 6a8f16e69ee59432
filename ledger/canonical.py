"""Canonical bytes of a log entry: RFC 8785 (JSON Canonicalization Scheme, JCS).

This module is the one place that turns an entry into bytes. Hashing, signing, receipts and
every verifier use the bytes it returns, and the database stores exactly those bytes, so
nothing is ever re-serialized to be checked.

Our documents use a subset of JSON on which JCS is simple to implement exactly:

* object member names are ASCII, so sorting by UTF-16 code units equals sorting by code point;
* numbers are integers with magnitude at most 2**53 - 1 (JCS serializes them as plain decimal
  digits); floats are refused outright;
* strings are UTF-8, escaping only ``"``, ``\\`` and control characters below U+0020 (as
  ``\\b \\t \\n \\f \\r`` or lowercase ``\\u00xx``), exactly as ECMAScript's JSON.stringify;
* no insignificant whitespace.

The entry envelope (see docs/FORMAT.md) is the object
``{"v": 1, "log": origin, "index": n, "prev": base64(prev entry hash), "time": RFC 3339 UTC
with microseconds, "kind": kind, "body": {...}}``.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from ledger.errors import CanonicalError

ENTRY_VERSION = 1
MAX_SAFE_INTEGER = 2**53 - 1
MAX_ENTRY_BYTES = 65535
"""Largest entry: c2sp.org/tlog-tiles entry bundles prefix each entry with a uint16 length."""

_encoder = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


def _check(value: Any, path: str) -> None:
    """Refuse anything outside the JCS subset documented above."""
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return
        raise CanonicalError(f"{path}: expected an integer within ±(2**53-1), got {value}")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise CanonicalError(f"{path}: expected ASCII string member names, got {key!r}")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    raise CanonicalError(
        f"{path}: expected a string, integer, boolean, null, array or object, "
        f"got {type(value).__name__}"
    )


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of ``value`` (restricted to the subset in the module docstring)."""
    _check(value, "$")
    try:
        return _encoder.encode(value).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalError(f"expected valid Unicode text, got a lone surrogate: {exc}") from exc


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with exactly six fractional digits, e.g. ``2026-11-21T13:12:09.000123Z``."""
    if moment.tzinfo is None:
        raise CanonicalError("expected a timezone-aware timestamp, got a naive one")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """Inverse of format_time; refuses any other spelling."""
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise CanonicalError(
            f"expected time like 2026-01-31T00:00:00.000000Z, got {text!r}"
        ) from exc
    if format_time(moment) != text:
        raise CanonicalError(f"expected time with six fractional digits, got {text!r}")
    return moment


def encode_entry(
    *,
    origin: str,
    index: int,
    prev_hash: bytes,
    time: datetime,
    kind: str,
    body: dict[str, Any],
) -> bytes:
    """The canonical bytes of one log entry: the Merkle leaf and the input of its chain hash."""
    document = {
        "v": ENTRY_VERSION,
        "log": origin,
        "index": index,
        "prev": base64.b64encode(prev_hash).decode("ascii"),
        "time": format_time(time),
        "kind": kind,
        "body": body,
    }
    data = canonical_json(document)
    if len(data) > MAX_ENTRY_BYTES:
        raise CanonicalError(
            f"expected an entry of at most {MAX_ENTRY_BYTES} bytes, got {len(data)}"
        )
    return data
