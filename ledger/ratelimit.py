"""Rate limiting per API key, shared by every worker process through PostgreSQL.

The limit is ``LEDGER_RATE_LIMIT`` requests per minute per API key (default 60,000; 0 turns
limiting off), counted in fixed windows of one wall-clock minute. Requests without a valid
API key are not counted here (they are refused by the auth guard or are public reads).

How the count is shared without a database round trip per request: each process counts
locally and, every ``FLUSH_SECONDS`` (100 ms), adds what it admitted to the shared counter
of the window (table ``rate_limit_counts``, one upsert for all keys) and reads back the
totals. A request is admitted while ``last shared total + admitted here since`` is below the
limit; otherwise it gets a 429 problem with ``Retry-After`` (seconds to the next window).

The approximation, documented: a process learns the shared total only when it flushes what
it admitted itself, so it may admit up to one flush interval's worth of a key's requests
(plus one round trip) beyond the limit before it refuses. Across N processes a key may
therefore exceed its limit by about N x (its requests per process per 100 ms); with one
process the limit is exact (once it has flushed in the window, e.g. after a restart). Refused requests are not counted. The table is
UNLOGGED: counters are not worth a WAL flush, and a database crash merely resets them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from ledger.auth import PRINCIPAL_SCOPE_KEY, api_key_from
from ledger.errors import LedgerError, UnauthorizedError
from ledger.observability import RATE_LIMITED
from ledger.storage import Q, Store

log = logging.getLogger(__name__)

DEFAULT_PER_MINUTE = 60_000
WINDOW_SECONDS = 60
FLUSH_SECONDS = 0.1
KEEP_WINDOWS_SECONDS = 600
"""Shared counters older than this are deleted (they no longer decide anything)."""


@dataclass(frozen=True)
class RateLimit:
    """The configured limit."""

    per_minute: int = DEFAULT_PER_MINUTE
    """Requests per minute per API key; 0 disables rate limiting."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RateLimit:
        raw = env.get("LEDGER_RATE_LIMIT", "").strip()
        if not raw:
            return cls()
        if not raw.isdigit():
            raise LedgerError(
                f"LEDGER_RATE_LIMIT must be a whole number of requests per minute, got {raw!r}"
            )
        return cls(int(raw))


@dataclass
class _Window:
    """One key's count in the current window, as this process knows it."""

    window: int
    """Window number: wall-clock seconds // WINDOW_SECONDS."""
    pending: int = 0
    """Admitted by this process and not yet added to the shared counter."""
    shared: int = 0
    """The shared counter as last read back (it includes what this process flushed)."""


class RateLimiter:
    """Fixed-window counters per API key; local counting, shared totals flushed every 100 ms."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        flush_seconds: float = FLUSH_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit.per_minute
        self.flush_seconds = flush_seconds
        self.clock = clock
        self._counts: dict[uuid.UUID, _Window] = {}
        self._last_prune = 0.0
        self._failing = False

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def hit(self, key_id: uuid.UUID) -> float | None:
        """Count one request of ``key_id``: None when admitted, else seconds until it may retry."""
        now = self.clock()
        window = int(now // WINDOW_SECONDS)
        count = self._counts.get(key_id)
        if count is None or count.window != window:
            count = self._counts[key_id] = _Window(window)
        if count.shared + count.pending >= self.limit:
            return (window + 1) * WINDOW_SECONDS - now
        count.pending += 1
        return None

    async def flush(self, store: Store) -> None:
        """Add this process's pending counts to the shared counters; read the totals back."""
        now = self.clock()
        window = int(now // WINDOW_SECONDS)
        for key_id in [k for k, c in self._counts.items() if c.window != window]:
            del self._counts[key_id]  # a past window decides nothing any more
        # Sorted keys: concurrent flushes lock the counter rows in the same order (no deadlock).
        batch = sorted((k, c.pending) for k, c in self._counts.items() if c.pending)
        if batch:
            for key_id, n in batch:
                self._counts[key_id].pending -= n  # hits arriving meanwhile stay pending
            start = datetime.fromtimestamp(window * WINDOW_SECONDS, UTC)
            try:
                async with store.connection() as conn:
                    rows = await conn.fetch(
                        Q["rate_limit_add"], start, [k for k, _ in batch], [n for _, n in batch]
                    )
            except BaseException:
                for key_id, n in batch:  # not counted yet: keep them for the next flush
                    count = self._counts.get(key_id)
                    if count is not None and count.window == window:
                        count.pending += n
                raise
            for row in rows:
                count = self._counts.get(row["key_id"])
                if count is not None and count.window == window:
                    count.shared = max(count.shared, row["hits"])
        if now - self._last_prune > WINDOW_SECONDS:
            self._last_prune = now
            cutoff = datetime.fromtimestamp(now - KEEP_WINDOWS_SECONDS, UTC)
            async with store.connection() as conn:
                await conn.execute(Q["rate_limit_prune"], cutoff)

    async def _flush_forever(self, store: Store) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            try:
                await self.flush(store)
            except (LedgerError, asyncpg.PostgresError) as exc:
                if not self._failing:  # once per outage, not ten times a second
                    log.warning("rate limit counters not shared (counting locally): %s", exc)
                self._failing = True
            except Exception:
                log.exception("rate limit flush failed (counting locally)")
                self._failing = True
            else:
                self._failing = False

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        """Flush in the background while the app runs (after the services have started)."""
        if not self.enabled:
            yield
            return
        store: Store = app.state.services.store
        task = asyncio.create_task(self._flush_forever(store), name="rate-limit-flush")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(LedgerError, asyncpg.PostgresError):
                await self.flush(store)


class RateLimitMiddleware(ASGIMiddleware):
    """Refuses requests of an API key over its limit with 429 and ``Retry-After``.

    It runs before the handlers' auth guard, so it authenticates the key itself through the
    same per-process key cache (a dictionary lookup and one SHA-256 when cached) and leaves
    the principal in the scope for the guard (``PRINCIPAL_SCOPE_KEY``). An invalid key is left
    to the guard: the middleware neither counts it nor answers for it. ``create_app`` installs
    it only when limiting is on.
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if self.limiter.enabled:
            text = api_key_from(scope["headers"])
            if text:
                services = scope["app"].state.services
                try:
                    principal = await services.keys.authenticate(services, text)
                except UnauthorizedError:
                    principal = None
                if principal is not None:
                    scope[PRINCIPAL_SCOPE_KEY] = principal  # type: ignore[literal-required]
                    wait = self.limiter.hit(principal.key_id)
                    if wait is not None:
                        RATE_LIMITED.inc()
                        raise TooManyRequestsException(
                            detail=f"this API key is over its limit of {self.limiter.limit} "
                            "requests per minute; retry after the time in Retry-After",
                            headers={"Retry-After": str(max(1, math.ceil(wait)))},
                        )
        await next_app(scope, receive, send)
