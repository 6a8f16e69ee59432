"""Appending to a log, with group commit.

One ``LogWriter`` per log and process gathers the appends that arrive while the previous
batch is being written and appends them together: one read of the log head and of what the
batch policy needs (no lock), then one call of ``append_batch_json`` (migrations 0026, 0030) that is
its own transaction: it compare-and-swaps the head, which locks the head row until its
commit, and inserts the entries, the Merkle nodes and the policy's rows. If another writer
moved the head since the read, the call writes nothing and the batch is appended again under
the head lock (``append_batch``: one transaction, one ``FOR UPDATE`` of the head, inserts,
compare-and-swap). Optionally (``in_flight`` above 1) the next batch is admitted and hashed
on the head the call in flight will leave, and sent as soon as that call has committed.
Throughput therefore grows with load instead of being capped by a per-entry lock (BRIEF:
about 1.5 k/s).

Writers in other processes serialize on the same ``log_heads`` row (the compare-and-swap, or
``FOR UPDATE``), so any number of processes can append to one log without forking it,
leaving a gap or reordering acknowledged entries. An append returns only after its batch has
committed.

Domain rules that must be atomic with the append (balances, idempotency keys, unique
references) plug in through a ``BatchPolicy``: ``admit`` runs before the insert, on what was
read with the head, and may refuse single intents without failing the batch;
``in_one_call`` (or, under the lock, ``after_insert``) gives the rows that belong to the same
commit.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import logging
import time
from asyncio import Future
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from ledger.clock import Clock, system_clock
from ledger.errors import CanonicalError, ConflictError, DatabaseUnavailableError, LedgerError
from ledger.formats import merkle
from ledger.formats.canonical import EntryFrame, canonical_json, format_time
from ledger.formats.chain import entry_hash
from ledger.journal.metrics import observe_append_batch
from ledger.store.log import (
    COPY_MIN_ROWS,
    UNAVAILABLE,
    UNAVAILABLE_MESSAGE,
    Head,
    Organization,
    Store,
    StoredEntry,
)

log = logging.getLogger(__name__)

FaultHook = Callable[[str, asyncpg.Connection], Awaitable[None]]
"""Test seam: called at each named point of the append transaction."""

FAULT_POINTS = ("locked", "entries_inserted", "nodes_inserted", "head_advanced", "before_commit")


@dataclass(eq=False)
class Intent:
    """One entry somebody wants appended."""

    kind: str
    """Entry kind."""
    body: dict[str, Any]
    """Kind-specific body (JSON-compatible; encoded canonically under the lock)."""
    context: Any = None
    """Whatever the batch policy needs (e.g. the decoded request); never hashed."""
    future: asyncio.Future[Appended] | None = field(default=None, repr=False)
    """Resolved after commit with the appended entry, or with the reason it was refused."""


class Appended(StoredEntry):
    """An entry of this batch, committed to the log: the stored row, and in ``extra`` what the
    batch policy's ``after_insert`` returned for it (e.g. the answer to send). ``extra`` is
    set before anyone outside the append sees the entry; treat it as read-only."""

    extra: Any = None  # an attribute of the instance, not a field of the frozen row

    def __init__(
        self,
        index: int,
        kind: str,
        created_at: datetime,
        body: bytes,
        prev_hash: bytes,
        entry_hash: bytes,
        leaf_hash: bytes,
    ) -> None:
        # The row's fields at once: the frozen dataclass's own __init__ sets them one by one
        # through object.__setattr__, and a writer makes one of these per entry.
        self.__dict__.update(
            index=index,
            kind=kind,
            created_at=created_at,
            body=body,
            prev_hash=prev_hash,
            entry_hash=entry_hash,
            leaf_hash=leaf_hash,
        )


class BatchPolicy(Protocol):
    """Domain rules that run inside the append transaction."""

    def reads(self, org: Organization, intents: Sequence[Intent]) -> Sequence[list[str]] | None:
        """Arguments of ``admit_lookups`` to read in the same round trip as the head lock
        (``Store.lock_head_admitting``), or None to read nothing with it."""
        ...

    async def admit(
        self,
        conn: asyncpg.Connection,
        org: Organization,
        intents: Sequence[Intent],
        read: str | None = None,
    ) -> list[LedgerError | None]:
        """Per intent: None to admit it, or the error that refuses it. ``read`` is what
        ``admit_lookups`` returned with the lock when ``reads`` asked for it."""
        ...

    async def after_insert(
        self,
        conn: asyncpg.Connection,
        org: Organization,
        appended: Sequence[tuple[Intent, Appended]],
    ) -> list[Any]:
        """Write rows that commit with the entries; return one extra value per entry."""
        ...

    def projector(self, org: Organization, intents: Sequence[Intent]) -> ChunkProjector | None:
        """For a large batch (``pipeline``): ``after_insert`` cut into chunks that travel with
        the entries' own chunks, or None to call ``after_insert`` once the entries are in.
        Given the batch's admitted intents, or all of them when it is admitted chunk by
        chunk (``admitter``)."""
        ...

    async def admitter(
        self,
        conn: asyncpg.Connection,
        org: Organization,
        intents: Sequence[Intent],
        read: str | None = None,
    ) -> Admitter | None:
        """For a large batch: ``admit`` cut in two, what it reads (now, under the head lock)
        and what it decides (chunk by chunk in the pipeline, while the database inserts the
        chunk before); or None to ``admit`` the whole batch before the pipeline starts."""
        ...

    def in_one_call(
        self, org: Organization, appended: Sequence[tuple[Intent, Appended]]
    ) -> OneCall | None:
        """What ``after_insert`` would write, as ``Store.append_batch_json`` writes it with
        the entries (no I/O), or None when the batch needs ``after_insert`` (it reads, or
        writes rows the call does not take)."""
        ...


class Admitter(Protocol):
    """The decisions of ``BatchPolicy.admit`` for one batch, made chunk by chunk in order:
    the same verdicts as one ``admit`` of the whole batch (each intent sees those before it,
    also in earlier chunks), with no I/O."""

    def admit(self, intents: Sequence[Intent]) -> list[LedgerError | None]:
        """Per intent of the next chunk: None to admit it, or the error that refuses it."""
        ...


@dataclass
class OneCall:
    """A batch's policy rows for ``append_in_one_call``."""

    columns: Sequence[list[Any]]
    """The projection arguments of ``Store.append_batch_json``: one list of row tuples per
    table."""
    extras: Callable[[str], list[Any]]
    """From what the call returned (JSON text), one extra value per entry, as
    ``after_insert`` returns them."""


