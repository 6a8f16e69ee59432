"""Mixed HTTP load: ``python -m bench.mixed_load [--seconds 60] [--clients 32] [--workers 1]``.

What a running ledger sees on a busy day, against the real server in its own process:

1. An embedded PostgreSQL (pgserver, temporary directory) unless ``--database-url`` names
   another server; a fresh database, migrated; one organization with an admin and a recorder
   key (``bench.http_load.bench_database``).
2. ``python -m ledger serve --workers N`` on a free loopback port (JSON logs to a file), a
   fund, ``--seed`` donations through ``/donations/batch`` (a statement is issued after the
   first thousand, if the statements API exists), ``VACUUM ANALYZE``.
3. ``--clients`` closed-loop keep-alive connections, each picking its next operation at
   random with these weights: donation (write, unique Idempotency-Key) 30, fund 12,
   balances 8, entries page 12, checkpoint 5, inclusion proof 12, consistency proof 12,
   statement PDF download 4 (public reads carry no key; proofs use sizes the log has
   reached). The first ``--warmup`` seconds are not measured.
4. Reports per operation and overall: requests, throughput, p50, p99 and max latency, and
   errors (any answer other than 2xx, or a broken connection: must be zero); the CPU used by
   the server, PostgreSQL, the load generator and other processes; then stops the server,
   runs the full verifier and checks the log holds exactly one entry per acknowledged
   donation (``bench.http_load.verify``).

The rate limit is raised to 10 M requests per minute, so that the limiter runs (and is
paid for) without refusing the benchmark's single recorder key. Exit status 0 only with no
errors and a log that verifies.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

import msgspec

from bench.http_load import (
    REPO,
    Bench,
    Connection,
    CpuMeter,
    HttpError,
    analyze,
    auth_header,
    bench_database,
    create_fund,
    donation_json,
    drive_batches,
    free_port,
    machine_info,
    percentile,
    pg_version,
    quiet_meter,
    report_verified,
    run_loop,
    stop_server,
    wait_ready,
)

FUND = "bench-fund"
WEIGHTS = {
    "donation": 30,
    "fund": 12,
    "balances": 8,
    "entries": 12,
    "checkpoint": 5,
    "inclusion": 12,
    "consistency": 12,
    "statement_pdf": 4,
}
BENCH_RATE_LIMIT = 10_000_000


def start_ledger_server(bench: Bench, workers: int) -> None:
    """``python -m ledger serve --workers N`` in its own session, on a free loopback port."""
    bench.port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")},
        "DATABASE_URL": bench.db_url,
        "LEDGER_KEK": bench.kek_b64,
        "LEDGER_DATA_DIR": str(bench.tmp),
        "LEDGER_RATE_LIMIT": str(BENCH_RATE_LIMIT),
        # The public reads come from one address without a key: no per-address limit here.
        "LEDGER_ANON_RATE_LIMIT": "0",
        # Signed statements keep their links: the service refuses a loopback public URL.
        "LEDGER_PUBLIC_URL": "https://bench.example",
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    cmd = [sys.executable, "-m", "ledger", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(bench.port), "--workers", str(workers)]
    bench.server_log = bench.tmp / "server.log"
    with open(bench.server_log, "wb") as out:
        bench.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


async def issue_statement(bench: Bench) -> int | None:
    """Issue a statement of this month (None when the server has no statements API)."""
    today = dt.datetime.now(dt.UTC).date()
    start = today.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    body = msgspec.json.encode({"from": start.isoformat(), "to": end.isoformat()})
    conn = Connection("127.0.0.1", bench.port)
    try:
        status, _, data = await conn.request(
            "POST",
            f"/v1/orgs/{bench.slug}/statements",
            auth_header(bench.admin_key, f"statement-{uuid.uuid4().hex}"),
            body,
        )
    finally:
        await conn.close()
    if status in (404, 405):
        return None
    if status != 201:
        raise RuntimeError(f"issuing a statement failed: {status} {data[:300]!r}")
    return int(msgspec.json.decode(data)["id"])


@dataclass
class Tally:
    """What the clients saw, per operation."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    statuses: dict[str, collections.Counter[int]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    broken: collections.Counter[str] = field(default_factory=collections.Counter)
    samples: dict[tuple[str, int], bytes] = field(default_factory=dict)
    answered: list[int] = field(default_factory=list)
    window: float = 0.0


