"""Signed outbound webhooks (migration 0019; named queries in ``sql/ingest_queries.sql``).

The outbox is written by the database's triggers in the transaction of what it announces;
this module reads it, manages subscriptions and cursors, and appends to the delivery log.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ledger.store.gateways import Q


@dataclass(frozen=True)
class Subscription:
    """A webhook subscription as the deliverer needs it."""

    id: uuid.UUID
    """Public id."""
    org_id: int
    """Its organization."""
    url: str
    """The receiver."""
    sealed_secret: bytes
    """The signing secret, sealed under the KEK."""
    events: list[str]
    """Event types delivered to it."""


@dataclass(frozen=True)
class SubscriptionState:
    """A subscription as an admin sees it."""

    id: uuid.UUID
    """Public id."""
    url: str
    """The receiver."""
    events: list[str]
    """Event types delivered to it."""
    created_at: datetime
    """When it was created."""
    delivered_seq: int
    """Delivered up to this event number."""
    failures: int
    """Failed attempts in a row at the next event."""
    next_attempt_at: datetime
    """No attempt before this time."""


@dataclass(frozen=True)
class Event:
    """An outbox event: its number and exact body."""

    seq: int
    """Per-organization number, in commit order."""
    payload: str
    """The JSON body as stored."""


@dataclass(frozen=True)
class Delivery:
    """One attempt of the delivery log."""

    seq: int
    """The event."""
    attempt: int
    """1, 2, ..."""
    attempted_at: datetime
    """When."""
    status: int | None
    """The receiver's status, if it answered."""
    error: str | None
    """Why it failed, if it did."""
    duration_ms: int
    """How long it took."""


async def insert_subscription(
    conn: asyncpg.Connection,
    sub_id: uuid.UUID,
    org_id: int,
    url: str,
    sealed: bytes,
    events: Sequence[str],
) -> datetime:
    return await conn.fetchval(
        Q["insert_webhook_subscription"], sub_id, org_id, url, sealed, list(events)
    )


async def subscriptions(conn: asyncpg.Connection, org_id: int) -> list[SubscriptionState]:
    rows = await conn.fetch(Q["webhook_subscriptions"], org_id)
    return [SubscriptionState(*r.values()) for r in rows]


async def disable_subscription(conn: asyncpg.Connection, org_id: int, sub_id: uuid.UUID) -> bool:
    return await conn.fetchval(Q["disable_webhook_subscription"], sub_id, org_id) is not None


async def due_subscriptions(conn: asyncpg.Connection) -> list[Subscription]:
    rows = await conn.fetch(Q["due_webhook_subscriptions"])
    return [Subscription(*r.values()) for r in rows]


async def lock_cursor(conn: asyncpg.Connection, sub_id: uuid.UUID) -> tuple[int, int, bool] | None:
    """(delivered seq, failures, due) with the cursor locked until the transaction ends;
    None when another deliverer holds it."""
    r = await conn.fetchrow(Q["lock_webhook_cursor"], sub_id)
    return None if r is None else (r["delivered_seq"], r["failures"], r["due"])


async def pending_events(
    conn: asyncpg.Connection, org_id: int, after: int, events: Sequence[str], limit: int
) -> list[Event]:
    rows = await conn.fetch(Q["pending_webhook_events"], org_id, after, list(events), limit)
    return [Event(r["seq"], r["payload"]) for r in rows]


async def delivered(conn: asyncpg.Connection, sub_id: uuid.UUID, seq: int) -> None:
    await conn.execute(Q["webhook_delivered"], sub_id, seq)


async def failed(conn: asyncpg.Connection, sub_id: uuid.UUID, backoff_seconds: float) -> None:
    await conn.execute(Q["webhook_failed"], sub_id, backoff_seconds)


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt, for the delivery log."""

    seq: int
    """The event."""
    attempt: int
    """1 for its first attempt, then +1."""
    status: int | None
    """The receiver's HTTP status; None when no answer came."""
    error: str | None
    """Why it failed; None when delivered."""
    duration_ms: int
    """How long it took."""


async def log_attempts(
    conn: asyncpg.Connection, sub_id: uuid.UUID, attempts: Sequence[Attempt]
) -> None:
    """Record ``attempts`` in the delivery log (one statement)."""
    await conn.execute(
        Q["insert_webhook_deliveries"],
        sub_id,
        [a.seq for a in attempts],
        [a.attempt for a in attempts],
        [a.status for a in attempts],
        [a.error for a in attempts],
        [a.duration_ms for a in attempts],
    )


async def deliveries(
    conn: asyncpg.Connection, org_id: int, sub_id: uuid.UUID, limit: int
) -> list[Delivery]:
    rows = await conn.fetch(Q["webhook_deliveries"], sub_id, org_id, limit)
    return [Delivery(*r.values()) for r in rows]
