"""Beneficiaries keep every version; a fund earmarked for a beneficiary or a purpose refuses
other disbursements."""

from __future__ import annotations

import asyncio

from tests.apikit import Org, assert_problem, head_size, live_client
from tests.logkit import assert_log_verifies


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


async def test_earmarks_restrict_disbursements(charity, store):
    await charity.beneficiary("lksa-a")
    await charity.beneficiary("lksa-b")
    await charity.fund("for-a", earmark={"beneficiary": "lksa-a"})
    await charity.fund("schooling", earmark={"purpose": "education"})
    await charity.donate(1_000, fund="for-a")
    await charity.donate(1_000, fund="schooling")
    assert (await charity.fund_view("for-a"))["earmark"] == {
        "beneficiary": "lksa-a",
        "purpose": None,
    }

    before = await head_size(store, charity)
    assert_problem(await charity.disburse(100, "for-a", "lksa-b"), 422, "earmarked")
    assert_problem(await charity.disburse(100, "schooling", "lksa-a", "food"), 422, "earmarked")
    assert await head_size(store, charity) == before

    assert (await charity.disburse(100, "for-a", "lksa-a")).status_code == 201
    assert (await charity.disburse(100, "for-a", "lksa-a", "health")).status_code == 201
    ok = await charity.disburse(100, "schooling", "lksa-b", "education")
    assert ok.status_code == 201
    bal = await charity.balances()
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
