"""The connection's donation door (``ledger.http.connection``), over real sockets.

The app is served by uvicorn as ``ledger serve`` serves it (``uvicorn_config``), on a loopback
port; requests are written byte by byte where the test needs it (pipelining, a body in pieces,
HTTP/1.0, a client that leaves). Every answer is compared with what the ASGI path gives for the
same request, and the log verifies afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ledger.http.app import create_app
from ledger.http.auth import issue_key
from ledger.journal.organizations import create_organization
from tests import apikit
from tests.apikit import serve_on_port
from tests.logkit import assert_log_verifies

SLUG = "yayasan-pintu"
PATH = f"/v1/orgs/{SLUG}/donations"
_n = itertools.count()


class Served:
    """The served app: its base URL, port, door and keys."""

    def __init__(self, app: Any, url: str, keys: dict[str, str]) -> None:
        self.app = app
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        self.door = app.state.front_door
        self.keys = keys

    def request(self, body: bytes, *, key: str | None = None, extra: str = "", path: str = PATH,
                version: str = "1.1") -> bytes:  # fmt: skip
        idem = f"door-{next(_n)}"
        head = (
            f"POST {path} HTTP/{version}\r\nHost: test\r\n"
            f"Authorization: Bearer {key or self.keys['recorder']}\r\n"
            f"Content-Type: application/json\r\nIdempotency-Key: {idem}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n"
        )
        return head.encode() + body


def donation(**changes: Any) -> bytes:
    fields = {"fund": "zakat", "amount": 125_000, "received_on": "2026-11-20", "channel": "qris"}
    return json.dumps(apikit.donation(f"PINTU-{next(_n)}", **{**fields, **changes})).encode()


@pytest.fixture
async def served(settings, store, kek) -> AsyncIterator[Served]:  # type: ignore[no-untyped-def]
    org = await create_organization(store, settings, kek, SLUG, "Yayasan Pintu")
    keys = {r: (await issue_key(store, org.id, r))[1] for r in ("admin", "recorder")}
    app = create_app(settings.with_(checkpoint_interval=0, max_body_bytes=4096))
    async with serve_on_port(app) as url, httpx.AsyncClient(base_url=url) as client:
        fund = {"code": "zakat", "name": "Zakat", "currency": "IDR", "fee_cap_bps": 0}
        auth = {"Authorization": f"Bearer {keys['admin']}", "Idempotency-Key": "fund"}
        r = await client.post(f"/v1/orgs/{SLUG}/funds", json=fund, headers=auth)
        assert r.status_code == 201, r.text
        yield Served(app, url, keys)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, value = line.split(":", 1)
            assert name.lower() not in fields, f"{name} sent twice"
            fields[name.lower()] = value.strip()
    body = await reader.readexactly(int(fields["content-length"]))
    return status, fields, body


async def exchange(served: Served, *pieces: bytes, answers: int = 1) -> list[Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    try:
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.02)
        return [await read_response(reader) for _ in range(answers)]
    finally:
        writer.close()


async def test_a_donation_is_answered_at_the_door_in_one_complete_response(served, store):
    request = served.request(donation(), extra="X-Request-ID: pintu-42\r\n")
    [(status, fields, body)] = await exchange(served, request)
    assert status == 201
    assert served.door.answered == 1
    recorded = json.loads(body)
    assert set(recorded) == {"index", "kind", "time", "entry_hash", "leaf_hash"}
    assert fields["content-type"] == "application/json"
    assert fields["x-request-id"] == "pintu-42"  # the observer's echo
    assert fields["server"] == "uvicorn" and fields["date"].endswith("GMT")
    assert "connection" not in fields  # kept alive
    async with httpx.AsyncClient(base_url=served.url) as client:
        metrics = (await client.get("/metrics")).text
    line = next(
        x for x in metrics.splitlines()
        if x.startswith("ledger_http_request_duration_seconds_count")
        and 'route="/v1/orgs/{slug}/donations"' in x and 'status="201"' in x
    )  # fmt: skip
    assert float(line.rsplit(" ", 1)[1]) >= 1
    await assert_log_verifies(store)


async def test_the_door_answers_as_the_asgi_path_does(served, store):
    """A replay, a conflict and a refused fund: the same status, headers and bytes through
    the door as through ASGI (a query string sends a request the ASGI way)."""
    for make, status in [
        (lambda: donation(), 201),
        (lambda: donation(fund="no-such-fund"), 422),
        (lambda: donation(currency="USD"), 422),
    ]:
        body = make()
        door = served.request(body)
        idem = door.split(b"Idempotency-Key: ")[1].split(b"\r\n")[0]
        [(a_status, a_fields, a_body)] = await exchange(served, door)
        asgi = door.replace(PATH.encode() + b" ", PATH.encode() + b"?via=asgi ", 1)
        [(b_status, b_fields, b_body)] = await exchange(served, asgi)
        assert a_status == status, a_body
        if status == 201:  # the same key again, either way: the first answer, replayed
            assert b_status == 201 and b_body == a_body and b_fields["idempotency-replayed"]
            [(c_status, c_fields, c_body)] = await exchange(served, door)
            assert (c_status, c_body) == (201, a_body)
            assert c_fields["idempotency-replayed"] == "true"
        else:
            assert (b_status, b_body) == (a_status, a_body), idem
            skip = {"date", "x-request-id"}
            assert {k: v for k, v in a_fields.items() if k not in skip} == {
                k: v for k, v in b_fields.items() if k not in skip
            }
    assert served.door.answered == 4  # the three by the door and the replay through it
    await assert_log_verifies(store)


async def test_pipelined_requests_are_answered_in_order(served, store):
    first, second = served.request(donation()), served.request(donation())
    health = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
    third = served.request(donation())
    answers = await exchange(served, first + second + health + third, answers=4)
    statuses = [a[0] for a in answers]
    assert statuses == [201, 201, 200, 201], answers
    indexes = [json.loads(a[2])["index"] for a in answers if a[0] == 201]
    assert indexes == sorted(indexes) and len(set(indexes)) == 3
    await assert_log_verifies(store)


async def test_a_body_sent_in_pieces_and_a_closing_client(served, store):
    request = served.request(donation())
    head, body = request.split(b"\r\n\r\n", 1)
    [(status, _, _)] = await exchange(served, head + b"\r\n\r\n", body[:10], body[10:])
    assert status == 201
    closing = served.request(donation(), extra="Connection: close\r\n")
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(closing)
    status, fields, _ = await read_response(reader)
    assert status == 201 and fields["connection"] == "close"
    assert await asyncio.wait_for(reader.read(), 5) == b""  # the server closed it
    writer.close()
    old = served.request(donation(), version="1.0")
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(old)
    status, fields, _ = await read_response(reader)
    assert status == 201 and fields["connection"] == "close"
    writer.close()
    assert served.door.answered == 3
    await assert_log_verifies(store)


async def test_what_the_door_does_not_take_gets_the_usual_answer(served, store):
    org = await store.organization(SLUG)
    before = await store.head(org.id)
    cases = [
        (served.request(donation(), key="ldg_nope_nope"), 401),  # handed back: Litestar
        (served.request(b"{not json"), 400),
        (served.request(donation(message="x" * 5000)), 413),  # past max_body while read
        (served.request(donation(), extra=f"X-Big: {'h' * 17000}\r\n"), 431),  # HeaderLimit
    ]
    for request, status in cases:
        [(got, fields, body)] = await exchange(served, request)
        assert got == status, body
        assert fields["content-type"] == "application/problem+json", fields
        assert json.loads(body)["status"] == status
    assert served.door.answered == 0
    assert (await store.head(org.id)).size == before.size
    # A client that leaves before its answer loses nothing, and the connection's server goes on.
    _reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(served.request(donation()))
    await writer.drain()
    writer.close()
    await asyncio.sleep(0.3)
    [(status, _, _)] = await exchange(served, served.request(donation()))
    assert status == 201
    after = await store.head(org.id)
    assert after.size in (before.size + 1, before.size + 2)
    await assert_log_verifies(store)


async def test_expect_continue_goes_the_usual_way(served, store):
    request = served.request(donation(), extra="Expect: 100-continue\r\n")
    head, body = request.split(b"\r\n\r\n", 1)
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(head + b"\r\n\r\n")
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert interim.startswith(b"HTTP/1.1 100")
    writer.write(body)
    status, _, _ = await read_response(reader)
    writer.close()
    assert status == 201 and served.door.answered == 0
    await assert_log_verifies(store)


async def test_a_donation_at_the_door_ends_the_pages_old_tags(served, store):
    """The page revalidation's cache of heads is emptied by a write answered at the door: the
    fund page's old tag gets the new page, not a 304."""
    async with httpx.AsyncClient(base_url=served.url) as client:
        page = f"/orgs/{SLUG}/funds/zakat"
        first = await client.get(page)
        tag = first.headers["etag"]
        again = await client.get(page, headers={"If-None-Match": tag})
        assert again.status_code == 304
        [(status, _, _)] = await exchange(served, served.request(donation()))
        assert status == 201 and served.door.answered == 1
        after = await client.get(page, headers={"If-None-Match": tag})
        assert after.status_code == 200 and after.headers["etag"] != tag


