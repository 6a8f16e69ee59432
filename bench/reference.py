"""The machine's own limit for durable inserts, measured in the same run as the ledger.

Issue 19 judges the append path against what this PostgreSQL, on this machine, does with
no ledger at all: ``clients`` connections, each inserting entry-sized rows (an index, a
~300-byte body and three 32-byte hashes, under a primary key, like ``entries``) in
transactions of ``rows_per_txn`` rows, committed durably (``synchronous_commit = on``, the
server's fsync setting as the ledger gets it). A transaction of several rows is one
``INSERT … SELECT FROM unnest(…)`` and its commit: the fewest round trips a client can
make. No trigger, no check, no hash computed: a ceiling, not a competitor.

``python -m bench.run --only reference`` runs it alone; ``bench.run`` runs it before the
append benchmarks and reports their figures as ratios of it.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import asyncpg

BODY = 300
"""Bytes of each row's body: an entry's canonical bytes are about this long."""
TABLE = "bench_reference_rows"


async def _setup(conn: asyncpg.Connection) -> None:
    await conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    await conn.execute(
        f"""CREATE TABLE {TABLE} (
            client  integer NOT NULL,
            seq     bigint NOT NULL,
            body    bytea NOT NULL,
            h1      bytea NOT NULL,
            h2      bytea NOT NULL,
            h3      bytea NOT NULL,
            PRIMARY KEY (client, seq)
        )"""
    )


async def measure(
    db_url: str, clients: int, rows_per_txn: int, warmup: float, duration: float
) -> dict[str, Any]:
    """Rows per second committed by ``clients`` connections in transactions of
    ``rows_per_txn`` rows (after ``warmup`` seconds), over ``duration`` seconds."""
    admin = await asyncpg.connect(db_url)
    try:
        await _setup(admin)
        synchronous = await admin.fetchval("SHOW synchronous_commit")
        fsync = await admin.fetchval("SHOW fsync")
    finally:
        await admin.close()
    conns = [await asyncpg.connect(db_url) for _ in range(clients)]
    body, digest = os.urandom(BODY), os.urandom(32)
    insert = (
        f"INSERT INTO {TABLE} (client, seq, body, h1, h2, h3) "
        "SELECT $1, s, $3, $4, $4, $4 FROM unnest($2::bigint[]) AS s"
    )
    counts = [0] * clients
    following = [0] * clients
    """Each client's next row number (the primary key never repeats)."""
    latencies: list[float] = []
    phase = {"measuring": False}

    async def client(i: int, until: float) -> None:
        conn = conns[i]
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            seq = following[i]
            following[i] = seq + rows_per_txn
            async with conn.transaction():
                await conn.execute(insert, i, list(range(seq, seq + rows_per_txn)), body, digest)
            if phase["measuring"]:
                counts[i] += rows_per_txn
                latencies.append(time.perf_counter() - t0)

    try:
        until = time.perf_counter() + warmup
        await asyncio.gather(*(client(i, until) for i in range(clients)))
        counts[:] = [0] * clients
        phase["measuring"] = True
        started = time.perf_counter()
        await asyncio.gather(
            *(client(i, started + duration) for i in range(clients))
        )
        elapsed = time.perf_counter() - started
    finally:
        for conn in conns:
            await conn.close()
        admin = await asyncpg.connect(db_url)
        try:
            await admin.execute(f"DROP TABLE IF EXISTS {TABLE}")
        finally:
            await admin.close()
    latencies.sort()
    rows = sum(counts)
    return {
        "clients": clients,
        "rows_per_txn": rows_per_txn,
        "rows": rows,
        "seconds": elapsed,
        "rows_per_s": rows / elapsed,
        "txn_p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else None,
        "txn_p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else None,
        "synchronous_commit": synchronous,
        "fsync": fsync,
    }
