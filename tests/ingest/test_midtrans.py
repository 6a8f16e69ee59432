"""Midtrans HTTP notifications end to end: signed notifications over real HTTP (uvicorn on
loopback) into a real PostgreSQL, and the log verified after every test that writes."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ledger.http.auth import issue_key
from ledger.journal.organizations import create_organization
from ledger.store.log import Organization, Store
from tests.apikit import Org, auth
from tests.ingest.gatewaykit import SERVER_KEY, encode, live_server, midtrans
from tests.logkit import assert_log_verifies

NOTIFY = "/gateways/midtrans/notifications"
JSON = {"Content-Type": "application/json"}


@dataclass
class Gateway:
    """An organization over real HTTP, with funds and a connected Midtrans account."""

    org: Org
    record: Organization
    store: Store

    @property
    def client(self) -> httpx.AsyncClient:
        return self.org.client  # type: ignore[return-value]

    async def notify(self, body: dict[str, Any] | bytes, **headers: str) -> httpx.Response:
        raw = body if isinstance(body, bytes) else encode(body)
        return await self.client.post(
            self.org.url(NOTIFY), content=raw, headers={**JSON, **headers}
        )

    async def size(self) -> int:
        return (await self.store.head(self.record.id)).size

    async def entries(self, start: int) -> list[dict[str, Any]]:
        end = await self.size()
        return [json.loads(e.body) for e in await self.store.entries(self.record.id, start, end)]

    async def balance(self, fund: str = "senyum-2026") -> int:
        r = await self.client.get(self.org.url(f"/funds/{fund}"))
        return r.json()["balance"]


@pytest.fixture
async def gw(store, settings, kek) -> AsyncIterator[Gateway]:  # type: ignore[no-untyped-def]
    async with live_server(settings) as client:
        record = await create_organization(
            store, settings, kek, "yayasan-senyum", "Yayasan Senyum Anak"
        )
        keys = {r: (await issue_key(store, record.id, r))[1] for r in ("admin", "recorder")}
        org = Org(client, record.slug, keys)  # type: ignore[arg-type]
        await org.fund("senyum-2026")
        await org.fund("zakat-2026", fee_cap_bps=0)
        rule = {"by": "order_prefix", "funds": {"SNY-": "senyum-2026", "ZKT-": "zakat-2026"}}
        r = await client.put(
            org.url("/gateways/midtrans"),
            json={"secret": SERVER_KEY, "fund_rule": rule},
            headers=auth(keys["admin"]),
        )
        assert r.status_code == 200, r.text
        yield Gateway(org, record, store)


async def test_settlement_becomes_one_donation_with_exact_amount_and_evidence(gw, owner):
    start = await gw.size()
    body = midtrans("SNY-20261120-0001", gross_amount="24145.00")
    raw = encode(body)
    r = await gw.notify(raw)
    assert r.status_code == 200, r.text
    ack = r.json()
    assert ack["status"] == "recorded" and len(ack["entries"]) == 1
    [entry] = await gw.entries(start)
    assert entry["kind"] == "donation"
    donation = entry["body"]
    assert donation["amount"] == 2414500  # "24145.00" with IDR's recorded exponent 2
    assert donation["currency"] == "IDR" and donation["fund"] == "senyum-2026"
    assert donation["reference"] == "midtrans:SNY-20261120-0001"
    assert donation["channel"] == "qris"
    assert donation["received_on"] == "2026-11-20"  # settlement_time, Jakarta = the org's zone
    assert donation["donor"] == {"commitment": None, "display": None}
    assert donation["notification"] == {
        "gateway": "midtrans",
        "event": "settlement",
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    # The exact body is kept for auditors, the secret never in the clear.
    kept = await owner.fetchval("SELECT body FROM gateway_notifications")
    assert kept == raw
    sealed = await owner.fetchval("SELECT sealed_secret FROM gateway_connections")
    assert SERVER_KEY.encode() not in sealed
    assert await gw.balance() == 2414500
    await assert_log_verifies(gw.store)


async def test_replays_and_concurrent_duplicates_record_exactly_one_entry(gw):
    start = await gw.size()
    raw = encode(midtrans("SNY-DUP-1", gross_amount="100000.00"))
    answers = await asyncio.gather(*(gw.notify(raw) for _ in range(16)))
    assert all(a.status_code == 200 for a in answers), [(a.status_code, a.text[:300]) for a in answers if a.status_code != 200]
    assert sum(len(a.json()["entries"]) for a in answers) == 1
    assert await gw.size() == start + 1
    again = await gw.notify(raw)  # a later replay of the same notification
    assert again.status_code == 200 and again.json() == {"status": "recorded", "entries": []}
    # Midtrans sends capture (card, fraud accept) and then settlement for the same order.
    capture = await gw.notify(
        midtrans("SNY-DUP-1", "capture", gross_amount="100000.00", payment_type="credit_card")
    )
    assert capture.json()["entries"] == []
    assert await gw.size() == start + 1
    assert await gw.balance() == 10000000
    await assert_log_verifies(gw.store)


@pytest.mark.parametrize(
    "status,extra",
    [
        ("pending", {}),
        ("expire", {}),
        ("cancel", {}),
        ("deny", {}),
        ("capture", {"fraud_status": "challenge", "payment_type": "credit_card"}),
    ],
)
async def test_statuses_that_move_no_money_are_acknowledged_and_kept_nowhere(
    gw, owner, status, extra
):
    start = await gw.size()
    r = await gw.notify(midtrans("SNY-PENDING-1", status, **extra))
    assert r.status_code == 200 and r.json() == {"status": "ignored", "entries": []}
    assert await gw.size() == start
    assert await owner.fetchval("SELECT count(*) FROM gateway_notifications") == 0
    await assert_log_verifies(gw.store)


async def test_wrong_key_tampered_amount_and_bad_signature_are_401_and_kept_nowhere(gw, owner):
    start = await gw.size()
    wrong_key = midtrans("SNY-BAD-1", key="SB-Mid-server-SOMEONE-ELSE")
    tampered = midtrans("SNY-BAD-2", gross_amount="10000.00")
    tampered["gross_amount"] = "99990000.00"  # changed after Midtrans signed it
    garbage = midtrans("SNY-BAD-3", signature_key="not-hex-at-all")
    for body in (wrong_key, tampered, garbage):
        r = await gw.notify(body, **{"Accept-Language": "id"})
        assert r.status_code == 401, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "/problems/gateway-signature"
    assert await gw.size() == start
    assert await owner.fetchval("SELECT count(*) FROM gateway_notifications") == 0
    await assert_log_verifies(gw.store)


@pytest.mark.parametrize("amount", ["24145.001", "1e3", "-5000.00", "abc", "0.00", "24145,00"])
async def test_malformed_amounts_are_refused_naming_the_field(gw, owner, amount):
    start = await gw.size()
    r = await gw.notify(midtrans("SNY-AMT-1", gross_amount=amount))  # signed as sent
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["errors"][0]["pointer"] == "/gross_amount"
    assert "gross_amount" in problem["detail"]
    assert await gw.size() == start
    assert await owner.fetchval("SELECT count(*) FROM gateway_notifications") == 0
    await assert_log_verifies(gw.store)


async def test_unknown_order_prefix_is_refused_in_the_callers_language(gw, owner):
    start = await gw.size()
    r = await gw.notify(midtrans("XYZ-0001"), **{"Accept-Language": "id-ID"})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"] == "/problems/unrouted-payment"
    assert "ID pesanan 'XYZ-0001'" in problem["detail"] and "'SNY-'" in problem["detail"]
    assert r.headers["content-language"] == "id"
    english = await gw.notify(midtrans("XYZ-0001"))
    assert "order id 'XYZ-0001'" in english.json()["detail"]
    assert await gw.size() == start
    assert await owner.fetchval("SELECT count(*) FROM gateway_notifications") == 0
    await assert_log_verifies(gw.store)


async def test_refund_before_settlement_waits_and_is_applied_when_it_comes(gw):
    start = await gw.size()
    refund = midtrans(
        "ZKT-REF-1",
        "refund",
        gross_amount="500000.00",
        refunds=[
            {
                "refund_chargeback_id": 1,
                "refund_amount": "500000.00",
                "created_at": "2026-11-21 09:00:00",
                "reason": "donor asked",
            }
        ],
    )
    r = await gw.notify(refund)
    assert r.status_code == 200 and r.json() == {"status": "waiting", "entries": []}
    assert await gw.size() == start  # nothing in the log yet, but kept
    settled = await gw.notify(midtrans("ZKT-REF-1", gross_amount="500000.00"))
    assert settled.status_code == 200, settled.text
    assert len(settled.json()["entries"]) == 2
    donation, correction = await gw.entries(start)
    assert donation["kind"] == "donation" and donation["body"]["amount"] == 50000000
    assert donation["body"]["fund"] == "zakat-2026"
    assert correction["kind"] == "correction"
    assert correction["body"]["corrects"] == settled.json()["entries"][0]
    assert correction["body"]["effective_on"] == "2026-11-21"
    assert correction["body"]["notification"]["event"] == "refund:50000000"
    assert correction["body"]["notification"]["sha256"] == hashlib.sha256(
        encode(refund)
    ).hexdigest()
    assert await gw.balance("zakat-2026") == 0
    # Both again, in either order: nothing more.
    for body in (refund, midtrans("ZKT-REF-1", gross_amount="500000.00")):
        assert (await gw.notify(body)).json()["entries"] == []
    assert len(await gw.entries(start)) == 2
    await assert_log_verifies(gw.store)


def _partial(order: str, gross: str, *amounts: str) -> dict[str, Any]:
    refunds = [
        {"refund_chargeback_id": i, "refund_amount": a, "created_at": f"2026-11-2{i} 10:00:00"}
        for i, a in enumerate(amounts, start=1)
    ]
    return midtrans(order, "partial_refund", gross_amount=gross, refunds=refunds)


async def test_partial_refunds_in_any_order_leave_the_right_amount(gw):
    start = await gw.size()
    first = _partial("SNY-PART-1", "100000.00", "30000.00")
    second = _partial("SNY-PART-1", "100000.00", "30000.00", "20000.00")
    assert (await gw.notify(midtrans("SNY-PART-1", gross_amount="100000.00"))).status_code == 200
    # The second partial refund arrives before the first.
    r = await gw.notify(second)
    assert r.status_code == 200 and len(r.json()["entries"]) == 2
    r = await gw.notify(first)  # late, and says less: changes nothing
    assert r.status_code == 200 and r.json()["entries"] == []
    kinds = [(e["kind"], e["body"].get("amount")) for e in await gw.entries(start)]
    assert kinds == [("donation", 10000000), ("correction", None), ("donation", 5000000)]
    assert await gw.balance() == 5000000  # 100,000.00 - 50,000.00 refunded
    replacement = (await gw.entries(start))[2]["body"]
    assert replacement["reference"] == "midtrans:SNY-PART-1"
    assert replacement["received_on"] == "2026-11-20"  # when the money came in
    await assert_log_verifies(gw.store)


async def test_refunds_larger_than_the_payment_are_refused(gw):
    start = await gw.size()
    r = await gw.notify(_partial("SNY-OVER-1", "1000.00", "800.00", "800.00"))
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["pointer"] == "/refunds"
    assert await gw.size() == start
    await assert_log_verifies(gw.store)


async def test_custom_field_rule_and_reconnecting_with_a_new_key(gw, owner):
    admin = auth(gw.org.keys["admin"])
    rule = {"by": "custom_field", "field": "custom_field1", "funds": {"zakat": "zakat-2026"}}
    r = await gw.client.put(
        gw.org.url("/gateways/midtrans"),
        json={"secret": "SB-Mid-server-ROTATED-1234", "fund_rule": rule},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    listed = await gw.client.get(gw.org.url("/gateways"), headers=admin)
    assert [g["gateway"] for g in listed.json()] == ["midtrans"]
    assert "secret" not in listed.text and "ROTATED" not in listed.text
    start = await gw.size()
    old = await gw.notify(midtrans("ANY-1", custom_field1="zakat"))
    assert old.status_code == 401  # the old server key no longer counts
    new = await gw.notify(
        midtrans("ANY-1", custom_field1="zakat", key="SB-Mid-server-ROTATED-1234")
    )
    assert new.status_code == 200, new.text
    [entry] = await gw.entries(start)
    assert entry["body"]["fund"] == "zakat-2026"
    assert await owner.fetchval("SELECT count(*) FROM gateway_connections") == 2
    await assert_log_verifies(gw.store)


async def test_an_organization_without_midtrans_is_404_and_the_service_role_cannot_rewrite(
    gw, store, settings, kek, owner
):
    other = await create_organization(store, settings, kek, "yayasan-lain", "Yayasan Lain")
    r = await gw.client.post(
        f"/v1/orgs/{other.slug}{NOTIFY}", content=encode(midtrans("SNY-1")), headers=JSON
    )
    assert r.status_code == 404 and r.json()["type"] == "/problems/gateway-not-connected"
    await gw.notify(midtrans("SNY-KEEP-1"))
    async with store.connection() as conn:  # ledger_writer: may add, never change
        for sql in (
            "UPDATE gateway_notifications SET gross = 1",
            "DELETE FROM gateway_notifications",
            "UPDATE gateway_connections SET fund_rule = '{}'",
            "DELETE FROM gateway_connections",
        ):
            with pytest.raises(Exception, match="permission denied"):
                await conn.execute(sql)
    with pytest.raises(Exception, match="append-only"):
        await owner.execute("DELETE FROM gateway_notifications")
    await assert_log_verifies(gw.store)


async def test_refunds_racing_their_settlements_are_always_applied(gw, owner):
    """A refund sent at the same moment as its settlement: the settlement's donation joins a
    group-commit batch while the refund is kept and reconciled. Whichever commits first, every
    payment ends refunded (donation, then its correction), once."""
    start = await gw.size()
    orders = [f"ZKT-RACE-{n}" for n in range(12)]

    def refund(order: str) -> dict[str, Any]:
        return midtrans(
            order,
            "refund",
            gross_amount="70000.00",
            refunds=[{"refund_chargeback_id": 1, "refund_amount": "70000.00",
                      "created_at": "2026-11-21 09:00:00"}],
        )

    sends = []
    for n, order in enumerate(orders):  # settlements and refunds interleaved, both orders
        pair = [midtrans(order, gross_amount="70000.00"), refund(order)]
        sends += pair if n % 2 else pair[::-1]
    answers = await asyncio.gather(*(gw.notify(body) for body in sends))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    entries = await gw.entries(start)
    answered = sorted(i for a in answers for i in a.json()["entries"])
    assert answered == list(range(start, start + len(entries)))  # each entry answered once
    by_order: dict[str, list[str]] = {}
    for entry in entries:
        body = entry["body"]
        reference = body.get("reference") or next(
            e["body"]["reference"] for e in entries if e["index"] == body["corrects"]
        )
        by_order.setdefault(reference, []).append(entry["kind"])
    assert by_order == {f"midtrans:{o}": ["donation", "correction"] for o in orders}
    assert await gw.balance("zakat-2026") == 0
    kept = await owner.fetchval("SELECT count(*) FROM gateway_notifications")
    assert kept == 2 * len(orders)
    await assert_log_verifies(gw.store)


async def test_requests_that_find_the_kept_connection_expired_share_one_read(
    gw, store, settings, kek, monkeypatch
):
    """When the kept connection expires under load, the requests in flight wait for one
    read instead of each taking a pool connection and unsealing the same secret."""
    from ledger.errors import GatewayNotConnectedError
    from ledger.ingest import connections, lookups

    reads: list[str] = []
    real = connections.open_connection

    async def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(args[-1])
        await asyncio.sleep(0.05)  # a slow database: every caller arrives during the read
        return await real(*args, **kwargs)

    monkeypatch.setattr(connections, "open_connection", counted)
    kept = lookups.GatewayLookups(store, kek)
    found = await asyncio.gather(*(kept.connection(gw.record, "midtrans") for _ in range(32)))
    assert len(reads) == 1
    assert {c.version for c, _ in found} == {1} and not any(was_kept for _, was_kept in found)
    again = await asyncio.gather(*(kept.connection(gw.record, "midtrans") for _ in range(8)))
    assert len(reads) == 1 and all(was_kept for _, was_kept in again)
    monkeypatch.setattr(lookups, "CONNECTION_SECONDS", 0.0)  # expires at once from now on
    kept._connections.clear()
    await asyncio.gather(*(kept.connection(gw.record, "midtrans") for _ in range(16)))
    await kept.connection(gw.record, "midtrans")
    assert len(reads) == 3  # one shared read, then one more after it expired
    # A gateway that is not connected: every caller gets the 404, from one read, and the
    # refusal is not kept (it may be connected a moment later).
    missing = await asyncio.gather(
        *(kept.connection(gw.record, "xendit") for _ in range(8)), return_exceptions=True
    )
    assert all(isinstance(m, GatewayNotConnectedError) for m in missing), missing
    assert reads.count("xendit") == 1
    with pytest.raises(GatewayNotConnectedError):
        await kept.connection(gw.record, "xendit")
    assert reads.count("xendit") == 2
