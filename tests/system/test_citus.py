"""The system tests on a Citus cluster (issue 21; README "Scaling out").

Run only when ``LEDGER_TEST_CITUS_URL`` names a database on a Citus coordinator that has the
``citus`` extension and at least two workers (``citus_add_node``), as a superuser. The
database is shared: this module migrates it and runs ``ledger citus distribute`` on it (both
idempotent), and every test creates its own organizations, so tests are isolated by
organization (a template copy, as the plain suite makes, would carry no shards).

These tests are additional: without the variable they are skipped, and the plain-PostgreSQL
suite covers the same behaviour (the walk-through, exactly-once, verification, key
revocation). What only a cluster can show is here: the organizations' shard groups on
different workers, their appends in parallel, and writes that keep their guarantees while
Citus moves an organization's shards to another worker.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from ledger.settings import Settings
from ledger.store.citus import distribute, placements
from ledger.store.database import WRITER_ROLE, create_pool
from ledger.store.log import Store
from ledger.store.migrate import migrate
from tests.apikit import Org, auth, donation, serve_in_loop
from tests.conftest import run_ledger
from tests.logkit import assert_log_verifies

CITUS_URL = os.environ.get("LEDGER_TEST_CITUS_URL", "")

pytestmark = pytest.mark.skipif(
    not CITUS_URL,
    reason="LEDGER_TEST_CITUS_URL names no Citus coordinator: these tests run the ledger on a "
    "sharded cluster in addition to the plain-PostgreSQL suite, which covers the same "
    "behaviour on one server",
)


@pytest.fixture(scope="session")
async def citus_url() -> str:
    """The coordinator's database, migrated and distributed (idempotent, shared)."""
    conn = await asyncpg.connect(CITUS_URL)
    try:
        await migrate(conn)
        await distribute(conn, shard_count=8)
    finally:
        await conn.close()
    return CITUS_URL


