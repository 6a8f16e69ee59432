"""The donation fast path (``ledger.http.api.fastpath``) answers exactly as the Litestar route.

Two apps on one database: the service as shipped (fast path on) and the same app with the
fast path off, so every request below can be sent to both and the answers compared byte for
byte (request ids, dates and entry-specific fields aside).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ledger.http.app import create_app
from ledger.http.auth import issue_key
from ledger.http.ratelimit import RateLimit
from ledger.journal.organizations import create_organization
from tests import apikit
from tests.apikit import serve_in_loop
from tests.logkit import assert_log_verifies

_n = itertools.count()
IGNORED_HEADERS = {"x-request-id", "date", "server"}


@pytest.fixture
async def pair(settings, store, kek) -> AsyncIterator[tuple[Any, Any, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """(fast client, framework client, keys by role) for organization 'yayasan-cepat'."""
    org = await create_organization(store, settings, kek, "yayasan-cepat", "Yayasan Cepat")
    keys = {r: (await issue_key(store, org.id, r))[1] for r in ("admin", "recorder", "auditor")}
    quiet = settings.with_(checkpoint_interval=0)
    async with (
        serve_in_loop(create_app(quiet)) as fast,
        serve_in_loop(create_app(quiet, fast_path=False)) as slow,
    ):
        r = await slow.post(
            "/v1/orgs/yayasan-cepat/funds",
            json={"code": "zakat", "name": "Zakat", "currency": "IDR", "fee_cap_bps": 0},
            headers={"Authorization": f"Bearer {keys['admin']}", "Idempotency-Key": "fund"},
        )
        assert r.status_code == 201, r.text
        yield fast, slow, keys


def donation(ref: str | None = None, **changes: Any) -> dict[str, Any]:
    """A QRIS donation to the fixture's fund 'zakat'."""
    fields = {"fund": "zakat", "amount": 250_000, "received_on": "2026-11-20", "channel": "qris"}
    return apikit.donation(ref or f"QRIS-{next(_n)}", **{**fields, **changes})


def headers(key: str, idem: str | None = "new", **extra: str) -> dict[str, str]:
    out = {"Authorization": f"Bearer {key}", **extra}
    if idem is not None:
        out["Idempotency-Key"] = f"k-{next(_n)}" if idem == "new" else idem
    return out


def answered(client: Any) -> int:
    """How many requests the fast path of this client's app answered itself (it sits under
    the request observer and the header limit)."""
    handler = client.app.asgi_handler
    while not hasattr(handler, "answered"):
        handler = handler.app
    return handler.answered


def shape(r: httpx.Response) -> tuple[int, list[tuple[str, str]]]:
    kept = sorted((k, v) for k, v in r.headers.items() if k not in IGNORED_HEADERS)
    return r.status_code, kept


async def both(pair, method_path: str, **kwargs: Any) -> tuple[httpx.Response, httpx.Response]:  # type: ignore[no-untyped-def]
    fast, slow, _ = pair
    url = f"/v1/orgs/yayasan-cepat{method_path}"
    return await fast.post(url, **kwargs), await slow.post(url, **kwargs)


async def test_a_recorded_donation_is_answered_like_the_framework_route(pair, store):
    fast, slow, keys = pair
    assert answered(fast) == 0
    a = await fast.post(
        "/v1/orgs/yayasan-cepat/donations", json=donation(), headers=headers(keys["recorder"])
    )
    assert answered(fast) == 1
    b = await slow.post(
        "/v1/orgs/yayasan-cepat/donations", json=donation(), headers=headers(keys["recorder"])
    )
    assert a.status_code == b.status_code == 201
    assert shape(a) == shape(b) or [k for k, _ in shape(a)[1]] == [k for k, _ in shape(b)[1]]
    assert set(a.json()) == set(b.json()) == {"index", "kind", "time", "entry_hash", "leaf_hash"}
    assert b.json()["index"] == a.json()["index"] + 1
    assert a.headers["x-request-id"]  # the observer still wraps the fast path
    await assert_log_verifies(store)


