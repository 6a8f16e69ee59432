"""Gateway notifications over HTTP: ``python -m bench.gateway_load [--clients 64] [--seconds 10]``.

The whole path a Midtrans settlement takes: HTTP (the fast path), strict decoding, the
SHA-512 signature check (the server key opened from its sealed form, kept 1 s), the fund
rule, the exact amount, and the group commit that appends the donation with its projections
and inbox row and reads whether the payment has refunds (``ledger.ingest.payments``). The real server runs in its own process (``ledger serve``, as in
``bench.http_load``, whose setup this reuses); ``--clients`` keep-alive connections each post
a new signed settlement as soon as the previous one was answered. The anonymous rate limit
is switched off for the server (gateways send no API key). At the end the full verifier runs
and the log must hold exactly one donation per ``recorded`` answer, at the answered indexes.

Target (issue 15): >= 1,000 notifications/s with p99 < 50 ms at 64 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import os
import sys
import time
import uuid

import msgspec

from bench.http_load import (
    FUND,
    Connection,
    CpuMeter,
    HttpError,
    analyze,
    auth_header,
    bench_database,
    create_fund,
    latency_line,
    percentile,
    quiet_meter,
    run_loop,
    start_server,
    stop_server,
    verify,
    wait_ready,
)

SERVER_KEY = "SB-Mid-server-BENCH-0000000000"
TARGET_RATE = 1000.0
TARGET_P99_MS = 50.0


def notification(order_id: str, gross: str) -> bytes:
    signed = hashlib.sha512((order_id + "200" + gross + SERVER_KEY).encode()).hexdigest()
    return msgspec.json.encode(
        {
            "transaction_time": "2026-11-20 14:05:09",
            "transaction_status": "settlement",
            "transaction_id": str(uuid.uuid4()),
            "status_code": "200",
            "signature_key": signed,
            "settlement_time": "2026-11-20 14:05:21",
            "payment_type": "qris",
            "order_id": order_id,
            "gross_amount": gross,
            "fraud_status": "accept",
            "currency": "IDR",
        }
    )


async def run(args: argparse.Namespace) -> int:
    os.environ["LEDGER_ANON_RATE_LIMIT"] = "0"  # inherited by the server process
    async with bench_database(args.database_url, "bench-gateway") as bench:
        start_server(bench)
        await wait_ready(bench)
        await create_fund(bench)
        conn = Connection("127.0.0.1", bench.port)
        rule = {"secret": SERVER_KEY, "fund_rule": {"default": FUND}}
        status, _, data = await conn.request(
            "PUT",
            f"/v1/orgs/{bench.slug}/gateways/midtrans",
            auth_header(bench.admin_key),
            msgspec.json.encode(rule),
        )
        await conn.close()
        if status != 200:
            raise RuntimeError(f"connecting Midtrans failed: {status} {data[:300]!r}")
        path = f"/v1/orgs/{bench.slug}/gateways/midtrans/notifications"
        headers = b"Content-Type: application/json\r\n"
        run_id = uuid.uuid4().hex[:8]
        latencies: list[float] = []
        timeline: list[tuple[float, float]] = []
        answered: list[int] = []
        statuses: collections.Counter[int] = collections.Counter()

        async def load(phase: str, seconds: float, warmup: float) -> tuple[float, int, float]:
            """Closed loop for ``warmup`` + ``seconds``; the measured window's start (perf
            counter), its 200 answers and its length."""
            t0 = time.perf_counter()
            measure_from = t0 + warmup
            stop_at = measure_from + seconds
            measured = 0

            async def client(c: int) -> None:
                nonlocal measured
                conn = Connection("127.0.0.1", bench.port)
                n = 0
                try:
                    while (start := time.perf_counter()) < stop_at:
                        n += 1
                        order = f"SNY-{run_id}-{phase}{c}-{n}"
                        body = notification(order, f"{10000 + n}.00")
                        try:
                            status, _, data = await conn.request("POST", path, headers, body)
                        except (OSError, HttpError):
                            await asyncio.sleep(0.01)
                            continue
                        end = time.perf_counter()
                        statuses[status] += 1
                        if status == 200:
                            answered.extend(msgspec.json.decode(data)["entries"])
                        if phase == "m" and start >= measure_from:
                            latencies.append(end - start)
                            timeline.append((start - measure_from, end - start))
                            measured += status == 200
                finally:
                    await conn.close()

            await asyncio.gather(*(client(c) for c in range(args.clients)))
            return measure_from, measured, min(time.perf_counter(), stop_at) - measure_from

        if args.seed_seconds > 0:
            await load("s", args.seed_seconds, 0.0)
            print(f"seeded {len(answered):,} settlements in {args.seed_seconds:.0f} s")
        if not args.no_analyze:
            await analyze(bench)
            print(
                "ran VACUUM ANALYZE before the load (autovacuum does this within a minute on a "
                "running service; --seed-seconds 0 --no-analyze shows a fresh database)"
            )
        meter = await quiet_meter(args.wait_quiet, bench)
        before = meter.sample()
        measure_from, measured, window = await load("m", args.seconds, args.warmup)
        cores = CpuMeter.cores(before, meter.sample())
        stop_server(bench)
        checked = await verify(bench, answered)
    if args.timeline:
        with open(args.timeline, "w") as out:
            started = time.time() - (time.perf_counter() - measure_from)
            out.write(f"# measured from unix time {started:.6f}\n")
            out.writelines(f"{s:.6f} {d * 1000:.3f}\n" for s, d in sorted(timeline))
    rate = measured / window if window > 0 else 0.0
    p99 = percentile(sorted(latencies), 0.99) * 1000
    print(f"gateway notifications: {rate:,.0f}/s over {window:.1f} s, {args.clients} clients")
    print(f"  latency: {latency_line(latencies)}")
    print(f"  statuses: {dict(statuses)}")
    print(f"  {CpuMeter.report(cores)}")
    print(
        f"  verify: ok={checked.ok}, donations {checked.donations_in_log}, answered "
        f"{checked.answered_201}, indexes match: {checked.indexes_match}"
    )
    met = rate >= TARGET_RATE and p99 < TARGET_P99_MS
    print(
        f"  target >= {TARGET_RATE:,.0f}/s and p99 < {TARGET_P99_MS:.0f} ms: "
        f"{'met' if met else 'NOT met'}"
    )
    return 0 if checked.ok and checked.indexes_match else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.gateway_load")
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument(
        "--seed-seconds",
        type=float,
        default=3.0,
        help="unmeasured notifications first, then VACUUM ANALYZE (0: start on an empty log)",
    )
    p.add_argument("--no-analyze", action="store_true", help="skip VACUUM ANALYZE")
    p.add_argument("--wait-quiet", type=float, default=30.0)
    p.add_argument("--timeline", help="write each measured request's start (s) and latency (ms)")
    p.add_argument("--database-url", default=os.environ.get("LEDGER_BENCH_DATABASE_URL"))
    return run_loop(run(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
