"""The log on a real PostgreSQL: appends, group commit, checkpoints, keys, verification."""

from __future__ import annotations

import asyncio
import base64
import json

import msgspec
import pytest

from ledger.errors import ConflictError, SigningKeyError
from ledger.formats import merkle
from ledger.formats.checkpoint import open_checkpoint
from ledger.formats.note import parse_note, parse_vkey
from ledger.journal.appender import Appender, Intent, append_batch
from ledger.journal.keys import open_signers
from ledger.journal.organizations import create_organization, retire_key, rotate_key
from ledger.journal.publisher import publish
from ledger.verify.stored import verify_log
from tests.logkit import assert_log_verifies

pytestmark = pytest.mark.usefixtures("verify_loop")  # both loops of ledger verify


async def make_org(store, settings, kek, slug="yayasan-senyum", name="Yayasan Senyum Anak"):
    return await create_organization(store, settings, kek, slug, name)


async def test_create_organization_writes_entry_zero_and_a_checkpoint(store, settings, kek):
    org = await make_org(store, settings, kek)
    assert org.origin == "ledger.example/orgs/yayasan-senyum"
    entry = await store.entry(org.id, 0)
    doc = json.loads(entry.body)
    assert doc["index"] == 0 and doc["kind"] == "log.created" and doc["log"] == org.origin
    assert doc["prev"] == base64.b64encode(bytes(32)).decode()
    vkey = doc["body"]["vkey"]
    cp = await store.latest_checkpoint(org.id)
    assert cp is not None and cp.size == 1
    opened = open_checkpoint(cp.note, [parse_vkey(vkey)], origin=org.origin)
    assert opened.root == merkle.leaf_hash(entry.body)
    await assert_log_verifies(store)


async def test_duplicate_slug_is_a_conflict(store, settings, kek):
    await make_org(store, settings, kek)
    with pytest.raises(ConflictError):
        await make_org(store, settings, kek)
    await assert_log_verifies(store)


async def test_concurrent_appends_group_commit_without_gaps(store, settings, kek):
    org = await make_org(store, settings, kek)
    appender = Appender(store)
    results = await asyncio.gather(
        *(appender.append(org, "note", {"text": f"entry {i}"}) for i in range(500))
    )
    indexes = sorted(r.index for r in results)
    assert indexes == list(range(1, 501))
    writer = appender.writer(org)
    assert writer.entries == 500
    assert writer.batches < 50, f"expected batching, got {writer.batches} batches for 500"
    # Each result is exactly what is stored.
    for r in results[:20]:
        stored = await store.entry(org.id, r.index)
        assert (stored.body, stored.entry_hash, stored.leaf_hash) == (
            r.body,
            r.entry_hash,
            r.leaf_hash,
        )
    await publish(store, org, kek)
    await assert_log_verifies(store)


async def test_separate_writers_on_one_log_serialize(store, settings, kek, db_url):
    """Two appenders with their own pools behave like two processes sharing the log."""
    from ledger.store.database import create_pool
    from ledger.store.log import Store

    org = await make_org(store, settings, kek)
    other = Store(await create_pool(db_url, size=5))
    try:
        a, b = Appender(store, max_batch=7), Appender(other, max_batch=5)
        results = await asyncio.gather(
            *(w.append(org, "note", {"text": str(i)}) for i in range(150) for w in (a, b))
        )
    finally:
        await other.pool.close()
    assert sorted(r.index for r in results) == list(range(1, 301))
    await assert_log_verifies(store)


async def test_appends_to_different_logs_run_in_parallel(store, settings, kek):
    orgs = [await make_org(store, settings, kek, f"org-{i}", f"Org {i}") for i in range(3)]
    appender = Appender(store)
    await asyncio.gather(
        *(appender.append(o, "note", {"text": "x"}) for o in orgs for _ in range(50))
    )
    for o in orgs:
        assert (await store.head(o.id)).size == 51
    await assert_log_verifies(store)


async def test_body_that_cannot_be_canonical_is_refused_alone(store, settings, kek):
    org = await make_org(store, settings, kek)
    appender = Appender(store)
    good, bad, huge = await asyncio.gather(
        appender.append(org, "note", {"text": "ok"}),
        appender.append(org, "note", {"amount": 1.5}),
        appender.append(org, "note", {"amount": 2**60}),
        return_exceptions=True,
    )
    assert good.index == 1
    assert "expected a string, integer" in str(bad)
    assert "2**53" in str(huge)
    assert (await store.head(org.id)).size == 2
    await assert_log_verifies(store)


async def test_times_never_go_backwards(store, settings, kek):
    from datetime import UTC, datetime, timedelta

    org = await make_org(store, settings, kek)
    future = datetime.now(UTC) + timedelta(days=1)
    async with store.connection() as conn, conn.transaction():
        await append_batch(store, conn, org, [Intent("note", {"text": "a"})], clock=lambda: future)
    async with store.connection() as conn, conn.transaction():
        [late] = await append_batch(store, conn, org, [Intent("note", {"text": "b"})])
    assert late.created_at == future
    await assert_log_verifies(store)