class ChunkProjector(Protocol):
    """``after_insert`` of one large batch, chunk by chunk: ``make`` runs (Python) while the
    previous chunk's entries and rows are in the database, ``write`` inserts a chunk's rows
    after its entries, ``finish`` writes what belongs to the whole batch and returns one
    extra value per appended entry, in order. The same rows as ``after_insert`` would
    write, in the same transaction."""

    def make(self, appended: Sequence[tuple[Intent, Appended]]) -> Any:
        """The rows of one chunk's appended entries (no I/O)."""
        ...

    async def write(self, conn: asyncpg.Connection, part: Any) -> None:
        """Insert what ``make`` returned."""
        ...

    async def finish(self, conn: asyncpg.Connection) -> list[Any]:
        """Write the batch's remaining rows; one extra value per entry made so far."""
        ...


class NoPolicy:
    """Admit everything; write nothing else."""

    def reads(self, org, intents):  # type: ignore[no-untyped-def]
        return None

    async def admit(self, conn, org, intents, read=None):  # type: ignore[no-untyped-def]
        return [None] * len(intents)

    async def after_insert(self, conn, org, appended):  # type: ignore[no-untyped-def]
        return [None] * len(appended)

    def projector(self, org, intents):  # type: ignore[no-untyped-def]
        return None

    async def admitter(self, conn, org, intents, read=None):  # type: ignore[no-untyped-def]
        return None

    def in_one_call(self, org, appended):  # type: ignore[no-untyped-def]
        return OneCall([[]] * ONE_CALL_PROJECTIONS, lambda _: [None] * len(appended))


ONE_CALL_PROJECTIONS = 5
"""Projection arguments of ``append_batch_json`` (migration 0030), one JSON array of rows
each: money rows, posting lines, Idempotency-Keys, donor records, gateway settlements."""


