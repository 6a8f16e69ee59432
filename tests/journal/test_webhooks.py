"""Signed outbound webhooks against a real receiver on loopback: order, signatures (checked
here from the Standard Webhooks text, not with the ledger's own code), the receiver down and
restarted, and the ledger killed mid-delivery (SIGKILL of a real `ledger serve`)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from ledger.http.auth import issue_key
from ledger.journal.organizations import create_organization
from ledger.journal.publisher import publish
from tests.apikit import Org, auth
from tests.ingest.gatewaykit import live_server
from tests.logkit import assert_log_verifies


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A webhook receiver (an ASGI app under uvicorn): keeps what it got; can be slow."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.hold: asyncio.Event | None = None
        """While set to an unset event, requests wait for it before they are answered."""
        self.arrived = asyncio.Event()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.got.append((headers, body))
        self.arrived.set()
        if self.hold is not None:
            await self.hold.wait()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def ids(self) -> list[str]:
        return [h["webhook-id"] for h, _ in self.got]


@asynccontextmanager
async def serving(app: Receiver, port: int) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/events"
    finally:
        server.should_exit = True
        await task


def verify(secret: str, headers: dict[str, str], body: bytes) -> None:
    """The receiver's check, from the Standard Webhooks text."""
    key = base64.b64decode(secret[len("whsec_") :])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s.startswith("v1,")]
    assert any(hmac.compare_digest(expected, s) for s in offered), headers
    assert abs(int(headers["webhook-timestamp"]) - dt.datetime.now().timestamp()) < 300


