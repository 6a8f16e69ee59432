"""The hottest route without the framework's per-request machinery: ``POST .../donations``.

Recording one donation is what a charity's bookkeeping system does all day, so it gets a
plain ASGI handler in front of Litestar (inside ``RequestObserver``: request ids, metrics
and access lines are the same). It runs exactly the code of the Litestar route, in the same
order — API key (``KeyCache``), role and organization (``guard``'s rules), rate limit,
Content-Type and strict body (``decode_strict``: no repeated keys), Idempotency-Key, ``record`` — and answers with the same
bytes and headers. What it saves is routing, the signature model, dependency injection,
the guard's copy of the handler and the response objects: about 40% of the server's CPU
per donation (``bench.http_load``). Under ``ledger serve`` the connection asks ``answer``
itself, before any ASGI (``ledger.http.connection``); this layer answers for every other
ASGI server, the tests' clients included, and for requests the connection leaves to ASGI.

It never invents an error answer of its own: anything it does not take on (another route,
a request that fails before recording — no key, wrong role, not JSON, malformed body, an oversized
or streamed body, a key over its rate limit) is handed to Litestar unchanged, with the body
it already read replayed, so the problem+json comes from ``ledger.http.problems`` as for every
other route. An error while recording (a rule, a conflict, the database) is answered with
``ledger.http.problems.ledger_problem``, the mapping the Litestar route uses too.

Gateway notifications (``POST .../gateways/midtrans/notifications`` and
``.../gateways/xendit/callbacks``) come at the rate of a charity's busiest campaign and take
the same door, with the steps of their Litestar routes (``ledger.http.api.gateways``): no
API key (a request that sends one goes to Litestar), the anonymous rate limit per address,
the organization, Content-Type and strict body, then ``midtrans.receive`` or
``xendit.receive``; the ``GatewayAck`` is encoded as Litestar encodes it.
"""

from __future__ import annotations

import re
from asyncio import Future
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

import msgspec

from ledger.charity.recording import (
    Reply,
    check_key,
    record,
    record_soon,
    recorded,
    request_hash,
)
from ledger.charity.rules import Command
from ledger.http.api.bodies import check_json_media_type, decode_strict
from ledger.http.api.writes import RECORDER, donation_command_parts
from ledger.http.auth import api_key_from
from ledger.http.problems import PROBLEM_JSON, Problem, ledger_problem
from ledger.ingest import midtrans, xendit
from ledger.messages import language_of
from schemas.charity import DonationCreate
from schemas.gateways import MidtransNotification, XenditCallback

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from ledger.http.auth import Principal
    from ledger.http.ratelimit import RateLimiter
    from ledger.journal.appender import Appended
    from ledger.store.log import Organization

ROUTE = re.compile(r"/v1/orgs/([a-z0-9][a-z0-9-]{1,62})/donations")
"""The donation route's paths (organization slugs as ``organizations.slug`` allows)."""
TEMPLATE = "/v1/orgs/{slug}/donations"
"""Its route template, as Litestar names it in metrics and access lines."""
ROLES = RECORDER["roles"]
GATEWAY_ROUTE = re.compile(
    r"/v1/orgs/([a-z0-9][a-z0-9-]{1,62})/gateways/(midtrans/notifications|xendit/callbacks)"
)
"""The gateway notification routes' paths."""
GATEWAY_TEMPLATES = {
    "midtrans/notifications": "/v1/orgs/{slug}/gateways/midtrans/notifications",
    "xendit/callbacks": "/v1/orgs/{slug}/gateways/xendit/callbacks",
}
"""Their route templates, as Litestar names them."""
_encode = msgspec.json.Encoder().encode
PROBLEM_JSON_BYTES = PROBLEM_JSON.encode()
Headers: TypeAlias = "Iterable[tuple[bytes, bytes]]"
"""Request header fields as ASGI and the connection keep them: lower-case names."""


