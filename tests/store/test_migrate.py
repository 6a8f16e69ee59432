"""Migrations: one transaction under an advisory lock; serve refuses a wrong schema."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from ledger.errors import SchemaVersionError
from ledger.http.app import create_app
from ledger.settings import Settings
from ledger.store.migrate import available, check, migrate


async def test_unmigrated_database_is_refused_with_the_fix(empty_db_url):
    conn = await asyncpg.connect(empty_db_url)
    try:
        with pytest.raises(SchemaVersionError, match="run `ledger migrate`"):
            await check(conn)
    finally:
        await conn.close()


async def test_migrate_applies_everything_once(empty_db_url):
    conn = await asyncpg.connect(empty_db_url)
    try:
        applied = await migrate(conn)
        assert applied == [m.name for m in available()]
        assert await migrate(conn) == []
        assert await check(conn) == len(available())
        rows = await conn.fetch("SELECT version, sha256 FROM schema_migrations ORDER BY version")
        assert [r["sha256"] for r in rows] == [m.sha256 for m in available()]
    finally:
        await conn.close()


async def test_concurrent_migrations_queue_on_the_advisory_lock(empty_db_url):
    conns = [await asyncpg.connect(empty_db_url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        assert sorted(len(r) for r in results) == [0, 0, len(available())]
    finally:
        for c in conns:
            await c.close()


async def test_newer_and_edited_schemas_are_refused(db_url):
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("UPDATE schema_migrations SET sha256 = 'x' WHERE version = 1")
        with pytest.raises(SchemaVersionError, match="was edited"):
            await check(conn)
        await conn.execute(
            "INSERT INTO schema_migrations (version, name, sha256) VALUES (99, '0099_x.sql', 'y')"
        )
        with pytest.raises(SchemaVersionError, match="newer than this program"):
            await check(conn)
    finally:
        await conn.close()


async def test_failed_migration_leaves_nothing_behind(empty_db_url, monkeypatch, tmp_path):
    from ledger.store import migrate as module

    good = available()
    broken = [*good, module.Migration(len(good) + 1, "9999_broken.sql", "CREATE TABLE x (;")]
    monkeypatch.setattr(module, "available", lambda *_: broken)
    conn = await asyncpg.connect(empty_db_url)
    try:
        with pytest.raises(asyncpg.PostgresSyntaxError):
            await migrate(conn)
        assert await conn.fetchval("SELECT to_regclass('entries')") is None
        assert await conn.fetchval("SELECT to_regclass('schema_migrations')") is None
    finally:
        await conn.close()


async def test_app_refuses_to_start_on_an_unmigrated_schema(empty_db_url, tmp_path):
    settings = Settings(database_url=empty_db_url, data_dir=tmp_path, checkpoint_interval=0)
    with pytest.raises(ExceptionGroup) as info:
        async with AsyncTestClient(create_app(settings)):
            pass
    assert info.group_contains(SchemaVersionError, match="run `ledger migrate`")
