"""Storage of the recipients' keys, acknowledgments and enrolment links (migration 0022).

``beneficiary_keys`` and ``acknowledgments`` are written only by the database, from the
inserted entries' bytes (the ``entries_project_recipients`` trigger); this module reads them.
``enrolment_links`` is private (token hashes, never in the log) and the only table here the
service inserts into.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from ledger.store.log import Q, StoredEntry, entry_of_row
from schemas import kinds


@dataclass(frozen=True)
class DisbursementFacts:
    """A disbursement as a beneficiary signs it, with what it signed already."""

    index: int
    """The disbursement entry."""
    fund: str
    """Its fund."""
    beneficiary: str
    """Its beneficiary."""
    currency: str
    """ISO 4217 code."""
    amount: int
    """Minor units."""
    minor_units: int
    """The fund's recorded exponent."""
    leaf_hash: bytes
    """RFC 9162 leaf hash of the entry."""
    paid_on: dt.date
    """Value date."""
    corrected_by: int | None
    """The correction that reversed it, if any."""
    entry: bytes
    """The entry's canonical bytes (its purpose and reference)."""
    ack_index: int | None
    """The acknowledgment or dispute entry, if any."""
    verdict: str | None
    """``acknowledged`` or ``disputed`` (None: awaiting)."""
    received: int | None
    """What the beneficiary said arrived, when it disputed."""
    key_index: int | None
    """The key entry that signed the acknowledgment or dispute."""
    ack_time: dt.datetime | None
    """When the acknowledgment or dispute was recorded."""


@dataclass(frozen=True)
class BeneficiaryKey:
    """One ``beneficiary.key`` entry's key."""

    index: int
    """The key entry."""
    beneficiary: str
    """Beneficiary code."""
    public_key: bytes
    """Raw Ed25519 public key."""
    replaces: int | None = None
    """The key entry it replaced."""


@dataclass(frozen=True)
class EnrolmentLinkRow:
    """A stored one-time enrolment link (its token only as a hash)."""

    org_id: int
    """The organization."""
    slug: str
    """Its slug."""
    beneficiary: str
    """Who may enrol with it."""
    expires_at: dt.datetime
    """When it stops working."""


@dataclass(frozen=True)
class Share:
    """Of the unreversed disbursements in one currency, what recipients acknowledged."""

    currency: str
    """ISO 4217 code."""
    disbursed: int
    """Minor units disbursed."""
    acknowledged: int
    """Of which acknowledged in full by the recipients."""
    disputed: int
    """Of which disputed."""
    disbursements: int
    """How many disbursements."""
    acknowledged_count: int
    """How many acknowledged."""
    disputed_count: int
    """How many disputed."""


async def disbursements(
    conn: asyncpg.Connection, org_id: int, indexes: Iterable[int]
) -> dict[int, DisbursementFacts]:
    """The disbursements among ``indexes`` (other money entries and non-money entries are
    left out), by index."""
    found = {}
    for r in await conn.fetch(Q["disbursements_to_sign"], org_id, list(indexes)):
        if r["kind"] != kinds.DISBURSEMENT:
            continue
        found[r["entry_idx"]] = DisbursementFacts(
            r["entry_idx"],
            r["fund"],
            r["counterparty"],
            r["currency"],
            r["amount"],
            r["minor_units"],
            r["leaf_hash"],
            r["value_on"],
            r["corrected_by"],
            r["body"],
            r["ack_idx"],
            r["verdict"],
            r["received"],
            r["key_idx"],
            r["ack_time"],
        )
    return found


async def disbursement_beneficiary(
    conn: asyncpg.Connection, org_id: int, index: int
) -> str | None:
    """The beneficiary of disbursement ``index`` (None when the entry is not one)."""
    return await conn.fetchval(Q["disbursement_beneficiary"], org_id, index)


async def current_keys(
    conn: asyncpg.Connection, org_id: int, beneficiaries: Iterable[str]
) -> dict[str, BeneficiaryKey]:
    """Each beneficiary's newest key (the one that may sign now), for those enrolled."""
    rows = await conn.fetch(Q["current_beneficiary_keys"], org_id, list(beneficiaries))
    return {
        r["beneficiary"]: BeneficiaryKey(r["entry_idx"], r["beneficiary"], r["public_key"])
        for r in rows
    }


async def key_history(
    conn: asyncpg.Connection, org_id: int, beneficiary: str
) -> list[BeneficiaryKey]:
    """Every key the beneficiary enrolled, oldest first."""
    rows = await conn.fetch(Q["beneficiary_key_history"], org_id, beneficiary)
    return [
        BeneficiaryKey(r["entry_idx"], r["beneficiary"], r["public_key"], r["replaces"])
        for r in rows
    ]


async def disbursements_of(
    conn: asyncpg.Connection, org_id: int, beneficiary: str, limit: int = 200
) -> list[int]:
    """The newest disbursements to ``beneficiary``, newest first."""
    rows = await conn.fetch(Q["disbursements_of_beneficiary"], org_id, beneficiary, limit)
    return [r["entry_idx"] for r in rows]