class DonationFastPath:
    """ASGI: answers ``POST /v1/orgs/{slug}/donations`` itself, everything else goes on."""

    def __init__(
        self, app: ASGIApp, litestar: Litestar, limiter: RateLimiter, max_body: int
    ) -> None:
        self.app = app
        self.litestar = litestar
        self.limiter = limiter
        self.max_body = max_body
        self.answered = 0
        """Requests this path answered itself (the rest went to Litestar)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http" and scope["method"] == "POST" and self.takes(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        raw, complete = await self._read_body(receive)
        reply, template = None, TEMPLATE
        if complete:
            reply, template = await self.answer(
                scope["path"], scope["headers"], raw, scope.get("client")
            )
        if reply is None:  # not ours to answer: Litestar sees the request as it came
            await self.app(scope, _replaying(raw, complete, receive), send)
            return
        scope["path_template"] = template  # type: ignore[typeddict-unknown-key]
        status, headers, body = answer_parts(reply)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def takes(path: str) -> bool:
        """Whether a ``POST`` to ``path`` is one this path may answer."""
        return ROUTE.fullmatch(path) is not None or GATEWAY_ROUTE.fullmatch(path) is not None

    async def answer(
        self, path: str, headers: Headers, raw: bytes, client: tuple[str, int] | None
    ) -> tuple[Reply | Problem | None, str]:
        """The answer to ``POST path`` with this complete body and its route template, or
        ``(None, "")`` to hand the request to Litestar (the ASGI door above and the
        connection's, ``ledger.http.connection``, both ask here)."""
        found = ROUTE.fullmatch(path)
        if found is not None:
            reply = await self._record(path, headers, found[1], raw)
            template = TEMPLATE
        else:
            gateway = GATEWAY_ROUTE.fullmatch(path)
            if gateway is None:
                return None, ""
            route = gateway[2]
            reply = await self._notify(headers, client, gateway[1], route, raw)
            template = GATEWAY_TEMPLATES[route]
        if reply is not None:
            self.answered += 1
        return reply, template

    async def _read_body(self, receive: Receive) -> tuple[bytes, bool]:
        """The body, unless it grows past the limit (then Litestar answers the 413)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), False  # a disconnect: let Litestar see it
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body:
                return b"".join(chunks), False
            if not message.get("more_body", False):
                return b"".join(chunks), True

    async def _record(self, path: str, headers: Headers, slug: str, raw: bytes) -> Any:
        """Reply, Problem, or None to hand the request to Litestar."""
        services = self.litestar.state["services"]  # attribute access raises and catches first
        try:
            principal = await services.keys.authenticate(services, api_key_from(headers))
            org = await services.organization(slug)
        except Exception:  # Litestar runs the same steps and answers for them
            return None
        command = self._command(principal, org, path, headers, raw)
        if command is None:
            return None
        try:
            return await record(services, org, command)
        except Exception as exc:
            return _problem(exc, headers)

    def start(self, path: str, headers: Headers, raw: bytes) -> Started:
        """``answer`` for a donation without awaiting anything, when all it reads before the
        append is at hand in this process (the key's row and the organization cached): the
        connection calls it from the parser's callback, so no task and no coroutine is made
        for the request. The same steps in the same order as ``_record``, with the same
        outcomes: ``LATER`` when something must be read first (nothing was done: ``answer``
        then takes the request), None to hand it to Litestar, a Reply or Problem to send now,
        or the ``Recording`` whose future is done once its batch committed (``finish``)."""
        found = ROUTE.fullmatch(path)
        if found is None:
            return LATER
        services = self.litestar.state["services"]
        try:
            principal = services.keys.cached(api_key_from(headers))
        except Exception:
            return None
        org = services.cached_organization(found[1])
        if principal is None or org is None:
            return LATER
        command = self._command(principal, org, path, headers, raw)
        if command is None:
            return None
        self.answered += 1
        try:
            return Recording(services, org, command, record_soon(services, org, command))
        except Exception as exc:
            return _problem(exc, headers)

    @staticmethod
    def finish(recording: Recording, headers: Headers) -> Reply | Problem:
        """The answer to a ``start``ed donation once its future is done."""
        try:
            return recorded(recording.services, recording.org, recording.command, recording.future)
        except Exception as exc:
            return _problem(exc, headers)

    def _command(
        self, principal: Principal, org: Organization, path: str, headers: Headers, raw: bytes
    ) -> Command | None:
        """The donation's command once the key and organization are known, or None to hand
        the request to Litestar: not JSON, a malformed body or key, the wrong role or
        organization, a key over its rate limit."""
        try:
            check_json_media_type(_header(headers, b"content-type"))
            data = decode_strict(raw, DonationCreate)
            key = check_key(_header(headers, b"idempotency-key"))
        except Exception:  # Litestar runs the same steps and answers for them
            return None
        if principal.role not in ROLES or principal.org_id != org.id:
            return None
        if self.limiter.enabled and self.limiter.hit(principal.key_id) is not None:
            return None  # over the limit: the rate-limit middleware answers the 429
        body, donor = donation_command_parts(data)
        return Command.of(
            body, idem_key=key, request_hash=request_hash("POST", path, raw), donor=donor
        )

    async def _notify(
        self, headers: Headers, client: tuple[str, int] | None, slug: str, route: str, raw: bytes
    ) -> Any:
        """Reply, Problem, or None to hand the request to Litestar (the steps of
        ``GatewayController.midtrans_notification`` and ``xendit_callback``)."""
        services = self.litestar.state["services"]  # attribute access raises and catches first
        if api_key_from(headers):
            return None  # a key is authenticated and counted per key: the middleware's job
        try:
            org = await services.organization(slug)
            check_json_media_type(_header(headers, b"content-type"))
            data = decode_strict(raw, MidtransNotification if route[0] == "m" else XenditCallback)
        except Exception:  # Litestar runs the same steps and answers for them
            return None
        address = client[0] if client else "unknown"
        if self.limiter.anonymous_enabled and self.limiter.hit_address(address) is not None:
            return None  # over the limit: the rate-limit middleware answers the 429
        try:
            if isinstance(data, MidtransNotification):
                ack = await midtrans.receive(
                    services.gateways, services.appender, services.clock, org, data, raw
                )
            else:
                token = _header(headers, b"x-callback-token")
                ack = await xendit.receive(
                    services.gateways, services.appender, services.clock, org, token, data, raw
                )
        except Exception as exc:
            return _problem(exc, headers, GATEWAY_TEMPLATES[route])
        return Reply(200, _encode(ack))


@dataclass(slots=True)
class Recording:
    """A donation ``DonationFastPath.start`` handed to the group commit."""

    services: Any
    org: Organization
    command: Command
    future: Future[Appended]
    """Done once the batch holding it committed (``ledger.charity.recording.record_soon``)."""


LATER: Final = "later"
"""``DonationFastPath.start``: the request needs a read first; ``answer`` takes it."""
Started: TypeAlias = "Reply | Problem | Recording | Literal['later'] | None"


def _problem(exc: Exception, headers: Headers, template: str = TEMPLATE) -> Problem:
    """An error while recording, as the Litestar route of ``template`` answers it."""
    lang = language_of(_header(headers, b"accept-language"))
    return ledger_problem(exc, "POST", template, lang)


def _header(headers: Any, name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def _replaying(raw: bytes, complete: bool, receive: Receive) -> Receive:
    """A ``receive`` that first gives back what was read, then goes on with the real one."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": raw, "more_body": not complete}
        return await receive()

    return replay


def template_of(path: str) -> str:
    """The route template of a path ``DonationFastPath.takes``."""
    gateway = GATEWAY_ROUTE.fullmatch(path)
    return TEMPLATE if gateway is None else GATEWAY_TEMPLATES[gateway[2]]


def answer_parts(reply: Reply | Problem) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers (no Content-Length) and body of a reply or a problem, as Litestar's
    routes send them."""
    if isinstance(reply, Reply):
        headers = [(b"content-type", b"application/json")]
        if reply.replayed:
            headers.append((b"idempotency-replayed", b"true"))
        return reply.status, headers, reply.body
    headers = [(b"content-type", PROBLEM_JSON_BYTES)]
    headers += [(k.lower().encode(), v.encode()) for k, v in (reply.headers or {}).items()]
    return reply.status, headers, reply.body
