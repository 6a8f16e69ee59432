"""Run ``verify_log`` over one log, alone in a fresh process, and report its peak memory.

Started by ``bench.run`` so that building the log does not count in the peak RSS:
``python -m bench._verify_child DATABASE_URL ORG_ID [WORKERS]`` (default 2, as
``ledger verify`` on this 2-core machine). Prints one JSON object on stdout.

Start it through a shell that forks it (``sh -c '...; exit $?'``), not straight from a big
process: Linux keeps the RSS high-water mark of the address space a process replaced at
exec, and Python's subprocess execs from the parent's (vfork), so ``ru_maxrss`` would
report the parent's peak (measured: 311 MB for a 10 MB child of a 300 MB parent).
The role and pool size are those of ``ledger verify`` (ledger_reader, 4 connections).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time


def _maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _vmhwm_bytes() -> int | None:
    """Peak RSS of this process's own address space (Linux), a cross-check of ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


async def _main(url: str, org_id: int, workers: int) -> dict[str, object]:
    from ledger.store.database import READER_ROLE, create_pool
    from ledger.store.log import Store
    from ledger.verify.stored import verify_log

    pool = await create_pool(url, role=READER_ROLE, size=4)
    try:
        store = Store(pool)
        org = await store.organization_by_id(org_id)
        rss_before = _maxrss_bytes()
        cpu0 = time.process_time()
        started = time.perf_counter()
        report = await verify_log(store, org, url=url, role=READER_ROLE, workers=workers)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu0
    finally:
        await pool.close()
    return {
        "report": report.as_dict(),
        "wall_seconds": wall,
        "client_cpu_seconds": cpu,
        "maxrss_before_verify_bytes": rss_before,
        "maxrss_bytes": _maxrss_bytes(),
        "vmhwm_bytes": _vmhwm_bytes(),
        "workers": workers,
        # Worker processes' peaks, largest child (Linux reports the max over children);
        # the total is bounded by this process's peak plus workers x this.
        "children_maxrss_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
    }


def main() -> None:
    url, org_id = sys.argv[1], int(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    print(json.dumps(asyncio.run(_main(url, org_id, workers))))


if __name__ == "__main__":
    main()
