"""Fees and each fund's overhead cap: what counts as raised, the default 10% cap, a zero cap, and
a correction that lowers what was raised."""

from __future__ import annotations

import asyncio

from tests.apikit import Org, assert_problem, head_size, live_client
from tests.logkit import assert_log_verifies


async def test_fee_cap_accepts_up_to_ten_percent_of_raised_and_refuses_more(charity, store):
    await charity.fund("capped", fee_cap_bps=1000)
    await charity.donate(10_000_00, fund="capped")
    r = await charity.fee(600_00, "capped")
    assert r.status_code == 201 and r.json()["kind"] == "fee", r.text
    view = await charity.fund_view("capped")
    assert (view["fees"], view["overhead_bps"], view["over_cap"]) == (600_00, 600, False)

    # 10% exactly is allowed; one minor unit more is not.
    assert (await charity.fee(400_00, "capped")).status_code == 201
    before = await head_size(store, charity)
    assert_problem(await charity.fee(1, "capped"), 409, "overhead cap")
    assert await head_size(store, charity) == before
    view = await charity.fund_view("capped")
    assert (view["fees"], view["overhead_bps"], view["over_cap"]) == (1_000_00, 1000, False)
    assert view["balance"] == 9_000_00 and view["fee_cap_bps"] == 1000

    # More donations raise the headroom proportionally.
    await charity.donate(1_000_00, fund="capped")
    assert_problem(await charity.fee(100_01, "capped"), 409, "overhead cap")
    assert (await charity.fee(100_00, "capped")).status_code == 201
    bal = await charity.balances()
    assert bal[("fees", "IDR")] == 1_100_00
    await assert_log_verifies(store)


async def test_default_cap_is_ten_percent_and_concurrent_fees_count_each_other(
    charity, store, settings
):
    await charity.fund("plain")
    assert (await charity.fund_view("plain"))["fee_cap_bps"] == 1000
    await charity.donate(1_000, fund="plain")
    async with live_client(settings) as c:
        live = Org(c, charity.slug, charity.keys)
        results = await asyncio.gather(*(live.fee(30, "plain") for _ in range(6)))
    codes = [r.status_code for r in results]
    assert codes.count(201) == 3 and codes.count(409) == 3, codes
    assert (await charity.fund_view("plain"))["fees"] == 90
    await assert_log_verifies(store)


async def test_zakat_fund_with_zero_cap_refuses_any_fee(charity, store):
    await charity.fund("zakat", fee_cap_bps=0)
    await charity.donate(5_000_000_00, fund="zakat")
    before = await head_size(store, charity)
    assert_problem(await charity.fee(1, "zakat"), 409, "overhead cap")
    assert await head_size(store, charity) == before
    view = await charity.fund_view("zakat")
    assert (view["fees"], view["overhead_bps"], view["over_cap"], view["fee_cap_bps"]) == (
        0,
        0,
        False,
        0,
    )
    await assert_log_verifies(store)


async def test_fee_needs_money_raised_and_a_balance(charity, store):
    await charity.fund("empty")
    assert_problem(await charity.fee(1, "empty"), 409)
    await charity.fund("a")
    await charity.fund("b")
    await charity.beneficiary()
    await charity.donate(1_000, fund="a")
    # Money transferred in is not "raised" by the fund: no fee headroom from it.
    assert (await charity.transfer("a", "b", 1_000)).status_code == 201
    assert_problem(await charity.fee(1, "b"), 409, "overhead cap")
    # Fee headroom on 'a' remains (100) but its balance is 0: overdraw.
    assert_problem(await charity.fee(50, "a"), 409, "overdraw")
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
    assert (await charity.fee(2_000, "capped")).status_code == 201
    # The second donation bounced: reversing it is a fact, so it is recorded, and the
    # overhead now shows above the cap.
    assert (await charity.correct(second["index"], "transfer bounced")).status_code == 201
    view = await charity.fund_view("capped")
    assert (view["raised"], view["fees"], view["overhead_bps"], view["over_cap"]) == (
        10_000,
        2_000,
        2000,
        True,
    )
    listed = (await charity.client.get(charity.url("/funds"))).json()["items"]
    assert [f for f in listed if f["code"] == "capped"] == [view]
    await assert_log_verifies(store)
