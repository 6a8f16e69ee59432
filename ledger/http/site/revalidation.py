"""Revalidations of the public pages without the framework: ``GET`` of a fund page, its share
card, an organization page or an entry page carrying ``If-None-Match`` (RFC 9110 section
13.1.2), answered ``304 Not Modified`` from this process's cache of each log's head.

A page's entity tag is a function of its log's state (size and head hash) and of the request
(``ledger.http.site.caching``; the routes' own ``fund_tag``, ``card_tag``, ``org_tag`` and
``entry_tag`` compute it, here too). The Litestar route reads the head from PostgreSQL on
every request; a viral campaign's visitors revalidating every 30 s (``max-age=30``) would be
one query each. ``PageRevalidation`` sits in front of Litestar (inside the request observer
and the header limit, like the donation fast path) and answers a matching tag from
``HeadCache`` instead: no routing, no dependency injection, no query.

How stale a cached head may be, and so for how long an old tag can still get a 304:

- an append answered by **this process** (any ``POST``/``PUT``/``PATCH``/``DELETE`` through
  its HTTP: the API, the console, gateway notifications, bank imports) empties the cache when
  its answer starts, after its commit: the next revalidation reads the head again. A read
  that started before the write is not kept (``HeadCache.generation``);
- an append by **another process** (another ``ledger serve`` worker, the command line, a
  second server) is seen when the cached head expires: ``HEAD_SECONDS`` (1 s) after it was
  read. The old tag may get a 304 for at most that long after the commit (plus the replica's
  lag when ``LEDGER_REPLICA_URL`` is set, as on the Litestar path), well inside the 30 s a
  shared cache may serve the page without asking at all (``max-age=30``).

It never answers anything but a 304 for a tag that matches. Anything else goes to Litestar
unchanged, which answers as it always did: no ``If-None-Match``, ``*``, a tag that does not
match (the page is built), a ``HEAD`` (405, as the routes are ``GET`` only), a query other
than nothing or one ``lang=xx``, a trailing slash, an API key (counted per key by the rate
limiter), an unknown organization (404), an address over the anonymous rate limit (429; the
refused hit is not counted, so the middleware refuses it again), an invalid ``Host`` (400),
a database error (503). The 304's headers are the route's: ``ETag``, ``Cache-Control``,
``Vary`` (``tests/http/test_revalidation.py`` compares them with the app without this path).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from litestar._asgi.utils import is_valid_host

from ledger.http.site import caching
from ledger.http.site.fundpage import card_tag, fund_tag
from ledger.http.site.pages import entry_tag, org_tag
from ledger.store.log import Head, Store

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from ledger.http.ratelimit import RateLimiter
    from ledger.http.services import Services

HEAD_SECONDS = 1.0
"""How long a log head read from PostgreSQL answers revalidations in this process: the
longest an append by another process can leave an old tag matching here."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that never append; any other answered request empties the head cache."""

_SLUG = r"([a-z0-9][a-z0-9-]{1,62})"  # organizations.slug
_SEGMENT = r"([A-Za-z0-9_.~-]{1,128})"  # a fund code or an index as the path gives it
ROUTES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(rf"/orgs/{_SLUG}/funds/{_SEGMENT}"), "fund", "/orgs/{slug}/funds/{code}"),
    (
        re.compile(rf"/orgs/{_SLUG}/funds/{_SEGMENT}/card\.png"),
        "card",
        "/orgs/{slug}/funds/{code}/card.png",
    ),
    (re.compile(rf"/orgs/{_SLUG}"), "org", "/orgs/{slug}"),
    (
        re.compile(rf"/orgs/{_SLUG}/entries/{_SEGMENT}"),
        "entry",
        "/orgs/{slug}/entries/{index}",
    ),
)
"""The pages whose revalidations are answered here: (path, page, the Litestar route's
template, as metrics and access lines name it)."""
LANG_QUERY = re.compile(rb"lang=([a-z]{2})")
"""The only query string taken besides none: one ``lang`` of two letters."""


