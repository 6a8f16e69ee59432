"""Fund page benchmark (issue 17): ``.venv/bin/python -m bench.fund_page [--seconds S]``.

Seeds a fund with ``--donations`` gifts and some disbursements, serves the real app with
``ledger serve`` in a child process (uvicorn, one worker unless ``--workers``), and drives
``GET /orgs/{slug}/funds/{code}`` from this process with ``--connections`` keep-alive HTTP/1.1
connections written on raw asyncio streams (a thin client, so the server is what is measured):

1. ``etag-hit``: every request sends ``If-None-Match`` with the page's tag → 304 from the
   revalidation path (``ledger.http.site.revalidation``: the log head cached for at most
   1 s, no query per request). Target: at least 5,000 requests/s, p99 under 100 ms.
2. ``uncached``: no validator → the page is built (fund view, three aggregate queries,
   beneficiaries, the SVG charts). Target: at least 500 requests/s, p99 under 100 ms.

Starts its own embedded PostgreSQL unless ``--database-url`` (an admin URL) is given. Prints
one line per case and the machine's core count; the client shares the cores with the server,
so each line also gives the client's and the server's (all workers') share of the machine's
CPU time during the run (``client_cpu_pct``, ``server_cpu_pct``; 100 = every core busy).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

import asyncpg

from ledger.charity.donors import split_donor
from ledger.charity.rules import CharityPolicy, Command
from ledger.journal.appender import Intent, append_batch
from ledger.journal.organizations import create_organization
from ledger.journal.publisher import publish
from ledger.settings import Settings
from ledger.store.database import WRITER_ROLE, create_pool, with_database
from ledger.store.log import Store
from ledger.store.migrate import migrate
from schemas.charity import (
    BeneficiaryRegistered,
    DisbursementBody,
    DonationBody,
    DonorIn,
    FundBody,
)

SLUG, FUND = "bench-fund", "senyum-2026"
ANONYMOUS = split_donor(DonorIn())[0]


async def prepare(admin_url: str, donations: int) -> tuple[str, bytes]:
    """A new database with the organization, a fund, two beneficiaries, ``donations`` gifts over
    twelve months and a disbursement a month; its URL and the KEK."""
    name = f"bench_fund_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = with_database(admin_url, name)
    conn = await asyncpg.connect(url)
    await migrate(conn)
    await conn.close()
    store = Store(await create_pool(url, role=WRITER_ROLE, size=8))
    kek = secrets.token_bytes(32)
    settings = Settings(database_url=url, kek=base64.b64encode(kek).decode())
    org = await create_organization(store, settings, kek, SLUG, "Yayasan Bench")
    policy = CharityPolicy()
    first: list[Command] = [
        Command.of(FundBody(code=FUND, name="#SenyumAnak 2026", currency="IDR", minor_units=2)),
        *(
            Command.of(
                BeneficiaryRegistered(
                    code=f"lksa-{b}",
                    name=f"LKSA {b}",
                    city="Bandung",
                    province="Jawa Barat",
                    version=1,
                )
            )
            for b in ("a", "b")
        ),
    ]
    async with store.connection() as c, c.transaction():
        await append_batch(store, c, org, [Intent(x.kind, x.body, x) for x in first], policy=policy)
    for start in range(0, donations, 2000):
        intents = []
        for i in range(start, min(start + 2000, donations)):
            gift = Command.of(
                DonationBody(
                    fund=FUND,
                    amount=10_000_000 + i,
                    currency="IDR",
                    received_on=f"2026-{1 + i % 11:02d}-10",  # type: ignore[arg-type]
                    channel="qris",
                    reference=f"R{i}",
                    donor=ANONYMOUS,
                )
            )
            intents.append(Intent(gift.kind, gift.body, gift))
        async with store.connection() as c, c.transaction():
            await append_batch(store, c, org, intents, policy=policy)
    outs = []
    for month in range(1, 12):
        out = Command.of(
            DisbursementBody(
                fund=FUND,
                beneficiary=f"lksa-{'ab'[month % 2]}",
                amount=5_000_000,
                currency="IDR",
                purpose=("food", "education", "health")[month % 3],  # type: ignore[arg-type]
                paid_on=f"2026-{month:02d}-20",  # type: ignore[arg-type]
                reference=f"OUT-{month}",
            )
        )
        outs.append(Intent(out.kind, out.body, out))
    async with store.connection() as c, c.transaction():
        await append_batch(store, c, org, outs, policy=policy)
    await publish(store, org, kek)
    await store.pool.close()
    return url, kek


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _request(reader, writer, head: bytes) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    writer.write(head)
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    if length:
        await reader.readexactly(length)
    return int(status_line.split()[1]), time.perf_counter() - start


TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the server's worker processes), from /proc."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time the processes have used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / TICKS


async def drive(
    port: int, path: str, etag: str | None, seconds: float, connections: int, server: int = 0
) -> dict:
    head = f"GET {path} HTTP/1.1\r\nHost: bench\r\n".encode()
    if etag:
        head += f"If-None-Match: {etag}\r\n".encode()
    head += b"\r\n"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            status, took = await _request(reader, writer, head)
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append(took)
        writer.close()

    servers = process_tree(server) if server else []
    began, client_cpu, server_cpu = time.perf_counter(), time.process_time(), cpu_seconds(servers)
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    client_cpu = time.process_time() - client_cpu
    server_cpu = cpu_seconds(servers) - server_cpu
    cores = os.cpu_count() or 1
    latencies.sort()
    return {
        "requests_per_s": round(len(latencies) / elapsed),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
        "statuses": statuses,
        # Shares of the machine's CPU time over the run (all cores = 100%); the rest went
        # to PostgreSQL, other work on the machine, or idle.
        "client_cpu_pct": round(100 * client_cpu / (elapsed * cores)),
        "server_cpu_pct": round(100 * server_cpu / (elapsed * cores)),
    }


async def tag_of(port: int, path: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    tag = ""
    status = await reader.readline()
    assert b" 200 " in status, status
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"etag:"):
            tag = line.split(b":", 1)[1].strip().decode()
    writer.close()
    return tag


async def bench(admin_url: str, args: argparse.Namespace) -> None:
    url, kek = await prepare(admin_url, args.donations)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LEDGER_KEK": base64.b64encode(kek).decode(),
        "LEDGER_ANON_RATE_LIMIT": "0",
        "LEDGER_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "ledger", "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
    )
    try:
        path = f"/orgs/{SLUG}/funds/{FUND}"
        for _ in range(200):
            try:
                tag = await tag_of(port, path)
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        print(f"cores: {os.cpu_count()}, donations: {args.donations}, workers: {args.workers}")
        for name, etag in (("etag-hit", tag), ("uncached", None)):
            result = await drive(port, path, etag, args.seconds, args.connections, server.pid)
            print(f"{name:10} {result}")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("LEDGER_BENCH_DATABASE_URL"))
    parser.add_argument("--donations", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.database_url:
        asyncio.run(bench(args.database_url, args))
        return
    with tempfile.TemporaryDirectory() as home, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(Path(home), cleanup_mode="delete")
        try:
            asyncio.run(bench(server.get_uri(), args))
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
