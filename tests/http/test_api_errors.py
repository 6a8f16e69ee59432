"""Every error is RFC 9457 application/problem+json with type, title, status and detail;
a failed write leaves the log as it was; a database outage is a 503, never a 500."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from tests.apikit import Org, app_client, assert_problem, auth, head_size, idem
from tests.logkit import assert_log_verifies

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"


def donation(ref: str = "R-1", **changes: Any) -> dict[str, Any]:
    return {
        "fund": "senyum-2026",
        "amount": 10_000,
        "currency": "IDR",
        "received_on": "2026-11-01",
        "channel": "qris",
        "reference": ref,
        **changes,
    }


def rec(charity: Org, **extra: str) -> dict[str, str]:
    return auth(charity.keys["recorder"], **idem(), **extra)


# --- 404, 405 -------------------------------------------------------------------------------


async def test_unknown_routes_orgs_and_things_are_404_problems(charity, store):
    await charity.fund()
    for path in (
        "/nope",
        "/v1",
        "/v1/orgs/yayasan-senyum/nothing-here",
        "/v1/orgs/no-such-org",
        "/v1/orgs/no-such-org/funds",
        "/v1/orgs/no-such-org/entries",
        "/v1/orgs/no-such-org/balances",
        "/v1/orgs/no-such-org/log/checkpoint",
        "/v1/orgs/no-such-org/log/entries/0",
        charity.url("/funds/no-such-fund"),
        charity.url("/beneficiaries/no-such-one"),
        charity.url("/log/entries/999999"),
    ):
        assert_problem(await charity.client.get(path), 404)
    body = assert_problem(await charity.client.get("/v1/orgs/no-such-org"), 404, "no-such-org")
    assert body["title"] == "Not found"
    # Writes to an unknown organization: 404 once authenticated, nothing recorded anywhere.
    before = await head_size(store, charity)
    r = await charity.client.post(
        "/v1/orgs/no-such-org/donations", json=donation(), headers=rec(charity)
    )
    assert r.status_code in (403, 404)
    assert_problem(r, r.status_code)
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)


async def test_wrong_method_is_405_with_allow(charity):
    for method, path in (
        ("PUT", charity.url("/funds")),
        ("DELETE", charity.url("/donations")),
        ("PATCH", charity.url("/balances")),
        ("POST", charity.url("/balances")),
        ("GET", charity.url("/donations")),
        ("POST", "/healthz"),
    ):
        r = await charity.client.request(method, path)
        assert_problem(r, 405)
        assert method not in r.headers["allow"] and r.headers["allow"], r.headers


# --- 413, 415 -------------------------------------------------------------------------------


async def test_body_over_the_limit_is_413_and_nothing_is_recorded(charity, store, settings):
    await charity.fund()
    before = await head_size(store, charity)
    async with app_client(settings, max_body_bytes=2_000) as small:
        padded = json.dumps(donation("BIG-1")) + " " * 2_500
        r = await small.post(
            charity.url("/donations"),
            content=padded.encode(),
            headers=rec(charity, **{"Content-Type": "application/json"}),
        )
        assert_problem(r, 413)
        batch = {"donations": [donation(f"B-{i}") for i in range(20)]}
        r = await small.post(charity.url("/donations/batch"), json=batch, headers=rec(charity))
        assert_problem(r, 413)
        assert await head_size(store, charity) == before
        # Under the limit the same app records normally.
        r = await small.post(charity.url("/donations"), json=donation("OK-1"), headers=rec(charity))
        assert r.status_code == 201, r.text
    assert await head_size(store, charity) == before + 1
    await assert_log_verifies(store)


async def test_evidence_of_the_wrong_type_is_415(charity, store):
    await charity.fund()
    await charity.beneficiary()
    await charity.donate(1_000)
    index = (await charity.disburse(100)).json()["index"]
    before = await head_size(store, charity)
    for content in (GIF, b"hello, world"):
        r = await charity.client.post(
            charity.url(f"/disbursements/{index}/evidence"),
            content=content,
            headers=rec(charity, **{"Content-Type": "image/png"}),
        )
        assert_problem(r, 415, "PDF, JPEG or PNG")
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)


# --- 400 ------------------------------------------------------------------------------------


async def test_malformed_json_and_wrong_types_are_400_naming_the_field(charity, store):
    await charity.fund()
    url = charity.url("/donations")
    before = await head_size(store, charity)
    for raw in (b"{not json", b"", b"[1, 2", b'{"fund": "senyum-2026",}', b"\xff\xfe"):
        r = await charity.client.post(
            url, content=raw, headers=rec(charity, **{"Content-Type": "application/json"})
        )
        assert_problem(r, 400)
    cases = [
        (donation(amount="lots"), "amount"),
        (donation(amount=True), "amount"),
        (donation(amount=1.5), "amount"),
        (donation(amount="5"), "amount"),  # no coercion: bodies are decoded strictly
        (donation(amount=5.0), "amount"),
        (donation(received_on=20261120), "received_on"),
        (donation(amount=0), "amount"),
        (donation(amount=None), "amount"),
        (donation(fund=123), "fund"),
        (donation(fund="Not A Code"), "fund"),
        (donation(channel="pigeon"), "channel"),
        (donation(received_on="yesterday"), "received_on"),
        (donation(reference="has space"), "reference"),
        (donation(donor={"email": 5}), "email"),
        (donation(donor={"email": "not-an-email"}), "email"),
        (donation(donor={"public_name": ""}), "public_name"),
        (donation(donor="anonymous"), "donor"),
        (donation(message="x" * 1001), "message"),
        ({k: v for k, v in donation().items() if k != "amount"}, "amount"),
        (donation(surprise=1), "surprise"),
        ([donation()], ""),
        ("just a string", ""),
    ]
    for payload, field in cases:
        r = await charity.client.post(url, json=payload, headers=rec(charity))
        body = assert_problem(r, 400)
        pointers = " ".join(
            e.get("pointer", "") + " " + e.get("detail", "") for e in body.get("errors", [])
        )
        assert field in body["detail"] or field in pointers, (payload, body)
    # Query parameters too.
    for query, field in (("limit=abc", "limit"), ("limit=0", "limit"), ("cursor=x", "cursor")):
        body = assert_problem(await charity.client.get(charity.url(f"/entries?{query}")), 400)
        assert any(e["pointer"] == f"/{field}" for e in body["errors"]), body
    body = assert_problem(await charity.client.get(charity.url("/balances?as_of=-5")), 400)
    assert any(e["pointer"] == "/as_of" for e in body["errors"]), body
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)


async def test_amounts_as_strings_or_floats_are_refused(charity, store):
    await charity.fund()
    before = await head_size(store, charity)
    for n, amount in enumerate(("5", "1e3", 5.0)):
        r = await charity.client.post(
            charity.url("/donations"),
            json=donation(f"LAX-{n}", amount=amount),
            headers=rec(charity),
        )
        assert_problem(r, 400, "amount")
    assert await head_size(store, charity) == before


# --- 401, 403, 409, 422 ---------------------------------------------------------------------


async def test_auth_rule_and_conflict_errors_are_problems_and_change_nothing(charity, store):
    await charity.fund()
    await charity.beneficiary()
    await charity.beneficiary("lksa-lain")
    await charity.donate(1_000)
    before = await head_size(store, charity)
    url = charity.url("/donations")

    body = assert_problem(await charity.client.post(url, json=donation()), 401, "API key")
    assert body["title"] == "Unauthorized"
    r = await charity.client.post(url, json=donation(), headers=auth("ldg_zzzzzzzz_" + "x" * 43))
    assert_problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = await charity.client.post(
        url, json=donation(), headers=auth(charity.keys["auditor"], **idem())
    )
    body = assert_problem(r, 403, "auditor")
    assert body["title"] == "Forbidden"

    h = auth(charity.keys["recorder"])
    assert_problem(
        await charity.client.post(url, json=donation(), headers=h), 422, "Idempotency-Key"
    )
    long_key = {**h, "Idempotency-Key": "k" * 256}
    assert_problem(await charity.client.post(url, json=donation(), headers=long_key), 422)
    rules = [
        ("/donations", donation(fund="nope"), 422, "no fund"),
        ("/donations", donation(currency="USD"), 422, "IDR"),
        (
            "/disbursements",
            {
                "fund": "senyum-2026",
                "beneficiary": "nope",
                "amount": 1,
                "currency": "IDR",
                "purpose": "food",
                "paid_on": "2026-11-02",
                "reference": "O-1",
            },
            422,
            "no beneficiary",
        ),
        (
            "/disbursements",
            {
                "fund": "senyum-2026",
                "beneficiary": "lksa-harapan",
                "amount": 1_001,
                "currency": "IDR",
                "purpose": "food",
                "paid_on": "2026-11-02",
                "reference": "O-2",
            },
            409,
            "overdraw",
        ),
        ("/corrections", {"corrects": 1, "reason": "x"}, 422, "only money entries"),
        (
            "/transfers",
            {
                "from_fund": "senyum-2026",
                "to_fund": "senyum-2026",
                "amount": 1,
                "currency": "IDR",
                "transferred_on": "2026-11-02",
                "reason": "x",
            },
            422,
            "two different funds",
        ),
    ]
    for path, payload, status, text in rules:
        r = await charity.client.post(charity.url(path), json=payload, headers=rec(charity))
        body = assert_problem(r, status, text)
        assert body["title"] in ("Ledger rule violated", "Conflict")
    admin = auth(charity.keys["admin"], **idem())
    fund = {"code": "senyum-2026", "name": "Again", "currency": "IDR"}
    r = await charity.client.post(charity.url("/funds"), json=fund, headers=admin)
    assert_problem(r, 409, "already exists")
    dup = await charity.client.post(url, json=donation("DUP"), headers=rec(charity))
    assert dup.status_code == 201
    before = await head_size(store, charity)
    assert_problem(await charity.client.post(url, json=donation("DUP"), headers=rec(charity)), 409)
    k = rec(charity)
    assert (await charity.client.post(url, json=donation("K-1"), headers=k)).status_code == 201
    r = await charity.client.post(url, json=donation("K-2"), headers=k)
    assert_problem(r, 422, "different request")
    assert await head_size(store, charity) == before + 1
    await assert_log_verifies(store)


# --- 500 ------------------------------------------------------------------------------------


async def test_unexpected_failure_is_a_500_that_leaks_nothing(charity, store, settings):
    await charity.fund()
    before = await head_size(store, charity)
    calls: list[str] = []

    async def fault(point: str, conn: asyncpg.Connection) -> None:
        if point == "locked":
            calls.append(point)
            if len(calls) == 1:
                raise RuntimeError("secret-internal-detail at /srv/ledger password=hunter2")

    async with app_client(settings, fault=fault) as c:
        r = await c.post(charity.url("/donations"), json=donation("F-1"), headers=rec(charity))
        body = assert_problem(r, 500)
        assert body["title"] == "Internal server error"
        for secret in ("secret-internal-detail", "hunter2", "RuntimeError", "Traceback", "/srv"):
            assert secret not in r.text
        assert await head_size(store, charity) == before
        # The writer recovers: the next write (and a retry of the same reference) succeeds.
        ok = await c.post(charity.url("/donations"), json=donation("F-1"), headers=rec(charity))
        assert ok.status_code == 201, ok.text
        assert ok.json()["index"] == before
    assert calls == ["locked", "locked"]
    assert await head_size(store, charity) == before + 1
    await assert_log_verifies(store)


# --- 503 ------------------------------------------------------------------------------------

TERMINATE = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


@asynccontextmanager
async def database_refusing_connections(owner, pg_admin_url: str) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    """The test database stops accepting connections and loses every open one (but ours)."""
    name = await owner.fetchval("SELECT current_database()")
    admin = await asyncpg.connect(pg_admin_url)  # ALTER DATABASE must run from another one
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            await owner.fetchval(TERMINATE)
            await asyncio.sleep(0.2)  # let the clients notice their connections are gone
            yield
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()


_outage_refs = iter(range(10**6))


async def _outage_requests(charity: Org) -> list:  # type: ignore[type-arg]
    ref = f"OUT-{next(_outage_refs)}"
    return [
        await charity.client.get("/readyz"),
        await charity.client.get(charity.url("/funds")),
        await charity.client.get(charity.url("/entries")),
        await charity.client.get(charity.url("/api-keys"), headers=auth(charity.keys["admin"])),
        await charity.client.post(
            charity.url("/donations"), json=donation(ref), headers=rec(charity)
        ),
    ]


async def test_database_outage_is_503_with_retry_after(charity, store, owner, pg_admin_url):
    await charity.fund()
    before = await head_size(store, charity)
    async with database_refusing_connections(owner, pg_admin_url):
        for _ in range(2):
            for r in await _outage_requests(charity):
                assert_problem(r, 503)
                assert r.headers["Retry-After"].isdigit()
        assert (await charity.client.get("/healthz")).status_code == 200
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)


async def test_api_recovers_by_itself_after_a_database_outage(charity, store, owner, pg_admin_url):
    await charity.fund()
    before = await head_size(store, charity)
    async with database_refusing_connections(owner, pg_admin_url):
        for r in await _outage_requests(charity):
            assert r.status_code >= 500
            assert_problem(r, r.status_code)
        assert (await charity.client.get("/healthz")).status_code == 200
    # Back: the same app answers again without a restart, and nothing was half-written.
    assert (await charity.client.get("/readyz")).status_code == 200
    r = await charity.client.post(
        charity.url("/donations"), json=donation("AFTER-1"), headers=rec(charity)
    )
    assert r.status_code == 201, r.text
    assert r.json()["index"] == before
    assert (await charity.client.get(charity.url("/funds/senyum-2026"))).json()["raised"] == 10_000
    await assert_log_verifies(store)


async def test_lost_connections_are_replaced_without_errors(charity, store, owner):
    """Connections killed under the pool (failover, idle timeout) are never a 500."""
    await charity.fund()
    for _ in range(3):
        assert await owner.fetchval(TERMINATE) >= 1
        await asyncio.sleep(0.2)
        for r in await _outage_requests(charity):
            assert r.status_code in (200, 201), r.text
    assert (await charity.client.get(charity.url("/funds/senyum-2026"))).json()["raised"] == 30_000
    await assert_log_verifies(store)
