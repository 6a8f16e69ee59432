"""Where the database comes from: ``DATABASE_URL`` or an embedded PostgreSQL (pgserver).

The embedded server lives in ``<data_dir>/pg`` and is started and stopped by the command
that needs it; several processes may share it (pgserver reference-counts its users).
Connections for the service run as the ``ledger_writer`` role, set as a startup parameter so
that it survives the pool's ``RESET ALL``; that role has no UPDATE, DELETE or TRUNCATE on
the log tables.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from ledger.errors import DatabaseUnavailableError
from ledger.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "ledger"
WRITER_ROLE = "ledger_writer"
READER_ROLE = "ledger_reader"


def start_embedded(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL in ``data_dir/pg``; return its admin URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(data_dir / "pg", cleanup_mode="stop")
    return server.get_uri()


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at database ``name``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def ensure_database(admin_url: str, name: str) -> None:
    """Create database ``name`` if it does not exist (embedded mode only)."""
    conn = await connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def resolve_url(settings: Settings) -> str:
    """The URL of the ledger's database, starting the embedded server if none is configured."""
    if settings.database_url:
        return settings.database_url
    admin = start_embedded(settings.data_dir)
    await ensure_database(admin, EMBEDDED_DATABASE)
    return with_database(admin, EMBEDDED_DATABASE)


async def connect(url: str, role: str | None = None) -> asyncpg.Connection:
    """One connection, optionally running as ``role``; unreachable servers raise our error."""
    settings = {"role": role} if role else None
    try:
        return await asyncpg.connect(url, server_settings=settings)
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError) as exc:
        raise DatabaseUnavailableError(f"cannot reach PostgreSQL: {exc}") from exc


async def create_pool(url: str, *, role: str | None = WRITER_ROLE, size: int = 20) -> asyncpg.Pool:
    settings = {"role": role} if role else None
    try:
        return await asyncpg.create_pool(url, min_size=1, max_size=size, server_settings=settings)
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError) as exc:
        raise DatabaseUnavailableError(f"cannot reach PostgreSQL: {exc}") from exc
