"""Reads for the ISAK 35 and PSAK 109 statements (``ledger.charity.financial``): the
period's movements of every fund account, classified by the account each was paired with.

Balances by value date are ``ledger.store.charity.balances_by_value_date``; the caller
opens the (repeatable-read) transaction and passes its connection in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from ledger.store.log import Q


@dataclass(frozen=True)
class Movement:
    """What one fund account moved, in one currency, against one kind of counter account."""

    account: str
    """``fund:<code>``."""
    counter: str
    """The other line's account: ``donors``, ``fees``, ``fund:<code>`` (a transfer) or
    ``beneficiary`` (any beneficiary account: a disbursement)."""
    currency: str
    """ISO 4217 code."""
    amount: int
    """Signed minor units added to the fund account (corrections included, negated)."""


async def movements(
    conn: asyncpg.Connection, org_id: int, size: int, start: dt.date, end: dt.date
) -> list[Movement]:
    """Movements of the entries below tree size ``size`` with a value date in
    [``start``, ``end``), by fund account, counter account and currency."""
    rows = await conn.fetch(Q["financial_movements"], org_id, size, start, end)
    return [Movement(r["account"], r["counter"], r["currency"].strip(), r["amount"]) for r in rows]
