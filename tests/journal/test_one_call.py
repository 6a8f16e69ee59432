"""A group-commit batch in one call (migration 0026): the head and the admit lookups read
without a lock, then everything the batch writes in one ``append_batch_json`` call that is
its own transaction; a head moved in between makes the writer redo the batch under the
lock, so nothing is lost, forked or written twice."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json

import asyncpg

from ledger.charity.rules import CharityPolicy
from ledger.journal.appender import Appender, LogWriter, NoPolicy
from ledger.journal.organizations import create_organization
from ledger.store.database import create_pool
from ledger.store.log import Store
from tests import apikit
from tests.apikit import auth
from tests.http.test_api_privacy import SITI
from tests.logkit import assert_log_verifies


async def make_org(store, settings, kek, slug="yayasan-senyum"):  # type: ignore[no-untyped-def]
    return await create_organization(store, settings, kek, slug, "Yayasan Senyum Anak")


async def test_a_batch_is_one_read_and_one_call_with_no_transaction_around_them(
    db_url, store, settings, kek
):
    org = await make_org(store, settings, kek)
    one = Store(await create_pool(db_url, size=1))  # the writer's only connection
    sent: list[str] = []
    try:
        async with one.pool.acquire() as conn:
            conn.add_query_logger(lambda q: sent.append(q.query))
        appender = Appender(one, policy=CharityPolicy())
        await appender.append(org, "note", {"text": "first"})  # asyncpg learns the types
        sent.clear()
        writer = appender.writer(org)
        batches = writer.batches
        results = await asyncio.gather(
            *(appender.append(org, "note", {"text": f"entry {i}"}) for i in range(40))
        )
        batches = writer.batches - batches
    finally:
        await one.pool.close()
    assert sorted(r.index for r in results) == list(range(2, 42))
    assert writer.locked_batches == 0
    statements = [q.split()[0].upper() for q in sent]
    assert "BEGIN" not in statements and "COMMIT" not in statements, sent
    # Per batch: the head with its lookups, then the call that writes and commits.
    assert len(sent) == 2 * batches, sent
    assert all("append_batch_json" in q for q in sent[1::2]), sent
    await assert_log_verifies(store)


async def test_a_head_moved_between_read_and_write_redoes_the_batch_under_the_lock(
    db_url, store, settings, kek
):
    """Another process appends after this writer read the head: the call writes nothing,
    the batch is appended after the other process's entry, under the head lock."""
    org = await make_org(store, settings, kek)
    other = Store(await create_pool(db_url, size=2))
    elsewhere = Appender(other)
    moved: list[int] = []

    async def fault(point: str, conn) -> None:  # type: ignore[no-untyped-def]
        if point == "locked" and not moved:
            moved.append((await elsewhere.append(org, "note", {"text": "elsewhere"})).index)

    try:
        appender = Appender(store, fault=fault)
        results = await asyncio.gather(
            *(appender.append(org, "note", {"text": f"here {i}"}) for i in range(5))
        )
    finally:
        await other.pool.close()
    writer: LogWriter = appender.writer(org)
    assert moved == [1]
    assert sorted(r.index for r in results) == [2, 3, 4, 5, 6]
    assert writer.locked_batches == 1
    assert (await store.head(org.id)).size == 7
    for r in results:
        assert (await store.entry(org.id, r.index)).body == r.body
    await assert_log_verifies(store)


async def test_a_fault_after_the_call_leaves_nothing(store, settings, kek):
    """With a fault hook the call runs inside a transaction: a failure at any point after it
    rolls back the entries, the nodes, the head and the policy's rows together."""
    org = await make_org(store, settings, kek)
    for point in ("entries_inserted", "nodes_inserted", "head_advanced", "before_commit"):

        async def fault(at: str, conn, point: str = point) -> None:  # type: ignore[no-untyped-def]
            if at == point:
                raise RuntimeError(f"crash at {point}")

        appender = Appender(store, policy=CharityPolicy(), fault=fault)
        outcome = await asyncio.gather(
            appender.append(org, "note", {"text": point}), return_exceptions=True
        )
        assert f"crash at {point}" in str(outcome[0])
        drained = await asyncio.gather(appender.writer(org)._task, return_exceptions=True)
        assert f"crash at {point}" in str(drained[0])  # the writer re-raises what is no refusal
        assert appender.writer(org).locked_batches == 0  # it failed in the one-call path
        assert (await store.head(org.id)).size == 1
    await assert_log_verifies(store)


