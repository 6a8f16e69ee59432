"""Public statements in the database: the log entries a statement selects (by value date,
recorded late, log events), the funds, beneficiaries and totals as of its end, and the
stored statements with their documents. Transactions are opened by
``ledger.charity.statements``, which passes its connection in."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import asyncpg

from ledger.store.log import Q


@dataclass(frozen=True)
class EntryRow:
    """A log entry as a statement reads it."""

    index: int
    """Log index."""
    kind: str
    """Entry kind."""
    created_at: dt.datetime
    """The entry's time."""
    body: bytes
    """Its canonical bytes."""
    value_on: dt.date | None = None
    """Its value date, where the query selects by it (late-entry candidates)."""


def _entry(r: asyncpg.Record) -> EntryRow:
    return EntryRow(r["idx"], r["kind"], r["created_at"], r["body"])


@dataclass(frozen=True)
class RecipientWordRow:
    """An ``acknowledgments`` row (migration 0022) with its entry's recording time."""

    disbursement: int
    """The disbursement it is about."""
    entry_idx: int
    """The disbursement.acknowledged or disbursement.disputed entry."""
    verdict: str
    """``acknowledged`` or ``disputed``."""
    received: int | None
    """Disputed: minor units the beneficiary says arrived; None when acknowledged."""
    recorded_at: dt.datetime
    """When the log recorded the entry."""


async def recipient_words(
    conn: asyncpg.Connection, org_id: int, disbursements: Sequence[int], size: int
) -> list[RecipientWordRow]:
    """What the beneficiaries signed about ``disbursements`` in entries below ``size``."""
    rows = await conn.fetch(Q["statement_recipient_words"], org_id, list(disbursements), size)
    return [
        RecipientWordRow(
            r["disbursement_idx"], r["entry_idx"], r["verdict"], r["received"], r["created_at"]
        )
        for r in rows
    ]


@dataclass(frozen=True)
class StatedPeriod:
    """An earlier statement of a scope: the period it covered and where it ended."""

    period_from: dt.date
    """First day of its period."""
    period_to: dt.date
    """First day after its period."""
    end: int
    """The log size it covered (its entries are below this index)."""


@dataclass(frozen=True)
class StatementFund:
    """A fund as it stood at a log size (created before it)."""

    code: str
    """Fund code."""
    entry_idx: int
    """Index of its ``fund.created`` entry."""
    name: str
    """Display name."""
    currency: str
    """ISO 4217 code as stored (``char(3)``)."""
    earmark: str | None
    """Its earmark as stored (JSON text: ``{"beneficiary": code}`` or ``{"purpose": ...}``),
    or None."""
    fee_cap_bps: int
    """Most fees may take, in basis points of donations."""
    minor_units: int | None
    """The exponent its ``fund.created`` entry recorded (None: before it was recorded)."""


@dataclass(frozen=True)
class BeneficiaryVersion:
    """One recorded version of a beneficiary (created before a log size)."""

    code: str
    """Beneficiary code."""
    version: int
    """1 for the first record, then one more per update."""
    entry_idx: int
    """Index of the entry that recorded this version."""
    name: str
    """Name in this version."""
    city: str | None
    """City in this version."""
    province: str | None
    """Province in this version."""
    registration: str | None
    """Registration number in this version."""


@dataclass(frozen=True)
class FundTotal:
    """Donations or fees of one fund up to a log size, net of the corrections before it.
    A fund and kind may appear twice (the sum and the corrections' negative sum)."""

    fund: str
    """Fund code."""
    kind: str
    """``donation`` or ``fee``."""
    amount: int
    """Minor units."""


@dataclass(frozen=True)
class LatestStatement:
    """The organization's newest statement and the checkpoint it was issued under."""

    id: int
    """Statement number."""
    tree_size: int
    """Size of the checkpoint it was issued under."""
    root: bytes
    """That checkpoint's root hash."""
    note: str
    """The checkpoint note as stored."""


@dataclass(frozen=True)
class StatementRow:
    """A stored statement's metadata (``statements``) with its documents' SHA-256."""

    id: int
    """Statement number."""
    entry_idx: int
    """Index of its ``statement.issued`` entry."""
    previous_id: int | None
    """Number of the previous statement (None for the first)."""
    period_from: dt.date
    """First day of the period."""
    period_to: dt.date
    """First day after the period."""
    fund: str | None
    """Fund scope (None: not limited to one fund)."""
    beneficiary: str | None
    """Beneficiary scope (None: not limited to one beneficiary)."""
    start: int
    """First log index it covers (where the previous statement of its scope ended)."""
    end: int
    """The log size it covers (its entries are below this index)."""
    checkpoint_size: int
    """Size of the checkpoint it was issued under."""
    checkpoint_root: bytes
    """That checkpoint's root hash."""
    provisional: bool
    """Issued before its period ended."""
    issued_at: dt.datetime
    """When it was issued."""
    hashes: dict[str, bytes]
    """Document name → SHA-256 of its bytes."""


@dataclass(frozen=True)
class StatementDocument:
    """One stored document of a statement (``pdf-id``, ``pdf-en`` or ``json``)."""

    name: str
    """``pdf-id``, ``pdf-en`` or ``json``."""
    media_type: str
    """The media type it is served with."""
    sha256: bytes
    """SHA-256 of ``content``."""
    content: bytes
    """The exact bytes."""


# --- the entries a statement lists ----------------------------------------------------------


async def entries_at(
    conn: asyncpg.Connection, org_id: int, indexes: Sequence[int]
) -> list[EntryRow]:
    """The entries at these indexes, in index order."""
    return [_entry(r) for r in await conn.fetch(Q["statement_entries_at"], org_id, indexes)]


