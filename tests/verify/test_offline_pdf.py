"""``ledger-verify`` on the receipt PDF a donor holds (issue 17): the attached receipt is read
with the standard library (``ledger.formats.pdffiles``, checked against pyHanko's reader), the
answer comes in plain words first (organization, fund, amount; recorded, unaltered, still
counts), a reversed gift reads as reversed, and a PDF without a receipt or with a damaged one
is refused with the documented exit codes."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from ledger.errors import InclusionProofError, MalformedError
from ledger.formats.pdffiles import embedded_files
from ledger.formats.tlogproof import parse_proof
from ledger.verify.offline import VERSION, receipts_in_pdf, verify_receipt
from reports.pdf.attachments import read_attachments
from reports.pdf.certificates import generate_signing_certificate
from tests.apikit import DONOR, auth, donation
from tests.logkit import assert_log_verifies, offline_verify


async def receipt_pdf(charity, index: int, lang: str = "id") -> bytes:  # type: ignore[no-untyped-def]
    r = await charity.client.get(
        charity.url(f"/donations/{index}/receipt.pdf?lang={lang}"),
        headers=auth(charity.keys["auditor"]),
    )
    assert r.status_code == 200, r.text
    return r.content


async def test_the_receipt_pdf_verifies_offline_in_plain_words(charity, store, tmp_path: Path):
    await charity.fund(name="#SenyumAnak 2026")
    gift = await charity.donate(125_000_000, donor=DONOR)
    pdf = await receipt_pdf(charity, gift["index"])
    assert embedded_files(pdf) == read_attachments(pdf)  # the stdlib reader agrees with pyHanko

    proven = verify_receipt(pdf, await charity.verifiers())
    assert proven.index == gift["index"] and proven.donor_opened is True
    assert proven.org_name == "Yayasan Senyum Anak" and proven.fund_name == "#SenyumAnak 2026"

    path = tmp_path / "tanda-terima.pdf"
    path.write_bytes(pdf)
    vkey = (await charity.vkeys())[0]
    out = offline_verify("receipt", str(path), "--vkey", vkey)
    assert out.returncode == 0, out.stdout + out.stderr
    first = out.stdout.splitlines()[:8]
    assert first[0] == "PASS: this receipt checks out for Yayasan Senyum Anak"
    assert "  fund:         #SenyumAnak 2026 (senyum-2026)" in first
    assert "  amount:       Rp 1.250.000" in first
    assert any(line.startswith("  recorded:     yes, entry") for line in first)
    assert any(line.startswith("  unaltered:    yes") for line in first)
    assert any(line.startswith("  still counts: yes") for line in first)
    assert "does not prove: that the money reached a beneficiary" in out.stdout
    assert out.stdout.index("technical details:") > out.stdout.index("still counts")
    assert "REVERSED" not in out.stdout
    assert "  PDF signature: intact, by Yayasan Senyum Anak (certificate not pinned" in out.stdout
    assert proven.pdf_signature is not None and proven.pdf_signature.signer == "Yayasan Senyum Anak"

    # Pinned to the organization's document certificate; another certificate is refused.
    cert = tmp_path / "org.der"
    cert.write_bytes(await charity.cert_der())
    pinned = offline_verify("receipt", str(path), "--vkey", vkey, "--certificate", str(cert))
    assert pinned.returncode == 0 and "(the organization's pinned certificate)" in pinned.stdout
    other = tmp_path / "other.der"
    other.write_bytes(
        generate_signing_certificate("Yayasan Lain", now=dt.datetime.now(dt.UTC)).cert_der
    )
    refused = offline_verify("receipt", str(path), "--vkey", vkey, "--certificate", str(other))
    assert refused.returncode == 1 and "another certificate" in refused.stdout

    as_json = offline_verify("receipt", str(path), "--vkey", vkey, "--json")
    report = json.loads(as_json.stdout)
    assert as_json.returncode == 0 and report["verified"] is True
    assert report["organization"] == "Yayasan Senyum Anak" and report["amount"] == "Rp 1.250.000"
    assert report["status"] == "counts" and report["still_counts"] is True
    assert report["entry"]["index"] == gift["index"]
    await assert_log_verifies(store)


async def test_a_reversed_gifts_pdf_reads_as_reversed(charity, store, tmp_path: Path):
    await charity.fund()
    gift = await charity.donate(250_000, ref="BCA-0002", donor=DONOR)
    correction = await charity.ok(
        "/corrections",
        {"corrects": gift["index"], "reason": "transfer ditolak bank", "effective_on": "2026-11-25"},
    )
    path = tmp_path / "reversed.pdf"
    path.write_bytes(await receipt_pdf(charity, gift["index"], "en"))
    vkey = (await charity.vkeys())[0]
    out = offline_verify("receipt", str(path), "--vkey", vkey)
    assert out.returncode == 0, out.stdout
    assert (
        f"  still counts: NO, REVERSED by entry {correction['index']} on 2026-11-25 "
        "(transfer ditolak bank): this gift no longer counts" in out.stdout
    )
    report = json.loads(offline_verify("receipt", str(path), "--vkey", vkey, "--json").stdout)
    assert report["status"] == "reversed" and report["still_counts"] is False
    assert report["reversal"]["index"] == correction["index"]
    await assert_log_verifies(store)


async def test_an_annual_receipt_pdf_verifies_every_gift(charity, tmp_path: Path):
    await charity.fund()
    for i in range(2):
        await charity.donate(100_000 * (i + 1), donor=DONOR)
    year = donation()["received_on"][:4]
    r = await charity.client.post(
        charity.url("/annual-receipts"),
        json={"year": int(year), "email": DONOR["email"]},
        headers=auth(charity.keys["auditor"]),
    )
    assert r.status_code == 200, r.text
    assert len(receipts_in_pdf(r.content)) == 2
    with pytest.raises(MalformedError, match="annual receipt"):
        verify_receipt(r.content, await charity.verifiers())
    path = tmp_path / "annual.pdf"
    path.write_bytes(r.content)
    out = offline_verify("receipt", str(path), "--vkey", (await charity.vkeys())[0])
    assert out.returncode == 0, out.stdout
    assert out.stdout.count("this receipt checks out for Yayasan Senyum Anak") == 2


async def test_damaged_or_foreign_pdfs_are_refused(charity, tmp_path: Path):
    await charity.fund()
    gift = await charity.donate(125_000_000, donor=DONOR)
    pdf = await receipt_pdf(charity, gift["index"])
    vkey = (await charity.vkeys())[0]

    def run(data: bytes) -> tuple[int, str]:
        path = tmp_path / "x.pdf"
        path.write_bytes(data)
        out = offline_verify("receipt", str(path), "--vkey", vkey)
        return out.returncode, out.stdout

    # An incremental update that redefines the attached receipt with a larger amount: the
    # reader takes the last definition, as PDF readers do, and the proof no longer verifies.
    files = embedded_files(pdf)
    name = next(n for n in files if n.endswith(".json"))
    receipt = json.loads(files[name])
    proof = parse_proof(receipt["tlog_proof"])
    assert proof.extra is not None
    forged_extra = proof.extra.replace(b"125000000", b"925000000")
    receipt["tlog_proof"] = receipt["tlog_proof"].replace(
        base64.b64encode(proof.extra).decode(), base64.b64encode(forged_extra).decode()
    )
    data = json.dumps(receipt).encode()
    number = re.search(rb"(\d+) 0 obj\s*<<[^>]*?/Params <<\s*/Size \d+\s*>> /Subtype "
                       rb"/application#2Fjson", pdf)
    assert number is not None
    update = b"\n%s 0 obj\n<< /Length %d /Type /EmbeddedFile >>\nstream\n%s\nendstream\nendobj\n" % (
        number.group(1), len(data), data)
    assert json.loads(embedded_files(pdf + update)[name]) == receipt
    code, text = run(pdf + update)
    assert code == 1 and "changed or extended after it was signed" in text, text
    # Without the signature check (the proof alone), the forged amount fails the proof too.
    with pytest.raises(InclusionProofError):
        verify_receipt(embedded_files(pdf + update)[name], await charity.verifiers())
    # One byte of the signed content changed: the signature's digest no longer matches.
    flipped = bytearray(pdf)
    flipped[pdf.index(b"/Type /Catalog") + 1] ^= 0x20
    code, text = run(bytes(flipped))
    assert code == 1 and "digest" in text, text
    # A PDF with no attachment at all: unusable input (exit 2), saying what was expected.
    code, text = run(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    assert code == 2 and "attached receipt" in text
    # Truncated in the middle of the attachment's stream.
    cut = pdf.index(b"/Type /EmbeddedFile")
    code, text = run(pdf[: cut + 200])
    assert code == 2, text
    # Not a PDF and not a receipt.
    assert run(b"%PDF-junk")[0] == 2
    out = offline_verify("--version")
    assert out.returncode == 0 and VERSION in out.stdout
