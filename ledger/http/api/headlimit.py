"""A bound on the request head: the request line and header fields together.

uvicorn's default HTTP parser (httptools) accepts header lines of any length, so a client
could send megabytes of headers with every request, keyed or not. ``HeaderLimit`` refuses a
request whose target (path and query) plus header names and values exceed
``MAX_HEAD_BYTES`` with 431 Request Header Fields Too Large (RFC 6585 §5), as
``application/problem+json``, before any other work (routing, key lookup, body). It is a
loop over the raw ASGI headers: well under a microsecond for an ordinary request.

The server still reads such a head before the app sees it: put a proxy with its own limit
in front of the service to bound memory as well (README, "What the API accepts").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.http.problems import PROBLEM_JSON, problem_of
from ledger.messages import language_of, render

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

MAX_HEAD_BYTES = 16 * 1024
"""Largest request target plus header names and values, in bytes (nginx's default for one
header line is 8 KiB; uvicorn's h11 parser stops at 16 KiB)."""
TOO_LARGE = (
    "the request line and headers are {size} bytes; at most {limit} are accepted: "
    "send shorter headers (cookies and tokens are usually the cause)"
)


class HeaderLimit:
    """ASGI: 431 for a request head over ``MAX_HEAD_BYTES``; everything else goes on."""

    def __init__(self, app: ASGIApp, limit: int = MAX_HEAD_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            for name, value in scope["headers"]:
                size += len(name) + len(value)
            if size > self.limit:
                await self._refuse(scope, send, size)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send, size: int) -> None:
        accept = next((v for k, v in scope["headers"] if k == b"accept-language"), b"")
        lang = language_of(accept[:200].decode("latin-1"))
        detail = render(TOO_LARGE, {"size": size, "limit": self.limit}, lang)
        problem = problem_of(431, detail, lang=lang)
        headers = [(b"content-type", PROBLEM_JSON.encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in (problem.headers or {}).items()]
        headers.append((b"content-length", str(len(problem.body)).encode()))
        headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": 431, "headers": headers})
        await send({"type": "http.response.body", "body": problem.body})
