"""Revalidations of public pages answered before Litestar (``ledger.http.site.revalidation``).

Two apps on one database: the service as shipped (the revalidation path on) and the same app
with its fast paths off, so each request can be sent to both and the answers compared. Then
the hard requirement: an old tag stops getting a 304 once the log grows, at once after an
append answered by the same process, and within ``HEAD_SECONDS`` after one answered by
another (real appends through real HTTP, the log verified afterwards).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ledger.http.app import create_app
from ledger.http.ratelimit import RateLimit
from ledger.http.site.revalidation import HEAD_SECONDS, HeadCache
from tests.apikit import Org, serve_in_loop
from tests.http.test_fund_page import seed_fund
from tests.logkit import assert_log_verifies

IGNORED_HEADERS = {"x-request-id", "date", "server"}
ADDRESS = "192.0.2.9"


def revalidated(client: Any) -> int:
    """How many requests the revalidation path of this client's app answered itself."""
    handler = client.app.asgi_handler
    while not hasattr(handler, "revalidated"):
        handler = handler.app
    return handler.revalidated


def head_reads(client: Any) -> int:
    handler = client.app.asgi_handler
    while not hasattr(handler, "heads"):
        handler = handler.app
    return handler.heads.reads


def observed(client: Any) -> list[tuple[str, str, int]]:
    """(method, route, status) of each request the app's request observer records from now
    on (what metrics and access lines are labelled with)."""
    seen: list[tuple[str, str, int]] = []
    observer = client.app.asgi_handler
    original = observer._observe

    def record(method: str, route: str, status: int, seconds: float, loop: Any = None) -> None:
        seen.append((method, route, status))
        original(method, route, status, seconds, loop)

    observer._observe = record
    return seen


