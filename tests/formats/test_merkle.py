"""Tests of ledger.formats.merkle against golden vectors and a naive RFC 9162 §2.1 implementation."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import ConsistencyProofError, InclusionProofError, MalformedError
from ledger.formats.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    NodeId,
    consistency_nodes,
    consistency_proof,
    fold,
    inclusion_nodes,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_nodes,
    root_from_inclusion,
    root_from_nodes,
    root_nodes,
    verify_consistency,
    verify_inclusion,
)
from tests.conftest import GO_SUMDB

MAX_STORE = 2048


# --- a naive implementation written from the RFC text, over explicit leaf lists -------------


def naive_mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) of §2.1.1, literally."""
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:])).digest()


def naive_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of §2.1.3.1, literally."""
    n = len(d)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*naive_path(m, d[:k]), naive_mth(d[k:])]
    return [*naive_path(m - k, d[k:]), naive_mth(d[:k])]


def naive_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of §2.1.4.1, literally."""
    n = len(d)
    if m == n:
        return [] if b else [naive_mth(d)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*naive_subproof(m, d[:k], b), naive_mth(d[k:])]
    return [*naive_subproof(m - k, d[k:], False), naive_mth(d[:k])]


def naive_proof(m: int, d: list[bytes]) -> list[bytes]:
    return naive_subproof(m, d, True) if 0 < m < len(d) else []


# --- fixtures ------------------------------------------------------------------------------


