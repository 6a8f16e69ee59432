"""Schema migrations: ordered SQL files in ``sql/migrations``, applied in one transaction.

Each file is named ``NNNN_description.sql``. ``migrate`` takes a transaction-scoped
advisory lock (so concurrent migrators queue instead of racing), applies every missing file
in order, and records each in ``schema_migrations`` with the SHA-256 of its text. Either
every pending file is applied or none is. ``check`` is what ``ledger serve`` calls: it
refuses an unmigrated, partly migrated, edited or newer schema with a message naming the fix.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from ledger.errors import SchemaVersionError
from ledger.store.sqlscript import split_statements

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
LOCK_KEY = 0x1ED6E5  # advisory lock id for migrations ("ledger")


@dataclass(frozen=True)
class MigrationSet:
    """An independently versioned schema: the ledger's, or a witness's."""

    directory: Path
    """Where its NNNN_*.sql files are."""
    table: str
    """Its version table."""
    lock_key: int
    """Advisory lock taken while migrating it."""


LEDGER = MigrationSet(MIGRATIONS_DIR, "schema_migrations", LOCK_KEY)
WITNESS = MigrationSet(SQL_DIR / "witness", "witness_schema_migrations", LOCK_KEY + 1)

_CREATE_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS {table} (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    sha256      text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {table} IS 'Which migration files were applied (compatibility version of the schema).';
COMMENT ON COLUMN {table}.version IS 'Number of the migration file (NNNN).';
COMMENT ON COLUMN {table}.name IS 'File name of the migration.';
COMMENT ON COLUMN {table}.sha256 IS 'SHA-256 of the file text as applied; an edited file is refused.';
COMMENT ON COLUMN {table}.applied_at IS 'When it was applied.';
GRANT SELECT ON {table} TO ledger_writer, ledger_reader;
"""


# On a Citus coordinator (README "Scaling out on Citus"), DDL on distributed tables and
# functions in one transaction needs one connection per node; elsewhere this returns no row.
_CITUS_SEQUENTIAL = """
SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true)
FROM pg_extension WHERE extname = 'citus'
"""


@dataclass(frozen=True)
class Migration:
    """One SQL file of ``sql/migrations``."""

    version: int
    """The NNNN prefix of the file name."""
    name: str
    """The file name."""
    sql: str
    """The file's text."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available(mset: MigrationSet = LEDGER) -> list[Migration]:
    found = []
    for path in sorted(mset.directory.glob("*.sql")):
        version = int(path.name.split("_", 1)[0])
        found.append(Migration(version, path.name, path.read_text()))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise SchemaVersionError(f"expected migrations numbered 1..{len(found)}, found {versions}")
    return found


async def _applied(conn: asyncpg.Connection, mset: MigrationSet) -> dict[int, str]:
    exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", mset.table)
    if not exists:
        return {}
    rows = await conn.fetch(f"SELECT version, sha256 FROM {mset.table} ORDER BY version")
    return {r["version"]: r["sha256"] for r in rows}


def _compare(applied: dict[int, str], known: list[Migration]) -> list[Migration]:
    """The migrations still to apply; raises if the database is edited or newer."""
    newest_known = known[-1].version if known else 0
    if applied and max(applied) > newest_known:
        raise SchemaVersionError(
            f"database schema is at version {max(applied)}, newer than this program "
            f"(knows up to {newest_known}): upgrade the program before serving"
        )
    for version, digest in applied.items():
        migration = known[version - 1]
        if migration.sha256 != digest:
            raise SchemaVersionError(
                f"migration {migration.name} was edited after it was applied "
                f"(expected sha256 {digest[:12]}…, file has {migration.sha256[:12]}…): "
                "restore the original file and add a new migration instead"
            )
    return [m for m in known if m.version not in applied]


async def migrate(conn: asyncpg.Connection, mset: MigrationSet = LEDGER) -> list[str]:
    """Apply every pending migration in one transaction; return the names applied."""
    known = available(mset)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", mset.lock_key)
        citus = await conn.fetchval(_CITUS_SEQUENTIAL) is not None
        await conn.execute((SQL_DIR / "roles.sql").read_text())
        await conn.execute(_CREATE_VERSION_TABLE.format(table=mset.table))
        pending = _compare(await _applied(conn, mset), known)
        for migration in pending:
            # Citus sends a CREATE INDEX to its workers as the client's whole query string:
            # there, one statement at a time (ledger.store.sqlscript).
            for statement in split_statements(migration.sql) if citus else [migration.sql]:
                await conn.execute(statement)
            await conn.execute(
                f"INSERT INTO {mset.table} (version, name, sha256) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.sha256,
            )
        # Commit point: every pending migration and its version row become visible together;
        # a failure before here leaves the schema exactly as it was.
    return [m.name for m in pending]


async def check(conn: asyncpg.Connection, mset: MigrationSet = LEDGER) -> int:
    """Refuse to run against a schema that is not exactly this program's; return its version."""
    known = available(mset)
    pending = _compare(await _applied(conn, mset), known)
    if pending:
        raise SchemaVersionError(
            f"database schema is missing {len(pending)} migration(s) "
            f"({', '.join(m.name for m in pending)}): run `ledger {'witness ' if mset is WITNESS else ''}migrate` first"
        )
    return known[-1].version if known else 0
