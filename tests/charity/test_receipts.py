"""Donor receipts and independent verification: proofs from the API, checked offline."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from ledger.errors import (
    ConsistencyProofError,
    InclusionProofError,
    MalformedError,
    SignatureError,
    VerificationError,
)
from ledger.formats import merkle
from ledger.formats.note import Signer, parse_vkey
from ledger.formats.tlogproof import parse_proof
from ledger.journal.organizations import rotate_key
from ledger.journal.publisher import publish
from ledger.verify.offline import (
    verify_consistency,
    verify_export,
    verify_receipt,
    verify_tlog_proof,
)
from tests.apikit import auth
from tests.logkit import assert_log_verifies

DONOR = {"name": "Siti Aminah", "email": "siti@example.id", "public_name": "Siti A."}


async def setup_donations(charity, n=3):
    await charity.fund()
    out = [await charity.donate(125_000_000, donor=DONOR if i == 0 else {}) for i in range(n)]
    return out


async def get_receipt(charity, index, role="auditor"):
    r = await charity.client.get(
        charity.url(f"/donations/{index}/receipt"), headers=auth(charity.keys[role])
    )
    assert r.status_code == 200, r.text
    return r.text


async def vkeys(charity):
    text = (await charity.client.get(charity.url("/log/keys"))).text
    return [parse_vkey(line) for line in text.splitlines()]


async def publish_now(charity, store, kek):
    """Sign a checkpoint of the current head (the server does this every second)."""
    await publish(store, await store.organization(charity.slug), kek)


def flip(text: str, line_no: int) -> str:
    lines = text.split("\n")
    raw = bytearray(base64.b64decode(lines[line_no]))
    raw[0] ^= 1
    lines[line_no] = base64.b64encode(bytes(raw)).decode()
    return "\n".join(lines)


async def test_receipt_verifies_offline_and_opens_the_donor_commitment(charity, store):
    donations = await setup_donations(charity)
    receipt = await get_receipt(charity, donations[0]["index"])
    proven = verify_receipt(receipt, await vkeys(charity))
    assert proven.index == donations[0]["index"] and proven.donor_opened is True
    assert proven.document["body"]["amount"] == 125_000_000
    assert proven.document["body"]["donor"]["display"] == "Siti A."
    assert "siti@example.id" not in json.loads(receipt)["tlog_proof"]
    anonymous = verify_receipt(
        await get_receipt(charity, donations[1]["index"]), await vkeys(charity)
    )
    assert anonymous.donor_opened is None
    await assert_log_verifies(store)


async def test_every_tampering_of_a_tlog_proof_is_refused(charity):
    donations = await setup_donations(charity, n=6)
    index = donations[2]["index"]
    text = json.loads(await get_receipt(charity, index))["tlog_proof"]
    keys = await vkeys(charity)
    verify_tlog_proof(text, keys)
    lines = text.split("\n")
    proof_lines = [i for i, line in enumerate(lines[: lines.index("")]) if i >= 3]
    assert proof_lines, "expected a non-empty audit path"
    for n in proof_lines:
        with pytest.raises(InclusionProofError):
            verify_tlog_proof(flip(text, n), keys)
    with pytest.raises(VerificationError):  # wrong index
        verify_tlog_proof(text.replace(f"index {index}\n", f"index {index + 1}\n"), keys)
    with pytest.raises(MalformedError):  # trailing garbage after the checkpoint's signature
        verify_tlog_proof(text + "garbage\n", keys)
    with pytest.raises(MalformedError):  # no entry bytes
        verify_tlog_proof("\n".join(line for line in lines if not line.startswith("extra ")), keys)
    other = Signer.from_seed(keys[0].name, bytes(32)).verifier()
    with pytest.raises(SignatureError):  # checkpoint signed by another key
        verify_tlog_proof(text, [other])
    p = parse_proof(text)
    altered = bytearray(p.extra)
    altered[altered.index(b"125000000")] = ord("9")
    forged = text.replace(
        base64.b64encode(p.extra).decode(), base64.b64encode(bytes(altered)).decode()
    )
    with pytest.raises(InclusionProofError):  # entry bytes changed
        verify_tlog_proof(forged, keys)
    cp_lines = p.checkpoint.split("\n")
    cp_lines[1] = str(int(cp_lines[1]) + 1)  # wrong size: signature breaks
    with pytest.raises(SignatureError):
        verify_tlog_proof(text.replace(p.checkpoint, "\n".join(cp_lines)), keys)


async def test_receipt_at_size_n_still_verifies_after_growth_through_consistency(
    charity, store, kek, tmp_path
):
    donations = await setup_donations(charity, n=2)
    receipt = await get_receipt(charity, donations[0]["index"])
    old_size = parse_proof(json.loads(receipt)["tlog_proof"]).checkpoint.split("\n")[1]
    for _ in range(9):
        await charity.donate(1000)
    await publish_now(charity, store, kek)
    newer = (await charity.client.get(charity.url("/log/checkpoint"))).text
    new_size = newer.split("\n")[1]
    assert int(new_size) > int(old_size)
    cons = (
        await charity.client.get(
            charity.url(f"/log/proof/consistency?old={old_size}&new={new_size}")
        )
    ).json()
    proof = [base64.b64decode(h) for h in cons["proof"]]
    keys = await vkeys(charity)
    old_cp = parse_proof(json.loads(receipt)["tlog_proof"]).checkpoint
    verify_consistency(old_cp, newer, proof, keys)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(old_cp, newer, [bytes(32), *proof[1:]], keys)
    # The same through the command line, as a donor would run it.
    (tmp_path / "r.json").write_text(receipt)
    (tmp_path / "new.txt").write_text(newer)
    (tmp_path / "proof.txt").write_text("\n".join(cons["proof"]) + "\n")
    vkey = keys[0].label and (await charity.client.get(charity.url("/log/keys"))).text.split()[0]
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger.verify.offline",
            "receipt",
            str(tmp_path / "r.json"),
            "--vkey",
            vkey,
            "--checkpoint",
            str(tmp_path / "new.txt"),
            "--consistency",
            str(tmp_path / "proof.txt"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("PASS") and "consistency proven" in run.stdout


async def test_command_line_exit_codes(charity, tmp_path):
    donations = await setup_donations(charity, n=2)
    receipt = await get_receipt(charity, donations[0]["index"])
    vkey = (await charity.client.get(charity.url("/log/keys"))).text.split()[0]
    good, bad, junk = tmp_path / "good.json", tmp_path / "bad.tlog-proof", tmp_path / "junk"
    good.write_text(receipt)
    bad.write_text(flip(json.loads(receipt)["tlog_proof"], 3))
    junk.write_text("not a receipt")

    def run(path, key=vkey):
        return subprocess.run(
            [sys.executable, "-m", "ledger.verify.offline", "receipt", str(path), "--vkey", key],
            capture_output=True,
            text=True,
            check=False,
        )

    ok = run(good)
    assert ok.returncode == 0 and "PASS" in ok.stdout and "donor details match" in ok.stdout
    failed = run(bad)
    assert failed.returncode == 1 and failed.stdout.startswith("FAIL (does not verify)")
    assert run(junk).returncode == 2
    stranger = Signer.from_seed(vkey.split("+")[0], bytes(32)).vkey()
    assert run(good, stranger).returncode == 1


async def test_key_rotation_keeps_old_receipts_valid(charity, store, kek):
    donations = await setup_donations(charity, n=1)
    receipt = await get_receipt(charity, donations[0]["index"])
    old_keys = await vkeys(charity)
    org = await store.organization(charity.slug)
    await rotate_key(store, kek, org)
    for _ in range(3):
        await charity.donate(500)
    verify_receipt(receipt, old_keys)
    new_receipt = await get_receipt(charity, (await charity.donate(700))["index"])
    all_keys = await vkeys(charity)
    assert len(all_keys) == 2
    new_key = [k for k in all_keys if k not in old_keys]
    verify_receipt(new_receipt, new_key)
    with pytest.raises(SignatureError):
        verify_receipt(new_receipt, old_keys)
    await assert_log_verifies(store)


async def test_exported_log_verifies_and_truncation_is_caught(charity, store, kek):
    await setup_donations(charity, n=5)
    await publish_now(charity, store, kek)
    export = (await charity.client.get(charity.url("/log/export"))).content.splitlines()
    keys = await vkeys(charity)
    summary = verify_export(export, keys)
    head = await store.head((await store.organization(charity.slug)).id)
    assert summary.size == head.size and summary.root == merkle.fold(head.frontier)
    assert summary.kinds["donation"] == 5 and summary.checkpoints >= 2
    with pytest.raises(VerificationError, match="removed from the end"):
        verify_export(export[:-2], keys)
    tampered = list(export)
    item = json.loads(tampered[-3])
    raw = bytearray(base64.b64decode(item["canonical"]))
    raw[-3] ^= 1
    item["canonical"] = base64.b64encode(bytes(raw)).decode()
    tampered[-3] = json.dumps(item).encode()
    with pytest.raises(VerificationError):
        verify_export(tampered, keys)


async def test_verify_endpoint_pinned_and_unpinned(charity):
    donations = await setup_donations(charity, n=2)
    receipt = await get_receipt(charity, donations[0]["index"])
    vkey = (await charity.client.get(charity.url("/log/keys"))).text.split()[0]
    ok = (
        await charity.client.post("/v1/verify", json={"receipt": receipt, "vkeys": [vkey]})
    ).json()
    assert ok["ok"] is True and ok["pinned"] is True and ok["donor_opened"] is True
    unpinned = (
        await charity.client.post("/v1/verify", json={"receipt": receipt, "org": charity.slug})
    ).json()
    assert unpinned["ok"] is True and unpinned["pinned"] is False
    proof = json.loads(receipt)["tlog_proof"]
    bad = (
        await charity.client.post("/v1/verify", json={"receipt": flip(proof, 3), "vkeys": [vkey]})
    ).json()
    assert bad["ok"] is False and "root" in bad["detail"]
    junk = await charity.client.post("/v1/verify", json={"receipt": "nonsense", "vkeys": [vkey]})
    assert junk.status_code == 422 and junk.headers["content-type"].startswith(
        "application/problem+json"
    )


async def test_immutable_responses_are_cacheable(charity, store, kek):
    await setup_donations(charity, n=2)
    await publish_now(charity, store, kek)
    size = (await charity.client.get(charity.url("/log/checkpoint"))).text.split("\n")[1]
    r = await charity.client.get(charity.url(f"/log/checkpoints/{size}"))
    assert r.status_code == 200 and "max-age" in r.headers["cache-control"] and r.headers["etag"]
    again = await charity.client.get(
        charity.url(f"/log/checkpoints/{size}"), headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304
    inc = await charity.client.get(charity.url(f"/log/proof/inclusion?index=1&size={size}"))
    assert inc.status_code == 200 and "immutable" in inc.headers["cache-control"]
    assert (
        await charity.client.get(charity.url(f"/log/proof/inclusion?index=5&size={size}"))
    ).status_code == 422


async def test_receipt_after_erasure_still_verifies_without_opening(charity, store):
    donations = await setup_donations(charity, n=1)
    r = await charity.post("/donors/erase", {"email": "siti@example.id"}, role="admin")
    assert r.status_code == 200, r.text
    receipt = await get_receipt(charity, donations[0]["index"])
    assert json.loads(receipt)["donor_opening"] is None
    assert verify_receipt(receipt, await vkeys(charity)).donor_opened is None
    await assert_log_verifies(store)


async def test_public_entry_proof_needs_no_key_and_has_no_personal_data(charity):
    donations = await setup_donations(charity, n=1)
    r = await charity.client.get(charity.url(f"/log/entries/{donations[0]['index']}/proof"))
    assert r.status_code == 200 and "Siti Aminah" not in r.text and "siti@" not in r.text
    verify_tlog_proof(r.text, await vkeys(charity))
    denied = await charity.client.get(charity.url(f"/donations/{donations[0]['index']}/receipt"))
    assert denied.status_code == 401
