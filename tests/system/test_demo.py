"""The demo ledger `make run` starts with: every page has something real to show."""

from __future__ import annotations

from ledger.charity.reads import balances_view, fund_views
from ledger.demo import DEMO_SLUG, seed_demo
from tests.logkit import assert_log_verifies


async def test_demo_seed_is_complete_verifiable_and_idempotent(store, settings):
    message = await seed_demo(store, settings)
    assert "demo auditor API key (shown once): ldg_" in message
    org = await store.organization(DEMO_SLUG)
    funds = {f.code: f for f in await fund_views(store, org, "", 10)}
    assert funds["senyum-2026"].raised == 4_500_000_00  # the bounced Rp 100.000 is corrected
    assert funds["zakat-2026"].fees == 0 and funds["senyum-2026"].overhead_bps == 333
    total = sum(b.amount for b in (await balances_view(store, org, None)).balances)
    assert total == 0  # double entry
    async with store.connection() as conn:
        statements = await conn.fetchval(
            "SELECT count(*) FROM statements WHERE org_id = $1", org.id
        )
    assert statements == 1
    async with store.connection() as conn:
        logged = await conn.fetch(
            "SELECT kind, count(*) FROM entries WHERE org_id = $1 AND kind IN "
            "('api_key.issued', 'fund.permit', 'fund.classified', 'org.profile') GROUP BY kind",
            org.id,
        )
    assert dict(logged) == {
        "api_key.issued": 2,  # the demo's admin and auditor keys, issued by the server
        "fund.permit": 2,
        "fund.classified": 1,
        "org.profile": 1,
    }
    await assert_log_verifies(store)
    assert "already exists" in await seed_demo(store, settings)


async def test_demo_value_dates_are_today_in_the_organizations_calendar(store, settings):
    """At 20:00 UTC on 30 November it is already 1 December in Jakarta: the demo's value
    dates and its statement period follow the organization's calendar, not the UTC date."""
    import datetime as dt

    from ledger.clock import ManualClock

    clock = ManualClock(dt.datetime(2026, 11, 30, 20, tzinfo=dt.UTC))
    await seed_demo(store, settings, clock=clock)
    org = await store.organization(DEMO_SLUG)
    async with store.connection() as conn:
        days = await conn.fetch(
            "SELECT DISTINCT value_on FROM value_dates WHERE org_id = $1", org.id
        )
        period = await conn.fetchrow(
            "SELECT period_from, period_to FROM statements WHERE org_id = $1", org.id
        )
    assert [r["value_on"] for r in days] == [dt.date(2026, 12, 1)]
    assert (period["period_from"], period["period_to"]) == (dt.date(2026, 12, 1), dt.date(2026, 12, 2))
    await assert_log_verifies(store)
