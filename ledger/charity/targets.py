"""A fund's target and its progress: the newest ``fund.target`` entry of the fund
(``schemas.targets``), against what the fund raised, on a given day of the organization's
calendar. Shared by the API (``GET …/funds/{code}/target``), the fund page and its share
card, so each shows the same numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ledger.charity import reads
from ledger.store import charity as P
from ledger.store import publication as PUB
from ledger.store.log import Organization
from schemas.charity import FundView
from schemas.targets import FundTargetBody, FundTargetView


def progress(
    fund: FundView, found: tuple[int, FundTargetBody] | None, today: dt.date
) -> FundTargetView:
    """The target view of ``fund`` given its newest ``fund.target`` entry (or None), on
    ``today``. The percentage is rounded down on integers, never a float: 99.9% shows 99."""
    index, body = found if found is not None else (None, None)
    amount = body.amount if body is not None else None
    deadline = body.deadline if body is not None and amount is not None else None
    ended = deadline is not None and today > deadline
    return FundTargetView(
        fund=fund.code,
        currency=fund.currency,
        minor_units=fund.minor_units,
        amount=amount,
        deadline=deadline,
        note=body.note if body is not None and amount is not None else None,
        raised=fund.raised,
        percent=fund.raised * 100 // amount if amount else None,
        days_left=(deadline - today).days if deadline is not None and not ended else None,
        ended=ended,
        entry_index=index,
    )


async def today_of(store: Any, org: Organization, now: dt.datetime) -> dt.date:
    """Today in the organization's calendar (a deadline is one of its local dates)."""
    async with store.connection() as conn:
        calendar = await P.org_calendar(conn, org)
    return calendar.today(now)


async def target_view(
    store: Any, org: Organization, code: str, now: dt.datetime, fund: FundView | None = None
) -> FundTargetView:
    """Fund ``code``'s target now (``NotFoundError`` for a fund the log does not have);
    ``fund``: its view, when the caller has read it already."""
    if fund is None:
        fund = await reads.fund_view(store, org, code)
    async with store.connection() as conn:
        found = await PUB.fund_target(conn, org.id, code)
        calendar = await P.org_calendar(conn, org)
    return progress(fund, found, calendar.today(now))
