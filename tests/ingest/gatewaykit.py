"""Gateway tests: the real app served by uvicorn on loopback (real HTTP, real PostgreSQL),
and notifications built from the gateways' documented examples, signed with test secrets."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn

from ledger.http.app import create_app
from ledger.settings import Settings

SERVER_KEY = "SB-Mid-server-TEST-4f8a1c2d9e7b"
"""The Midtrans server key the tests connect (a sandbox-shaped test value)."""
XENDIT_TOKEN = "xnd-callback-TEST-7d1e5a9c3b"
"""The Xendit callback token the tests connect."""


@asynccontextmanager
async def live_server(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app under uvicorn on 127.0.0.1 (an ephemeral port), and a client for it."""
    app = create_app(settings.with_(checkpoint_interval=0))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="on", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        await task


def midtrans_signature(order_id: str, status_code: str, gross_amount: str, key: str) -> str:
    """SHA-512(order_id + status_code + gross_amount + server key), hex (Midtrans docs)."""
    return hashlib.sha512((order_id + status_code + gross_amount + key).encode()).hexdigest()


def midtrans(
    order_id: str,
    status: str = "settlement",
    gross_amount: str = "24145.00",
    *,
    key: str = SERVER_KEY,
    status_code: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Midtrans notification shaped like the documented QRIS/bank-transfer examples."""
    code = status_code or {"pending": "201", "deny": "202", "expire": "407"}.get(status, "200")
    body = {
        "transaction_time": "2026-11-20 14:05:09",
        "transaction_status": status,
        "transaction_id": "6ee793df-9b1d-4343-8eda-cc9663b4222f",
        "status_message": "midtrans payment notification",
        "status_code": code,
        "signature_key": midtrans_signature(order_id, code, gross_amount, key),
        "settlement_time": "2026-11-20 14:05:21",
        "payment_type": "qris",
        "order_id": order_id,
        "merchant_id": "G141532850",
        "gross_amount": gross_amount,
        "fraud_status": "accept",
        "currency": "IDR",
    }
    body.update(extra)
    return body


def encode(body: dict[str, Any]) -> bytes:
    """The exact bytes sent (the SHA-256 in the entry is of these)."""
    return json.dumps(body, separators=(",", ":")).encode()


def xendit_invoice(
    invoice_id: str, external_id: str, amount: Any = 250000, status: str = "PAID", **extra: Any
) -> dict[str, Any]:
    """A Xendit invoice callback shaped like the documented example (payer data included,
    as Xendit sends it: it stays in the inbox, never in the log)."""
    body = {
        "id": invoice_id,
        "external_id": external_id,
        "user_id": "5781d19b2e2385880609791c",
        "is_high": False,
        "payment_method": "BANK_TRANSFER",
        "status": status,
        "merchant_name": "Yayasan Senyum Anak",
        "amount": amount,
        "paid_amount": amount,
        "bank_code": "BCA",
        "paid_at": "2026-11-20T07:05:09.000Z",
        "payer_email": "donatur@example.org",
        "description": "Donasi #SenyumAnak",
        "created": "2026-11-20T06:55:41.000Z",
        "updated": "2026-11-20T07:05:10.000Z",
        "currency": "IDR",
        "payment_channel": "BCA",
        "payment_destination": "8808999917965673",
    }
    body.update(extra)
    return body


def xendit_event(event: str, **data: Any) -> dict[str, Any]:
    """A Xendit event callback (QR code payment, payment or refund) with ``data``."""
    return {
        "event": event,
        "business_id": "5f27a14a9bf05c73dd040bc8",
        "created": "2026-11-20T07:05:09.000Z",
        "data": {"currency": "IDR", "status": "SUCCEEDED", "created": "2026-11-20T07:05:09Z", **data},
    }
