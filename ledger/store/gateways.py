"""Payment-gateway rows (migration 0018; named queries in ``sql/ingest_queries.sql``).

``gateway_connections``: an organization's connection to a gateway, a new version per change,
its secret sealed (``ledger.ingest.connections``). ``gateway_notifications``: the verified
notifications that move money, kept once per payment and event. ``donations_by_reference``
reads what the log already recorded for a payment. All of it is append-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ledger.errors import ConflictError
from ledger.store.log import load_queries

Q = load_queries("ingest_queries.sql")


@dataclass(frozen=True)
class ConnectionRow:
    """A version of an organization's connection to one gateway."""

    gateway: str
    """midtrans or xendit."""
    version: int
    """1, then +1 per change."""
    sealed_secret: bytes | None
    """The secret sealed under the KEK; None when read for display."""
    fund_rule: str
    """The fund rule as JSON text (``schemas.gateways.FundRule``)."""
    created_at: datetime
    """When the version was stored."""


@dataclass(frozen=True)
class NotificationRow:
    """A verified notification that moves money (``gateway_notifications``)."""

    gateway: str
    """midtrans or xendit."""
    payment_id: str
    """The gateway's payment identity."""
    event: str
    """What makes a delivery new: ``settlement`` or ``refund:<refunded total>``."""
    kind: str
    """settled or refunded."""
    fund: str
    """Fund chosen by the connection's rule."""
    currency: str
    """ISO 4217 code."""
    gross: int
    """The payment's amount, minor units."""
    refunded: int
    """Refunded total so far, minor units (0 for a settlement)."""
    channel: str
    """Donation channel."""
    occurred_at: datetime
    """When the money moved, per the gateway."""
    body_sha256: bytes
    """SHA-256 of the exact body."""
    body: bytes = b""
    """The exact body (empty when read back: only the digest is needed)."""


@dataclass(frozen=True)
class RecordedDonation:
    """A donation the log holds under a payment's reference."""

    index: int
    """Its entry."""
    fund: str
    """Its fund."""
    currency: str
    """Its currency."""
    amount: int
    """Minor units."""
    corrected_by: int | None
    """The correction that reversed it, if any."""


async def insert_connection(
    conn: asyncpg.Connection,
    org_id: int,
    gateway: str,
    version: int,
    sealed: bytes,
    fund_rule: str,
) -> datetime:
    """Store version ``version`` of the connection; when it was stored."""
    try:
        return await conn.fetchval(
            Q["insert_gateway_connection"], org_id, gateway, version, sealed, fund_rule
        )
    except asyncpg.UniqueViolationError as exc:
        raise ConflictError(
            f"the {gateway} connection was changed by another request at the same moment; "
            "send yours again"
        ) from exc


async def connection(conn: asyncpg.Connection, org_id: int, gateway: str) -> ConnectionRow | None:
    """The version in force, with its sealed secret; None when the gateway is not connected."""
    r = await conn.fetchrow(Q["gateway_connection"], org_id, gateway)
    if r is None:
        return None
    return ConnectionRow(gateway, r["version"], r["sealed_secret"], r["fund_rule"], r["created_at"])


async def connections(conn: asyncpg.Connection, org_id: int) -> list[ConnectionRow]:
    """Every gateway's version in force, without secrets."""
    rows = await conn.fetch(Q["gateway_connections"], org_id)
    return [
        ConnectionRow(r["gateway"], r["version"], None, r["fund_rule"], r["created_at"])
        for r in rows
    ]


def _values(n: NotificationRow) -> tuple:
    """A notification's columns, in the order of ``gateway_notifications`` (after org_id),
    of ``insert_gateway_notification``'s parameters and of the ``batch_settlement`` record."""
    return (
        n.gateway,
        n.payment_id,
        n.event,
        n.kind,
        n.fund,
        n.currency,
        n.gross,
        n.refunded,
        n.channel,
        n.occurred_at,
        n.body_sha256,
        n.body,
    )


SETTLEMENT_COLUMNS = 12
"""Columns of a kept notification (``_values``)."""


async def insert_notification(conn: asyncpg.Connection, org_id: int, n: NotificationRow) -> bool:
    """Keep a notification unless the same payment and event is kept already; whether new."""
    new = await conn.fetchval(Q["insert_gateway_notification"], org_id, *_values(n))
    return bool(new)


def settlement_columns(rows: Sequence[NotificationRow]) -> list[list]:
    """``rows`` as the 12 column arrays ``keep_gateway_settlements`` keeps them from (the
    same rows ``keep_settlements`` keeps)."""
    if not rows:
        return [[] for _ in range(SETTLEMENT_COLUMNS)]
    return [list(column) for column in zip(*map(_values, rows), strict=True)]


def settlement_records(rows: Sequence[NotificationRow]) -> list[tuple]:
    """``rows`` as the settlement rows ``append_batch_json`` keeps (migration 0030; the
    members of ``settlement_columns``, row by row)."""
    return [_values(n) for n in rows]


async def keep_settlements(
    conn: asyncpg.Connection, org_id: int, rows: Sequence[NotificationRow]
) -> set[tuple[str, str]]:
    """Keep ``rows`` in the caller's transaction (a duplicate adds nothing); the
    ``(gateway, payment_id)`` among them of which a refund was kept."""
    found = await conn.fetch(Q["keep_gateway_settlements"], org_id, *settlement_columns(rows))
    return {(r["gateway"], r["payment_id"]) for r in found}


async def has_refunds(conn: asyncpg.Connection, org_id: int, gateway: str, payment_id: str) -> bool:
    """Whether a refund of the payment was kept."""
    return bool(await conn.fetchval(Q["gateway_payment_has_refunds"], org_id, gateway, payment_id))


async def lock_payment(
    conn: asyncpg.Connection, org_id: int, gateway: str, payment_id: str
) -> None:
    """Hold the payment's advisory lock until the caller's transaction ends (taken before
    the log-head lock, always)."""
    await conn.execute(Q["lock_gateway_payment"], org_id, gateway, payment_id)


async def payment_notifications(
    conn: asyncpg.Connection, org_id: int, gateway: str, payment_id: str
) -> list[NotificationRow]:
    """What the gateway said of one payment, oldest first."""
    rows = await conn.fetch(Q["gateway_payment_notifications"], org_id, gateway, payment_id)
    return [
        NotificationRow(
            gateway,
            payment_id,
            r["event"],
            r["kind"],
            r["fund"],
            r["currency"],
            r["gross"],
            r["refunded"],
            r["channel"],
            r["occurred_at"],
            r["body_sha256"],
        )
        for r in rows
    ]


async def donations_by_reference(
    conn: asyncpg.Connection, org_id: int, reference: str
) -> list[RecordedDonation]:
    """Every donation under ``reference``, reversed or not, in log order."""
    rows = await conn.fetch(Q["donations_by_reference"], org_id, reference)
    return [
        RecordedDonation(r["entry_idx"], r["fund"], r["currency"], r["amount"], r["corrected_by"])
        for r in rows
    ]
