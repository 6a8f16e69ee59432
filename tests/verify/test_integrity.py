"""Integrity of the log on a real PostgreSQL: append-only layers, failure injection, tampering.

1. PostgreSQL itself refuses changes to history: grants for the service role, triggers for
   the owner, the primary key / link trigger / CHECKs for forged inserts.
2. A failure at any point of the append transaction leaves nothing partial behind.
3. History rewritten by a superuser (triggers disabled) is reported by ``verify_log`` with
   the first bad index.
4. The publisher refuses to sign a checkpoint inconsistent with the previous one.
5. Several OS processes appending to one log never fork it or leave a gap.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys

import asyncpg
import pytest

from ledger.errors import DatabaseUnavailableError, LedgerError, VerificationError
from ledger.formats import merkle
from ledger.formats.canonical import encode_entry
from ledger.formats.chain import GENESIS_PREV_HASH, entry_hash
from ledger.formats.checkpoint import open_checkpoint
from ledger.formats.note import parse_vkey
from ledger.journal.appender import FAULT_POINTS, Appender, Intent, append_batch
from ledger.journal.organizations import create_organization
from ledger.journal.publisher import publish
from ledger.store.log import COPY_MIN_ROWS, insert_rows
from ledger.verify.stored import verify_log
from tests.conftest import REPO
from tests.logkit import assert_log_verifies, tamper

pytestmark = pytest.mark.usefixtures("verify_loop")  # both loops of ledger verify

LOG_TABLES = ("entries", "merkle_nodes", "checkpoints")
INSERT_ENTRY = (
    "INSERT INTO entries (org_id, idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)


async def new_org(store, settings, kek, notes: int = 0, slug: str = "yayasan-jujur"):
    """An organization (entry 0 + checkpoint at size 1) followed by ``notes`` note entries."""
    org = await create_organization(store, settings, kek, slug, "Yayasan Jujur")
    if notes:
        await append_notes(store, org, notes)
    return org


async def append_notes(store, org, n: int, tag: str = "note"):
    async with store.connection() as conn, conn.transaction():
        return await append_batch(
            store, conn, org, [Intent("note", {"text": f"{tag} {i}"}) for i in range(n)]
        )


async def snapshot(owner, org_id: int) -> tuple:
    """Everything an append could leave behind: head, entry, node and checkpoint counts."""
    return tuple(
        await owner.fetchrow(
            "SELECT (SELECT size FROM log_heads WHERE org_id = $1) AS size,"
            " (SELECT head_hash FROM log_heads WHERE org_id = $1) AS head,"
            " (SELECT count(*) FROM entries WHERE org_id = $1) AS entries,"
            " (SELECT count(*) FROM merkle_nodes WHERE org_id = $1) AS nodes,"
            " (SELECT count(*) FROM checkpoints WHERE org_id = $1) AS checkpoints",
            org_id,
        )
    )


def forged_row(org, idx: int, prev: bytes, created_at, *, leaf=None, chained=None, text="x"):
    """Arguments of INSERT_ENTRY for a made-up entry; hashes correct unless overridden."""
    body = encode_entry(
        origin=org.origin, index=idx, prev_hash=prev, time=created_at, kind="note",
        body={"text": text},
    )  # fmt: skip
    leaf = leaf or merkle.leaf_hash(body)
    chained = chained or entry_hash(prev, leaf)
    return (org.id, idx, "note", created_at, body, prev, chained, leaf)


async def hash_check(owner, column: str) -> str:
    """Name of the CHECK constraint that recomputes ``column`` (PostgreSQL names it)."""
    return await owner.fetchval(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'entries'::regclass"
        " AND pg_get_constraintdef(oid) LIKE $1",
        f"CHECK (({column} = sha256(%",
    )


# --- 1. append-only, enforced by PostgreSQL in layers ------------------------------------

MUTATIONS = [
    (table, sql)
    for table in LOG_TABLES
    for sql in (
        f"UPDATE {table} SET org_id = org_id",
        f"DELETE FROM {table}",
        f"TRUNCATE {table} CASCADE",  # CASCADE: other tables reference entries
    )
]


async def test_service_role_cannot_update_delete_or_truncate(store, settings, kek, owner):
    org = await new_org(store, settings, kek, notes=3)
    before = await snapshot(owner, org.id)
    async with store.connection() as conn:
        assert await conn.fetchval("SELECT current_user") == "ledger_writer"
        for _table, sql in MUTATIONS:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.execute(sql)
            await assert_log_verifies(store)
    assert await snapshot(owner, org.id) == before


async def test_owner_is_refused_by_the_append_only_triggers(store, settings, kek, owner):
    org = await new_org(store, settings, kek, notes=3)  # rows in all three tables
    before = await snapshot(owner, org.id)
    assert await owner.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    for table, sql in MUTATIONS:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only") as info:
            await owner.execute(sql)
        assert info.value.message.startswith(f"{table} is append-only")
        await assert_log_verifies(store)
    assert await snapshot(owner, org.id) == before


async def test_forks_gaps_bad_links_and_bad_hashes_are_refused(store, settings, kek, owner):
    org = await new_org(store, settings, kek, notes=4)  # entries 0..4
    head = await store.head(org.id)
    e1 = await store.entry(org.id, 1)
    t = head.last_time
    leaf_check = f'"{await hash_check(owner, "leaf_hash")}"'
    chain_check = f'"{await hash_check(owner, "entry_hash")}"'
    before = await snapshot(owner, org.id)
    cases = [
        # fork: a well-formed entry 2 linking to entry 1, but entry 2 exists
        (forged_row(org, 2, e1.entry_hash, t), asyncpg.UniqueViolationError, "entries_pkey"),
        (forged_row(org, 0, GENESIS_PREV_HASH, t), asyncpg.UniqueViolationError, "entries_pkey"),
        # gap: entry 6 when the log has 5 entries
        (forged_row(org, 6, head.head_hash, t), asyncpg.IntegrityConstraintViolationError,
         "does not link"),
        # wrong prev_hash for the next index
        (forged_row(org, 5, os.urandom(32), t), asyncpg.IntegrityConstraintViolationError,
         "does not link"),
        # hashes that do not match the bytes
        (forged_row(org, 5, head.head_hash, t, leaf=os.urandom(32)), asyncpg.CheckViolationError,
         leaf_check),
        (forged_row(org, 5, head.head_hash, t, chained=os.urandom(32)),
         asyncpg.CheckViolationError, chain_check),
    ]  # fmt: skip
    async with store.connection() as conn:
        for args, error, message in cases:
            with pytest.raises(error, match=message) as info:
                await conn.execute(INSERT_ENTRY, *args)
            if error is asyncpg.IntegrityConstraintViolationError:  # the trigger, not a PK/CHECK
                assert type(info.value) is error
            await assert_log_verifies(store)
        # the head only moves forward, for the service role and for the owner
        for c in (conn, owner):
            for change in ("size = size - 1", "last_time = last_time - interval '1 day'"):
                with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="forward"):
                    await c.execute(f"UPDATE log_heads SET {change} WHERE org_id = $1", org.id)
                await assert_log_verifies(store)
        # the honest next entry is still accepted by every layer
        await conn.execute(INSERT_ENTRY, *forged_row(org, 5, head.head_hash, t))
    assert (await snapshot(owner, org.id))[2] == before[2] + 1


def forged_chain(org, start: int, prev: bytes, created_at, n: int) -> list[tuple]:
    """``n`` well-linked made-up entries from index ``start`` (INSERT_ENTRY arguments)."""
    rows = []
    for idx in range(start, start + n):
        rows.append(forged_row(org, idx, prev, created_at, text=f"copied {idx}"))
        prev = rows[-1][6]
    return rows


@pytest.mark.parametrize("defect", ["gap", "bad link", "bad leaf hash", "bad chain hash", None])
async def test_large_batches_sent_by_copy_meet_the_same_checks(store, settings, kek, owner, defect):
    """From COPY_MIN_ROWS rows up, entries go by binary COPY: the statement-level link
    trigger, the hash CHECKs and the primary key hold there as for INSERT."""
    org = await new_org(store, settings, kek, notes=2)
    head = await store.head(org.id)
    n = COPY_MIN_ROWS + 20
    rows = forged_chain(org, head.size, head.head_hash, head.last_time, n)
    bad = n - 7  # a defect late in the batch
    idx, prev, t = rows[bad][1], rows[bad][5], head.last_time
    if defect == "gap":
        rows[bad:] = forged_chain(org, idx + 1, prev, t, n - bad)
    elif defect == "bad link":
        rows[bad] = forged_row(org, idx, os.urandom(32), t)
    elif defect == "bad leaf hash":
        rows[bad] = forged_row(org, idx, prev, t, leaf=os.urandom(32))
    elif defect == "bad chain hash":
        rows[bad] = forged_row(org, idx, prev, t, chained=os.urandom(32))
    expected = {
        "gap": (asyncpg.IntegrityConstraintViolationError, "does not link"),
        "bad link": (asyncpg.IntegrityConstraintViolationError, "does not link"),
        "bad leaf hash": (asyncpg.CheckViolationError, await hash_check(owner, "leaf_hash")),
        "bad chain hash": (asyncpg.CheckViolationError, await hash_check(owner, "entry_hash")),
    }
    before = await snapshot(owner, org.id)
    async with store.connection() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            if defect is None:
                status = await insert_rows(conn, "insert_entries", org.id, [r[1:] for r in rows])
                assert status == f"COPY {n}"
                assert await conn.fetchval(
                    "SELECT count(*) FROM entries WHERE org_id = $1", org.id
                ) == before[2] + n
            else:
                error, message = expected[defect]
                with pytest.raises(error, match=message):
                    await insert_rows(conn, "insert_entries", org.id, [r[1:] for r in rows])
        finally:
            await tx.rollback()
    assert await snapshot(owner, org.id) == before
    await assert_log_verifies(store)


# --- 2. failure injection in the append transaction ---------------------------------------


class InjectedFault(LedgerError):
    pass


class Fault:
    """A fault hook that runs ``action`` the first time the append reaches ``point``."""

    def __init__(self, point: str, action) -> None:
        self.point, self.action, self.fired = point, action, 0

    async def __call__(self, point: str, conn: asyncpg.Connection) -> None:
        if point == self.point and not self.fired:
            self.fired += 1
            await self.action(conn)


async def raise_ledger_error(conn):
    raise InjectedFault("injected")


async def raise_postgres_error(conn):
    await conn.execute("SELECT 1 / 0")  # a real server-side error inside the transaction


async def raise_bug(conn):
    raise RuntimeError("injected bug")


ACTIONS = {
    "ledger-error": (raise_ledger_error, InjectedFault),
    "postgres-error": (raise_postgres_error, LedgerError),
    "bug": (raise_bug, LedgerError),
}


async def check_fault(store, settings, kek, owner, fault: Fault, expected: type[Exception]):
    org = await new_org(store, settings, kek, notes=2)
    before = await snapshot(owner, org.id)
    appender = Appender(store, fault=fault)
    results = await asyncio.gather(
        *(appender.append(org, "note", {"text": f"lost {i}"}) for i in range(20)),
        return_exceptions=True,
    )
    assert fault.fired == 1
    assert all(isinstance(r, expected) for r in results), results
    assert await snapshot(owner, org.id) == before, "a failed batch left rows behind"
    await assert_log_verifies(store)
    ok = await asyncio.gather(
        *(appender.append(org, "note", {"text": f"kept {i}"}) for i in range(20))
    )
    assert sorted(r.index for r in ok) == list(range(before[0], before[0] + 20))
    await assert_log_verifies(store)
    return results


@pytest.mark.parametrize("action", ["ledger-error", "bug"])
@pytest.mark.parametrize("point", FAULT_POINTS)
async def test_fault_at_every_point_leaves_nothing_partial(
    store, settings, kek, owner, point, action
):
    hook, expected = ACTIONS[action]
    await check_fault(store, settings, kek, owner, Fault(point, hook), expected)


@pytest.mark.parametrize("point", FAULT_POINTS)
async def test_database_refusal_is_isolated_and_the_rest_commit_once(
    store, settings, kek, owner, point
):
    """A batch the database refuses is retried in halves (the refusal may belong to one
    request): here the fault fires once, so every append commits, exactly once."""
    org = await new_org(store, settings, kek, notes=2)
    before = await snapshot(owner, org.id)
    appender = Appender(store, fault=Fault(point, raise_postgres_error))
    results = await asyncio.gather(
        *(appender.append(org, "note", {"text": f"kept {i}"}) for i in range(20))
    )
    assert sorted(r.index for r in results) == list(range(before[0], before[0] + 20))
    texts = [json.loads((await store.entry(org.id, r.index)).body)["body"]["text"] for r in results]
    assert sorted(texts) == sorted(f"kept {i}" for i in range(20))
    await assert_log_verifies(store)


@pytest.mark.parametrize("point", FAULT_POINTS)
async def test_backend_killed_at_every_point_leaves_nothing_partial(
    store, settings, kek, owner, point
):
    async def kill(conn):
        pid = conn.get_server_pid()
        assert await owner.fetchval("SELECT pg_terminate_backend($1, 10000)", pid)

    results = await check_fault(store, settings, kek, owner, Fault(point, kill), LedgerError)
    assert all(isinstance(r, DatabaseUnavailableError) for r in results), results[0]


# --- 3. tampering by a superuser is reported with the first bad index ---------------------


async def report_of(store, org, external=()):
    report = await verify_log(store, org, external)
    assert report.ok is False, report
    return report


async def test_flipped_body_byte_is_reported_at_its_index(store, settings, kek, owner):
    org = await new_org(store, settings, kek, notes=9)
    k = 5
    body = (await store.entry(org.id, k)).body
    flipped = body[:40] + bytes([body[40] ^ 0x01]) + body[41:]
    edit = ("UPDATE entries SET body = $1 WHERE org_id = $2 AND idx = $3", flipped, org.id, k)
    # Disabling triggers is not enough: the CHECK constraints still recompute the hashes.
    leaf_check = await hash_check(owner, "leaf_hash")
    with pytest.raises(asyncpg.CheckViolationError, match=leaf_check):
        await tamper(owner, edit)
    await assert_log_verifies(store)
    drop = f"ALTER TABLE entries DROP CONSTRAINT {leaf_check}"
    await tamper(owner, (drop,), edit)
    report = await report_of(store, org)
    assert report.first_bad_index == k
    assert "the entry was edited" in report.reason


MOVE = "UPDATE entries SET idx = $3 WHERE org_id = $1 AND idx = $2"
ROW_TAMPERING = {  # statements (org id is $1), first bad index, words of the reason
    "created_at-edited": (
        [("UPDATE entries SET created_at = created_at + interval '1 second'"
          " WHERE org_id = $1 AND idx = 3",)],
        3, "disagrees with created_at",
    ),
    "middle-row-deleted": (
        [("DELETE FROM entries WHERE org_id = $1 AND idx = 4",)], 4, "expected entry 4, found 5"
    ),
    # three moves: the primary key is checked row by row, so a one-statement swap collides
    "rows-swapped": (
        [(MOVE, 3, 999), (MOVE, 7, 3), (MOVE, 999, 7)], 3, "disagree with their row (index"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", ROW_TAMPERING)
async def test_edited_deleted_or_reordered_rows_are_reported(store, settings, kek, owner, case):
    statements, first_bad, words = ROW_TAMPERING[case]
    org = await new_org(store, settings, kek, notes=9)
    await tamper(owner, *((sql, org.id, *args) for sql, *args in statements))
    report = await report_of(store, org)
    assert report.first_bad_index == first_bad
    assert words in report.reason


async def test_truncated_tail_under_a_checkpoint_is_reported_at_the_new_size(
    store, settings, kek, owner
):
    org = await new_org(store, settings, kek, notes=11)  # 12 entries
    await publish(store, org, kek)
    await tamper(owner, ("DELETE FROM entries WHERE org_id = $1 AND idx >= 9", org.id))
    report = await report_of(store, org)
    assert report.first_bad_index == 9
    assert "checkpoint was signed at size 12" in report.reason
    assert "deleted from the end" in report.reason


async def test_consistent_truncation_needs_an_external_checkpoint(store, settings, kek, owner):
    org = await new_org(store, settings, kek, notes=11)  # 12 entries
    published = await publish(store, org, kek)
    # What a donor kept: the signed checkpoint, verified with the key from entry 0.
    vkey = json.loads((await store.entry(org.id, 0)).body)["body"]["vkey"]
    kept = open_checkpoint(published.note, [parse_vkey(vkey)], origin=org.origin)
    assert kept.size == 12
    # Rewind everything consistently to 9 entries: rows, nodes, checkpoints and the head.
    rows = await store.entries(org.id, 0, 9)
    tree = merkle.CompactRange()
    for r in rows:
        tree.append(r.leaf_hash)
    await tamper(
        owner,
        ("DELETE FROM entries WHERE org_id = $1 AND idx >= 9", org.id),
        ("DELETE FROM merkle_nodes WHERE org_id = $1 AND ((idx + 1) << level) > 9", org.id),
        ("DELETE FROM checkpoints WHERE org_id = $1 AND tree_size > 9", org.id),
        (
            "UPDATE log_heads SET size = 9, head_hash = $2, last_time = $3, frontier = $4"
            " WHERE org_id = $1",
            org.id,
            rows[-1].entry_hash,
            rows[-1].created_at,
            list(tree.hashes),
        ),
    )
    alone = await verify_log(store, org)
    assert alone.ok and alone.size == 9, "a consistent rewind is invisible from inside the db"
    report = await report_of(store, org, external=[kept])
    assert report.first_bad_index == 9
    assert "checkpoint at size 12 was given" in report.reason


async def rehash_from(owner, store, org, k: int, *, nodes: bool) -> None:
    """Rewrite entries k.. with other bodies, keeping the chain and the head self-consistent;
    with ``nodes`` also rebuild every Merkle node so only the checkpoints are left stale."""
    rows = await store.entries(org.id, 0, 1 << 20)
    tree = merkle.CompactRange()
    statements, computed = [], []
    prev = GENESIS_PREV_HASH
    for r in rows:
        leaf, chained = r.leaf_hash, r.entry_hash
        if r.index >= k:
            body = encode_entry(
                origin=org.origin, index=r.index, prev_hash=prev, time=r.created_at,
                kind=r.kind, body={"text": f"forged {r.index}"},
            )  # fmt: skip
            leaf = merkle.leaf_hash(body)
            chained = entry_hash(prev, leaf)
            statements.append(
                (
                    "UPDATE entries SET body = $3, leaf_hash = $4, prev_hash = $5,"
                    " entry_hash = $6 WHERE org_id = $1 AND idx = $2",
                    org.id, r.index, body, leaf, prev, chained,
                )
            )  # fmt: skip
        computed.extend(tree.append(leaf))
        prev = chained
    statements.append(
        (
            "UPDATE log_heads SET head_hash = $2, frontier = $3 WHERE org_id = $1",
            org.id, prev, list(tree.hashes),
        )
    )  # fmt: skip
    if nodes:
        statements.append(("DELETE FROM merkle_nodes WHERE org_id = $1", org.id))
        statements.append(
            (
                "INSERT INTO merkle_nodes (org_id, level, idx, hash)"
                " SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[])",
                org.id, [n[0] for n, _ in computed], [n[1] for n, _ in computed],
                [h for _, h in computed],
            )
        )  # fmt: skip
    await tamper(owner, *statements)


async def rewrite_one(owner, store, org, k: int) -> None:
    """Case (a): entry k's bytes rewritten with that row's own hashes recomputed (its
    prev_hash kept); nothing else touched."""
    row = await store.entry(org.id, k)
    body = encode_entry(
        origin=org.origin, index=k, prev_hash=row.prev_hash, time=row.created_at,
        kind=row.kind, body={"text": f"forged {k}"},
    )  # fmt: skip
    leaf = merkle.leaf_hash(body)
    await tamper(
        owner,
        (
            "UPDATE entries SET body = $3, leaf_hash = $4, entry_hash = $5"
            " WHERE org_id = $1 AND idx = $2",
            org.id, k, body, leaf, entry_hash(row.prev_hash, leaf),
        ),
    )  # fmt: skip


@pytest.mark.parametrize("range_level", [17, 2])
@pytest.mark.parametrize("k", [1, 4, 5, 7, 10, 11])
async def test_entry_rewritten_with_its_own_hashes_is_named_exactly(
    store, settings, kek, owner, k, range_level
):
    """Case (a). The first check that fails is entry k+1's link (or, for the newest entry,
    the head; for the last entry of a verification range, its Merkle pair), but entry k+1's
    own bytes still name entry k's old entry_hash: entry k is the one that changed.
    ``range_level`` 2 puts range boundaries after entries 3, 7 and 11."""
    org = await new_org(store, settings, kek, notes=11)  # 12 entries, checkpoint at size 1
    await rewrite_one(owner, store, org, k)
    report = await verify_log(store, org, range_level=range_level)
    assert report.ok is False
    assert report.first_bad_index == k, report
    assert report.reason.startswith(f"entry {k} was rewritten: ")
    by = "the log head" if k == 11 else f"entry {k + 1}"
    assert f"{by} committed to its entry_hash" in report.reason


@pytest.mark.parametrize("k", [4, 10])
async def test_suffix_rehashed_forward_from_an_even_index_is_named_exactly(
    store, settings, kek, owner, k
):
    """Case (b), even k: chain and head rewritten consistently from k, nodes left stale. The
    smallest stored node over leaf k, (1, k // 2), covers leaves k and k + 1 only."""
    org = await new_org(store, settings, kek, notes=11)
    await rehash_from(owner, store, org, k, nodes=False)
    report = await report_of(store, org)
    assert report.first_bad_index == k
    assert f"Merkle node (1, {k // 2})" in report.reason
    assert "entries were rewritten" in report.reason


@pytest.mark.parametrize("k", [5, 11])
async def test_suffix_rehashed_forward_from_an_odd_index_is_named_by_its_pair(
    store, settings, kek, owner, k
):
    """Case (b), odd k: why verify names k - 1 and cannot name k (README, "What verify can
    name"). Nothing stored remembers leaf k alone: the entry rows from k on were rewritten
    consistently, and the smallest stored node over leaf k is (1, k // 2) =
    SHA-256(0x01 || leaf(k-1) || leaf(k)), which says one of the two changed, not which. The
    proof: a rewrite from k and a rewrite from k - 1 leave the same evidence, and verify
    says the same about both."""
    reports = []
    for start, slug in ((k, "from-k"), (k - 1, "from-k-minus-1")):
        org = await new_org(store, settings, kek, notes=11, slug=slug)
        await rehash_from(owner, store, org, start, nodes=False)
        reports.append(await report_of(store, org))
    assert [r.first_bad_index for r in reports] == [k - 1, k - 1]
    assert reports[0].reason == reports[1].reason
    assert f"Merkle node (1, {k // 2}) covering entries {k - 1}..{k}" in reports[0].reason


async def test_rehashed_entries_nodes_and_head_are_named_by_the_checkpoints(
    store, settings, kek, owner
):
    """Case (c): entries, every Merkle node and the head rewritten consistently from entry
    5. Only the signed checkpoints remember the original, each as one root over all the
    leaves before it: verify names the first entry after the last checkpoint that still
    matches (size 4) and gives the range; it cannot name 5 (README, "What verify can name").
    The proof: a rewrite from 7 leaves the same evidence and gets the same answer."""
    reports = []
    for k, slug in ((5, "from-five"), (7, "from-seven")):
        org = await new_org(store, settings, kek, notes=3, slug=slug)  # 4 entries
        assert (await publish(store, org, kek)).size == 4
        await append_notes(store, org, 8)
        assert (await publish(store, org, kek)).size == 12
        await rehash_from(owner, store, org, k, nodes=True)
        report = await report_of(store, org)
        reports.append(report)
        assert report.first_bad_index == 4
        assert "does not extend its checkpoint at size 12" in report.reason
        assert "an entry in 4..11 was rewritten" in report.reason
    assert reports[0].reason.split("expected root")[0] == reports[1].reason.split("expected root")[0]


# --- 4. the publisher never signs an inconsistent checkpoint ------------------------------


async def test_publisher_refuses_a_checkpoint_inconsistent_with_the_last(
    store, settings, kek, owner
):
    org = await new_org(store, settings, kek, notes=5)
    old = await publish(store, org, kek)
    assert old.size == 6
    stored = [n for n in merkle.consistency_nodes(6, 12) if n[0] > 0 and (n[1] + 1) << n[0] <= 6]
    assert stored, "some proof node must already exist at size 6"
    level, idx = stored[0]
    await tamper(
        owner,
        (
            "UPDATE merkle_nodes SET hash = $4 WHERE org_id = $1 AND level = $2 AND idx = $3",
            org.id, level, idx, hashlib.sha256(b"forged").digest(),
        ),
    )  # fmt: skip
    await append_notes(store, org, 6)
    assert (await store.head(org.id)).size == 12
    with pytest.raises(VerificationError, match="not consistent with its checkpoint at size 6"):
        await publish(store, org, kek)
    assert [c.size for c in await store.checkpoints(org.id)] == [1, 6]


# --- 5. several OS processes append to one log --------------------------------------------

WRITER_SCRIPT = """
import asyncio, sys
from ledger.journal.appender import Appender
from ledger.store.database import create_pool
from ledger.store.log import Store

async def main(url, slug, tag, n):
    pool = await create_pool(url, role="ledger_writer", size=4)
    try:
        store = Store(pool)
        org = await store.organization(slug)
        appender = Appender(store, max_batch=7)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        done = await asyncio.gather(
            *(appender.append(org, "note", {"text": f"{tag}-{i}"}) for i in range(n))
        )
        print(" ".join(str(a.index) for a in done), flush=True)
    finally:
        await pool.close()

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


async def test_three_processes_append_without_gaps_or_forks(store, settings, kek, db_url):
    org = await new_org(store, settings, kek)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WRITER_SCRIPT, db_url, org.slug, f"p{p}", "100",
            cwd=REPO, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for p in range(3)
    ]  # fmt: skip
    try:
        for proc in procs:  # barrier: every process is connected before any appends
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert line == b"ready\n", (line, await proc.stderr.read())
        for proc in procs:
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        outputs = [await asyncio.wait_for(p.communicate(), 30) for p in procs]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outputs]
    per_process = [[int(i) for i in out.split()] for out, _ in outputs]
    assert all(len(p) == 100 for p in per_process)
    assert sorted(i for p in per_process for i in p) == list(range(1, 301))
    entries = await store.entries(org.id, 0, 1000)
    assert [e.index for e in entries] == list(range(301))
    texts = {json.loads(e.body)["body"]["text"] for e in entries[1:]}
    assert texts == {f"p{p}-{i}" for p in range(3) for i in range(100)}
    await publish(store, org, kek)
    await assert_log_verifies(store)
