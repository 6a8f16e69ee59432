"""The floor under ``ledger verify``: read what it reads, hash what it hashes, check nothing.

``python -m bench.verify_floor DATABASE_URL ORG_ID [WORKERS]`` (run by ``bench.run``'s verify
benchmark on the same log, right after ``verify_log``; prints one JSON object). Each worker
process takes ranges of the log as ``ledger verify`` cuts them and, on one connection as
``ledger_reader``:

* reads the entries through the same cursor (idx, bytes, three hashes, kind, time) and every
  projection row of the range through the same queries (money rows, posting lines,
  corrections, funds, beneficiary versions, value dates);
* computes the three SHA-256s per entry that verification needs (leaf, chain, Merkle node)
  and nothing else: no decoding, no comparison, no derivation.

So ``entries / seconds`` here is what a verifier written in Python on asyncpg could reach on
this machine with this schema if its checks cost nothing; ``verify_log``'s rate divided by it
says how much of the machine the checks themselves take.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import asyncpg

from ledger.store import audit
from ledger.store.database import READER_ROLE
from ledger.verify.stored import FETCH_ROWS, RANGE_LEVEL

_PROJECTIONS = (
    audit.money_rows,
    audit.posting_rows,
    audit.correction_rows,
    audit.fund_rows,
    audit.beneficiary_rows,
    audit.value_date_rows,
)


async def _read(url: str, org_id: int, ranges: list[tuple[int, int]]) -> int:
    sha256 = hashlib.sha256
    conn = await asyncpg.connect(url, server_settings={"role": READER_ROLE})
    read = 0
    try:
        for start, end in ranges:
            stack: list[bytes] = []
            prev, n = b"\x00" * 32, 0
            async with conn.transaction(readonly=True, isolation="repeatable_read"):
                async for rows in audit.entry_chunks(conn, org_id, start, end, FETCH_ROWS):
                    for fetch in _PROJECTIONS:
                        await fetch(conn, org_id, start + n, start + n + len(rows))
                    for row in rows:
                        leaf = sha256(b"\x00" + row[1]).digest()
                        prev = sha256(b"\x02" + prev + leaf).digest()
                        node, k = leaf, n
                        while k & 1:
                            node = sha256(b"\x01" + stack.pop() + node).digest()
                            k >>= 1
                        stack.append(node)
                        n += 1
            read += n
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
