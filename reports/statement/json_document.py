"""The statement as JSON (``donation-ledger-statement/v1``): the content and the totals
the PDFs print, for programs.

Members, in order: ``format``, ``statement`` (number), ``organization`` (slug, name,
origin), ``scope`` (fund, beneficiary), ``period`` (from, to), ``issued_at``,
``provisional``, ``range`` (start, end: the log indexes [start, end)), ``checkpoint``
(size, root, note), ``previous`` (statement, checkpoint) or null, ``consistency``
(old_size, new_size, proof) or null, ``opening_balances`` and ``closing_balances``
(account, currency, amount), ``totals`` (funds, beneficiaries, purposes, currencies) and
``entries`` (the money entries whose value date is in the period, by value date then
index, then the other entries recorded since the previous statement), ``late_entries``
(money entries of earlier, already stated periods, recorded since the previous statement:
already in the opening balances), ``minor_units`` (currency → the
exponent its funds recorded), ``recipients_as_of`` (tree_size, date: what each
disbursement line's ``recipient`` status is counted against; ``totals.recipients`` sums
them per currency). Amounts are integers of minor units of that exponent.
The same data and ``now`` always give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import msgspec

from reports.statement.data import (
    CheckpointInfo,
    RecipientStatus,
    StatementData,
    StatementEntry,
)
from schemas.statements import StatementTotals

STATEMENT_FORMAT = "donation-ledger-statement/v1"
"""The ``format`` member of every statement JSON document."""

CHUNK = 5000
"""Entries encoded at a time."""


def rfc3339(moment: dt.datetime) -> str:
    """The log's time format: RFC 3339 UTC, six fractional digits, ``Z``
    (as ``ledger.formats.canonical.format_time``), so entry times compare as text."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def statement_document(data: StatementData, totals: StatementTotals, now: dt.datetime) -> bytes:
    """The JSON form (donation-ledger-statement/v1): same content and totals as the PDFs."""

    def checkpoint(c: CheckpointInfo) -> dict[str, Any]:
        return {"size": c.size, "root": c.root_b64, "note": c.note}

    document = {
        "format": STATEMENT_FORMAT,
        "statement": data.number,
        "organization": {"slug": data.org_slug, "name": data.org_name, "origin": data.origin},
        "scope": {"fund": data.fund_scope, "beneficiary": data.beneficiary_scope},
        "period": {"from": data.period_from.isoformat(), "to": data.period_to.isoformat()},
        "issued_at": rfc3339(now),
        "provisional": data.provisional,
        "range": {"start": data.start, "end": data.end},
        "checkpoint": checkpoint(data.checkpoint),
        "previous": None
        if data.previous is None
        else {
            "statement": data.previous.number,
            "checkpoint": checkpoint(data.previous.checkpoint),
        },
        "consistency": None
        if data.consistency is None
        else {
            "old_size": data.consistency.old_size,
            "new_size": data.consistency.new_size,
            "proof": list(data.consistency.proof),
        },
        "opening_balances": msgspec.to_builtins(data.opening),
        "closing_balances": msgspec.to_builtins(data.closing),
        "totals": msgspec.to_builtins(totals),
        "minor_units": dict(sorted(data.minor_units.items())),
        "recipients_as_of": None
        if data.recipients_as_of is None
        else {"tree_size": data.end, "date": data.recipients_as_of.isoformat()},
    }
    # The entries, last, are encoded a chunk at a time: a list of 100,000 dicts would
    # take several times the memory of its JSON.
    out = io.BytesIO()
    out.write(msgspec.json.encode(document)[:-1])
    out.write(b',"entries":[')
    for first in range(0, len(data.entries), CHUNK):
        chunk = msgspec.json.encode([_line(e) for e in data.entries[first : first + CHUNK]])
        if first:
            out.write(b",")
        out.write(memoryview(chunk)[1:-1])
    out.write(b'],"late_entries":')
    out.write(msgspec.json.encode([_line(e) for e in data.late_entries]))
    out.write(b"}")
    return out.getvalue()


def _line(e: StatementEntry) -> dict[str, Any]:
    return {
        "index": e.index,
        "time": rfc3339(e.time),
        "kind": e.kind,
        "fund": e.fund,
        "counterparty": e.counterparty,
        "reference": e.reference,
        "currency": e.currency,
        "amount": e.amount,
        "value_date": e.value_date.isoformat() if e.value_date else None,
        "beneficiary": e.beneficiary,
        "to_fund": e.to_fund,
        "purpose": e.purpose,
        "corrects": e.corrects,
        "corrected_kind": e.corrected_kind,
        "corrected_by": e.corrected_by,
        "detail": e.detail,
        "recipient": None if e.recipient is None else _recipient(e.recipient),
    }


def _recipient(r: RecipientStatus) -> dict[str, Any]:
    return {
        "status": r.status,
        "entry": r.entry,
        "on": r.on.isoformat() if r.on else None,
        "received": r.received,
        "awaiting_days": r.awaiting_days,
    }


__all__ = ["STATEMENT_FORMAT", "rfc3339", "statement_document"]
