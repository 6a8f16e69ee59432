"""What PostgreSQL alone spends per imported donation: ``python -m bench.import_floor``.

The batch import target (>= 50,000 donations/s) is for one organization, whose log is one
hash chain: its batches are written one after another, under the log-head lock, by one
PostgreSQL backend. This measures that backend's own CPU time for exactly the rows a
donation of a 1,000-donation batch writes, with everything else taken away:

* the batches (entries with their hashes and chain links, Merkle nodes, money rows, two
  posting lines, the new head) are built in Python before the clock starts;
* they are written the way the service writes a large batch (binary COPY, then the head's
  compare-and-swap, the projection statement, one commit per batch), on one connection;
* the CPU time of that connection's backend is read from ``/proc/<pid>/stat`` (so it needs
  a local PostgreSQL: embedded by default), before and after.

``1e6 / (backend µs per donation)`` is then the most donations per second one log can take
on this machine even if the service itself cost nothing: the ceiling of the batch import.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.http_load import bench_database, machine_info, pg_version

_TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


async def run(args: argparse.Namespace) -> int:
    from ledger.charity.rules import _rows_for, command_of
    from ledger.journal.appender import Intent, build_entries
    from ledger.store import charity as P
    from ledger.store.database import WRITER_ROLE, connect
    from ledger.store.log import Organization, Store, StoredEntry

    for line in machine_info():
        print(line)
    async with bench_database(args.database_url, "bench-floor") as bench:
        print(await pg_version(bench.db_url))
        conn = await connect(bench.db_url, role=WRITER_ROLE)
        store = Store(None)  # type: ignore[arg-type]  # only its conn-taking methods are used
        try:
            org = await conn.fetchrow(
                "SELECT id, slug, name, origin, created_at FROM organizations WHERE id = $1",
                bench.org_id,
            )
            organization = Organization(*org)
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            if not Path(f"/proc/{pid}/stat").exists():
                print("the database backend is not a local process: cannot read its CPU time")
                return 2
            head = await store.read_head(conn, bench.org_id)
            # Build every batch first: the chain, the nodes, the rows (no database work).
            batches = []
            for b in range(args.batches):
                intents = [
                    Intent(
                        "donation",
                        {
                            "fund": "floor",
                            "amount": 10_000 + i,
                            "currency": "IDR",
                            "received_on": "2026-11-20",
                            "channel": "bank_transfer",
                            "reference": f"FLOOR-{b}-{i}",
                            "donor": {"commitment": None, "display": None},
                            "message": None,
                        },
                    )
                    for i in range(args.size)
                ]
                built, nodes, new_head = build_entries(
                    organization, head, intents, datetime.now(UTC)
                )
                rows = [e for e in built if isinstance(e, StoredEntry)]
                projection = P.BatchRows.empty()
                for intent, entry in zip(intents, rows, strict=True):
                    _rows_for(projection, entry.index, command_of(intent), {}, {}, False)
                batches.append((head, rows, nodes, new_head, projection))
                head = new_head
            cpu0, wall0 = backend_cpu_seconds(pid), time.perf_counter()
            for old, rows, nodes, new_head, projection in batches:
                async with conn.transaction():
                    moved = await store.append_rows(
                        conn, bench.org_id, old.size, rows, nodes, new_head
                    )
                    assert moved
                    await P.write_batch(conn, bench.org_id, projection)
            cpu1, wall1 = backend_cpu_seconds(pid), time.perf_counter()
        finally:
            await conn.close()
    n = args.batches * args.size
    us = (cpu1 - cpu0) * 1e6 / n
    print(f"{n:,} donations in {args.batches} batches of {args.size:,}, one connection")
    print(f"PostgreSQL backend CPU: {us:.1f} µs per donation (wall incl. client {1e6 * (wall1 - wall0) / n:.1f} µs)")
    print(f"ceiling for one log on this machine: {1e6 / us:,.0f} donations/s (target 50,000)")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--database-url", default=os.environ.get("LEDGER_BENCH_DATABASE_URL"))
    p.add_argument("--batches", type=int, default=30)
    p.add_argument("--size", type=int, default=1000)
    return asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
