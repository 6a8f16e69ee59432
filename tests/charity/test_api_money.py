"""The charity API end to end: funds, beneficiaries, donations, disbursements, balances."""

from __future__ import annotations

import asyncio

from tests.apikit import auth, donation, idem
from tests.logkit import assert_log_verifies


async def test_walkthrough_records_money_and_balances_match(charity, store):
    await charity.fund()
    await charity.beneficiary()
    d = await charity.donate(500_000_00)
    assert d["kind"] == "donation" and d["index"] >= 1
    r = await charity.disburse(200_000_00)
    assert r.status_code == 201, r.text
    fund = (await charity.client.get(charity.url("/funds/senyum-2026"))).json()
    assert fund["raised"] == 500_000_00 and fund["disbursed"] == 200_000_00
    assert fund["balance"] == 300_000_00 and fund["minor_units"] == 2
    bens = (await charity.client.get(charity.url("/beneficiaries"))).json()
    assert bens["items"][0]["received"][0]["amount"] == 200_000_00
    balances = (await charity.client.get(charity.url("/balances"))).json()
    by = {b["account"]: b["amount"] for b in balances["balances"]}
    assert by == {
        "donors": -500_000_00,
        "fund:senyum-2026": 300_000_00,
        "beneficiary:lksa-harapan": 200_000_00,
    }
    await assert_log_verifies(store)


async def test_overdraft_is_refused_with_409_and_concurrent_disbursements_never_overdraw(
    charity, store
):
    await charity.fund()
    await charity.beneficiary()
    await charity.donate(1_000)
    results = await asyncio.gather(*(charity.disburse(100) for _ in range(25)))
    codes = sorted(r.status_code for r in results)
    assert codes.count(201) == 10 and codes.count(409) == 15
    refused = next(r for r in results if r.status_code == 409)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "overdraw" in refused.json()["detail"]
    fund = (await charity.client.get(charity.url("/funds/senyum-2026"))).json()
    assert fund["balance"] == 0
    await assert_log_verifies(store)


async def test_idempotency_replay_mismatch_and_concurrent_retries(charity, store):
    await charity.fund()
    body = donation("QRIS-1", channel="qris")
    headers = auth(charity.keys["recorder"], **{"Idempotency-Key": "k-1"})
    first = await charity.client.post(charity.url("/donations"), json=body, headers=headers)
    again = await charity.client.post(charity.url("/donations"), json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotency-Replayed"] == "true"
    other = await charity.client.post(
        charity.url("/donations"), json={**body, "amount": 5}, headers=headers
    )
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    h2 = auth(charity.keys["recorder"], **{"Idempotency-Key": "k-2"})
    b2 = {**body, "reference": "QRIS-2"}
    races = await asyncio.gather(
        *(charity.client.post(charity.url("/donations"), json=b2, headers=h2) for _ in range(10))
    )
    ok = [r for r in races if r.status_code == 201]
    assert ok and all(r.status_code in (201, 409) for r in races)
    assert len({r.json()["index"] for r in ok}) == 1
    entries = (await charity.client.get(charity.url("/entries?limit=1000"))).json()["items"]
    assert sum(1 for e in entries if e["document"]["body"].get("reference") == "QRIS-2") == 1
    await assert_log_verifies(store)


async def test_missing_idempotency_key_and_bad_input_are_clear_4xx(charity, store):
    await charity.fund()
    url = charity.url("/donations")
    rec = auth(charity.keys["recorder"])
    body = {
        "fund": "senyum-2026",
        "amount": 5,
        "currency": "IDR",
        "received_on": "2026-11-01",
        "channel": "qris",
        "reference": "R",
    }
    before = await store.head(1)
    cases = [
        (body, rec, 422, "Idempotency-Key"),
        ({**body, "amount": -5}, {**rec, **idem()}, 400, "amount"),
        ({**body, "amount": 10**16}, {**rec, **idem()}, 400, "amount"),
        ({**body, "amount": 1.5}, {**rec, **idem()}, 400, "amount"),
        ({**body, "currency": "XYZ"}, {**rec, **idem()}, 400, "ISO 4217"),
        ({**body, "currency": "USD"}, {**rec, **idem()}, 422, "IDR"),
        ({**body, "fund": "nope"}, {**rec, **idem()}, 422, "no fund"),
        ({**body, "extra": 1}, {**rec, **idem()}, 400, "extra"),
    ]
    for payload, headers, status, text in cases:
        r = await charity.client.post(url, json=payload, headers=headers)
        assert r.status_code == status, (payload, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert text in r.text, r.text
    r = await charity.client.post(
        url, content=b"{not json", headers={**rec, **idem(), "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert (await store.head(1)).size == before.size
    await assert_log_verifies(store)


async def test_writers_of_separate_processes_see_each_others_batches_under_the_lock(
    charity, store, settings
):
    """Three apps on one database stand for three worker processes: each has its own
    group-commit writer, and they meet only at the log-head lock. What one admits must see
    every batch another committed before it got the lock (the reads run once it is held):
    no overdraft, one donation per reference, one entry per Idempotency-Key."""
    from ledger.http.app import create_app
    from tests.apikit import Org, serve_in_loop

    await charity.fund()
    await charity.beneficiary()
    await charity.donate(1_000)
    quiet = settings.with_(checkpoint_interval=0)
    async with (
        serve_in_loop(create_app(quiet)) as a,
        serve_in_loop(create_app(quiet)) as b,
        serve_in_loop(create_app(quiet)) as c,
    ):
        writers = [Org(x, charity.slug, charity.keys) for x in (a, b, c)]
        accepted = 0
        for _ in range(3):
            results = await asyncio.gather(*(writers[i % 3].disburse(100) for i in range(9)))
            codes = [r.status_code for r in results]
            assert set(codes) <= {201, 409}, codes
            accepted += codes.count(201)
        assert accepted == 10
        body = {
            "fund": "senyum-2026",
            "amount": 7,
            "currency": "IDR",
            "received_on": "2026-11-01",
            "channel": "cash",
            "reference": "SAME-REF",
        }
        dup = await asyncio.gather(*(w.post("/donations", body) for w in writers * 2))
        assert sorted(r.status_code for r in dup) == [201] + [409] * 5, [r.text for r in dup]
        body["reference"] = "SAME-KEY"
        same = await asyncio.gather(
            *(w.post("/donations", body, key="one-key-many-writers") for w in writers * 2)
        )
        codes = [r.status_code for r in same]
        assert set(codes) <= {201, 409} and codes.count(201) >= 1, [r.text for r in same]
        created = {r.json()["index"] for r in same if r.status_code == 201}
        assert len(created) == 1  # every 201 is the one entry or its replay
    fund = (await charity.client.get(charity.url("/funds/senyum-2026"))).json()
    assert fund["balance"] == 7 + 7 and fund["raised"] == 1_000 + 7 + 7
    await assert_log_verifies(store)