def build_entries(
    org: Organization, head: Head, intents: Sequence[Intent], now: datetime
) -> tuple[list[Appended | LedgerError], list[tuple[merkle.NodeId, bytes]], Head]:
    """Hash a batch onto ``head``: the pure part of an append (no I/O).

    Intents whose body cannot be encoded canonically are refused one by one; the others keep
    contiguous indexes.
    """
    tree = merkle.CompactRange(head.size, head.frontier)
    moment = max(now, head.last_time)
    # What every entry of the batch shares is made canonical once (``encode_entry`` parts).
    frame = EntryFrame(canonical_json(org.origin, "$.log"), format_time(moment))
    prev = head.head_hash
    index = head.size
    outcomes: list[Appended | LedgerError] = []
    leaves: list[bytes] = []
    for intent in intents:
        try:
            body = frame(index, prev, intent.kind, canonical_json(intent.body, "$.body"))
        except CanonicalError as exc:
            outcomes.append(exc)
            continue
        leaf = merkle.leaf_hash(body)
        chained = entry_hash(prev, leaf)
        outcomes.append(Appended(index, intent.kind, moment, body, prev, chained, leaf))
        leaves.append(leaf)
        prev = chained
        index += 1
    nodes = tree.extend(leaves)
    return outcomes, nodes, Head(index, prev, moment, tree.hashes)


PIPELINE_CHUNK = 250
"""Rows per chunk of a large batch's pipeline (``pipeline``): large enough for COPY, small
enough that hashing one chunk overlaps the insertion of the previous one."""


PIPELINE_SLICE = 50
"""Rows a large batch hashes between two turns of the event loop (``pipeline``)."""


def chunked(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[n : n + size] for n in range(0, len(items), size)]


async def pipeline(
    chunks: Sequence[Any],
    prepare: Callable[[Any], Any],
    write: Callable[[Any], Awaitable[None]],
) -> None:
    """``write(prepare(chunk))`` for each chunk in order, on one connection, with the
    ``prepare`` of a chunk (Python, CPU) running while the ``write`` of the one before it is
    in the database (the other core). ``prepare`` may be a coroutine function that gives the
    event loop a turn now and then (``await asyncio.sleep(0)``): a write is several round
    trips (a COPY is two), and each of them can only start when the loop runs, so a
    ``prepare`` that never yields leaves the database idle between the write's statements. A
    failure anywhere waits for the statement in flight before it propagates, so the
    caller's transaction can roll back."""
    in_flight: asyncio.Task[None] | None = None
    try:
        for chunk in chunks:
            prepared = prepare(chunk)
            if inspect.isawaitable(prepared):
                prepared = await prepared
            if in_flight is not None:
                await in_flight
            in_flight = asyncio.ensure_future(write(prepared))
            await asyncio.sleep(0)  # let it put its statement on the wire
        if in_flight is not None:
            await in_flight
    finally:
        if in_flight is not None and not in_flight.done():
            await asyncio.wait([in_flight])
            if not in_flight.cancelled():
                in_flight.exception()  # retrieved: the first failure is the one raised


