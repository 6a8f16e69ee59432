"""HTTP caching of the public pages (RFC 9110 section 8.8.3 ``ETag``, 13.1.2 ``If-None-Match``;
RFC 9111 ``Cache-Control``; RFC 5861 ``stale-while-revalidate``).

A public page is a function of the log it reads (its size, which only grows), the page's own
parameters and the language. Its entity tag is made from those alone, *before* the page is
built, so a revalidation costs one small query (the log head) and a 304 without a body: a
campaign that goes viral is served by caches and by that one query, not by PostgreSQL
re-summing the fund on every view.

- ``SHORT`` (fund and organization pages): ``public, max-age=30, stale-while-revalidate=300``;
  a shared cache may serve a page up to half a minute old and refresh it in the background.
- ``ENTRY`` (entry pages): an entry never changes, but its page shows a later reversal, so it
  is revalidated too, less often.
"""

from __future__ import annotations

import functools
import hashlib
from collections import OrderedDict

from litestar import Request, Response

from ledger.store.log import Head

SHORT = "public, max-age=30, stale-while-revalidate=300"
"""Fund and organization pages: fresh for 30 s, then served stale while revalidating."""
ENTRY = "public, max-age=300, stale-while-revalidate=3600"
"""Entry pages: the entry is immutable; its reversal status is not, hence revalidation."""


@functools.lru_cache(maxsize=4096)
def etag(*parts: object) -> str:
    """A strong entity tag for a page made from ``parts`` (page kind, log, size, params,
    language): equal parts, equal bytes. Remembered for the newest 4,096 part lists (every
    revalidation of a popular page asks for the same tag; parts are strings, ints, None)."""
    digest = hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()[:32]
    return f'"{digest}"'


def log_state(head: Head) -> str:
    """The part of every page's tag that says which state of the log it shows: its size and
    its head hash (two databases' logs of equal size differ in the hash)."""
    return f"{head.size}:{head.head_hash.hex()}"


def headers(tag: str, cache_control: str) -> dict[str, str]:
    """The caching headers of a page with entity tag ``tag``."""
    return {"ETag": tag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}


def fresh(request: Request, tag: str) -> bool:
    """Whether the request's ``If-None-Match`` names ``tag`` (or ``*``)."""
    header = request.headers.get("if-none-match")
    return bool(header) and matches(header, tag)


def matches(header: str, tag: str, *, wildcard: bool = True) -> bool:
    """Whether an ``If-None-Match`` value names ``tag`` (or is ``*``, when ``wildcard``); weak
    comparison, as RFC 9110 section 13.1.2 asks for this header."""
    wanted = tag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.removeprefix("W/") == wanted or (wildcard and candidate == "*"):
            return True
    return False


def any_representation(request: Request) -> bool:
    """Whether ``If-None-Match`` names ``*``: fresh only if the resource exists (RFC 9110
    section 13.1.2), so the caller checks that before answering 304 (an unknown fund or entry
    stays a 404)."""
    header = request.headers.get("if-none-match")
    return header is not None and any(c.strip() == "*" for c in header.split(","))


def not_modified(page_headers: dict[str, str]) -> Response[bytes]:
    """``304 Not Modified`` with the page's validators and caching headers, no body."""
    return Response(b"", status_code=304, headers=page_headers, media_type="text/html")


class PageCache:
    """The rendered bytes of recent pages, by entity tag and query string (least recently used
    first out): a page is a function of its tag, so a request without a validator for a page
    another visitor already caused is answered without reading the database again. Per process;
    bounded by ``size`` pages."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    def get(self, tag: str, query: str) -> bytes | None:
        page = self._pages.get((tag, query))
        if page is not None:
            self._pages.move_to_end((tag, query))
        return page

    def put(self, tag: str, query: str, page: bytes) -> None:
        self._pages[(tag, query)] = page
        self._pages.move_to_end((tag, query))
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)


__all__ = [
    "ENTRY",
    "SHORT",
    "PageCache",
    "etag",
    "fresh",
    "headers",
    "log_state",
    "matches",
    "not_modified",
]
