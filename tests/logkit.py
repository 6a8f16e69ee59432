"""Shared test helpers for verification: the full verifier after every write test, the
verifier's command lines, and a superuser's tampering with triggers disabled."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import asyncpg

from ledger.store.log import Store
from ledger.verify.stored import LogReport, verify_all
from tests.conftest import REPO


async def assert_log_verifies(store: Store, slug: str | None = None) -> list[LogReport]:
    """Full verification of every log (or one); fails the test with the verifier's reason."""
    reports = await verify_all(store, slug)
    bad = [r for r in reports if not r.ok]
    assert not bad, f"log does not verify: {bad}"
    return reports


async def run_verify(db_url: str, expect_exit: int = 0) -> dict[str, Any]:
    """``ledger verify --json`` as a command, on the test's database."""
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ledger", "verify", "--json",
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == expect_exit, (proc.returncode, out.decode(), err.decode())
    return json.loads(out)


def offline_verify(*args: str) -> subprocess.CompletedProcess[str]:
    """``ledger-verify ARGS`` (the offline verifier) as a donor runs it; never raises."""
    return subprocess.run(
        [sys.executable, "-m", "ledger.verify.offline", *args],
        capture_output=True,
        text=True,
        check=False,
    )


async def tamper(owner: asyncpg.Connection, *statements: tuple[Any, ...]) -> None:
    """Run ``(sql, *args)`` statements as a superuser with every trigger disabled (replica
    mode), as an attacker with DBA rights could."""
    await owner.execute("SET session_replication_role = replica")
    try:
        for sql, *args in statements:
            await owner.execute(sql, *args)
    finally:
        await owner.execute("SET session_replication_role = DEFAULT")
