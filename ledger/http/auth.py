"""API keys: issued once, stored hashed, scoped to one organization and one role.

Key text: ``ldg_<8-char prefix>_<43-char secret>``. The prefix finds the row; the SHA-256 of
the whole text is compared in constant time. A 256-bit random secret needs no slow hash.
Lookups are cached per process for at most ``CACHE_SECONDS`` (1 s). A revocation notifies
every process at commit (PostgreSQL ``NOTIFY ledger_api_key_revoked``, heard by
``KeyCache.listen``), which forgets the key at once; the 1 s expiry bounds it when a
notification is missed (a listener reconnecting, a lookup racing the revocation). So a
revoked key is refused by every worker within 1 s, usually within milliseconds.

Roles: ``admin`` manages keys, beneficiaries and funds; ``recorder`` records money;
``auditor`` reads everything of its organization (including donor records) and never writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
import string
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from ledger.errors import ForbiddenError, UnauthorizedError
from ledger.store import charity as P
from ledger.store.log import Organization

log = logging.getLogger(__name__)

KEY_PREFIX = "ldg_"
CACHE_SECONDS = 1.0
REVOKED_CHANNEL = "ledger_api_key_revoked"
"""PostgreSQL notification channel; the payload is the revoked key's prefix."""
RELISTEN_SECONDS = 1.0
ROLES = ("admin", "recorder", "auditor")
_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class Principal:
    """Who is calling: one key of one organization."""

    key_id: uuid.UUID
    """The key's public id."""
    org_id: int
    """The only organization it may touch."""
    role: str
    """admin, recorder or auditor."""


def new_key() -> tuple[str, str, bytes]:
    """A fresh key: (text shown once, prefix, hash stored)."""
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    text = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return text, prefix, hashlib.sha256(text.encode()).digest()


PRINCIPAL_SCOPE_KEY = "ledger.principal"
"""ASGI scope key under which ``RateLimitMiddleware`` leaves the principal it authenticated,
so the guard of the same request does not hash and look up the same key a second time."""