async def append_batch(
    store: Store,
    conn: asyncpg.Connection,
    org: Organization,
    intents: Sequence[Intent],
    *,
    policy: BatchPolicy | None = None,
    fault: FaultHook | None = None,
    clock: Clock = system_clock,
) -> list[Appended | LedgerError]:
    """Append ``intents`` inside the caller's open transaction; the caller commits.

    Nothing is visible to anyone until that commit, and a failure anywhere before it rolls
    back the entries, the nodes, the head and the policy's rows together.
    """
    policy = policy or NoPolicy()
    reads = policy.reads(org, intents)
    read = None
    if reads is None:
        head = await store.lock_head(conn, org.id)
    else:  # the policy's reads in the same round trip, made once the lock is held
        head, read = await store.lock_head_admitting(conn, org.id, reads)
    if fault:
        await fault("locked", conn)
    admission: Admitter | None = None
    if len(intents) >= 2 * PIPELINE_CHUNK:  # admitted chunk by chunk in the pipeline, if it can
        admission = await policy.admitter(conn, org, intents, read)
    if admission is None:
        verdicts = await policy.admit(conn, org, intents, read)
        admitted = [i for i, v in zip(intents, verdicts, strict=True) if v is None]
    else:
        verdicts, admitted = [], []  # filled in order as the pipeline admits each chunk
    now = clock()
    projector: ChunkProjector | None = None
    if admission is None and len(admitted) < 2 * PIPELINE_CHUNK:
        built, nodes, new_head = build_entries(org, head, admitted, now)
        rows = [b for b in built if isinstance(b, Appended)]
        moved = not rows or await store.append_rows(conn, org.id, head.size, rows, nodes, new_head)
    else:  # a large batch: admit, hash and project chunk k+1 while the database inserts chunk k
        built, new_head = [], head
        projector = policy.projector(org, intents if admission is not None else admitted)

        async def hash_chunk(chunk: Sequence[Intent]) -> tuple[list[Appended], list, Any]:
            # In slices, giving the loop a turn after each: the previous chunk's write
            # moves on to its next statement meanwhile (``pipeline``).
            nonlocal new_head
            if admission is not None:
                chunk_verdicts = admission.admit(chunk)
                verdicts.extend(chunk_verdicts)
                chunk = [i for i, v in zip(chunk, chunk_verdicts, strict=True) if v is None]
                admitted.extend(chunk)
            rows: list[Appended] = []
            chunk_nodes: list = []
            pairs: list[tuple[Intent, Appended]] = []
            for start in range(0, len(chunk), PIPELINE_SLICE):
                part = chunk[start : start + PIPELINE_SLICE]
                outcomes, part_nodes, new_head = build_entries(org, new_head, part, now)
                built.extend(outcomes)
                chunk_nodes.extend(part_nodes)
                for intent, outcome in zip(part, outcomes, strict=True):
                    if isinstance(outcome, Appended):
                        rows.append(outcome)
                        pairs.append((intent, outcome))
                await asyncio.sleep(0)
            if projector is None:
                return rows, chunk_nodes, None
            return rows, chunk_nodes, projector.make(pairs)

        async def insert_chunk(part: tuple[list[Appended], list, Any]) -> None:
            await store.insert_entries(conn, org.id, part[0])
            await store.insert_nodes(conn, org.id, part[1])
            if projector is not None:
                await projector.write(conn, part[2])

        whole = intents if admission is not None else admitted
        await pipeline(chunked(whole, PIPELINE_CHUNK), hash_chunk, insert_chunk)
        rows = [b for b in built if isinstance(b, Appended)]
        moved = not rows or await store.advance_head(conn, org.id, head.size, new_head)
    if not moved:
        raise ConflictError(f"log head of {org.slug} moved while locked: refusing the batch")
    if rows and fault:
        # Entries, nodes and head: one statement for a small batch (the three fault points
        # fire one after the other once it is done), COPY chunks and then the head for a
        # large one.
        for point in ("entries_inserted", "nodes_inserted", "head_advanced"):
            await fault(point, conn)
    pairs: list[tuple[Intent, Appended]] = []
    by_intent: dict[int, Appended | LedgerError] = {}
    for intent, outcome in zip(admitted, built, strict=True):
        if isinstance(outcome, Appended):
            pairs.append((intent, outcome))
        else:
            by_intent[id(intent)] = outcome
    if not pairs:
        extras = []
    elif projector is not None:
        extras = await projector.finish(conn)  # the chunks' rows went in with their entries
    else:
        extras = await policy.after_insert(conn, org, pairs)
    for (intent, appended), extra in zip(pairs, extras, strict=True):
        object.__setattr__(appended, "extra", extra)  # not a field: the frozen check is moot
        by_intent[id(intent)] = appended
    if fault:
        await fault("before_commit", conn)
    results: list[Appended | LedgerError] = []
    for intent, verdict in zip(intents, verdicts, strict=True):
        results.append(verdict if verdict is not None else by_intent[id(intent)])
    return results


@dataclass(eq=False)
class Prepared:
    """A batch read, admitted and hashed for one ``append_batch_json`` call."""

    intents: Sequence[Intent]
    head: Head
    """The head it was built on: the call's compare-and-swap expects it."""
    verdicts: list[LedgerError | None]
    admitted: list[Intent]
    built: list[Appended | LedgerError]
    nodes: list[tuple[merkle.NodeId, bytes]]
    new_head: Head
    pairs: list[tuple[Intent, Appended]]
    call: OneCall | None
    """The policy's rows; None when nothing is appended."""


