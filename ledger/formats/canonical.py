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

import json
from binascii import b2a_base64
from datetime import UTC, datetime
from typing import Any

from ledger.errors import CanonicalError

try:  # the server has msgspec; the standalone ledger-verify needs only cryptography
    import msgspec
except ImportError:  # pragma: no cover - exercised by the standalone verifier's test
    msgspec = None  # type: ignore[assignment]

ENTRY_VERSION = 1
MAX_SAFE_INTEGER = 2**53 - 1
MAX_ENTRY_BYTES = 65535
"""Largest entry: c2sp.org/tlog-tiles entry bundles prefix each entry with a uint16 length."""
_VERSION = str(ENTRY_VERSION).encode()

_encoder = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)
_fast_encode = msgspec.json.Encoder(order="sorted").encode if msgspec is not None else None
"""msgspec with sorted keys writes exactly the JCS text of the subset (same escapes, no
whitespace, shortest integers), about ten times faster; types it does not know (str or int
subclasses) fall back to the standard library's encoder with the same settings, and so does
everything where msgspec is not installed (the standalone ``ledger-verify``)."""


def _check(value: Any, path: Any) -> None:
    """Refuse anything outside the JCS subset documented above. ``path`` names ``value``: a
    string, or ``(parent path, member name or array index)``, spelled only for an error (a
    writer checks every entry body)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                raise CanonicalError(
                    f"{_spelled(path)}: expected ASCII string member names, got {key!r}"
                )
            member = type(item)
            if member is str or item is None or member is bool:
                continue
            if member is int and -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            _check(item, (path, key))
        return
    if kind is int or isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return
        raise CanonicalError(
            f"{_spelled(path)}: expected an integer within ±(2**53-1), got {value}"
        )
    if kind is list or kind is tuple or isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, (path, i))
        return
    if isinstance(value, str):
        return
    if isinstance(value, dict):
        _check(dict(value), path)
        return
    raise CanonicalError(
        f"{_spelled(path)}: expected a string, integer, boolean, null, array or object, "
        f"got {type(value).__name__}"
    )


def _spelled(path: Any) -> str:
    """``_check``'s path as text: ``$.body.amount``, ``$.body.lines[2]``."""
    if isinstance(path, str):
        return path
    parent, step = path
    if isinstance(step, int):
        return f"{_spelled(parent)}[{step}]"
    return f"{_spelled(parent)}.{step}"


def canonical_json(value: Any, path: str = "$") -> bytes:
    """RFC 8785 bytes of ``value`` (restricted to the subset in the module docstring);
    ``path`` names ``value`` in error messages."""
    _check(value, path)
    try:
        if _fast_encode is not None:
            return _fast_encode(value)
    except TypeError:
        pass  # a subclass of str, int, list or dict that msgspec does not encode
    except UnicodeEncodeError as exc:
        raise CanonicalError(f"expected valid Unicode text, got a lone surrogate: {exc}") from exc
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
    return entry_bytes(
        canonical_json(origin, "$.log"),
        index,
        prev_hash,
        format_time(time),
        kind,
        canonical_json(body, "$.body"),
    )


def entry_bytes(
    origin_json: bytes, index: int, prev_hash: bytes, time_text: str, kind: str, body_json: bytes
) -> bytes:
    """``encode_entry`` from parts a batch shares or has already made canonical: the JCS
    object with its members in sorted order (body, index, kind, log, prev, time, v), the
    canonical ``body_json`` placed as it is."""
    return EntryFrame(origin_json, time_text)(index, prev_hash, kind, body_json)


class EntryFrame:
    """``entry_bytes`` for the entries of one batch, which share the log and the time: what
    they share is joined once (the writer, ``ledger.journal.appender.build_entries``)."""

    __slots__ = ("_kinds", "_log_prev", "_time_v")

    def __init__(self, origin_json: bytes, time_text: str) -> None:
        self._log_prev = b',"log":' + origin_json + b',"prev":"'
        self._time_v = b'","time":"' + time_text.encode() + b'","v":' + _VERSION + b"}"
        self._kinds: dict[str, bytes] = {}

    def __call__(self, index: int, prev_hash: bytes, kind: str, body_json: bytes) -> bytes:
        """The canonical bytes of the entry ``index`` of this log and time."""
        if not 0 <= index <= MAX_SAFE_INTEGER:
            raise CanonicalError(f"$.index: expected an integer within 0..2**53-1, got {index}")
        kind_json = self._kinds.get(kind)
        if kind_json is None:
            kind_json = self._kinds[kind] = canonical_json(kind, "$.kind")
        data = b"".join(
            (
                b'{"body":',
                body_json,
                b',"index":',
                str(index).encode(),
                b',"kind":',
                kind_json,
                self._log_prev,
                b2a_base64(prev_hash, newline=False),
                self._time_v,
            )
        )
        if len(data) > MAX_ENTRY_BYTES:
            raise CanonicalError(
                f"expected an entry of at most {MAX_ENTRY_BYTES} bytes, got {len(data)}"
            )
        return data
