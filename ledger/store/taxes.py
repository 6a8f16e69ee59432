"""Reads for tax receipts and reports (``sql/tax_queries.sql``): the donations of some funds
in a period of value dates, each with its donor record and its reversal, in one query.

The rows hold personal data (the donor record's ``personal``): they go to the tax documents
of ``ledger.charity.taxreceipts`` and ``ledger.charity.taxreports`` only, never to the log or a
public answer.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from ledger.store.log import load_queries

Q = load_queries("tax_queries.sql")


@dataclass(frozen=True)
class TaxDonationRow:
    """One donation of a tax report's period."""

    value_on: dt.date
    """Its value date (``received_on``)."""
    index: int
    body: bytes
    """The entry's canonical bytes."""
    personal: dict[str, Any] | None
    """The donor's personal data (None: none given, or erased)."""
    erased_at: dt.datetime | None
    """When the donor's data was erased (None: not erased, or no record)."""
    reversed_by: int | None
    """The correction that reversed it, among the entries the report covers."""
    reversed_on: dt.date | None
    """That correction's value date."""


async def donations_in_period(
    conn: asyncpg.Connection,
    org_id: int,
    funds: list[str],
    start: dt.date,
    end: dt.date,
    size: int,
) -> list[TaxDonationRow]:
    """Donations to ``funds`` with value date in [start, end) among the first ``size``
    entries, by value date then index."""
    rows = await conn.fetch(Q["tax_report_donations"], org_id, start, end, funds, size)
    return [
        TaxDonationRow(
            value_on=r["value_on"],
            index=r["idx"],
            body=bytes(r["body"]),
            personal=json.loads(r["personal"]) if r["personal"] else None,
            erased_at=r["erased_at"],
            reversed_by=r["reversed_by"],
            reversed_on=r["reversed_on"],
        )
        for r in rows
    ]
