"""The `ledger` command against a real database: exit codes, JSON output, help."""

from __future__ import annotations

import base64
import json
import os
import subprocess

import pytest

from tests.conftest import run_ledger


def ledger(args: list[str], db_url: str, kek: bytes, tmp_path) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "LEDGER_KEK": base64.b64encode(kek).decode(),
        "LEDGER_DATA_DIR": str(tmp_path),
    }
    return run_ledger(*args, env=env)


def test_org_keys_checkpoint_and_verify(db_url, kek, tmp_path, owner_url=None):
    created = ledger(
        ["org", "create", "--slug", "panti-kasih", "--name", "Panti Kasih"], db_url, kek, tmp_path
    )
    assert created.returncode == 0, created.stderr
    assert "admin API key (shown once" in created.stdout and "ldg_" in created.stdout
    keys = ledger(["keys", "rotate", "--org", "panti-kasih", "--keep-old"], db_url, kek, tmp_path)
    assert keys.returncode == 0 and keys.stdout.count("active ") == 2, keys.stdout
    cp = ledger(["checkpoint", "--org", "panti-kasih"], db_url, kek, tmp_path)
    # entries: log.created, api_key.issued (the first admin key), key.rotated
    assert cp.returncode == 0 and cp.stdout.startswith("ledger.example/orgs/panti-kasih\n3\n")
    ok = ledger(["verify", "--json"], db_url, kek, tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    report = json.loads(ok.stdout)
    assert report["ok"] is True and report["logs"][0]["size"] == 3


def test_verify_reports_tampering_with_exit_1(db_url, kek, tmp_path):
    import asyncio

    import asyncpg

    assert (
        ledger(
            ["org", "create", "--slug", "panti-kasih", "--name", "Panti"], db_url, kek, tmp_path
        ).returncode
        == 0
    )

    async def tamper() -> None:
        conn = await asyncpg.connect(db_url)
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "UPDATE entries SET created_at = created_at + interval '1 second' WHERE idx = 0"
        )
        await conn.close()

    asyncio.run(tamper())
    bad = ledger(["verify"], db_url, kek, tmp_path)
    assert bad.returncode == 1 and "FAIL panti-kasih at index 0" in bad.stdout, bad.stdout
    as_json = json.loads(ledger(["verify", "--json"], db_url, kek, tmp_path).stdout)
    assert as_json["ok"] is False and as_json["logs"][0]["first_bad_index"] == 0


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["verify"],
        ["keys", "rotate"],
        ["witness", "serve"],
        ["org", "create"],
        ["witnesses", "add"],
    ],
)
def test_every_command_has_help(command, tmp_path):
    out = run_ledger(*command, "--help", env=dict(os.environ))
    assert out.returncode == 0 and "usage: ledger" in out.stdout and len(out.stdout) > 150


def test_unknown_organization_is_a_clear_error(db_url, kek, tmp_path):
    out = ledger(["checkpoint", "--org", "nope"], db_url, kek, tmp_path)
    assert out.returncode == 2 and "no organization with slug 'nope'" in out.stderr
