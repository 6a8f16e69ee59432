"""The package layout keeps its rules (the target layout of the design notes): the import contracts in
pyproject.toml ``[tool.importlinter]``, checked by import-linter on every test run."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_import_contracts_are_kept() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(linter), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout and "6 kept" in done.stdout, done.stdout[-1500:]


# --- SQL is executed only in ledger/store/ ---------------------------------------------------

LEDGER = REPO / "ledger"
STORE = LEDGER / "store"

SQL_CALLS = frozenset(
    {
        "fetch",
        "fetchrow",
        "fetchval",
        "execute",
        "executemany",
        "copy_records_to_table",
        "copy_to_table",
        "copy_from_table",
        "copy_from_query",
        "cursor",
    }
)
"""Methods that run SQL on an asyncpg connection, pool or cursor: called on anything outside
``ledger/store/``, they fail the test (a same-named method of something else would too;
rename it)."""

NAMED_QUERIES = frozenset({"Q", "WQ"})
"""The dicts of named queries (``sql/*.sql`` loaded by ``ledger.store.log.load_queries``)."""

SQL_ALLOWED: frozenset[str] = frozenset()
"""Modules outside ledger/store/ allowed to run SQL: none."""


def sql_outside_store(source: str) -> list[tuple[int, str]]:
    """(line, what) for each SQL call or named-query lookup in one module's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
        ):
            found.append((node.lineno, f".{node.func.attr}(...)"))
        elif isinstance(node, ast.Subscript):
            target = node.value
            name = (
                target.id
                if isinstance(target, ast.Name)
                else target.attr
                if isinstance(target, ast.Attribute)
                else None
            )
            if name in NAMED_QUERIES:
                found.append((node.lineno, f"{name}[...]"))
    return sorted(found)


def test_the_scan_finds_sql() -> None:
    source = (
        "async def f(conn, store):\n"
        "    await conn.fetchval(Q['max_index'], 1)\n"
        "    async with store.pool.acquire() as c:\n"
        "        await c.copy_records_to_table('t', records=[])\n"
        "    return log.WQ['add_log']\n"
    )
    assert sql_outside_store(source) == [
        (2, ".fetchval(...)"),
        (2, "Q[...]"),
        (4, ".copy_records_to_table(...)"),
        (5, "WQ[...]"),
    ]


def test_sql_is_executed_only_in_store() -> None:
    offenders, clean = [], []
    for path in sorted(LEDGER.rglob("*.py")):
        if path.is_relative_to(STORE):
            continue
        name = path.relative_to(REPO).as_posix()
        found = sql_outside_store(path.read_text())
        if name in SQL_ALLOWED:
            if not found:
                clean.append(name)
            continue
        offenders += [f"{name}:{line}: {what}" for line, what in found]
    assert not offenders, "SQL executed outside ledger/store/:\n" + "\n".join(offenders)
    assert not clean, f"no SQL left in {clean}: remove them from SQL_ALLOWED"