def leaves(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


@cache
def store() -> dict[NodeId, bytes]:
    """Every complete node of the first MAX_STORE leaves, built only through CompactRange."""
    nodes: dict[NodeId, bytes] = {}
    cr = CompactRange()
    for i, data in enumerate(leaves(MAX_STORE)):
        h = leaf_hash(data)
        nodes[(0, i)] = h
        nodes.update(cr.append(h))
    return nodes


@cache
def mth(size: int) -> bytes:
    return naive_mth(leaves(size))


def b64(s: str) -> bytes:
    return base64.b64decode(s)


def only(ids: list[NodeId]) -> dict[NodeId, bytes]:
    """The store restricted to exactly the listed nodes: phase 2 must need nothing more."""
    return {n: store()[n] for n in ids}


def flip(h: bytes, bit: int) -> bytes:
    return h[: bit // 8] + bytes([h[bit // 8] ^ (1 << (bit % 8))]) + h[bit // 8 + 1 :]


# --- hashing -------------------------------------------------------------------------------


def test_hash_helpers() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert HASH_SIZE == 32
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    a, b = b"a" * 32, b"b" * 32
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()


def test_fold() -> None:
    a, b, c = (leaf_hash(bytes([i])) for i in range(3))
    assert fold([a]) == a
    assert fold([a, b, c]) == node_hash(a, node_hash(b, c))
    with pytest.raises(ValueError):
        fold([])


# --- range decomposition -------------------------------------------------------------------


def test_range_nodes_examples() -> None:
    assert root_nodes(0) == []
    assert root_nodes(1) == [(0, 0)]
    assert root_nodes(8) == [(3, 0)]
    assert root_nodes(13) == [(3, 0), (2, 2), (0, 12)]
    assert range_nodes(4, 7) == [(1, 2), (0, 6)]
    assert range_nodes(5, 5) == []
    for bad in [(-1, 3), (4, 3)]:
        with pytest.raises(ValueError):
            range_nodes(*bad)


def test_range_nodes_cover_and_fold_is_mth() -> None:
    data = leaves(130)
    for start in range(130):
        for end in range(start + 1, 131):
            ids = range_nodes(start, end)
            covered = [i for lv, ix in ids for i in range(ix << lv, (ix + 1) << lv)]
            assert covered == list(range(start, end))
            sizes = [1 << level for level, _ in ids]
            # When sizes strictly decrease (every range of the RFC recursion), fold is MTH.
            if all(x > y for x, y in pairwise(sizes)):
                assert fold([store()[n] for n in ids]) == naive_mth(data[start:end])


# --- roots ---------------------------------------------------------------------------------


def test_roots_match_naive_mth_and_compact_range() -> None:
    cr = CompactRange()
    for size in range(131):
        assert root_from_nodes(size, store()) == mth(size)
        assert root_from_nodes(size, only(root_nodes(size))) == mth(size)
        assert cr.root() == mth(size)
        assert cr.hashes == tuple(store()[n] for n in root_nodes(size))
        cr.append(leaf_hash(f"leaf {size}".encode()))


def test_go_sumdb_roots() -> None:
    roots = GO_SUMDB["roots"]
    assert [r["size"] for r in roots] == list(range(71))
    for r in roots:
        assert root_from_nodes(r["size"], store()) == b64(r["root"])


# --- golden vectors from Go's sumdb/tlog ---------------------------------------------------


def test_go_sumdb_inclusion() -> None:
    cases = GO_SUMDB["inclusion"]
    assert cases
    for case in cases:
        i, n, want = case["index"], case["size"], [b64(h) for h in case["proof"]]
        assert inclusion_proof(i, n, only(inclusion_nodes(i, n))) == want
        verify_inclusion(leaf_hash(f"leaf {i}".encode()), i, n, want, mth(n))


def test_go_sumdb_consistency() -> None:
    cases = GO_SUMDB["consistency"]
    assert cases
    for case in cases:
        m, n, want = case["old_size"], case["new_size"], [b64(h) for h in case["proof"]]
        assert consistency_proof(m, n, only(consistency_nodes(m, n))) == want
        verify_consistency(m, n, mth(m), mth(n), want)


# --- RFC 6962 vectors (certificate-transparency / transparency-dev merkle) -----------------

RFC6962_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
RFC6962_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    ],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
RFC6962_CONSISTENCY = {
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def rfc6962_store() -> tuple[dict[NodeId, bytes], list[bytes]]:
    nodes: dict[NodeId, bytes] = {}
    roots: list[bytes] = []
    cr = CompactRange()
    for i, data in enumerate(RFC6962_LEAVES):
        nodes[(0, i)] = leaf_hash(data)
        nodes.update(cr.append(leaf_hash(data)))
        roots.append(cr.root())
    return nodes, roots


def test_rfc6962_roots() -> None:
    nodes, roots = rfc6962_store()
    for size in range(1, 9):
        want = bytes.fromhex(RFC6962_ROOTS[size - 1])
        assert naive_mth(RFC6962_LEAVES[:size]) == want
        assert root_from_nodes(size, nodes) == want
        assert roots[size - 1] == want


def test_rfc6962_proofs() -> None:
    nodes, _ = rfc6962_store()
    root = {n: naive_mth(RFC6962_LEAVES[:n]) for n in range(1, 9)}
    for (i, n), hexes in RFC6962_INCLUSION.items():
        want = [bytes.fromhex(h) for h in hexes]
        assert inclusion_proof(i, n, nodes) == want
        verify_inclusion(leaf_hash(RFC6962_LEAVES[i]), i, n, want, root[n])
    for (m, n), hexes in RFC6962_CONSISTENCY.items():
        want = [bytes.fromhex(h) for h in hexes]
        assert consistency_proof(m, n, nodes) == want
        verify_consistency(m, n, root[m], root[n], want)


# --- exhaustive cross-check against the naive implementation -------------------------------

CROSS_MAX = 70


def test_inclusion_matches_naive_and_verifies() -> None:
    for n in range(1, CROSS_MAX + 1):
        d = leaves(n)
        for i in range(n):
            ids = inclusion_nodes(i, n)
            assert len(ids) == len(set(ids))
            proof = inclusion_proof(i, n, only(ids))
            assert proof == naive_path(i, d)
            assert root_from_inclusion(leaf_hash(d[i]), i, n, proof) == mth(n)
            verify_inclusion(leaf_hash(d[i]), i, n, proof, mth(n))


def test_consistency_matches_naive_and_verifies() -> None:
    for n in range(0, CROSS_MAX + 1):
        d = leaves(n)
        for m in range(0, n + 1):
            ids = consistency_nodes(m, n)
            assert len(ids) == len(set(ids))
            proof = consistency_proof(m, n, only(ids))
            assert proof == naive_proof(m, d)
            verify_consistency(m, n, mth(m), mth(n), proof)


def test_node_functions_reject_bad_arguments() -> None:
    for i, n in [(0, 0), (3, 3), (-1, 3)]:
        with pytest.raises(ValueError):
            inclusion_nodes(i, n)
    for m, n in [(4, 3), (-1, 3)]:
        with pytest.raises(ValueError):
            consistency_nodes(m, n)
    with pytest.raises(KeyError):
        inclusion_proof(3, 8, only(inclusion_nodes(3, 8)[1:]))


# --- negative vectors ----------------------------------------------------------------------

NEG_SIZES = [1, 2, 3, 5, 7, 8, 9, 13, 16, 31, 33, 64, 70]


def test_inclusion_rejects_tampering() -> None:
    for n in NEG_SIZES:
        for i in sorted({0, 1 % n, n // 2, n - 1}):
            leaf = leaf_hash(f"leaf {i}".encode())
            proof = inclusion_proof(i, n, store())
            root = mth(n)
            bad: list[tuple[bytes, int, int, list[bytes], bytes]] = [
                (leaf_hash(b"not a leaf"), i, n, proof, root),
                (leaf, i, n, proof, flip(root, 0)),
                (leaf, i, n, proof, mth(n + 1)),
                (leaf, i, n, [*proof, proof[-1] if proof else root], root),
                (leaf, n, n, proof, root),
                (leaf, -1, n, proof, root),
            ]
            # The size only sets the proof's shape; the root, signed with the size in a
            # checkpoint, is what binds it. So a wrong size must fail against its own root.
            for other in (n - 1, n + 1):
                if i < other and inclusion_proof(i, other, store()) != proof:
                    bad.append((leaf, i, other, proof, mth(other)))
            if i + 1 < n:
                bad.append((leaf, i + 1, n, proof, root))
            if i > 0:
                bad.append((leaf, i - 1, n, proof, root))
            if proof:
                bad.append((leaf, i, n, proof[:-1], root))
                bad.append((leaf, i, n, proof[1:], root))
            for k in range(len(proof)):
                for bit in (0, 131, 255):
                    tampered = [*proof]
                    tampered[k] = flip(proof[k], bit)
                    bad.append((leaf, i, n, tampered, root))
            for args in bad:
                with pytest.raises(InclusionProofError):
                    verify_inclusion(*args)


def test_inclusion_error_messages() -> None:
    proof = inclusion_proof(3, 8, store())
    with pytest.raises(InclusionProofError, match=r"expected root \S+, computed \S+"):
        verify_inclusion(leaf_hash(b"x"), 3, 8, proof, mth(8))
    with pytest.raises(InclusionProofError, match="expected an inclusion proof of 3 hashes"):
        verify_inclusion(leaf_hash(b"leaf 3"), 3, 8, proof[:2], mth(8))
    with pytest.raises(MalformedError):
        verify_inclusion(b"leaf 3", 3, 8, proof, mth(8))
    with pytest.raises(MalformedError):
        verify_inclusion(leaf_hash(b"leaf 3"), 3, 8, [*proof[:2], b"short"], mth(8))
    with pytest.raises(MalformedError):
        verify_inclusion(leaf_hash(b"leaf 3"), 3, 8, proof, mth(8)[:31])


def test_consistency_rejects_tampering() -> None:
    pairs = [(m, n) for n in NEG_SIZES for m in sorted({1, n // 3, n // 2, n - 1, n}) if m >= 1]
    for m, n in pairs:
        proof = consistency_proof(m, n, store())
        old, new = mth(m), mth(n)
        bad: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
            (m, n, new, old, proof) if old != new else (m, n, old, flip(new, 7), proof),
            (m, n, flip(old, 3), new, proof),
            (m, n, old, flip(new, 200), proof),
            (m, n, old, new, [*proof, proof[-1] if proof else old]),
            (n, m, new, old, proof) if m != n else (m, n + 1, old, new, proof),
            (m, n + 1, old, mth(n + 1), proof),
        ]
        if m > 1:
            bad.append((m - 1, n, mth(m - 1), new, proof))
        if proof:
            bad.append((m, n, old, new, proof[:-1]))
            bad.append((m, n, old, new, proof[1:]))
        for k in range(len(proof)):
            for bit in (0, 100, 255):
                tampered = [*proof]
                tampered[k] = flip(proof[k], bit)
                bad.append((m, n, old, new, tampered))
        for args in bad:
            with pytest.raises(ConsistencyProofError):
                verify_consistency(*args)


def test_consistency_edge_cases() -> None:
    some = leaf_hash(b"x")
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 5, EMPTY_ROOT, mth(5), [])
    verify_consistency(5, 5, mth(5), mth(5), [])
    with pytest.raises(ConsistencyProofError, match="expected a consistency proof of 0 hashes"):
        verify_consistency(5, 5, mth(5), mth(5), [some])
    with pytest.raises(ConsistencyProofError):
        verify_consistency(0, 5, EMPTY_ROOT, mth(5), [some])
    with pytest.raises(ConsistencyProofError):
        verify_consistency(0, 5, some, mth(5), [])
    with pytest.raises(ConsistencyProofError, match="expected equal roots"):
        verify_consistency(5, 5, mth(5), mth(4), [])
    with pytest.raises(ConsistencyProofError, match="expected 0 <= old_size <= new_size"):
        verify_consistency(6, 5, mth(6), mth(5), [])
    with pytest.raises(ConsistencyProofError):
        verify_consistency(-1, 5, mth(0), mth(5), [])
    with pytest.raises(ConsistencyProofError, match=r"expected new root \S+, computed \S+"):
        verify_consistency(3, 7, mth(3), mth(6), consistency_proof(3, 7, store()))
    short_first = [b"\x00" * 31, *consistency_proof(3, 7, store())[1:]]
    with pytest.raises(MalformedError):
        verify_consistency(3, 7, mth(3), mth(7), short_first)


# --- CompactRange --------------------------------------------------------------------------


def test_compact_range_resumes_at_any_size() -> None:
    for size in range(0, 100):
        cr = CompactRange(size, [store()[n] for n in root_nodes(size)])
        assert cr.size == size
        assert cr.root() == mth(size)
        for extra in range(1, 20):
            completed = cr.append(leaf_hash(f"leaf {size + extra - 1}".encode()))
            assert [level for (level, _), _ in completed] == list(range(1, len(completed) + 1))
            for node, h in completed:
                assert store()[node] == h
            assert cr.size == size + extra
            assert cr.root() == mth(size + extra)


def test_compact_range_extend_is_append_in_order() -> None:
    # A writer's batch in one call: the same nodes, in the same order, and the same edge.
    for size in (0, 1, 5, 63, 64, 100):
        for count in (0, 1, 2, 7, 64):
            leaves = [leaf_hash(f"leaf {size + k}".encode()) for k in range(count)]
            one = CompactRange(size, [store()[n] for n in root_nodes(size)])
            many = one.copy()
            appended = [node for leaf in leaves for node in one.append(leaf)]
            assert many.extend(leaves) == appended
            assert many == one and many.size == size + count
            assert many.root() == mth(size + count)
    edge = CompactRange(3, [store()[(1, 0)], store()[(0, 2)]])
    with pytest.raises(MalformedError):  # checked before anything is appended
        edge.extend([leaf_hash(b"leaf 3"), b"short"])
    assert edge.size == 3 and edge.root() == mth(3)


def test_compact_range_copy_and_validation() -> None:
    cr = CompactRange(5, [store()[(2, 0)], store()[(0, 4)]])
    twin = cr.copy()
    assert twin == cr
    twin.append(leaf_hash(b"leaf 5"))
    assert cr.size == 5
    assert twin.root() == mth(6)
    assert twin != cr
    assert CompactRange().root() == EMPTY_ROOT
    with pytest.raises(MalformedError):
        CompactRange(5, [store()[(2, 0)]])
    with pytest.raises(MalformedError):
        CompactRange(1, [b"short"])
    with pytest.raises(MalformedError):
        CompactRange().append(b"leaf 0")
    with pytest.raises(ValueError):
        CompactRange(-1)


# --- properties over larger trees ----------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n - 1), st.just(n))))
def test_property_inclusion(case: tuple[int, int]) -> None:
    i, n = case
    root = root_from_nodes(n, store())
    proof = inclusion_proof(i, n, only(inclusion_nodes(i, n)))
    verify_inclusion(store()[(0, i)], i, n, proof, root)
    assert len(proof) <= n.bit_length()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_property_consistency(case: tuple[int, int]) -> None:
    m, n = case
    proof = consistency_proof(m, n, only(consistency_nodes(m, n)))
    verify_consistency(m, n, root_from_nodes(m, store()), root_from_nodes(n, store()), proof)
    assert len(proof) <= 2 * n.bit_length()
