"""Transfers between funds: balances move, and a transfer never overdraws its source, not even
when several run at once."""

from __future__ import annotations

import asyncio

from tests.apikit import Org, assert_problem, fund_balance, head_size, live_client
from tests.logkit import assert_log_verifies


async def test_transfers_move_balances_and_refuse_same_fund_other_currency_and_overdraw(
    charity, store
):
    await charity.fund("alpha")
    await charity.fund("beta")
    await charity.fund("dollars", currency="USD")
    await charity.donate(1_000_00, fund="alpha")
    r = await charity.transfer("alpha", "beta", 300_00)
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "transfer"
    bal = await charity.balances()
    assert fund_balance(bal, "alpha") == 700_00 and fund_balance(bal, "beta") == 300_00
    alpha, beta = await charity.fund_view("alpha"), await charity.fund_view("beta")
    assert (alpha["balance"], alpha["transferred_out"], alpha["raised"]) == (
        700_00,
        300_00,
        1_000_00,
    )
    assert (beta["balance"], beta["transferred_in"], beta["raised"]) == (300_00, 300_00, 0)

    before = await head_size(store, charity)
    assert_problem(await charity.transfer("alpha", "alpha", 1), 422, "two different funds")
    assert_problem(await charity.transfer("alpha", "dollars", 1), 422, "USD")
    assert_problem(await charity.transfer("alpha", "dollars", 1, "USD"), 422, "IDR")
    assert_problem(await charity.transfer("alpha", "nope", 1), 422, "no fund")
    assert_problem(await charity.transfer("alpha", "beta", 700_01), 409, "overdraw")
    assert_problem(await charity.transfer("beta", "alpha", 300_01), 409, "overdraw")
    assert await head_size(store, charity) == before
    assert await charity.balances() == bal

    # The whole balance can move; then nothing is left to move.
    assert (await charity.transfer("alpha", "beta", 700_00)).status_code == 201
    assert_problem(await charity.transfer("alpha", "beta", 1), 409)
    bal = await charity.balances()
    assert fund_balance(bal, "alpha") == 0 and fund_balance(bal, "beta") == 1_000_00
    await assert_log_verifies(store)


async def test_concurrent_transfers_never_overdraw_the_source(charity, store, settings):
    await charity.fund("alpha")
    await charity.fund("beta")
    await charity.donate(1_000, fund="alpha")
    async with live_client(settings) as c:
        live = Org(c, charity.slug, charity.keys)
        results = await asyncio.gather(*(live.transfer("alpha", "beta", 150) for _ in range(12)))
    codes = [r.status_code for r in results]
    assert codes.count(201) == 6 and codes.count(409) == 6, codes
    bal = await charity.balances()
    assert fund_balance(bal, "alpha") == 100 and fund_balance(bal, "beta") == 900
    await assert_log_verifies(store)