async def drive_mixed(
    bench: Bench, clients: int, seconds: float, warmup: float, size: int, statement: int | None
) -> Tally:
    """Closed loop: each client sends its next request when the previous one was answered."""
    ops = [op for op in WEIGHTS if op != "statement_pdf" or statement is not None]
    weights = [WEIGHTS[op] for op in ops]
    org = f"/v1/orgs/{bench.slug}"
    run = uuid.uuid4().hex[:8]
    write_headers = (
        f"Authorization: Bearer {bench.recorder_key}\r\nContent-Type: application/json\r\n"
    )
    tally = Tally()
    known = {"size": size}  # the log has at least this many entries (grows with donations)
    t0 = time.perf_counter()
    measure_from = t0 + warmup
    stop_at = measure_from + seconds

    def request(op: str, rng: random.Random, n: int, c: int) -> tuple[str, str, bytes, bytes]:
        size = known["size"]
        if op == "donation":
            ref = f"X-{run}-{c}-{n}"
            hdrs = (write_headers + f"Idempotency-Key: {ref}\r\n").encode()
            return "POST", f"{org}/donations", hdrs, donation_json(FUND, 10_000 + n, ref)
        if op == "fund":
            return "GET", f"{org}/funds/{FUND}", b"", b""
        if op == "balances":
            return "GET", f"{org}/balances", b"", b""
        if op == "entries":
            return (
                "GET",
                f"{org}/entries?cursor={rng.randrange(max(1, size - 20))}&limit=20",
                b"",
                b"",
            )
        if op == "checkpoint":
            return "GET", f"{org}/log/checkpoint", b"", b""
        if op == "inclusion":
            at = rng.randrange(1, size + 1)
            return "GET", f"{org}/log/proof/inclusion?index={rng.randrange(at)}&size={at}", b"", b""
        if op == "consistency":
            new = rng.randrange(2, size + 1)
            return (
                "GET",
                f"{org}/log/proof/consistency?old={rng.randrange(1, new)}&new={new}",
                b"",
                b"",
            )
        return "GET", f"{org}/statements/{statement}/pdf?lang=id", b"", b""

    async def client(c: int) -> None:
        rng = random.Random(c)
        conn = Connection("127.0.0.1", bench.port)
        try:
            for n in range(10**9):
                start = time.perf_counter()
                if start >= stop_at:
                    return
                op = rng.choices(ops, weights)[0]
                method, path, hdrs, body = request(op, rng, n, c)
                try:
                    status, _, data = await conn.request(method, path, hdrs, body)
                except (OSError, HttpError) as exc:
                    tally.broken[f"{op}: {type(exc).__name__}"] += 1
                    await asyncio.sleep(0.01)
                    continue
                end = time.perf_counter()
                if op == "donation" and status == 201:
                    index = msgspec.json.decode(data)["index"]
                    tally.answered.append(index)
                    known["size"] = max(known["size"], index + 1)
                if not 200 <= status < 300:
                    tally.samples.setdefault((op, status), data[:300])
                if start >= measure_from:
                    tally.latencies[op].append(end - start)
                    tally.statuses[op][status] += 1
        finally:
            await conn.close()

    await asyncio.gather(*(client(c) for c in range(clients)))
    tally.window = min(time.perf_counter(), stop_at) - measure_from
    return tally