class HeadCache:
    """The head of each log, as read from PostgreSQL at most ``seconds`` ago, per process.

    One read per log at a time: concurrent revalidations of an expired head wait for the same
    query. ``forget`` (an append answered here) empties it and bumps ``generation``, so a read
    that was under way meanwhile is returned to its waiters but not kept."""

    def __init__(
        self, seconds: float = HEAD_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self.generation = 0
        """Bumped by every ``forget``."""
        self.reads = 0
        """Heads read from PostgreSQL (for tests and benchmarks)."""
        self._heads: dict[int, tuple[Head, float]] = {}
        """org id → (head, monotonic time after which it is not used)."""
        self._reading: dict[int, asyncio.Task[Head]] = {}

    async def head(self, store: Store, org_id: int) -> Head:
        """The log's head, read at most ``seconds`` ago (or since the last ``forget``)."""
        cached = self._heads.get(org_id)
        if cached is not None and cached[1] > self.clock():
            return cached[0]
        task = self._reading.get(org_id)
        if task is None:
            # The generation and the expiry are taken now, not when the task first runs: a
            # forget between the two must still discard what this read returns.
            read = self._read(store, org_id, self.generation, self.clock() + self.seconds)
            task = self._reading[org_id] = asyncio.ensure_future(read)
        return await asyncio.shield(task)

    async def _read(self, store: Store, org_id: int, generation: int, expires: float) -> Head:
        """Read the head; keep it until ``expires`` (counted from before the read, so never
        longer than ``seconds`` after it) unless a ``forget`` came since ``generation``."""
        try:
            head = await store.head(org_id)
            self.reads += 1
        finally:
            if self.generation == generation:
                self._reading.pop(org_id, None)
        if self.generation == generation:
            self._heads[org_id] = (head, expires)
        return head

    def forget(self) -> None:
        """Drop every cached head and every read under way (an append may have committed)."""
        self.generation += 1
        self._heads.clear()
        self._reading.clear()


class PageRevalidation:
    """ASGI: ``304`` for a public page's matching ``If-None-Match``; everything else goes on."""

    def __init__(
        self,
        app: ASGIApp,
        litestar: Litestar,
        limiter: RateLimiter,
        heads: HeadCache | None = None,
    ) -> None:
        self.app = app
        self.litestar = litestar
        self.limiter = limiter
        self.heads = heads or HeadCache()
        self.revalidated = 0
        """Requests this path answered itself (the rest went to Litestar)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method not in SAFE_METHODS:
            await self.app(scope, receive, self._forgetting(send))
            return
        if method == "GET" and scope["path"].startswith("/orgs/"):
            answer = await self._answer(scope)
            if answer is not None:
                tag, cache_control, template = answer
                scope["path_template"] = template  # type: ignore[typeddict-unknown-key]
                self.revalidated += 1
                headers = [
                    (b"etag", tag.encode()),
                    (b"cache-control", cache_control),
                    (b"vary", b"Accept-Encoding"),
                ]
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)

    def _forgetting(self, send: Send) -> Send:
        """``send`` that empties the head cache when the answer starts: a write's answer
        starts after its commit, and before its client can ask for the page again."""
        heads = self.heads

        async def forgetting(message: Message) -> None:
            if message["type"] == "http.response.start":
                heads.forget()
            await send(message)

        return forgetting

    async def _answer(self, scope: Scope) -> tuple[str, bytes, str] | None:
        """(tag, Cache-Control, route template) when the request revalidates a page whose
        tag it names; None to hand it to Litestar."""
        if scope.get("root_path"):
            return None
        wanted = host = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if wanted is not None:
                    return None  # two fields: Litestar's reading of them decides
                wanted = value
            elif name == b"host":
                host = value
            elif name in (b"authorization", b"x-api-key"):
                return None  # keyed requests are counted per key by the rate limiter
        if wanted is None or (host is not None and not is_valid_host(host)):
            return None
        query = scope["query_string"]
        lang: str | None = None
        if query:
            found = LANG_QUERY.fullmatch(query)
            if found is None:
                return None
            lang = found[1].decode()
        routed = _route(scope["path"])
        if routed is None:
            return None
        matched, page, template = routed
        services: Services = self.litestar.state.services
        try:
            org = await services.organization(matched[1])
            head = await self.heads.head(services.reader, org.id)
        except Exception:  # unknown organization, database away: Litestar answers for it
            return None
        if page == "fund":
            tag, cache_control = fund_tag(services, org, head, matched[2], lang), caching.SHORT
        elif page == "card":
            tag, cache_control = card_tag(services, org, head, matched[2], lang), caching.SHORT
        elif page == "org":
            tag, cache_control = org_tag(org, head, None, lang), caching.SHORT
        else:
            tag, cache_control = entry_tag(org, head, matched[2], lang), caching.ENTRY
        if not caching.matches(wanted.decode("latin-1"), tag, wildcard=False):
            return None
        limiter = self.limiter
        if limiter.anonymous_enabled:
            client = scope.get("client")
            if limiter.hit_address(client[0] if client else "unknown") is not None:
                return None  # over the limit: the middleware refuses it (429), uncounted
        return tag, cache_control.encode(), template


def _route(path: str) -> tuple[re.Match[str], str, str] | None:
    """The page a path names: (its match, the page, the route's template), or None."""
    for route, page, template in ROUTES:
        if (matched := route.fullmatch(path)) is not None:
            return matched, page, template
    return None


__all__ = ["HEAD_SECONDS", "HeadCache", "PageRevalidation"]
