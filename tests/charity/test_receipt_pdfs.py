"""Receipt PDFs from the API: PAdES-signed with the organization's P-256 certificate,
validated by pyHanko and poppler's pdfsig, with the offline proof attached."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ledger.formats.note import parse_vkey
from ledger.verify.offline import verify_receipt
from reports.pdf.attachments import read_attachments
from reports.pdf.signing import validate_pdf
from tests.apikit import auth

DONOR = {"name": "Siti Aminah", "email": "Siti@Example.id", "public_name": "Siti A."}


async def validate(pdf: bytes, cert: bytes):  # type: ignore[no-untyped-def]
    """pyHanko's validation runs its own event loop: keep it off the test's."""
    return await asyncio.to_thread(validate_pdf, pdf, cert)


async def cert_der(charity) -> bytes:
    pem = (await charity.client.get(charity.url("/certificate"))).text
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)


async def test_receipt_pdf_is_signed_and_carries_a_verifiable_proof(charity, tmp_path):
    await charity.fund()
    d = await charity.donate(125_000_000, donor=DONOR)
    r = await charity.client.get(
        charity.url(f"/donations/{d['index']}/receipt.pdf?lang=id"),
        headers=auth(charity.keys["auditor"]),
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = r.content
    result = await validate(pdf, await cert_der(charity))
    assert result.trustworthy and result.signer_common_name == "Yayasan Senyum Anak"
    files = read_attachments(pdf)
    proof = next(v for k, v in files.items() if k.endswith(".tlog-proof"))
    keys = [
        parse_vkey(v) for v in (await charity.client.get(charity.url("/log/keys"))).text.split()
    ]
    assert verify_receipt(proof, keys).index == d["index"]
    if shutil.which("pdfsig"):
        path = tmp_path / "r.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
        assert "Signature is Valid." in out and "Total document signed" in out
    if shutil.which("pdftotext"):
        path = tmp_path / "r.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
        assert "Rp 1.250.000" in text and "Siti A." in text and "Tanda Terima" in text
    tampered = bytearray(pdf)
    tampered[len(pdf) // 3] ^= 1
    assert not (await validate(bytes(tampered), await cert_der(charity))).trustworthy


async def test_receipt_pdf_in_english_and_roles(charity, tmp_path):
    await charity.fund()
    d = await charity.donate(5_000_000)
    url = charity.url(f"/donations/{d['index']}/receipt.pdf?lang=en")
    r = await charity.client.get(url, headers=auth(charity.keys["admin"]))
    assert r.status_code == 200
    assert (await validate(r.content, await cert_der(charity))).trustworthy
    if shutil.which("pdftotext"):
        (tmp_path / "e.pdf").write_bytes(r.content)
        text = subprocess.run(
            ["pdftotext", str(tmp_path / "e.pdf"), "-"], capture_output=True, text=True
        ).stdout
        assert "Donation Receipt" in text and "Anonymous" in text
    assert (
        await charity.client.get(url, headers=auth(charity.keys["recorder"]))
    ).status_code == 403
    assert (await charity.client.get(url)).status_code == 401
    bad = await charity.client.get(
        charity.url(f"/donations/{d['index']}/receipt.pdf?lang=fr"),
        headers=auth(charity.keys["admin"]),
    )
    assert bad.status_code == 400


@pytest.mark.parametrize("lang", ["id", "en"])
async def test_annual_receipt_lists_the_year_and_attaches_every_proof(charity, lang):
    await charity.fund()
    mine = [await charity.donate(100_000 * (i + 1), donor=DONOR) for i in range(3)]
    await charity.donate(999_00, donor={"email": "other@example.id"})
    await charity.donate(777_00, donor=DONOR, received_on="2025-12-31")
    r = await charity.client.post(
        charity.url("/annual-receipts"),
        headers=auth(charity.keys["auditor"]),
        json={"year": 2026, "email": " siti@example.ID ", "lang": lang},
    )
    assert r.status_code == 200, r.text
    assert (await validate(r.content, await cert_der(charity))).trustworthy
    proofs = {k: v for k, v in read_attachments(r.content).items() if k.endswith(".tlog-proof")}
    assert sorted(proofs) == sorted(f"receipt-{d['index']}.tlog-proof" for d in mine)
    none = await charity.client.post(
        charity.url("/annual-receipts"),
        headers=auth(charity.keys["auditor"]),
        json={"year": 2024, "email": "siti@example.id"},
    )
    assert none.status_code == 404
