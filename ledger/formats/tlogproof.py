"""c2sp.org/tlog-proof@v1: an offline-verifiable proof that an entry is in the log.

Layout (one ``\\n`` after every line)::

    c2sp.org/tlog-proof@v1
    extra <base64 of the entry's canonical bytes>
    index <decimal, no leading zeros>
    <base64 inclusion proof hash>      (zero or more, leaf's sibling first)
    <empty line>
    <the checkpoint, a signed note, verbatim>

The spec makes ``extra`` optional and unauthenticated; this ledger always puts the entry's
canonical bytes there, and a verifier authenticates them by hashing them into the leaf that
the inclusion proof ties to the signed root.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from ledger.errors import MalformedError

HEADER = "c2sp.org/tlog-proof@v1"
FILE_EXTENSION = ".tlog-proof"


@dataclass(frozen=True)
class TlogProof:
    """A parsed proof (nothing in it is verified yet)."""

    index: int
    """0-based index of the entry."""
    proof: tuple[bytes, ...]
    """RFC 9162 audit path, leaf's sibling first."""
    checkpoint: str
    """The signed checkpoint note, verbatim."""
    extra: bytes | None = None
    """Opaque extra data: here, the entry's canonical bytes."""


def _b64(text: str, what: str) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedError(f"{what}: expected standard base64, got {text[:40]!r}") from exc
    if base64.b64encode(data).decode() != text:
        raise MalformedError(f"{what}: expected canonical base64, got {text[:40]!r}")
    return data


def format_proof(p: TlogProof) -> str:
    lines = [HEADER]
    if p.extra is not None:
        lines.append("extra " + base64.b64encode(p.extra).decode())
    lines.append(f"index {p.index}")
    lines.extend(base64.b64encode(h).decode() for h in p.proof)
    return "\n".join(lines) + "\n\n" + p.checkpoint


def parse_proof(text: str | bytes) -> TlogProof:
    """Strict parse; raises MalformedError naming the line that is wrong."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedError("a tlog-proof must be UTF-8 text") from exc
    head, sep, checkpoint = text.partition("\n\n")
    if not sep or not checkpoint:
        raise MalformedError("expected an empty line between the proof and the checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise MalformedError(f"line 1: expected {HEADER!r}, got {lines[0][:60]!r}")
    n = 1
    extra = None
    if n < len(lines) and lines[n].startswith("extra "):
        extra = _b64(lines[n][6:], f"line {n + 1} (extra)")
        n += 1
    if n >= len(lines) or not lines[n].startswith("index "):
        raise MalformedError(f"line {n + 1}: expected 'index <n>'")
    digits = lines[n][6:]
    if not digits.isascii() or not digits.isdigit() or (digits != "0" and digits[0] == "0"):
        raise MalformedError(f"line {n + 1}: expected a decimal index without leading zeros")
    index = int(digits)
    proof = []
    for k, line in enumerate(lines[n + 1 :], start=n + 2):
        digest = _b64(line, f"line {k} (proof hash)")
        if len(digest) != 32:
            raise MalformedError(f"line {k}: expected a 32-byte hash, got {len(digest)} bytes")
        proof.append(digest)
    return TlogProof(index, tuple(proof), checkpoint, extra)
