"""Storage of the web console's staff accounts, sessions and failed logins (migration 0020).

Named queries of ``sql/staff_queries.sql`` only. Rows come back as ``StaffRow``; asyncpg's
unique violation on an account's e-mail is translated into ``AlreadyExistsError`` here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from ledger.errors import AlreadyExistsError
from ledger.store.log import load_queries

SQ = load_queries("staff_queries.sql")


@dataclass(frozen=True)
class StaffRow:
    """One staff account (personal data: never logged, never in the public log)."""

    id: uuid.UUID
    """Random public id; the log names the account by it."""
    org_id: int
    """Its organization."""
    email: str
    """Login name, lower-cased."""
    name: str
    """Display name."""
    role: str
    """admin, recorder or auditor."""
    password_hash: str
    """argon2id PHC string."""
    must_change: bool
    """The password was set by someone else; change it at the next login."""
    totp_secret: bytes | None
    """Sealed TOTP secret, None without a second factor."""
    totp_last_step: int | None
    """Last accepted TOTP step."""
    failed_logins: int
    """Failed logins since the last success."""
    locked_at: dt.datetime | None
    """When failed logins locked it."""
    disabled_at: dt.datetime | None
    """When an admin disabled it."""
    created_at: dt.datetime
    """When it was created."""


def _row(r: asyncpg.Record | None) -> StaffRow | None:
    return None if r is None else StaffRow(*(r[i] for i in range(13)))


async def insert_staff(
    conn: asyncpg.Connection,
    staff_id: uuid.UUID,
    org_id: int,
    email: str,
    name: str,
    role: str,
    password_hash: str,
    must_change: bool,
) -> None:
    try:
        await conn.execute(
            SQ["insert_staff"], staff_id, org_id, email, name, role, password_hash, must_change
        )
    except asyncpg.UniqueViolationError as exc:
        raise AlreadyExistsError.of(
            "a staff account with e-mail {email} already exists", email=email
        ) from exc


async def staff_by_email(conn: asyncpg.Connection, org_id: int, email: str) -> StaffRow | None:
    return _row(await conn.fetchrow(SQ["staff_by_email"], org_id, email))


async def staff_by_id(conn: asyncpg.Connection, staff_id: uuid.UUID) -> StaffRow | None:
    return _row(await conn.fetchrow(SQ["staff_by_id"], staff_id))


async def list_staff(conn: asyncpg.Connection, org_id: int) -> list[StaffRow]:
    return [r for r in map(_row, await conn.fetch(SQ["list_staff"], org_id)) if r is not None]


async def count_staff(conn: asyncpg.Connection, org_id: int) -> int:
    return int(await conn.fetchval(SQ["count_staff"], org_id))


async def login_failed(
    conn: asyncpg.Connection, staff_id: uuid.UUID, limit: int
) -> tuple[int, dt.datetime | None]:
    """Count one failed login; return the failures so far and when the account locked."""
    row = await conn.fetchrow(SQ["login_failed"], staff_id, limit)
    return row["failed_logins"], row["locked_at"]


async def login_succeeded(conn: asyncpg.Connection, staff_id: uuid.UUID) -> None:
    await conn.execute(SQ["login_succeeded"], staff_id)


async def set_password(
    conn: asyncpg.Connection, staff_id: uuid.UUID, password_hash: str, must_change: bool
) -> None:
    await conn.execute(SQ["set_password"], staff_id, password_hash, must_change)


async def set_role(conn: asyncpg.Connection, staff_id: uuid.UUID, role: str) -> None:
    await conn.execute(SQ["set_role"], staff_id, role)


async def set_disabled(conn: asyncpg.Connection, staff_id: uuid.UUID, disabled: bool) -> None:
    await conn.execute(SQ["set_disabled"], staff_id, disabled)


async def unlock_staff(conn: asyncpg.Connection, staff_id: uuid.UUID) -> None:
    await conn.execute(SQ["unlock_staff"], staff_id)


async def set_totp(conn: asyncpg.Connection, staff_id: uuid.UUID, sealed: bytes | None) -> None:
    await conn.execute(SQ["set_totp"], staff_id, sealed)


async def use_totp_step(conn: asyncpg.Connection, staff_id: uuid.UUID, step: int) -> bool:
    """Mark TOTP step ``step`` used; False if it (or a later one) was used already."""
    return await conn.fetchval(SQ["use_totp_step"], staff_id, step) is not None


async def insert_session(
    conn: asyncpg.Connection, token_hash: bytes, staff_id: uuid.UUID, seconds: float
) -> None:
    """A session that ends ``seconds`` from now, by the database's clock."""
    await conn.execute(SQ["insert_session"], token_hash, staff_id, float(seconds))


