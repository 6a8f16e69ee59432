"""GET /balances, now and as of any past size, equals a recomputation from the public entries
alone."""

from __future__ import annotations

from typing import Any

from ledger.formats.postings import Line, postings_for
from tests.apikit import assert_problem, head_size, walk
from tests.logkit import assert_log_verifies


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
    out = await charity.disburse(1_000_00, "alpha", "lksa-a")
    t = await charity.transfer("alpha", "beta", 500_00)
    f = await charity.fee(100_00, "beta")
    await charity.donate(2_000_00, fund="alpha")
    await charity.fee(50_00, "alpha")
    await charity.disburse(200_00, "beta", "lksa-b", "education")
    await charity.disburse(100_00, "dollars", "lksa-b", currency="USD")
    for r in (out, t, f):
        assert r.status_code == 201, r.text
        assert (await charity.correct(r.json()["index"])).status_code == 201
    await charity.donate(1, fund="alpha")
    change = {"name": "N", "city": "C", "province": "P"}
    assert (
        await charity.post("/beneficiaries/lksa-a/versions", change, "admin")
    ).status_code == 201
    assert (await charity.disburse(4_000_00, "alpha", "lksa-b", "shelter")).status_code == 201
    assert (await charity.disburse(3_000_00, "alpha", "lksa-b")).status_code == 409

    documents = [e["document"] for e in (await walk(charity.client, charity.url("/entries"), 7))[0]]
    size = len(documents)
    assert size == await head_size(store, charity)
    assert [d["index"] for d in documents] == list(range(size))

    now = await charity.balances()
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
        assert (await charity.fund_view(code))["balance"] == now.get((f"fund:{code}", cur), 0)
    await assert_log_verifies(store)
