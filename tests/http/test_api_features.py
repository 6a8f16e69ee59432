"""The charity API's features end to end: transfers, fees, corrections, beneficiary versions,
earmarks, batch import, pagination, balances recomputed from the public log, evidence files.

Every write test ends with ``assert_log_verifies``; refused writes must leave the head as it was.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec
from litestar.testing import AsyncTestClient

from ledger.charity.rules import join_recorded
from ledger.formats.postings import Line, postings_for
from ledger.http.app import create_app
from ledger.http.auth import issue_key
from ledger.journal.organizations import create_organization
from schemas.charity import BatchRecorded, Recorded
from tests.apikit import Org, auth, idem
from tests.logkit import assert_log_verifies

_refs = itertools.count()


# --- helpers --------------------------------------------------------------------------------


async def head_size(store, charity: Org) -> int:  # type: ignore[no-untyped-def]
    org = await store.organization(charity.slug)
    return (await store.head(org.id)).size


async def fund_view(charity: Org, code: str) -> dict[str, Any]:
    r = await charity.client.get(charity.url(f"/funds/{code}"))
    assert r.status_code == 200, r.text
    return r.json()


async def balances(charity: Org, as_of: int | None = None) -> dict[tuple[str, str], int]:
    """GET /balances as {(account, currency): amount}, zero balances left out."""
    url = charity.url("/balances") + (f"?as_of={as_of}" if as_of is not None else "")
    r = await charity.client.get(url)
    assert r.status_code == 200, r.text
    return {(b["account"], b["currency"]): b["amount"] for b in r.json()["balances"] if b["amount"]}


def fund_balance(bal: dict[tuple[str, str], int], code: str, currency: str = "IDR") -> int:
    return bal.get((f"fund:{code}", currency), 0)


async def transfer(charity: Org, src: str, dst: str, amount: int, currency: str = "IDR"):  # type: ignore[no-untyped-def]
    body = {
        "from_fund": src,
        "to_fund": dst,
        "amount": amount,
        "currency": currency,
        "transferred_on": "2026-11-03",
        "reason": "rebalance campaigns",
    }
    return await charity.post("/transfers", body)


async def fee(charity: Org, fund: str, amount: int, currency: str = "IDR"):  # type: ignore[no-untyped-def]
    body = {
        "fund": fund,
        "amount": amount,
        "currency": currency,
        "charged_on": "2026-11-04",
        "description": "payment gateway fees",
    }
    return await charity.post("/fees", body)


async def correct(charity: Org, index: int, reason: str = "entered by mistake"):  # type: ignore[no-untyped-def]
    return await charity.post("/corrections", {"corrects": index, "reason": reason})


async def disburse(  # type: ignore[no-untyped-def]
    charity: Org, amount: int, fund: str, to: str, purpose: str = "food", currency: str = "IDR"
):
    body = {
        "fund": fund,
        "beneficiary": to,
        "amount": amount,
        "currency": currency,
        "purpose": purpose,
        "paid_on": "2026-11-02",
        "reference": f"OUT-{next(_refs)}",
    }
    return await charity.post("/disbursements", body)


def donation(fund: str, amount: int, ref: str, currency: str = "IDR") -> dict[str, Any]:
    return {
        "fund": fund,
        "amount": amount,
        "currency": currency,
        "received_on": "2026-11-01",
        "channel": "bank_transfer",
        "reference": ref,
    }


def assert_problem(r, status: int, text: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if text is not None:
        assert text in body["detail"], body


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
async def app_client(settings, **changes: Any) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    """Another instance of the real app on the same database, with changed settings."""
    app = create_app(settings.with_(checkpoint_interval=0, **changes))
    async with AsyncTestClient(app) as c:
        yield c


@asynccontextmanager
async def live_client(
    settings, fault=None, app_box=None, **changes: Any
) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """The real app served IN the test's event loop, so concurrent requests really overlap.

    (Litestar's AsyncTestClient runs each request to completion on a portal thread: requests
    sent with asyncio.gather through it are processed one after another.)
    """
    app = create_app(settings.with_(checkpoint_interval=0, **changes), fault=fault)
    if app_box is not None:
        app_box["app"] = app
    inbox: asyncio.Queue[dict] = asyncio.Queue()
    outbox: asyncio.Queue[dict] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


# --- transfers ------------------------------------------------------------------------------


async def test_transfers_move_balances_and_refuse_same_fund_other_currency_and_overdraw(
    charity, store
):
    await charity.fund("alpha")
    await charity.fund("beta")
    await charity.fund("dollars", currency="USD")
    await charity.donate(1_000_00, fund="alpha")
    r = await transfer(charity, "alpha", "beta", 300_00)
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "transfer"
    bal = await balances(charity)
    assert fund_balance(bal, "alpha") == 700_00 and fund_balance(bal, "beta") == 300_00
    alpha, beta = await fund_view(charity, "alpha"), await fund_view(charity, "beta")
    assert (alpha["balance"], alpha["transferred_out"], alpha["raised"]) == (
        700_00,
        300_00,
        1_000_00,
    )
    assert (beta["balance"], beta["transferred_in"], beta["raised"]) == (300_00, 300_00, 0)

    before = await head_size(store, charity)
    assert_problem(await transfer(charity, "alpha", "alpha", 1), 422, "two different funds")
    assert_problem(await transfer(charity, "alpha", "dollars", 1), 422, "USD")
    assert_problem(await transfer(charity, "alpha", "dollars", 1, "USD"), 422, "IDR")
    assert_problem(await transfer(charity, "alpha", "nope", 1), 422, "no fund")
    assert_problem(await transfer(charity, "alpha", "beta", 700_01), 409, "overdraw")
    assert_problem(await transfer(charity, "beta", "alpha", 300_01), 409, "overdraw")
    assert await head_size(store, charity) == before
    assert await balances(charity) == bal

    # The whole balance can move; then nothing is left to move.
    assert (await transfer(charity, "alpha", "beta", 700_00)).status_code == 201
    assert_problem(await transfer(charity, "alpha", "beta", 1), 409)
    bal = await balances(charity)
    assert fund_balance(bal, "alpha") == 0 and fund_balance(bal, "beta") == 1_000_00
    await assert_log_verifies(store)


async def test_concurrent_transfers_never_overdraw_the_source(charity, store, settings):
    await charity.fund("alpha")
    await charity.fund("beta")
    await charity.donate(1_000, fund="alpha")
    async with live_client(settings) as c:
        live = Org(c, charity.slug, charity.keys)
        results = await asyncio.gather(*(transfer(live, "alpha", "beta", 150) for _ in range(12)))
    codes = [r.status_code for r in results]
    assert codes.count(201) == 6 and codes.count(409) == 6, codes
    bal = await balances(charity)
    assert fund_balance(bal, "alpha") == 100 and fund_balance(bal, "beta") == 900
    await assert_log_verifies(store)


# --- fees -----------------------------------------------------------------------------------


async def test_fee_cap_accepts_up_to_ten_percent_of_raised_and_refuses_more(charity, store):
    await charity.fund("capped", fee_cap_bps=1000)
    await charity.donate(10_000_00, fund="capped")
    r = await fee(charity, "capped", 600_00)
    assert r.status_code == 201 and r.json()["kind"] == "fee", r.text
    view = await fund_view(charity, "capped")
    assert (view["fees"], view["overhead_bps"], view["over_cap"]) == (600_00, 600, False)

    # 10% exactly is allowed; one minor unit more is not.
    assert (await fee(charity, "capped", 400_00)).status_code == 201
    before = await head_size(store, charity)
    assert_problem(await fee(charity, "capped", 1), 409, "overhead cap")
    assert await head_size(store, charity) == before
    view = await fund_view(charity, "capped")
    assert (view["fees"], view["overhead_bps"], view["over_cap"]) == (1_000_00, 1000, False)
    assert view["balance"] == 9_000_00 and view["fee_cap_bps"] == 1000

    # More donations raise the headroom proportionally.
    await charity.donate(1_000_00, fund="capped")
    assert_problem(await fee(charity, "capped", 100_01), 409, "overhead cap")
    assert (await fee(charity, "capped", 100_00)).status_code == 201
    bal = await balances(charity)
    assert bal[("fees", "IDR")] == 1_100_00
    await assert_log_verifies(store)


async def test_default_cap_is_ten_percent_and_concurrent_fees_count_each_other(
    charity, store, settings
):
    await charity.fund("plain")
    assert (await fund_view(charity, "plain"))["fee_cap_bps"] == 1000
    await charity.donate(1_000, fund="plain")
    async with live_client(settings) as c:
        live = Org(c, charity.slug, charity.keys)
        results = await asyncio.gather(*(fee(live, "plain", 30) for _ in range(6)))
    codes = [r.status_code for r in results]
    assert codes.count(201) == 3 and codes.count(409) == 3, codes
    assert (await fund_view(charity, "plain"))["fees"] == 90
    await assert_log_verifies(store)


async def test_zakat_fund_with_zero_cap_refuses_any_fee(charity, store):
    await charity.fund("zakat", fee_cap_bps=0)
    await charity.donate(5_000_000_00, fund="zakat")
    before = await head_size(store, charity)
    assert_problem(await fee(charity, "zakat", 1), 409, "overhead cap")
    assert await head_size(store, charity) == before
    view = await fund_view(charity, "zakat")
    assert (view["fees"], view["overhead_bps"], view["over_cap"], view["fee_cap_bps"]) == (
        0,
        0,
        False,
        0,
    )
    await assert_log_verifies(store)


async def test_fee_needs_money_raised_and_a_balance(charity, store):
    await charity.fund("empty")
    assert_problem(await fee(charity, "empty", 1), 409)
    await charity.fund("a")
    await charity.fund("b")
    await charity.beneficiary()
    await charity.donate(1_000, fund="a")
    # Money transferred in is not "raised" by the fund: no fee headroom from it.
    assert (await transfer(charity, "a", "b", 1_000)).status_code == 201
    assert_problem(await fee(charity, "b", 1), 409, "overhead cap")
    # Fee headroom on 'a' remains (100) but its balance is 0: overdraw.
    assert_problem(await fee(charity, "a", 50), 409, "overdraw")
    # Fee cap above 10% is refused at fund creation (400, schema limit).
    r = await charity.post(
        "/funds",
        {"code": "greedy", "name": "Greedy", "currency": "IDR", "fee_cap_bps": 1001},
        "admin",
    )
    assert_problem(r, 400)
    await assert_log_verifies(store)


async def test_over_cap_is_reported_when_a_correction_lowers_raised(charity, store):
    await charity.fund("capped", fee_cap_bps=1000)
    await charity.donate(10_000, fund="capped")
    second = await charity.donate(10_000, fund="capped")
    assert (await fee(charity, "capped", 2_000)).status_code == 201
    # The second donation bounced: reversing it is a fact, so it is recorded, and the
    # overhead now shows above the cap.
    assert (await correct(charity, second["index"], "transfer bounced")).status_code == 201
    view = await fund_view(charity, "capped")
    assert (view["raised"], view["fees"], view["overhead_bps"], view["over_cap"]) == (
        10_000,
        2_000,
        2000,
        True,
    )
    listed = (await charity.client.get(charity.url("/funds"))).json()["items"]
    assert [f for f in listed if f["code"] == "capped"] == [view]
    await assert_log_verifies(store)


# --- corrections ----------------------------------------------------------------------------


async def test_corrections_reverse_each_kind_of_money_entry(charity, store):
    await charity.fund("alpha")
    await charity.fund("beta")
    await charity.beneficiary("lksa-a")
    start = await balances(charity)
    assert start == {}

    d = await charity.donate(1_000_00, fund="alpha")
    after_donation = await balances(charity)
    c = await correct(charity, d["index"])
    assert c.status_code == 201 and c.json()["kind"] == "correction", c.text
    assert await balances(charity) == {}
    assert (await fund_view(charity, "alpha"))["raised"] == 0
    assert after_donation[("donors", "IDR")] == -1_000_00

    await charity.donate(2_000_00, fund="alpha")
    snapshot = await balances(charity)

    out = await disburse(charity, 500_00, "alpha", "lksa-a")
    assert out.status_code == 201
    assert (await correct(charity, out.json()["index"])).status_code == 201
    assert await balances(charity) == snapshot
    assert (await fund_view(charity, "alpha"))["disbursed"] == 0
    ben = (await charity.client.get(charity.url("/beneficiaries/lksa-a"))).json()
    assert all(b["amount"] == 0 for b in ben[0]["received"])

    t = await transfer(charity, "alpha", "beta", 700_00)
    assert t.status_code == 201
    assert (await correct(charity, t.json()["index"])).status_code == 201
    assert await balances(charity) == snapshot
    beta = await fund_view(charity, "beta")
    assert (beta["transferred_in"], beta["balance"]) == (0, 0)
    assert (await fund_view(charity, "alpha"))["transferred_out"] == 0

    f = await fee(charity, "alpha", 100_00)
    assert f.status_code == 201
    assert (await correct(charity, f.json()["index"])).status_code == 201
    assert await balances(charity) == snapshot
    alpha = await fund_view(charity, "alpha")
    assert (alpha["fees"], alpha["overhead_bps"], alpha["balance"]) == (0, 0, 2_000_00)
    await assert_log_verifies(store)


async def test_correction_rules_once_money_only_and_never_overdraw(charity, store, settings):
    fund = await charity.fund("alpha")
    await charity.beneficiary("lksa-a")
    d = await charity.donate(1_000, fund="alpha")
    first = await correct(charity, d["index"])
    assert first.status_code == 201
    before = await head_size(store, charity)

    assert_problem(await correct(charity, d["index"], "again"), 409, "already corrected")
    assert_problem(await correct(charity, fund["index"]), 422, "only money entries")
    assert_problem(await correct(charity, 0), 422)  # log.created
    assert_problem(await correct(charity, first.json()["index"]), 422)  # a correction
    assert_problem(await correct(charity, 10_000), 422)  # beyond the head
    assert await head_size(store, charity) == before

    # A donation whose money was already paid out cannot be reversed: the fund would go
    # negative.
    d2 = await charity.donate(1_000, fund="alpha")
    assert (await disburse(charity, 800, "alpha", "lksa-a")).status_code == 201
    before = await head_size(store, charity)
    bal = await balances(charity)
    assert_problem(await correct(charity, d2["index"], "bounced"), 409, "overdraw")
    assert await head_size(store, charity) == before and await balances(charity) == bal

    # Two concurrent corrections of one entry: exactly one is recorded.
    d3 = await charity.donate(500, fund="alpha")
    async with live_client(settings) as c:
        live = Org(c, charity.slug, charity.keys)
        results = await asyncio.gather(*(correct(live, d3["index"], f"r{i}") for i in range(5)))
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409, 409, 409], codes
    assert (await fund_view(charity, "alpha"))["balance"] == 200
    await assert_log_verifies(store)


# --- beneficiaries --------------------------------------------------------------------------


async def test_beneficiary_versions_keep_history(charity, store, settings):
    first = await charity.beneficiary("lksa-a", registration="LKSA-001")
    change = {"name": "LKSA Harapan Baru", "city": "Cimahi", "province": "Jawa Barat"}
    r = await charity.post("/beneficiaries/lksa-a/versions", change, "admin")
    assert r.status_code == 201 and r.json()["kind"] == "beneficiary.updated", r.text
    entry = (await charity.client.get(charity.url(f"/log/entries/{r.json()['index']}"))).json()
    assert entry["document"]["body"]["version"] == 2
    assert entry["document"]["body"]["code"] == "lksa-a"

    history = (await charity.client.get(charity.url("/beneficiaries/lksa-a"))).json()
    assert [(b["version"], b["name"], b["city"]) for b in history] == [
        (1, "LKSA lksa-a", "Bandung"),
        (2, "LKSA Harapan Baru", "Cimahi"),
    ]
    assert history[0]["entry_index"] == first["index"]
    assert history[1]["entry_index"] == r.json()["index"]
    assert history[0]["registration"] == "LKSA-001" and history[1]["registration"] is None
    listed = (await charity.client.get(charity.url("/beneficiaries"))).json()["items"]
    assert [(b["code"], b["version"]) for b in listed] == [("lksa-a", 2)]

    # Concurrent changes get distinct, consecutive versions.
    async with live_client(settings) as c:
        live = Org(c, charity.slug, charity.keys)
        results = await asyncio.gather(
            *(
                live.post("/beneficiaries/lksa-a/versions", {**change, "name": f"v{i}"}, "admin")
                for i in range(5)
            )
        )
    assert all(x.status_code == 201 for x in results), [x.text for x in results]
    history = (await charity.client.get(charity.url("/beneficiaries/lksa-a"))).json()
    assert [b["version"] for b in history] == [1, 2, 3, 4, 5, 6, 7]

    before = await head_size(store, charity)
    assert_problem(await charity.post("/beneficiaries/nope/versions", change, "admin"), 422)
    r = await charity.post(
        "/beneficiaries",
        {"code": "lksa-a", "name": "Dup", "city": "X", "province": "Y"},
        "admin",
    )
    assert_problem(r, 409, "already exists")
    assert await head_size(store, charity) == before
    assert_problem(await charity.client.get(charity.url("/beneficiaries/nope")), 404)
    await assert_log_verifies(store)


# --- earmarks -------------------------------------------------------------------------------


async def test_earmarks_restrict_disbursements(charity, store):
    await charity.beneficiary("lksa-a")
    await charity.beneficiary("lksa-b")
    await charity.fund("for-a", earmark={"beneficiary": "lksa-a"})
    await charity.fund("schooling", earmark={"purpose": "education"})
    await charity.donate(1_000, fund="for-a")
    await charity.donate(1_000, fund="schooling")
    assert (await fund_view(charity, "for-a"))["earmark"] == {
        "beneficiary": "lksa-a",
        "purpose": None,
    }

    before = await head_size(store, charity)
    assert_problem(await disburse(charity, 100, "for-a", "lksa-b"), 422, "earmarked")
    assert_problem(await disburse(charity, 100, "schooling", "lksa-a", "food"), 422, "earmarked")
    assert await head_size(store, charity) == before

    assert (await disburse(charity, 100, "for-a", "lksa-a")).status_code == 201
    assert (await disburse(charity, 100, "for-a", "lksa-a", "health")).status_code == 201
    ok = await disburse(charity, 100, "schooling", "lksa-b", "education")
    assert ok.status_code == 201
    bal = await balances(charity)
    assert bal[("beneficiary:lksa-a", "IDR")] == 200
    assert bal[("beneficiary:lksa-b", "IDR")] == 100

    # An earmark to a beneficiary that does not exist is refused when the fund is created.
    r = await charity.post(
        "/funds",
        {"code": "ghost", "name": "Ghost", "currency": "IDR", "earmark": {"beneficiary": "nope"}},
        "admin",
    )
    assert_problem(r, 422, "no beneficiary")
    r = await charity.post(
        "/funds",
        {"code": "odd", "name": "Odd", "currency": "IDR", "earmark": {"purpose": "yachts"}},
        "admin",
    )
    assert_problem(r, 400)
    await assert_log_verifies(store)


# --- batch import ---------------------------------------------------------------------------


async def test_batch_of_1000_donations_is_all_or_nothing_and_idempotent(charity, store):
    await charity.fund("alpha")
    await charity.donate(1, fund="alpha", ref="ALREADY-1")
    start = await head_size(store, charity)
    donations = [donation("alpha", 1_000 + i, f"STMT-{i:04d}") for i in range(1000)]
    headers = auth(charity.keys["recorder"], **{"Idempotency-Key": "batch-1"})
    url = charity.url("/donations/batch")

    r = await charity.client.post(url, json={"donations": donations}, headers=headers)
    assert r.status_code == 201, r.text[:500]
    recorded = r.json()["recorded"]
    assert len(recorded) == 1000
    assert [x["index"] for x in recorded] == list(range(start, start + 1000))
    assert {x["kind"] for x in recorded} == {"donation"}
    assert await head_size(store, charity) == start + 1000
    total = sum(d["amount"] for d in donations)
    assert (await fund_view(charity, "alpha"))["raised"] == total + 1
    expected = {("donors", "IDR"): -(total + 1), ("fund:alpha", "IDR"): total + 1}
    assert await balances(charity) == expected
    # as of the head: summed from the posting lines, which a batch this large writes in chunks
    assert await balances(charity, as_of=start + 1000) == expected
    entry = (await charity.client.get(charity.url(f"/log/entries/{start + 999}"))).json()
    assert entry["document"]["body"]["reference"] == "STMT-0999"

    # Replay: same key and body, the same answer and nothing new.
    again = await charity.client.post(url, json={"donations": donations}, headers=headers)
    assert again.status_code == 201 and again.json() == r.json()
    assert again.headers.get("Idempotency-Replayed") == "true"
    assert await head_size(store, charity) == start + 1000
    other = await charity.client.post(url, json={"donations": donations[:1]}, headers=headers)
    assert_problem(other, 422, "different request")

    # One bad item refuses the whole batch.
    size = start + 1000
    fresh = [donation("alpha", 10, f"NEW-{i}") for i in range(50)]
    cases = [
        ([*fresh, donation("alpha", 10, "NEW-7")], 409, "NEW-7"),  # duplicate in the batch
        ([*fresh, donation("alpha", 10, "STMT-0500")], 409, "STMT-0500"),  # already recorded
        ([*fresh, donation("alpha", 10, "ALREADY-1")], 409, "ALREADY-1"),
        ([*fresh[:10], donation("nope", 10, "X-1"), *fresh[10:]], 422, "item 10"),
        ([*fresh, donation("alpha", 10, "X-2", currency="USD")], 422, "USD"),
    ]
    for items, status, text in cases:
        h = auth(charity.keys["recorder"], **idem())
        bad = await charity.client.post(url, json={"donations": items}, headers=h)
        assert_problem(bad, status, text)
        assert "nothing was recorded" in bad.json()["detail"]
        assert await head_size(store, charity) == size
    # The refused batch's key is free: the corrected batch with the same key succeeds.
    h = auth(charity.keys["recorder"], **idem())
    refused = await charity.client.post(
        url, json={"donations": [*fresh, donation("nope", 1, "Q")]}, headers=h
    )
    assert_problem(refused, 422)
    ok = await charity.client.post(url, json={"donations": fresh}, headers=h)
    assert ok.status_code == 201 and len(ok.json()["recorded"]) == 50
    # Size limits: empty and over 1000 are 400.
    for n in (0, 1001):
        items = [donation("alpha", 1, f"L-{i}") for i in range(n)]
        h = auth(charity.keys["recorder"], **idem())
        assert_problem(await charity.client.post(url, json={"donations": items}, headers=h), 400)
    assert await head_size(store, charity) == size + 50
    await assert_log_verifies(store)


def test_batch_answer_is_exactly_the_encoded_batch_struct():
    """The batch answer is joined from the entries' encoded answers; it must be the very
    bytes msgspec writes for ``BatchRecorded``, so replays and clients see one format."""
    items = [
        Recorded(index=i, kind="donation", time="2026-11-21T00:00:00.000001Z",
                 entry_hash=f"e{i}", leaf_hash=f"l{i}")
        for i in range(3)
    ]  # fmt: skip
    joined = join_recorded([msgspec.json.encode(r) for r in items])
    assert joined == msgspec.json.encode(BatchRecorded(recorded=items))
    assert msgspec.json.decode(joined, type=BatchRecorded).recorded == items


async def test_concurrent_retries_of_one_batch_record_it_once(charity, store, settings):
    await charity.fund("alpha")
    start = await head_size(store, charity)
    donations = [donation("alpha", 100, f"RETRY-{i}") for i in range(200)]
    headers = auth(charity.keys["recorder"], **{"Idempotency-Key": "batch-retry"})
    async with live_client(settings) as c:
        results = await asyncio.gather(
            *(
                c.post(
                    charity.url("/donations/batch"), json={"donations": donations}, headers=headers
                )
                for _ in range(8)
            )
        )
        late = await c.post(
            charity.url("/donations/batch"), json={"donations": donations}, headers=headers
        )
    codes = [r.status_code for r in results]
    assert codes.count(201) >= 1 and set(codes) <= {201, 409}, codes
    bodies = {r.text for r in results if r.status_code == 201}
    assert len(bodies) == 1
    assert late.status_code == 201 and late.text in bodies
    assert late.headers.get("Idempotency-Replayed") == "true"
    assert await head_size(store, charity) == start + 200
    assert (await fund_view(charity, "alpha"))["raised"] == 200 * 100
    await assert_log_verifies(store)


# --- pagination -----------------------------------------------------------------------------


async def test_every_list_paginates_each_item_exactly_once(charity, store, settings, kek):
    for n in range(5):
        await create_organization(store, settings, kek, f"org-{n}", f"Org {n}")
    orgs, pages = await walk(charity.client, "/v1/orgs", 2)
    slugs = [o["slug"] for o in orgs]
    assert sorted(slugs) == sorted(["yayasan-senyum", *(f"org-{n}" for n in range(5))])
    assert len(slugs) == len(set(slugs)) and pages == 3
    everything = (await charity.client.get("/v1/orgs?limit=1000")).json()
    assert [o["slug"] for o in everything["items"]] == slugs and not everything["has_more"]

    codes = [f"fund-{n:02d}" for n in range(7)]
    await asyncio.gather(*(charity.fund(c) for c in codes))
    funds, pages = await walk(charity.client, charity.url("/funds"), 3)
    assert [f["code"] for f in funds] == codes and pages == 3
    funds, pages = await walk(charity.client, charity.url("/funds"), 7)
    assert [f["code"] for f in funds] == codes and pages == 1

    bcodes = [f"lksa-{n:02d}" for n in range(7)]
    await asyncio.gather(*(charity.beneficiary(c) for c in bcodes))
    change = {"name": "Renamed", "city": "Bogor", "province": "Jawa Barat"}
    for c in ("lksa-00", "lksa-03", "lksa-03", "lksa-06"):
        r = await charity.post(f"/beneficiaries/{c}/versions", change, "admin")
        assert r.status_code == 201, r.text
    bens, pages = await walk(charity.client, charity.url("/beneficiaries"), 2)
    assert [b["code"] for b in bens] == bcodes and pages == 4
    versions = {b["code"]: b["version"] for b in bens}
    assert versions == {**dict.fromkeys(bcodes, 1), "lksa-00": 2, "lksa-03": 3, "lksa-06": 2}

    for i in range(6):
        await charity.donate(100 + i, fund="fund-01")
    size = await head_size(store, charity)
    for limit in (1, 4, size, 1000):
        entries, pages = await walk(charity.client, charity.url("/entries"), limit)
        assert [e["index"] for e in entries] == list(range(size)), limit
        assert pages == -(-size // limit)
        assert entries[0]["kind"] == "log.created"
    # Starting from a cursor in the middle; out-of-range limits are 400.
    tail = (await charity.client.get(charity.url(f"/entries?cursor={size - 2}"))).json()
    assert [e["index"] for e in tail["items"]] == [size - 2, size - 1] and not tail["has_more"]
    for bad in ("limit=0", "limit=1001", "cursor=-1"):
        assert_problem(await charity.client.get(charity.url(f"/entries?{bad}")), 400)
        assert_problem(await charity.client.get(f"/v1/orgs?{bad}"), 400)
    for bad in ("limit=0", "limit=1001"):
        assert_problem(await charity.client.get(charity.url(f"/funds?{bad}")), 400)
        assert_problem(await charity.client.get(charity.url(f"/beneficiaries?{bad}")), 400)
    await assert_log_verifies(store)


# --- balances recomputed from the public log ------------------------------------------------


def recompute(documents: list[dict[str, Any]], size: int) -> dict[tuple[str, str], int]:
    """Balances after the first ``size`` entries, from the public documents alone."""
    lines: dict[int, list[Line]] = {}
    totals: dict[tuple[str, str], int] = {}
    for doc in documents[:size]:
        kind, body = doc["kind"], doc["body"]
        if kind == "correction":
            posted = postings_for(kind, body, lines[body["corrects"]])
        else:
            posted = postings_for(kind, body)
        lines[doc["index"]] = posted
        assert sum(x.amount for x in posted) == 0
        for x in posted:
            totals[(x.account, x.currency)] = totals.get((x.account, x.currency), 0) + x.amount
    return {k: v for k, v in totals.items() if v}


async def test_balances_equal_a_recomputation_from_the_public_entries(charity, store):
    await charity.fund("alpha")
    await charity.fund("beta", fee_cap_bps=500)
    await charity.fund("dollars", currency="USD")
    await charity.beneficiary("lksa-a")
    await charity.beneficiary("lksa-b")
    await charity.donate(5_000_00, fund="alpha")
    await charity.donate(3_000_00, fund="beta")
    await charity.donate(250_00, fund="dollars", currency="USD")
    out = await disburse(charity, 1_000_00, "alpha", "lksa-a")
    t = await transfer(charity, "alpha", "beta", 500_00)
    f = await fee(charity, "beta", 100_00)
    await charity.donate(2_000_00, fund="alpha")
    await fee(charity, "alpha", 50_00)
    await disburse(charity, 200_00, "beta", "lksa-b", "education")
    await disburse(charity, 100_00, "dollars", "lksa-b", currency="USD")
    for r in (out, t, f):
        assert r.status_code == 201, r.text
        assert (await correct(charity, r.json()["index"])).status_code == 201
    await charity.donate(1, fund="alpha")
    change = {"name": "N", "city": "C", "province": "P"}
    assert (
        await charity.post("/beneficiaries/lksa-a/versions", change, "admin")
    ).status_code == 201
    assert (await disburse(charity, 4_000_00, "alpha", "lksa-b", "shelter")).status_code == 201
    assert (await disburse(charity, 3_000_00, "alpha", "lksa-b")).status_code == 409

    documents = [e["document"] for e in (await walk(charity.client, charity.url("/entries"), 7))[0]]
    size = len(documents)
    assert size == await head_size(store, charity)
    assert [d["index"] for d in documents] == list(range(size))

    now = await balances(charity)
    assert now == recompute(documents, size)
    for currency in ("IDR", "USD"):
        assert sum(v for (_, c), v in now.items() if c == currency) == 0
    assert now[("fund:alpha", "IDR")] == 5_000_00 - 50_00 + 2_000_00 + 1 - 4_000_00
    assert now[("fund:dollars", "USD")] == 150_00

    r = await charity.client.get(charity.url("/balances"))
    assert r.json()["as_of"] == size
    for n in range(size + 1):
        past = await charity.client.get(charity.url(f"/balances?as_of={n}"))
        assert past.status_code == 200 and past.json()["as_of"] == n
        got = {(b["account"], b["currency"]): b["amount"] for b in past.json()["balances"]}
        assert {k: v for k, v in got.items() if v} == recompute(documents, n), n
        assert sum(got.values()) == 0
    beyond = (await charity.client.get(charity.url(f"/balances?as_of={size + 50}"))).json()
    assert beyond["as_of"] == size
    assert_problem(await charity.client.get(charity.url("/balances?as_of=-1")), 400)

    # Fund views agree with the recomputed fund accounts.
    for code, cur in (("alpha", "IDR"), ("beta", "IDR"), ("dollars", "USD")):
        assert (await fund_view(charity, code))["balance"] == now.get((f"fund:{code}", cur), 0)
    await assert_log_verifies(store)


# --- evidence files -------------------------------------------------------------------------


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data).to_bytes(4, "big")
        return len(data).to_bytes(4, "big") + kind + data + crc

    ihdr = (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    idat = zlib.compress(b"\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
TINY_JPEG = (
    bytes.fromhex(
        "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f"
    )
    + b"\x00" * 16
    + b"\xff\xd9"
)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"  # fmt: skip


async def _disbursement(charity: Org) -> int:
    await charity.fund()
    await charity.beneficiary()
    await charity.donate(1_000_00)
    r = await charity.disburse(500_00)
    assert r.status_code == 201
    return r.json()["index"]


async def upload(  # type: ignore[no-untyped-def]
    client, charity: Org, index: int, content: bytes, content_type: str = "text/plain"
):
    headers = auth(charity.keys["recorder"], **idem(), **{"Content-Type": content_type})
    return await client.post(
        charity.url(f"/disbursements/{index}/evidence"), content=content, headers=headers
    )


async def test_evidence_upload_commits_hash_and_sniffed_type_and_downloads_identically(
    charity, store
):
    index = await _disbursement(charity)
    for content, sniffed in (
        (tiny_png(), "image/png"),
        (TINY_PDF, "application/pdf"),
        (TINY_JPEG, "image/jpeg"),
    ):
        before = await head_size(store, charity)
        r = await upload(charity.client, charity, index, content, "text/plain")
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "evidence.attached" and r.json()["index"] == before
        entry = (await charity.client.get(charity.url(f"/log/entries/{before}"))).json()
        digest = hashlib.sha256(content).hexdigest()
        assert entry["document"]["body"] == {
            "disbursement": index,
            "sha256": digest,
            "content_type": sniffed,
            "size": len(content),
        }
        for role in ("auditor", "recorder", "admin"):
            got = await charity.client.get(
                charity.url(f"/evidence/{digest}"), headers=auth(charity.keys[role])
            )
            assert got.status_code == 200 and got.content == content
            assert got.headers["X-Content-SHA256"] == digest
            assert got.headers["content-type"].startswith(sniffed)
            assert hashlib.sha256(got.content).hexdigest() == digest
        canonical = base64.b64decode(entry["canonical"])
        assert digest.encode() in canonical
    await assert_log_verifies(store)


async def test_evidence_of_another_type_is_415_and_nothing_is_recorded(charity, store):
    index = await _disbursement(charity)
    before = await head_size(store, charity)
    for content, claimed in (
        (GIF, "image/png"),
        (b"just some text", "application/pdf"),
        (b"<html>%PDF-</html>", "application/pdf"),
    ):
        r = await upload(charity.client, charity, index, content, claimed)
        assert_problem(r, 415)
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)


async def test_evidence_over_the_limit_is_413(charity, store, settings):
    index = await _disbursement(charity)
    before = await head_size(store, charity)
    async with app_client(settings, max_evidence_bytes=1000) as small:
        at_limit = TINY_PDF + b"%" * (1000 - len(TINY_PDF))
        too_big = at_limit + b"%"
        assert_problem(await upload(small, charity, index, too_big, "application/pdf"), 413)
        assert await head_size(store, charity) == before
        ok = await upload(small, charity, index, at_limit, "application/pdf")
        assert ok.status_code == 201, ok.text
    await assert_log_verifies(store)


async def test_evidence_for_a_non_disbursement_is_422_and_stores_nothing(charity, store):
    await _disbursement(charity)
    donation_index = (await charity.donate(1))["index"]
    before = await head_size(store, charity)
    content = tiny_png()
    for target in (donation_index, 0, 10_000):
        assert_problem(await upload(charity.client, charity, target, content), 422)
    assert await head_size(store, charity) == before
    digest = hashlib.sha256(content).hexdigest()
    r = await charity.client.get(
        charity.url(f"/evidence/{digest}"), headers=auth(charity.keys["auditor"])
    )
    assert_problem(r, 404)  # no entry commits to this file: it must not be served
    await assert_log_verifies(store)


async def test_evidence_download_rules(charity, store, settings, kek):
    """The parts of evidence that do not need an upload: unknown or malformed hashes."""
    unknown = hashlib.sha256(b"never uploaded").hexdigest()
    r = await charity.client.get(
        charity.url(f"/evidence/{unknown}"), headers=auth(charity.keys["auditor"])
    )
    assert_problem(r, 404)
    r = await charity.client.get(
        charity.url("/evidence/not-hex"), headers=auth(charity.keys["auditor"])
    )
    assert_problem(r, 422, "SHA-256")
    # Another organization's key cannot fetch this organization's files.
    other = await create_organization(store, settings, kek, "other-org", "Other")
    _, other_key = await issue_key(store, other.id, "auditor")
    r = await charity.client.get(charity.url(f"/evidence/{unknown}"), headers=auth(other_key))
    assert_problem(r, 403)


# --- rules see earlier entries of the same group-commit batch --------------------------------


async def in_one_batch(settings, charity: Org, requests: list[tuple[str, dict]]) -> list:  # type: ignore[no-untyped-def]
    """Commit ``requests`` together in ONE group-commit batch, in this order.

    A filler donation's batch keeps the head lock until every request is queued behind it;
    each request is sent only once the previous one is queued, so their order is fixed.
    """
    app_box: dict[str, Any] = {}
    held = asyncio.Event()

    def queued() -> int:
        writers = app_box["app"].state.services.appender.writers.values()
        return sum(len(w._pending) for w in writers)

    async def until(condition) -> None:  # type: ignore[no-untyped-def]
        for _ in range(500):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("timed out waiting for the requests to queue")

    async def fault(point: str, conn) -> None:  # type: ignore[no-untyped-def]
        if point == "locked" and not held.is_set():
            held.set()
            await until(lambda: queued() >= len(requests))

    async with live_client(settings, fault=fault, app_box=app_box) as c:

        async def send(path: str, body: dict) -> Any:
            headers = auth(charity.keys["recorder"], **idem())
            return await c.post(charity.url(path), json=body, headers=headers)

        tasks = [asyncio.create_task(send("/donations", donation("senyum-2026", 1, "FILLER")))]
        await asyncio.wait_for(held.wait(), 5)
        for n, (path, body) in enumerate(requests, start=1):
            tasks.append(asyncio.create_task(send(path, body)))
            await until(lambda n=n: queued() >= n)
        results = await asyncio.gather(*tasks)
    assert results[0].status_code == 201, results[0].text
    times = {r.json()["time"] for r in results[1:] if r.status_code == 201}
    assert len(times) <= 1, times  # one batch: one timestamp
    return results[1:]


async def test_rules_see_earlier_entries_of_the_same_batch(charity, store, settings):
    """Within one group-commit batch, a disbursement sees the donation queued before it and a
    second correction sees the first: the batch behaves like the same requests in order."""
    await charity.fund()
    await charity.beneficiary()
    d = await charity.donate(500)
    out = {
        "fund": "senyum-2026",
        "beneficiary": "lksa-harapan",
        "amount": 1_200,
        "currency": "IDR",
        "purpose": "food",
        "paid_on": "2026-11-02",
        "reference": "OUT-SAME",
    }
    results = await in_one_batch(
        settings,
        charity,
        [
            ("/donations", donation("senyum-2026", 1_000, "IN-SAME")),
            ("/disbursements", out),
            ("/corrections", {"corrects": d["index"], "reason": "first"}),
            ("/corrections", {"corrects": d["index"], "reason": "second"}),
            ("/disbursements", {**out, "amount": 1, "reference": "OUT-2"}),
        ],
    )
    codes = [r.status_code for r in results]
    # 500 + 1 + 1000 - 1200 = 301 left: the first correction (-500) would overdraw.
    assert codes == [201, 201, 409, 409, 201], [r.text for r in results]
    assert "overdraw" in results[2].json()["detail"]
    assert (await fund_view(charity, "senyum-2026"))["balance"] == 300
    await assert_log_verifies(store)


async def test_fee_cap_counts_a_correction_in_the_same_batch(charity, store, settings):
    await charity.fund()
    await charity.donate(10_000_00)
    second = await charity.donate(10_000_00)
    fee_body = {
        "fund": "senyum-2026",
        "amount": 2_000_00,
        "currency": "IDR",
        "charged_on": "2026-11-04",
        "description": "gateway",
    }
    corrected, charged = await in_one_batch(
        settings,
        charity,
        [
            ("/corrections", {"corrects": second["index"], "reason": "bounced"}),
            ("/fees", fee_body),
        ],
    )
    assert corrected.status_code == 201, corrected.text
    # Sequentially the fee is 20% of the 10,000.00 still raised: above the 10% cap.
    assert charged.status_code == 409, charged.text
    view = await fund_view(charity, "senyum-2026")
    assert not view["over_cap"], view
    await assert_log_verifies(store)


async def test_fee_cap_counts_a_donation_in_the_same_batch(charity, store, settings):
    await charity.fund()
    fee_body = {
        "fund": "senyum-2026",
        "amount": 100_00,
        "currency": "IDR",
        "charged_on": "2026-11-04",
        "description": "gateway",
    }
    donated, charged = await in_one_batch(
        settings,
        charity,
        [("/donations", donation("senyum-2026", 1_000_00, "BIG")), ("/fees", fee_body)],
    )
    assert donated.status_code == 201, donated.text
    assert charged.status_code == 201, charged.text  # 10% of the 1,000.01 raised before it
    assert charged.json()["index"] == donated.json()["index"] + 1
    await assert_log_verifies(store)


async def test_fund_totals_cache_equals_the_sum_over_money_entries(charity, store, owner):
    await charity.fund()
    await charity.fund("alpha")
    await charity.beneficiary()
    d1 = await charity.donate(1_000_00)
    await charity.donate(2_000_00)
    await charity.donate(500_00, fund="alpha")
    t = await charity.ok(
        "/transfers",
        {
            "from_fund": "senyum-2026",
            "to_fund": "alpha",
            "amount": 300_00,
            "currency": "IDR",
            "transferred_on": "2026-11-02",
            "reason": "rebalance",
        },
    )
    assert (await charity.disburse(400_00)).status_code == 201
    await charity.ok(
        "/fees",
        {
            "fund": "senyum-2026",
            "amount": 100_00,
            "currency": "IDR",
            "charged_on": "2026-11-02",
            "description": "gateway",
        },
    )
    await charity.ok("/corrections", {"corrects": t["index"], "reason": "wrong fund"})
    await charity.ok("/corrections", {"corrects": d1["index"], "reason": "bounced"})
    cached = await owner.fetch("SELECT fund, kind, amount FROM fund_totals WHERE amount <> 0")
    summed = await owner.fetch(
        "SELECT fund, kind, sum(amount)::bigint AS amount FROM money_entries "
        "WHERE corrected_by IS NULL AND kind <> 'correction' GROUP BY fund, kind "
        "UNION ALL SELECT counterparty, 'transfer_in', sum(amount)::bigint FROM money_entries "
        "WHERE kind = 'transfer' AND corrected_by IS NULL GROUP BY counterparty"
    )
    assert sorted(map(tuple, cached)) == sorted(tuple(r) for r in summed if r["amount"])
    fund = (await charity.client.get(charity.url("/funds/senyum-2026"))).json()
    assert (fund["raised"], fund["transferred_out"], fund["fees"]) == (2_000_00, 0, 100_00)
