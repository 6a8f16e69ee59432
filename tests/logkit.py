"""Shared test helpers: run the full verifier after every write test."""

from __future__ import annotations

from ledger.store.log import Store
from ledger.verify.stored import LogReport, verify_all


async def assert_log_verifies(store: Store, slug: str | None = None) -> list[LogReport]:
    """Full verification of every log (or one); fails the test with the verifier's reason."""
    reports = await verify_all(store, slug)
    bad = [r for r in reports if not r.ok]
    assert not bad, f"log does not verify: {bad}"
    return reports
