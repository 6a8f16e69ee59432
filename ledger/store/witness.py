"""The witness's own database (``sql/witness_queries.sql``): its key, the logs it follows
with their verifier keys, each log's latest verified size and root, what it cosigned and
what it refused. Transactions are opened by ``ledger.witness.service``."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from ledger.store.log import load_queries

WQ = load_queries("witness_queries.sql")


@dataclass(frozen=True)
class WitnessKey:
    """The witness's cosigning key (``witness_keys``)."""

    name: str
    """Key name, as in its cosignature lines."""
    public_key: bytes
    """Ed25519 public key."""
    sealed_seed: bytes
    """Its private seed, sealed under the KEK."""


@dataclass(frozen=True)
class WitnessState:
    """The latest checkpoint the witness verified for a log (``witness_state``)."""

    size: int
    """Tree size (0 before the first checkpoint)."""
    root: bytes | None
    """Root hash at that size (None before the first checkpoint)."""


@dataclass(frozen=True)
class CosignedCheckpoint:
    """The largest checkpoint the witness cosigned for a log (``witness_cosigned``)."""

    origin: str
    """The log's origin line."""
    checkpoint: str
    """The checkpoint note as submitted (the log's own signatures)."""
    timestamp: int
    """The cosignature's timestamp, seconds since the epoch."""


def _key(row: asyncpg.Record | None) -> WitnessKey | None:
    return None if row is None else WitnessKey(row["name"], row["public_key"], row["sealed_seed"])


async def witness_key(conn: asyncpg.Connection, name: str) -> WitnessKey | None:
    """The witness key of this name, or None."""
    return _key(await conn.fetchrow(WQ["witness_key"], name))


async def any_witness_key(conn: asyncpg.Connection) -> WitnessKey | None:
    """The first witness key created, or None before ``ledger witness init``."""
    return _key(await conn.fetchrow(WQ["any_witness_key"]))


async def insert_witness_key(
    conn: asyncpg.Connection, name: str, public_key: bytes, sealed_seed: bytes
) -> None:
    await conn.execute(WQ["insert_witness_key"], name, public_key, sealed_seed)


async def add_log(conn: asyncpg.Connection, origin: str, vkeys: list[str]) -> None:
    """Follow a log with these verifier keys (re-adding replaces the keys), and give it a
    state of size 0 if it has none."""
    await conn.execute(WQ["add_log"], origin, vkeys)
    await conn.execute(WQ["add_state"], origin)


async def log_keys(conn: asyncpg.Connection, origin: str) -> list[str] | None:
    """The verifier keys of a followed log, or None when the witness does not follow it."""
    row = await conn.fetchrow(WQ["log_keys"], origin)
    return None if row is None else list(row["vkeys"])


async def lock_state(conn: asyncpg.Connection, origin: str) -> WitnessState:
    """The log's state, locked (``FOR UPDATE``) until the caller's transaction ends: the
    compare-and-swap that lets one submission per log at a time see and move it."""
    row = await conn.fetchrow(WQ["lock_state"], origin)
    return WitnessState(row["size"], row["root"])


async def advance_state(
    conn: asyncpg.Connection, origin: str, size: int, root: bytes, note: str, timestamp: int
) -> None:
    """Move the log's state to ``size``/``root`` and keep the cosigned checkpoint ``note``
    with the cosignature's ``timestamp``."""
    await conn.execute(WQ["advance_state"], origin, size, root)
    await conn.execute(WQ["record_cosigned"], origin, size, root, note, timestamp)


async def latest_cosigned(conn: asyncpg.Connection, origin_hash: str) -> CosignedCheckpoint | None:
    """The largest checkpoint cosigned for the log whose origin has this SHA-256 (lowercase
    hex), or None."""
    row = await conn.fetchrow(WQ["latest_cosigned"], origin_hash)
    if row is None:
        return None
    return CosignedCheckpoint(row["origin"], row["checkpoint"], row["timestamp"])


async def record_refusal(
    conn: asyncpg.Connection, origin: str, status: int, reason: str, request: str
) -> None:
    """Keep the evidence of a refused submission (other than 409)."""
    await conn.execute(WQ["record_refusal"], origin, status, reason, request)