class SlowFirstAdmit(NoPolicy):
    """Admits everything; the first admission waits until the test lets it go."""

    def __init__(self) -> None:
        self.admitting = asyncio.Event()
        self.go = asyncio.Event()
        self.calls = 0

    async def admit(self, conn, org, intents, read=None):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == 1:
            self.admitting.set()
            await self.go.wait()
        return [None] * len(intents)


async def test_the_next_batch_is_prepared_while_the_previous_one_commits(store, settings, kek):
    """A request queued while batch k is being built goes into batch k+1, which is read,
    admitted and hashed while k's call is in the database; its read waits for k's commit,
    so it builds on k's head and its own call needs no lock."""
    org = await make_org(store, settings, kek)
    policy = SlowFirstAdmit()
    appender = Appender(store, policy=policy, in_flight=2)
    first = asyncio.create_task(appender.append(org, "note", {"text": "k"}))
    await asyncio.wait_for(policy.admitting.wait(), 5)
    second = asyncio.create_task(appender.append(org, "note", {"text": "k+1"}))
    await asyncio.sleep(0)  # queued behind batch k
    policy.go.set()
    a, b = await asyncio.gather(first, second)
    writer = appender.writer(org)
    assert (a.index, b.index) == (1, 2)
    assert b.prev_hash == a.entry_hash
    assert (writer.batches, writer.overlapped, writer.locked_batches) == (2, 1, 0)
    await assert_log_verifies(store)


async def test_overlapping_commits_under_staggered_load_lose_nothing(store, settings, kek):
    """Requests arriving all the time: batches overlap, every append is answered with the
    entry stored at its index, the log has no gap and verifies."""
    org = await make_org(store, settings, kek)
    appender = Appender(store, policy=CharityPolicy(), in_flight=2)
    answered: list = []

    async def client(n: int) -> None:
        for i in range(15):
            answered.append(await appender.append(org, "note", {"text": f"{n}-{i}"}))
            await asyncio.sleep(0.001 * (n % 4))

    await asyncio.gather(*(client(n) for n in range(24)))
    writer = appender.writer(org)
    assert sorted(r.index for r in answered) == list(range(1, 361))
    assert writer.overlapped > 0 and writer.locked_batches == 0
    for r in answered[::37]:
        assert (await store.entry(org.id, r.index)).body == r.body
    await assert_log_verifies(store)


FUND = {"code": "umum", "name": "Dana umum", "currency": "IDR", "fee_cap_bps": 1000,
        "minor_units": 2}  # fmt: skip


def donation(reference: str) -> dict:  # type: ignore[type-arg]
    return {
        "fund": "umum",
        "amount": 2_500_000,
        "currency": "IDR",
        "received_on": "2026-11-20",
        "channel": "bank_transfer",
        "reference": reference,
        "donor": {"commitment": None, "display": None},
    }


async def test_a_batch_built_ahead_is_admitted_after_the_batch_in_flight(
    store, db_url, settings, kek
):
    """Two donations arriving together go out as two calls. The first call is held in the
    database (the per-log advisory lock it takes first, held here), so the second batch is
    read, admitted and hashed while the first has not committed: its admission walks the
    first batch's donations, so a repeated payment reference is refused there (the read
    alone does not show it yet), and it is built on the head the first will leave."""
    org = await make_org(store, settings, kek)
    appender = Appender(store, policy=CharityPolicy(), in_flight=2)
    await appender.append(org, "fund.created", FUND)  # a new fund: under the lock
    writer = appender.writer(org)
    assert writer.locked_batches == 1
    blocker = await asyncpg.connect(db_url)
    try:
        await blocker.execute(
            "SELECT pg_advisory_lock(2021113, hashtext($1::bigint::text))", org.id
        )
        both = asyncio.gather(
            appender.append(org, "donation", donation("TRX-1")),
            appender.append(org, "donation", donation("TRX-1")),
            return_exceptions=True,
        )
        for _ in range(500):
            if writer.overlapped:
                break
            await asyncio.sleep(0.01)
        assert (await store.head(org.id)).size == 2  # the first call has not committed
        await blocker.execute(
            "SELECT pg_advisory_unlock(2021113, hashtext($1::bigint::text))", org.id
        )
        first, second = await both
    finally:
        await blocker.close()
    assert (writer.overlapped, writer.locked_batches) == (1, 1)
    assert first.index == 2
    assert type(second).__name__ == "DuplicateReferenceError"
    third, fourth = await asyncio.gather(
        appender.append(org, "donation", donation("TRX-2")),
        appender.append(org, "donation", donation("TRX-3")),
    )
    assert (third.index, fourth.index) == (3, 4) and fourth.prev_hash == third.entry_hash
    assert (await store.head(org.id)).size == 5
    await assert_log_verifies(store)


