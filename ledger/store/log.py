"""The log in the database: organizations, entries, Merkle nodes, the head, checkpoints and
signing keys, and the loader of the named queries (``sql/*.sql``).

Only the modules of ``ledger/store/`` execute SQL (``tests/system/test_layers.py`` scans every other
module); this one is the log itself, its neighbours the charity projections, statements,
documents, witnessing, tiles and the witness's own database. It returns frozen records, never
raw rows, and translates asyncpg's exceptions into ours where they enter. Transactions are opened by the use cases (see ``appender``), which pass
the connection in, so the commit point stays visible in the code that owns it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from ledger.errors import DatabaseUnavailableError, NotFoundError
from ledger.formats.merkle import NodeId
from ledger.store.database import settled as mark_settled
from ledger.store.migrate import SQL_DIR


def load_queries(name: str = "queries.sql") -> dict[str, str]:
    """The ``-- name: x`` blocks of a file in ``sql/``."""
    text = (SQL_DIR / name).read_text()
    blocks = re.split(r"^-- name: (\w+)\s*$", text, flags=re.MULTILINE)
    return {name: sql.strip() for name, sql in zip(blocks[1::2], blocks[2::2], strict=True)}


Q = load_queries()

COPY_MIN_ROWS = 100
"""From this many rows up, ``insert_rows`` sends them by binary COPY instead of its INSERT."""

COPYABLE = ("insert_entries", "insert_nodes", "insert_money_entries", "insert_postings")
"""INSERTs whose rows go into their columns unchanged, so COPY into the same columns is the
same write: ``INSERT INTO t (org_id, a, b) SELECT $1, x.a, x.b FROM unnest($2, $3) ...``."""


def _copy_target(sql: str) -> tuple[str, list[str]]:
    """The table and column list of a plain ``INSERT INTO t (columns) SELECT ...``."""
    found = re.match(r"INSERT INTO (\w+) \(([^)]*)\)\s+SELECT \$1, ", sql)
    if found is None:
        raise ValueError(f"not a plain INSERT ... SELECT $1, ...: {sql[:60]!r}")
    return found[1], [c.strip() for c in found[2].split(",")]


COPY_TARGETS = {name: _copy_target(Q[name]) for name in COPYABLE}


async def insert_rows(
    conn: asyncpg.Connection, name: str, org_id: int, rows: Sequence[tuple]
) -> str:
    """Insert ``rows`` (tuples of the columns after ``org_id``) with the named query; return
    the command status (``INSERT 0 n`` or ``COPY n``).

    A large batch (``COPY_MIN_ROWS``) of a ``COPYABLE`` query goes by binary COPY into the
    same table and columns instead: the same rows, constraints and triggers (the link check
    is a statement trigger, so it runs once per COPY as once per INSERT), at about two thirds
    of the cost per row; a small one stays one round trip.
    """
    if not rows:
        return "INSERT 0 0"
    target = COPY_TARGETS.get(name)
    if target is not None and len(rows) >= COPY_MIN_ROWS:
        table, columns = target
        return await conn.copy_records_to_table(
            table, records=[(org_id, *r) for r in rows], columns=columns
        )
    return await conn.execute(Q[name], org_id, *map(list, zip(*rows, strict=True)))


log = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = (
    "the database is unavailable; the request may or may not have been recorded: retry later "
    "with the same Idempotency-Key (a recorded write is then replayed, never duplicated)"
)

UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InternalClientError,  # e.g. the server closed the connection mid-protocol
)


@dataclass(frozen=True)
class Organization:
    """A charity and its log."""

    id: int
    """Internal id (distribution key)."""
    slug: str
    """Public URL name."""
    name: str
    """Display name."""
    origin: str
    """Checkpoint origin line and key name."""
    created_at: datetime
    """Creation time."""


@dataclass(frozen=True)
class Head:
    """The head of a log as stored in ``log_heads``."""

    size: int
    """Number of entries."""
    head_hash: bytes
    """entry_hash of the newest entry (zeros when empty)."""
    last_time: datetime
    """Timestamp of the newest entry."""
    frontier: tuple[bytes, ...]
    """Hashes of ``merkle.root_nodes(size)``."""


@dataclass(frozen=True)
class StoredEntry:
    """One row of ``entries``."""

    index: int
    """Position in the log."""
    kind: str
    """Entry kind."""
    created_at: datetime
    """Server timestamp."""
    body: bytes
    """Canonical bytes, exactly as hashed."""
    prev_hash: bytes
    """Previous entry's chain hash."""
    entry_hash: bytes
    """This entry's chain hash."""
    leaf_hash: bytes
    """RFC 9162 leaf hash of ``body``."""


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint the log published."""

    size: int
    """Tree size."""
    root: bytes
    """Root hash."""
    note: str
    """Signed note text."""
    created_at: datetime
    """When it was signed."""


@dataclass(frozen=True)
class StoredKey:
    """A signing key of an organization (private part sealed)."""

    key_id: bytes
    """Signed-note key ID."""
    name: str
    """Key name (the origin)."""
    public_key: bytes
    """Raw Ed25519 public key."""
    sealed_private: bytes | None
    """AES-GCM sealed seed; None when read through the public query."""
    created_at: datetime
    """Generation time."""
    retired_at: datetime | None
    """When it stopped signing."""


def _org(row: asyncpg.Record) -> Organization:
    return Organization(row["id"], row["slug"], row["name"], row["origin"], row["created_at"])


def entry_of_row(row: asyncpg.Record) -> StoredEntry:
    """A ``StoredEntry`` from a row with the columns of ``entry_by_index``."""
    return StoredEntry(
        row["idx"],
        row["kind"],
        row["created_at"],
        row["body"],
        row["prev_hash"],
        row["entry_hash"],
        row["leaf_hash"],
    )


def _checkpoint(row: asyncpg.Record) -> StoredCheckpoint:
    return StoredCheckpoint(row["tree_size"], row["root"], row["note"], row["created_at"])


def _key(row: asyncpg.Record) -> StoredKey:
    return StoredKey(
        row["key_id"],
        row["name"],
        row["public_key"],
        row.get("sealed_private"),
        row["created_at"],
        row["retired_at"],
    )


_encode = msgspec.json.Encoder().encode


def _json(rows: Sequence[Sequence[Any]]) -> str:
    """``rows`` as a JSON array of arrays for ``append_batch_json`` (migration 0030)."""
    return _encode(rows).decode()


def _head_args(head: Head) -> tuple[int, bytes, datetime, list[bytes]]:
    """A head as the last four arguments of ``advance_head`` and ``append_rows``."""
    return head.size, head.head_hash, head.last_time, list(head.frontier)


def _head(row: asyncpg.Record | None, org_id: int) -> Head:
    """The head in ``row`` (a row of ``log_heads``); None means the organization has no log."""
    if row is None:
        raise NotFoundError(f"no log for organization id {org_id}")
    return Head(row["size"], row["head_hash"], row["last_time"], tuple(row["frontier"]))


class Store:
    """Named queries over a pool; methods taking ``conn`` run inside the caller's transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def connection(self, *, settled: bool = False) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection. Failing to get one, for any reason, means the database is
        unavailable (503, retry later); the cause is logged, never sent to clients.

        ``settled``: the caller only runs whole transactions on it (the group commit), so
        when it finishes without an error the pool takes it back without the reset query
        (``ledger.store.database.settled``)."""
        conn = await self.acquire()
        clean = False
        try:
            yield conn
            clean = settled
        except UNAVAILABLE as exc:
            log.warning("database connection failed: %s", exc)
            raise DatabaseUnavailableError(UNAVAILABLE_MESSAGE) from exc
        finally:
            await self.release(conn, settled=clean)

    async def acquire(self) -> asyncpg.Connection:
        """A pooled connection held until ``release`` (``connection`` for a caller that keeps
        one across several uses: a log's group commit while the log is busy)."""
        try:
            return await self.pool.acquire()
        except (*UNAVAILABLE, asyncpg.PostgresError) as exc:
            log.warning("cannot get a database connection: %s", exc)
            raise DatabaseUnavailableError(UNAVAILABLE_MESSAGE) from exc

    async def release(self, conn: asyncpg.Connection, *, settled: bool = False) -> None:
        """Give ``conn`` back to the pool (``settled``: it ran only whole transactions, so the
        reset query is skipped)."""
        if settled:
            mark_settled(conn)
        try:
            await self.pool.release(conn)
        except UNAVAILABLE as exc:
            # The work above already finished (or failed on its own); the pool's reset
            # of a connection the server just closed fails, and asyncpg has already
            # terminated that connection. Nothing to report to the caller.
            log.warning("could not return a database connection to the pool: %s", exc)

    @asynccontextmanager
    async def using(self, conn: asyncpg.Connection | None) -> AsyncIterator[asyncpg.Connection]:
        """The caller's connection if it has one (several reads, one checkout), else a new one."""
        if conn is not None:
            yield conn
        else:
            async with self.connection() as fresh:
                yield fresh

    async def ping(self) -> None:
        async with self.connection() as conn:
            await conn.fetchval("SELECT 1")

    async def log_sizes(self) -> list[tuple[str, int]]:
        """Every log's size (``log_heads.size``) by organization slug, in organization order."""
        async with self.connection() as conn:
            rows = await conn.fetch(Q["log_sizes"])
        return [(r["slug"], r["size"]) for r in rows]

    # --- organizations -----------------------------------------------------------------

    async def create_organization(
        self, conn: asyncpg.Connection, slug: str, name: str, origin: str
    ) -> Organization:
        org = _org(await conn.fetchrow(Q["insert_organization"], slug, name, origin))
        await conn.execute(Q["insert_log_head"], org.id)
        return org

    async def organization(self, slug: str) -> Organization:
        return await self._organization("organization_by_slug", slug, f"slug {slug!r}")

    async def organization_by_id(self, org_id: int) -> Organization:
        return await self._organization("organization_by_id", org_id, f"id {org_id}")

    async def _organization(self, query: str, key: object, named: str) -> Organization:
        async with self.connection() as conn:
            row = await conn.fetchrow(Q[query], key)
        if row is None:
            raise NotFoundError(f"no organization with {named}")
        return _org(row)

    async def organizations(self, after_id: int = 0, limit: int = 1000) -> list[Organization]:
        async with self.connection() as conn:
            rows = await conn.fetch(Q["list_organizations"], after_id, limit)
        return [_org(r) for r in rows]

    # --- the append path (inside the writer's transaction) -------------------------------

    async def lock_head(self, conn: asyncpg.Connection, org_id: int) -> Head:
        return _head(await conn.fetchrow(Q["lock_head"], org_id), org_id)

    async def lock_head_admitting(
        self, conn: asyncpg.Connection, org_id: int, lookups: Sequence[Sequence[str]]
    ) -> tuple[Head, str]:
        """``lock_head``, and in the same round trip ``admit_lookups(org_id, *lookups)`` read
        once the lock is held (its JSON text)."""
        row = await conn.fetchrow(Q["lock_head_admitting"], org_id, *map(list, lookups))
        return _head(row, org_id), row["lookups"]

    async def read_head_admitting(
        self, conn: asyncpg.Connection, org_id: int, lookups: Sequence[Sequence[str]]
    ) -> tuple[Head, str]:
        """The head and ``admit_lookups(org_id, *lookups)`` read after it, without a lock
        (one statement, its own transaction): what ``append_batch_json`` then writes on.
        The five lists of ``lookups`` travel as one JSON text."""
        row = await conn.fetchrow(Q["read_head_admitting"], org_id, _json(lookups))
        return _head(row, org_id), row["lookups"]

    async def append_batch_json(
        self,
        conn: asyncpg.Connection,
        org_id: int,
        old_size: int,
        rows: Sequence[StoredEntry],
        nodes: Sequence[tuple[NodeId, bytes]],
        head: Head,
        projections: Sequence[Sequence[tuple]],
    ) -> str | None:
        """A whole batch in one call (migration 0030): move the head from ``old_size`` to
        ``head`` and insert the entries, the nodes and ``projections`` (the rows of money,
        posting lines, Idempotency-Keys, donor records and gateway settlements, one list of
        tuples each: ``ledger.store.charity.projection_rows``, ``ledger.store.gateways.
        settlement_records``). Each table's rows travel as one JSON array of arrays, encoded
        in C in one call (bytes in base64, datetimes in RFC 3339): the driver encodes one text
        per table, where arrays of records had it ask Python four questions of every row.
        None if the head was not at ``old_size``: nothing was written. Otherwise the JSON text
        of the kept settlements' ``[gateway, payment_id]`` that have a refund kept. Outside a
        transaction the call is its own, committed when this returns."""
        entries = _json(
            [(r.index, r.kind, r.created_at, r.body, r.prev_hash, r.entry_hash, r.leaf_hash)
             for r in rows]
        )  # fmt: skip
        return await conn.fetchval(
            Q["append_batch_json"],
            org_id,
            old_size,
            entries,
            _json([(level, index, h) for (level, index), h in nodes]),
            *_head_args(head),
            *map(_json, projections),
        )

    async def insert_entries(
        self, conn: asyncpg.Connection, org_id: int, rows: Sequence[StoredEntry]
    ) -> None:
        await insert_rows(
            conn,
            "insert_entries",
            org_id,
            [
                (r.index, r.kind, r.created_at, r.body, r.prev_hash, r.entry_hash, r.leaf_hash)
                for r in rows
            ],
        )

    async def insert_nodes(
        self, conn: asyncpg.Connection, org_id: int, nodes: Sequence[tuple[NodeId, bytes]]
    ) -> None:
        await insert_rows(conn, "insert_nodes", org_id, [(n[0][0], n[0][1], n[1]) for n in nodes])

    async def advance_head(
        self, conn: asyncpg.Connection, org_id: int, old_size: int, head: Head
    ) -> bool:
        status = await conn.execute(Q["advance_head"], org_id, old_size, *_head_args(head))
        return status == "UPDATE 1"

    async def append_rows(
        self,
        conn: asyncpg.Connection,
        org_id: int,
        old_size: int,
        rows: Sequence[StoredEntry],
        nodes: Sequence[tuple[NodeId, bytes]],
        head: Head,
    ) -> bool:
        """Insert a batch's entries and Merkle nodes and move the head from ``old_size`` to
        ``head``; False if the head was not at ``old_size``. A small batch is one statement
        (``append_rows``); a large one goes by COPY, then the compare-and-swap."""
        if len(rows) >= COPY_MIN_ROWS:
            await self.insert_entries(conn, org_id, rows)
            await self.insert_nodes(conn, org_id, nodes)
            return await self.advance_head(conn, org_id, old_size, head)
        entry_cols = zip(
            *((r.index, r.kind, r.created_at, r.body, r.prev_hash, r.entry_hash, r.leaf_hash)
              for r in rows),
            strict=True,
        )  # fmt: skip
        node_cols = zip(*((n[0][0], n[0][1], n[1]) for n in nodes), strict=True)
        moved = await conn.fetchval(
            Q["append_rows"],
            org_id,
            old_size,
            *(list(c) for c in entry_cols),
            *(list(c) for c in node_cols) if nodes else ([], [], []),
            *_head_args(head),
        )
        return moved == 1

    # --- reads -------------------------------------------------------------------------

    async def read_head(self, conn: asyncpg.Connection, org_id: int) -> Head:
        return _head(await conn.fetchrow(Q["read_head"], org_id), org_id)

    async def head(self, org_id: int) -> Head:
        async with self.connection() as conn:
            return await self.read_head(conn, org_id)

    async def nodes(
        self, org_id: int, wanted: Iterable[NodeId], conn: asyncpg.Connection | None = None
    ) -> dict[NodeId, bytes]:
        """Fetch the given tree nodes in one query (level 0 from entries)."""
        wanted = list(wanted)
        leaves = [i for level, i in wanted if level == 0]
        inner = [(level, i) for level, i in wanted if level > 0]
        async with self.using(conn) as conn:
            rows = await conn.fetch(
                Q["fetch_nodes"], org_id, leaves, [n[0] for n in inner], [n[1] for n in inner]
            )
        return {(r["level"], r["idx"]): r["hash"] for r in rows}

    async def entry(
        self, org_id: int, index: int, conn: asyncpg.Connection | None = None
    ) -> StoredEntry:
        async with self.using(conn) as conn:
            row = await conn.fetchrow(Q["entry_by_index"], org_id, index)
        if row is None:
            raise NotFoundError(f"no entry {index} in log {org_id}")
        return entry_of_row(row)

    async def entries_at(
        self, org_id: int, indexes: Iterable[int], conn: asyncpg.Connection | None = None
    ) -> dict[int, StoredEntry]:
        """The entries at ``indexes`` (those that exist), by index, in one query."""
        async with self.using(conn) as conn:
            rows = await conn.fetch(Q["entries_at"], org_id, sorted(set(indexes)))
        return {r["idx"]: entry_of_row(r) for r in rows}

    async def entries(self, org_id: int, start: int, end: int) -> list[StoredEntry]:
        async with self.connection() as conn:
            rows = await conn.fetch(Q["entries_range"], org_id, start, end)
        return [entry_of_row(r) for r in rows]

    async def stream_entries(
        self, org_id: int, chunk: int = 10_000
    ) -> AsyncIterator[list[StoredEntry]]:
        """Every entry in index order, in chunks, through a server-side cursor (bounded memory)."""
        async with self.connection() as conn, conn.transaction(readonly=True):
            cursor = await conn.cursor(Q["stream_entries"], org_id)
            while rows := await cursor.fetch(chunk):
                yield [entry_of_row(r) for r in rows]

    # --- checkpoints -------------------------------------------------------------------

    async def insert_checkpoint(
        self,
        org_id: int,
        size: int,
        root: bytes,
        note: str,
        conn: asyncpg.Connection | None = None,
    ) -> None:
        async with self.using(conn) as c:
            await c.execute(Q["insert_checkpoint"], org_id, size, root, note)

    async def latest_checkpoint(self, org_id: int) -> StoredCheckpoint | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(Q["latest_checkpoint"], org_id)
        return _checkpoint(row) if row else None

    async def checkpoint_at(self, org_id: int, size: int) -> StoredCheckpoint:
        async with self.connection() as conn:
            row = await conn.fetchrow(Q["checkpoint_at"], org_id, size)
        if row is None:
            raise NotFoundError(f"log {org_id} has no checkpoint at size {size}")
        return _checkpoint(row)

    async def checkpoint_covering(
        self, org_id: int, size: int, conn: asyncpg.Connection | None = None
    ) -> StoredCheckpoint | None:
        async with self.using(conn) as conn:
            row = await conn.fetchrow(Q["checkpoint_covering"], org_id, size)
        return _checkpoint(row) if row else None

    async def checkpoints(self, org_id: int) -> list[StoredCheckpoint]:
        async with self.connection() as conn:
            rows = await conn.fetch(Q["list_checkpoints"], org_id)
        return [_checkpoint(r) for r in rows]

    async def stream_checkpoints(
        self, org_id: int, page: int = 1000
    ) -> AsyncIterator[StoredCheckpoint]:
        """Every checkpoint in size order, a page at a time (bounded memory)."""
        after = -1
        while True:
            async with self.connection() as conn:
                rows = await conn.fetch(Q["checkpoints_after"], org_id, after, page)
            for row in rows:
                yield _checkpoint(row)
            if len(rows) < page:
                return
            after = rows[-1]["tree_size"]

    # --- signing keys ------------------------------------------------------------------

    async def insert_signing_key(
        self, conn: asyncpg.Connection, org_id: int, key: StoredKey
    ) -> None:
        await conn.execute(
            Q["insert_signing_key"],
            org_id,
            key.key_id,
            key.name,
            key.public_key,
            key.sealed_private,
        )

    async def signing_keys(self, org_id: int) -> list[StoredKey]:
        async with self.connection() as conn:
            rows = await conn.fetch(Q["signing_keys"], org_id)
        return [_key(r) for r in rows]

    async def public_keys(self, org_id: int) -> list[StoredKey]:
        async with self.connection() as conn:
            rows = await conn.fetch(Q["public_keys"], org_id)
        return [_key(r) for r in rows]

    async def retire_signing_key(
        self, conn: asyncpg.Connection, org_id: int, key_id: bytes
    ) -> bool:
        return await conn.execute(Q["retire_signing_key"], org_id, key_id) == "UPDATE 1"


# --- the publisher's lock ----------------------------------------------------------------


async def try_publisher_lock(conn: asyncpg.Connection) -> bool:
    """Take the publisher's session-level advisory lock on ``conn`` if no other session holds
    it; True when taken (one worker process at a time signs checkpoints)."""
    return await conn.fetchval(Q["try_publisher_lock"])


async def publisher_unlock(conn: asyncpg.Connection) -> None:
    """Release the publisher's advisory lock held by ``conn``'s session."""
    await conn.fetchval(Q["publisher_unlock"])
