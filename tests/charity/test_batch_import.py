"""POST /donations/batch: up to 1,000 donations, all or nothing, idempotent, and recorded once
even when retried concurrently."""

from __future__ import annotations

import asyncio

import msgspec

from ledger.charity.rules import join_recorded
from schemas.charity import BatchRecorded, Recorded
from tests.apikit import assert_problem, auth, donation, head_size, idem, live_client
from tests.logkit import assert_log_verifies


async def test_batch_of_1000_donations_is_all_or_nothing_and_idempotent(charity, store):
    await charity.fund("alpha")
    await charity.donate(1, fund="alpha", ref="ALREADY-1")
    start = await head_size(store, charity)
    donations = [donation(f"STMT-{i:04d}", fund="alpha", amount=1_000 + i) for i in range(1000)]
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
    assert (await charity.fund_view("alpha"))["raised"] == total + 1
    expected = {("donors", "IDR"): -(total + 1), ("fund:alpha", "IDR"): total + 1}
    assert await charity.balances() == expected
    # as of the head: summed from the posting lines, which a batch this large writes in chunks
    assert await charity.balances(as_of=start + 1000) == expected
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
    fresh = [donation(f"NEW-{i}", fund="alpha", amount=10) for i in range(50)]
    cases = [
        # a duplicate within the batch, then references already recorded
        ([*fresh, donation("NEW-7", fund="alpha", amount=10)], 409, "NEW-7"),
        ([*fresh, donation("STMT-0500", fund="alpha", amount=10)], 409, "STMT-0500"),
        ([*fresh, donation("ALREADY-1", fund="alpha", amount=10)], 409, "ALREADY-1"),
        ([*fresh[:10], donation("X-1", fund="nope", amount=10), *fresh[10:]], 422, "item 10"),
        ([*fresh, donation("X-2", fund="alpha", amount=10, currency="USD")], 422, "USD"),
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
        url, json={"donations": [*fresh, donation("Q", fund="nope", amount=1)]}, headers=h
    )
    assert_problem(refused, 422)
    ok = await charity.client.post(url, json={"donations": fresh}, headers=h)
    assert ok.status_code == 201 and len(ok.json()["recorded"]) == 50
    # Size limits: empty and over 1000 are 400.
    for n in (0, 1001):
        items = [donation(f"L-{i}", fund="alpha", amount=1) for i in range(n)]
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
    donations = [donation(f"RETRY-{i}", fund="alpha", amount=100) for i in range(200)]
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
    assert (await charity.fund_view("alpha"))["raised"] == 200 * 100
    await assert_log_verifies(store)
