"""The floor under ``ledger verify``: read what it reads, the way it reads it, check nothing.

``python -m bench.verify_floor DATABASE_URL ORG_ID [WORKERS]`` (run by ``bench.run``'s verify
benchmark on the same log, right after ``verify_log``; prints one JSON object). Each worker
process takes ranges of the log as ``ledger verify`` cuts them and, on one connection as
``ledger_reader``, in the same read-only transaction per range:

* streams the entries by binary COPY, 8,192 at a time (``audit.copy_entries``), and the
  chunk's money rows, posting lines and value dates by binary COPY (``audit.copied_rows``),
  and the other projection rows through the same queries (corrections, funds, beneficiary
  versions);
* and drops every byte: no hashing, no decoding, no comparison.

So ``entries / seconds`` is what PostgreSQL and asyncpg alone allow on this machine with this
schema; ``verify_log``'s rate divided by it says how much the checks themselves cost (the C
entry loop's hashing and checks, the re-derived projection rows in Python, the comparisons).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import asyncpg

from ledger.store import audit
from ledger.store.database import READER_ROLE
from ledger.verify.stored import FETCH_ROWS, RANGE_LEVEL

_COPIED = ("verify_money_rows", "verify_postings", "verify_value_dates")
_FETCHED = (audit.correction_rows, audit.fund_rows, audit.beneficiary_rows)


async def _read(url: str, org_id: int, ranges: list[tuple[int, int]]) -> int:
    conn = await asyncpg.connect(url, server_settings={"role": READER_ROLE})
    read = 0

    async def drop(data: bytes) -> None:
        return None

    try:
        for start, end in ranges:
            async with conn.transaction(readonly=True, isolation="repeatable_read"):
                await audit.read_in_index_order(conn)
                for a in range(start, end, FETCH_ROWS):
                    b = min(a + FETCH_ROWS, end)
                    await audit.copy_entries(conn, org_id, a, b, drop)
                    for query in _COPIED:
                        await audit.copied_rows(conn, query, org_id, a, b)
                    for fetch in _FETCHED:
                        await fetch(conn, org_id, a, b)
            read += end - start
    finally:
        await conn.close()
    return read


def _worker(url: str, org_id: int, ranges: list[tuple[int, int]]) -> int:
    return asyncio.run(_read(url, org_id, ranges))


def floor(url: str, org_id: int, size: int, workers: int) -> dict[str, float]:
    span = 1 << RANGE_LEVEL
    bounds = [(a, min(a + span, size)) for a in range(0, size, span)]
    shares = [bounds[w::workers] for w in range(workers)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        read = sum(pool.map(_worker, [url] * workers, [org_id] * workers, shares))
    seconds = time.perf_counter() - started
    return {"entries": read, "seconds": seconds, "entries_per_s": read / seconds}


async def _size(url: str, org_id: int) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await audit.max_index(conn, org_id) + 1
    finally:
        await conn.close()


def main() -> None:
    url, org_id = sys.argv[1], int(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    print(json.dumps(floor(url, org_id, asyncio.run(_size(url, org_id)), workers)))


if __name__ == "__main__":
    main()
