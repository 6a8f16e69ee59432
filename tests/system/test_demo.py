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
    await assert_log_verifies(store)
    assert "already exists" in await seed_demo(store, settings)
