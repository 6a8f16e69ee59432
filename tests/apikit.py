"""Helpers for API tests: a real app on a real database, driven through HTTP."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from litestar.testing import AsyncTestClient

from ledger.formats.note import Verifier, parse_vkey
from ledger.http.app import create_app
from ledger.http.server import uvicorn_config
from ledger.journal.publisher import publish
from reports.pdf.signing import Validation, validate_pdf

_keys = itertools.count()

PROBLEM = "application/problem+json"
DONOR = {"name": "Siti Aminah", "email": "siti@example.id", "public_name": "Siti A."}


def idem() -> dict[str, str]:
    return {"Idempotency-Key": f"test-{next(_keys)}"}


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


def donation(ref: str | None = None, **changes: Any) -> dict[str, Any]:
    """A donation body for fund 'senyum-2026' (10,000 IDR); ``changes`` override any field."""
    return {
        "fund": "senyum-2026",
        "amount": 10_000,
        "currency": "IDR",
        "received_on": "2026-11-01",
        "channel": "bank_transfer",
        "reference": ref or f"REF-{next(_keys)}",
        **changes,
    }


def disbursement(amount: int, ref: str | None = None, **changes: Any) -> dict[str, Any]:
    """A disbursement body from fund 'senyum-2026' to 'lksa-harapan' for food."""
    return {
        "fund": "senyum-2026",
        "beneficiary": "lksa-harapan",
        "amount": amount,
        "currency": "IDR",
        "purpose": "food",
        "paid_on": "2026-11-02",
        "reference": ref or f"OUT-{next(_keys)}",
        **changes,
    }


def fee(amount: int, **changes: Any) -> dict[str, Any]:
    """A fee body charged to fund 'senyum-2026'."""
    return {
        "fund": "senyum-2026",
        "amount": amount,
        "currency": "IDR",
        "charged_on": "2026-11-04",
        "description": "payment gateway fees",
        **changes,
    }


def assert_problem(r, status: int, *texts: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """``r`` is an RFC 9457 problem with this status; each of ``texts`` is in its detail."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].split(";")[0] == PROBLEM, r.headers
    body = json.loads(r.content)
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status
    for field in ("type", "title", "detail"):
        assert isinstance(body[field], str) and body[field], body
    for text in texts:
        assert text in body["detail"], (text, body)
    return body


def pdf_text(pdf: bytes, folder: Path, name: str | None = None) -> str:
    """The PDF's text as ``pdftotext -layout`` prints it (the file is kept in ``folder``)."""
    path = folder / (name or f"{hashlib.sha256(pdf).hexdigest()[:12]}.pdf")
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


async def validate(pdf: bytes, cert_der: bytes) -> Validation:
    """pyHanko's validation runs its own event loop: keep it off the test's."""
    return await asyncio.to_thread(validate_pdf, pdf, cert_der)


async def setup_donations(charity: Org, n: int = 3) -> list[dict[str, Any]]:
    """The default fund and ``n`` donations of 1,250,000.00 IDR; the first one with DONOR."""
    await charity.fund()
    return [await charity.donate(125_000_000, donor=DONOR if i == 0 else {}) for i in range(n)]


async def publish_now(charity: Org, store, kek: bytes) -> None:  # type: ignore[no-untyped-def]
    """Sign a checkpoint of the current head (the server does this every second)."""
    await publish(store, await store.organization(charity.slug), kek)


def flip(text: str, line_no: int) -> str:
    """``text`` with the first bit of its base64 line ``line_no`` flipped."""
    lines = text.split("\n")
    raw = bytearray(base64.b64decode(lines[line_no]))
    raw[0] ^= 1
    lines[line_no] = base64.b64encode(bytes(raw)).decode()
    return "\n".join(lines)


async def head_size(store, charity: Org) -> int:  # type: ignore[no-untyped-def]
    """How many entries the organization's log holds."""
    org = await store.organization(charity.slug)
    return (await store.head(org.id)).size


async def walk(client: AsyncTestClient, url: str, limit: int) -> tuple[list[dict], int]:
    """Every item of a paginated list, following next_cursor; returns (items, pages)."""
    items: list[dict] = []
    cursor: str | None = None
    pages = 0
    while True:
        sep = "&" if "?" in url else "?"
        query = f"{sep}limit={limit}" + (f"&cursor={cursor}" if cursor is not None else "")
        r = await client.get(url + query)
        assert r.status_code == 200, r.text
        page = r.json()
        pages += 1
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return items, pages
        assert page["next_cursor"] is not None and len(page["items"]) == limit
        cursor = page["next_cursor"]
        assert pages < 1000, "pagination does not end"


