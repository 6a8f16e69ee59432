"""Webhook delivery lag at a steady write rate: ``python -m bench.webhook_lag [--rate 500]
[--seconds 30] [--connections 32] [--workers 1]``.

Issue 15's target: p99 < 1 s from an entry's 201 answer to the receiver getting its signed
``entry.appended`` delivery, at 500 entries/s. The real server runs in its own process
(``ledger serve``, set up as in ``bench.http_load``) with its outbox deliverer
(``ledger.journal.webhooks``); a receiver in this process listens on loopback (plain
HTTP/1.1 with keep-alive, answering 204) and checks every delivery's Standard Webhooks
signature (HMAC-SHA256 over ``id.timestamp.body`` with the subscription's secret, computed
here from the specification's text, not with the ledger's code) and its timestamp (within
5 minutes). An admin subscribes it to every event over the API, then donations are posted
open loop at ``--rate`` per second (request i is due at ``start + i / rate``, on the first
free one of ``--connections`` keep-alive connections, so a slow answer does not slow the
offered rate) for ``--seconds``. The load generator and the receiver share one clock
(``time.perf_counter``), so for each entry the lag is the receiver's arrival time minus the
time its 201 answer arrived.

Reported: the rate achieved, the 201 latency, the lag p50/p90/p99/max, deliveries lost
(answered entries never delivered within ``--drain`` seconds after the load: must be 0),
duplicates (a ``webhook-id`` received twice: allowed by at-least-once, counted), bad
signatures (must be 0), and order (``webhook-id`` numbers of the organization strictly
increasing as first received, and entries in log order). Then the server stops and the full
verifier runs. Exit 1 when the target is missed, anything was lost or the log does not
verify.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import hashlib
import hmac
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field

import msgspec

from bench.http_load import (
    FUND,
    Connection,
    HttpError,
    auth_header,
    bench_database,
    create_fund,
    donation_json,
    free_port,
    latency_line,
    percentile,
    run_loop,
    start_server,
    stop_server,
    verify,
    wait_ready,
)

TARGET_RATE = 500.0
TARGET_P99_S = 1.0
TOLERANCE_S = 300
"""Standard Webhooks: refuse a timestamp further than this from now (replay protection)."""


@dataclass
class Received:
    """What the receiver got."""

    secret: bytes = b""
    arrivals: dict[int, float] = field(default_factory=dict)
    """Entry index → when its first ``entry.appended`` delivery arrived."""
    ids: collections.Counter[str] = field(default_factory=collections.Counter)
    seqs: list[int] = field(default_factory=list)
    """Outbox numbers of first deliveries, in arrival order."""
    entry_order: list[int] = field(default_factory=list)
    """Entry indexes of first deliveries, in arrival order."""
    events: collections.Counter[str] = field(default_factory=collections.Counter)
    bad_signatures: int = 0
    stale: int = 0
    requests: int = 0

    def check(self, headers: dict[bytes, bytes], body: bytes) -> bool:
        msg_id = headers.get(b"webhook-id", b"").decode()
        stamp = headers.get(b"webhook-timestamp", b"").decode()
        signed = f"{msg_id}.{stamp}.".encode() + body
        expected = base64.b64encode(hmac.new(self.secret, signed, hashlib.sha256).digest())
        given = [
            s.partition(b",")[2]
            for s in headers.get(b"webhook-signature", b"").split()
            if s.startswith(b"v1,")
        ]
        if not any(hmac.compare_digest(expected, g) for g in given):
            self.bad_signatures += 1
            return False
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE_S:
            self.stale += 1
            return False
        return True

    def got(self, headers: dict[bytes, bytes], body: bytes, now: float) -> None:
        self.requests += 1
        if not self.check(headers, body):
            return
        msg_id = headers[b"webhook-id"].decode()
        self.ids[msg_id] += 1
        if self.ids[msg_id] > 1:
            return  # a duplicate: at least once
        self.seqs.append(int(msg_id.rsplit("_", 1)[1]))
        event = json.loads(body)
        self.events[event["type"]] += 1
        if event["type"] == "entry.appended":
            index = event["data"]["index"]
            self.arrivals[index] = now
            self.entry_order.append(index)


async def serve_receiver(received: Received, port: int) -> asyncio.AbstractServer:
    """A minimal HTTP/1.1 receiver with keep-alive: every request is checked and answered
    204 (401 when its signature does not verify)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    raw = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = raw[:-4].split(b"\r\n")
                headers: dict[bytes, bytes] = {}
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
                now = time.perf_counter()
                before = received.bad_signatures + received.stale
                received.got(headers, body, now)
                ok = received.bad_signatures + received.stale == before
                writer.write(
                    b"HTTP/1.1 204 No Content\r\n\r\n"
                    if ok
                    else b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"
                )
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", port)


async def subscribe(bench, receiver_port: int) -> bytes:  # type: ignore[no-untyped-def]
    conn = Connection("127.0.0.1", bench.port)
    try:
        body = msgspec.json.encode({"url": f"http://127.0.0.1:{receiver_port}/hooks"})
        status, _, data = await conn.request(
            "POST", f"/v1/orgs/{bench.slug}/webhooks", auth_header(bench.admin_key), body
        )
    finally:
        await conn.close()
    if status != 201:
        raise RuntimeError(f"subscribing the receiver failed: {status} {data[:300]!r}")
    secret = msgspec.json.decode(data)["secret"]
    return base64.b64decode(secret.removeprefix("whsec_"))