@pytest.fixture
async def coordinator(citus_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(citus_url)
    yield conn
    await conn.close()


@pytest.fixture
async def cstore(citus_url: str) -> AsyncIterator[Store]:
    pool = await create_pool(citus_url, role=WRITER_ROLE, size=10)
    yield Store(pool)
    await pool.close()


@pytest.fixture
def ckek() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture
def csettings(citus_url: str, ckek: bytes, tmp_path: Path) -> Settings:
    return Settings(
        database_url=citus_url,
        data_dir=tmp_path,
        kek=base64.b64encode(ckek).decode(),
        origin_base="citus.example/orgs",
        public_url="https://transparansi.example",
    )


@pytest.fixture
async def cclient(csettings: Settings):  # type: ignore[no-untyped-def]
    from ledger.http.app import create_app

    async with serve_in_loop(create_app(csettings.with_(checkpoint_interval=0))) as c:
        yield c


async def new_charity(client, store: Store, settings: Settings, kek: bytes) -> Org:  # type: ignore[no-untyped-def]
    """A new organization with a random slug (the database is shared) and a key per role."""
    from ledger.http.auth import issue_key
    from ledger.journal.organizations import create_organization

    slug = f"citus-{secrets.token_hex(4)}"
    org = await create_organization(store, settings, kek, slug, f"Yayasan {slug}")
    keys = {
        role: (await issue_key(store, org.id, role))[1] for role in ("admin", "recorder", "auditor")
    }
    return Org(client, slug, keys)


async def worker_of(conn: asyncpg.Connection, slug: str) -> tuple[str, int]:
    row = next(r for r in await placements(conn) if r["slug"] == slug)
    return row["nodename"], row["nodeport"]


async def test_walkthrough_on_citus_records_money_and_verifies(  # type: ignore[no-untyped-def]
    cclient, cstore, csettings, ckek, coordinator
):
    charity = await new_charity(cclient, cstore, csettings, ckek)
    await charity.fund()
    await charity.beneficiary()
    # a webhook subscription: from now on the outbox trigger numbers every entry's event
    sub = await cclient.post(
        charity.url("/webhooks"), json={"url": "http://127.0.0.1:9/hook"},
        headers=auth(charity.keys["admin"]),
    )  # fmt: skip
    assert sub.status_code == 201, sub.text
    size_at_subscription = (await cstore.organization(charity.slug)).id
    head = "SELECT size FROM log_heads WHERE org_id = $1"
    size_at_subscription = await coordinator.fetchval(head, size_at_subscription)
    d = await charity.donate(500_000_00)
    assert d["kind"] == "donation" and d["index"] >= 1
    corrected = await charity.post(
        "/corrections", {"corrects": d["index"], "reason": "wrong amount"}
    )
    assert corrected.status_code == 201, corrected.text
    redo = await charity.donate(400_000_00, ref=f"REDO-{d['index']}")
    assert redo["kind"] == "donation"
    r = await charity.disburse(200_000_00)
    assert r.status_code == 201, r.text
    fee = await charity.post(
        "/fees",
        {"fund": "senyum-2026", "amount": 1_000_00, "currency": "IDR",
         "charged_on": "2026-11-04", "description": "bank fees"},
    )  # fmt: skip
    assert fee.status_code == 201, fee.text
    fund = (await cclient.get(charity.url("/funds/senyum-2026"))).json()
    assert fund["raised"] == 400_000_00 and fund["disbursed"] == 200_000_00
    assert fund["balance"] == 400_000_00 - 200_000_00 - 1_000_00
    balances = (await cclient.get(charity.url("/balances"))).json()
    by = {b["account"]: b["amount"] for b in balances["balances"]}
    assert by["beneficiary:lksa-harapan"] == 200_000_00
    assert by["fund:senyum-2026"] == fund["balance"]
    await assert_log_verifies(cstore, charity.slug)
    org_id = (await cstore.organization(charity.slug)).id
    seqs = await coordinator.fetch(
        "SELECT seq, payload -> 'data' ->> 'index' AS idx FROM webhook_outbox "
        "WHERE org_id = $1 AND event = 'entry.appended' ORDER BY seq",
        org_id,
    )
    size = await coordinator.fetchval(head, org_id)
    assert [int(r["idx"]) for r in seqs] == list(range(size_at_subscription, size))
    assert [r["seq"] for r in seqs] == list(range(1, len(seqs) + 1))

    # API-key revocation (a 500 on Citus before: shard locks through the reference tables'
    # foreign keys, which ledger_writer may not take).
    admin = auth(charity.keys["admin"])
    created = await cclient.post(charity.url("/api-keys"), json={"role": "recorder"}, headers=admin)
    assert created.status_code == 201, created.text
    gone = await cclient.delete(charity.url(f"/api-keys/{created.json()['id']}"), headers=admin)
    assert gone.status_code == 204, gone.text
    refused = await cclient.post(
        charity.url("/donations"), json=donation(),
        headers=auth(created.json()["key"], **{"Idempotency-Key": "after-revoke"}),
    )  # fmt: skip
    assert refused.status_code == 401


async def test_exactly_once_under_concurrent_writers_on_citus(  # type: ignore[no-untyped-def]
    cclient, cstore, csettings, ckek
):
    charity = await new_charity(cclient, cstore, csettings, ckek)
    await charity.fund()
    url = charity.url("/donations")

    async def send(i: int) -> list[int]:
        # three concurrent deliveries of the same request: one entry, the same answer
        headers = auth(charity.keys["recorder"], **{"Idempotency-Key": f"ck-{i}"})
        body = donation(f"CREF-{i}")
        rs = await asyncio.gather(
            *(cclient.post(url, json=body, headers=headers) for _ in range(3))
        )
        ok = [r for r in rs if r.status_code == 201]
        assert ok and all(r.status_code in (201, 409) for r in rs), [r.text for r in rs]
        assert len({r.json()["index"] for r in ok}) == 1
        return [ok[0].json()["index"]]

    indexes = [i for got in await asyncio.gather(*(send(i) for i in range(40))) for i in got]
    assert len(set(indexes)) == 40
    entries = (await cclient.get(charity.url("/entries?limit=1000"))).json()["items"]
    refs = [e["document"]["body"].get("reference") for e in entries if e["kind"] == "donation"]
    assert sorted(refs) == sorted(f"CREF-{i}" for i in range(40))
    await assert_log_verifies(cstore, charity.slug)


async def test_two_organizations_on_two_workers_append_in_parallel_and_verify(  # type: ignore[no-untyped-def]
    cclient, cstore, csettings, ckek, coordinator, citus_url
):
    # New organizations until two land on different workers (ids hash to shard groups).
    first = await new_charity(cclient, cstore, csettings, ckek)
    where = await worker_of(coordinator, first.slug)
    for _ in range(20):
        second = await new_charity(cclient, cstore, csettings, ckek)
        if await worker_of(coordinator, second.slug) != where:
            break
    else:
        pytest.fail("20 organizations all landed on one worker: is a second worker active?")
    for charity in (first, second):
        await charity.fund()

    async def load(charity: Org) -> None:
        for batch in range(5):
            await asyncio.gather(*(charity.donate(1_000, ref=f"P-{batch}-{i}") for i in range(10)))

    await asyncio.gather(load(first), load(second))
    for charity in (first, second):
        fund = (await cclient.get(charity.url("/funds/senyum-2026"))).json()
        assert fund["raised"] == 50 * 1_000
    result = run_ledger(
        "verify", "--org", second.slug,
        env={**os.environ, "DATABASE_URL": citus_url, "LEDGER_DATA_DIR": str(csettings.data_dir)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok   {second.slug}" in result.stdout
    await assert_log_verifies(cstore, first.slug)


async def test_writes_during_a_shard_move_keep_every_guarantee(  # type: ignore[no-untyped-def]
    cclient, cstore, csettings, ckek, coordinator
):
    charity = await new_charity(cclient, cstore, csettings, ckek)
    await charity.fund()
    org_id = (await cstore.organization(charity.slug)).id
    shard = await coordinator.fetchval(
        "SELECT get_shard_id_for_distribution_column('entries', $1::bigint)", org_id
    )
    source = await worker_of(coordinator, charity.slug)
    target = await coordinator.fetchrow(
        "SELECT nodename, nodeport FROM pg_dist_node WHERE isactive AND noderole = 'primary' "
        "AND shouldhaveshards AND (nodename, nodeport) <> ($1, $2) ORDER BY nodeid LIMIT 1",
        *source,
    )
    assert target is not None, "a second worker is needed"

    statuses: list[int] = []
    moving = True

    async def write() -> None:
        i = 0
        while moving or i < 20:
            i += 1
            headers = auth(charity.keys["recorder"], **{"Idempotency-Key": f"mv-{i}"})
            body = donation(f"MV-{i}")
            for _ in range(20):  # a write that got no answer is retried with its key
                r = await cclient.post(charity.url("/donations"), json=body, headers=headers)
                if r.status_code != 503:
                    break
                await asyncio.sleep(0.2)
            statuses.append(r.status_code)

    writer = asyncio.create_task(write())
    await asyncio.sleep(0.5)
    started = time.monotonic()
    await coordinator.execute(
        "SELECT citus_move_shard_placement($1, $2, $3, $4, $5, shard_transfer_mode => 'block_writes')",
        shard, source[0], source[1], target["nodename"], target["nodeport"],
    )  # fmt: skip
    moved_in = time.monotonic() - started
    moving = False
    await writer
    assert await worker_of(coordinator, charity.slug) == (target["nodename"], target["nodeport"])
    assert statuses and all(s == 201 for s in statuses), statuses
    entries = (await cclient.get(charity.url("/entries?limit=1000"))).json()["items"]
    refs = [e["document"]["body"].get("reference") for e in entries if e["kind"] == "donation"]
    assert len(refs) == len(set(refs)) == len(statuses), (len(refs), len(statuses), moved_in)
    await assert_log_verifies(cstore, charity.slug)


LATER_MIGRATION = """
-- What later migrations do, in one transaction: DDL on distributed tables, a function
-- replaced (propagated to every node), a new per-organization table with a trigger.
CREATE INDEX IF NOT EXISTS later_funds_by_name ON funds (org_id, name);
CREATE OR REPLACE FUNCTION ledger_sharded() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL
$$;
CREATE TABLE later_notes (
    org_id  bigint NOT NULL,
    n       integer NOT NULL,
    note    text NOT NULL,
    PRIMARY KEY (org_id, n)
);
CREATE TRIGGER later_notes_append_only BEFORE UPDATE OR DELETE ON later_notes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
"""


async def test_a_migration_after_distribution_applies_and_distribute_places_its_table(  # type: ignore[no-untyped-def]
    coordinator, tmp_path
):
    from ledger.store.migrate import LOCK_KEY, MigrationSet

    (tmp_path / "0001_later.sql").write_text(LATER_MIGRATION)
    later = MigrationSet(tmp_path, "later_schema_migrations", LOCK_KEY + 21)
    await migrate(coordinator, later)
    await distribute(coordinator)
    placed = await coordinator.fetchrow(
        "SELECT p.partmethod, p.colocationid = e.colocationid AS colocated "
        "FROM pg_dist_partition p, pg_dist_partition e "
        "WHERE p.logicalrelid = 'later_notes'::regclass AND e.logicalrelid = 'entries'::regclass"
    )
    assert placed is not None and placed["partmethod"] == b"h" and placed["colocated"]
    assert await coordinator.fetchval(
        "SELECT count(*) FROM run_command_on_workers("
        "$$SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'later_funds_by_name%'$$) "
        "WHERE success AND result::int > 0"
    ) == await coordinator.fetchval("SELECT count(*) FROM pg_dist_node WHERE shouldhaveshards")