async def test_replays_and_recording_errors_are_byte_identical(pair, store):
    fast, slow, keys = pair
    key = "same-key-for-both"
    body = donation("BCA-0001")
    first = await fast.post(
        "/v1/orgs/yayasan-cepat/donations", json=body, headers=headers(keys["recorder"], key)
    )
    assert first.status_code == 201
    for client in (fast, slow):  # the retry is replayed by either path
        again = await client.post(
            "/v1/orgs/yayasan-cepat/donations", json=body, headers=headers(keys["recorder"], key)
        )
        assert again.content == first.content and again.status_code == 201
        assert again.headers["idempotency-replayed"] == "true"
    assert answered(fast) == 2
    cases = [
        (donation("BCA-0001"), 409),  # the reference is already recorded
        (donation(fund="no-such-fund"), 422),
        (donation(currency="USD"), 422),  # the fund is in IDR
    ]
    for payload, status in cases:
        a, b = await both(pair, "/donations", json=payload, headers=headers(keys["recorder"], "x"))
        assert a.status_code == b.status_code == status, (a.text, b.text)
        assert a.content == b.content and shape(a) == shape(b)
        assert a.headers["content-type"] == "application/problem+json"
    assert answered(fast) == 2 + len(cases)
    same_key_other_body = donation("BCA-0002")
    a, b = await both(
        pair, "/donations", json=same_key_other_body, headers=headers(keys["recorder"], key)
    )
    assert a.status_code == b.status_code == 422 and a.content == b.content
    await assert_log_verifies(store)


async def test_requests_it_does_not_take_on_get_the_framework_answer(pair, store):
    fast, _, keys = pair
    before = await store.head((await store.organization("yayasan-cepat")).id)
    cases: list[dict[str, Any]] = [
        {"json": donation(), "headers": headers(keys["auditor"])},  # wrong role: 403
        {"json": donation(), "headers": headers(keys["admin"])},
        {"json": donation(), "headers": headers("")},  # no key: 401
        {"json": donation(), "headers": headers("ldg_nope_nope")},
        {"json": donation(), "headers": headers(keys["recorder"], idem=None)},  # no key: 422
        {"json": donation(amount="5"), "headers": headers(keys["recorder"])},  # strict: 400
        {"content": b"{not json", "headers": headers(keys["recorder"])},
        {"content": b"", "headers": headers(keys["recorder"])},
    ]
    for kwargs in cases:
        a, b = await both(pair, "/donations", **kwargs)
        assert a.status_code == b.status_code >= 400, (kwargs, a.text, b.text)
        assert a.content == b.content and shape(a) == shape(b), (a.text, b.text)
    assert answered(fast) == 0  # every one of them was Litestar's
    other = await fast.post(
        "/v1/orgs/no-such-org/donations", json=donation(), headers=headers(keys["recorder"])
    )
    assert other.status_code in (403, 404)
    after = await store.head((await store.organization("yayasan-cepat")).id)
    assert after.size == before.size
    await assert_log_verifies(store)


async def test_another_organizations_key_is_refused(pair, settings, store, kek):
    fast, _, _ = pair
    org = await create_organization(store, settings, kek, "yayasan-lain", "Yayasan Lain")
    _, foreign = await issue_key(store, org.id, "recorder")
    r = await fast.post(
        "/v1/orgs/yayasan-cepat/donations", json=donation(), headers=headers(foreign)
    )
    assert r.status_code == 403 and "another organization" in r.json()["detail"]


async def test_oversized_bodies_and_rate_limits_are_the_frameworks(settings, store, kek):
    org = await create_organization(store, settings, kek, "yayasan-kecil", "Yayasan Kecil")
    admin = (await issue_key(store, org.id, "admin"))[1]
    recorder = (await issue_key(store, org.id, "recorder"))[1]
    small = settings.with_(checkpoint_interval=0, max_body_bytes=2048)
    async with serve_in_loop(create_app(small, rate_limit=RateLimit(per_minute=3))) as c:
        url = "/v1/orgs/yayasan-kecil"
        if time.time() % 60 > 30:  # the fixed one-minute window must not turn mid-test (slow CI)
            await asyncio.sleep(60.5 - time.time() % 60)
        fund = {"code": "zakat", "name": "Zakat", "currency": "IDR"}
        assert (await c.post(f"{url}/funds", json=fund, headers=headers(admin))).status_code == 201
        big = donation(message="x" * 900, donor={"address": "y" * 1000, "name": "z" * 200})
        r = await c.post(f"{url}/donations", json=big, headers=headers(recorder))
        assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
        statuses = [
            (
                await c.post(f"{url}/donations", json=donation(), headers=headers(recorder))
            ).status_code
            for _ in range(4)
        ]
        assert statuses[:2] == [201, 201] and statuses[-1] == 429, statuses
    await assert_log_verifies(store)


