"""Recipients' acknowledgments through HTTP: ``python -m bench.acknowledgments [--n 3000]``.

Issue 20 asks for at least 500 acknowledgments a second through HTTP, the signature being
checked by the server. This starts the real server in its own process on a fresh database
(``bench.http_load``: embedded PostgreSQL unless ``--database-url``), records a fund, a
beneficiary, a donation and ``--n`` disbursements, enrols the beneficiary's key on a
one-time link, signs one acknowledgment per disbursement in this process (as the phones
would, before the clock starts), then posts them from ``--clients`` keep-alive connections
(closed loop) and reports the rate and latencies. Each acknowledgment is checked under the
log-head lock: its disbursement, the beneficiary's current key and the Ed25519 signature
over the documented message. At the end the whole log is verified (``verify_all``, which
checks every signature again) and the log must hold exactly one acknowledgment per 201.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import sys
import time
import uuid
from typing import Any

from bench.http_load import (
    FUND,
    Connection,
    auth_header,
    bench_database,
    percentile,
    start_server,
    stop_server,
    wait_ready,
)
from ledger.formats import acknowledgment as F

TARGET_RATE = 500.0
JSON = b"Content-Type: application/json\r\n"


async def _post(conn: Connection, path: str, headers: bytes, body: Any) -> dict[str, Any]:
    status, _, data = await conn.request("POST", path, headers, json.dumps(body).encode())
    if status not in (200, 201):
        raise RuntimeError(f"POST {path}: {status} {data[:300]!r}")
    return json.loads(data)


async def _spread(n: int, clients: int, work: Any, port: int) -> list[float]:
    """Run ``work(conn, i)`` for i in 0..n-1 from ``clients`` connections; latencies."""
    queue = iter(range(n))
    latencies: list[float] = []

    async def client() -> None:
        conn = Connection("127.0.0.1", port)
        try:
            for i in queue:
                t0 = time.perf_counter()
                await work(conn, i)
                latencies.append(time.perf_counter() - t0)
        finally:
            await conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


async def run(args: argparse.Namespace) -> int:
    slug = "bench-acks"
    # Acknowledgments carry no API key: the per-address limit for anonymous requests
    # (LEDGER_ANON_RATE_LIMIT, 1,200 a minute) would stop one load generator; real phones
    # come from many addresses.
    os.environ["LEDGER_ANON_RATE_LIMIT"] = "0"
    async with bench_database(args.database_url, slug) as bench:
        start_server(bench, args.workers)
        await wait_ready(bench)
        api = f"/v1/orgs/{slug}"
        conn = Connection("127.0.0.1", bench.port)
        admin = lambda: auth_header(bench.admin_key, uuid.uuid4().hex)  # noqa: E731
        recorder = lambda: auth_header(bench.recorder_key, uuid.uuid4().hex)  # noqa: E731
        await _post(
            conn, f"{api}/funds", admin(), {"code": FUND, "name": "Bench", "currency": "IDR"}
        )
        place = {"name": "LKSA Bench", "city": "Bandung", "province": "Jawa Barat"}
        await _post(conn, f"{api}/beneficiaries", admin(), {"code": "lksa-bench", **place})
        donation = {
            "fund": FUND, "amount": 10**14, "currency": "IDR", "received_on": "2026-11-01",
            "channel": "bank_transfer", "reference": "BENCH-IN",
        }  # fmt: skip
        await _post(conn, f"{api}/donations", recorder(), donation)
        _, _, data = await conn.request("GET", f"/v1/orgs/{slug}")
        origin = json.loads(data)["origin"]
        disbursed: dict[int, dict[str, Any]] = {}

        async def disburse(c: Connection, i: int) -> None:
            body = {
                "fund": FUND, "beneficiary": "lksa-bench", "amount": 100_000_00 + i,
                "currency": "IDR", "purpose": "food", "paid_on": "2026-11-02",
                "reference": f"BENCH-OUT-{i}",
            }  # fmt: skip
            disbursed[i] = {**await _post(c, f"{api}/disbursements", recorder(), body), **body}

        t0 = time.perf_counter()
        await _spread(args.n, args.clients, disburse, bench.port)
        print(f"seeded {args.n} disbursements in {time.perf_counter() - t0:.1f} s", flush=True)

        await conn.close()  # idle while seeding: the server may have closed it
        conn = Connection("127.0.0.1", bench.port)
        link = await _post(
            conn, f"{api}/beneficiaries/lksa-bench/enrolment-links", admin(), {"valid_days": 1}
        )
        seed = secrets.token_bytes(32)
        key = await _post(
            conn,
            f"/v1/enrolments/{link['token']}",
            JSON,
            {"public_key": base64.b64encode(F.public_key_of(seed)).decode()},
        )
        await conn.close()
        bodies = []
        for i in range(args.n):
            d = disbursed[i]
            facts = F.Disbursed(
                origin=origin, org=slug, beneficiary="lksa-bench", index=d["index"],
                leaf_hash=base64.b64decode(d["leaf_hash"]), amount=d["amount"],
                currency="IDR", minor_units=2, paid_on=d["paid_on"],
            )  # fmt: skip
            signature = F.sign(seed, F.message(facts, F.ACKNOWLEDGED, d["amount"]))
            bodies.append(
                (
                    d["index"],
                    {
                        "verdict": "acknowledged",
                        "key": key["index"],
                        "signature": base64.b64encode(signature).decode(),
                    },
                )
            )
        answered: list[int] = []

        async def acknowledge(c: Connection, i: int) -> None:
            index, body = bodies[i]
            headers = JSON + f"Idempotency-Key: ack-{index}\r\n".encode()
            answered.append(
                (await _post(c, f"{api}/disbursements/{index}/acknowledgment", headers, body))[
                    "index"
                ]
            )

        t0 = time.perf_counter()
        latencies = sorted(await _spread(args.n, args.clients, acknowledge, bench.port))
        seconds = time.perf_counter() - t0
        rate = len(answered) / seconds
        stop_server(bench)
        print(
            f"acknowledgments through HTTP: {len(answered)} in {seconds:.2f} s = {rate:,.0f}/s "
            f"with {args.clients} clients (target >= {TARGET_RATE:.0f}/s: "
            f"{'met' if rate >= TARGET_RATE else 'NOT met'}); latency p50 "
            f"{percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
        )
        from ledger.store.database import create_pool
        from ledger.store.log import Store
        from ledger.verify.stored import verify_all

        pool = await create_pool(bench.db_url, size=2)
        try:
            store = Store(pool)
            reports = await verify_all(store, slug)
            async with pool.acquire() as c:
                batches = await c.fetchval(
                    "SELECT count(DISTINCT created_at) FROM entries "
                    "WHERE kind = 'disbursement.acknowledged'"
                )
                print(f"group commit: {batches} transactions held the acknowledgments")
                logged = await c.fetchval(
                    "SELECT count(*) FROM entries WHERE kind = 'disbursement.acknowledged'"
                )
        finally:
            await pool.close()
        ok = all(r.ok for r in reports) and logged == len(answered)
        print(f"verify_all: {'ok' if ok else 'FAIL'} ({reports}); acknowledgments in log {logged}")
        return 0 if ok and rate >= TARGET_RATE else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=3000, help="acknowledgments (and disbursements)")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--workers", type=int, default=1, help="server processes (ledger serve --workers)")
    p.add_argument("--database-url", help="admin URL of a PostgreSQL server (default: embedded)")
    return asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