async def test_proofs_from_stored_nodes_match_checkpoints(store, settings, kek):
    org = await make_org(store, settings, kek)
    appender = Appender(store)
    for _ in range(3):
        await asyncio.gather(*(appender.append(org, "note", {"text": "p"}) for _ in range(37)))
        await publish(store, org, kek)
    checkpoints = await store.checkpoints(org.id)
    sizes = [c.size for c in checkpoints]
    assert sizes == [1, 38, 75, 112]
    new = checkpoints[-1]
    for old in checkpoints[:-1]:
        nodes = await store.nodes(org.id, merkle.consistency_nodes(old.size, new.size))
        proof = merkle.consistency_proof(old.size, new.size, nodes)
        merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    for index in (0, 1, 37, 64, 111):
        nodes = await store.nodes(org.id, merkle.inclusion_nodes(index, new.size))
        proof = merkle.inclusion_proof(index, new.size, nodes)
        leaf = (await store.entry(org.id, index)).leaf_hash
        merkle.verify_inclusion(leaf, index, new.size, proof, new.root)


async def test_key_rotation_keeps_old_checkpoints_verifiable(store, settings, kek):
    org = await make_org(store, settings, kek)
    first = await store.latest_checkpoint(org.id)
    old_vkey = json.loads((await store.entry(org.id, 0)).body)["body"]["vkey"]
    new_vkey = await rotate_key(store, kek, org, keep_old=True)
    both = await store.latest_checkpoint(org.id)
    assert len(parse_note(both.note).signatures) == 2
    open_checkpoint(both.note, [parse_vkey(old_vkey)], origin=org.origin)
    open_checkpoint(both.note, [parse_vkey(new_vkey)], origin=org.origin)
    old_id = parse_vkey(old_vkey).key_id.hex()
    await retire_key(store, kek, org, old_id)
    latest = await store.latest_checkpoint(org.id)
    assert len(parse_note(latest.note).signatures) == 1
    open_checkpoint(latest.note, [parse_vkey(new_vkey)], origin=org.origin)
    open_checkpoint(first.note, [parse_vkey(old_vkey)], origin=org.origin)
    kinds = [json.loads(e.body)["kind"] for e in await store.entries(org.id, 0, 10)]
    assert kinds == ["log.created", "key.rotated", "key.retired"]
    with pytest.raises(ConflictError):
        await retire_key(store, kek, org, parse_vkey(new_vkey).key_id.hex())
    await assert_log_verifies(store)


async def test_private_keys_are_sealed_at_rest(store, settings, kek, owner):
    org = await make_org(store, settings, kek)
    keys = await store.signing_keys(org.id)
    [signer] = open_signers(kek, org.id, keys)
    seed = signer.private_key.private_bytes_raw()
    rows = await owner.fetch("SELECT sealed_private FROM signing_keys")
    assert rows and all(seed not in r["sealed_private"] for r in rows)
    dump = await owner.fetchval(
        "SELECT string_agg(encode(sealed_private, 'hex'), '') FROM signing_keys"
    )
    assert seed.hex() not in dump
    with pytest.raises(SigningKeyError, match="does not open"):
        open_signers(bytes(32), org.id, keys)
    with pytest.raises(SigningKeyError, match="does not open"):
        open_signers(kek, org.id + 1, keys)  # a sealed key moved to another organization


async def test_verify_report_is_json_serializable(store, settings, kek):
    org = await make_org(store, settings, kek)
    report = await verify_log(store, org)
    assert report.ok and report.size == 1 and report.checkpoints == 1
    assert json.loads(msgspec.json.encode(report.as_dict()))["slug"] == org.slug


async def test_verify_in_parallel_ranges_agrees_and_locates_damage(
    store, settings, kek, owner, db_url
):
    """Ranges verified in worker processes (small ranges here) find what one pass finds."""
    org = await make_org(store, settings, kek)
    appender = Appender(store)
    for _ in range(3):
        await asyncio.gather(*(appender.append(org, "note", {"text": "r"}) for _ in range(30)))
        await publish(store, org, kek)
    sequential = await verify_log(store, org, range_level=3)
    parallel = await verify_log(store, org, url=db_url, workers=2, range_level=3)
    assert sequential.ok and parallel.ok, (sequential, parallel)
    assert sequential.size == parallel.size == 91 and parallel.checkpoints == sequential.checkpoints
    await owner.execute("SET session_replication_role = replica")
    await owner.execute("ALTER TABLE entries DROP CONSTRAINT entries_pkey CASCADE")
    await owner.execute("DELETE FROM entries WHERE org_id = $1 AND idx = 37", org.id)
    for report in (
        await verify_log(store, org, range_level=3),
        await verify_log(store, org, url=db_url, workers=2, range_level=3),
    ):
        assert not report.ok and report.first_bad_index == 37, report
        assert "expected entry 37" in report.reason


async def test_pool_resets_a_connection_unless_its_user_settled_it(db_url):
    """A returned connection is reset (RESET ALL, UNLISTEN, advisory locks) so that no
    session state leaks to its next user; the group commit, which only runs whole
    transactions, declares its connection settled and saves that round trip per batch."""
    from ledger.store.database import create_pool
    from ledger.store.log import Store

    store = Store(await create_pool(db_url, size=1))  # one connection: the next user gets it
    try:

        async def application_name() -> str:
            async with store.connection() as conn:
                return await conn.fetchval("SELECT current_setting('application_name')")

        async with store.connection() as conn:
            await conn.execute("SET application_name = 'left-behind'")
        assert await application_name() == ""  # reset on release
        async with store.connection(settled=True) as conn:
            async with conn.transaction():
                await conn.fetchval("SELECT 1")
            await conn.execute("SET application_name = 'kept'")  # breaking the promise
        assert await application_name() == "kept"  # no reset query ran
        with pytest.raises(RuntimeError):
            async with store.connection(settled=True) as conn:
                await conn.execute("SET application_name = 'failed'")
                raise RuntimeError("the user failed: its connection is reset after all")
        assert await application_name() == ""
    finally:
        await store.pool.close()
