"""CPU per appended entry, per process tree: ``python -m bench.append_cpu URL --pid P ...``.

For comparing servers on a busy shared machine (README "Scaling out on Citus"), where wall
clock rates mostly measure the other processes: N in-process appenders append notes to new
organizations (one log each, spread over them round-robin) for S seconds, and the CPU time
of this process and of each PostgreSQL process tree named by ``--pid`` (a postmaster's pid:
a plain server, or a Citus coordinator and its workers) is divided by the entries appended.
The database must be migrated (and, on Citus, distributed); nothing is dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from pathlib import Path

from bench.run import CpuMeter
from ledger.journal.appender import Appended, Appender
from ledger.journal.organizations import create_organization
from ledger.settings import Settings
from ledger.store.database import WRITER_ROLE, create_pool
from ledger.store.log import Store


async def run(url: str, pids: list[int], appenders: int, logs: int, seconds: float) -> None:
    pool = await create_pool(url, role=WRITER_ROLE, size=20)
    store = Store(pool)
    with tempfile.TemporaryDirectory(prefix="ledger-cpu-") as tmp:
        settings = Settings(database_url=url, data_dir=Path(tmp), origin_base="cpu.example/orgs")
        kek = secrets.token_bytes(32)
        orgs = [
            await create_organization(store, settings, kek, f"cpu-{secrets.token_hex(4)}", "cpu")
            for _ in range(logs)
        ]
        appender = Appender(store)
        count = 0
        stop = time.monotonic() + seconds

        async def client(task: int) -> None:
            nonlocal count
            org = orgs[task % logs]
            i = 0
            while time.monotonic() < stop:
                i += 1
                outcome = await appender.append(org, "note", {"text": f"cpu {task} {i}"})
                assert isinstance(outcome, Appended), outcome
                count += 1

        await asyncio.gather(*(client(t) for t in range(appenders)))  # warm-up: plans, caches
        count, stop = 0, time.monotonic() + seconds
        meters = {"client": CpuMeter([])} | {f"pid {p}": CpuMeter([p]) for p in pids}
        before = {name: m._ours() for name, m in meters.items()}
        started = time.perf_counter()
        await asyncio.gather(*(client(t) for t in range(appenders)))
        elapsed = time.perf_counter() - started
        after = {name: m._ours() for name, m in meters.items()}
    await pool.close()
    print(
        f"{count} entries in {elapsed:.1f} s ({count / elapsed:,.0f}/s), {appenders} appenders, {logs} logs"
    )
    for name in meters:
        cpu = sum(after[name].get(p, 0) - before[name].get(p, 0) for p in after[name])
        if name != "client":  # the client's tree is this process only
            cpu -= sum(
                after["client"].get(p, 0) - before["client"].get(p, 0) for p in after["client"]
            )
        print(f"  {name:>12}: {cpu * 1e6 / max(count, 1):8.1f} us CPU per entry")


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.append_cpu", description=__doc__)
    p.add_argument("url", help="database URL (owner)")
    p.add_argument("--pid", type=int, action="append", default=[], help="a postmaster pid")
    p.add_argument("--appenders", type=int, default=64)
    p.add_argument("--logs", type=int, default=1)
    p.add_argument("--seconds", type=float, default=5.0)
    a = p.parse_args()
    asyncio.run(run(a.url, a.pid, a.appenders, a.logs, a.seconds))


if __name__ == "__main__":
    main()
