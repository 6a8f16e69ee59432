"""The HTTP/1.1 connection: uvicorn's httptools protocol, with the donation door at the
connection itself.

A charity's bookkeeping system records donations all day, and payment gateways notify at the
rate of a campaign. Those ``POST`` requests (``DonationFastPath.takes``) are answered here,
straight from the parser's callbacks, instead of through an ASGI request cycle: no scope
walk through four ASGI layers, no ``receive``/``send`` messages, one write of the whole
response. Everything the layers did is done here too, in their order:

1. ``HeaderLimit``: a head over ``MAX_HEAD_BYTES`` goes the ordinary way (which answers 431);
2. ``RequestObserver``: the request id (``X-Request-ID`` echoed), the latency metric and the
   access line (``RequestObserver.finish``), the id set for every log line of the request;
3. ``PageRevalidation``: an answered write empties the head cache (``HeadCache.forget``);
4. ``DonationFastPath.answer``: the same steps and bytes as on the ASGI path.

Whatever the door does not take goes through uvicorn's own ``RequestResponseCycle`` and the
ASGI app, exactly as before: other methods and routes, a query string or an escaped path, an
``Expect: 100-continue``, an upgrade, a pipelined request queued behind another. A request
the fast path hands back (no key, a malformed body, a key over its rate limit...) or a body
that grows past ``max_body`` is given to an ordinary cycle then, with the body read so far, so
its problem+json comes from Litestar as for every other route.

The response is written once (status line, uvicorn's ``date`` and ``server`` headers, the
answer's headers, ``x-request-id``, ``content-length``), after any pause for a slow reader
(``FlowControl``), and the connection goes on as uvicorn's does: keep-alive timer,
pipelined requests, ``Connection: close``, graceful shutdown (the task is one of the
server's). ``ledger serve`` uses this protocol whenever the app has its fast path.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from ledger.charity.recording import Reply
from ledger.http.api.fastpath import (
    LATER,
    TEMPLATE,
    DonationFastPath,
    Recording,
    answer_parts,
    template_of,
)
from ledger.http.observability import REQUEST_ID, RequestObserver, request_id_from

if TYPE_CHECKING:
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from ledger.http.problems import Problem
    from ledger.http.site.revalidation import HeadCache

log = logging.getLogger("uvicorn.error")

_QUERY_ESCAPE_OR_FRAGMENT = re.compile(rb"[?%#]").search
"""A query string, an escaped path or a fragment: the ordinary way (one call; ``b"?" in
url`` first tries the bytes as an integer and formats the TypeError it then discards)."""


@dataclass(slots=True)
class FrontDoor:
    """What the connection needs to answer at the door: the app's own layers."""

    fast: DonationFastPath
    heads: HeadCache
    observer: RequestObserver
    head_limit: int
    max_body: int
    answered: int = 0
    """Requests answered at the door (the rest went through ASGI)."""