async def entries_by_value(
    conn: asyncpg.Connection,
    org_id: int,
    value_from: dt.date,
    value_to: dt.date,
    end: int,
    chunk: int,
) -> AsyncIterator[list[EntryRow]]:
    """The money entries valued in ``[value_from, value_to)`` among the first ``end``, by
    value date then index, ``chunk`` at a time from a cursor (inside the caller's
    transaction; the caller may run other queries on ``conn`` between chunks)."""
    cursor = await conn.cursor(Q["statement_entries_by_value"], org_id, value_from, value_to, end)
    while rows := await cursor.fetch(chunk):
        yield [_entry(r) for r in rows]


async def entries_recorded_outside(
    conn: asyncpg.Connection,
    org_id: int,
    start: int,
    end: int,
    value_from: dt.date,
    value_to: dt.date,
) -> list[EntryRow]:
    """Money entries recorded in ``[start, end)`` whose value date is outside
    ``[value_from, value_to)`` (with ``value_on``): the candidates for late entries."""
    rows = await conn.fetch(
        Q["statement_entries_recorded_outside"], org_id, start, end, value_from, value_to
    )
    return [EntryRow(r["idx"], r["kind"], r["created_at"], r["body"], r["value_on"]) for r in rows]


async def events_range(
    conn: asyncpg.Connection, org_id: int, start: int, end: int
) -> list[EntryRow]:
    """The entries of ``[start, end)`` that are not money entries, in index order."""
    return [_entry(r) for r in await conn.fetch(Q["statement_events_range"], org_id, start, end)]


# --- what a statement reads as of its end -------------------------------------------------


async def statements_of_scope(
    conn: asyncpg.Connection, org_id: int, fund: str | None, beneficiary: str | None
) -> list[StatedPeriod]:
    """The statements of one scope (None for none), in issue order."""
    rows = await conn.fetch(Q["statements_of_scope"], org_id, fund, beneficiary)
    return [StatedPeriod(r["period_from"], r["period_to"], r["end_idx"]) for r in rows]


async def funds_as_of(conn: asyncpg.Connection, org_id: int, end: int) -> list[StatementFund]:
    """The funds created among the first ``end`` entries, by code."""
    rows = await conn.fetch(Q["statement_funds_as_of"], org_id, end)
    return [StatementFund(*r) for r in rows]


async def beneficiary_versions(
    conn: asyncpg.Connection, org_id: int, end: int
) -> list[BeneficiaryVersion]:
    """Every beneficiary version recorded among the first ``end`` entries, by code then
    version."""
    rows = await conn.fetch(Q["statement_beneficiary_versions"], org_id, end)
    return [BeneficiaryVersion(*r) for r in rows]


async def fund_totals_as_of(conn: asyncpg.Connection, org_id: int, end: int) -> list[FundTotal]:
    """Donations and fees per fund among the first ``end`` entries, net of corrections."""
    rows = await conn.fetch(Q["statement_fund_totals_as_of"], org_id, end)
    return [FundTotal(r["fund"], r["kind"], r["amount"]) for r in rows]


async def latest_statement(conn: asyncpg.Connection, org_id: int) -> LatestStatement | None:
    """The newest statement with its checkpoint, or None before the first."""
    r = await conn.fetchrow(Q["latest_statement"], org_id)
    return None if r is None else LatestStatement(r["id"], r["tree_size"], r["root"], r["note"])


# --- stored statements ----------------------------------------------------------------------


async def insert_statement(
    conn: asyncpg.Connection,
    org_id: int,
    row: StatementRow,
    documents: Sequence[StatementDocument],
) -> None:
    """Store a statement and its documents (in the caller's transaction). A concurrent issue
    that took the same number fails on the primary key (``UniqueViolationError``)."""
    await conn.execute(
        Q["insert_statement"],
        org_id,
        row.id,
        row.entry_idx,
        row.previous_id,
        row.period_from,
        row.period_to,
        row.fund,
        row.beneficiary,
        row.start,
        row.end,
        row.checkpoint_size,
        row.checkpoint_root,
        row.provisional,
        row.issued_at,
    )
    await conn.execute(
        Q["insert_statement_documents"],
        org_id,
        row.id,
        [d.name for d in documents],
        [d.media_type for d in documents],
        [d.sha256 for d in documents],
        [d.content for d in documents],
    )


def _row(r: asyncpg.Record) -> StatementRow:
    return StatementRow(
        r["id"],
        r["entry_idx"],
        r["previous_id"],
        r["period_from"],
        r["period_to"],
        r["fund"],
        r["beneficiary"],
        r["start_idx"],
        r["end_idx"],
        r["checkpoint_size"],
        r["checkpoint_root"],
        r["provisional"],
        r["issued_at"],
        dict(zip(r["names"], r["hashes"], strict=True)),
    )


async def statements_after(
    conn: asyncpg.Connection, org_id: int, after: int, upto: int, limit: int
) -> list[StatementRow]:
    """Statements numbered in ``(after, upto]``, oldest first, at most ``limit``."""
    return [_row(r) for r in await conn.fetch(Q["statements_after"], org_id, after, upto, limit)]


async def statement_document(
    conn: asyncpg.Connection, org_id: int, number: int, name: str
) -> StatementDocument | None:
    """A stored document of statement ``number``, or None."""
    r = await conn.fetchrow(Q["statement_document"], org_id, number, name)
    return (
        None if r is None else StatementDocument(name, r["media_type"], r["sha256"], r["content"])
    )
