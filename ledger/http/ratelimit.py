"""Rate limiting per API key, shared by every worker process through PostgreSQL, and per
client address for requests without a valid API key.

The limit is ``LEDGER_RATE_LIMIT`` requests per minute per API key (default 60,000; 0 turns
limiting off), counted in fixed windows of one wall-clock minute. Requests without a valid
API key (public reads, the verification service, and keys that are missing, unknown or
revoked) are counted per client address against ``LEDGER_ANON_RATE_LIMIT`` (default 1,200
a minute; 0 turns it off). The address is the ASGI ``client`` (the TCP peer: ``ledger
serve`` does not rewrite it from ``X-Forwarded-For``), so behind a reverse proxy every
anonymous client shares the proxy's address. Address counts are shared by every worker
process the same way as key counts (table ``rate_limit_addresses``, migration 0015); an
address is kept there only for the current window: rows of past windows are deleted at
the next flush.

How the count is shared without a database round trip per request: each process counts
locally and, every ``FLUSH_SECONDS`` (100 ms), adds what it admitted to the shared counter
of the window (table ``rate_limit_counts``, one upsert for all keys) and reads back the
totals. A request is admitted while ``last shared total + admitted here since`` is below the
limit; otherwise it gets a 429 problem with ``Retry-After`` (seconds to the next window).

While a flush is on its way the hits it carries still count here (``flushing``), so a slow
round trip admits nothing extra. The approximation, documented: a process learns the shared
total only when it flushes what it admitted itself, so it may admit up to one flush
interval's worth of a key's requests
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
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import asyncpg
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from ledger.errors import DatabaseUnavailableError, LedgerError, UnauthorizedError
from ledger.http.auth import PRINCIPAL_SCOPE_KEY, api_key_from
from ledger.http.observability import RATE_LIMITED
from ledger.messages import language_of, render
from ledger.store import ratelimits
from ledger.store.log import Store

log = logging.getLogger(__name__)

DEFAULT_PER_MINUTE = 60_000
DEFAULT_ANONYMOUS_PER_MINUTE = 1_200
WINDOW_SECONDS = 60
FLUSH_SECONDS = 0.1
KEEP_WINDOWS_SECONDS = 600
"""Shared counters older than this are deleted (they no longer decide anything)."""


@dataclass(frozen=True)
class RateLimit:
    """The configured limit."""

    per_minute: int = DEFAULT_PER_MINUTE
    """Requests per minute per API key; 0 disables rate limiting of keys."""
    anonymous_per_minute: int = DEFAULT_ANONYMOUS_PER_MINUTE
    """Requests per minute per client address without a valid API key (shared by every
    worker process); 0 disables it."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RateLimit:
        return cls(
            _whole(env, "LEDGER_RATE_LIMIT", DEFAULT_PER_MINUTE),
            _whole(env, "LEDGER_ANON_RATE_LIMIT", DEFAULT_ANONYMOUS_PER_MINUTE),
        )


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise LedgerError(f"{name} must be a whole number of requests per minute, got {raw!r}")
    return int(raw)


K = TypeVar("K", uuid.UUID, str)


