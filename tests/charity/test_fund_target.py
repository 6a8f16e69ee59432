"""A fund's target (``fund.target``): set, changed and cleared by an admin as log entries
(newest wins), read from the log itself; refused for an unknown fund, another currency or a
cleared target with a deadline, with the log unchanged."""

from __future__ import annotations

import datetime as dt

from tests.apikit import assert_problem, head_size
from tests.logkit import assert_log_verifies


async def test_a_target_is_set_changed_and_cleared_newest_wins(charity, store):
    await charity.fund()
    await charity.donate(30_000_000)
    url = charity.url("/funds/senyum-2026/target")
    none = (await charity.client.get(url)).json()
    assert none["amount"] is None and none["entry_index"] is None and none["percent"] is None
    deadline = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    first = await charity.ok(
        "/funds/senyum-2026/target",
        {"amount": 100_000_000, "currency": "IDR", "deadline": deadline, "note": "Asrama"},
        "admin",
    )
    assert first["kind"] == "fund.target"
    view = (await charity.client.get(url)).json()
    assert view == {
        "fund": "senyum-2026",
        "currency": "IDR",
        "minor_units": 2,
        "amount": 100_000_000,
        "deadline": deadline,
        "note": "Asrama",
        "raised": 30_000_000,
        "percent": 30,
        "days_left": view["days_left"],
        "ended": False,
        "entry_index": first["index"],
    }
    assert view["days_left"] in (9, 10, 11)  # the organization's today (WIB) vs the test's
    entry = (await charity.client.get(charity.url(f"/log/entries/{first['index']}"))).json()
    assert entry["document"]["body"]["amount"] == 100_000_000
    second = await charity.ok(
        "/funds/senyum-2026/target", {"amount": 20_000_000, "currency": "IDR"}, "admin"
    )
    view = (await charity.client.get(url)).json()
    assert (view["amount"], view["percent"], view["deadline"], view["days_left"]) == (
        20_000_000, 150, None, None,
    )  # fmt: skip
    assert view["entry_index"] == second["index"]
    cleared = await charity.ok(
        "/funds/senyum-2026/target", {"amount": None, "currency": "IDR"}, "admin"
    )
    view = (await charity.client.get(url)).json()
    assert view["amount"] is None and view["percent"] is None
    assert view["entry_index"] == cleared["index"]
    await assert_log_verifies(store)


async def test_a_past_deadline_has_ended(charity, store):
    await charity.fund()
    await charity.ok(
        "/funds/senyum-2026/target",
        {"amount": 1_000_00, "currency": "IDR", "deadline": "2025-01-31"},
        "admin",
    )
    view = (await charity.client.get(charity.url("/funds/senyum-2026/target"))).json()
    assert view["ended"] is True and view["days_left"] is None and view["percent"] == 0


async def test_refused_targets_leave_the_log_unchanged(charity, store):
    await charity.fund()
    await charity.fund("dolar", currency="USD")
    before = await head_size(store, charity)
    r = await charity.post("/funds/nope/target", {"amount": 1, "currency": "IDR"}, "admin")
    body = assert_problem(r, 422, "'nope'")
    assert body["type"] == "/problems/unknown-fund"
    r = await charity.post("/funds/dolar/target", {"amount": 1, "currency": "IDR"}, "admin")
    body = assert_problem(r, 422, "'dolar'", "USD", "IDR")
    assert body["type"] == "/problems/currency-mismatch"
    r = await charity.post(
        "/funds/senyum-2026/target",
        {"amount": None, "currency": "IDR", "deadline": "2026-12-31"},
        "admin",
    )
    body = assert_problem(r, 422, "deadline")
    assert body["errors"][0]["pointer"] == "/deadline"
    for amount in (0, -5, 1.5, "100"):
        r = await charity.post(
            "/funds/senyum-2026/target", {"amount": amount, "currency": "IDR"}, "admin"
        )
        assert_problem(r, 400)
    r = await charity.post("/funds/senyum-2026/target", {"amount": 5, "currency": "IDR"})
    assert r.status_code == 403  # a recorder may not set targets
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)