async def prepare_one_call(
    store: Store,
    conn: asyncpg.Connection,
    org: Organization,
    intents: Sequence[Intent],
    *,
    policy: BatchPolicy,
    fault: FaultHook | None = None,
    clock: Clock = system_clock,
    ahead: Sequence[Prepared] = (),
) -> Prepared | None:
    """The first half of ``append_in_one_call``: read the head and the policy's lookups (one
    statement, no lock), admit and hash. None when the batch needs ``append_batch``.

    With ``ahead`` (the batches of this writer whose calls are in flight, oldest first) the
    batch is built on the last one's new head, as if they had committed: the lookups are
    read in one snapshot with the head, and the policy's admission walks the in-flight
    batches' appended intents first (``BatchPolicy.admitter``: each intent sees those before
    it), so this batch is admitted on the state their commits will leave. None also when that
    cannot be done (the head read is not one the in-flight batches started from or led to,
    the policy reads without ``reads``, or an in-flight intent would no longer be admitted):
    the caller then waits for them and prepares the batch again."""
    if len(intents) >= COPY_MIN_ROWS:  # a large batch: COPY costs less CPU than arrays
        return None
    if ahead:
        tip = ahead[-1].new_head
        prior = [i for p in ahead for i, _ in p.pairs]
        reads = policy.reads(org, [*prior, *intents])
        if reads is None:
            if not isinstance(policy, NoPolicy):  # it would read on its own, unsynchronized
                return None
            head, read, prior = tip, None, []  # it admits everything, reading nothing
        else:
            head, read = await store.read_head_admitting(conn, org.id, reads)
            starts = [p.head.size for p in ahead]
            if head.size == tip.size:
                prior = []  # they have all committed: the read already holds them
            elif head.size in starts:
                # The lookups ran just after the head was read, in a later snapshot: they
                # hold the state at that head only if no flight committed in between.
                if (await store.read_head(conn, org.id)).size != head.size:
                    return None
                prior = [i for p in ahead[starts.index(head.size) :] for i, _ in p.pairs]
            else:
                return None  # another writer appended: build after the flights land
            head = tip
        admission = await policy.admitter(conn, org, [*prior, *intents], read)
        if admission is None:
            if prior:
                return None
            verdicts = await policy.admit(conn, org, intents, read)
        else:
            if any(v is not None for v in admission.admit(prior)):
                return None
            verdicts = admission.admit(intents)
    else:
        reads = policy.reads(org, intents)
        read = None
        if reads is None:
            head = await store.read_head(conn, org.id)
        else:
            head, read = await store.read_head_admitting(conn, org.id, reads)
        if fault:
            await fault("locked", conn)
        verdicts = await policy.admit(conn, org, intents, read)
    admitted = [i for i, v in zip(intents, verdicts, strict=True) if v is None]
    built, nodes, new_head = build_entries(org, head, admitted, clock())
    pairs = [(i, b) for i, b in zip(admitted, built, strict=True) if isinstance(b, Appended)]
    call = None
    if pairs:
        call = policy.in_one_call(org, pairs)
        if call is None:
            return None
    return Prepared(intents, head, verdicts, admitted, built, nodes, new_head, pairs, call)


async def write_one_call(
    store: Store,
    conn: asyncpg.Connection,
    org: Organization,
    prepared: Prepared,
    *,
    fault: FaultHook | None = None,
) -> list[Appended | LedgerError] | None:
    """The second half of ``append_in_one_call``: the ``append_batch_json`` call. None when
    the head was no longer where ``prepared`` was built: nothing was written."""
    extras: list[Any] = []
    if prepared.pairs:
        assert prepared.call is not None
        rows = [b for _, b in prepared.pairs]
        refunded = await store.append_batch_json(
            conn,
            org.id,
            prepared.head.size,
            rows,
            prepared.nodes,
            prepared.new_head,
            prepared.call.columns,
        )
        if refunded is None:
            return None  # the head moved since the read: nothing was written
        if fault:
            for point in ("entries_inserted", "nodes_inserted", "head_advanced"):
                await fault(point, conn)
        extras = prepared.call.extras(refunded)
    by_intent: dict[int, Appended | LedgerError] = {}
    for intent, outcome in zip(prepared.admitted, prepared.built, strict=True):
        if not isinstance(outcome, Appended):
            by_intent[id(intent)] = outcome
    for (intent, appended), extra in zip(prepared.pairs, extras, strict=True):
        object.__setattr__(appended, "extra", extra)  # not a field: the frozen check is moot
        by_intent[id(intent)] = appended
    if fault:
        await fault("before_commit", conn)
    return [
        verdict if verdict is not None else by_intent[id(intent)]
        for intent, verdict in zip(prepared.intents, prepared.verdicts, strict=True)
    ]


async def append_in_one_call(
    store: Store,
    conn: asyncpg.Connection,
    org: Organization,
    intents: Sequence[Intent],
    *,
    policy: BatchPolicy,
    fault: FaultHook | None = None,
    clock: Clock = system_clock,
) -> list[Appended | LedgerError] | None:
    """Append a batch in two round trips and no lock held across them (migration 0026):
    read the head and the policy's lookups (one statement, no lock), admit and hash, then
    write everything in one ``append_batch_json`` call, whose head compare-and-swap proves
    that nothing was appended since the read. Outside a transaction that call commits;
    inside one (a fault hook's tests) the caller commits.

    None when the batch was not appended this way, with nothing written: the head moved
    since the read (another process appended), or the batch needs ``append_batch`` (a large
    one, or one whose policy rows the call does not take: ``BatchPolicy.in_one_call``). The
    caller then appends it with ``append_batch``, under the head lock.
    """
    prepared = await prepare_one_call(
        store, conn, org, intents, policy=policy, fault=fault, clock=clock
    )
    if prepared is None:
        return None
    return await write_one_call(store, conn, org, prepared, fault=fault)


