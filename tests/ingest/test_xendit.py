"""Xendit callbacks end to end: invoice, QR code, payment and refund events with the
``x-callback-token`` header, over real HTTP into a real PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ledger.http.auth import issue_key
from ledger.journal.organizations import create_organization
from tests.apikit import Org, auth
from tests.ingest.gatewaykit import (
    XENDIT_TOKEN,
    encode,
    live_server,
    xendit_event,
    xendit_invoice,
)
from tests.ingest.test_midtrans import Gateway
from tests.logkit import assert_log_verifies

CALLBACK = "/gateways/xendit/callbacks"


class Xendit(Gateway):
    async def callback(
        self, body: dict[str, Any] | bytes, token: str | None = XENDIT_TOKEN
    ) -> httpx.Response:
        raw = body if isinstance(body, bytes) else encode(body)
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["x-callback-token"] = token
        return await self.client.post(self.org.url(CALLBACK), content=raw, headers=headers)


@pytest.fixture
async def xg(store, settings, kek) -> AsyncIterator[Xendit]:  # type: ignore[no-untyped-def]
    async with live_server(settings) as client:
        record = await create_organization(
            store, settings, kek, "yayasan-senyum", "Yayasan Senyum Anak"
        )
        keys = {r: (await issue_key(store, record.id, r))[1] for r in ("admin", "recorder")}
        org = Org(client, record.slug, keys)  # type: ignore[arg-type]
        await org.fund("senyum-2026")
        await org.fund("zakat-2026", fee_cap_bps=0)
        rule = {"funds": {"ZKT-": "zakat-2026"}, "default": "senyum-2026"}
        r = await client.put(
            org.url("/gateways/xendit"),
            json={"secret": XENDIT_TOKEN, "fund_rule": rule},
            headers=auth(keys["admin"]),
        )
        assert r.status_code == 200, r.text
        assert r.json()["notification_path"] == f"/v1/orgs/{org.slug}{CALLBACK}"
        yield Xendit(org, record, store)


async def test_paid_invoice_becomes_a_donation_once_and_payer_data_stays_out_of_the_log(xg):
    start = await xg.size()
    paid = xendit_invoice("579c8d61f23fa4ca35e52da4", "ZKT-INV-1", amount=250000)
    raw = encode(paid)
    answers = await asyncio.gather(*(xg.callback(raw) for _ in range(8)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert sum(len(a.json()["entries"]) for a in answers) == 1
    settled = await xg.callback(xendit_invoice("579c8d61f23fa4ca35e52da4", "ZKT-INV-1",
                                               amount=250000, status="SETTLED"))
    assert settled.json()["entries"] == []  # PAID then SETTLED: one payment
    [entry] = await xg.entries(start)
    body = entry["body"]
    assert body["amount"] == 25000000 and body["fund"] == "zakat-2026"
    assert body["reference"] == "xendit:579c8d61f23fa4ca35e52da4"
    assert body["channel"] == "bank_transfer" and body["received_on"] == "2026-11-20"
    assert body["notification"] == {
        "gateway": "xendit",
        "event": "invoice.paid",
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    assert "donatur@example.org" not in json.dumps(entry)
    expired = await xg.callback(xendit_invoice("inv-exp-1", "ZKT-INV-2", status="EXPIRED"))
    assert expired.json() == {"status": "ignored", "entries": []}
    await assert_log_verifies(xg.store)


async def test_wrong_or_missing_token_is_401_and_kept_nowhere(xg, owner):
    start = await xg.size()
    paid = xendit_invoice("inv-401", "ZKT-INV-401")
    for token in (None, "", "xnd-callback-TEST-7d1e5a9c3c", XENDIT_TOKEN + "x"):
        r = await xg.callback(paid, token=token)
        assert r.status_code == 401, r.text
        assert r.json()["type"] == "/problems/gateway-signature"
    assert await xg.size() == start
    assert await owner.fetchval("SELECT count(*) FROM gateway_notifications") == 0
    await assert_log_verifies(xg.store)


async def test_qr_payment_refunds_before_and_after_and_duplicates(xg):
    start = await xg.size()
    refund_1 = xendit_event(
        "refund.succeeded", id="rfd-1", payment_id="qrpy-77", amount=10000,
        reference_id="ZKT-QR-77", updated="2026-11-22T02:00:00Z",
    )
    r = await xg.callback(refund_1)  # before its payment: waits
    assert r.status_code == 200 and r.json() == {"status": "waiting", "entries": []}
    paid = xendit_event("qr.payment", id="qrpy-77", qr_id="qr-1", reference_id="ZKT-QR-77",
                        amount=50000.00)
    r = await xg.callback(paid)
    assert r.status_code == 200 and len(r.json()["entries"]) == 3
    refund_2 = xendit_event(
        "refund.succeeded", id="rfd-2", payment_id="qrpy-77", amount=15000,
        reference_id="ZKT-QR-77", updated="2026-11-23T02:00:00Z",
    )
    r = await xg.callback(refund_2)
    assert len(r.json()["entries"]) == 2
    for body in (paid, refund_1, refund_2):  # duplicates, in any order
        assert (await xg.callback(body)).json()["entries"] == []
    kinds = [(e["kind"], e["body"].get("amount")) for e in await xg.entries(start)]
    assert kinds == [
        ("donation", 5000000),
        ("correction", None),
        ("donation", 4000000),
        ("correction", None),
        ("donation", 2500000),  # 50,000 - 10,000 - 15,000
    ]
    assert await xg.balance("zakat-2026") == 2500000
    assert (await xg.entries(start))[0]["body"]["channel"] == "qris"
    await assert_log_verifies(xg.store)


@pytest.mark.parametrize("amount", ["1e5", "50000.001", "-100", '"abc"', "0"])
async def test_malformed_amounts_are_refused(xg, owner, amount):
    start = await xg.size()
    raw = encode(xendit_event("payment.succeeded", payment_id="py-1", reference_id="R-1",
                              amount=1)).replace(b'"amount":1', b'"amount":' + amount.encode())
    r = await xg.callback(raw)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["pointer"] == "/data/amount"
    assert await xg.size() == start
    assert await owner.fetchval("SELECT count(*) FROM gateway_notifications") == 0
    await assert_log_verifies(xg.store)
