"""The reads of ``ledger verify`` (``ledger.verify.stored``, ``ledger.verify.derivation``).

Verification executes no SQL of its own: every statement it needs is a named query in
sql/queries.sql, run from here. The functions return asyncpg records (or values) as the
queries give them; the verifier compares them with what the log's bytes say.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from asyncpg.cursor import CursorFactory

from ledger.store.log import Q

# --- the log: entries, Merkle nodes, checkpoints ------------------------------------------


def entries_cursor(conn: asyncpg.Connection, org_id: int, start: int, end: int) -> CursorFactory:
    """Entries [start, end) in index order: (idx, body, prev_hash, entry_hash, leaf_hash,
    kind, created_at); iterate inside a transaction."""
    return conn.cursor(Q["verify_entries"], org_id, start, end)


async def entry_chunks(
    conn: asyncpg.Connection, org_id: int, start: int, end: int, rows: int
) -> AsyncIterator[list[asyncpg.Record]]:
    """Entries [start, end) in index order, ``rows`` at a time (the rows of
    :func:`entries_cursor`); iterate inside a transaction. The caller may run other queries
    on ``conn`` between chunks."""
    cursor = await entries_cursor(conn, org_id, start, end)
    while chunk := await cursor.fetch(rows):
        yield chunk


async def read_in_index_order(conn: asyncpg.Connection) -> None:
    """Inside the verifier's range transaction: read index ranges by index scans (see the
    query's comment in sql/queries.sql)."""
    await conn.execute(Q["verify_index_order"])


async def copy_entries(
    conn: asyncpg.Connection,
    org_id: int,
    start: int,
    end: int,
    sink: Callable[[bytes], Awaitable[None]],
) -> None:
    """Entries [start, end) in index order, the columns of :func:`entries_cursor`, as a
    binary COPY stream handed to ``sink`` piece by piece (``ledger.verify._entrywalk``)."""
    await conn.copy_from_query(
        _VERIFY_ENTRIES, org_id, start, end, output=sink, format="binary"
    )


_VERIFY_ENTRIES = Q["verify_entries"].strip().rstrip(";")
"""The same SELECT as the cursor's, inside ``COPY (...) TO STDOUT``."""


async def entry_hash_at(conn: asyncpg.Connection, org_id: int, index: int) -> bytes | None:
    return await conn.fetchval(Q["entry_hash_at"], org_id, index)


async def node_digests(
    conn: asyncpg.Connection, org_id: int, start: int, end: int, level: int
) -> list[asyncpg.Record]:
    """Per level, the count and digest of the stored nodes inside leaves [start, end)."""
    return await conn.fetch(Q["node_digests"], org_id, start, end, level)


async def successor_commitment(conn: asyncpg.Connection, org_id: int, last: int) -> asyncpg.Record:
    """The prev_hash of entry ``last + 1`` and the head's hash (``next_prev``, ``head_hash``)."""
    return await conn.fetchrow(Q["successor_commitment"], org_id, last)


async def first_node_mismatch(
    conn: asyncpg.Connection, org_id: int, nodes: Sequence[tuple[int, int, bytes]]
) -> tuple[int, int] | None:
    """The first stored node (level, index) that differs from ``nodes`` or is extra."""
    row = await conn.fetchrow(
        Q["nodes_mismatching"],
        org_id,
        [n[0] for n in nodes],
        [n[1] for n in nodes],
        [n[2] for n in nodes],
    )
    return (row["level"], row["idx"]) if row else None


async def count_nodes_within(conn: asyncpg.Connection, org_id: int, size: int) -> int:
    return await conn.fetchval(Q["count_nodes_within"], org_id, size)


async def max_index(conn: asyncpg.Connection, org_id: int) -> int | None:
    return await conn.fetchval(Q["max_index"], org_id)


async def max_checkpoint(conn: asyncpg.Connection, org_id: int) -> int | None:
    return await conn.fetchval(Q["max_checkpoint"], org_id)


# --- projections: per-entry rows of a range -----------------------------------------------


async def money_rows(conn: asyncpg.Connection, org_id: int, start: int, end: int) -> list[Any]:
    """(index, kind, fund, counterparty, currency, amount, reference) of non-correction
    money rows of entries [start, end), in index order."""
    return await conn.fetch(Q["verify_money_rows"], org_id, start, end)


async def posting_rows(conn: asyncpg.Connection, org_id: int, start: int, end: int) -> list[Any]:
    """(index, account, currency, amount) of entries [start, end), in order."""
    return await conn.fetch(Q["verify_postings"], org_id, start, end)


async def correction_rows(conn: asyncpg.Connection, org_id: int, start: int, end: int) -> list[Any]:
    return await conn.fetch(Q["verify_corrections"], org_id, start, end)


async def fund_rows(conn: asyncpg.Connection, org_id: int, start: int, end: int) -> list[Any]:
    return await conn.fetch(Q["verify_funds"], org_id, start, end)


async def beneficiary_rows(
    conn: asyncpg.Connection, org_id: int, start: int, end: int
) -> list[Any]:
    return await conn.fetch(Q["verify_beneficiaries"], org_id, start, end)


async def copied_rows(
    conn: asyncpg.Connection, query: str, org_id: int, start: int, end: int
) -> bytes:
    """The rows of one of ``verify_money_rows``, ``verify_postings``, ``verify_value_dates``
    for entries [start, end) as binary COPY bytes (compared in C, ``ledger.verify.native``)."""
    parts: list[bytes] = []

    async def sink(data: bytes) -> None:
        parts.append(data)

    await conn.copy_from_query(_COPYABLE[query], org_id, start, end, output=sink, format="binary")
    return b"".join(parts)


_COPYABLE = {
    name: Q[name].strip().rstrip(";")
    for name in ("verify_money_rows", "verify_postings", "verify_value_dates")
}


async def value_date_rows(conn: asyncpg.Connection, org_id: int, start: int, end: int) -> list[Any]:
    """(index, value_on) of the value_dates rows of entries [start, end) (migration 0014)."""
    return await conn.fetch(Q["verify_value_dates"], org_id, start, end)


async def money_entries_at(
    conn: asyncpg.Connection, org_id: int, indexes: Sequence[int]
) -> list[asyncpg.Record]:
    return await conn.fetch(Q["money_entries_at"], org_id, list(indexes))


async def postings_at(
    conn: asyncpg.Connection, org_id: int, indexes: Sequence[int]
) -> list[asyncpg.Record]:
    return await conn.fetch(Q["postings_of"], org_id, list(indexes))


# --- projections: the whole log -----------------------------------------------------------


async def projection_max_index(conn: asyncpg.Connection, org_id: int) -> int | None:
    """The newest entry that any per-entry projection row names."""
    return await conn.fetchval(Q["projection_max_index"], org_id)


async def corrected_rows(conn: asyncpg.Connection, org_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(Q["verify_corrected_rows"], org_id)


async def all_balances(conn: asyncpg.Connection, org_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(Q["all_balances"], org_id)


async def all_fund_totals(conn: asyncpg.Connection, org_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(Q["all_fund_totals"], org_id)


async def org_settings_row(conn: asyncpg.Connection, org_id: int) -> asyncpg.Record | None:
    """The stored org_settings row (time_zone, books_open, entry_idx), or None."""
    return await conn.fetchrow(Q["verify_org_settings"], org_id)
