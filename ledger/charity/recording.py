"""Recording writes: Idempotency-Key handling around the group-commit append.

Convention (BRIEF): the same key with the same request replays the original response (with
``Idempotency-Replayed: true``); the same key with a different request is a 422; the same key
while the first request is still in flight is a 409. The key record is written in the same
transaction as the entry (``CharityPolicy.after_insert``), so a crash can never leave an
entry without its key or a key without its entry.
"""

from __future__ import annotations

import asyncio
import hashlib
from asyncio import Future
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.charity.rules import CharityPolicy, Command, join_recorded
from ledger.errors import (
    AlreadyRecorded,
    IdempotencyInFlightError,
    IdempotencyKeyError,
    IdempotencyMismatchError,
    LedgerError,
)
from ledger.journal.appender import Appended, Intent, append_batch
from ledger.store import charity as P
from ledger.store.log import Organization

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Reply:
    """What a write answers: a status, a JSON body, and whether it is a replay."""

    status: int
    """HTTP status."""
    body: bytes
    """JSON body."""
    replayed: bool = False
    """True when the body is the stored response of an earlier identical request."""


def request_hash(method: str, path: str, body: bytes) -> bytes:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).digest()


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise IdempotencyKeyError("every write needs an Idempotency-Key header (any unique string)")
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise IdempotencyKeyError(
            f"Idempotency-Key must be printable and at most {MAX_KEY_LENGTH} characters"
        )
    return key


class InFlight:
    """Idempotency keys whose request is being recorded by this process."""

    def __init__(self) -> None:
        self._keys: set[tuple[int, str]] = set()

    def claim(self, org_id: int, key: str) -> None:
        if (org_id, key) in self._keys:
            raise IdempotencyInFlightError(
                f"a request with Idempotency-Key {key!r} is still being recorded; retry shortly"
            )
        self._keys.add((org_id, key))

    def release(self, org_id: int, key: str) -> None:
        self._keys.discard((org_id, key))


async def replay(services, org: Organization, key: str, digest: bytes) -> Reply | None:  # type: ignore[no-untyped-def]
    async with services.store.connection() as conn:
        row = await P.idempotency(conn, org.id, key)
    if row is None:
        return None
    if row.request_hash != digest:
        raise IdempotencyMismatchError(
            f"Idempotency-Key {key!r} was already used for a different request; "
            "use a new key for a new request"
        )
    return Reply(row.status, row.response, replayed=True)


async def record(services, org: Organization, command: Command) -> Reply:  # type: ignore[no-untyped-def]
    """Append one command through group commit, exactly once per Idempotency-Key."""
    future = record_soon(services, org, command)
    try:
        await future
    except asyncio.CancelledError:  # this request was cancelled: nothing to answer
        services.inflight.release(org.id, command.idem_key)
        raise
    except Exception:  # what refused the command: ``recorded`` raises it
        pass
    return recorded(services, org, command, future)


def record_soon(services, org: Organization, command: Command) -> Future[Appended]:  # type: ignore[no-untyped-def]
    """``record``'s first half, with no await (the connection's donation door calls it from
    the parser's callback): the key is claimed in flight and the command handed to the group
    commit; the future is done once its batch committed. ``recorded`` is the second half."""
    key, digest = command.idem_key, command.request_hash
    assert key is not None and digest is not None
    services.inflight.claim(org.id, key)
    try:
        # A known key is found by the writer under the log-head lock, with no extra query.
        return services.appender.submit(org, command.kind, command.body, command)
    except BaseException:
        services.inflight.release(org.id, key)
        raise


def recorded(services, org: Organization, command: Command, future: Future[Appended]) -> Reply:  # type: ignore[no-untyped-def]
    """``record``'s second half, once ``future`` is done: the key released, the answer (a
    replay's when the writer found the key recorded). Raises what refused the command."""
    services.inflight.release(org.id, command.idem_key)
    try:
        appended = future.result()
    except AlreadyRecorded as done:
        return Reply(done.status, done.body, replayed=True)
    return Reply(command.status, appended.extra)


async def record_all(
    services,
    org: Organization,
    commands: Sequence[Command],
    key: str,
    digest: bytes,  # type: ignore[no-untyped-def]
) -> Reply:
    """Append many commands in one transaction: all are recorded, or none (batch import).
    A command with its own key (a batch item's ``key``) that was recorded before is not
    appended again: its place in the answer holds its original ``Recorded``."""
    previous = await replay(services, org, key, digest)
    if previous is not None:
        return previous
    services.inflight.claim(org.id, key)
    try:
        intents = [Intent(c.kind, c.body, c) for c in commands]
        async with services.store.connection() as conn, conn.transaction():
            results = await append_batch(
                services.store,
                conn,
                org,
                intents,
                policy=CharityPolicy(services.clock),
                clock=services.clock,
            )
            answers = []
            for n, outcome in enumerate(results):
                if isinstance(outcome, AlreadyRecorded):  # an item key recorded before
                    answers.append(outcome.body)
                elif isinstance(outcome, LedgerError):
                    raise type(outcome)(f"item {n}: {outcome} (nothing was recorded)")
                else:
                    answers.append(outcome.extra)
            body = join_recorded(answers)
            await P.insert_idempotency(conn, org.id, key, digest, 201, body)
            # Commit point: every entry of the batch, its projections and the key, together.
    finally:
        services.inflight.release(org.id, key)
    return Reply(201, body)
