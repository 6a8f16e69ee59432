"""ledger.store.sqlscript: a migration cut into statements, as ``ledger migrate`` sends it to
a Citus coordinator, means exactly what the whole file means."""

from __future__ import annotations

import asyncpg

from ledger.store.migrate import SQL_DIR, available
from ledger.store.sqlscript import split_statements

TRICKY = """-- a comment; with a semicolon and an apostrophe: it's
CREATE TABLE t (a text DEFAULT ';', "b;c" text DEFAULT 'it''s; here');
/* a block; /* nested; */ still a comment; */
COMMENT ON TABLE t IS E'line\\'; still the string\\n';
CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $$
BEGIN RETURN format($q$;%s;$q$, 'x;'); END $$;
SELECT $1 FROM t WHERE a$b = 1;
-- a trailing comment only
"""


def test_split_keeps_semicolons_inside_comments_strings_identifiers_and_dollar_quotes():
    got = split_statements(TRICKY)
    assert [s.splitlines()[-1].split()[0] if s else s for s in got] == [
        "CREATE",
        "COMMENT",
        "BEGIN",
        "SELECT",
    ]
    assert got[0].startswith("-- a comment") and got[0].endswith("'it''s; here');")
    assert got[1].startswith("/* a block") and got[1].endswith("still the string\\n';")
    assert got[2].endswith("END $$;") and "$q$;%s;$q$" in got[2]
    assert got[3] == "SELECT $1 FROM t WHERE a$b = 1;"


def _catalog(conn: asyncpg.Connection):  # type: ignore[no-untyped-def]
    return conn.fetch(
        """
        SELECT 'rel' AS k, c.relname || ':' || c.relkind::text AS v FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
        UNION ALL SELECT 'con', conname || ':' || pg_get_constraintdef(oid) FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace
        UNION ALL SELECT 'fn', p.oid::regprocedure::text || ':' || md5(prosrc) FROM pg_proc p
        WHERE pronamespace = 'public'::regnamespace
        UNION ALL SELECT 'trg', tgname || ':' || tgrelid::regclass::text FROM pg_trigger
        WHERE NOT tgisinternal
        UNION ALL SELECT 'acl', relname || ':' || coalesce(relacl::text, '') FROM pg_class
        WHERE relnamespace = 'public'::regnamespace
        ORDER BY 1, 2
        """
    )


async def test_every_migration_statement_by_statement_builds_the_same_schema(  # type: ignore[no-untyped-def]
    owner, empty_db_url
):
    conn = await asyncpg.connect(empty_db_url)
    try:
        async with conn.transaction():
            await conn.execute((SQL_DIR / "roles.sql").read_text())
            for migration in available():
                for statement in split_statements(migration.sql):
                    await conn.execute(statement)
        split = await _catalog(conn)
    finally:
        await conn.close()
    whole = [r for r in await _catalog(owner) if not r["v"].startswith("schema_migrations")]
    assert [tuple(r) for r in split] == [tuple(r) for r in whole]