@asynccontextmanager
async def serve_in_loop(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """Run the app's lifespan and requests in the test's own event loop, so concurrent
    requests really overlap (Litestar's AsyncTestClient runs each request to completion on
    a portal thread) and tests can share objects with the app (``client.app``)."""
    inbox: asyncio.Queue[dict] = asyncio.Queue()
    outbox: asyncio.Queue[dict] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        await task
        raise RuntimeError(f"app did not start: {started}")
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def serve_on_port(app, **changes: Any) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """Serve ``app`` as ``ledger serve`` does (uvicorn with the connection's donation door,
    ``uvicorn_config``) on a free loopback port, in the test's event loop; yields its base URL.
    ``changes``: uvicorn settings changed (e.g. ``timeout_keep_alive``)."""
    port = free_port()
    config = uvicorn_config(app, host="127.0.0.1", port=port, log_level="warning")
    for name, value in changes.items():
        setattr(config, name, value)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def live_client(settings, fault=None, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """Another instance of the real app on the same database, with changed settings, served
    in the test's event loop (concurrent requests overlap)."""
    app = create_app(settings.with_(checkpoint_interval=0, **changes), fault=fault)
    async with serve_in_loop(app) as c:
        yield c


@asynccontextmanager
async def app_client(settings, fault=None, **changes: Any) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    """Another instance of the real app on the same database, with changed settings, behind
    Litestar's test client (one request at a time)."""
    app = create_app(settings.with_(checkpoint_interval=0, **changes), fault=fault)
    async with AsyncTestClient(app) as c:
        yield c


class Org:
    """An organization with one key per role, and shortcuts for common writes and reads."""

    def __init__(self, client: AsyncTestClient, slug: str, keys: dict[str, str]) -> None:
        self.client = client
        self.slug = slug
        self.keys = keys

    def url(self, path: str = "") -> str:
        return f"/v1/orgs/{self.slug}{path}"

    async def post(self, path: str, json: Any, role: str = "recorder", key: str | None = None):  # type: ignore[no-untyped-def]
        headers = auth(self.keys[role], **({"Idempotency-Key": key} if key else idem()))
        return await self.client.post(self.url(path), json=json, headers=headers)

    async def ok(self, path: str, json: Any, role: str = "recorder") -> dict[str, Any]:
        r = await self.post(path, json, role)
        assert r.status_code in (200, 201), r.text
        return r.json()

    async def fund(self, code: str = "senyum-2026", currency: str = "IDR", **extra: Any) -> dict:
        return await self.ok(
            "/funds", {"code": code, "name": f"Fund {code}", "currency": currency, **extra}, "admin"
        )

    async def beneficiary(self, code: str = "lksa-harapan", **extra: Any) -> dict:
        body = {
            "code": code,
            "name": f"LKSA {code}",
            "city": "Bandung",
            "province": "Jawa Barat",
            **extra,
        }
        return await self.ok("/beneficiaries", body, "admin")

    async def donate(
        self, amount: int, fund: str = "senyum-2026", ref: str | None = None, **extra: Any
    ) -> dict:
        return await self.ok("/donations", donation(ref, amount=amount, fund=fund, **extra))

    async def disburse(  # type: ignore[no-untyped-def]
        self,
        amount: int,
        fund: str = "senyum-2026",
        to: str = "lksa-harapan",
        purpose: str = "food",
        currency: str = "IDR",
    ):
        body = disbursement(amount, fund=fund, beneficiary=to, purpose=purpose, currency=currency)
        return await self.post("/disbursements", body)

    async def transfer(self, src: str, dst: str, amount: int, currency: str = "IDR"):  # type: ignore[no-untyped-def]
        body = {
            "from_fund": src,
            "to_fund": dst,
            "amount": amount,
            "currency": currency,
            "transferred_on": "2026-11-03",
            "reason": "rebalance campaigns",
        }
        return await self.post("/transfers", body)

    async def fee(self, amount: int, fund: str = "senyum-2026", currency: str = "IDR"):  # type: ignore[no-untyped-def]
        return await self.post("/fees", fee(amount, fund=fund, currency=currency))

    async def correct(self, index: int, reason: str = "entered by mistake"):  # type: ignore[no-untyped-def]
        return await self.post("/corrections", {"corrects": index, "reason": reason})

    async def receipt(self, index: int, role: str = "auditor") -> str:
        """The donation's receipt (JSON text) as a key of ``role`` downloads it."""
        r = await self.client.get(
            self.url(f"/donations/{index}/receipt"), headers=auth(self.keys[role])
        )
        assert r.status_code == 200, r.text
        return r.text

    async def vkeys(self) -> list[str]:
        """The log's published verifier keys (vkey text)."""
        r = await self.client.get(self.url("/log/keys"))
        assert r.status_code == 200, r.text
        return r.text.split()

    async def verifiers(self) -> list[Verifier]:
        return [parse_vkey(k) for k in await self.vkeys()]

    async def cert_der(self) -> bytes:
        """The organization's PDF signing certificate (DER)."""
        pem = (await self.client.get(self.url("/certificate"))).text
        return x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)

    async def statement(self, period: dict[str, Any]) -> dict[str, Any]:
        """Issue a statement of ``period`` as the admin; its answer (``id`` is its number)."""
        return await self.ok("/statements", period, "admin")

    async def statement_file(self, number: int, what: str) -> bytes:
        """Statement ``number`` as ``what`` ("pdf?lang=id", "csv", "json", ...)."""
        r = await self.client.get(self.url(f"/statements/{number}/{what}"))
        assert r.status_code == 200, r.text
        return r.content

    async def fund_view(self, code: str = "senyum-2026") -> dict[str, Any]:
        r = await self.client.get(self.url(f"/funds/{code}"))
        assert r.status_code == 200, r.text
        return r.json()

    async def balances(self, as_of: int | None = None) -> dict[tuple[str, str], int]:
        """GET /balances as {(account, currency): amount}, zero balances left out."""
        url = self.url("/balances") + (f"?as_of={as_of}" if as_of is not None else "")
        r = await self.client.get(url)
        assert r.status_code == 200, r.text
        return {
            (b["account"], b["currency"]): b["amount"] for b in r.json()["balances"] if b["amount"]
        }


def fund_balance(bal: dict[tuple[str, str], int], code: str, currency: str = "IDR") -> int:
    return bal.get((f"fund:{code}", currency), 0)
