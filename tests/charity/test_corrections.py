"""Corrections reverse each kind of money entry, once, and never overdraw a fund."""

from __future__ import annotations

import asyncio

from tests.apikit import Org, assert_problem, head_size, live_client
from tests.logkit import assert_log_verifies


async def test_corrections_reverse_each_kind_of_money_entry(charity, store):
    await charity.fund("alpha")
    await charity.fund("beta")
    await charity.beneficiary("lksa-a")
    start = await charity.balances()
    assert start == {}

    d = await charity.donate(1_000_00, fund="alpha")
    after_donation = await charity.balances()
    c = await charity.correct(d["index"])
    assert c.status_code == 201 and c.json()["kind"] == "correction", c.text
    assert await charity.balances() == {}
    assert (await charity.fund_view("alpha"))["raised"] == 0
    assert after_donation[("donors", "IDR")] == -1_000_00

    await charity.donate(2_000_00, fund="alpha")
    snapshot = await charity.balances()

    out = await charity.disburse(500_00, "alpha", "lksa-a")
    assert out.status_code == 201
    assert (await charity.correct(out.json()["index"])).status_code == 201
    assert await charity.balances() == snapshot
    assert (await charity.fund_view("alpha"))["disbursed"] == 0
    ben = (await charity.client.get(charity.url("/beneficiaries/lksa-a"))).json()
    assert all(b["amount"] == 0 for b in ben[0]["received"])

    t = await charity.transfer("alpha", "beta", 700_00)
    assert t.status_code == 201
    assert (await charity.correct(t.json()["index"])).status_code == 201
    assert await charity.balances() == snapshot
    beta = await charity.fund_view("beta")
    assert (beta["transferred_in"], beta["balance"]) == (0, 0)
    assert (await charity.fund_view("alpha"))["transferred_out"] == 0

    f = await charity.fee(100_00, "alpha")
    assert f.status_code == 201
    assert (await charity.correct(f.json()["index"])).status_code == 201
    assert await charity.balances() == snapshot
    alpha = await charity.fund_view("alpha")
    assert (alpha["fees"], alpha["overhead_bps"], alpha["balance"]) == (0, 0, 2_000_00)
    await assert_log_verifies(store)


async def test_correction_rules_once_money_only_and_never_overdraw(charity, store, settings):
    fund = await charity.fund("alpha")
    await charity.beneficiary("lksa-a")
    d = await charity.donate(1_000, fund="alpha")
    first = await charity.correct(d["index"])
    assert first.status_code == 201
    before = await head_size(store, charity)

    assert_problem(await charity.correct(d["index"], "again"), 409, "already corrected")
    assert_problem(await charity.correct(fund["index"]), 422, "only money entries")
    assert_problem(await charity.correct(0), 422)  # log.created
    assert_problem(await charity.correct(first.json()["index"]), 422)  # a correction
    assert_problem(await charity.correct(10_000), 422)  # beyond the head
    assert await head_size(store, charity) == before

    # A donation whose money was already paid out cannot be reversed: the fund would go
    # negative.
    d2 = await charity.donate(1_000, fund="alpha")
    assert (await charity.disburse(800, "alpha", "lksa-a")).status_code == 201
    before = await head_size(store, charity)
    bal = await charity.balances()
    assert_problem(await charity.correct(d2["index"], "bounced"), 409, "overdraw")
    assert await head_size(store, charity) == before and await charity.balances() == bal

    # Two concurrent corrections of one entry: exactly one is recorded.
    d3 = await charity.donate(500, fund="alpha")
    async with live_client(settings) as c:
        live = Org(c, charity.slug, charity.keys)
        results = await asyncio.gather(*(live.correct(d3["index"], f"r{i}") for i in range(5)))
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409, 409, 409], codes
    assert (await charity.fund_view("alpha"))["balance"] == 200
    await assert_log_verifies(store)
