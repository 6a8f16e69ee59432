"""The offline verifier (``ledger.verify.offline``) on what the API serves: tlog proofs, receipts
after the log grew, exported logs, and the command line's exit codes."""

from __future__ import annotations

import base64
import json

import pytest

from ledger.errors import (
    ConsistencyProofError,
    InclusionProofError,
    MalformedError,
    SignatureError,
    VerificationError,
)
from ledger.formats import merkle
from ledger.formats.note import Signer
from ledger.formats.tlogproof import parse_proof
from ledger.verify.offline import verify_consistency, verify_export, verify_tlog_proof
from tests.apikit import flip, publish_now, setup_donations
from tests.logkit import offline_verify


async def test_every_tampering_of_a_tlog_proof_is_refused(charity):
    donations = await setup_donations(charity, n=6)
    index = donations[2]["index"]
    text = json.loads(await charity.receipt(index))["tlog_proof"]
    keys = await charity.verifiers()
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
    receipt = await charity.receipt(donations[0]["index"])
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
    keys = await charity.verifiers()
    old_cp = parse_proof(json.loads(receipt)["tlog_proof"]).checkpoint
    verify_consistency(old_cp, newer, proof, keys)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(old_cp, newer, [bytes(32), *proof[1:]], keys)
    # The same through the command line, as a donor would run it.
    (tmp_path / "r.json").write_text(receipt)
    (tmp_path / "new.txt").write_text(newer)
    (tmp_path / "proof.txt").write_text("\n".join(cons["proof"]) + "\n")
    vkey = (await charity.vkeys())[0]
    run = offline_verify(
        "receipt", str(tmp_path / "r.json"), "--vkey", vkey,
        "--checkpoint", str(tmp_path / "new.txt"), "--consistency", str(tmp_path / "proof.txt"),
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("PASS") and "consistency proven" in run.stdout


async def test_command_line_exit_codes(charity, tmp_path):
    donations = await setup_donations(charity, n=2)
    receipt = await charity.receipt(donations[0]["index"])
    vkey = (await charity.vkeys())[0]
    good, bad, junk = tmp_path / "good.json", tmp_path / "bad.tlog-proof", tmp_path / "junk"
    good.write_text(receipt)
    bad.write_text(flip(json.loads(receipt)["tlog_proof"], 3))
    junk.write_text("not a receipt")

    def run(path, key=vkey):  # type: ignore[no-untyped-def]
        return offline_verify("receipt", str(path), "--vkey", key)

    ok = run(good)
    assert ok.returncode == 0 and "PASS" in ok.stdout and "donor details match" in ok.stdout
    failed = run(bad)
    assert failed.returncode == 1 and failed.stdout.startswith("FAIL (does not verify)")
    assert run(junk).returncode == 2
    stranger = Signer.from_seed(vkey.split("+")[0], bytes(32)).vkey()
    assert run(good, stranger).returncode == 1


async def test_exported_log_verifies_and_truncation_is_caught(charity, store, kek):
    await setup_donations(charity, n=5)
    await publish_now(charity, store, kek)
    export = (await charity.client.get(charity.url("/log/export"))).content.splitlines()
    keys = await charity.verifiers()
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
