"""Merkle tree hashing and proofs of RFC 9162 section 2.1 (the same hashing as RFC 6962).

A log of n entries is summarized by its Merkle Tree Hash MTH(D[n]) (§2.1.1). Leaf and interior
hashes are SHA-256 over distinct one-byte prefixes, so a leaf can never pass for a node.

Nodes are named by `NodeId = (level, index)`: the hash of the complete subtree of 2**level
leaves covering leaves [index << level, (index + 1) << level). Level 0 nodes are leaf hashes.
The storage layer keeps every complete node. Every proof is computed in two phases that agree
exactly: `*_nodes` says which O(log n) stored nodes are needed, then the function of the same
name without `_nodes` computes the result from a mapping that holds at least those nodes.

`verify_inclusion` and `verify_consistency` follow the verification algorithms of §2.1.3.2 and
§2.1.4.2 step by step. They return None on success and raise otherwise.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence

from ledger.errors import ConsistencyProofError, InclusionProofError, MalformedError

# --- hashing (§2.1.1) ----------------------------------------------------------------------

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Return MTH({d(0)}) = SHA-256(0x00 || data), the hash of one leaf."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right), the hash of an interior node."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


NodeId = tuple[int, int]

# --- which nodes make up a range -----------------------------------------------------------


def _largest_power_of_two_below(n: int) -> int:
    """Return the k of §2.1.1: the largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_size(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"expected {name} >= 0, got {value}")


def range_nodes(start: int, end: int) -> list[NodeId]:
    """Split leaves [start, end) into maximal aligned complete subtrees, left to right.

    Each node is the largest one that starts where the previous ended and does not pass `end`.
    For every range the RFC recursion produces ([0, n), and each D[a:b] of MTH, PATH and PROOF)
    the sizes strictly decrease, and `fold` of these nodes' hashes is MTH(D[start:end]).
    """
    if not 0 <= start <= end:
        raise ValueError(f"expected 0 <= start <= end, got start={start}, end={end}")
    nodes: list[NodeId] = []
    while start < end:
        # Largest level the start is aligned to, capped so the subtree fits in the range.
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length()
        while start + (1 << level) > end:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """Return the hash of a range from the hashes of its `range_nodes`, left to right.

    The subtrees shrink to the right, so MTH joins the last two first: a right fold.
    An empty range has no hash here (only the whole empty tree has one, see `root_from_nodes`).
    """
    if not hashes:
        raise ValueError("expected at least one hash to fold, got none")
    h = hashes[-1]
    for x in reversed(hashes[:-1]):
        h = node_hash(x, h)
    return h


