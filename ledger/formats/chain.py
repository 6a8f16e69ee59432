"""The hash chain that links every entry to its predecessor.

``entry_hash = SHA-256(0x02 || prev_hash || leaf_hash)`` where ``leaf_hash`` is the RFC 9162
leaf hash of the entry's canonical bytes and ``prev_hash`` is the previous entry's
``entry_hash`` (32 zero bytes for entry 0). The 0x02 prefix keeps chain hashes apart from
RFC 9162's 0x00 (leaf) and 0x01 (node) hashes. The canonical bytes also carry ``prev``, so a
Merkle inclusion proof of an entry pins its place in the chain too.
"""

from __future__ import annotations

import hashlib

CHAIN_PREFIX = b"\x02"
GENESIS_PREV_HASH = bytes(32)


def entry_hash(prev_hash: bytes, leaf_hash: bytes) -> bytes:
    """Chain hash of an entry from its predecessor's chain hash and its own leaf hash."""
    return hashlib.sha256(CHAIN_PREFIX + prev_hash + leaf_hash).digest()
