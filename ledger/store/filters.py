"""Entry filters: which entries match ``?kind=&fund=&from=&to=&reference=``, in log order
(named queries in ``sql/filter_queries.sql``; the indexes are listed there and in migration
0019). The most selective filter given drives the query: reference, kind, fund, then value
dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
            org_id, cursor, limit, self.kind, account, self.value_from, self.value_to,
            self.reference,
        )


async def matching(
    conn: asyncpg.Connection, org_id: int, where: EntryFilter, cursor: int, limit: int
) -> list[StoredEntry]:
    """The first ``limit`` entries from index ``cursor`` on that match ``where``."""
    name = where.driver()
    assert name is not None, "no filter given"
    rows = await conn.fetch(Q[name], *where.args(org_id, cursor, limit))
    found = await conn.fetch(Q["entries_at"], org_id, [r["idx"] for r in rows])
    return [entry_of_row(r) for r in found]


async def plan(conn: asyncpg.Connection, org_id: int, where: EntryFilter) -> str:
    """EXPLAIN of the query ``matching`` runs (for tests and operators)."""
    name = where.driver()
    assert name is not None, "no filter given"
    rows = await conn.fetch("EXPLAIN " + Q[name], *where.args(org_id, 0, 101))
    return "\n".join(r[0] for r in rows)
