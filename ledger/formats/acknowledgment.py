"""The message a beneficiary signs about a disbursement (docs/FORMAT.md section 8).

An orphanage acknowledges a disbursement (``disbursement.acknowledged``) or disputes it
(``disbursement.disputed``) with its own Ed25519 key (RFC 8032, pure Ed25519), over a short
text that names everything the charity could otherwise change: the log, the organization,
the beneficiary, the disbursement's index and RFC 9162 leaf hash (which fixes its canonical
bytes, so its amount, date, purpose and reference), the amount with its currency and
recorded exponent, the value date, and the beneficiary's verdict. Nine lines, each ``name
value`` ending in a line feed, UTF-8::

    donation-ledger acknowledgment v1
    log ledger.example/orgs/yayasan-senyum
    org yayasan-senyum
    beneficiary lksa-harapan
    disbursement 5 <base64 leaf hash>
    amount 50000000 IDR 2
    paid_on 2026-11-21
    verdict acknowledged
    received 50000000

The first line separates this message from every other thing the key could sign. The
browser page builds the same bytes (``ledger/http/site/static/acknowledge.js``); the server,
``ledger verify`` and ``ledger-verify acknowledgment`` rebuild them from the log with
:func:`message` and check the signature with :func:`verify_signature`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import MalformedError, SignatureError

MESSAGE_HEADER: Final = "donation-ledger acknowledgment v1"
"""First line of every acknowledgment message: the domain separator."""
ACKNOWLEDGED: Final = "acknowledged"
"""Verdict: the whole amount arrived."""
DISPUTED: Final = "disputed"
"""Verdict: a different amount arrived, or nothing."""
PUBLIC_KEY_SIZE: Final = 32
SIGNATURE_SIZE: Final = 64


@dataclass(frozen=True)
class Disbursed:
    """What the log says about one disbursement: the facts a beneficiary signs."""

    origin: str
    """The log's origin (its checkpoints' first line)."""
    org: str
    """The organization's slug."""
    beneficiary: str
    """The disbursement's beneficiary code."""
    index: int
    """The disbursement entry's index."""
    leaf_hash: bytes
    """RFC 9162 leaf hash of the disbursement entry's canonical bytes."""
    amount: int
    """Minor units."""
    currency: str
    """ISO 4217 code."""
    minor_units: int
    """The exponent the disbursement's fund recorded."""
    paid_on: str
    """The value date, ``YYYY-MM-DD``."""


def message(d: Disbursed, verdict: str, received: int) -> bytes:
    """The exact bytes a beneficiary signs: ``received`` is the amount for ``acknowledged``,
    what arrived (0: nothing) for ``disputed``."""
    if verdict not in (ACKNOWLEDGED, DISPUTED):
        raise MalformedError(f"expected the verdict {ACKNOWLEDGED} or {DISPUTED}, got {verdict!r}")
    leaf = base64.b64encode(d.leaf_hash).decode()
    lines = (
        MESSAGE_HEADER,
        f"log {d.origin}",
        f"org {d.org}",
        f"beneficiary {d.beneficiary}",
        f"disbursement {d.index} {leaf}",
        f"amount {d.amount} {d.currency} {d.minor_units}",
        f"paid_on {d.paid_on}",
        f"verdict {verdict}",
        f"received {received}",
    )
    return ("\n".join(lines) + "\n").encode()


def _decode(text: str, size: int, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise MalformedError(f"expected {what} as base64, got {text!r}") from exc
    if len(raw) != size:
        raise MalformedError(f"expected {what} of {size} bytes, got {len(raw)}")
    return raw


def decode_public_key(text: str) -> bytes:
    """The 32 bytes of a base64 Ed25519 public key (``MalformedError`` otherwise)."""
    return _decode(text, PUBLIC_KEY_SIZE, "an Ed25519 public key")


def decode_signature(text: str) -> bytes:
    """The 64 bytes of a base64 Ed25519 signature (``MalformedError`` otherwise)."""
    return _decode(text, SIGNATURE_SIZE, "an Ed25519 signature")


def verify_signature(public_key: bytes, signed: bytes, signature: bytes) -> None:
    """Return if ``signature`` is ``public_key``'s Ed25519 signature of ``signed``; raise
    ``SignatureError`` otherwise (cryptography's exceptions never escape)."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, signed)
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError(
            "the signature does not verify with the beneficiary's key over this message "
            "(another disbursement, amount, verdict or key)"
        ) from exc


def sign(seed: bytes, signed: bytes) -> bytes:
    """Ed25519 signature of ``signed`` with the key of the 32-byte ``seed`` (the recipient
    CLI and the tests; the browser signs with WebCrypto)."""
    return Ed25519PrivateKey.from_private_bytes(seed).sign(signed)


def public_key_of(seed: bytes) -> bytes:
    """The 32-byte public key of the 32-byte ``seed``."""
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
