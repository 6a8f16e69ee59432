"""What a recipient or donor holds about an acknowledgment, checked by ``POST /v1/verify``
and ``ledger-verify acknowledgment`` (issue 20): the acknowledgment file the disbursement's
page and the recipient's page let them download, with the orphanage's name proven from the
log, said in plain Bahasa Indonesia and English, and refused when a proof is swapped.

Real PostgreSQL, the real app, real Ed25519 signatures, the offline verifier as a donor
runs it."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from ledger.charity.receipts import _tlog_proof
from ledger.recipient import signed_request
from tests.apikit import Org
from tests.charity.test_acknowledgments import _books, enrol, offline, sign, view
from tests.logkit import assert_log_verifies


async def _file(charity: Org, index: int) -> dict[str, Any]:
    r = await charity.client.get(charity.url(f"/disbursements/{index}/acknowledgment/proof"))
    assert r.status_code == 200, r.text
    return r.json()


async def _verify(charity: Org, text: str, **extra: Any) -> dict[str, Any]:
    body = {"receipt": text, "vkeys": await charity.vkeys(), **extra}
    r = await charity.client.post("/v1/verify", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def test_verify_endpoint_reads_acknowledgment_files(charity, store, kek, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first, second = await _books(charity)
    seed = secrets.token_bytes(32)
    key = await enrol(charity, seed)
    r = await sign(charity, first, signed_request(await view(charity, first), seed))
    ack_entry = r.json()["index"]
    r = await sign(charity, second, signed_request(await view(charity, second), seed, received=0))
    dispute_entry = r.json()["index"]

    ack = await _file(charity, first)
    assert {"beneficiary_proof", "org_proof"} <= set(ack)
    result = await _verify(charity, json.dumps(ack))
    assert result["ok"] is True and result["index"] == ack_entry, result
    found = result["acknowledgment"]
    assert (found["verdict"], found["disbursement"], found["key"]) == ("acknowledged", first, key)
    assert (found["beneficiary"], found["beneficiary_name"]) == ("lksa-harapan", "LKSA lksa-harapan")
    assert found["org_name"] == "Yayasan Senyum Anak"
    assert (found["amount"], found["received"], found["paid_on"]) == (
        1_500_000_00,
        1_500_000_00,
        "2026-11-02",
    )
    assert found["says"]["id"] == (
        "LKSA lksa-harapan menandatangani bahwa telah menerima Rp 1.500.000 pada tanggal "
        "2 November 2026."
    )
    assert found["says"]["en"] == (
        "LKSA lksa-harapan signed that it received Rp 1.500.000 on 2 November 2026."
    )
    assert "The recipient's signature verifies" in result["detail"]

    disputed = await _verify(charity, json.dumps(await _file(charity, second)), vkeys=None, org=charity.slug)
    assert disputed["ok"] is True and disputed["pinned"] is False
    assert disputed["acknowledgment"]["verdict"] == "disputed"
    assert disputed["acknowledgment"]["entry"] == dispute_entry
    assert disputed["acknowledgment"]["says"]["id"] == (
        "LKSA lksa-harapan menandatangani sanggahan: dari Rp 1.500.000,01 yang dicatat disalurkan "
        "pada tanggal 2 November 2026, yang diterima Rp 0."
    )

    # Refusals, each a verdict (ok false) with the reason: the dispute's statement with the
    # other disbursement's proof; the file without the signing key; a beneficiary proof of
    # another orphanage.
    swapped = dict(ack, disbursement_proof=(await _file(charity, second))["disbursement_proof"])
    refused = await _verify(charity, json.dumps(swapped))
    assert refused["ok"] is False and "expected the disbursement proof to be entry" in refused["detail"]
    refused = await _verify(charity, json.dumps(dict(ack, key_proofs=[])))
    assert refused["ok"] is False and f"does not prove key entry {key}" in refused["detail"]
    org = await store.organization(charity.slug)
    size = int(ack["acknowledgment_proof"].split("\n\n", 1)[1].split("\n")[1])
    async with store.connection() as conn:
        # entry 3 is lksa-kasih's record (tests.charity.test_acknowledgments._books), proven
        # under the file's own checkpoint: only the beneficiary check can refuse it
        _, kasih, _ = await _tlog_proof(store, org, kek, 3, conn, size)
    refused = await _verify(charity, json.dumps(dict(ack, beneficiary_proof=kasih)))
    assert refused["ok"] is False
    assert "expected the beneficiary proof to be a record of beneficiary 'lksa-harapan'" in (
        refused["detail"]
    )

    # The same file offline names the orphanage and the organization.
    run = await offline(charity, first, tmp_path, ack)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"beneficiary lksa-harapan (LKSA lksa-harapan, key entry {key})" in run.stdout
    assert "organization: Yayasan Senyum Anak" in run.stdout
    await assert_log_verifies(store)
