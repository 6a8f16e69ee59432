"""End-to-end bulk import over HTTP: ``python -m bench.http_import [--batches 100] [--clients 4]``.

The same setup as ``bench.http_load`` (embedded PostgreSQL or ``--database-url``, a fresh
migrated database, an organization with keys, the real server in its own process, a fund,
a seeded log and VACUUM ANALYZE), then ``--batches`` requests of
``POST /v1/orgs/{slug}/donations/batch`` with ``--size`` donations each (default 1,000, the
API's maximum) from ``--clients`` concurrent keep-alive connections. Every batch has its own
``Idempotency-Key`` and every donation its own reference; bodies are built before the clock
starts. Reports donations/s, latency per batch, CPU split, and runs the full verifier:
the log must hold exactly the donations that were answered 201, at the answered indexes.

Target (issue): >= 50,000 donations/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
from pathlib import Path

from bench.http_load import (
    CpuMeter,
    bench_database,
    common_args,
    drive_batches,
    latency_line,
    machine_info,
    percentile,
    report_answers,
    report_verified,
    scan_report,
    seeded_and_quiet,
    server_log_tail,
    start_profiler,
    stop_server,
    summarize_profile,
    table_scans,
)

TARGET_RATE = 50_000.0


async def run(args: argparse.Namespace) -> int:
    for line in machine_info():
        print(line)
    slug = "bench-import"
    async with bench_database(args.database_url, slug) as bench:
        seeded, meter = await seeded_and_quiet(args, bench)
        print(
            f"load: {args.batches} x POST /v1/orgs/{slug}/donations/batch of {args.size} "
            f"donations, {args.clients} concurrent clients (keep-alive HTTP/1.1, closed loop)"
        )
        prof_out = bench.tmp / "profile.txt"
        profiler = None
        if args.profile:  # sample for about the expected duration of the load
            seconds = max(2.0, args.batches * args.size / 6_000)
            profiler = start_profiler(bench.proc.pid, seconds, prof_out, args.workers > 1)  # type: ignore[union-attr]
        scans0 = await table_scans(bench)
        before = meter.sample()
        result = await drive_batches(
            bench,
            batches=args.batches,
            size=args.size,
            clients=args.clients,
            donor_every=args.donor_every,
            tag="I",
        )
        after = meter.sample()
        if profiler is not None:
            profiler.wait()
        if bench.proc is not None and bench.proc.poll() is not None:
            print(f"SERVER EXITED during the run ({bench.proc.returncode}); its log ends:")
            print(server_log_tail(bench))
        stop_server(bench)  # its backends exit and flush their statistics
        scans1 = await table_scans(bench)
        rate = result.donations / result.seconds if result.seconds else 0.0
        lat = sorted(result.latencies)
        errors = report_answers(result, f"batches answered: {sum(result.statuses.values())}")
        print(
            f"throughput: {result.donations:,} donations in {result.seconds:.2f} s = "
            f"{rate:,.0f} donations/s ({rate / args.size:,.1f} batches/s)"
        )
        print(f"latency per batch of {args.size}: {latency_line(lat)}")
        print(CpuMeter.report(CpuMeter.cores(before, after)))
        print(scan_report(scans0, scans1, result.donations))
        met = rate >= TARGET_RATE and errors == 0
        print(
            f"target >= {TARGET_RATE:,.0f} donations/s and no errors: "
            + ("MET" if met else "NOT MET")
        )
        if profiler is not None:
            for line in summarize_profile(prof_out, seconds, args.top):
                print(line)
            if args.keep_profile:
                shutil.copy(prof_out, args.keep_profile)
        print()
        good = await report_verified(bench, seeded + result.answered)
        if args.json:
            print(json.dumps({
                "bench": "http_import", "clients": args.clients, "workers": args.workers,
                "batch_size": args.size, "donations_per_s": rate,
                "p50_batch_ms": percentile(lat, 0.5) * 1000,
                "p99_batch_ms": percentile(lat, 0.99) * 1000,
                "errors": errors, "verified": good, "target_met": met,
            }))  # fmt: skip
        return 0 if good else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.http_import", description=(__doc__ or "").split("\n")[0]
    )
    p.add_argument("--batches", type=int, default=100, help="requests to send (default 100)")
    p.add_argument("--size", type=int, default=1000, help="donations per request (max 1000)")
    p.add_argument("--clients", type=int, default=4, help="concurrent connections (default 4)")
    common_args(p)
    p.add_argument("--profile", action="store_true", help="sample the server with py-spy")
    p.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    p.add_argument("--keep-profile", type=Path, help="keep py-spy's collapsed stacks here")
    args = p.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
