"""`ledger export` / `ledger import`: a whole organization's log restored elsewhere, verified."""

from __future__ import annotations

import json

import pytest

from ledger.backup import import_log
from ledger.errors import ConflictError, VerificationError
from ledger.journal.organizations import rotate_key
from ledger.journal.publisher import publish
from ledger.store.database import WRITER_ROLE, create_pool
from ledger.store.log import Store
from tests.logkit import assert_log_verifies


async def make_books(charity, store, kek):
    await charity.fund()
    await charity.beneficiary()
    d = await charity.donate(1_000_000, donor={"email": "a@example.id"})
    await charity.donate(500_000)
    r = await charity.disburse(300_000)
    assert r.status_code == 201
    await charity.ok("/corrections", {"corrects": d["index"], "reason": "bounced"})
    await publish(store, await store.organization(charity.slug), kek)


async def test_export_then_import_elsewhere_restores_log_and_balances(
    charity, store, kek, other_db_url, tmp_path
):
    await make_books(charity, store, kek)
    export = (await charity.client.get(charity.url("/log/export"))).content
    path = tmp_path / "backup.jsonl"
    path.write_bytes(export)
    balances = (await charity.client.get(charity.url("/balances"))).json()

    other = Store(await create_pool(other_db_url, role=WRITER_ROLE, size=4))
    try:
        org, report = await import_log(other, path)
        assert report.ok, report
        assert report.size == balances["as_of"]
        from ledger.charity.reads import balances_view

        restored = await balances_view(other, org, None)
        assert sorted((b.account, b.amount) for b in restored.balances) == sorted(
            (b["account"], b["amount"]) for b in balances["balances"]
        )
        with pytest.raises(ConflictError):
            await import_log(other, path)
        await rotate_key(other, kek, org)  # the restored log signs again with a new key
        await assert_log_verifies(other)
    finally:
        await other.pool.close()


async def test_a_tampered_backup_is_refused_and_nothing_is_written(
    charity, store, kek, other_db_url, tmp_path
):
    await make_books(charity, store, kek)
    lines = (await charity.client.get(charity.url("/log/export"))).content.splitlines()
    item = json.loads(lines[-2])
    doc = json.loads(__import__("base64").b64decode(item["canonical"]))
    doc["body"]["amount"] = 1
    item["canonical"] = __import__("base64").b64encode(json.dumps(doc).encode()).decode()
    lines[-2] = json.dumps(item).encode()
    path = tmp_path / "tampered.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    other = Store(await create_pool(other_db_url, role=WRITER_ROLE, size=4))
    try:
        with pytest.raises(VerificationError):
            await import_log(other, path)
        assert await other.organizations() == []
    finally:
        await other.pool.close()