def _fold_range(start: int, end: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    return fold([nodes[n] for n in range_nodes(start, end)])


def _nodes_of_ranges(ranges: list[tuple[int, int]]) -> list[NodeId]:
    """The range_nodes of every range, in order, each node once."""
    return list(dict.fromkeys(n for a, b in ranges for n in range_nodes(a, b)))


# --- tree heads (§2.1.1) -------------------------------------------------------------------


def root_nodes(size: int) -> list[NodeId]:
    """Return the nodes whose fold is the root of a tree of `size` leaves (none for size 0)."""
    return range_nodes(0, size)


def root_from_nodes(size: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """Return MTH(D[size]) from a mapping holding at least `root_nodes(size)`.

    The empty tree's root is EMPTY_ROOT, SHA-256 of the empty string. A missing node raises
    KeyError.
    """
    _check_size("size", size)
    return _fold_range(0, size, nodes) if size else EMPTY_ROOT


# --- inclusion proofs (§2.1.3) -------------------------------------------------------------


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTH make up PATH(index, D[size]), leaf's sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"expected 0 <= index < size, got index={index}, size={size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index < lo + k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            ranges.append((lo + k, hi))
            hi = lo + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def inclusion_nodes(index: int, size: int) -> list[NodeId]:
    """Return every node `inclusion_proof(index, size, ...)` reads, in the order it reads them."""
    return _nodes_of_ranges(_inclusion_ranges(index, size))


def inclusion_proof(index: int, size: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Return PATH(index, D[size]) of §2.1.3.1: leaf's sibling first, up to the root's child.

    `nodes` must hold at least `inclusion_nodes(index, size)`; a missing node raises KeyError.
    """
    return [_fold_range(a, b, nodes) for a, b in _inclusion_ranges(index, size)]


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode("ascii")


def _check_hash(what: str, h: bytes) -> None:
    if len(h) != HASH_SIZE:
        raise MalformedError(f"expected {what} of {HASH_SIZE} bytes, got {len(h)} bytes")


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Return the root that an inclusion proof leads to, by the algorithm of §2.1.3.2.

    `leaf` is the leaf's hash (`leaf_hash(data)`), not its data. Raises InclusionProofError if
    the index is out of range or the proof has the wrong number of hashes, MalformedError if a
    hash is not HASH_SIZE bytes. Comparing the result with a trusted root is up to the caller.
    """
    _check_hash("leaf hash", leaf)
    for p in proof:
        _check_hash("proof hash", p)
    if not 0 <= index < size:
        raise InclusionProofError(f"expected 0 <= index < size, got index={index}, size={size}")
    wrong_length = InclusionProofError(
        f"expected an inclusion proof of {len(_inclusion_ranges(index, size))} hashes for index "
        f"{index} in a tree of {size}, got {len(proof)}"
    )
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise wrong_length
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise wrong_length
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that leaf hash `leaf` is entry `index` of the tree of `size` leaves with `root`.

    Returns None if it is; raises InclusionProofError if not, MalformedError if a hash is not
    HASH_SIZE bytes.
    """
    _check_hash("root", root)
    computed = root_from_inclusion(leaf, index, size, proof)
    if computed != root:
        raise InclusionProofError(
            f"expected root {_b64(root)}, computed {_b64(computed)} from the inclusion proof "
            f"of index {index} in a tree of {size}"
        )


# --- consistency proofs (§2.1.4) -----------------------------------------------------------


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTH make up PROOF(old_size, D[new_size]), in proof order."""
    _check_size("old_size", old_size)
    if old_size > new_size:
        raise ValueError(f"expected old_size <= new_size, got {old_size} > {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    m, lo, hi, whole = old_size, 0, new_size, True
    while m != hi - lo:  # SUBPROOF(m, D[lo:hi], whole) with m < hi - lo
        k = _largest_power_of_two_below(hi - lo)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            ranges.append((lo + k, hi))
            hi = lo + k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            ranges.append((lo, lo + k))
            m, lo, whole = m - k, lo + k, False
    if not whole:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def consistency_nodes(old_size: int, new_size: int) -> list[NodeId]:
    """Return every node `consistency_proof(old_size, new_size, ...)` reads, in read order."""
    return _nodes_of_ranges(_consistency_ranges(old_size, new_size))


def consistency_proof(old_size: int, new_size: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Return PROOF(old_size, D[new_size]) of §2.1.4.1.

    Empty when old_size == new_size or old_size == 0. `nodes` must hold at least
    `consistency_nodes(old_size, new_size)`; a missing node raises KeyError.
    """
    return [_fold_range(a, b, nodes) for a, b in _consistency_ranges(old_size, new_size)]


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of `new_size` with `new_root` extends the one of `old_size`.

    Follows §2.1.4.2. Equal sizes need an empty proof and equal roots; old_size 0 needs an empty
    proof and old_root EMPTY_ROOT. Returns None if consistent; raises ConsistencyProofError if
    not, MalformedError if a hash is not HASH_SIZE bytes.
    """
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    for c in proof:
        _check_hash("proof hash", c)
    if not 0 <= old_size <= new_size:
        raise ConsistencyProofError(
            f"expected 0 <= old_size <= new_size, got old_size={old_size}, new_size={new_size}"
        )
    expected = len(_consistency_ranges(old_size, new_size))
    wrong_length = ConsistencyProofError(
        f"expected a consistency proof of {expected} hashes from {old_size} to {new_size}, "
        f"got {len(proof)}"
    )
    if expected == 0 and proof:  # step 1 of §2.1.4.2 covers only a proof that is too short
        raise wrong_length
    if old_size == new_size:
        if old_root != new_root:
            raise ConsistencyProofError(
                f"expected equal roots for equal sizes {old_size}, got old root "
                f"{_b64(old_root)} and new root {_b64(new_root)}"
            )
        return
    if old_size == 0:
        if old_root != EMPTY_ROOT:
            raise ConsistencyProofError(
                f"expected old root {_b64(EMPTY_ROOT)} for size 0, got {_b64(old_root)}"
            )
        return
    if not proof:
        raise wrong_length
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old tree is a node of the new
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise wrong_length
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise wrong_length
    if fr != old_root:
        raise ConsistencyProofError(
            f"expected old root {_b64(old_root)}, computed {_b64(fr)} from the consistency proof "
            f"from {old_size} to {new_size}"
        )
    if sr != new_root:
        raise ConsistencyProofError(
            f"expected new root {_b64(new_root)}, computed {_b64(sr)} from the consistency proof "
            f"from {old_size} to {new_size}"
        )


# --- the right edge of a growing tree --------------------------------------------------------


class CompactRange:
    """The right edge of a growing tree: the hashes of root_nodes(size), at most log2(n)+1 of them.

    Lets a writer append leaves and know the root without reading the tree. Invariant: `hashes`
    are the hashes of `root_nodes(size)`, left to right, one per set bit of `size`.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Resume from a tree of `size` leaves; `hashes` are those of root_nodes(size)."""
        _check_size("size", size)
        expected = size.bit_count()
        if len(hashes) != expected:
            raise MalformedError(
                f"expected {expected} hashes for a compact range of size {size}, got {len(hashes)}"
            )
        for h in hashes:
            _check_hash("compact range hash", h)
        self._size = size
        self._hashes = list(hashes)

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Hashes of root_nodes(size), left to right."""
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        """Append one leaf hash; return the nodes of level >= 1 it completed, lowest first.

        The leaf's own node, (0, old size), is not returned; the caller has its hash.
        """
        return self.extend((leaf,))

    def extend(self, leaves: Sequence[bytes]) -> list[tuple[NodeId, bytes]]:
        """``append`` each of ``leaves`` in order; the nodes of level >= 1 they completed, in
        the order ``append`` would have returned them (a writer's batch in one call)."""
        for leaf in leaves:
            _check_hash("leaf hash", leaf)
        hashes, index, sha256 = self._hashes, self._size, hashlib.sha256
        completed: list[tuple[NodeId, bytes]] = []
        for leaf in leaves:
            h, level = leaf, 0
            while (index >> level) & 1:  # a complete left sibling at this level: merge with it
                h = sha256(NODE_PREFIX + hashes.pop() + h).digest()  # node_hash
                level += 1
                completed.append(((level, index >> level), h))
            hashes.append(h)
            index += 1
        self._size = index
        return completed

    def root(self) -> bytes:
        """Return MTH of the leaves appended so far; EMPTY_ROOT when there are none."""
        return fold(self._hashes) if self._hashes else EMPTY_ROOT

    def copy(self) -> CompactRange:
        """Return an independent copy; appending to one does not change the other."""
        return CompactRange(self._size, self._hashes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={_b64(self.root())})"
