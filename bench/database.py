"""The PostgreSQL a benchmark runs on: the server given, or an embedded one, and a fresh
migrated database on it that is dropped afterwards."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg

WARM_WAL_ROWS = 250_000
"""Rows of ~1 kB written (and dropped) to give a new embedded server ~270 MB of recycled WAL."""


@contextlib.contextmanager
def postgres(admin_url: str | None, prefix: str) -> Iterator[str]:
    """``admin_url`` if given, else an embedded PostgreSQL (pgserver) in a new temporary
    directory named after ``prefix``, stopped and removed afterwards; yields an admin URL.

    A new embedded server's WAL is first brought to the state of a server that has been
    running (``LEDGER_BENCH_FRESH_WAL=1`` skips it): a brand-new cluster has no recycled WAL
    segments, so every 16 MB of WAL PostgreSQL creates and zero-fills a new segment file
    while commits wait (~45 ms here, once every 2 s at 2,500 notifications/s: the whole
    p99 of ``bench.gateway_load``), which a running server does only until its first
    checkpoints recycle old segments."""
    if admin_url:
        yield admin_url
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        home = Path(tempfile.mkdtemp(prefix=prefix))
        server = pgserver.get_server(home, cleanup_mode="delete")
    try:
        if os.environ.get("LEDGER_BENCH_FRESH_WAL") != "1":
            recycle_wal(server)
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(home, ignore_errors=True)


def recycle_wal(server: object) -> None:
    """Write ~270 MB of WAL and checkpoint, leaving that many recycled segments ahead of the
    insert position (``pg_ls_waldir()``): the next segments are renamed, not created."""
    server.psql(  # type: ignore[attr-defined]
        "CREATE TABLE bench_wal_warmup (filler text); "
        "INSERT INTO bench_wal_warmup SELECT repeat('x', 1000) "
        f"FROM generate_series(1, {WARM_WAL_ROWS}); "
        "DROP TABLE bench_wal_warmup; CHECKPOINT;"
    )


@contextlib.asynccontextmanager
async def migrated_database(admin_url: str, prefix: str) -> AsyncIterator[str]:
    """A new database named ``prefix`` + a random suffix, migrated, dropped afterwards;
    yields its (owner) URL."""
    from ledger.store.database import with_database
    from ledger.store.migrate import migrate

    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = with_database(admin_url, name)
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        yield url
    finally:
        with contextlib.suppress(Exception):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def shared_database(url: str) -> AsyncIterator[str]:
    """The database ``url`` names, migrated if it is behind, kept afterwards; yields ``url``.

    For a Citus coordinator (README "Scaling out"): a database created here would have
    neither the extension nor the workers, so the benchmarks run in the distributed one,
    isolated by the new organizations they create."""
    from ledger.store.migrate import migrate

    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield url
