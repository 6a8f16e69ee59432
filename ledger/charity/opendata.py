"""Open data: one fund's money over a period of value dates, as a Fiscal Data Package
(``reports.opendata``), cut at a signed checkpoint.

The export lists every money entry with a posting line on the fund's account whose value
date (``ledger.formats.valuedates``: a local date of the organization) is in [from, to) and
whose index is below the checkpoint's tree size. The amounts are the entries' lines on the
fund's account; the value date is read again from each entry's body and must equal the
projection that selected it. A correction is a reversing row; a reversed entry names its
correction when that correction is below the checkpoint too. Opening and closing balances
are by value date, like a statement's, so opening plus the rows is the closing balance.

Everything below the checkpoint's size is immutable (entries and their projections are
append-only and written with the entry), so the same request cut at the same checkpoint
gives the same bytes. The reads run in one read-only repeatable-read transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
import msgspec

from ledger.errors import LedgerError, NotFoundError, RuleError
from ledger.formats.postings import fund_account
from ledger.formats.valuedates import VALUE_DATE_FIELDS, correction_effective_on
from ledger.journal.publisher import publish
from ledger.journal.witnessing import cosigned_note
from ledger.store import charity as P
from ledger.store import opendata as OD
from ledger.store import statements as S
from ledger.store.log import Organization, Store, StoredCheckpoint
from reports.errors import ReportDataError
from reports.opendata import package
from reports.opendata.package import CheckpointInfo, FundInfo, FundPeriod
from reports.opendata.rows import LoggedEntry, Names, ReversedEntry, open_data_row
from schemas import kinds
from schemas.money import recorded_minor_units

MAX_DAYS = 366
"""The longest period one export covers (a leap year): bounds what one request reads."""

CHUNK = 5000
"""Entries read per round trip."""

FILES = {
    "datapackage.json": "application/json",
    "entries.csv": "text/csv",
    "balances.csv": "text/csv",
    "checkpoint.txt": "text/plain",
}
"""The files of a package that the API serves one by one, and their media types."""

Progress = Callable[[dt.date, int], None]
"""Told the value date reached and the rows read so far, after each chunk."""

_decode = msgspec.json.Decoder().decode


@dataclass(frozen=True)
class OpenDataRequest:
    """What to export."""

    fund: str
    """Fund code."""
    period_from: dt.date
    """First value date."""
    period_to: dt.date
    """First value date after the period."""
    size: int | None = None
    """The tree size of a signed checkpoint to cut at; None: the newest checkpoint."""


def check_request(request: OpenDataRequest) -> None:
    """A period of at least one and at most ``MAX_DAYS`` days; else a 422 naming ``to`` (a
    rule over two parameters, like a statement's period)."""
    start, end = request.period_from, request.period_to
    if end <= start:
        raise RuleError.of(
            "to: expected a date after 'from' ({start}), got {end}; the period is [from, to)",
            pointer="/to",
            start=start.isoformat(),
            end=end.isoformat(),
        )
    if (end - start).days > MAX_DAYS:
        raise RuleError.of(
            "to: expected a period of at most {most} days, got {days} days from {start} to {end}",
            pointer="/to",
            most=MAX_DAYS,
            days=(end - start).days,
            start=start.isoformat(),
            end=end.isoformat(),
        )


async def _checkpoint(
    store: Store, org: Organization, kek: bytes, size: int | None, sign_head: bool
) -> StoredCheckpoint:
    if size is not None:
        found = await store.checkpoint_covering(org.id, size)
        if found is None or found.size != size:
            raise NotFoundError.of(
                "size: no signed checkpoint of size {size} in {org}; the newest is at "
                "GET /v1/orgs/{org}/log/checkpoint",
                size=size,
                org=org.slug,
            )
        return found
    latest = None if sign_head else await store.latest_checkpoint(org.id)
    # publish returns the newest checkpoint when it covers the head, else signs one.
    return latest or await publish(store, org, kek)


def _value_date(row: OD.FundEntryRow, body: dict) -> dt.date:
    """The entry's value date read from its body (``ledger.formats.valuedates``); it must be
    the one the projection selected the entry by."""
    if row.kind == kinds.CORRECTION:
        found = correction_effective_on(body, row.created_at)
    else:
        found = dt.date.fromisoformat(body[VALUE_DATE_FIELDS[row.kind]])
    if found != row.value_on:
        raise LedgerError(
            f"entry {row.index}: its body's value date {found} differs from the projected "
            f"{row.value_on}; run `ledger verify`"
        )
    return found


async def gather(
    store: Store,
    org: Organization,
    kek: bytes,
    request: OpenDataRequest,
    *,
    sign_head: bool = False,
    progress: Progress | None = None,
) -> FundPeriod:
    """The package's data: the fund's entries in the period below the checkpoint, their
    reversals, the balances and the checkpoint. ``sign_head``: cut at a checkpoint of the
    log's current head (signing one if needed: the CLI on the server host) rather than at
    the newest one (the public API, which signs only when the log has none)."""
    check_request(request)
    cp = await _checkpoint(store, org, kek, request.size, sign_head)
    note = await cosigned_note(store, org.id, cp)
    account = fund_account(request.fund)
    async with (
        store.connection() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        funds = await S.funds_as_of(conn, org.id, cp.size)
        fund = next((f for f in funds if f.code == request.fund), None)
        if fund is None:
            raise NotFoundError.of(
                "fund: no fund '{fund}' in {org} up to checkpoint size {size}",
                fund=request.fund,
                org=org.slug,
                size=cp.size,
            )
        calendar = await P.org_calendar(conn, org)
        names = Names(
            {f.code: f.name for f in funds},
            {v.code: v.name for v in await S.beneficiary_versions(conn, org.id, cp.size)},
        )
        entries: list[LoggedEntry] = []
        async for chunk in OD.fund_entries(
            conn, org.id, account, cp.size, request.period_from, request.period_to, CHUNK
        ):
            for row in chunk:
                body = _decode(row.body)["body"]
                entries.append(
                    LoggedEntry(
                        row.index,
                        row.kind,
                        row.created_at,
                        body,
                        row.leaf_hash,
                        _value_date(row, body),
                        row.fund_amount,
                    )
                )
            if progress is not None:
                progress(chunk[-1].value_on, len(entries))
        targets = await _reversed_entries(conn, org.id, entries)
        reversed_by = await OD.corrected_by(conn, org.id, cp.size, [e.index for e in entries])
        opening = await OD.fund_balance_before(
            conn, org.id, account, cp.size, request.period_from
        )
        closing = await OD.fund_balance_before(conn, org.id, account, cp.size, request.period_to)
    currency = fund.currency.strip()
    try:
        rows = [
            open_data_row(
                e,
                fund.code,
                names,
                targets.get(e.body["corrects"]) if e.kind == kinds.CORRECTION else None,
                reversed_by.get(e.index),
            )
            for e in entries
        ]
        period = FundPeriod(
            org_slug=org.slug,
            org_name=org.name,
            origin=org.origin,
            fund=FundInfo(
                fund.code,
                fund.name,
                currency,
                recorded_minor_units(fund.minor_units, currency),
                fund.entry_idx,
            ),
            period_from=request.period_from,
            period_to=request.period_to,
            time_zone=calendar.time_zone,
            checkpoint=CheckpointInfo(cp.size, cp.root, note),
            rows=tuple(rows),
            opening=opening.get(currency, 0),
            closing=closing.get(currency, 0),
        )
        period.check()
    except ReportDataError as exc:
        raise LedgerError(f"open data of {org.slug} fund {fund.code} refused: {exc}") from exc
    return period


async def _reversed_entries(
    conn: asyncpg.Connection, org_id: int, entries: Sequence[LoggedEntry]
) -> dict[int, ReversedEntry]:
    """The entries the corrections among ``entries`` reverse, read once each."""
    wanted = sorted({e.body["corrects"] for e in entries if e.kind == kinds.CORRECTION})
    found: dict[int, ReversedEntry] = {}
    for first in range(0, len(wanted), CHUNK):
        for r in await S.entries_at(conn, org_id, wanted[first : first + CHUNK]):
            found[r.index] = ReversedEntry(r.index, r.kind, _decode(r.body)["body"])
    return found


async def package_zip(
    store: Store, org: Organization, kek: bytes, request: OpenDataRequest
) -> tuple[FundPeriod, bytes]:
    """The package as a zip (built in a worker thread: thousands of rows)."""
    period = await gather(store, org, kek, request)
    return period, await asyncio.to_thread(package.zip_package, period)


async def package_file(
    store: Store,
    org: Organization,
    kek: bytes,
    request: OpenDataRequest,
    name: str,
    links: Callable[[FundPeriod], dict[str, str]],
) -> bytes:
    """One file of the package; the descriptor's CSV paths are ``links(period)`` (URLs that
    fetch the CSV files cut at the same checkpoint)."""
    if name not in FILES:
        raise NotFoundError.of(
            "file: expected one of {files}, got '{found}'",
            files=", ".join(sorted(FILES)),
            found=name[:60],
        )
    period = await gather(store, org, kek, request)
    if name == "datapackage.json":
        return package.descriptor_json(period, links(period))
    files = await asyncio.to_thread(package.package_files, period)
    return files[package.CHECKPOINT if name == "checkpoint.txt" else f"data/{name}"]
