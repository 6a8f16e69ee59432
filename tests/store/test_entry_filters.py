"""Entry filters: ``GET …/entries?kind=&fund=&from=&to=&reference=``, cursor-paginated, each
started from an index.

On a few thousand entries PostgreSQL rightly prefers reading small tables sequentially, so
the plan test turns sequential scans off (``enable_seqscan = off`` only makes them look
expensive): a query that had no index to start from would still show one. The 1 M-entry
EXPLAIN of issue 15 was not run here."""

from __future__ import annotations

import datetime as dt

from ledger.store import filters
from ledger.store.filters import EntryFilter
from tests.logkit import assert_log_verifies


def _donation(n: int, fund: str, day: dt.date) -> dict:
    return {
        "fund": fund,
        "amount": 1000 + n,
        "currency": "IDR",
        "received_on": day.isoformat(),
        "channel": "qris",
        "reference": f"F-{fund}-{n}",
    }


async def test_filters_select_and_paginate(charity, store):
    await charity.fund("alpha")
    await charity.fund("beta")
    await charity.beneficiary()
    a1 = (await charity.donate(5000, fund="alpha", ref="A-1", received_on="2026-10-01"))["index"]
    b1 = (await charity.donate(7000, fund="beta", ref="B-1", received_on="2026-11-05"))["index"]
    a2 = (await charity.donate(9000, fund="alpha", ref="A-2", received_on="2026-11-20"))["index"]
    out = (await charity.disburse(1000, fund="alpha")).json()["index"]
    fix = (await charity.ok("/corrections", {"corrects": a2, "reason": "dup"}))["index"]

    async def indexes(**params: str) -> list[int]:
        r = await charity.client.get(charity.url("/entries"), params=params)
        assert r.status_code == 200, r.text
        return [e["index"] for e in r.json()["items"]]

    assert await indexes(kind="donation") == [a1, b1, a2]
    assert await indexes(fund="alpha") == [a1, a2, out, fix]
    assert await indexes(fund="alpha", kind="donation") == [a1, a2]
    assert await indexes(reference="B-1") == [b1]
    assert await indexes(**{"from": "2026-11-01", "to": "2026-11-30", "kind": "donation"}) == [
        b1,
        a2,
    ]
    assert await indexes(**{"from": "2026-11-01", "fund": "beta"}) == [b1]
    assert await indexes(kind="fund.created") == [1, 2]
    assert await indexes(reference="NOPE") == []
    # Cursor pagination over a filter.
    r = await charity.client.get(charity.url("/entries"), params={"kind": "donation", "limit": 2})
    page = r.json()
    assert [e["index"] for e in page["items"]] == [a1, b1] and page["has_more"] is True
    r = await charity.client.get(
        charity.url("/entries"),
        params={"kind": "donation", "limit": 2, "cursor": page["next_cursor"]},
    )
    assert [e["index"] for e in r.json()["items"]] == [a2] and r.json()["has_more"] is False
    bad = await charity.client.get(charity.url("/entries"), params={"from": "2026-13-01"})
    assert bad.status_code == 400
    await assert_log_verifies(store)


async def test_every_filter_starts_from_an_index(charity, store, owner):
    await charity.fund("alpha")
    await charity.fund("beta")
    start = dt.date(2026, 1, 1)
    for batch in range(4):
        donations = [
            _donation(batch * 1000 + n, "alpha" if n % 7 else "beta", start + dt.timedelta(n % 300))
            for n in range(1000)
        ]
        r = await charity.post("/donations/batch", {"donations": donations})
        assert r.status_code == 201, r.text[:300]
    await owner.execute("ANALYZE")
    org = await store.organization(charity.slug)
    cases = [
        EntryFilter(kind="donation"),
        EntryFilter(fund="beta"),
        EntryFilter(reference="F-beta-7"),
        EntryFilter(value_from=dt.date(2026, 3, 1), value_to=dt.date(2026, 3, 8)),
        EntryFilter(kind="donation", fund="beta", value_from=dt.date(2026, 2, 1)),
    ]
    async with store.connection() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        for where in cases:
            plan = await filters.plan(conn, org.id, where)
            assert "Seq Scan" not in plan, f"{where}:\n{plan}"
            found = await filters.matching(conn, org.id, where, 0, 1000)
            assert found, where
    await assert_log_verifies(store)


async def test_explain_shows_both_queries_the_route_runs(charity, store):
    await charity.fund("alpha")
    donations = [
        _donation(n, "alpha", dt.date(2026, 1, 1) + dt.timedelta(n % 30)) for n in range(40)
    ]
    r = await charity.post("/donations/batch", {"donations": donations})
    assert r.status_code == 201, r.text[:300]
    org = await store.organization(charity.slug)
    where = EntryFilter(fund="alpha", value_from=dt.date(2026, 1, 10))
    async with store.connection() as conn:
        for generic in (False, True):
            plans = await filters.explain(conn, org.id, where, 0, 5, generic=generic)
            assert [name for name, _ in plans] == ["filter_by_fund", "entries_at"]
            driver, entries_at = (p for _, p in plans)
            assert driver["Plan"]["Actual Rows"] == 5  # the limit, as the route asks
            assert entries_at["Plan"]["Actual Rows"] == 5
            assert "Execution Time" in driver
        found = await filters.matching(conn, org.id, where, 0, 5)
    assert len(found) == 5 and all(e.kind == "donation" for e in found)
