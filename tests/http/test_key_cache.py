"""The per-process cache of API keys (``ledger.http.auth.KeyCache``) on a real database: the
requests that find a key's entry missing or expired at once wait for one read, and a key
forgotten (revoked) while a read is in progress is read anew by the requests after it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from ledger.errors import UnauthorizedError
from ledger.http import auth
from ledger.http.auth import KeyCache, issue_key
from ledger.journal.organizations import create_organization
from ledger.store import staff


@pytest.fixture
async def org(store, settings, kek):  # type: ignore[no-untyped-def]
    return await create_organization(store, settings, kek, "yayasan-kunci", "Yayasan Kunci")


def counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The prefixes ``KeyCache`` reads from the database (the real query runs)."""
    reads: list[str] = []
    real = auth.P.api_key_by_prefix

    async def read(conn, prefix):  # type: ignore[no-untyped-def]
        reads.append(prefix)
        return await real(conn, prefix)

    monkeypatch.setattr(auth.P, "api_key_by_prefix", read)
    return reads


async def test_requests_that_find_a_key_uncached_wait_for_one_read(store, org, monkeypatch):
    _, text = await issue_key(store, org.id, "recorder")
    reads = counting_reads(monkeypatch)
    cache, services = KeyCache(), SimpleNamespace(store=store)
    principals = await asyncio.gather(*(cache.authenticate(services, text) for _ in range(30)))
    assert {(p.org_id, p.role) for p in principals} == {(org.id, "recorder")}
    assert len(reads) == 1
    assert cache.cached(text) == principals[0]  # no await: the door's path
    # A wrong secret with a known prefix is refused from the cache, with no read.
    with pytest.raises(UnauthorizedError):
        await cache.authenticate(services, text[:-4] + "AAAA")
    assert len(reads) == 1


async def test_a_key_revoked_while_it_is_being_read_is_read_again(store, org, monkeypatch):
    key_id, text = await issue_key(store, org.id, "recorder")
    reads = counting_reads(monkeypatch)
    cache, services = KeyCache(), SimpleNamespace(store=store)
    first = asyncio.ensure_future(cache.authenticate(services, text))
    await asyncio.sleep(0)  # its read has begun
    async with store.connection() as conn:
        assert await staff.revoke_api_key_of(conn, org.id, key_id, None)
    cache.forget(text[4:12])  # as the revocation's notification does
    with pytest.raises(UnauthorizedError, match="revoked"):
        await cache.authenticate(services, text)
    await asyncio.gather(first, return_exceptions=True)  # began before: either answer
    assert len(reads) == 2
    with pytest.raises(UnauthorizedError, match="revoked"):
        cache.cached(text)  # what the first read saw was not kept