@dataclass
class _Window:
    """One key's (or address's) count in the current window, as this process knows it."""

    window: int
    """Window number: wall-clock seconds // WINDOW_SECONDS."""
    pending: int = 0
    """Admitted by this process and not yet added to the shared counter."""
    flushing: int = 0
    """Admitted by this process and being added to the shared counter right now (a flush's
    round trip): still counted, so that a slow flush admits nothing beyond the limit."""
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
        self.anonymous_limit = limit.anonymous_per_minute
        self.flush_seconds = flush_seconds
        self.clock = clock
        self._counts: dict[uuid.UUID, _Window] = {}
        self._addresses: dict[str, _Window] = {}
        """Requests per client address in the current window."""
        self._last_prune = 0.0
        self._pruned_addresses = 0
        """The window whose predecessors' address rows were last deleted."""
        self._failing = False

    @property
    def enabled(self) -> bool:
        """API keys are limited."""
        return self.limit > 0

    @property
    def anonymous_enabled(self) -> bool:
        """Requests without a valid key are limited per address."""
        return self.anonymous_limit > 0

    @property
    def active(self) -> bool:
        """Either limit is on (``create_app`` installs the middleware only then)."""
        return self.enabled or self.anonymous_enabled

    def hit_address(self, address: str) -> float | None:
        """Count one request without a valid key from ``address``: None when admitted, else
        seconds until it may retry. Shared like key counts (module docstring)."""
        return self._hit(self._addresses, address[:64], self.anonymous_limit)

    def hit(self, key_id: uuid.UUID) -> float | None:
        """Count one request of ``key_id``: None when admitted, else seconds until it may retry."""
        return self._hit(self._counts, key_id, self.limit)

    def _hit(self, counts: dict[K, _Window], key: K, limit: int) -> float | None:
        """The fixed window: admit while this window's shared and pending counts of ``key``
        are below ``limit``."""
        now = self.clock()
        window = int(now // WINDOW_SECONDS)
        count = counts.get(key)
        if count is None or count.window != window:
            count = counts[key] = _Window(window)
        if count.shared + count.flushing + count.pending >= limit:
            return (window + 1) * WINDOW_SECONDS - now
        count.pending += 1
        return None

    async def flush(self, store: Store) -> None:
        """Add this process's pending counts (keys and addresses) to the shared counters;
        read the totals back; delete counters that decide nothing any more."""
        now = self.clock()
        window = int(now // WINDOW_SECONDS)
        start = datetime.fromtimestamp(window * WINDOW_SECONDS, UTC)
        await _flush_counts(store, self._counts, window, start, ratelimits.add_key_counts)
        await _flush_counts(
            store, self._addresses, window, start, ratelimits.add_address_counts
        )
        if window != self._pruned_addresses:
            # An address is kept only while its window is current.
            async with store.connection() as conn:
                await ratelimits.prune_address_counts(conn, start)
            self._pruned_addresses = window
        if now - self._last_prune > WINDOW_SECONDS:
            self._last_prune = now
            cutoff = datetime.fromtimestamp(now - KEEP_WINDOWS_SECONDS, UTC)
            async with store.connection() as conn:
                await ratelimits.prune_key_counts(conn, cutoff)

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
        if not self.active:
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


async def _flush_counts(
    store: Store,
    counts: dict[K, _Window],
    window: int,
    start: datetime,
    add: Callable[[asyncpg.Connection, datetime, list[tuple[K, int]]], Awaitable[dict[K, int]]],
) -> None:
    """Add the pending counts of ``window`` to the shared counters (``add``); keep the
    totals it returns. Counts of past windows are dropped: they decide nothing any more."""
    for name in [k for k, c in counts.items() if c.window != window]:
        del counts[name]
    # Sorted: concurrent flushes lock the counter rows in the same order (no deadlock).
    batch = sorted((k, c.pending) for k, c in counts.items() if c.pending)
    if not batch:
        return
    flushed = [(counts[name], n) for name, n in batch]
    for count, n in flushed:
        count.pending -= n  # hits arriving meanwhile stay pending
        count.flushing += n
    try:
        async with store.connection() as conn:
            totals = await add(conn, start, batch)
    except BaseException:
        for count, n in flushed:  # not counted yet: keep them for the next flush
            count.flushing -= n
            count.pending += n
        raise
    for name, hits in totals.items():
        count = counts.get(name)
        if count is not None and count.window == window:
            count.shared = max(count.shared, hits)
    for count, n in flushed:  # now in ``shared`` (read back after they were added)
        count.flushing -= n


class RateLimitMiddleware(ASGIMiddleware):
    """Refuses requests of an API key over its limit, and requests without a valid key from
    an address over the anonymous limit, with 429 and ``Retry-After``.

    It runs before the handlers' auth guard, so it authenticates the key itself through the
    same per-process key cache (a dictionary lookup and one SHA-256 when cached) and leaves
    the principal in the scope for the guard (``PRINCIPAL_SCOPE_KEY``). A request with no key
    or an invalid one is counted by address (so guessing keys is limited too) and otherwise
    left to the guard, which answers the 401. ``create_app`` installs it only when a limit is
    on.
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        limiter = self.limiter
        text = api_key_from(scope["headers"])
        principal = None
        unknown = False
        if text:
            services = scope["app"].state.services
            try:
                principal = await services.keys.authenticate(services, text)
            except UnauthorizedError:
                # Counted by address; the guard answers for it (401), and routes that need
                # no key are served as usual.
                principal = None
            except DatabaseUnavailableError:
                # Whether the key is valid cannot be known while the database is away: not
                # counted against the address; the guard answers 503 with Retry-After.
                unknown = True
        if unknown:
            pass
        elif principal is not None:
            scope[PRINCIPAL_SCOPE_KEY] = principal  # type: ignore[literal-required]
            if limiter.enabled:
                wait = limiter.hit(principal.key_id)
                if wait is not None:
                    raise _too_many(scope, wait, KEY_OVER_LIMIT, limiter.limit)
        elif limiter.anonymous_enabled:
            client = scope.get("client")
            wait = limiter.hit_address(client[0] if client else "unknown")
            if wait is not None:
                raise _too_many(scope, wait, ADDRESS_OVER_LIMIT, limiter.anonymous_limit)
        await next_app(scope, receive, send)


KEY_OVER_LIMIT = (
    "this API key is over its limit of {limit} requests per minute; "
    "retry after the time in Retry-After"
)
ADDRESS_OVER_LIMIT = (
    "this address is over its limit of {limit} requests per minute without an API key; "
    "retry after the time in Retry-After, or send an API key"
)


def _too_many(scope: Scope, wait: float, template: str, limit: int) -> TooManyRequestsException:
    RATE_LIMITED.inc()
    lang = language_of(_header(scope, b"accept-language"))
    return TooManyRequestsException(
        detail=render(template, {"limit": limit}, lang),
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
