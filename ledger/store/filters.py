"""Entry filters: which entries match ``?kind=&fund=&from=&to=&reference=``, in log order
(named queries in ``sql/filter_queries.sql``; the indexes are listed there and in migration
0019). The most selective filter given drives the query: reference, kind, fund, then value
dates."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from ledger.store.log import StoredEntry, entry_of_row, load_queries

Q = load_queries("filter_queries.sql")


@dataclass(frozen=True)
class EntryFilter:
    """What to match (None: any)."""

    kind: str | None = None
    """Entry kind."""
    fund: str | None = None
    """A fund the entry moves money in (its posting lines)."""
    value_from: dt.date | None = None
    """Value date on or after (money entries only)."""
    value_to: dt.date | None = None
    """Value date before (money entries only)."""
    reference: str | None = None
    """The money entry's external reference."""

    def driver(self) -> str | None:
        """The named query to run, or None when nothing is filtered."""
        if self.reference is not None:
            return "filter_by_reference"
        if self.kind is not None:
            return "filter_by_kind"
        if self.fund is not None:
            return "filter_by_fund"
        if self.value_from is not None or self.value_to is not None:
            return "filter_by_value_date"
        return None

    def args(self, org_id: int, cursor: int, limit: int) -> tuple:
        account = f"fund:{self.fund}" if self.fund is not None else None
        return (
            org_id,
            cursor,
            limit,
            self.kind,
            account,
            self.value_from,
            self.value_to,
            self.reference,
        )


async def matching(
    conn: asyncpg.Connection, org_id: int, where: EntryFilter, cursor: int, limit: int
) -> list[StoredEntry]:
    """The first ``limit`` entries from index ``cursor`` on that match ``where``.

    The filter query is planned for its values every time (``force_custom_plan``, for this
    transaction only): a prepared statement's generic plan cannot drop the filters that are
    NULL nor see how wide a date range is, and on a 1 M-entry log it read ``?from=`` through
    the value-date index in date order and sorted (about 0.5 s against 0.4 ms,
    ``bench/entry_filters.py``)."""
    name = where.driver()
    assert name is not None, "no filter given"
    async with conn.transaction():
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        rows = await conn.fetch(Q[name], *where.args(org_id, cursor, limit))
    found = await conn.fetch(Q["entries_at"], org_id, [r["idx"] for r in rows])
    return [entry_of_row(r) for r in found]


async def plan(conn: asyncpg.Connection, org_id: int, where: EntryFilter) -> str:
    """EXPLAIN of the query ``matching`` runs (for tests and operators)."""
    name = where.driver()
    assert name is not None, "no filter given"
    rows = await conn.fetch("EXPLAIN " + Q[name], *where.args(org_id, 0, 101))
    return "\n".join(r[0] for r in rows)


PARAMETER_TYPES = ("bigint", "bigint", "bigint", "text", "text", "date", "date", "text")
"""The SQL types of the filter queries' eight parameters (``sql/filter_queries.sql``)."""


def _literal(value: object, sql_type: str) -> str:
    """``value`` as an SQL literal of ``sql_type`` (EXECUTE takes no bind parameters)."""
    if value is None:
        return f"NULL::{sql_type}"
    if isinstance(value, list):
        return f"ARRAY[{', '.join(str(int(v)) for v in value)}]::{sql_type}"
    if isinstance(value, int):
        return f"{int(value)}::{sql_type}"
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return "'" + text.replace("'", "''") + f"'::{sql_type}"


async def explain(
    conn: asyncpg.Connection,
    org_id: int,
    where: EntryFilter,
    cursor: int = 0,
    limit: int = 101,
    *,
    generic: bool = False,
) -> list[tuple[str, dict[str, Any]]]:
    """``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` of the two queries ``matching`` runs (the
    filter's driver, then ``entries_at`` with the indexes it found), as (query name, plan).

    ``generic``: the plan PostgreSQL would cache for a prepared statement after five
    executions when it estimates it no worse (``plan_cache_mode = force_generic_plan``:
    planned without the parameters' values); otherwise the plan for these values, which
    ``matching`` always asks for. Runs in its own transaction (the queries only read) and
    leaves no prepared statement behind."""
    name = where.driver()
    assert name is not None, "no filter given"
    args = where.args(org_id, cursor, limit)
    rows = await conn.fetch(Q[name], *args)
    found = (org_id, [r["idx"] for r in rows])
    mode = "force_generic_plan" if generic else "force_custom_plan"
    plans = []
    async with conn.transaction():
        await conn.execute(f"SET LOCAL plan_cache_mode = {mode}")
        for query, values, types in (
            (name, args, PARAMETER_TYPES),
            ("entries_at", found, ("bigint", "bigint[]")),
        ):
            await conn.execute(f"PREPARE ledger_filter_plan ({', '.join(types)}) AS {Q[query]}")
            try:
                literals = ", ".join(_literal(v, t) for v, t in zip(values, types, strict=True))
                text = await conn.fetchval(
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
                    f"EXECUTE ledger_filter_plan ({literals})"
                )
            finally:
                await conn.execute("DEALLOCATE ledger_filter_plan")
            plans.append((query, json.loads(text)[0]))
    return plans
