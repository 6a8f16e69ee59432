"""Signed outbound webhooks, per the Standard Webhooks specification (standardwebhooks.com).

Each delivery is a POST of the event's JSON body with three headers:

* ``webhook-id``: ``msg_<org id>_<seq>``, the same on every retry (receivers deduplicate on it);
* ``webhook-timestamp``: Unix seconds when this attempt was signed;
* ``webhook-signature``: ``v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``, where the
  key is the subscription's secret ``whsec_<base64 key>`` without its prefix, decoded.

Where events come from: the database's triggers write them into ``webhook_outbox`` in the
transaction of the entry or checkpoint they announce (migration 0019), numbered in commit
order per organization. The deliverer here is the only reader: per subscription, in order,
at least once. It moves the subscription's cursor past an event only once the receiver
answered 2xx; a failure (no answer in ``TIMEOUT_SECONDS``, or any other status) is logged and
retried after ``backoff(failures)`` seconds (1, 2, 4, ... at most ``MAX_BACKOFF_SECONDS``), and
no later event of that subscription goes out before it. Each batch of events (``BATCH``, at
most ``BATCH_SECONDS``) is one transaction that holds the cursor row (``FOR UPDATE SKIP
LOCKED``), so two processes never deliver the same subscription at once; a process killed
mid-delivery leaves the cursor where it was, and the batch's events are sent again (with the
same ``webhook-id``s).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from ledger.errors import LedgerError, NotFoundError
from ledger.journal.keys import open_value, seal_value
from ledger.journal.webhookhttp import DeliveryError, Sender
from ledger.store import webhooks as W
from ledger.store.log import UNAVAILABLE, Organization, Store

log = logging.getLogger(__name__)

EVENTS = ("entry.appended", "checkpoint.signed", "statement.issued")
SECRET_PREFIX = "whsec_"
TIMEOUT_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 300.0
POLL_SECONDS = 0.1
"""How often the deliverer looks for due subscriptions."""
BATCH = 100
"""Events read, sent and recorded per transaction of one subscription."""
BATCH_SECONDS = 1.0
"""A transaction sends no new event after this long (a slow receiver keeps batches short)."""
SEAL_DOMAIN = b"donation-ledger webhook secret\x00"


def backoff(failures: int) -> float:
    """Seconds to wait after the ``failures``-th failure in a row: 1, 2, 4, ... capped."""
    return min(MAX_BACKOFF_SECONDS, 2.0 ** max(0, failures - 1))


def message_id(org_id: int, seq: int) -> str:
    return f"msg_{org_id}_{seq}"


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of one attempt (Standard Webhooks, version 1)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _aad(sub_id: uuid.UUID) -> bytes:
    return SEAL_DOMAIN + str(sub_id).encode()


@dataclass(frozen=True)
class Created:
    """A new subscription, with its secret (shown this once)."""

    id: uuid.UUID
    """Public id."""
    secret: str
    """``whsec_...``: the receiver verifies signatures with it."""


async def subscribe(
    store: Store, kek: bytes, org: Organization, url: str, events: Sequence[str]
) -> tuple[Created, W.SubscriptionState]:
    """A new subscription; it receives the events written from now on."""
    sub_id = uuid.uuid4()
    secret = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
    sealed = seal_value(kek, _aad(sub_id), secret.encode())
    async with store.connection() as conn, conn.transaction():
        await W.insert_subscription(conn, sub_id, org.id, url, sealed, events)
        states = await W.subscriptions(conn, org.id)
    state = next(s for s in states if s.id == sub_id)
    return Created(sub_id, secret), state


async def unsubscribe(store: Store, org: Organization, sub_id: uuid.UUID) -> None:
    async with store.connection() as conn:
        if not await W.disable_subscription(conn, org.id, sub_id):
            raise NotFoundError(f"no active webhook subscription {sub_id} in {org.slug}")


async def _attempt(
    client: Sender, sub: W.Subscription, secret: str, event: W.Event
) -> tuple[int | None, str | None, int]:
    """(status, error, milliseconds) of one POST; error None means delivered."""
    body = event.payload.encode()
    msg_id, timestamp = message_id(sub.org_id, event.seq), int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
    }
    started = time.perf_counter()
    try:
        status = await client.post(sub.url, body, headers)
    except DeliveryError as exc:
        took = int((time.perf_counter() - started) * 1000)
        return None, f"{type(exc).__name__}: {exc}"[:500], took
    took = int((time.perf_counter() - started) * 1000)
    if 200 <= status < 300:
        return status, None, took
    return status, f"the receiver answered {status}", took


async def deliver(store: Store, kek: bytes, client: Sender, sub: W.Subscription) -> int:
    """Deliver one subscription's pending events in order until one fails; how many went.

    Events go out one after another, each only after the one before it was answered 2xx, in
    transactions of at most ``BATCH`` events or ``BATCH_SECONDS``: one cursor lock, one read,
    one write of the attempts and one cursor move per batch instead of per event (issue 15:
    one transaction per event delivered about 30 events/s on a loaded machine; the entries
    came at 500/s)."""
    secret = open_value(kek, _aad(sub.id), sub.sealed_secret, f"webhook secret {sub.id}").decode()
    sent = 0
    while True:
        async with store.connection() as conn, conn.transaction():
            cursor = await W.lock_cursor(conn, sub.id)
            if cursor is None or not cursor[2]:
                return sent  # another process delivers it, or its backoff has not passed
            delivered, failures, _ = cursor
            events = await W.pending_events(conn, sub.org_id, delivered, sub.events, BATCH)
            if not events:
                return sent
            attempts: list[W.Attempt] = []
            error: str | None = None
            until = time.monotonic() + BATCH_SECONDS
            for event in events:
                status, error, took = await _attempt(client, sub, secret, event)
                # The first event may have failed before; the others are tried for the first time.
                number = failures + 1 if not attempts else 1
                attempts.append(W.Attempt(event.seq, number, status, error, took))
                if error is not None or time.monotonic() > until:
                    break
            await W.log_attempts(conn, sub.id, attempts)
            done = [a.seq for a in attempts if a.error is None]
            if done:
                await W.delivered(conn, sub.id, done[-1])
            if error is not None:
                await W.failed(conn, sub.id, backoff(attempts[-1].attempt))
            # Commit point: the attempts' log rows and the cursor move (or the backoff)
            # together. Killed before it: nothing is recorded and this batch's events go
            # again, in order, with the same webhook-ids (receivers deduplicate on them).
        sent += len(done)
        if error is not None:
            return sent


async def deliver_due(store: Store, kek: bytes, client: Sender) -> int:
    """One round over every due subscription (each in order, all of them concurrently)."""
    async with store.connection() as conn:
        due = await W.due_subscriptions(conn)
    counts = await asyncio.gather(*(deliver(store, kek, client, s) for s in due))
    return sum(counts)


async def deliver_forever(store: Store, kek: bytes) -> None:
    """The deliverer of a service process (``ledger.http.services``)."""
    async with Sender(TIMEOUT_SECONDS) as client:
        while True:
            try:
                await deliver_due(store, kek, client)
            except (LedgerError, asyncpg.PostgresError, *UNAVAILABLE) as exc:
                log.warning("webhook delivery round failed: %s", exc)
            except Exception:  # a bug must not stop every later delivery
                log.exception("webhook delivery round failed unexpectedly")
            await asyncio.sleep(POLL_SECONDS)


async def stop(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
