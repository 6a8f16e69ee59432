"""The server's instructions per HTTP donation: ``python -m bench.http_instructions``.

CPU seconds per donation (``bench.http_load``) move with the host: on this VM the same tree
has measured 117 and 219 µs in runs minutes apart, as other guests share the physical cores.
Counted instructions do not. This runs the real server (``python -m ledger serve``) under
``valgrind --tool=callgrind`` with counting off, starts counting once it is up and warm,
drives ``--requests`` donations from ``--clients`` keep-alive connections (closed loop, the
load generator of ``bench.http_load``), stops counting, and prints the server's user-space
instructions per answered donation. Kernel work (the socket reads and writes, the same for
every tree) is not counted; so it compares two trees' own code, not wall time.

``--floor transport`` and ``--floor append`` count the same server with the donation's own
work replaced (``bench._floor_server``): what the connection, the door, the access line and
the metric cost with a fixed answer, and what one plain log append adds to that. The
ledger's own work on a donation (key, strict body, rules, projections, the answer) is the
rest.

Run it in each tree (the same command; the load generator is this file's) to compare them:
``git worktree add /tmp/other REV`` and copy ``bench/`` over if the tree predates it. Needs
valgrind (``apt-get install valgrind``). Under valgrind the server runs ~50x slower, so its
group commits are as large as the clients allow: both trees are compared at full batches.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.http_load import (
    FUND,
    Connection,
    auth_header,
    bench_database,
    create_fund,
    donation_json,
    machine_info,
    run_loop,
    server_log_tail,
    start_server,
    stop_server,
    wait_ready,
)

TOTALS = re.compile(r"^(?:summary|totals):\s+(\d+)", re.M)


async def post_donations(bench, n: int, clients: int, tag: str) -> int:  # type: ignore[no-untyped-def]
    """``n`` donations from ``clients`` connections; how many were answered 201."""
    path = f"/v1/orgs/{bench.slug}/donations"
    todo = iter(range(n))
    created = 0

    async def client() -> None:
        nonlocal created
        conn = Connection("127.0.0.1", bench.port)
        try:
            for i in todo:
                ref = f"I-{tag}-{i}"
                body = donation_json(FUND, 10_000 + i, ref)
                headers = auth_header(bench.recorder_key, ref)
                status, _, _ = await conn.request("POST", path, headers, body)
                created += status == 201
        finally:
            await conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return created


def control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


async def run(args: argparse.Namespace) -> int:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: apt-get install valgrind", file=sys.stderr)
        return 2
    for line in machine_info():
        print(line)
    async with bench_database(args.database_url, "bench-instr") as bench:
        out = bench.tmp / "callgrind.out"
        prefix = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
        ]
        started = time.perf_counter()
        if args.floor:
            print(f"floor: {args.floor} (bench._floor_server: the donation's own work replaced)")
            start_server(bench, prefix=prefix, module=("bench._floor_server", args.floor))
        else:
            start_server(bench, prefix=prefix)
        try:
            await wait_ready(bench, timeout=900)
            print(f"server up under callgrind in {time.perf_counter() - started:.0f} s")
            await create_fund(bench)
            await post_donations(bench, args.warmup, args.clients, "warm")
            pid = bench.proc.pid  # type: ignore[union-attr]
            t0 = time.perf_counter()
            control(pid, "--zero")
            control(pid, "--instr=on")
            created = await post_donations(bench, args.requests, args.clients, "count")
            control(pid, "--instr=off")
            busy = time.perf_counter() - t0
            total = dumped(pid, bench.tmp, args.keep)
            print(f"{created:,} donations answered 201 while counting ({busy:.0f} s)")
            # What the server does with no request at all over as long (timers, checkpoints,
            # pollers): at valgrind's pace it would weigh ~50x more per donation than at full speed.
            control(pid, "--zero")
            control(pid, "--instr=on")
            await asyncio.sleep(busy)
            control(pid, "--instr=off")
            idle = dumped(pid, bench.tmp, None)
        except BaseException:
            print(server_log_tail(bench))
            raise
        finally:
            stop_server(bench)
        if not created or not total:
            print("no instruction count was dumped", file=sys.stderr)
            return 1
        print(f"server instructions per donation: {total / created:,.0f} ({total:,} in all)")
        print(f"the idle server over as long: {idle:,} ({idle / created:,.0f} per donation)")
        net = (total - idle) / created
        print(f"server instructions per donation, less the idle server's: {net:,.0f}")
        return 0


def dumped(pid: int, where: Path, keep: str | None) -> int:
    """Dump callgrind's counters; the instructions counted since they were zeroed."""
    before = set(where.glob("callgrind.out*"))
    control(pid, "--dump")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        new = set(where.glob("callgrind.out*")) - before
        for dump in new:
            found = TOTALS.findall(dump.read_text(errors="replace"))
            if found:
                if keep:
                    shutil.copy(dump, keep)
                return int(found[-1])
        time.sleep(0.2)
    raise RuntimeError("callgrind wrote no dump")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--database-url", help="admin URL of a PostgreSQL (default: embedded)")
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--requests", type=int, default=3000, help="donations counted")
    p.add_argument("--warmup", type=int, default=500, help="donations before counting")
    p.add_argument("--keep", help="copy callgrind's output here (for callgrind_annotate)")
    p.add_argument(
        "--floor",
        choices=("transport", "append"),
        help="count bench._floor_server instead: the same server answering a fixed 201 with "
        "no work (transport), or after appending one note entry to the log (append)",
    )
    return run_loop(run(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