class DoorCycle:
    """One request taken at the door. It stands where uvicorn's ``RequestResponseCycle``
    would (``protocol.cycle``), with the attributes the protocol's own callbacks use:
    ``body`` and ``more_body`` fill as the parser reads, ``message_event.set()`` says so,
    ``disconnected``, ``keep_alive`` and ``response_complete`` as uvicorn sets and reads them.
    """

    __slots__ = (
        "body",
        "disconnected",
        "fallen_back",
        "headers",
        "keep_alive",
        "more_body",
        "protocol",
        "recording",
        "request_id",
        "response_complete",
        "scope",
        "started",
        "started_at",
    )

    def __init__(self, protocol: LedgerHttpProtocol, scope: Any, keep_alive: bool) -> None:
        self.protocol = protocol
        self.scope = scope
        self.headers: list[tuple[bytes, bytes]] = scope["headers"]
        self.keep_alive = keep_alive
        self.body = bytearray()
        self.more_body = True
        self.disconnected = False
        self.response_complete = False
        self.started = False
        self.fallen_back = False

    @property
    def message_event(self) -> DoorCycle:
        """The protocol calls ``cycle.message_event.set()``: this cycle's ``set``. A property,
        not an attribute holding ``self``: that reference cycle left every request's cycle,
        scope and header list to the garbage collector (13,000 instructions a donation)."""
        return self

    def set(self) -> None:
        """The parser read more of the body, or all of it, or the client went away."""
        if self.started or self.disconnected:
            return
        protocol = self.protocol
        if len(self.body) > protocol.door.max_body:
            self.fall_back()  # Litestar reads on and answers the 413
        elif not self.more_body:
            self.started = True
            self.begin()
        else:
            protocol.flow.resume_reading()  # as uvicorn's ``receive`` does

    def begin(self) -> None:
        """Answer the whole request: started right here when the fast path needs no await
        for it (``DonationFastPath.start``: a donation whose key and organization are
        cached), answered from its future's callback; otherwise in a task (``run``)."""
        protocol = self.protocol
        self.request_id = request_id_from(self.headers)
        self.started_at = time.perf_counter()
        try:
            now = protocol.door.fast.start(self.scope["path"], self.headers, bytes(self.body))
        except Exception:
            self.failed()
            return
        if now is LATER:
            task = protocol.loop.create_task(self.run())
            tasks = protocol.tasks
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        elif now is None:
            self.fall_back()
        elif isinstance(now, Recording):
            self.recording = now
            now.future.add_done_callback(self.recorded)
        else:
            self.reply(now, TEMPLATE)

    def recorded(self, _: object) -> None:
        """The started donation's batch committed (or refused it): answer."""
        try:
            reply = DonationFastPath.finish(self.recording, self.headers)
        except Exception:
            self.failed()
            return
        self.reply(reply, TEMPLATE)

    async def run(self) -> None:
        """Answer a request the fast path must await for (a key or organization not yet
        cached, a gateway notification), in the request's own task."""
        door = self.protocol.door
        REQUEST_ID.set(self.request_id)  # this task's own context
        try:
            reply, template = await door.fast.answer(
                self.scope["path"], self.headers, bytes(self.body), self.protocol.client
            )
        except Exception:  # as uvicorn answers an ASGI app's failure
            self.failed()
            return
        if reply is None:
            self.fall_back()
            return
        if self.protocol.flow.write_paused and not self.disconnected:
            await self.protocol.flow.drain()
        self.reply(reply, template)

    def reply(self, reply: Reply | Problem, template: str) -> None:
        """Send the answer, unless a slow reader paused writing (then once it drained)."""
        if self.protocol.flow.write_paused and not self.disconnected:
            task = self.protocol.loop.create_task(self.reply_drained(reply, template))
            tasks = self.protocol.tasks
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            return
        door = self.protocol.door
        door.heads.forget()  # a write answered: pages' tags may have changed
        door.answered += 1
        status, fields, body = answer_parts(reply)
        if not self.disconnected:
            self.write(status, fields, self.request_id, body)
        seconds = time.perf_counter() - self.started_at
        door.observer.finish("POST", template, status, seconds, self.request_id, self.protocol.loop)

    async def reply_drained(self, reply: Reply | Problem, template: str) -> None:
        await self.protocol.flow.drain()
        self.reply(reply, template)

    def failed(self) -> None:
        """As uvicorn answers an ASGI app's failure: logged, 500, connection closed."""
        log.exception("Exception in ASGI application", extra={"request_id": self.request_id})
        if not self.disconnected:
            text = [(b"content-type", b"text/plain; charset=utf-8")]
            self.write(500, text, self.request_id, b"Internal Server Error", close=True)
        seconds = time.perf_counter() - self.started_at
        template = template_of(self.scope["path"])
        self.protocol.door.observer.finish("POST", template, 500, seconds, self.request_id)

    def write(
        self,
        status: int,
        fields: list[tuple[bytes, bytes]],
        request_id: str,
        body: bytes,
        *,
        close: bool = False,
    ) -> None:
        """The whole response in one write; then the connection goes on as uvicorn's."""
        protocol = self.protocol
        if close:
            self.keep_alive = False
        parts = [STATUS_LINE[status]]
        for name, value in protocol.server_state.default_headers:
            parts += (name, b": ", value, b"\r\n")
        for name, value in fields:
            parts += (name, b": ", value, b"\r\n")
        parts += (b"x-request-id: ", request_id.encode(), b"\r\n")
        parts += (b"content-length: ", str(len(body)).encode(), b"\r\n")
        if not self.keep_alive:
            parts.append(b"connection: close\r\n")
        parts += (b"\r\n", body)
        protocol.transport.write(b"".join(parts))
        self.response_complete = True
        if not self.keep_alive:
            protocol.transport.close()
        protocol.on_response_complete()

    def fall_back(self) -> None:
        """Hand the request to uvicorn's own cycle and the ASGI app, with the body so far."""
        self.started = self.fallen_back = True
        if self.disconnected:
            return
        protocol = self.protocol
        cycle = RequestResponseCycle(
            scope=self.scope,
            transport=protocol.transport,
            flow=protocol.flow,
            logger=protocol.logger,
            access_logger=protocol.access_logger,
            access_log=protocol.access_log,
            default_headers=protocol.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=False,
            keep_alive=self.keep_alive,
            on_response=protocol.on_response_complete,
        )
        cycle.body = self.body
        cycle.more_body = self.more_body
        cycle.message_event.set()
        if protocol.cycle is self:
            protocol.cycle = cycle  # the parser's next body bytes go to it
        protocol._start_asgi_task(cycle, protocol.app)


class LedgerHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the door (see the module's doc)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        door: FrontDoor,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.door = door
        self.idle_since: float | None = None
        """When the last response of an idle connection completed (None while busy)."""

    # Keep-alive: uvicorn arms a timer at each response and cancels it when data arrives, a
    # timer made and cancelled per request (~1.4 us). Here one timer per idle spell is armed
    # and, when it fires on a connection that was busy since, re-armed for the rest of the
    # new spell: the connection still closes ``timeout_keep_alive`` after its last response.

    def _unset_keepalive_if_required(self) -> None:
        """Data arrived: not idle (an armed timer finds that when it fires)."""
        self.idle_since = None

    def on_response_complete(self) -> None:
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.idle_since = None
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self.idle_since = now = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_at(
                now + self.timeout_keep_alive, self._keep_alive_due
            )

    def _keep_alive_due(self) -> None:
        self.timeout_keep_alive_task = None
        if self.idle_since is None:
            return  # busy: its next response arms the timer again
        due = self.idle_since + self.timeout_keep_alive
        if due > self.loop.time():
            self.timeout_keep_alive_task = self.loop.call_at(due, self._keep_alive_due)
        else:
            self.timeout_keep_alive_handler()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None

    def on_headers_complete(self) -> None:
        cycle = self._door_cycle()
        if cycle is None:
            super().on_headers_complete()
        else:
            self.cycle = cycle  # type: ignore[assignment]

    def _door_cycle(self) -> DoorCycle | None:
        """A ``DoorCycle`` for a request the door takes, else None (uvicorn's way)."""
        parser = self.parser
        url = self.url
        if (
            parser.get_method() != b"POST"
            or self.pipeline
            or (self.cycle is not None and not self.cycle.response_complete)
            or self.expect_100_continue
            or self.limit_concurrency is not None
            or parser.should_upgrade()
            or self.root_path
            or not url.startswith(b"/")
            or _QUERY_ESCAPE_OR_FRAGMENT(url) is not None
        ):
            return None
        path = url.decode("ascii", "replace")
        door = self.door
        if not door.fast.takes(path):
            return None
        size = len(url)
        for name, value in self.headers:
            size += len(name) + len(value)
        if size > door.head_limit:
            return None  # ``HeaderLimit`` answers the 431
        http_version = parser.get_http_version()
        scope = self.scope
        scope["method"] = "POST"
        if http_version != "1.1":
            scope["http_version"] = http_version
        scope["path"] = path
        scope["raw_path"] = url
        scope["query_string"] = b""
        keep_alive = http_version != "1.0" and parser.should_keep_alive()
        return DoorCycle(self, scope, keep_alive)


def protocol_for(door: FrontDoor | None) -> Any:
    """uvicorn's ``http`` setting: this protocol with the door, or uvicorn's own without."""
    if door is None:
        return "httptools"
    return functools.partial(LedgerHttpProtocol, door=door)