async def test_gateway_notifications_are_answered_like_the_framework_routes(pair, store, owner):
    """Midtrans and Xendit notifications take the fast path too: the same answers, bytes and
    headers as their Litestar routes, whether recorded, replayed, ignored or refused."""
    from tests.ingest.gatewaykit import SERVER_KEY, XENDIT_TOKEN, encode, midtrans, xendit_invoice

    fast, slow, keys = pair
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    rule = {"by": "order_prefix", "funds": {"SNY-": "zakat"}}
    for gateway, secret in (("midtrans", SERVER_KEY), ("xendit", XENDIT_TOKEN)):
        r = await slow.put(
            f"/v1/orgs/yayasan-cepat/gateways/{gateway}",
            json={"secret": secret, "fund_rule": rule},
            headers=admin,
        )
        assert r.status_code == 200, r.text
    notify = "/gateways/midtrans/notifications"
    plain = {"Content-Type": "application/json"}
    url = f"/v1/orgs/yayasan-cepat{notify}"
    a = await fast.post(url, content=encode(midtrans("SNY-F-1")), headers=plain)
    b = await slow.post(url, content=encode(midtrans("SNY-F-2")), headers=plain)
    assert a.status_code == b.status_code == 200 and shape(a) == shape(b)
    assert a.json()["status"] == b.json()["status"] == "recorded"
    assert b.json()["entries"] == [a.json()["entries"][0] + 1]
    assert answered(fast) == 1
    cases = [
        (midtrans("SNY-F-1"), {}),  # a replay: recorded before, no entry
        (midtrans("SNY-F-3", "pending"), {}),  # moves no money
        (midtrans("SNY-F-4", key="SB-Mid-server-WRONG"), {"Accept-Language": "id"}),  # 401
        (midtrans("XYZ-F-5"), {"Accept-Language": "id"}),  # no fund rule matches: 422
        (midtrans("SNY-F-6", gross_amount="10.001"), {}),  # more decimals than IDR has: 400
    ]
    for body, extra in cases:
        a, b = await both(pair, notify, content=encode(body), headers={**plain, **extra})
        assert a.status_code == b.status_code, (a.text, b.text)
        assert a.content == b.content and shape(a) == shape(b), (a.text, b.text)
    assert [c for c, in await owner.fetch("SELECT count(*) FROM gateway_notifications")] == [2]
    assert answered(fast) == 1 + len(cases)
    callback = "/gateways/xendit/callbacks"
    paid = encode(xendit_invoice("inv-f-1", "SNY-X-1"))
    for token in ("wrong-token", XENDIT_TOKEN):
        a, b = await both(
            pair, callback, content=paid, headers={**plain, "x-callback-token": token}
        )
        assert a.status_code == b.status_code == (200 if token == XENDIT_TOKEN else 401)
        assert [k for k, _ in shape(a)[1]] == [k for k, _ in shape(b)[1]], (a.text, b.text)
    assert a.json()["status"] == "recorded" and len(a.json()["entries"]) == 1
    assert b.json() == {"status": "recorded", "entries": []}  # the slow one came second
    assert answered(fast) == 3 + len(cases)
    # Not taken on: an API key sent along, a body that is not the schema's.
    for kwargs in (
        {"content": encode(midtrans("SNY-F-7")), "headers": {**plain, **admin}},
        {"content": b'{"order_id": 5}', "headers": plain},
    ):
        a, b = await both(pair, notify, **kwargs)
        assert a.status_code == b.status_code, (a.text, b.text)
        assert [k for k, _ in shape(a)[1]] == [k for k, _ in shape(b)[1]]
    assert a.status_code == 400
    assert answered(fast) == 3 + len(cases)
    await assert_log_verifies(store)
