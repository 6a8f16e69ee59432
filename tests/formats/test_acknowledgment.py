"""The acknowledgment message and signature (docs/FORMAT.md section 8): the documented
vector byte for byte, and the changes that must make a signature fail."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace

import pytest

from ledger.errors import MalformedError, SignatureError
from ledger.formats import acknowledgment as F

SEED = bytes(range(32, 64))
PUBLIC_KEY = "Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc="
FACTS = F.Disbursed(
    origin="ledger.example/orgs/yayasan-senyum",
    org="yayasan-senyum",
    beneficiary="lksa-harapan",
    index=5,
    leaf_hash=hashlib.sha256(b"\x00example disbursement").digest(),
    amount=50_000_000,
    currency="IDR",
    minor_units=2,
    paid_on="2026-11-21",
)
MESSAGE = (
    b"donation-ledger acknowledgment v1\n"
    b"log ledger.example/orgs/yayasan-senyum\n"
    b"org yayasan-senyum\n"
    b"beneficiary lksa-harapan\n"
    b"disbursement 5 m7mFBEq8zbUZISBdSQZG9RmF8nh0F89xFHomgoizfbg=\n"
    b"amount 50000000 IDR 2\n"
    b"paid_on 2026-11-21\n"
    b"verdict acknowledged\n"
    b"received 50000000\n"
)
SIGNATURE = (
    "Ij0EGM4owcDhFIovu00CJe66P1oAjofz0cZlMO6w2t1bQgi2l2/iAdho+erRYEPducyZXHf4pA+GrsvspT9aAA=="
)
DISPUTE_SIGNATURE = (
    "Ks8mVWAGQ7c99/tBRFy9Zt4syzy7GCeSkHLgWJ9s7XFIHFQ1Qam99FeUgBKhqSXUOTFEIhDbiatTO/LaQFxrDg=="
)


def test_the_documented_vector() -> None:
    assert F.message(FACTS, F.ACKNOWLEDGED, 50_000_000) == MESSAGE
    assert base64.b64encode(F.public_key_of(SEED)).decode() == PUBLIC_KEY
    assert base64.b64encode(F.sign(SEED, MESSAGE)).decode() == SIGNATURE  # Ed25519: deterministic
    key = F.decode_public_key(PUBLIC_KEY)
    F.verify_signature(key, MESSAGE, F.decode_signature(SIGNATURE))
    disputed = F.message(FACTS, F.DISPUTED, 0)
    assert disputed == MESSAGE.replace(b"acknowledged\nreceived 50000000", b"disputed\nreceived 0")
    F.verify_signature(key, disputed, F.decode_signature(DISPUTE_SIGNATURE))


@pytest.mark.parametrize(
    "change",
    [
        {"index": 6},
        {"amount": 500_000_000},
        {"minor_units": 0},
        {"currency": "USD"},
        {"paid_on": "2026-11-22"},
        {"beneficiary": "lksa-kasih"},
        {"org": "yayasan-lain"},
        {"origin": "ledger.example/orgs/yayasan-lain"},
        {"leaf_hash": bytes(32)},
    ],
)
def test_any_other_fact_makes_the_signature_fail(change: dict) -> None:
    signed = F.message(replace(FACTS, **change), F.ACKNOWLEDGED, 50_000_000)
    with pytest.raises(SignatureError):
        F.verify_signature(F.decode_public_key(PUBLIC_KEY), signed, F.decode_signature(SIGNATURE))


def test_a_flipped_bit_another_verdict_or_key_fails() -> None:
    key = F.decode_public_key(PUBLIC_KEY)
    bad = bytearray(F.decode_signature(SIGNATURE))
    bad[0] ^= 1
    with pytest.raises(SignatureError):
        F.verify_signature(key, MESSAGE, bytes(bad))
    with pytest.raises(SignatureError):  # a dispute's signature does not acknowledge
        F.verify_signature(key, MESSAGE, F.decode_signature(DISPUTE_SIGNATURE))
    other = F.public_key_of(bytes(32))
    with pytest.raises(SignatureError):
        F.verify_signature(other, MESSAGE, F.decode_signature(SIGNATURE))


def test_malformed_inputs_are_named() -> None:
    with pytest.raises(MalformedError, match="32 bytes"):
        F.decode_public_key(base64.b64encode(bytes(33)).decode())
    with pytest.raises(MalformedError, match="base64"):
        F.decode_signature("not base64!")
    with pytest.raises(MalformedError, match="verdict"):
        F.message(FACTS, "maybe", 1)
