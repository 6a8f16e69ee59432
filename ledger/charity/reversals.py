"""Reversals: a ``correction`` entry reverses one earlier money entry, at most once.

The log never changes the reversed entry; the reversal is a later, linked fact. It changes
what every document about the reversed entry means, so everything that shows or proves the
entry asks this module whether it was reversed: the API's entry view, receipts (which then
carry the correction's own inclusion proof, docs/FORMAT.md section 7), receipt and annual
receipt PDFs, the public site, and the verifiers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from ledger.formats.valuedates import correction_effective_on
from ledger.store import charity as P
from ledger.store.log import Store, StoredEntry
from schemas.public import ReversalView


@dataclass(frozen=True)
class Reversal:
    """The correction that reverses an entry."""

    index: int
    """Index of the correction entry."""
    corrects: int
    """Index of the entry it reverses (always lower)."""
    recorded_at: dt.datetime
    """When the log recorded the correction."""
    effective_on: dt.date
    """The correction's value date: the day shown for the reversal everywhere
    (``ledger.formats.valuedates.correction_effective_on``)."""
    reason: str
    """The reason the correction gives (public, in the log)."""

    @classmethod
    def of(cls, entry: StoredEntry) -> Reversal:
        body = json.loads(entry.body).get("body") or {}
        return cls(
            entry.index,
            int(body["corrects"]),
            entry.created_at,
            correction_effective_on(body, entry.created_at),
            str(body["reason"]),
        )

    def view(self) -> ReversalView:
        return ReversalView(
            index=self.index,
            time=self.recorded_at,
            effective_on=self.effective_on,
            reason=self.reason,
        )


async def reversals(
    store: Store, org_id: int, indexes: Iterable[int], conn: asyncpg.Connection | None = None
) -> dict[int, Reversal]:
    """The reversal of each of ``indexes`` that is reversed, by the reversed entry's index."""
    wanted = list(indexes)
    if not wanted:
        return {}
    async with store.using(conn) as c:
        found = await P.reversals(c, org_id, wanted)
    return {corrected: Reversal.of(entry) for corrected, entry in found.items()}


async def reversal_of(
    store: Store, org_id: int, index: int, conn: asyncpg.Connection | None = None
) -> Reversal | None:
    return (await reversals(store, org_id, [index], conn)).get(index)