async def test_calls_in_flight_from_two_processes_lose_nothing(store, db_url, settings, kek):
    """Two writers of one log (two processes), each with two calls in flight: a batch built
    on a call that the other writer overtook is built again, so every append is answered
    once, at the index where it is stored, and the log verifies."""
    org = await make_org(store, settings, kek)
    other = Store(await create_pool(db_url, size=4))
    try:
        writers = [Appender(store, in_flight=2), Appender(other, in_flight=2)]
        answered: list = []

        async def client(n: int) -> None:
            for i in range(12):
                appender = writers[n % 2]
                answered.append(await appender.append(org, "note", {"text": f"{n}-{i}"}))
                await asyncio.sleep(0.0005 * (n % 3))

        await asyncio.gather(*(client(n) for n in range(24)))
    finally:
        await other.pool.close()
    assert sorted(r.index for r in answered) == list(range(1, 289))
    for r in answered[::29]:
        assert (await store.entry(org.id, r.index)).body == r.body
    rebuilt = sum(a.writer(org).locked_batches for a in writers)
    ahead = sum(a.writer(org).overlapped for a in writers)
    assert ahead > 0, "no batch was built ahead of a call in flight"
    print(f"built ahead {ahead}, appended under the lock {rebuilt}")
    await assert_log_verifies(store)


async def test_the_call_writes_each_member_as_the_writer_built_it(charity, store):
    """Migration 0030: the batch travels as JSON (bytes in base64, times in RFC 3339, absent
    members as null); the rows it leaves hold the writer's values exactly: the canonical bytes
    served for each entry, a reference with JSON's quote and backslash, an absent counterparty, one or two donor
    lookups, the kept answer an Idempotency-Key replays byte for byte."""
    await charity.fund()
    reference = 'KW/7"kutip"\\garis{[,]}'
    headers = {**auth(charity.keys["recorder"]), "Idempotency-Key": "json-members-1"}
    body = apikit.donation(reference, amount=1_234_567, donor={**SITI, "name": "Siti Ñurâini ✓"})
    first = await charity.client.post(charity.url("/donations"), json=body, headers=headers)
    assert first.status_code == 201, first.text
    mail_only = await charity.donate(50_000, donor={"name": "Budi", "email": "budi@example.net"})
    anonymous = await charity.donate(7_00)
    again = await charity.client.post(charity.url("/donations"), json=body, headers=headers)
    assert again.status_code == 201 and again.content == first.content
    assert again.headers.get("idempotency-replayed") == "true"

    async with store.pool.acquire() as conn:
        org_id = await conn.fetchval("SELECT id FROM organizations WHERE slug = $1", charity.slug)
        entries = await conn.fetch(
            "SELECT idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash FROM entries"
            " WHERE org_id = $1 ORDER BY idx",
            org_id,
        )
        money = await conn.fetch(
            "SELECT entry_idx, counterparty, reference, amount FROM money_entries"
            " WHERE org_id = $1 ORDER BY entry_idx",
            org_id,
        )
        donors = {
            r["donation_idx"]: r
            for r in await conn.fetch(
                "SELECT donation_idx, lookups, salt, personal FROM donor_records"
                " WHERE org_id = $1",
                org_id,
            )
        }
        kept = await conn.fetchrow(
            "SELECT status, response FROM idempotency_keys WHERE org_id = $1 AND key = $2",
            org_id,
            "json-members-1",
        )
    for row in entries:
        served = (await charity.client.get(charity.url(f"/log/entries/{row['idx']}"))).json()
        assert base64.b64decode(served["canonical"]) == row["body"]
        assert row["created_at"].tzinfo is not None
    for a, b in itertools.pairwise(entries):
        assert b["prev_hash"] == a["entry_hash"] and len(b["leaf_hash"]) == 32
    by_index = {m["entry_idx"]: m for m in money}
    siti, budi, anon = first.json()["index"], mail_only["index"], anonymous["index"]
    assert by_index[siti]["reference"] == reference
    assert by_index[siti]["amount"] == 1_234_567
    assert by_index[anon]["counterparty"] is None
    assert len(donors[siti]["lookups"]) == 2 and len(donors[budi]["lookups"]) == 1
    assert all(len(lookup) == 32 for lookup in donors[siti]["lookups"])
    assert anon not in donors
    assert json.loads(donors[siti]["personal"]) and donors[siti]["salt"]
    assert kept["status"] == 201 and kept["response"] == first.content
    await assert_log_verifies(store)