async def session_owner(conn: asyncpg.Connection, token_hash: bytes) -> uuid.UUID | None:
    """The account a session token's hash belonged to, whatever the session's state."""
    return await conn.fetchval(SQ["session_owner"], token_hash)  # type: ignore[no-any-return]


async def session_staff(
    conn: asyncpg.Connection, token_hash: bytes, idle_seconds: float, fresh_seconds: float
) -> tuple[StaffRow, bool, str] | None:
    """The account of a valid session seen within ``idle_seconds``, whether it was seen
    within ``fresh_seconds``, and its organization's slug; None for an unknown, revoked,
    expired or idle session, or a locked or disabled account."""
    r = await conn.fetchrow(
        SQ["session_staff"], token_hash, float(idle_seconds), float(fresh_seconds)
    )
    if r is None:
        return None
    return StaffRow(*(r[i] for i in range(13))), bool(r["fresh"]), r["slug"]


async def touch_session(conn: asyncpg.Connection, token_hash: bytes) -> None:
    await conn.execute(SQ["touch_session"], token_hash)


async def revoke_session(conn: asyncpg.Connection, token_hash: bytes) -> None:
    await conn.execute(SQ["revoke_session"], token_hash)


async def revoke_sessions_of(conn: asyncpg.Connection, staff_id: uuid.UUID) -> None:
    await conn.execute(SQ["revoke_sessions_of"], staff_id)


async def address_failures(conn: asyncpg.Connection, address: str, seconds: float) -> int:
    """Failed logins from ``address`` in the last ``seconds``."""
    return int(await conn.fetchval(SQ["address_failures"], address, float(seconds)))


async def insert_address_failure(conn: asyncpg.Connection, address: str) -> None:
    await conn.execute(SQ["insert_address_failure"], address)


async def prune_address_failures(conn: asyncpg.Connection, older_than_seconds: float) -> None:
    await conn.execute(SQ["prune_address_failures"], float(older_than_seconds))


# --- API keys issued from the console (migration 0021: issued_by) ---------------------------


@dataclass(frozen=True)
class ApiKeyListed:
    """An API key as the console lists it (never its secret)."""

    id: uuid.UUID
    prefix: str
    """The non-secret part of the key text (``ldg_<prefix>_...``)."""
    role: str
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    issued_by: uuid.UUID | None
    """The console account that issued it, if one did."""


async def insert_api_key_by(
    conn: asyncpg.Connection,
    key_id: uuid.UUID,
    org_id: int,
    prefix: str,
    digest: bytes,
    role: str,
    label: str,
    issued_by: uuid.UUID | None,
) -> None:
    await conn.execute(
        SQ["insert_api_key_by"], key_id, org_id, prefix, digest, role, label, issued_by
    )


async def api_keys_of_org(conn: asyncpg.Connection, org_id: int) -> list[ApiKeyListed]:
    return [ApiKeyListed(*r) for r in await conn.fetch(SQ["api_keys_of_org"], org_id)]


async def revoke_api_key_of(
    conn: asyncpg.Connection, org_id: int, key_id: uuid.UUID, issued_by: uuid.UUID | None
) -> bool:
    """Revoke an active key (only one ``issued_by`` issued, unless None); True if revoked."""
    return await conn.fetchrow(SQ["revoke_api_key_of"], org_id, key_id, issued_by) is not None


async def revoke_other_sessions(
    conn: asyncpg.Connection, staff_id: uuid.UUID, keep_hash: bytes
) -> None:
    await conn.execute(SQ["revoke_other_sessions"], staff_id, keep_hash)


# --- the console's reads ------------------------------------------------------------------


@dataclass(frozen=True)
class DonationSums:
    """Donations of one fund and currency by value date, reversed ones left out."""

    fund: str
    currency: str
    today: int
    today_count: int
    month: int
    """From the first of the month to today."""
    month_count: int


async def donation_sums(
    conn: asyncpg.Connection, org_id: int, today: dt.date, month_start: dt.date
) -> list[DonationSums]:
    return [
        DonationSums(*r) for r in await conn.fetch(SQ["donation_sums"], org_id, today, month_start)
    ]


@dataclass(frozen=True)
class MoneyListed:
    """A money entry as the console lists it."""

    index: int
    kind: str
    fund: str
    counterparty: str | None
    currency: str
    amount: int
    reference: str | None
    corrected_by: int | None


async def recent_money(
    conn: asyncpg.Connection, org_id: int, before: int, limit: int
) -> list[MoneyListed]:
    return [MoneyListed(*r) for r in await conn.fetch(SQ["recent_money"], org_id, before, limit)]
