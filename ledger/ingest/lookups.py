"""What every notification of an organization needs before it is recorded, held in memory.

A notification needs the gateway connection in force (its opened secret and fund rule) and
the fund its rule picks (currency and recorded exponent). Reading both for each delivery
costs two round trips and two pool checkouts, which at a gateway's rate cost more than the
donation's share of the group commit (``bench.gateway_load``). So a process keeps them:

* **Connections** for at most ``CONNECTION_SECONDS`` (1 s, like API keys in
  ``ledger.http.auth``). A change made through this process (``connect``) is in force at
  once; a change made through another worker within that second. A signature that does not
  match the kept secret is checked again against the connection read afresh before it is
  refused, so a new secret is never refused for being newer than the cache.
* **Funds** for the life of the process, once found: a fund's code, currency and recorded
  exponent come from its ``fund.created`` entry, which never changes. A fund that is not
  there is never cached (it may be created a moment later).

One instance per service process (``ledger.http.services.Services``), since two databases
in one process (tests) may number their organizations alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from ledger.errors import CurrencyMismatchError, GatewaySignatureError, UnknownFundError
from ledger.ingest import connections
from ledger.ingest.connections import Connection
from ledger.store import charity as P
from ledger.store.log import Organization, Store
from schemas.gateways import GatewayConnect, GatewayView

CONNECTION_SECONDS = 1.0
"""How long a process trusts the connection it read (a change elsewhere counts after it)."""

T = TypeVar("T")


class GatewayLookups:
    """A process's connections (kept 1 s) and funds (kept once found), per organization."""

    def __init__(self, store: Store, kek: bytes) -> None:
        self.store = store
        self._kek = kek
        self._connections: dict[tuple[int, str], tuple[Connection, float]] = {}
        self._reading: dict[tuple[int, str], asyncio.Future[Connection]] = {}
        self._funds: dict[tuple[int, str], P.FundRow] = {}

    async def connection(self, org: Organization, gateway: str) -> tuple[Connection, bool]:
        """The connection in force, and whether it was kept (True) or read now (False);
        404 when the gateway is not connected."""
        now = time.monotonic()
        kept = self._connections.get((org.id, gateway))
        if kept is not None and kept[1] > now:
            return kept[0], True
        return await self._read(org, gateway), False

    async def _read(self, org: Organization, gateway: str) -> Connection:
        """Read the connection now; callers that ask while a read is on its way wait for that
        one instead of each reading (when the kept one expires under load, every request in
        flight would otherwise take a pool connection and unseal the same secret at once:
        a stall of the whole group of requests, once a second)."""
        key = (org.id, gateway)
        reading = self._reading.get(key)
        if reading is None:
            reading = self._reading[key] = asyncio.ensure_future(self._fetch(org, gateway))
            reading.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(reading)

    def _forget(self, key: tuple[int, str], done: asyncio.Future[Connection]) -> None:
        if self._reading.get(key) is done:
            del self._reading[key]
        if not done.cancelled():
            done.exception()  # retrieved by the waiters; none may be left

    async def _fetch(self, org: Organization, gateway: str) -> Connection:
        found = await connections.open_connection(self.store, self._kek, org, gateway)
        self._connections[(org.id, gateway)] = (found, time.monotonic() + CONNECTION_SECONDS)
        return found

    async def verified(
        self, org: Organization, gateway: str, check: Callable[[Connection], T]
    ) -> tuple[Connection, T]:
        """The connection in force that ``check`` accepts, and what ``check`` returned.
        ``check`` raises ``GatewaySignatureError`` for a notification the connection did not
        sign; a kept connection that refuses is read again before the refusal stands."""
        found, kept = await self.connection(org, gateway)
        try:
            return found, check(found)
        except GatewaySignatureError:
            if not kept:
                raise
        found = await self._fetch(org, gateway)  # read after the refusal, not joined to one before
        return found, check(found)

    async def connect(
        self, org: Organization, gateway: str, request: GatewayConnect
    ) -> GatewayView:
        """Store a new version of the connection (``ledger.ingest.connections.connect``); this
        process uses it from the next notification on."""
        try:
            return await connections.connect(self.store, self._kek, org, gateway, request)
        finally:
            self._connections.pop((org.id, gateway), None)

    async def fund(self, org: Organization, code: str, currency: str) -> P.FundRow:
        """The fund a rule chose, which must exist and be in the payment's currency (its
        recorded exponent is how the gateway's decimal amount is read)."""
        fund = self._funds.get((org.id, code))
        if fund is None:
            async with self.store.connection(settled=True) as conn:
                fund = (await P.funds(conn, org.id, [code])).get(code)
            if fund is None:
                raise UnknownFundError(
                    f"the fund rule chose fund {code!r}, which this organization does not "
                    "have: create it or change the rule"
                )
            self._funds[(org.id, code)] = fund
        if fund.currency != currency:
            raise CurrencyMismatchError(
                f"fund {code!r} is in {fund.currency}, the payment is in {currency}"
            )
        return fund
