"""Shared rate-limit counters (``ledger.http.ratelimit``; migrations 0006 and 0015).

Each worker process counts locally and adds its counts here about every 100 ms, reading
back the totals of the window. Keys are counted in ``rate_limit_counts``; requests without a
valid API key per client address in ``rate_limit_addresses``, whose rows are deleted once
their window has passed (the address is kept only while its window is current).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from ledger.store.log import Q


async def add_key_counts(
    conn: asyncpg.Connection, window_start: datetime, counts: Sequence[tuple[UUID, int]]
) -> dict[UUID, int]:
    """Add ``counts`` (sorted by key) to the window's shared counters; the totals by key."""
    rows = await conn.fetch(
        Q["rate_limit_add"], window_start, [k for k, _ in counts], [n for _, n in counts]
    )
    return {r["key_id"]: r["hits"] for r in rows}


async def add_address_counts(
    conn: asyncpg.Connection, window_start: datetime, counts: Sequence[tuple[str, int]]
) -> dict[str, int]:
    """Add ``counts`` (sorted by address) to the window's shared counters; the totals."""
    rows = await conn.fetch(
        Q["rate_limit_add_addresses"],
        window_start,
        [a for a, _ in counts],
        [n for _, n in counts],
    )
    return {r["address"]: r["hits"] for r in rows}


async def prune_key_counts(conn: asyncpg.Connection, before: datetime) -> None:
    await conn.execute(Q["rate_limit_prune"], before)


async def prune_address_counts(conn: asyncpg.Connection, before: datetime) -> None:
    """Delete the address counts of every window that starts before ``before``."""
    await conn.execute(Q["rate_limit_prune_addresses"], before)
