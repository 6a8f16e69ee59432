"""Recovery on the server host: `ledger keys issue` and `ledger staff create/reset/list`,
logged like every access change, and the recovered admin gets in."""

from __future__ import annotations

import re

import asyncpg

from tests.consolekit import browser_like, log_in
from tests.system.test_cli import ledger


async def test_recovery_commands(client, db_url, kek, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert (
        ledger(
            ["org", "create", "--slug", "panti-kasih", "--name", "Panti"], db_url, kek, tmp_path
        ).returncode
        == 0
    )
    issued = ledger(
        ["keys", "issue", "--org", "panti-kasih", "--role", "admin"], db_url, kek, tmp_path
    )
    assert issued.returncode == 0, issued.stderr
    key = re.search(r"ldg_\S+", issued.stdout).group(0)
    r = await client.get(
        "/v1/orgs/panti-kasih/api-keys", headers={"Authorization": f"Bearer {key}"}
    )
    assert r.status_code == 200

    created = ledger(
        [
            "staff",
            "create",
            "--org",
            "panti-kasih",
            "--email",
            "Kepala@Panti.id",
            "--name",
            "Kepala",
            "--role",
            "admin",
        ],
        db_url,
        kek,
        tmp_path,
    )
    assert created.returncode == 0, created.stderr
    reset = ledger(
        ["staff", "reset", "--org", "panti-kasih", "--email", "kepala@panti.id"],
        db_url,
        kek,
        tmp_path,
    )
    assert reset.returncode == 0, reset.stderr
    password = re.search(r"([a-z2-9]{4}-){3}[a-z2-9]{4}", reset.stdout).group(0)
    listed = ledger(["staff", "list", "--org", "panti-kasih"], db_url, kek, tmp_path)
    assert "active   admin    kepala@panti.id" in listed.stdout
    unknown = ledger(
        ["staff", "reset", "--org", "panti-kasih", "--email", "x@panti.id"], db_url, kek, tmp_path
    )
    assert unknown.returncode == 2 and "no staff account" in unknown.stderr

    conn = await asyncpg.connect(db_url)
    try:
        kinds = [r["kind"] for r in await conn.fetch("SELECT kind FROM entries ORDER BY idx")]
        bodies = b"".join(bytes(r["body"]) for r in await conn.fetch("SELECT body FROM entries"))
    finally:
        await conn.close()
    # org create's first admin key, then recovery's
    assert kinds == [
        "log.created",
        "api_key.issued",
        "api_key.issued",
        "staff.added",
        "staff.changed",
    ]
    assert b"kepala" not in bodies.lower() and b'"by":"server"' in bodies

    async with browser_like(client) as c:
        r = await log_in(c, "panti-kasih", "kepala@panti.id", password)
        assert r.status_code == 303 and r.headers["location"] == "/console/password"
    verified = ledger(["verify"], db_url, kek, tmp_path)
    assert verified.returncode == 0, verified.stdout
