"""The log side of witnessing in the database: each organization's witnesses and the
cosignature lines they returned (the named queries of ``sql/witnessing_queries.sql``)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from ledger.store.log import load_queries

WQ = load_queries("witnessing_queries.sql")


@dataclass(frozen=True)
class LogWitness:
    """A witness the organization submits its checkpoints to (``log_witnesses``)."""

    name: str
    """The witness's key name, as in its cosignature lines."""
    url: str
    """Base URL of its c2sp.org/tlog-witness endpoint, without a trailing slash."""
    vkey: str
    """Its verifier key (note vkey format, type 0x04)."""


async def add_witness(
    conn: asyncpg.Connection, org_id: int, name: str, url: str, vkey: str
) -> None:
    """Record a witness of the organization; an existing one of that name stays as it is."""
    await conn.execute(WQ["add_witness"], org_id, name, url, vkey)


async def witnesses_of(conn: asyncpg.Connection, org_id: int) -> list[LogWitness]:
    """The organization's witnesses, by name."""
    rows = await conn.fetch(WQ["witnesses_of"], org_id)
    return [LogWitness(r["name"], r["url"], r["vkey"]) for r in rows]


async def last_cosigned(conn: asyncpg.Connection, org_id: int) -> dict[str, int]:
    """The largest tree size each witness has cosigned, by witness name."""
    return {r["witness"]: r["size"] for r in await conn.fetch(WQ["last_cosigned"], org_id)}


async def add_cosignature(
    conn: asyncpg.Connection, org_id: int, size: int, witness: str, line: str
) -> None:
    """Keep a verified cosignature line of the checkpoint of ``size`` (once per witness)."""
    await conn.execute(WQ["add_cosignature"], org_id, size, witness, line)


async def cosignature_lines(conn: asyncpg.Connection, org_id: int, size: int) -> str:
    """Every kept cosignature line of the checkpoint of ``size``, by witness name, joined
    (each ends with a newline); empty when none."""
    return await conn.fetchval(WQ["cosignature_lines"], org_id, size) or ""