@dataclass(eq=False)
class _Flight:
    """A batch whose call has been sent (or is about to be), and what it was built on."""

    batch: list[Intent]
    prepared: Prepared | None
    after: _Flight | None
    """The flight it was built on (its head is that one's new head), if any."""
    task: asyncio.Future[list[Appended | LedgerError]] | None = None
    landed: bool = False
    """Its call committed what ``prepared`` holds (the next flight's head is right)."""


class LogWriter:
    """Group commit for one log in this process.

    A batch is read, admitted and hashed (``prepare_one_call``), then written in one call
    that commits (``write_one_call``). With ``in_flight`` above 1, the requests that queue
    while a call is in the database do not wait for it: they are admitted and hashed as the
    next batch on the new head that call will leave (its lookups read in the same snapshot
    as the head, the in-flight batches' intents walked first) and that batch's call is sent
    at once. In the database it waits for the call before it (the per-log advisory lock at
    the top of ``append_batch_json``) and commits right after it: the log is never idle
    waiting on Python (issue 19 item 3). A call whose predecessor did not commit as built
    finds the head elsewhere and writes nothing (the compare-and-swap, and the entries'
    link trigger behind it), and its batch is appended again under the head lock. Each
    append returns once its own batch has committed; batches are answered in the order they
    were taken. With a fault hook (tests) batches go one at a time, each inside an explicit
    transaction."""

    def __init__(
        self,
        store: Store,
        org: Organization,
        *,
        policy: BatchPolicy | None = None,
        max_batch: int = 1000,
        fault: FaultHook | None = None,
        clock: Clock = system_clock,
        in_flight: int = 1,
    ) -> None:
        self.store = store
        self.org = org
        self.in_flight = 1 if fault else max(1, in_flight)
        self.policy = policy or NoPolicy()
        self.max_batch = max_batch
        self.fault = fault
        self.clock = clock
        self._pending: list[Intent] = []
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._spare: list[asyncpg.Connection] = []
        """Connections this writer's batches used, kept while the log is busy (``_connection``)."""
        self.batches = 0
        self.entries = 0
        self.locked_batches = 0
        """Batches appended under the head lock (``append_batch``): those that need it, and
        those whose head moved between their read and their call."""
        self.overlapped = 0
        """Batches built on the head of a call still in flight."""
        self.prepare_seconds = 0.0
        """Time spent reading, admitting and hashing batches (``prepare_one_call``)."""
        self.call_seconds = 0.0
        """Time the one-call batches' ``append_batch_json`` calls took, send to answer: the
        database's work on the batch and its commit, one round trip."""

    async def append(self, kind: str, body: dict[str, Any], context: Any = None) -> Appended:
        """Append one entry; returns after the batch holding it has committed."""
        return await self.submit(kind, body, context)

    def submit(self, kind: str, body: dict[str, Any], context: Any = None) -> Future[Appended]:
        """``append`` without the await (called on the event loop, from a coroutine or a
        callback): the entry joins the next batch, and the future is done once the batch
        holding it has committed (its result the ``Appended``, or the error that refused
        it). Cancelling the future before then withdraws nothing already taken."""
        loop = self._loop
        if loop is None:  # a writer serves one event loop; asking costs a system call (3.11)
            loop = self._loop = asyncio.get_running_loop()
        future: Future[Appended] = loop.create_future()
        self._pending.append(Intent(kind, body, context, future))
        self._arrived.set()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain(), name=f"log-writer-{self.org.slug}")
        return future

    def _take(self, slots: int = 1) -> list[Intent]:
        """The next batch: the oldest pending intents, shared out evenly over the ``slots``
        calls that may still go out (so that a crowd arriving at once fills a pipeline
        instead of one call, and the next ones are built while the first commits)."""
        size = min(self.max_batch, -(-len(self._pending) // max(1, slots)))
        batch = self._pending[:size]
        del self._pending[:size]
        return batch

    async def _drain(self) -> None:
        """Write what is pending until nothing is, then give the kept connections back (and
        write on if requests arrived meanwhile: none may wait for a task that has ended)."""
        try:
            while True:
                await self._write_pending()
                await self._give_back()
                if not self._pending:
                    return
        finally:
            await self._give_back()  # cancelled or failed: handed back all the same

    async def _give_back(self) -> None:
        while self._spare:
            await self.store.release(self._spare.pop(), settled=True)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection for one batch's read or call. While its log is busy the writer keeps
        the connections its batches used instead of giving each back to the pool and taking
        one again, twice a batch (asyncpg's pool: a timer, a shielded queue and a reset
        check each way, ~100,000 instructions per batch); ``_drain`` gives them back once
        there is nothing left to write. One that failed or is left inside a transaction goes
        back to the pool at once, which resets or discards it."""
        conn = self._spare.pop() if self._spare else await self.store.acquire()
        try:
            yield conn
        except UNAVAILABLE as exc:
            await self.store.release(conn)
            log.warning("database connection failed: %s", exc)
            raise DatabaseUnavailableError(UNAVAILABLE_MESSAGE) from exc
        except BaseException:
            await self.store.release(conn)
            raise
        if conn.is_closed() or conn.is_in_transaction():
            await self.store.release(conn)
        else:
            self._spare.append(conn)

    async def _write_pending(self) -> None:
        flights: collections.deque[_Flight] = collections.deque()
        taken: list[Intent] = []  # taken and not yet answered, in order
        try:
            while self._pending or flights:
                room = len(flights) < self.in_flight
                if self._pending and room and all(f.prepared for f in flights):
                    batch = self._take(self.in_flight - len(flights))
                    taken += batch
                    flight = await self._launch(batch, flights)
                    if flight is not None:
                        flights.append(flight)
                        await asyncio.sleep(0)  # let its call go out before the next one's
                        continue
                    # Not buildable ahead of the flights: after they land, from the start.
                    while flights:
                        await self._land(flights, taken)
                    flights.append(await self._launch(batch, flights))  # type: ignore[arg-type]
                    continue
                if self._pending == [] and room and flights and all(f.prepared for f in flights):
                    # Room for another call: wait for a request or for the oldest to land.
                    self._arrived.clear()
                    arrived = asyncio.ensure_future(self._arrived.wait())
                    await asyncio.wait(
                        {flights[0].task, arrived},  # type: ignore[arg-type]
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    arrived.cancel()
                    if not flights[0].task.done():  # type: ignore[union-attr]
                        continue
                await self._land(flights, taken)
        except BaseException as exc:  # cancellation or a bug: fail the callers, then re-raise
            for flight in flights:
                if flight.task is not None:
                    flight.task.cancel()
            for intent in taken + self._pending:
                if intent.future and not intent.future.done():
                    intent.future.set_exception(LedgerError(f"append aborted: {exc!r}"))
            self._pending.clear()
            raise

    async def _land(self, flights: collections.deque[_Flight], taken: list[Intent]) -> None:
        """Wait for the oldest flight's call and answer its batch."""
        flight = flights.popleft()
        await asyncio.wait([flight.task])  # type: ignore[list-item]
        self._answer(flight, taken)

    def _answer(self, flight: _Flight, taken: list[Intent]) -> None:
        results = flight.task.result()  # type: ignore[union-attr]
        for intent, outcome in zip(flight.batch, results, strict=True):
            if intent.future is None or intent.future.done():
                continue
            if isinstance(outcome, Appended):
                intent.future.set_result(outcome)
            else:
                intent.future.set_exception(outcome)
        del taken[: len(flight.batch)]

    async def _launch(self, batch: list[Intent], flights: Sequence[_Flight]) -> _Flight | None:
        """Prepare ``batch`` (on the last flight's head when there are flights) and send its
        call; None when it cannot be built ahead of the flights."""
        ahead = [f.prepared for f in flights if f.prepared is not None]
        prepared = None if self.fault else await self._prepare(batch, ahead)
        if prepared is None and ahead:
            return None
        if ahead:
            self.overlapped += 1
        flight = _Flight(batch, prepared, flights[-1] if flights else None)
        flight.task = asyncio.ensure_future(self._commit_isolating(flight))
        return flight

    async def _prepare(self, batch: list[Intent], ahead: Sequence[Prepared]) -> Prepared | None:
        """``prepare_one_call`` on a connection of its own. None when the batch goes under the
        lock (or cannot be built ahead), or when preparing it failed: ``_commit`` then
        appends it from the start and reports why."""
        started = time.perf_counter()
        try:
            async with self._connection() as conn:
                return await prepare_one_call(
                    self.store,
                    conn,
                    self.org,
                    batch,
                    policy=self.policy,
                    clock=self.clock,
                    ahead=ahead,
                )
        except Exception as exc:  # told again by _commit, which redoes the batch
            log.debug("preparing a batch for %s failed: %r", self.org.slug, exc)
            return None
        finally:
            self.prepare_seconds += time.perf_counter() - started

    async def _commit_isolating(
        self, flight: _Flight, batch: list[Intent] | None = None
    ) -> list[Appended | LedgerError]:
        """Commit a batch; if the database refuses it for a reason that may belong to one
        request (bad data slipping past validation), commit the halves separately, so one
        poisoned request can never fail the others that happened to share its batch."""
        if batch is None:
            batch, prepared = flight.batch, flight.prepared
        else:
            prepared = None
        try:
            return await self._commit(batch, prepared, flight)
        except LedgerError as exc:
            return [exc] * len(batch)
        except UNAVAILABLE as exc:
            log.warning("append batch for %s lost the database: %s", self.org.slug, exc)
            return [DatabaseUnavailableError(UNAVAILABLE_MESSAGE)] * len(batch)
        except asyncpg.PostgresError as exc:
            if len(batch) > 1:
                half = len(batch) // 2
                return [
                    *await self._commit_isolating(flight, batch[:half]),
                    *await self._commit_isolating(flight, batch[half:]),
                ]
            log.error(
                "append of one %s entry for %s was refused: %s", batch[0].kind, self.org.slug, exc
            )
            return [LedgerError("the database refused this entry; it was not recorded")]

    async def _commit(
        self, batch: list[Intent], prepared: Prepared | None, flight: _Flight
    ) -> list[Appended | LedgerError]:
        if prepared is not None and flight.after is not None:
            # Built on the flight before it: sent once that one committed as built (its new
            # head is this batch's head), else built again from the start.
            await asyncio.wait([flight.after.task])  # type: ignore[list-item]
            if not flight.after.landed:
                prepared = None
        async with self._connection() as conn:
            # A small batch: one read and one call that is its own transaction (its commit
            # point); with a fault hook inside an explicit transaction, so that a fault at
            # any point leaves nothing, as below.
            results: list[Appended | LedgerError] | None
            if prepared is not None:
                started = time.perf_counter()
                results = await write_one_call(self.store, conn, self.org, prepared)
                self.call_seconds += time.perf_counter() - started
                flight.landed = results is not None
            else:
                async with conn.transaction() if self.fault else contextlib.nullcontext():
                    results = await append_in_one_call(
                        self.store,
                        conn,
                        self.org,
                        batch,
                        policy=self.policy,
                        fault=self.fault,
                        clock=self.clock,
                    )
            if results is None:  # nothing written: append it under the head lock
                self.locked_batches += 1
                async with conn.transaction():
                    results = await append_batch(
                        self.store,
                        conn,
                        self.org,
                        batch,
                        policy=self.policy,
                        fault=self.fault,
                        clock=self.clock,
                    )
                    # Commit point: the batch's entries, Merkle nodes, new head and the
                    # policy's rows become visible together. A crash before it leaves the log
                    # as it was; no caller has been answered yet.
        self.batches += 1
        self.entries += sum(isinstance(r, Appended) for r in results)
        observe_append_batch(len(batch))
        return results


class Appender:
    """The process's writers, one per log, created on first use."""

    def __init__(
        self,
        store: Store,
        *,
        policy: BatchPolicy | None = None,
        max_batch: int = 1000,
        fault: FaultHook | None = None,
        clock: Clock = system_clock,
        in_flight: int = 1,
    ) -> None:
        self.store = store
        self.policy = policy
        self.in_flight = in_flight
        """Calls in the database at once per log (``LogWriter``)."""
        self.max_batch = max_batch
        self.fault = fault
        self.clock = clock
        """Where entry times come from (``ledger.clock``); the policy should share it."""
        self.writers: dict[int, LogWriter] = {}

    def writer(self, org: Organization) -> LogWriter:
        writer = self.writers.get(org.id)
        if writer is None:
            writer = LogWriter(
                self.store,
                org,
                policy=self.policy,
                max_batch=self.max_batch,
                fault=self.fault,
                clock=self.clock,
                in_flight=self.in_flight,
            )
            self.writers[org.id] = writer
        return writer

    async def append(
        self, org: Organization, kind: str, body: dict[str, Any], context: Any = None
    ) -> Appended:
        return await self.writer(org).submit(kind, body, context)

    def submit(
        self, org: Organization, kind: str, body: dict[str, Any], context: Any = None
    ) -> Future[Appended]:
        """``append`` without the await (``LogWriter.submit``)."""
        return self.writer(org).submit(kind, body, context)
