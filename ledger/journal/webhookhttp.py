"""The webhook deliverer's HTTP/1.1 client: one POST at a time per receiver, keep-alive.

Why not httpx: measured on the 2-core machine (issue 15, ``bench.webhook_lag``), an httpx
``AsyncClient.post`` cost about 1.3 ms of CPU, this about 0.1 ms. The deliverer runs in the
server process beside the appends, and at 500 entries/s httpx alone took two thirds of that
process's core, so deliveries fell behind the entries without bound.

What it does, and no more: ``http`` and ``https`` (certificates verified with the system's
defaults) URLs; the request line, ``Host``, ``Content-Length``, the caller's headers and the
body; the answer's status line, headers and body (Content-Length, chunked or until close)
parsed by httptools, the parser uvicorn uses; one connection kept per origin and reused while
the receiver keeps it alive (a request on a kept connection that the receiver had closed
meanwhile is sent once more on a new one). No redirects are followed (a 3xx is a failed
delivery, as before), no cookies, no proxies. Every failure is a :class:`DeliveryError`
subclass named after what happened (``ConnectError``, ``TimeoutError_``...), whose name and
message go to the delivery log.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from urllib.parse import urlsplit

import httptools

MAX_ANSWER_BYTES = 1 << 20
"""A receiver's answer is read up to this size (its body is not used)."""


class DeliveryError(Exception):
    """A delivery attempt got no HTTP answer."""


class ConnectError(DeliveryError):
    """The receiver could not be reached."""


class DeliveryTimeout(DeliveryError):
    """No whole answer within the timeout."""


class RemoteProtocolError(DeliveryError):
    """The receiver's answer was not HTTP/1.1, or it closed the connection without one."""


class InvalidURL(DeliveryError):
    """The subscription's URL is not an http(s) URL with a host."""


class _Answer:
    """httptools callbacks: the status, and whether the whole answer was read."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers_read = False
        self.keep_alive = False
        self.complete = False
        self.size = 0

    def on_headers_complete(self) -> None:
        self.headers_read = True
        # Asked here: once the message is complete the parser has reset its flags.
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > MAX_ANSWER_BYTES:
            raise RemoteProtocolError(f"answer larger than {MAX_ANSWER_BYTES} bytes")

    def on_message_complete(self) -> None:
        self.complete = True


Origin = tuple[str, str, int]


class Sender:
    """POSTs webhook deliveries; one kept connection per origin. Use ``async with``."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._connections: dict[Origin, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}
        self._tls: ssl.SSLContext | None = None

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for origin in list(self._connections):
            await self._drop(origin)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST ``body`` to ``url``; the answer's status code, or a :class:`DeliveryError`."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._post(url, body, headers)
        except TimeoutError:
            raise DeliveryTimeout(f"no answer within {self.timeout:g} s") from None

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        origin, target, host = _parse(url)
        request = _request(target, host, body, headers)
        reused = origin in self._connections
        try:
            return await self._exchange(origin, request)
        except RemoteProtocolError as exc:
            if not reused or "before answering" not in str(exc):
                raise
            # The receiver closed the kept connection while it was idle: a new one.
            return await self._exchange(origin, request)

    async def _exchange(self, origin: Origin, request: bytes) -> int:
        reader, writer = await self._connection(origin)
        answer = _Answer()
        parser = answer.parser
        try:
            writer.write(request)
            await writer.drain()
            while not answer.complete:
                data = await reader.read(65536)
                if not data:
                    if answer.headers_read:
                        break  # a body that runs until the connection ends: the status counts
                    raise RemoteProtocolError("the receiver closed the connection before answering")
                parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            await self._drop(origin)
            raise RemoteProtocolError(f"not an HTTP/1.1 answer: {exc}") from None
        except (OSError, DeliveryError, asyncio.CancelledError) as exc:
            await self._drop(origin)
            if isinstance(exc, OSError):
                raise ConnectError(str(exc) or type(exc).__name__) from None
            raise
        if not answer.complete or not answer.keep_alive:
            await self._drop(origin)
        return parser.get_status_code()

    async def _connection(
        self, origin: Origin
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        kept = self._connections.get(origin)
        if kept is not None and not kept[1].is_closing():
            return kept
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        try:
            opened = await asyncio.open_connection(
                host, port, ssl=tls, server_hostname=host if tls else None
            )
        except OSError as exc:
            raise ConnectError(str(exc) or type(exc).__name__) from None
        self._connections[origin] = opened
        return opened

    async def _drop(self, origin: Origin) -> None:
        kept = self._connections.pop(origin, None)
        if kept is not None:
            kept[1].close()
            with contextlib.suppress(Exception):
                await kept[1].wait_closed()


def _parse(url: str) -> tuple[Origin, str, str]:
    """(origin, request target, Host header) of ``url``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"{url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidURL(f"expected an http or https URL with a host, got {url!r}")
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    header = shown if port in (None, default) else f"{shown}:{port}"
    return (parts.scheme, host, port or default), target, header


def _request(target: str, host: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
