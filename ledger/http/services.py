"""What a running service holds: the store, the appender, the key-encryption key.

Built once per process by the app's lifespan and handed to handlers as a dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import asyncpg

from ledger.charity.recording import InFlight
from ledger.clock import Clock
from ledger.errors import LedgerError
from ledger.http.auth import KeyCache
from ledger.ingest.lookups import GatewayLookups
from ledger.journal import webhooks
from ledger.journal.appender import Appender
from ledger.journal.publisher import publish
from ledger.journal.witnessing import witness_checkpoint
from ledger.settings import Settings
from ledger.store.log import (
    UNAVAILABLE,
    Organization,
    Store,
    publisher_unlock,
    try_publisher_lock,
)

log = logging.getLogger(__name__)


@dataclass
class Services:
    """The process's shared state."""

    settings: Settings
    """Settings the process was started with."""
    store: Store
    """Named queries over the writer pool."""
    appender: Appender
    """Group-commit writers, one per log."""
    kek: bytes = field(repr=False)
    """Key-encryption key for the sealed signing keys."""
    replica: Store | None = None
    """A read replica for public reads (LEDGER_REPLICA_URL), if configured."""
    keys: KeyCache = field(default_factory=KeyCache)
    """API key lookups (cached 1 s; revocations heard at once)."""
    inflight: InFlight = field(default_factory=InFlight)
    """Idempotency keys being recorded by this process."""
    gateways: GatewayLookups = field(init=False, repr=False)
    """Gateway connections (kept 1 s) and the funds their rules pick (``ledger.ingest``)."""
    _orgs: dict[str, Organization] = field(default_factory=dict, repr=False)
    _publisher: asyncio.Task[None] | None = field(default=None, repr=False)
    _revocations: asyncio.Task[None] | None = field(default=None, repr=False)
    _webhooks: asyncio.Task[None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.gateways = GatewayLookups(self.store, self.kek)

    @property
    def clock(self) -> Clock:
        """The clock of every write (the appender's): entry times, value-date windows."""
        return self.appender.clock

    @property
    def reader(self) -> Store:
        """Where public reads go: the replica if there is one (it may lag the primary by a
        moment), else the primary. Writes, receipts and anything that may sign use ``store``."""
        return self.replica or self.store

    def cached_organization(self, slug: str) -> Organization | None:
        """The organization if this process has read it already (no await), else None."""
        return self._orgs.get(slug)

    async def organization(self, slug: str) -> Organization:
        """Organizations never change once created, so they are cached by slug."""
        org = self._orgs.get(slug)
        if org is None:
            org = await self.store.organization(slug)
            self._orgs[slug] = org
        return org

    async def publish_all(self) -> None:
        """Sign a checkpoint for every log that grew since its newest checkpoint.

        With several worker processes (``ledger serve --workers N``) only the one holding the
        publisher's advisory lock signs; the others skip this round, since the holder covers
        every log. The lock is a session lock on one pooled connection: it is released at the
        end, or by PostgreSQL itself if this process or its connection dies meanwhile.
        """
        async with self.store.connection() as lock:
            if not await try_publisher_lock(lock):
                return
            try:
                after = 0
                while page := await self.store.organizations(after):
                    for org in page:
                        head = await self.store.head(org.id)
                        latest = await self.store.latest_checkpoint(org.id)
                        if latest is None or latest.size < head.size:
                            cp = await publish(self.store, org, self.kek)
                            await witness_checkpoint(self.store, org, cp)
                    after = page[-1].id
            finally:
                with contextlib.suppress(*UNAVAILABLE, asyncpg.PostgresError):
                    await publisher_unlock(lock)

    async def _publish_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.checkpoint_interval)
            try:
                await self.publish_all()
            except LedgerError as exc:
                log.error("checkpoint publishing failed: %s", exc)

    def start(self) -> None:
        if self.settings.checkpoint_interval > 0:
            self._publisher = asyncio.create_task(self._publish_forever(), name="publisher")
        # Revoked API keys are forgotten by every process at once (ledger.http.auth).
        self._revocations = asyncio.create_task(self.keys.listen(self.store), name="revocations")
        # Signed webhooks from the outbox the database writes (ledger.journal.webhooks).
        self._webhooks = asyncio.create_task(
            webhooks.deliver_forever(self.store, self.kek), name="webhooks"
        )

    async def stop(self) -> None:
        await webhooks.stop(self._webhooks)
        if self._revocations:
            self._revocations.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._revocations
        if self._publisher:
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
