"""docs/FORMAT.md's test vectors: canonical bytes, leaf and chain hashes, roots, checkpoint.

`docs/vectors/log.json` is what an independent verifier checks itself against. This test
rebuilds every value from the documented inputs with the project's code and requires the
committed file to match byte for byte. Regenerate (after a deliberate format change only)
with ``python -m tests.formats.test_format``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.charity.donors import commitment
from ledger.errors import CanonicalError
from ledger.formats import merkle
from ledger.formats.canonical import (
    EntryFrame,
    canonical_json,
    encode_entry,
    entry_bytes,
    format_time,
)
from ledger.formats.chain import GENESIS_PREV_HASH, entry_hash
from ledger.formats.checkpoint import Checkpoint, sign_checkpoint
from ledger.formats.note import Signer

VECTORS = Path(__file__).resolve().parents[2] / "docs" / "vectors" / "log.json"
ORIGIN = "ledger.example/orgs/yayasan-senyum"
SEED = bytes(range(32))
B64 = lambda b: base64.b64encode(b).decode()  # noqa: E731

ENTRIES = [
    ("log.created", {"slug": "yayasan-senyum", "name": "Yayasan Senyum Anak", "vkey": None}),
    (
        "fund.created",
        {
            "code": "senyum-2026",
            "name": "#SenyumAnak 2026",
            "currency": "IDR",
            "earmark": None,
            "fee_cap_bps": 1000,
        },
    ),
    (
        "donation",
        {
            "fund": "senyum-2026",
            "amount": 125000000,
            "currency": "IDR",
            "received_on": "2026-11-01",
            "channel": "qris",
            "reference": "QRIS-0001",
            "donor": {"commitment": None, "display": "Hamba Allah"},
            "message": 'Semoga bermanfaat — untuk anak-anak "Senyum"\n',
        },
    ),
]


def build() -> dict:
    signer = Signer.from_seed(ORIGIN, SEED)
    prev = GENESIS_PREV_HASH
    tree = merkle.CompactRange()
    out = []
    for i, (kind, body) in enumerate(ENTRIES):
        if kind == "log.created":
            body = {**body, "vkey": signer.vkey()}
        time = datetime(2026, 11, 21, 6, 0, i, 123456, tzinfo=UTC)
        data = encode_entry(origin=ORIGIN, index=i, prev_hash=prev, time=time, kind=kind, body=body)
        leaf = merkle.leaf_hash(data)
        chained = entry_hash(prev, leaf)
        tree.append(leaf)
        out.append(
            {
                "index": i,
                "kind": kind,
                "time": time.isoformat(),
                "body": body,
                "canonical": data.decode("utf-8"),
                "leaf_hash": B64(leaf),
                "prev_hash": B64(prev),
                "entry_hash": B64(chained),
                "root_after": B64(tree.root()),
            }
        )
        prev = chained
    note = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), [signer])
    salt = bytes(range(16))
    personal = {"name": "Siti Aminah", "email": "siti@example.id"}
    return {
        "about": "Test vectors for docs/FORMAT.md, produced by tests/formats/test_format.py.",
        "origin": ORIGIN,
        "ed25519_seed": B64(SEED),
        "vkey": signer.vkey(),
        "entries": out,
        "checkpoint": note,
        "donor_commitment": {
            "salt": B64(salt),
            "personal": personal,
            "commitment": commitment(salt, personal),
        },
    }


def test_vectors_match_the_committed_file():
    assert json.loads(VECTORS.read_text()) == build()


def test_vectors_are_self_consistent_from_first_principles():
    """Recompute with hashlib only, as an outside verifier would from FORMAT.md."""
    v = json.loads(VECTORS.read_text())
    prev = bytes(32)
    leaves = []
    for e in v["entries"]:
        data = e["canonical"].encode()
        doc = json.loads(data)
        assert doc["index"] == e["index"] and doc["prev"] == B64(prev) and doc["log"] == v["origin"]
        leaf = hashlib.sha256(b"\x00" + data).digest()
        assert B64(leaf) == e["leaf_hash"]
        prev = hashlib.sha256(b"\x02" + prev + leaf).digest()
        assert B64(prev) == e["entry_hash"]
        leaves.append(leaf)
    left = hashlib.sha256(b"\x01" + leaves[0] + leaves[1]).digest()
    assert (
        B64(hashlib.sha256(b"\x01" + left + leaves[2]).digest()) == v["entries"][-1]["root_after"]
    )
    c = v["donor_commitment"]
    personal = json.dumps(c["personal"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(
        b"donation-ledger donor v1\x00" + base64.b64decode(c["salt"]) + personal.encode()
    ).digest()
    assert B64(digest) == c["commitment"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": [True, None, "x"]}, b'{"a":[true,null,"x"],"b":1}'),
        ({"s": 'é\u2028\x1f"\\/'}, '{"s":"é\u2028\\u001f\\"\\\\/"}'.encode()),
        ({"n": -(2**53 - 1)}, b'{"n":-9007199254740991}'),
        ({"z": {"y": {}, "x": []}}, b'{"z":{"x":[],"y":{}}}'),
    ],
)
def test_jcs_canonical_bytes(value, expected):
    assert canonical_json(value) == expected


@pytest.mark.parametrize(
    "bad", [{"f": 1.0}, {"n": 2**53}, {"é": 1}, {1: 2}, {"s": "\ud800"}, {"b": b"x"}]
)
def test_values_outside_the_canonical_subset_are_refused(bad):
    with pytest.raises(CanonicalError):
        canonical_json(bad)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"a": {"b": [1, 2, {"c": 2**60}]}}, "$.a.b[2].c: expected an integer within"),
        ({"a": [1.5]}, "$.a[0]: expected a string, integer, boolean, null, array or object"),
        ({"a": {"é": 1}}, "$.a: expected ASCII string member names, got 'é'"),
        ({"x": [[True, {"y": {1: 2}}]]}, "$.x[0][1].y: expected ASCII string member names"),
        ({"n": -(2**53)}, "$.n: expected an integer within"),
    ],
)
def test_refusals_name_the_value(bad, message):
    with pytest.raises(CanonicalError) as refused:
        canonical_json(bad)
    assert str(refused.value).startswith(message)


def test_entry_frame_makes_the_bytes_of_encode_entry():
    # The writer frames a batch's entries with what they share joined once: the same bytes.
    time = datetime(2026, 12, 4, 23, 59, 59, 123456, tzinfo=UTC)
    frame = EntryFrame(canonical_json(ORIGIN), format_time(time))
    for index, kind, body in [
        (0, "note", {"text": "a"}),
        (1, "donation", {"amount": 10_000, "fund": "senyum-2026"}),
        (2, "note", {"text": 'b "quoted" \u00e9'}),
        (2**53 - 1, "note", {}),
    ]:
        prev = hashlib.sha256(b"%d" % index).digest()
        expected = encode_entry(
            origin=ORIGIN, index=index, prev_hash=prev, time=time, kind=kind, body=body
        )
        body_json = canonical_json(body)
        assert frame(index, prev, kind, body_json) == expected
        assert (
            entry_bytes(canonical_json(ORIGIN), index, prev, format_time(time), kind, body_json)
            == expected
        )
    with pytest.raises(CanonicalError, match="index"):
        frame(2**53, GENESIS_PREV_HASH, "note", b"{}")
    with pytest.raises(CanonicalError, match="at most 65535 bytes"):
        frame(0, GENESIS_PREV_HASH, "note", canonical_json({"t": "x" * 70_000}))


if __name__ == "__main__":
    VECTORS.write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {VECTORS}")