async def acknowledged_share(
    conn: asyncpg.Connection,
    org_id: int,
    *,
    beneficiary: str | None = None,
    fund: str | None = None,
) -> list[Share]:
    """The acknowledged share of unreversed disbursements, per currency."""
    rows = await conn.fetch(Q["acknowledged_share"], org_id, beneficiary, fund)
    return [
        Share(
            r["currency"],
            r["disbursed"],
            r["acknowledged"],
            r["disputed"],
            r["disbursements"],
            r["acknowledged_count"],
            r["disputed_count"],
        )
        for r in rows
    ]


async def awaiting(conn: asyncpg.Connection, org_id: int, limit: int) -> list[int]:
    """Unreversed disbursements nobody acknowledged or disputed yet, oldest first."""
    return [r["entry_idx"] for r in await conn.fetch(Q["awaiting_acknowledgment"], org_id, limit)]


@dataclass(frozen=True)
class Unacknowledged:
    """A disbursement the console's dashboard follows up: still awaiting its recipient's
    acknowledgment, or disputed by it."""

    index: int
    """The disbursement entry."""
    fund: str
    beneficiary: str
    currency: str
    amount: int
    """Minor units disbursed."""
    paid_on: dt.date
    """Its value date."""
    received: int | None = None
    """Disputed: the minor units the recipient says arrived (0: nothing)."""
    dispute: int | None = None
    """Disputed: the ``disbursement.disputed`` entry."""


async def awaiting_before(
    conn: asyncpg.Connection, org_id: int, paid_before: dt.date, limit: int
) -> tuple[list[Unacknowledged], int]:
    """Unreversed disbursements neither acknowledged nor disputed whose value date is before
    ``paid_before``, oldest first (at most ``limit``), and how many there are."""
    rows = await conn.fetch(Q["awaiting_acknowledgment_before"], org_id, paid_before, limit)
    found = [
        Unacknowledged(
            r["entry_idx"], r["fund"], r["counterparty"], r["currency"], r["amount"], r["value_on"]
        )
        for r in rows
    ]
    return found, rows[0]["waiting"] if rows else 0


async def disputed(
    conn: asyncpg.Connection, org_id: int, limit: int
) -> tuple[list[Unacknowledged], int]:
    """Unreversed disbursements their recipient disputed, newest dispute first (at most
    ``limit``), and how many there are."""
    rows = await conn.fetch(Q["disputed_disbursements"], org_id, limit)
    found = [
        Unacknowledged(
            r["entry_idx"],
            r["fund"],
            r["counterparty"],
            r["currency"],
            r["amount"],
            r["value_on"],
            r["received"],
            r["dispute_idx"],
        )
        for r in rows
    ]
    return found, rows[0]["disputed"] if rows else 0


async def acknowledged_shares(
    conn: asyncpg.Connection, org_id: int
) -> list[tuple[str, str, Share]]:
    """(fund, beneficiary, share) of every pair with unreversed disbursements, one query."""
    return [
        (
            r["fund"],
            r["counterparty"],
            Share(
                r["currency"],
                r["disbursed"],
                r["acknowledged"],
                r["disputed"],
                r["disbursements"],
                r["acknowledged_count"],
                r["disputed_count"],
            ),
        )
        for r in await conn.fetch(Q["acknowledged_shares"], org_id)
    ]


async def insert_enrolment_link(
    conn: asyncpg.Connection,
    token_hash: bytes,
    org_id: int,
    beneficiary: str,
    expires_at: dt.datetime,
) -> None:
    await conn.execute(Q["insert_enrolment_link"], token_hash, org_id, beneficiary, expires_at)


async def enrolment_link(conn: asyncpg.Connection, token_hash: bytes) -> EnrolmentLinkRow | None:
    r = await conn.fetchrow(Q["enrolment_link"], token_hash)
    if r is None:
        return None
    return EnrolmentLinkRow(r["org_id"], r["slug"], r["beneficiary"], r["expires_at"])


async def entries_at(
    conn: asyncpg.Connection, org_id: int, indexes: Iterable[int]
) -> dict[int, StoredEntry]:
    """The entries at ``indexes`` (those that exist), by index."""
    rows = await conn.fetch(Q["entries_at"], org_id, list(indexes))
    return {r["idx"]: entry_of_row(r) for r in rows}


async def key_rows(
    conn: asyncpg.Connection, org_id: int, start: int, end: int
) -> list[asyncpg.Record]:
    """``beneficiary_keys`` rows of entries [start, end) (for ``ledger verify``)."""
    return await conn.fetch(Q["verify_beneficiary_keys"], org_id, start, end)


async def acknowledgment_rows(
    conn: asyncpg.Connection, org_id: int, start: int, end: int
) -> list[asyncpg.Record]:
    """``acknowledgments`` rows of entries [start, end) (for ``ledger verify``)."""
    return await conn.fetch(Q["verify_acknowledgments"], org_id, start, end)