async def until(check: Callable[[], Awaitable[bool] | bool], seconds: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        done = check()
        if not isinstance(done, bool):
            done = await done
        if done:
            return
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def setup_org(store, settings, kek, client: httpx.AsyncClient) -> Org:  # type: ignore[no-untyped-def]
    record = await create_organization(store, settings, kek, "yayasan-senyum", "Yayasan Senyum")
    keys = {r: (await issue_key(store, record.id, r))[1] for r in ("admin", "recorder")}
    org = Org(client, record.slug, keys)  # type: ignore[arg-type]
    await org.fund()
    return org


async def subscribe(org: Org, url: str, events: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url}
    if events:
        body["events"] = events
    r = await org.client.post(org.url("/webhooks"), json=body, headers=auth(org.keys["admin"]))
    assert r.status_code == 201, r.text
    return r.json()


async def test_events_arrive_signed_and_in_order(store, settings, kek):
    receiver, port = Receiver(), free_port()
    async with live_server(settings) as client, serving(receiver, port) as url:
        org = await setup_org(store, settings, kek, client)
        created = await subscribe(org, url)
        secret = created["secret"]
        assert secret.startswith("whsec_")
        for amount in (1000, 2000, 3000):
            await org.donate(amount)
        record = await store.organization(org.slug)
        await publish(store, record, kek)  # checkpoint.signed
        today = dt.date.today()
        period = {"from": today.isoformat(), "to": (today + dt.timedelta(days=1)).isoformat()}
        assert (await org.post("/statements", period, role="admin")).status_code == 201
        await until(lambda: len(receiver.got) >= 6)
        events = [json.loads(body) for _, body in receiver.got]
        assert [e["type"] for e in events] == [
            "entry.appended",
            "entry.appended",
            "entry.appended",
            "checkpoint.signed",
            "entry.appended",
            "statement.issued",
        ]
        assert [e["data"]["index"] for e in events[:3]] == [2, 3, 4]
        assert events[3]["data"]["size"] == 5 and events[5]["data"]["statement"] == 1
        seqs = [int(i.rsplit("_", 1)[1]) for i in receiver.ids()]
        assert seqs == sorted(seqs) and len(set(seqs)) == 6
        for headers, body in receiver.got:
            verify(secret, headers, body)
        log = await client.get(
            org.url(f"/webhooks/{created['subscription']['id']}/deliveries"),
            headers=auth(org.keys["admin"]),
        )
        assert [d["status"] for d in log.json()] == [204] * 6
        # Removed: nothing more is delivered.
        gone = await client.delete(
            org.url(f"/webhooks/{created['subscription']['id']}"), headers=auth(org.keys["admin"])
        )
        assert gone.status_code == 204
        await org.donate(4000)
        await asyncio.sleep(0.5)
        assert len(receiver.got) == 6
        await assert_log_verifies(store)


async def test_receiver_down_then_restarted_loses_nothing(store, settings, kek):
    receiver, port = Receiver(), free_port()
    async with live_server(settings) as client:
        org = await setup_org(store, settings, kek, client)
        async with serving(receiver, port) as url:
            created = await subscribe(org, url, ["entry.appended"])
        sub = created["subscription"]["id"]
        for amount in (1000, 2000):  # the receiver is down
            await org.donate(amount)

        async def failed_twice() -> bool:
            r = await client.get(
                org.url(f"/webhooks/{sub}/deliveries"), headers=auth(org.keys["admin"])
            )
            return len(r.json()) >= 2

        await until(failed_twice)
        log = (await client.get(
            org.url(f"/webhooks/{sub}/deliveries"), headers=auth(org.keys["admin"])
        )).json()
        assert all(d["status"] is None and d["error"] for d in log)
        assert {d["seq"] for d in log} == {1}  # nothing after the first goes out before it
        async with serving(receiver, port):
            await until(lambda: len(receiver.got) >= 2, seconds=30)
        assert [json.loads(b)["data"]["index"] for _, b in receiver.got] == [2, 3]
        for headers, body in receiver.got:
            verify(created["secret"], headers, body)
        await assert_log_verifies(store)


def _serve(db_url: str, kek: bytes, tmp_path, port: int) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "LEDGER_KEK": base64.b64encode(kek).decode(),
        "LEDGER_DATA_DIR": str(tmp_path),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "ledger", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_ledger_killed_mid_delivery_resends_and_loses_nothing(
    store, settings, kek, db_url, tmp_path
):
    receiver, hook_port = Receiver(), free_port()
    receiver.hold = asyncio.Event()  # the first delivery hangs until the ledger is killed
    port = free_port()
    first = _serve(db_url, kek, tmp_path, port)
    second = None
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:

            async def up() -> bool:
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await until(up, seconds=60)
            org = await setup_org(store, settings, kek, client)
            async with serving(receiver, hook_port) as url:
                created = await subscribe(org, url, ["entry.appended"])
                for amount in (1000, 2000, 3000):
                    await org.donate(amount)
                await asyncio.wait_for(receiver.arrived.wait(), 20)
                first.send_signal(signal.SIGKILL)  # mid-delivery: no answer was read yet
                first.wait(10)
                receiver.hold.set()
                second = _serve(db_url, kek, tmp_path, port)
                await until(lambda: len(set(receiver.ids())) >= 3, seconds=60)
        ids = receiver.ids()
        firsts = [int(i.rsplit("_", 1)[1]) for i in dict.fromkeys(ids)]
        assert firsts == sorted(firsts) and len(firsts) == 3  # (checkpoints take numbers too)
        assert ids.count(ids[0]) == 2  # the one cut off was sent again, with the same id
        for headers, body in receiver.got:
            verify(created["secret"], headers, body)
        indexes = [json.loads(b)["data"]["index"] for _, b in receiver.got]
        assert sorted(set(indexes)) == [2, 3, 4]
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    await assert_log_verifies(store)


@pytest.mark.parametrize("url", ["ftp://example.org/x", "not a url", ""])
async def test_subscriptions_need_an_http_url(store, settings, kek, url):
    async with live_server(settings) as client:
        org = await setup_org(store, settings, kek, client)
        r = await client.post(
            org.url("/webhooks"), json={"url": url}, headers=auth(org.keys["admin"])
        )
        assert r.status_code == 400, r.text
