"""API keys issued or revoked through the API, and the first key of ``ledger org create``, are
access changes like the console's: each appends exactly one ``api_key.issued`` or
``api_key.revoked`` entry naming the key by its id and its issuer, never its secret, and the
log still verifies (``ledger verify``)."""

from __future__ import annotations

import json
import re

import asyncpg

from tests.apikit import auth
from tests.logkit import assert_log_verifies, run_verify
from tests.system.test_cli import ledger


async def _log(owner: asyncpg.Connection, slug: str) -> list[tuple[str, dict[str, str], bytes]]:
    rows = await owner.fetch(
        "SELECT e.kind, e.body FROM entries e JOIN organizations o ON o.id = e.org_id "
        "WHERE o.slug = $1 ORDER BY e.idx",
        slug,
    )
    return [(r["kind"], json.loads(bytes(r["body"]))["body"], bytes(r["body"])) for r in rows]


async def test_keys_issued_and_revoked_through_the_api_are_logged(  # type: ignore[no-untyped-def]
    charity, store, owner, db_url
) -> None:
    admin = auth(charity.keys["admin"])
    listed = (await charity.client.get(charity.url("/api-keys"), headers=admin)).json()
    prefix = charity.keys["admin"].split("_")[1]
    admin_id = next(k["id"] for k in listed if k["prefix"] == prefix)
    before = await _log(owner, charity.slug)

    created = await charity.client.post(
        charity.url("/api-keys"), json={"role": "recorder", "label": "kasir 2"}, headers=admin
    )
    assert created.status_code == 201, created.text
    new = created.json()
    after_issue = await _log(owner, charity.slug)
    assert len(after_issue) == len(before) + 1
    kind, body, raw = after_issue[-1]
    assert kind == "api_key.issued"
    assert body == {"key": new["id"], "role": "recorder", "by": f"key:{admin_id}"}
    secret = new["key"].split("_", 2)[2]
    assert secret.encode() not in raw and b"kasir" not in raw

    # a refused issue (a role that does not exist) logs nothing
    refused = await charity.client.post(
        charity.url("/api-keys"), json={"role": "owner"}, headers=admin
    )
    assert refused.status_code in (400, 422)
    assert len(await _log(owner, charity.slug)) == len(after_issue)

    r = await charity.client.delete(charity.url(f"/api-keys/{new['id']}"), headers=admin)
    assert r.status_code == 204
    after_revoke = await _log(owner, charity.slug)
    assert len(after_revoke) == len(after_issue) + 1
    kind, body, _ = after_revoke[-1]
    assert kind == "api_key.revoked" and body == {"key": new["id"], "by": f"key:{admin_id}"}
    # revoking again is 404 and logs nothing; the revoked key no longer works
    r = await charity.client.delete(charity.url(f"/api-keys/{new['id']}"), headers=admin)
    assert r.status_code == 404
    assert len(await _log(owner, charity.slug)) == len(after_revoke)
    r = await charity.client.get(charity.url("/api-keys"), headers=auth(new["key"]))
    assert r.status_code == 401

    await assert_log_verifies(store, charity.slug)
    report = await run_verify(db_url)
    assert report["ok"] is True


async def test_org_create_logs_its_first_admin_key(db_url, kek, tmp_path, owner) -> None:  # type: ignore[no-untyped-def]
    created = ledger(
        ["org", "create", "--slug", "panti-kasih", "--name", "Panti Kasih"], db_url, kek, tmp_path
    )
    assert created.returncode == 0, created.stderr
    text = re.search(r"ldg_\S+", created.stdout).group(0)
    log = await _log(owner, "panti-kasih")
    assert [k for k, _, _ in log] == ["log.created", "api_key.issued"]
    _, body, raw = log[1]
    key_id = await owner.fetchval(
        "SELECT id::text FROM api_keys WHERE prefix = $1", text.split("_")[1]
    )
    assert body == {"key": key_id, "role": "admin", "by": "server"}
    assert text.split("_", 2)[2].encode() not in raw
    verified = ledger(["verify"], db_url, kek, tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
