"""``ledger citus distribute`` and org_relation() on plain PostgreSQL (issue 21).

The cluster itself is exercised by tests/system/test_citus.py when LEDGER_TEST_CITUS_URL is
set; here: what a server without Citus answers, which is what every plain deployment runs.
"""

from __future__ import annotations

import pytest

from ledger.store.citus import CitusSetupError, distribute


async def test_distribute_refuses_a_database_without_citus_and_changes_nothing(owner):  # type: ignore[no-untyped-def]
    fks = "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
    before = await owner.fetchval(fks)
    with pytest.raises(CitusSetupError, match="expected the citus extension"):
        await distribute(owner)
    assert await owner.fetchval(fks) == before
    assert not await owner.fetchval(
        "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'ledger_writer'"
    )


async def test_org_relation_is_the_table_itself_without_citus(owner):  # type: ignore[no-untyped-def]
    for table in ("entries", "balances", "organizations", "webhook_outbox"):
        assert await owner.fetchval("SELECT org_relation($1::regclass, 7)", table) == table