def api_key_from(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The API key a request presents: ``Authorization: Bearer <key>``, else ``X-API-Key``
    (the first of each header; "" when none). Reads the raw ASGI headers, whose names are
    lower-case, decoding values as Latin-1 like Litestar's ``Headers``."""
    authorization = api_key = None
    for name, value in headers:
        if name == b"authorization":
            if authorization is None:
                authorization = value
        elif name == b"x-api-key" and api_key is None:
            api_key = value
    if authorization is not None:
        header = authorization.decode("latin-1")
        if header.lower().startswith("bearer "):
            return header[7:].strip()
    return api_key.decode("latin-1").strip() if api_key is not None else ""


def _checked(row: P.ApiKeyRow | None, text: str) -> Principal:
    """The key's principal, if ``text`` is the key of ``row`` and it was not revoked."""
    digest = hashlib.sha256(text.encode()).digest()
    if row is None or not hmac.compare_digest(row.secret_hash, digest):
        raise UnauthorizedError.of("the API key is not valid")
    if row.revoked_at is not None:
        raise UnauthorizedError.of("the API key was revoked")
    return Principal(row.id, row.org_id, row.role)


class KeyCache:
    """Per-process cache of key lookups (prefix → row, expiry)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[P.ApiKeyRow | None, float]] = {}
        self._reads: dict[str, asyncio.Future[P.ApiKeyRow | None]] = {}
        """Reads of a key's row in progress: the requests that find its entry missing or
        expired at once wait for one read (at a donation every few hundred microseconds,
        each expiry had sent several requests to the database at the same moment)."""
        self._forgotten = 0
        """How many times ``forget`` ran: a read that began before one does not cache."""

    async def authenticate(self, services, text: str) -> Principal:  # type: ignore[no-untyped-def]
        principal = self.cached(text)
        if principal is not None:
            return principal
        prefix = text[len(KEY_PREFIX) : len(KEY_PREFIX) + 8]
        read = self._reads.get(prefix)
        if read is None:
            read = self._reads[prefix] = asyncio.ensure_future(self._read(services, prefix))
        return _checked(await asyncio.shield(read), text)

    async def _read(self, services, prefix: str) -> P.ApiKeyRow | None:  # type: ignore[no-untyped-def]
        forgotten = self._forgotten
        try:
            async with services.store.connection() as conn:
                row = await P.api_key_by_prefix(conn, prefix)
        finally:
            if self._reads.get(prefix) is asyncio.current_task():
                del self._reads[prefix]
        if forgotten == self._forgotten:
            self._rows[prefix] = (row, time.monotonic() + CACHE_SECONDS)
        return row

    def cached(self, text: str) -> Principal | None:
        """``authenticate``'s answer when the key's row is cached and fresh, with no await
        (the connection's donation door); None when the row must be read. Raises what
        ``authenticate`` raises for a missing, malformed, unknown or revoked key."""
        if not text:
            raise UnauthorizedError.of(
                "this request needs an API key: send 'Authorization: Bearer <key>'"
            )
        start = len(KEY_PREFIX)
        if not text.startswith(KEY_PREFIX) or text[start + 8 : start + 9] != "_":
            raise UnauthorizedError.of("the API key is malformed: expected ldg_<prefix>_<secret>")
        cached = self._rows.get(text[start : start + 8])
        if cached is None or cached[1] < time.monotonic():
            return None
        return _checked(cached[0], text)

    def forget(self, prefix: str | None = None) -> None:
        """Drop what is cached (and reads in progress: a request after this reads anew)."""
        self._forgotten += 1
        if prefix is None:
            self._rows.clear()
            self._reads.clear()
        else:
            self._rows.pop(prefix, None)
            self._reads.pop(prefix, None)

    async def listen(self, store) -> None:  # type: ignore[no-untyped-def]
        """Forget revoked keys as PostgreSQL announces them, until cancelled. Holds one pooled
        connection; when it drops, everything cached is forgotten and listening resumes
        (until then the 1 s expiry bounds what a missed notification could cost)."""
        while True:
            closed = asyncio.Event()
            try:
                async with store.connection() as conn:
                    conn.add_termination_listener(_setter(closed))
                    await conn.add_listener(REVOKED_CHANNEL, self._on_revoked)
                    self.forget()  # whatever was revoked while nobody listened
                    try:
                        await closed.wait()
                    finally:
                        with contextlib.suppress(Exception):
                            await conn.remove_listener(REVOKED_CHANNEL, self._on_revoked)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: keep trying, quietly
                log.debug("not listening for key revocations: %s", exc)
            self.forget()
            await asyncio.sleep(RELISTEN_SECONDS)

    def _on_revoked(self, _conn: object, _pid: int, _channel: str, prefix: object) -> None:
        self.forget(str(prefix))


def _setter(event: asyncio.Event):  # type: ignore[no-untyped-def]
    return lambda _conn: event.set()


async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Litestar guard: the handler's ``opt["roles"]`` says who may call it (none: public)."""
    roles = handler.opt.get("roles")
    if roles is None:
        return
    scope = connection.scope
    services = connection.app.state.services
    principal: Principal | None = scope.get(PRINCIPAL_SCOPE_KEY)  # type: ignore[assignment]
    if principal is None:
        principal = await services.keys.authenticate(services, api_key_from(scope["headers"]))
    if principal.role not in roles:
        raise ForbiddenError.of(
            "this needs an API key with the role {needed}; the key sent has the role {role}",
            needed=" or ".join(roles),
            role=principal.role,
        )
    slug = connection.path_params.get("slug")
    if slug is not None:
        org: Organization = await services.organization(slug)
        if org.id != principal.org_id:
            raise ForbiddenError("this API key belongs to another organization")
    # connection.state.principal = principal, without building a State (and its RLock)
    scope.setdefault("state", {})["principal"] = principal


async def issue_key(store, org_id: int, role: str, label: str = "") -> tuple[uuid.UUID, str]:  # type: ignore[no-untyped-def]
    """Create a key; return its id and its text (the only time the text exists)."""
    if role not in ROLES:
        raise ValueError(f"expected a role in {ROLES}, got {role!r}")
    text, prefix, digest = new_key()
    key_id = uuid.uuid4()
    async with store.connection() as conn:
        await P.insert_api_key(conn, key_id, org_id, prefix, digest, role, label)
    return key_id, text