def report(tally: Tally) -> tuple[list[str], int]:
    """The table, and the number of errors (non-2xx answers and broken connections)."""
    lines = [
        f"{'operation':15} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'errors':>7}"
    ]
    errors_total = sum(tally.broken.values())
    everything: list[float] = []
    for op in WEIGHTS:
        lat = sorted(tally.latencies.get(op, []))
        if not lat:
            continue
        everything.extend(lat)
        bad = sum(n for status, n in tally.statuses[op].items() if not 200 <= status < 300)
        errors_total += bad
        lines.append(
            f"{op:15} {len(lat):9,} {len(lat) / tally.window:9,.0f} "
            f"{percentile(lat, 0.5) * 1000:8.2f} {percentile(lat, 0.99) * 1000:8.2f} "
            f"{lat[-1] * 1000:8.1f} {bad:7}"
        )
    everything.sort()
    lines.append(
        f"{'overall':15} {len(everything):9,} {len(everything) / tally.window:9,.0f} "
        f"{percentile(everything, 0.5) * 1000:8.2f} {percentile(everything, 0.99) * 1000:8.2f} "
        f"{everything[-1] * 1000 if everything else 0:8.1f} {errors_total:7}"
    )
    for (op, status), sample in tally.samples.items():
        lines.append(f"  sample {op} {status}: {sample.decode(errors='replace')}")
    for what, n in tally.broken.items():
        lines.append(f"  broken connections {what}: {n}")
    return lines, errors_total


async def run(args: argparse.Namespace) -> int:
    for line in machine_info():
        print(line)
    async with bench_database(args.database_url, "bench-mixed") as bench:
        print(await pg_version(bench.db_url))
        start_ledger_server(bench, args.workers)
        await wait_ready(bench)
        await create_fund(bench)
        print(
            f"server: python -m ledger serve --workers {args.workers}, pid {bench.proc.pid}, "  # type: ignore[union-attr]
            f"http://127.0.0.1:{bench.port}"
        )
        seeded: list[int] = []
        first = await drive_batches(bench, batches=1, size=1000, clients=1, tag="S0")
        seeded += first.answered
        statement = await issue_statement(bench)
        print(
            "statement: "
            + (f"#{statement} issued (1,001 entries)" if statement else "no statements API")
        )
        rest = max(0, args.seed // 1000 - 1)
        if rest:
            more = await drive_batches(bench, batches=rest, size=1000, clients=2, tag="S")
            if more.statuses.get(201) != rest:
                raise RuntimeError(f"seeding failed: {dict(more.statuses)} {more.samples}")
            seeded += more.answered
        await analyze(bench)
        size = max(seeded) + 1
        print(f"seeded {len(seeded):,} donations (log size {size:,}), VACUUM ANALYZE done")
        meter = await quiet_meter(args.wait_quiet, bench)
        mix = ", ".join(f"{op} {w}" for op, w in WEIGHTS.items())
        print(
            f"load: {args.clients} closed-loop keep-alive clients, {args.warmup:.0f} s warm-up + "
            f"{args.seconds:.0f} s measured; weights: {mix}"
        )

        async def measure_cpu():  # type: ignore[no-untyped-def]
            await asyncio.sleep(args.warmup)
            before = meter.sample()
            await asyncio.sleep(args.seconds)
            return before, meter.sample()

        cpu = asyncio.create_task(measure_cpu())
        tally = await drive_mixed(bench, args.clients, args.seconds, args.warmup, size, statement)
        before, after = await cpu
        stop_server(bench)
        print()
        lines, errors = report(tally)
        for line in lines:
            print(line)
        print(CpuMeter.report(CpuMeter.cores(before, after)))
        good = await report_verified(bench, seeded + tally.answered)
        print(f"errors: {errors} (must be 0); log verifies with one entry per 201: {good}")
        return 0 if errors == 0 and good else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.mixed_load", description=(__doc__ or "").split("\n")[0]
    )
    p.add_argument("--seconds", type=float, default=60.0, help="measured seconds (default 60)")
    p.add_argument("--clients", type=int, default=32, help="concurrent connections (default 32)")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds not measured (default 3)")
    p.add_argument("--workers", type=int, default=1, help="ledger serve --workers (default 1)")
    p.add_argument(
        "--seed", type=int, default=20_000, help="donations recorded first (default 20000)"
    )
    p.add_argument(
        "--database-url",
        default=os.environ.get("LEDGER_BENCH_DATABASE_URL"),
        help="admin URL of a PostgreSQL server (default: embedded pgserver in a temp dir)",
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=60.0,
        help="first wait up to this many seconds for other processes to go quiet (default 60)",
    )
    return run_loop(run(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