def shape(r: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    kept = sorted(
        (k, ", ".join(sorted(v.split(", "))) if k == "allow" else v)  # a set's order
        for k, v in r.headers.items()
        if k not in IGNORED_HEADERS
    )
    return r.status_code, kept, r.content


@pytest.fixture
async def slow(settings) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """The same service with its fast paths off (every request through Litestar)."""
    app = create_app(settings.with_(checkpoint_interval=0), fast_path=False)
    async with serve_in_loop(app) as c:
        yield c


def pages(slug: str) -> list[str]:
    base = f"/orgs/{slug}"
    fund = f"{base}/funds/senyum-2026"
    return [
        fund,
        f"{fund}?lang=en",
        f"{fund}/card.png",
        base,
        f"{base}?lang=en",
        f"{base}/entries/1",
    ]


async def test_a_revalidation_is_answered_like_the_framework_route(charity, slow, store):
    await seed_fund(charity)
    fast = charity.client
    ours_seen, theirs_seen = observed(fast), observed(slow)
    for path in pages(charity.slug):
        first = await slow.get(path)
        assert first.status_code == 200, path
        tag = first.headers["etag"]
        before = revalidated(fast)
        ours, theirs = (
            await fast.get(path, headers={"If-None-Match": tag}),
            await slow.get(path, headers={"If-None-Match": tag}),
        )
        assert ours.status_code == 304 and ours.content == b"", path
        assert shape(ours) == shape(theirs), path
        assert [k for k, _ in ours.headers.items() if k not in IGNORED_HEADERS] == [
            "etag",
            "cache-control",
            "vary",
        ]
        assert revalidated(fast) == before + 1, path
        assert ours_seen[-1] == theirs_seen[-1] and ours_seen[-1][2] == 304  # metrics' labels
        # In a list of tags, weak, or after another: still a match (RFC 9110 weak comparison).
        listed = await fast.get(path, headers={"If-None-Match": f'"nope", W/{tag}'})
        assert listed.status_code == 304 and revalidated(fast) == before + 2
    # What the path leaves to Litestar is answered as before (and not counted as its own).
    fund = f"/orgs/{charity.slug}/funds/senyum-2026"
    tag = (await slow.get(fund)).headers["etag"]
    before = revalidated(fast)
    for method, path, headers in (
        ("HEAD", fund, {"If-None-Match": tag}),  # the routes are GET only: 405
        ("GET", fund, {"If-None-Match": '"another"'}),  # the page itself
        ("GET", fund + "?lang=en", {"If-None-Match": tag}),  # another language, another tag
        ("GET", fund + "?lang=en&lang=id", {"If-None-Match": tag}),  # Litestar's reading
        ("GET", fund + "/", {"If-None-Match": tag}),
        ("GET", fund, {"If-None-Match": "*"}),
        ("GET", fund, {"If-None-Match": tag, "Authorization": "Bearer ldg_aaaaaaaa_nope"}),
        ("GET", f"/orgs/{charity.slug}/funds/nope", {}),  # 404
        ("GET", "/orgs/no-such-org/funds/senyum-2026", {"If-None-Match": tag}),  # 404
        ("GET", "/orgs/no-such-org", {"If-None-Match": tag}),  # 404
        ("GET", f"/orgs/{charity.slug}/entries/999", {}),  # 404
        ("GET", fund, {"If-None-Match": tag, "Host": "bad host"}),  # 400
    ):
        ours = await fast.request(method, path, headers=headers)
        theirs = await slow.request(method, path, headers=headers)
        assert shape(ours) == shape(theirs), (method, path, headers)
    assert revalidated(fast) == before
    await assert_log_verifies(store)


async def test_an_append_through_this_process_stops_the_old_tag_at_once(charity, store):
    await seed_fund(charity)
    client = charity.client
    for path in pages(charity.slug):
        tag = (await client.get(path)).headers["etag"]
        assert (await client.get(path, headers={"If-None-Match": tag})).status_code == 304
        assert (await client.get(path, headers={"If-None-Match": tag})).status_code == 304
        before = revalidated(client)
        await charity.donate(1_000_000)  # the donation fast path, through HTTP
        grown = await client.get(path, headers={"If-None-Match": tag})
        assert grown.status_code == 200 and grown.headers["etag"] != tag, path
        assert revalidated(client) == before
        new = await client.get(path, headers={"If-None-Match": grown.headers["etag"]})
        assert new.status_code == 304 and revalidated(client) == before + 1
    # A write through Litestar (a correction, an admin's beneficiary) forgets the heads too.
    fund = f"/orgs/{charity.slug}/funds/senyum-2026"
    tag = (await client.get(fund)).headers["etag"]
    assert (await client.get(fund, headers={"If-None-Match": tag})).status_code == 304
    await charity.beneficiary("lksa-baru")
    assert (await client.get(fund, headers={"If-None-Match": tag})).status_code == 200
    await assert_log_verifies(store)


async def test_an_append_through_another_process_stops_the_old_tag_within_the_bound(
    charity, settings, store
):
    """Another app instance on the same database (as another worker would be) records a
    donation over HTTP; this one's old tag gets 304s for at most ``HEAD_SECONDS`` more."""
    await seed_fund(charity)
    reader = charity.client
    fund = f"/orgs/{charity.slug}/funds/senyum-2026"
    tag = (await reader.get(fund)).headers["etag"]
    assert (await reader.get(fund, headers={"If-None-Match": tag})).status_code == 304
    reads = head_reads(reader)
    async with serve_in_loop(create_app(settings.with_(checkpoint_interval=0))) as writer:
        other = Org(writer, charity.slug, charity.keys)
        await other.donate(2_000_000)
        committed = time.monotonic()
        statuses = []
        while time.monotonic() - committed < HEAD_SECONDS + 0.5:
            r = await reader.get(fund, headers={"If-None-Match": tag})
            statuses.append((time.monotonic() - committed, r.status_code))
            await asyncio.sleep(0.05)
    stale = [t for t, status in statuses if status == 304]
    assert all(t <= HEAD_SECONDS for t in stale), statuses
    fresh = [t for t, status in statuses if status == 200]
    assert fresh and all(t > max(stale, default=0) for t in fresh), statuses  # never back
    assert head_reads(reader) - reads <= 3  # one read a second, not one a request
    new = (await reader.get(fund)).headers["etag"]
    assert new != tag
    assert (await reader.get(fund, headers={"If-None-Match": new})).status_code == 304
    await assert_log_verifies(store)


async def test_the_anonymous_rate_limit_counts_revalidations(settings, charity, store):
    await seed_fund(charity)
    fund = f"/orgs/{charity.slug}/funds/senyum-2026"
    app = create_app(
        settings.with_(checkpoint_interval=0), rate_limit=RateLimit(0, anonymous_per_minute=4)
    )
    limiter = app.middleware[0].limiter  # type: ignore[attr-defined]

    async def counted(n: int) -> None:
        """Until the shared counter holds the ``n`` requests admitted (a flush in flight
        hides them for a round trip: the limiter's documented approximation)."""
        for _ in range(200):
            window = limiter._addresses.get(ADDRESS)
            if window is not None and window.pending == 0 and window.shared >= n:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"the counter never reached {n}")

    # An address of its own: the other app of this test counts its requests to 127.0.0.1
    # in the same shared counters.
    transport = httpx.ASGITransport(app=app, client=(ADDRESS, 4000))
    async with (
        serve_in_loop(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as c,
    ):
        c.app = app  # type: ignore[attr-defined]
        if time.time() % 60 > 45:  # the window is a wall-clock minute: start in a fresh one
            await asyncio.sleep(61 - time.time() % 60)
        tag = (await c.get(fund)).headers["etag"]
        statuses = []
        for n in range(2, 6):
            await counted(n - 1)
            statuses.append((await c.get(fund, headers={"If-None-Match": tag})).status_code)
        assert statuses == [304, 304, 304, 429]
        assert revalidated(c) == 3
    await assert_log_verifies(store)


async def test_concurrent_revalidations_read_the_head_once(charity, store):
    await seed_fund(charity)
    now = [1000.0]
    heads = HeadCache(clock=lambda: now[0])
    org = await charity.client.app.state.services.organization(charity.slug)
    found = await asyncio.gather(*(heads.head(store, org.id) for _ in range(20)))
    assert heads.reads == 1 and len({h.size for h in found}) == 1
    # A read under way when a write is answered serves its own callers but is not kept.
    heads.forget()
    pending = asyncio.ensure_future(heads.head(store, org.id))
    await asyncio.sleep(0)  # the read has started
    heads.forget()
    assert (await pending).size == found[0].size and heads.reads == 2
    await heads.head(store, org.id)
    assert heads.reads == 3  # read again: the one under way was not kept
    now[0] += HEAD_SECONDS - 0.001
    await heads.head(store, org.id)
    assert heads.reads == 3  # kept: this read started after the forget, less than 1 s ago
    now[0] += 0.001
    await heads.head(store, org.id)
    assert heads.reads == 4  # expired: HEAD_SECONDS after the read began