async def drive(bench, rate: float, seconds: float, connections: int):  # type: ignore[no-untyped-def]
    """Open loop: donation i is due at start + i / rate. Returns ({index: 201 time},
    latencies, statuses, late sends)."""
    path = f"/v1/orgs/{bench.slug}/donations"
    run = uuid.uuid4().hex[:8]
    headers = f"Authorization: Bearer {bench.recorder_key}\r\nContent-Type: application/json\r\n"
    total = int(rate * seconds)
    answered: dict[int, float] = {}
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    late = 0
    next_i = 0
    start = time.perf_counter() + 0.2

    async def sender() -> None:
        nonlocal next_i, late
        conn = Connection("127.0.0.1", bench.port)
        try:
            while next_i < total:
                i = next_i
                next_i += 1
                due = start + i / rate
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                elif wait < -0.05:
                    late += 1
                ref = f"W-{run}-{i}"
                body = donation_json(FUND, 10_000 + i, ref)
                sent = time.perf_counter()
                try:
                    status, _, data = await conn.request(
                        "POST", path, (headers + f"Idempotency-Key: {ref}\r\n").encode(), body
                    )
                except (OSError, HttpError):
                    statuses[0] += 1
                    continue
                now = time.perf_counter()
                statuses[status] += 1
                latencies.append(now - sent)
                if status == 201:
                    answered[msgspec.json.decode(data)["index"]] = now
        finally:
            await conn.close()

    await asyncio.gather(*(sender() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    return answered, latencies, statuses, late, elapsed


async def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("LEDGER_RATE_LIMIT", "0")  # inherited by the server process
    received = Received()
    receiver_port = free_port()
    receiver = await serve_receiver(received, receiver_port)
    try:
        async with bench_database(args.database_url, "bench-webhooks") as bench:
            start_server(bench, args.workers)
            await wait_ready(bench)
            await create_fund(bench)
            received.secret = await subscribe(bench, receiver_port)
            print(f"load: {args.rate:g} donations/s for {args.seconds:g} s on "
                  f"{args.connections} connections", file=sys.stderr)  # fmt: skip
            answered, latencies, statuses, late, elapsed = await drive(
                bench, args.rate, args.seconds, args.connections
            )
            deadline = time.perf_counter() + args.drain
            while time.perf_counter() < deadline and not set(answered) <= set(received.arrivals):
                await asyncio.sleep(0.05)
            stop_server(bench)
            checked = await verify(bench, list(answered))
    finally:
        receiver.close()
        await receiver.wait_closed()
    lags = sorted(received.arrivals[i] - t for i, t in answered.items() if i in received.arrivals)
    lost = sorted(set(answered) - set(received.arrivals))
    duplicates = sum(n - 1 for n in received.ids.values())
    seq_ordered = all(a < b for a, b in zip(received.seqs, received.seqs[1:], strict=False))
    entry_ordered = all(
        a < b for a, b in zip(received.entry_order, received.entry_order[1:], strict=False)
    )
    achieved = len(answered) / elapsed if elapsed > 0 else 0.0
    p99 = percentile(lags, 0.99) if lags else float("inf")
    print(
        f"webhook lag: {len(answered):,} donations answered 201 at {achieved:,.0f}/s "
        f"(offered {args.rate:g}/s; {late} sent over 50 ms late; statuses {dict(statuses)})"
    )
    print(f"  201 latency: {latency_line(latencies)}")
    if lags:
        print(f"  lag (201 -> delivery): p50 {percentile(lags, 0.5) * 1000:.0f} ms, "
              f"p90 {percentile(lags, 0.9) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
              f"max {lags[-1] * 1000:.0f} ms")  # fmt: skip
    print(f"  deliveries: {received.requests:,} requests, events {dict(received.events)}; "
          f"lost {len(lost)}{' (first: ' + str(lost[:5]) + ')' if lost else ''}, "
          f"duplicates {duplicates}, bad signatures {received.bad_signatures}, "
          f"stale timestamps {received.stale}")  # fmt: skip
    print(
        f"  order per organization: webhook-id numbers increasing {seq_ordered}, "
        f"entries in log order {entry_ordered}"
    )
    print(
        f"  verify: ok={checked.ok}, donations {checked.donations_in_log}, "
        f"answered {checked.answered_201}, indexes match: {checked.indexes_match}"
    )
    met = p99 < TARGET_P99_S and achieved >= 0.95 * args.rate
    print(
        f"  target p99 < {TARGET_P99_S:g} s at {args.rate:g} entries/s: "
        f"{'met' if met else 'NOT met'}"
    )
    ok = (
        met
        and not lost
        and received.bad_signatures == 0
        and seq_ordered
        and entry_ordered
        and checked.ok
        and checked.indexes_match
    )
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.webhook_lag", description=__doc__)
    p.add_argument("--rate", type=float, default=TARGET_RATE, help="donations per second")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--workers", type=int, default=1, help="server processes")
    p.add_argument("--drain", type=float, default=30.0,
                   help="seconds to wait for the last deliveries after the load")  # fmt: skip
    p.add_argument("--database-url", default=os.environ.get("LEDGER_BENCH_DATABASE_URL"))
    return run_loop(run(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
