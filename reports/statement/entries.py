"""Each log entry as a statement shows it: the public fields of every entry kind of
docs/FORMAT.md section 6, from the entry's body.

A donation shows its donor's chosen display (None: anonymous), never a commitment; a
disbursement the beneficiary's name as registered when it was paid; a transfer its
destination fund; a correction the fields of the entry it reverses, so that it can be
read, and counted, next to it.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from reports.errors import ReportDataError
from reports.statement.data import StatementEntry
from schemas import kinds


class EntryNames:
    """Fund names, and beneficiary names as registered at the time of each entry."""

    def __init__(
        self, funds: Iterable[tuple[str, str]], versions: Iterable[tuple[str, int, str]]
    ) -> None:
        """``funds``: (code, name); ``versions``: (code, index of the entry that made the
        version, name), in version order."""
        self.funds = dict(funds)
        self._versions: dict[str, tuple[list[int], list[str]]] = {}
        for code, index, name in versions:
            indexes, names = self._versions.setdefault(code, ([], []))
            indexes.append(index)
            names.append(name)

    def beneficiary(self, code: str, at: int) -> str:
        found = self._versions.get(code)
        if found is None:
            return code
        indexes, names = found
        return names[max(bisect.bisect_right(indexes, at) - 1, 0)]


def statement_entry(
    index: int,
    kind: str,
    time: dt.datetime,
    b: dict[str, Any],
    names: EntryNames,
    targets: dict[int, StatementEntry],
) -> StatementEntry:
    """One entry's public fields; ``targets`` holds the money entries a correction may need."""
    if kind == kinds.DONATION:
        return StatementEntry(
            index,
            time,
            kind,
            fund=b["fund"],
            counterparty=(b.get("donor") or {}).get("display"),
            reference=b["reference"],
            currency=b["currency"],
            amount=b["amount"],
            value_date=dt.date.fromisoformat(b["received_on"]),
        )
    if kind == kinds.DISBURSEMENT:
        return StatementEntry(
            index,
            time,
            kind,
            fund=b["fund"],
            counterparty=names.beneficiary(b["beneficiary"], index),
            reference=b["reference"],
            currency=b["currency"],
            amount=b["amount"],
            value_date=dt.date.fromisoformat(b["paid_on"]),
            beneficiary=b["beneficiary"],
            purpose=b["purpose"],
        )
    if kind == kinds.TRANSFER:
        return StatementEntry(
            index,
            time,
            kind,
            fund=b["from_fund"],
            counterparty=names.funds.get(b["to_fund"], b["to_fund"]),
            currency=b["currency"],
            amount=b["amount"],
            value_date=dt.date.fromisoformat(b["transferred_on"]),
            to_fund=b["to_fund"],
            detail=b.get("reason"),
        )
    if kind == kinds.FEE:
        return StatementEntry(
            index,
            time,
            kind,
            fund=b["fund"],
            counterparty=b.get("description"),
            currency=b["currency"],
            amount=b["amount"],
            value_date=dt.date.fromisoformat(b["charged_on"]),
        )
    if kind == kinds.CORRECTION:
        target = targets.get(b["corrects"])
        if target is None:
            raise ReportDataError(
                f"expected the entry corrected by entry {index} to be known, got none for "
                f"index {b['corrects']}"
            )
        return replace(
            target,
            index=index,
            time=time,
            kind=kind,
            # The reversal's own value date (entries written before it existed have none
            # in the body: their value date is their recording date in Asia/Jakarta).
            value_date=dt.date.fromisoformat(b["effective_on"]) if b.get("effective_on") else None,
            corrects=target.index,
            corrected_kind=target.kind,
            corrected_by=None,
            detail=b.get("reason"),
            recipient=None,  # a recipient's word is about the disbursement, not its reversal
        )
    if kind == kinds.FUND_CREATED:
        return StatementEntry(index, time, kind, fund=b.get("code"), counterparty=b.get("name"))
    if kind in kinds.BENEFICIARY:
        return StatementEntry(index, time, kind, counterparty=f"{b.get('name')} ({b.get('city')})")
    if kind == kinds.EVIDENCE_ATTACHED:
        return StatementEntry(
            index,
            time,
            kind,
            counterparty=f"#{b.get('disbursement')}",
            reference=str(b.get("sha256", ""))[:16],
        )
    if kind == kinds.BENEFICIARY_KEY:
        return StatementEntry(index, time, kind, counterparty=b.get("beneficiary"))
    if kind in kinds.RECIPIENT_STATEMENTS:
        # The recipient's own entry about a disbursement: who signed, about which one.
        return StatementEntry(
            index, time, kind, counterparty=f"{b.get('beneficiary')} → #{b.get('disbursement')}"
        )
    if kind in (kinds.NOTE, kinds.LOG_CREATED):
        return StatementEntry(index, time, kind, counterparty=b.get("text") or b.get("name"))
    if kind == kinds.STATEMENT_ISSUED:
        return StatementEntry(index, time, kind, detail=str(b.get("statement")))
    if kind == kinds.DONOR_ERASED:
        return StatementEntry(index, time, kind, detail=str(b.get("records")))
    return StatementEntry(index, time, kind)


__all__ = ["EntryNames", "statement_entry"]
