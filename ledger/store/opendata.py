"""Open data in the database: one fund's money entries over a period of value dates, cut at
a signed checkpoint (named queries in ``sql/opendata_queries.sql``). Every query reads only
entries below the checkpoint's tree size, so what it answers for one checkpoint never
changes. Transactions are opened by ``ledger.charity.opendata``, which passes its connection
in."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import asyncpg

from ledger.store.log import load_queries

Q = load_queries("opendata_queries.sql")


@dataclass(frozen=True)
class FundEntryRow:
    """A money entry with a posting line on one fund's account."""

    index: int
    """Log index."""
    kind: str
    """Entry kind (donation, disbursement, transfer, fee, correction)."""
    created_at: dt.datetime
    """Recording time (the entry's ``time``)."""
    body: bytes
    """Its canonical bytes."""
    leaf_hash: bytes
    """RFC 9162 leaf hash of ``body`` (checked by the database on insert)."""
    value_on: dt.date
    """Its value date as projected (migration 0014's ``value_dates``)."""
    currency: str
    """ISO 4217 code of the fund's lines."""
    fund_amount: int
    """Signed sum of its posting lines on the fund's account (positive: into the fund)."""


async def fund_entries(
    conn: asyncpg.Connection,
    org_id: int,
    account: str,
    size: int,
    value_from: dt.date,
    value_to: dt.date,
    chunk: int,
) -> AsyncIterator[list[FundEntryRow]]:
    """The entries below ``size`` with a line on ``account`` and value date in
    ``[value_from, value_to)``, by value date then index, ``chunk`` at a time from a cursor
    (inside the caller's transaction)."""
    cursor = await conn.cursor(
        Q["opendata_fund_entries"], org_id, account, size, value_from, value_to
    )
    while rows := await cursor.fetch(chunk):
        yield [
            FundEntryRow(
                r["idx"],
                r["kind"],
                r["created_at"],
                r["body"],
                r["leaf_hash"],
                r["value_on"],
                r["currency"].strip(),
                r["amount"],
            )
            for r in rows
        ]


async def corrected_by(
    conn: asyncpg.Connection, org_id: int, size: int, indexes: Sequence[int]
) -> dict[int, int]:
    """Entry index → the index of the correction below ``size`` that reverses it."""
    rows = await conn.fetch(Q["opendata_corrected_by"], org_id, size, list(indexes))
    return {r["corrected"]: r["entry_idx"] for r in rows}


async def fund_balance_before(
    conn: asyncpg.Connection, org_id: int, account: str, size: int, before: dt.date
) -> dict[str, int]:
    """Currency → the sum of ``account``'s lines of the entries below ``size`` whose value
    date is before ``before``."""
    rows = await conn.fetch(Q["opendata_fund_balance_before"], org_id, account, size, before)
    return {r["currency"].strip(): r["amount"] for r in rows}