async def test_an_idle_connection_closes_after_the_keep_alive_timeout_from_its_last_answer(
    settings, store, kek
):
    """One keep-alive timer per idle spell (``LedgerHttpProtocol._keep_alive_due``): a
    connection busy again before it fires is not closed, and is closed once it has been idle
    for the whole timeout after its last answer."""
    org = await create_organization(store, settings, kek, SLUG, "Yayasan Pintu")
    keys = {"recorder": (await issue_key(store, org.id, "recorder"))[1]}
    app = create_app(settings.with_(checkpoint_interval=0))
    async with serve_on_port(app, timeout_keep_alive=1) as url, httpx.AsyncClient(
        base_url=url
    ) as client:
        fund = {"code": "zakat", "name": "Zakat", "currency": "IDR", "fee_cap_bps": 0}
        admin = (await issue_key(store, org.id, "admin"))[1]
        headers = {"Authorization": f"Bearer {admin}", "Idempotency-Key": "fund"}
        assert (await client.post(f"/v1/orgs/{SLUG}/funds", json=fund, headers=headers)).is_success
        served = Served(app, url, keys)
        reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
        try:
            answered = []
            for pause in (0, 0.6, 0.6):  # 1.2 s after the first answer, 0.6 s after the last
                await asyncio.sleep(pause)
                writer.write(served.request(donation()))
                answered.append((await read_response(reader))[0])
            assert answered == [201, 201, 201]
            loop = asyncio.get_running_loop()
            last = loop.time()
            assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server
            assert 0.9 <= loop.time() - last < 2.5
        finally:
            writer.close()
    await assert_log_verifies(store)
