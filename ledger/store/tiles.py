"""The stored hashes and entry bodies that c2sp.org/tlog-tiles resources are cut from:
ranges of one tree level, or of the entries' canonical bytes, in index order."""

from __future__ import annotations

import asyncpg

from ledger.store.log import Q


async def bodies_range(conn: asyncpg.Connection, org_id: int, start: int, end: int) -> list[bytes]:
    """The canonical bytes of the stored entries ``start <= idx < end``, in order."""
    return [r["body"] for r in await conn.fetch(Q["bodies_range"], org_id, start, end)]


async def leaf_hashes_range(
    conn: asyncpg.Connection, org_id: int, start: int, end: int
) -> list[bytes]:
    """The leaf hashes (tree level 0) of the stored entries ``start <= idx < end``, in order."""
    return [r["leaf_hash"] for r in await conn.fetch(Q["leaf_hashes_range"], org_id, start, end)]


async def node_hashes_range(
    conn: asyncpg.Connection, org_id: int, level: int, start: int, end: int
) -> list[bytes]:
    """The stored Merkle node hashes of tree ``level`` (above 0) with ``start <= idx < end``,
    in order."""
    rows = await conn.fetch(Q["node_hashes_range"], org_id, level, start, end)
    return [r["hash"] for r in rows]
