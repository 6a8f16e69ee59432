"""Input with no surprises (issue 13 §4): every refused request below is answered with a
problem+json that says what to send, the log is unchanged after it, and the whole log
still verifies. All through HTTP against the real app and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from ledger.http.api.headlimit import MAX_HEAD_BYTES
from ledger.http.app import create_app
from ledger.http.ratelimit import RateLimit, RateLimiter
from ledger.verify import offline
from schemas.proofs import MAX_VKEYS
from tests.apikit import assert_problem, auth, head_size, idem, serve_in_loop
from tests.logkit import assert_log_verifies


def donation(**changes: Any) -> dict[str, Any]:
    body = {
        "fund": "senyum-2026",
        "amount": 25_000_000,
        "currency": "IDR",
        "received_on": "2026-11-22",
        "channel": "bank_transfer",
        "reference": "BCA-20261122-0001",
    }
    body.update(changes)
    return body


async def post_raw(charity, path: str, raw: bytes | str, role: str = "recorder", **headers: str):  # type: ignore[no-untyped-def]
    sent = {"Content-Type": "application/json", **auth(charity.keys[role]), **idem(), **headers}
    sent = {k: v for k, v in sent.items() if v is not None}
    return await charity.client.post(charity.url(path), content=raw, headers=sent)


# --- duplicate keys -------------------------------------------------------------------------


async def test_a_repeated_key_is_refused_on_every_write_route(charity, store):
    await charity.fund()
    before = await head_size(store, charity)
    # The case: the last "amount" used to win (the donation fast path).
    raw = json.dumps(donation(amount=1))[:-1] + ', "amount": 100000}'
    body = assert_problem(await post_raw(charity, "/donations", raw), 400, '"amount"', "more than once")
    assert body["errors"] == [{"pointer": "/amount", "detail": body["detail"]}]
    # Deep inside a batch: the pointer says which donation and which member.
    one = json.dumps(donation(reference="B-1"))
    two = json.dumps(donation(reference="B-2"))[:-1] + ', "donor": {"name": "A", "name": "B"}}'
    raw = '{"donations": [' + one + ", " + two + "]}"
    body = assert_problem(await post_raw(charity, "/donations/batch", raw), 400, '"name"')
    assert body["errors"][0]["pointer"] == "/donations/1/donor/name"
    # A Litestar-only route (admin) and the top level of another body.
    raw = '{"code": "a", "name": "A", "currency": "IDR", "code": "b"}'
    assert_problem(await post_raw(charity, "/funds", raw, role="admin"), 400, '"code"')
    # A repeated key in a query-less public route with a body: /v1/verify.
    r = await charity.client.post(
        "/v1/verify",
        content='{"receipt": "x", "receipt": "y"}',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(r, 400, '"receipt"')
    assert await head_size(store, charity) == before
    # The same donation without the repeat is recorded, once.
    assert (await post_raw(charity, "/donations", json.dumps(donation()))).status_code == 201
    await assert_log_verifies(store)


# --- Content-Type ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "json"],
)
async def test_a_json_route_needs_the_json_media_type(charity, store, content_type):
    await charity.fund()
    before = await head_size(store, charity)
    raw = json.dumps(donation())
    headers = {**auth(charity.keys["recorder"]), **idem()}
    if content_type is not None:
        headers["Content-Type"] = content_type
    r = await charity.client.post(charity.url("/donations"), content=raw, headers=headers)
    assert_problem(r, 415, "Content-Type: application/json", "got")
    r = await charity.client.post(
        charity.url("/funds"),
        content=b'{"code": "x"}',
        headers={**auth(charity.keys["admin"]), **idem(), "Content-Type": content_type or ""},
    )
    assert_problem(r, 415, "application/json")
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)


async def test_json_with_a_charset_is_json(charity, store):
    await charity.fund()
    r = await post_raw(
        charity,
        "/donations",
        json.dumps(donation()),
        **{"Content-Type": "Application/JSON; charset=utf-8"},
    )
    assert r.status_code == 201, r.text
    await assert_log_verifies(store)


# --- /v1/verify and ledger-verify -----------------------------------------------------------


def nested_receipt(depth: int) -> str:
    return '{"format": "donation-ledger-receipt/v1", "x": ' + "[" * depth + "]" * depth + "}"


async def vkey_of(charity) -> str:  # type: ignore[no-untyped-def]
    return (await charity.client.get(charity.url("/log/keys"))).text.split("\n")[0]


@pytest.mark.parametrize("depth", [offline.MAX_JSON_DEPTH, 100_000])
async def test_nested_receipts_are_unusable_input_not_a_crash(
    charity, store, tmp_path, capsys, depth
):
    vkey = await vkey_of(charity)
    r = await charity.client.post(
        "/v1/verify", json={"receipt": nested_receipt(depth), "vkeys": [vkey]}
    )
    assert_problem(r, 400, "nested more than 32 levels")
    # The same file given to ledger-verify: exit 2 ("unusable input"), never 1, no traceback.
    path = tmp_path / "deep.json"
    path.write_text(nested_receipt(depth))
    assert offline.main(["receipt", str(path), "--vkey", vkey]) == 2
    out = capsys.readouterr().out
    assert out.startswith("FAIL (unusable input)") and "Traceback" not in out
    # An export line as deep is unusable too.
    lines = tmp_path / "deep.jsonl"
    lines.write_text(
        json.dumps({"format": offline.EXPORT_FORMAT, "origin": "o"})
        + "\n"
        + nested_receipt(depth)
        + "\n"
    )
    assert offline.main(["log", str(lines), "--vkey", vkey]) == 2
    await assert_log_verifies(store)


async def test_a_receipt_at_the_depth_limit_is_read(charity):
    vkey = await vkey_of(charity)
    r = await charity.client.post(
        "/v1/verify", json={"receipt": nested_receipt(offline.MAX_JSON_DEPTH - 1), "vkeys": [vkey]}
    )
    # Read, then refused for what it is (no tlog_proof), not for its depth.
    assert "nested" not in r.text and r.status_code == 422, r.text


async def test_vkeys_are_bounded_and_so_is_the_body(charity):
    vkey = await vkey_of(charity)
    r = await charity.client.post(
        "/v1/verify", json={"receipt": "x", "vkeys": [vkey] * (MAX_VKEYS + 1)}
    )
    assert_problem(r, 400, "vkeys", f"0 to {MAX_VKEYS} items")
    r = await charity.client.post("/v1/verify", json={"receipt": "x", "vkeys": [vkey] * MAX_VKEYS})
    assert r.status_code == 422, r.text  # 16 keys are read; "x" is no receipt
    big = json.dumps({"receipt": "x" * 1_200_000})
    r = await charity.client.post(
        "/v1/verify", content=big, headers={"Content-Type": "application/json"}
    )
    assert_problem(r, 413)


# --- the request head -----------------------------------------------------------------------


async def test_an_oversized_header_is_431(charity, store):
    await charity.fund()
    before = await head_size(store, charity)
    big = {"X-Padding": "a" * (MAX_HEAD_BYTES + 1)}
    for method, path in (("GET", "/healthz"), ("POST", charity.url("/donations"))):
        headers = {**auth(charity.keys["recorder"]), **idem(), **big}
        r = await charity.client.request(method, path, json=donation(), headers=headers)
        assert_problem(r, 431, f"at most {MAX_HEAD_BYTES}")
    r = await charity.client.get("/healthz", params={"q": "a" * MAX_HEAD_BYTES})
    assert_problem(r, 431)
    r = await charity.client.get("/healthz", headers={"X-Padding": "a" * 1000})
    assert r.status_code == 200
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)


# --- anonymous rate limit -------------------------------------------------------------------


async def test_clients_without_a_key_are_limited_by_address(settings, charity, store):
    app = create_app(
        settings.with_(checkpoint_interval=0), rate_limit=RateLimit(0, anonymous_per_minute=5)
    )
    async with serve_in_loop(app) as c:
        statuses = [(await c.get("/healthz")).status_code for _ in range(5)]
        assert statuses == [200] * 5
        r = await c.get(f"/v1/orgs/{charity.slug}/log/keys")
        body = assert_problem(r, 429, "without an API key", "5 requests per minute")
        assert body["title"] == "Too many requests"
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        # Guessing keys counts against the address too.
        r = await c.get(f"/v1/orgs/{charity.slug}/api-keys", headers=auth("ldg_aaaaaaaa_nope"))
        assert r.status_code == 429
        # A valid key is not an anonymous client (and keys are not limited in this app).
        r = await c.get(f"/v1/orgs/{charity.slug}/api-keys", headers=auth(charity.keys["admin"]))
        assert r.status_code == 200, r.text
        r = await c.get("/healthz", headers={"Accept-Language": "id-ID,id;q=0.9"})
        assert_problem(r, 429, "tanpa kunci API")
        assert r.json()["title"] == "Terlalu banyak permintaan"
        # Another address has its own count.
        transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            assert (await other.get("/healthz")).status_code == 200
    await assert_log_verifies(store)


def test_the_anonymous_window_starts_again_each_minute():
    now = [1_800_000_000.0 + 30]
    limiter = RateLimiter(RateLimit(0, 2), clock=lambda: now[0])
    assert [limiter.hit_address("198.51.100.1") for _ in range(2)] == [None, None]
    assert limiter.hit_address("198.51.100.1") == 30.0
    assert limiter.hit_address("198.51.100.2") is None
    now[0] += 30
    assert limiter.hit_address("198.51.100.1") is None
    assert RateLimit.from_env({"LEDGER_ANON_RATE_LIMIT": "0"}).anonymous_per_minute == 0
    assert RateLimit.from_env({}).anonymous_per_minute == 1_200


async def test_two_app_instances_share_the_anonymous_count(settings, charity, store):
    """Two app instances on one database stand for two worker processes: each flushes its
    address counts to PostgreSQL (every 100 ms) and refuses against the shared total."""
    limit = RateLimit(0, anonymous_per_minute=6)
    small = settings.with_(checkpoint_interval=0)
    apps = [create_app(small, rate_limit=limit) for _ in range(2)]
    first, second = (app.state.front_door.fast.limiter for app in apps)

    async def flushed(limiter, shared: int) -> None:  # type: ignore[no-untyped-def]
        # Its background flush (every 100 ms) has shared what it admitted and read back at
        # least ``shared``: waited for, not slept on, so a busy machine cannot reorder it.
        for _ in range(400):
            count = limiter._addresses.get("127.0.0.1")
            if count and not count.pending and not count.flushing and count.shared >= shared:
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"no flush within 10 s: {limiter._addresses}")

    async with serve_in_loop(apps[0]) as one, serve_in_loop(apps[1]) as two:
        assert [(await one.get("/healthz")).status_code for _ in range(4)] == [200] * 4
        await flushed(first, 4)
        assert (await two.get("/healthz")).status_code == 200
        await flushed(second, 5)  # two has flushed its 1 and read back 5
        assert (await two.get("/healthz")).status_code == 200
        await flushed(second, 6)
        # Two admitted 2 of its own; the address has made 6 in all, so two refuses.
        assert_problem(await two.get("/healthz"), 429, "6 requests per minute")
        async with store.connection() as conn:
            rows = await conn.fetch("SELECT address, hits FROM rate_limit_addresses")
        assert [(r["address"], r["hits"]) for r in rows] == [("127.0.0.1", 6)]
    await assert_log_verifies(store)


async def test_address_counts_are_kept_only_for_the_current_window(store):
    now = [1_800_000_000.0 + 30]
    one = RateLimiter(RateLimit(0, 3), clock=lambda: now[0])
    two = RateLimiter(RateLimit(0, 3), clock=lambda: now[0])
    assert [one.hit_address("198.51.100.1") for _ in range(3)] == [None] * 3
    await one.flush(store)
    assert two.hit_address("198.51.100.1") is None  # the documented slack of one flush
    await two.flush(store)
    assert two.hit_address("198.51.100.1") == 30.0  # 4 in the window: refused
    now[0] += 30  # the next window: the old address rows are deleted at the next flush
    assert one.hit_address("198.51.100.2") is None
    await one.flush(store)
    async with store.connection() as conn:
        rows = await conn.fetch("SELECT window_start, address, hits FROM rate_limit_addresses")
    assert [(r["window_start"].timestamp(), r["address"], r["hits"]) for r in rows] == [
        (1_800_000_060.0, "198.51.100.2", 1)
    ]


# --- revocation -----------------------------------------------------------------------------


async def test_a_revoked_key_is_refused_by_every_instance_within_a_second(charity, settings, store):
    """Two app instances on one database stand for two worker processes."""
    await charity.fund()
    app = create_app(settings.with_(checkpoint_interval=0))
    async with serve_in_loop(app) as other:
        keys = await charity.client.get(
            charity.url("/api-keys"), headers=auth(charity.keys["admin"])
        )
        prefix = charity.keys["recorder"][4:12]
        recorder_id = next(k["id"] for k in keys.json() if k["prefix"] == prefix)
        headers = {**auth(charity.keys["recorder"]), "Content-Type": "application/json"}
        r = await other.post(
            charity.url("/donations"), json=donation(), headers={**headers, **idem()}
        )
        assert r.status_code == 201, r.text  # the other instance has the key cached now
        await asyncio.sleep(0.3)  # its listener is up
        revoked = await charity.client.delete(
            charity.url(f"/api-keys/{recorder_id}"), headers=auth(charity.keys["admin"])
        )
        assert revoked.status_code == 204
        start = time.monotonic()
        while True:
            r = await other.post(
                charity.url("/donations"),
                json=donation(reference=f"R-{time.monotonic_ns()}"),
                headers={**headers, **idem()},
            )
            if r.status_code == 401:
                break
            assert r.status_code == 201
            assert time.monotonic() - start < 1.0, "the other instance still accepts the key"
            await asyncio.sleep(0.02)
        assert_problem(r, 401, "revoked")
        assert time.monotonic() - start < 1.0
    await assert_log_verifies(store)


# --- messages -------------------------------------------------------------------------------


async def test_messages_name_the_field_the_form_and_an_example(charity, store):
    await charity.fund()
    await charity.beneficiary()
    before = await head_size(store, charity)
    r = await charity.post("/donations", donation(amount="Rp 250.000"))
    body = assert_problem(r, 400, "amount: expected integer minor units", "Rp 250.000 is 25000000")
    assert body["errors"][0]["pointer"] == "/amount"
    r = await charity.post("/donations", donation(received_on="22/11/2026"))
    assert_problem(r, 400, "received_on: expected a date as YYYY-MM-DD, e.g. 2026-11-22")
    out = {
        "fund": "senyum-2026", "beneficiary": "lksa-harapan", "amount": 1, "currency": "IDR",
        "purpose": "makanan", "paid_on": "2026-11-22", "reference": "OUT-1",
    }  # fmt: skip
    r = await charity.post("/disbursements", out)
    assert_problem(
        r,
        400,
        "purpose: 'makanan' is not allowed",
        "clothing, education, food, health, operations, other, shelter",
    )
    assert_problem(
        await charity.post("/donations", donation(channel="atm")),
        400,
        "bank_transfer, card, cash, e_wallet",
    )
    r = await charity.post("/api-keys", {"role": "owner"}, role="admin")
    assert_problem(r, 400, "role: 'owner' is not allowed; expected one of admin, auditor, recorder")
    r = await charity.post("/donations", {k: v for k, v in donation().items() if k != "fund"})
    assert_problem(r, 400, "fund: this field is required")
    r = await charity.post("/donations", donation(currency="XYZ"))
    assert_problem(r, 400, "currency: expected an active ISO 4217 currency code", "e.g. IDR")
    # Roles: say which one is needed, in plain grammar.
    r = await charity.post("/funds", {"code": "x", "name": "X", "currency": "IDR"}, role="recorder")
    assert_problem(r, 403, "needs an API key with the role admin", "has the role recorder")
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)


async def test_rule_messages_show_amounts_as_people_write_them(charity, store):
    await charity.fund()
    await charity.fund("zakat", fee_cap_bps=0)
    await charity.beneficiary()
    await charity.donate(125_000_000)  # Rp 1.250.000
    await charity.donate(10_000_00, fund="zakat")
    before = await head_size(store, charity)
    r = await charity.disburse(250_000_000)
    assert_problem(
        r,
        409,
        "Rp 2.500.000 (250000000 minor units)",
        "balance is Rp 1.250.000 (125000000 minor units)",
    )
    fee = {
        "fund": "zakat",
        "amount": 100,
        "currency": "IDR",
        "charged_on": "2026-11-22",
        "description": "admin",
    }
    assert_problem(
        await charity.post("/fees", fee),
        409,
        "fees of Rp 1 (100 minor units)",
        "Rp 10.000 (1000000 minor units)",
    )
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)


async def test_problems_speak_indonesian_when_asked(charity, store):
    await charity.fund()
    await charity.beneficiary()
    await charity.donate(125_000_000)
    before = await head_size(store, charity)
    id_ = {"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"}
    r = await post_raw(charity, "/donations", json.dumps(donation(amount="Rp 250.000")), **id_)
    body = assert_problem(r, 400, "amount: harus bilangan bulat dalam satuan terkecil", "25000000")
    assert body["title"] == "Permintaan tidak valid" and r.headers["content-language"] == "id"
    out = {
        "fund": "senyum-2026", "beneficiary": "lksa-harapan", "amount": 250_000_000,
        "currency": "IDR", "purpose": "food", "paid_on": "2026-11-22", "reference": "OUT-2",
    }  # fmt: skip
    r = await post_raw(charity, "/disbursements", json.dumps(out), **id_)
    assert_problem(r, 409, "penyaluran sebesar Rp 2.500.000", "saldonya Rp 1.250.000")
    r = await post_raw(
        charity, "/donations", json.dumps(donation()), **id_, **{"Content-Type": "text/plain"}
    )
    assert_problem(r, 415, "header Content-Type harus application/json")
    # English when English is preferred, or nothing is said, or only other languages.
    for header in ("en-US,en;q=0.9,id;q=0.8", "fr-FR", None, "id;q=0"):
        r = await post_raw(
            charity,
            "/donations",
            json.dumps(donation(received_on="x")),
            **{"Accept-Language": header},
        )
        assert_problem(r, 400, "expected a date as YYYY-MM-DD")
        assert r.headers["content-language"] == "en"
    # 401 through the fast path's hand-over, in Indonesian too.
    r = await charity.client.post(
        charity.url("/donations"), json=donation(), headers={**idem(), **id_}
    )
    assert_problem(r, 401, "memerlukan kunci API")
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)


def test_every_message_template_has_an_indonesian_translation():
    from ledger.charity import rules
    from ledger.http import problems, ratelimit
    from ledger.http.api import explain, headlimit
    from ledger.messages import catalog

    templates = [
        v for k, v in vars(explain).items() if k.isupper() and isinstance(v, str) and "{field}" in v
    ]
    templates += [
        rules.OVERDRAFT,
        rules.FEE_CAP,
        ratelimit.KEY_OVER_LIMIT,
        ratelimit.ADDRESS_OVER_LIMIT,
    ]
    templates += [headlimit.TOO_LARGE, problems.FAILED, *problems.HTTP_TITLES.values()]
    templates += [title for _, title in problems.STATUS.values()]
    templates += ["a disbursement", "a transfer", "a fee", "this correction"]
    translated = catalog("id")
    missing = [t for t in templates if not translated.get(t)]
    assert missing == []
    for template in templates:  # the translation keeps every {field} of the template
        fields = {part.split("}")[0] for part in template.split("{")[1:]}
        assert {part.split("}")[0] for part in translated[template].split("{")[1:]} == fields
