"""Appending to a log, with group commit.

One ``LogWriter`` per log and process gathers the appends that arrive while the previous
batch is committing and commits them together: one transaction, one lock of the log head,
one INSERT of entries, one of Merkle nodes, one compare-and-swap of the head. Throughput
therefore grows with load instead of being capped by a per-entry lock (BRIEF: about 1.5 k/s).

Writers in other processes serialize on the same ``log_heads`` row (``FOR UPDATE``), so any
number of processes can append to one log without forking it, leaving a gap or reordering
acknowledged entries. An append returns only after its batch has committed.

Domain rules that must be atomic with the append (balances, idempotency keys, unique
references) plug in through a ``BatchPolicy``: ``admit`` runs under the head lock before the
insert and may refuse single intents without failing the batch; ``after_insert`` writes
rows that belong to the same commit.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from ledger.clock import Clock, system_clock
from ledger.errors import CanonicalError, ConflictError, DatabaseUnavailableError, LedgerError
from ledger.formats import merkle
from ledger.formats.canonical import canonical_json, entry_bytes, format_time
from ledger.formats.chain import entry_hash
from ledger.journal.metrics import observe_append_batch
from ledger.store.log import (
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


class Admitter(Protocol):
    """The decisions of ``BatchPolicy.admit`` for one batch, made chunk by chunk in order:
    the same verdicts as one ``admit`` of the whole batch (each intent sees those before it,
    also in earlier chunks), with no I/O."""

    def admit(self, intents: Sequence[Intent]) -> list[LedgerError | None]:
        """Per intent of the next chunk: None to admit it, or the error that refuses it."""
        ...


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
    origin_json, time_text = canonical_json(org.origin, "$.log"), format_time(moment)
    prev = head.head_hash
    index = head.size
    outcomes: list[Appended | LedgerError] = []
    nodes: list[tuple[merkle.NodeId, bytes]] = []
    for intent in intents:
        try:
            body = entry_bytes(
                origin_json,
                index,
                prev,
                time_text,
                intent.kind,
                canonical_json(intent.body, "$.body"),
            )
        except CanonicalError as exc:
            outcomes.append(exc)
            continue
        leaf = merkle.leaf_hash(body)
        chained = entry_hash(prev, leaf)
        outcomes.append(Appended(index, intent.kind, moment, body, prev, chained, leaf))
        nodes.extend(tree.append(leaf))
        prev = chained
        index += 1
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
        appended.extra = extra
        by_intent[id(intent)] = appended
    if fault:
        await fault("before_commit", conn)
    results: list[Appended | LedgerError] = []
    for intent, verdict in zip(intents, verdicts, strict=True):
        results.append(verdict if verdict is not None else by_intent[id(intent)])
    return results


class LogWriter:
    """Group commit for one log in this process: at most one batch in flight at a time."""

    def __init__(
        self,
        store: Store,
        org: Organization,
        *,
        policy: BatchPolicy | None = None,
        max_batch: int = 1000,
        fault: FaultHook | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.store = store
        self.org = org
        self.policy = policy or NoPolicy()
        self.max_batch = max_batch
        self.fault = fault
        self.clock = clock
        self._pending: list[Intent] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.entries = 0

    async def append(self, kind: str, body: dict[str, Any], context: Any = None) -> Appended:
        """Append one entry; returns after the batch holding it has committed."""
        future: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        self._pending.append(Intent(kind, body, context, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name=f"log-writer-{self.org.slug}")
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                results = await self._commit_isolating(batch)
            except BaseException as exc:  # cancellation or a bug: fail the callers, then re-raise
                for intent in batch + self._pending:
                    if intent.future and not intent.future.done():
                        intent.future.set_exception(LedgerError(f"append aborted: {exc!r}"))
                self._pending.clear()
                raise
            for intent, outcome in zip(batch, results, strict=True):
                if intent.future is None or intent.future.done():
                    continue
                if isinstance(outcome, Appended):
                    intent.future.set_result(outcome)
                else:
                    intent.future.set_exception(outcome)

    async def _commit_isolating(self, batch: list[Intent]) -> list[Appended | LedgerError]:
        """Commit a batch; if the database refuses it for a reason that may belong to one
        request (bad data slipping past validation), commit the halves separately, so one
        poisoned request can never fail the others that happened to share its batch."""
        try:
            return await self._commit(batch)
        except LedgerError as exc:
            return [exc] * len(batch)
        except UNAVAILABLE as exc:
            log.warning("append batch for %s lost the database: %s", self.org.slug, exc)
            return [DatabaseUnavailableError(UNAVAILABLE_MESSAGE)] * len(batch)
        except asyncpg.PostgresError as exc:
            if len(batch) > 1:
                half = len(batch) // 2
                return [
                    *await self._commit_isolating(batch[:half]),
                    *await self._commit_isolating(batch[half:]),
                ]
            log.error(
                "append of one %s entry for %s was refused: %s", batch[0].kind, self.org.slug, exc
            )
            return [LedgerError("the database refused this entry; it was not recorded")]

    async def _commit(self, batch: list[Intent]) -> list[Appended | LedgerError]:
        async with self.store.connection(settled=True) as conn, conn.transaction():
            results = await append_batch(
                self.store,
                conn,
                self.org,
                batch,
                policy=self.policy,
                fault=self.fault,
                clock=self.clock,
            )
            # Commit point: the batch's entries, Merkle nodes, new head and the policy's
            # rows become visible together. A crash before it leaves the log as it was;
            # no caller has been answered yet.
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
    ) -> None:
        self.store = store
        self.policy = policy
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
            )
            self.writers[org.id] = writer
        return writer

    async def append(
        self, org: Organization, kind: str, body: dict[str, Any], context: Any = None
    ) -> Appended:
        return await self.writer(org).append(kind, body, context)
