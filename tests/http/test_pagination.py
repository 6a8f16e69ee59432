"""Every list pages by cursor: each item exactly once, in order, with bounded limits."""

from __future__ import annotations

import asyncio

from ledger.journal.organizations import create_organization
from tests.apikit import assert_problem, head_size, walk
from tests.logkit import assert_log_verifies


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
