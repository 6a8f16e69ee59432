"""Within one group-commit batch the rules see the entries queued before: the batch behaves
like the same requests sent one after another."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.apikit import Org, auth, disbursement, donation, fee, idem, live_client
from tests.logkit import assert_log_verifies


async def in_one_batch(settings, charity: Org, requests: list[tuple[str, dict]]) -> list:  # type: ignore[no-untyped-def]
    """Commit ``requests`` together in ONE group-commit batch, in this order.

    A filler donation's batch keeps the head lock until every request is queued behind it;
    each request is sent only once the previous one is queued, so their order is fixed.
    """
    served: list[Any] = []  # the app, once it runs
    held = asyncio.Event()

    def queued() -> int:
        writers = served[0].state.services.appender.writers.values()
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

    async with live_client(settings, fault=fault) as c:
        served.append(c.app)  # type: ignore[attr-defined]

        async def send(path: str, body: dict) -> Any:
            headers = auth(charity.keys["recorder"], **idem())
            return await c.post(charity.url(path), json=body, headers=headers)

        tasks = [asyncio.create_task(send("/donations", donation("FILLER", amount=1)))]
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
    out = disbursement(1_200, "OUT-SAME")
    results = await in_one_batch(
        settings,
        charity,
        [
            ("/donations", donation("IN-SAME", amount=1_000)),
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
    assert (await charity.fund_view())["balance"] == 300
    await assert_log_verifies(store)


async def test_fee_cap_counts_a_correction_in_the_same_batch(charity, store, settings):
    await charity.fund()
    await charity.donate(10_000_00)
    second = await charity.donate(10_000_00)
    corrected, charged = await in_one_batch(
        settings,
        charity,
        [
            ("/corrections", {"corrects": second["index"], "reason": "bounced"}),
            ("/fees", fee(2_000_00)),
        ],
    )
    assert corrected.status_code == 201, corrected.text
    # Sequentially the fee is 20% of the 10,000.00 still raised: above the 10% cap.
    assert charged.status_code == 409, charged.text
    view = await charity.fund_view()
    assert not view["over_cap"], view
    await assert_log_verifies(store)


async def test_fee_cap_counts_a_donation_in_the_same_batch(charity, store, settings):
    await charity.fund()
    donated, charged = await in_one_batch(
        settings,
        charity,
        [("/donations", donation("BIG", amount=1_000_00)), ("/fees", fee(100_00))],
    )
    assert donated.status_code == 201, donated.text
    assert charged.status_code == 201, charged.text  # 10% of the 1,000.01 raised before it
    assert charged.json()["index"] == donated.json()["index"] + 1
    await assert_log_verifies(store)
