"""Bank statement imports (migration 0019; named queries in ``sql/ingest_queries.sql``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from ledger.store.gateways import Q


@dataclass(frozen=True)
class ImportRow:
    """A file imported before (``bank_imports``)."""

    layout: str
    """The layout it was read with."""
    fund: str
    """The fund its credits went to."""
    lines: int
    """Transaction lines read."""
    recorded: int
    """Donations appended."""
    already_recorded: int
    """Credits skipped: their reference was recorded already."""
    first_index: int | None
    """First donation appended."""
    last_index: int | None
    """Last donation appended."""


@dataclass(frozen=True)
class ImportListed:
    """A file imported before, and when."""

    row: ImportRow
    """What it recorded."""
    imported_at: dt.datetime
    """When its import committed."""


async def recent_imports(conn: asyncpg.Connection, org_id: int, limit: int) -> list[ImportListed]:
    """The newest imported files, newest first."""
    rows = await conn.fetch(Q["recent_bank_imports"], org_id, limit)
    return [ImportListed(ImportRow(*list(r.values())[:7]), r["imported_at"]) for r in rows]


async def recorded_references(
    conn: asyncpg.Connection, org_id: int, references: Sequence[str]
) -> set[str]:
    """Which of ``references`` an unreversed donation holds."""
    rows = await conn.fetch(Q["recorded_references"], org_id, list(references))
    return {r["reference"] for r in rows}


async def lock_import(conn: asyncpg.Connection, org_id: int, sha256: bytes) -> None:
    """Hold the file's advisory lock until the caller's transaction ends."""
    await conn.execute(Q["lock_bank_import"], org_id, sha256)


async def bank_import(conn: asyncpg.Connection, org_id: int, sha256: bytes) -> ImportRow | None:
    r = await conn.fetchrow(Q["bank_import"], org_id, sha256)
    return None if r is None else ImportRow(*r.values())


async def insert_bank_import(
    conn: asyncpg.Connection, org_id: int, sha256: bytes, row: ImportRow
) -> None:
    await conn.execute(
        Q["insert_bank_import"],
        org_id,
        sha256,
        row.layout,
        row.fund,
        row.lines,
        row.recorded,
        row.already_recorded,
        row.first_index,
        row.last_index,
    )


async def save_layout(conn: asyncpg.Connection, org_id: int, name: str, layout: str) -> None:
    """Create or replace the organization's custom layout ``name`` (BankLayout JSON)."""
    await conn.execute(Q["save_bank_layout"], org_id, name, layout)


async def layout(conn: asyncpg.Connection, org_id: int, name: str) -> str | None:
    """The custom layout ``name`` as JSON, or None."""
    return await conn.fetchval(Q["bank_layout"], org_id, name)


async def layouts(conn: asyncpg.Connection, org_id: int) -> list[tuple[str, str]]:
    """Every custom layout of the organization: (name, JSON)."""
    return [(r["name"], r["layout"]) for r in await conn.fetch(Q["bank_layouts"], org_id)]
