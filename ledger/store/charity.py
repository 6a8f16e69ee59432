"""Storage of the charity domain's projections, records and keys (named queries only).

The log is the source of truth; these tables are written in the same transaction as the
entries they derive from (see ``ledger.charity.rules.CharityPolicy``), or hold data that must stay
out of the public log (donor personal data, API key hashes, evidence bytes). The service
inserts only per-entry rows (money rows, posting lines, corrections, funds, beneficiary
versions); the running totals that decisions read (balances, fund totals, corrected_by) are
written by the database's triggers from those rows (migration 0012), and ``ledger verify``
re-derives all of them from the entries' canonical bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from ledger.formats.postings import Line
from ledger.formats.valuedates import Calendar
from ledger.store.compliance import fund_entries_of
from ledger.store.log import COPY_MIN_ROWS, Organization, Q, StoredEntry, entry_of_row, insert_rows
from schemas.money import recorded_minor_units


@dataclass(frozen=True)
class FundRow:
    """A fund as projected from its fund.created entry."""

    code: str
    """Public code."""
    entry_idx: int
    """The fund.created entry."""
    name: str
    """Display name."""
    currency: str
    """ISO 4217 currency."""
    earmark: dict[str, Any] | None
    """Earmark, if any."""
    fee_cap_bps: int
    """Fee cap in basis points."""
    minor_units: int
    """Decimal exponent of the fund's amounts, as its fund.created entry recorded it (the
    FORMAT.md rule already applied to entries that predate the member)."""


@dataclass(frozen=True)
class BeneficiaryRow:
    """One version of a beneficiary."""

    code: str
    """Public code."""
    version: int
    """1-based version."""
    entry_idx: int
    """The entry that made this version."""
    name: str
    """Name."""
    city: str
    """City."""
    province: str
    """Province."""
    registration: str | None
    """Registration number."""


@dataclass(frozen=True)
class MoneyRow:
    """A money entry as projected."""

    entry_idx: int
    """The entry."""
    kind: str
    """Entry kind."""
    fund: str
    """Fund (source fund of a transfer)."""
    counterparty: str | None
    """Beneficiary of a disbursement or destination of a transfer."""
    currency: str
    """Currency."""
    amount: int
    """Minor units."""
    reference: str | None
    """External reference."""
    corrected_by: int | None
    """Index of the correction that reverses it."""


@dataclass(frozen=True)
class IdempotencyRow:
    """A stored Idempotency-Key outcome."""

    key: str
    """The key."""
    request_hash: bytes
    """Hash of the original request."""
    status: int
    """Original status."""
    response: bytes
    """Original JSON body."""


@dataclass(frozen=True)
class ApiKeyRow:
    """An API key without its secret."""

    id: UUID
    """Public id."""
    org_id: int
    """Organization."""
    prefix: str
    """Lookup prefix."""
    secret_hash: bytes
    """SHA-256 of the key text."""
    role: str
    """Role."""
    label: str
    """Label."""
    created_at: datetime | None
    """Issue time."""
    revoked_at: datetime | None
    """Revocation time."""


def _fund(r: asyncpg.Record) -> FundRow:
    earmark = json.loads(r["earmark"]) if r["earmark"] else None
    currency = r["currency"].strip()
    return FundRow(
        r["code"],
        r["entry_idx"],
        r["name"],
        currency,
        earmark,
        r["fee_cap_bps"],
        recorded_minor_units(r["minor_units"], currency),
    )


def _beneficiary(r: asyncpg.Record) -> BeneficiaryRow:
    return BeneficiaryRow(
        r["code"],
        r["version"],
        r["entry_idx"],
        r["name"],
        r["city"],
        r["province"],
        r["registration"],
    )


def _money(r: asyncpg.Record) -> MoneyRow:
    return MoneyRow(
        r["entry_idx"],
        r["kind"],
        r["fund"],
        r["counterparty"],
        r["currency"],
        r["amount"],
        r["reference"],
        r["corrected_by"],
    )


# --- reads (any connection) ----------------------------------------------------------------


async def funds(conn: asyncpg.Connection, org_id: int, codes: Iterable[str]) -> dict[str, FundRow]:
    rows = await conn.fetch(Q["funds_by_code"], org_id, list(codes))
    return {r["code"]: _fund(r) for r in rows}


async def org_calendar(conn: asyncpg.Connection, org: Organization) -> Calendar:
    """The calendar the log records (its newest ``org.settings``), or the default one,
    derived from the time of its ``log.created`` entry."""
    row = await conn.fetchrow(Q["org_settings"], org.id)
    if row is None:
        return Calendar.default(org.created_at)
    if row["time_zone"] is None:
        return Calendar.default(row["log_created"])
    return Calendar(row["time_zone"], row["books_open"])


async def list_funds(
    conn: asyncpg.Connection, org_id: int, after: str, limit: int
) -> list[FundRow]:
    return [_fund(r) for r in await conn.fetch(Q["list_funds"], org_id, after, limit)]


async def list_beneficiaries(
    conn: asyncpg.Connection, org_id: int, after: str, limit: int
) -> list[BeneficiaryRow]:
    return [
        _beneficiary(r) for r in await conn.fetch(Q["list_beneficiaries"], org_id, after, limit)
    ]


async def beneficiary_history(
    conn: asyncpg.Connection, org_id: int, code: str
) -> list[BeneficiaryRow]:
    return [_beneficiary(r) for r in await conn.fetch(Q["beneficiary_history"], org_id, code)]


async def balances(
    conn: asyncpg.Connection, org_id: int, accounts: Iterable[str]
) -> dict[tuple[str, str], int]:
    rows = await conn.fetch(Q["balances_of"], org_id, list(accounts))
    return {(r["account"], r["currency"]): r["amount"] for r in rows}


async def all_balances(conn: asyncpg.Connection, org_id: int) -> list[tuple[str, str, int]]:
    rows = await conn.fetch(Q["all_balances"], org_id)
    return [(r["account"], r["currency"], r["amount"]) for r in rows]


async def balances_by_value_date(
    conn: asyncpg.Connection, org_id: int, size: int, before: date
) -> list[tuple[str, str, int]]:
    """Sums of the postings of entries below tree size ``size`` whose value date is before
    ``before`` (migration 0014's value_dates)."""
    rows = await conn.fetch(Q["balances_by_value_date"], org_id, size, before)
    return [(r["account"], r["currency"], r["amount"]) for r in rows]


async def balances_as_of(
    conn: asyncpg.Connection, org_id: int, size: int
) -> list[tuple[str, str, int]]:
    rows = await conn.fetch(Q["balances_as_of"], org_id, size)
    return [(r["account"], r["currency"], r["amount"]) for r in rows]


async def money_entries(
    conn: asyncpg.Connection, org_id: int, indexes: Iterable[int]
) -> dict[int, MoneyRow]:
    rows = await conn.fetch(Q["money_entries_at"], org_id, list(indexes))
    return {r["entry_idx"]: _money(r) for r in rows}


async def reversals(
    conn: asyncpg.Connection, org_id: int, indexes: Iterable[int]
) -> dict[int, StoredEntry]:
    """The correction entry that reverses each of ``indexes`` that is reversed."""
    rows = await conn.fetch(Q["reversals_of"], org_id, list(indexes))
    return {r["corrected"]: entry_of_row(r) for r in rows}


async def postings_of(
    conn: asyncpg.Connection, org_id: int, indexes: Iterable[int]
) -> dict[int, list[Line]]:
    found: dict[int, list[Line]] = {}
    for r in await conn.fetch(Q["postings_of"], org_id, list(indexes)):
        found.setdefault(r["entry_idx"], []).append(Line(r["account"], r["currency"], r["amount"]))
    return found


async def fund_totals(
    conn: asyncpg.Connection, org_id: int, codes: Iterable[str]
) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    for r in await conn.fetch(Q["fund_totals"], org_id, list(codes)):
        totals.setdefault(r["fund"], {})[r["kind"]] = r["amount"]
    return totals


async def idempotency(conn: asyncpg.Connection, org_id: int, key: str) -> IdempotencyRow | None:
    r = await conn.fetchrow(Q["idempotency_record"], org_id, key)
    return IdempotencyRow(r["key"], r["request_hash"], r["status"], r["response"]) if r else None


@dataclass(frozen=True)
class AdmitLookups:
    """What ``admit_lookups`` found (only what was asked for)."""

    funds: dict[str, FundRow]
    """By code."""
    beneficiaries: dict[str, BeneficiaryRow]
    """Current version, by code."""
    balances: dict[tuple[str, str], int]
    """By (account, currency)."""
    references: set[str]
    """Donation references already recorded."""
    keys: dict[str, IdempotencyRow]
    """Idempotency-Keys already used, with their outcomes."""
    calendar: Calendar | None = None
    """The organization's calendar, as ``org_calendar`` gives it (None: the log has no
    entry 0 yet)."""
    compliance: list[tuple[int, Any]] = field(default_factory=list)
    """The funds' ``fund.classified`` and ``fund.permit`` entries, in log order (0023)."""


class _Lookups(msgspec.Struct):
    """``admit_lookups``'s JSON (migration 0010)."""

    funds: list[tuple[str, int, str, str, dict[str, Any] | None, int, int | None]]
    beneficiaries: list[tuple[str, int, int, str, str, str, str | None]]
    balances: list[tuple[str, str, int]]
    refs: list[str]
    keys: list[tuple[str, bytes, int, bytes]]
    calendar: tuple[datetime, str | None, date | None] | None = None
    compliance: list[tuple[int, str, dict[str, Any]]] = []


_lookups = msgspec.json.Decoder(_Lookups)


def decode_lookups(text: str) -> AdmitLookups:
    found = _lookups.decode(text)
    return AdmitLookups(
        funds={f[0]: FundRow(*f[:6], recorded_minor_units(f[6], f[3])) for f in found.funds},
        beneficiaries={b[0]: BeneficiaryRow(*b) for b in found.beneficiaries},
        balances={(a[0], a[1]): a[2] for a in found.balances},
        references=set(found.refs),
        keys={k[0]: IdempotencyRow(*k) for k in found.keys},
        calendar=_calendar(found.calendar),
        compliance=fund_entries_of(found.compliance),
    )


def _calendar(found: tuple[datetime, str | None, date | None] | None) -> Calendar | None:
    if found is None:
        return None
    created, time_zone, books_open = found
    if time_zone is None or books_open is None:
        return Calendar.default(created)
    return Calendar(time_zone, books_open)


def lookup_args(
    funds: Iterable[str] = (),
    beneficiaries: Iterable[str] = (),
    accounts: Iterable[str] = (),
    references: Iterable[str] = (),
    keys: Iterable[str] = (),
) -> tuple[list[str], ...]:
    """The arguments of ``admit_lookups`` after the organization, in order."""
    return list(funds), list(beneficiaries), list(accounts), list(references), list(keys)


async def admit_lookups(
    conn: asyncpg.Connection, org_id: int, args: tuple[list[str], ...]
) -> AdmitLookups:
    """Funds, current beneficiary versions, balances of accounts, which donation references
    and which Idempotency-Keys exist (``lookup_args``): one round trip; the writer runs it
    under the head lock (or ``Store.lock_head_admitting`` takes the lock and reads at once)."""
    return decode_lookups(await conn.fetchval(Q["admit_lookups"], org_id, *args))


async def evidence_present(
    conn: asyncpg.Connection, org_id: int, digests: Sequence[bytes]
) -> set[bytes]:
    if not digests:
        return set()
    return {r["sha256"] for r in await conn.fetch(Q["evidence_present"], org_id, list(digests))}


async def evidence_file(
    conn: asyncpg.Connection, org_id: int, digest: bytes
) -> tuple[str, bytes] | None:
    r = await conn.fetchrow(Q["evidence_file"], org_id, digest)
    return (r["content_type"], r["content"]) if r else None


async def donor_record(
    conn: asyncpg.Connection, org_id: int, donation_idx: int
) -> tuple[bytes | None, dict[str, Any] | None, datetime | None] | None:
    r = await conn.fetchrow(Q["donor_record"], org_id, donation_idx)
    if r is None:
        return None
    return r["salt"], json.loads(r["personal"]) if r["personal"] else None, r["erased_at"]


async def api_key_by_prefix(conn: asyncpg.Connection, prefix: str) -> ApiKeyRow | None:
    r = await conn.fetchrow(Q["api_key_by_prefix"], prefix)
    if r is None:
        return None
    return ApiKeyRow(
        r["id"], r["org_id"], prefix, r["secret_hash"], r["role"], "", None, r["revoked_at"]
    )


async def list_api_keys(conn: asyncpg.Connection, org_id: int) -> list[ApiKeyRow]:
    return [
        ApiKeyRow(
            r["id"],
            org_id,
            r["prefix"],
            b"",
            r["role"],
            r["label"],
            r["created_at"],
            r["revoked_at"],
        )
        for r in await conn.fetch(Q["list_api_keys"], org_id)
    ]


# --- writes (inside the caller's transaction) -----------------------------------------------


async def insert_api_key(
    conn: asyncpg.Connection,
    key_id: UUID,
    org_id: int,
    prefix: str,
    secret_hash: bytes,
    role: str,
    label: str,
) -> None:
    await conn.execute(Q["insert_api_key"], key_id, org_id, prefix, secret_hash, role, label)


async def insert_evidence(
    conn: asyncpg.Connection, org_id: int, digest: bytes, content_type: str, content: bytes
) -> None:
    await conn.execute(Q["insert_evidence"], org_id, digest, content_type, len(content), content)


async def donor_records_by_lookup(
    conn: asyncpg.Connection, org_id: int, lookup: bytes
) -> list[int]:
    """Donations whose donor gave this email or phone (hashed), locked for erasure."""
    return [
        r["donation_idx"] for r in await conn.fetch(Q["donor_records_by_lookup"], org_id, [lookup])
    ]


async def donations_with_reference(
    conn: asyncpg.Connection, org_id: int, reference: str
) -> list[int]:
    """Indexes of the donations (reversed or not) recorded with this payment reference."""
    return [
        r["entry_idx"] for r in await conn.fetch(Q["donations_with_reference"], org_id, reference)
    ]


@dataclass(frozen=True)
class FundFlow:
    """One row of a fund's chart data: a sum of unreversed money entries."""

    key: tuple[str | None, ...]
    """What the row sums over: (month "YYYY-MM-01", kind) or (beneficiary, purpose)."""
    total: int
    """Sum of the amounts, integer minor units."""
    count: int
    """How many entries."""


async def fund_monthly_flows(
    conn: asyncpg.Connection, org_id: int, fund: str, kinds_: list[str]
) -> list[FundFlow]:
    rows = await conn.fetch(Q["fund_monthly_flows"], org_id, fund, kinds_)
    return [FundFlow((r["month"].isoformat(), r["kind"]), r["total"], r["n"]) for r in rows]


async def fund_disbursement_split(
    conn: asyncpg.Connection, org_id: int, fund: str, kind: str
) -> list[FundFlow]:
    rows = await conn.fetch(Q["fund_disbursement_split"], org_id, fund, kind)
    return [FundFlow((r["beneficiary"], r["purpose"]), r["total"], r["n"]) for r in rows]


@dataclass(frozen=True)
class FundMovement:
    """One of a fund's newest money entries."""

    index: int
    kind: str
    counterparty: str | None
    amount: int
    value_on: date
    corrected_by: int | None


async def fund_latest_movements(
    conn: asyncpg.Connection, org_id: int, fund: str, kinds_: list[str], limit: int
) -> list[FundMovement]:
    rows = await conn.fetch(Q["fund_latest_movements"], org_id, fund, kinds_, limit)
    return [
        FundMovement(
            r["entry_idx"],
            r["kind"],
            r["counterparty"],
            r["amount"],
            r["value_on"],
            r["corrected_by"],
        )
        for r in rows
    ]


async def erase_donor_records(conn: asyncpg.Connection, org_id: int, indexes: list[int]) -> None:
    await conn.execute(Q["erase_donor_records"], org_id, indexes)


@dataclass
class BatchRows:
    """Everything one append batch writes besides the log itself."""

    funds: list[tuple[str, int, str, str, str | None, int, int]]
    beneficiaries: list[tuple[str, int, int, str, str, str, str | None]]
    money: list[tuple[int, str, str, str | None, str, int, str | None]]
    corrections: list[tuple[int, int]]
    postings: list[tuple[int, int, str, str, int]]
    idempotency: list[tuple[str, bytes, int, bytes]]
    donors: list[tuple[int, bytes | None, bytes | None, bytes, str]]

    @classmethod
    def empty(cls) -> BatchRows:
        return cls([], [], [], [], [], [], [])

    def merge_sums(self, part: BatchRows) -> None:
        """Take ``part``'s rows except money rows and posting lines (funds, beneficiaries,
        corrections, keys, donors)."""
        self.funds += part.funds
        self.beneficiaries += part.beneficiaries
        self.corrections += part.corrections
        self.idempotency += part.idempotency
        self.donors += part.donors


def _cols(rows: Sequence[tuple], n: int) -> list[list]:
    return [[r[i] for r in rows] for i in range(n)]


def in_one_call(rows: BatchRows) -> bool:
    """Whether ``rows`` fit ``append_batch_json`` (migration 0030): no funds, beneficiary
    versions or corrections (the group commit sends it batches of fewer than 100
    entries, whose rows travel as JSON arrays)."""
    return not rows.funds and not rows.beneficiaries and not rows.corrections


def projection_rows(rows: BatchRows) -> list[list[tuple]]:
    """The money rows, posting lines, Idempotency-Keys and donor records of ``rows`` as
    ``append_batch_json`` takes them after the head (``in_one_call`` rows), each tuple one
    row with the members of its table's columns in order (migration 0030; the same members
    as 0029's ``batch_money``, ``batch_posting``, ``batch_key`` and ``batch_donor``)."""
    return [rows.money, rows.postings, rows.idempotency, rows.donors]


async def write_batch(conn: asyncpg.Connection, org_id: int, rows: BatchRows) -> None:
    """A batch's projections: funds and beneficiary versions first (rare), then one
    ``write_projections`` statement (money rows and lines by COPY when the batch is large),
    then corrections, which may mark money rows this batch inserted. The database's
    triggers move balances and fund totals from these rows (migration 0012)."""
    if rows.funds:
        await conn.execute(Q["insert_funds"], org_id, *_cols(rows.funds, 7))
    if rows.beneficiaries:
        await conn.execute(Q["insert_beneficiary_versions"], org_id, *_cols(rows.beneficiaries, 7))
    money, postings = rows.money, rows.postings
    if len(money) >= COPY_MIN_ROWS:
        await insert_rows(conn, "insert_money_entries", org_id, money)
        money = []
    if len(postings) >= COPY_MIN_ROWS:
        await insert_rows(conn, "insert_postings", org_id, postings)
        postings = []
    if money or postings or rows.idempotency or rows.donors:
        await conn.execute(
            Q["write_projections"],
            org_id,
            *_cols(money, 7),
            *_cols(postings, 5),
            *_cols(rows.idempotency, 4),
            *_cols(rows.donors, 5),
        )
    if rows.corrections:
        await conn.execute(Q["insert_corrections"], org_id, *_cols(rows.corrections, 2))


async def insert_idempotency(
    conn: asyncpg.Connection,
    org_id: int,
    key: str,
    request_hash: bytes,
    status: int,
    response: bytes,
) -> None:
    await conn.execute(
        Q["insert_idempotency_keys"], org_id, [key], [request_hash], [status], [response]
    )
