"""The verify page checks a dropped receipt PDF's own signature (PAdES) in a real headless
Chromium, at phone (390 px) and desktop width (issue 17): a real receipt from the running
service reads "Tanda tangan PDF: sah" naming the organization; a byte changed inside the
signed range, an update appended after signing, a signature by a certificate that is not the
organization's and a PDF with no signature are each refused in plain words. The log-proof
verdict beside it stays what it was (the attached proof is intact in every case).

``ledger-verify``'s Python check (``ledger.formats.pdfsignature``) is run on the same files,
so the browser and the offline verifier are seen to agree.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ledger.errors import MalformedError, SignatureError
from ledger.formats.pdfsignature import check_pdf_signature
from reports.pdf.certificates import generate_signing_certificate
from reports.pdf.signing import sign_pdf
from tests.apikit import DONOR
from tests.http.test_donor_browser import drop_pdf, pin_keys, receipt_pdf
from tests.http.test_site_browser import (  # noqa: F401  (fixtures, used by name)
    Tab,
    browser,
    open_tab,
    site,
)

ORG = "Yayasan Senyum Anak"


async def organization_certificate(charity) -> bytes:  # type: ignore[no-untyped-def]
    """The document certificate the organization publishes (``GET …/certificate``), DER."""
    r = await charity.client.get(charity.url("/certificate"))
    assert r.status_code == 200, r.text
    return x509.load_pem_x509_certificate(r.content).public_bytes(Encoding.DER)


def tampered(pdf: bytes) -> bytes:
    """One byte changed inside the signed range, where no reader of the attachment looks (the
    producer comment near the top of the file)."""
    at = pdf.index(b"ReportLab") + 2
    assert at < int(pdf[pdf.rindex(b"/ByteRange") :].split(b"[")[1].split()[1])
    return pdf[:at] + bytes([pdf[at] ^ 0x20]) + pdf[at + 1 :]


def appended(pdf: bytes) -> bytes:
    """An incremental update appended after signing (a new Info dictionary and its xref)."""
    start = len(pdf)
    update = b"\n99 0 obj\n<< /Producer (diubah) >>\nendobj\n"
    xref = f"xref\n99 1\n{start + 1:010d} 00000 n \ntrailer\n<< /Size 100 /Info 99 0 R >>\n"
    return pdf + update + xref.encode() + f"startxref\n{start + len(update)}\n%%EOF\n".encode()


def signed_by_another(pdf: bytes) -> bytes:
    """The same receipt signed by another organization's certificate instead: the unsigned
    rendering (what precedes the signing update) signed anew. The signature covers the whole
    file and verifies; only its certificate is wrong."""
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    other = generate_signing_certificate("Yayasan Tiruan", now=now)
    return sign_pdf(
        unsigned_rendering(pdf),
        other.cert_der,
        other.key_pkcs8_der,
        reason="tiruan",
        location="x",
        signing_time=now,
    )


def unsigned_rendering(pdf: bytes) -> bytes:
    """What precedes the signing update: the receipt as rendered, before it was signed."""
    end = pdf.index(b"%%EOF") + len(b"%%EOF")
    return pdf[: end + 1] if pdf[end : end + 1] == b"\n" else pdf[:end]


def signed_with(pdf: bytes, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, md: str) -> bytes:
    """The unsigned rendering signed by a self-issued certificate of another key type (the
    server signs with P-256 only): P-384 with SHA-384, or RSA PKCS #1 v1.5, through pyHanko."""
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Yayasan Lain")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    der = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
    pkcs8 = key.private_bytes(
        Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = signers.SimpleSigner(
        signing_cert=der,
        signing_key=asn1_keys.PrivateKeyInfo.load(pkcs8),
        cert_registry=SimpleCertificateStore.from_certs([der]),
    )
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(unsigned_rendering(pdf))),
        signers.PdfSignatureMetadata(field_name="Lain", md_algorithm=md),
        signer=signer,
    )
    return out.getvalue()


def unsigned(pdf: bytes) -> bytes:
    """The receipt with its signature dictionary's byte range renamed: no signature left."""
    return pdf.replace(b"/ByteRange", b"/ByteRangX")


async def signature_result(tab: Tab, pdf: Path) -> dict[str, Any]:
    result = await drop_pdf(tab, pdf)
    block = tab.page.locator("#result [data-pdf-signature]")
    result["signature"] = await block.get_attribute("data-pdf-signature")
    result["signature_text"] = await block.inner_text()
    return result


async def test_the_verify_page_checks_the_receipt_pdfs_own_signature(
    browser,  # noqa: F811
    site,  # noqa: F811
    charity,
    tmp_path: Path,
):
    await charity.fund(name="#SenyumAnak 2026")
    gift = await charity.donate(125_000_000, donor=DONOR)
    good = await receipt_pdf(charity, gift["index"])
    cert = await organization_certificate(charity)
    files = {
        "valid": good,
        "altered": tampered(good),
        "extended": appended(good),
        "foreign": await asyncio.to_thread(signed_by_another, good),  # pyHanko runs its own loop
        "unsigned": unsigned(good),
    }
    # The offline verifier (ledger-verify) judges the same files the same way.
    assert check_pdf_signature(good, cert).signer == ORG
    for name in ("altered", "extended", "foreign"):
        with pytest.raises(SignatureError):
            check_pdf_signature(files[name], cert)
    with pytest.raises(MalformedError):
        check_pdf_signature(files["unsigned"], cert)

    expected = {
        "valid": ("Tanda tangan PDF: sah", f"ditandatangani oleh {ORG}"),
        "altered": ("DITOLAK", "Seseorang mengubah PDF ini setelah ditandatangani"),
        "extended": ("DITOLAK", "Ada yang ditambahkan ke PDF ini setelah ditandatangani"),
        "foreign": (
            "DITOLAK",
            f"ditandatangani oleh \u201cYayasan Tiruan\u201d, bukan "
            f"dengan sertifikat dokumen {ORG}",
        ),
        "unsigned": ("DITOLAK", "PDF ini tidak memuat tanda tangan"),
    }
    for width in (390, 1280):
        tab = await open_tab(browser, site, width)
        await pin_keys(tab, charity.slug)
        for name, content in files.items():
            path = tmp_path / f"{name}-{width}.pdf"
            path.write_bytes(content)
            await tab.goto("/verify")
            result = await signature_result(tab, path)
            assert result["signature"] == name, (name, result)
            headline, said = expected[name]
            assert headline in result["signature_text"], (name, result["signature_text"])
            assert said in result["signature_text"], (name, result["signature_text"])
            # The log's verdict on the attached proof is its own, unchanged.
            assert result["verdict"] == "pass" and result["state"] == "counts", (name, result)
            await tab.shot(f"verify-pdf-signature-{name}")
        assert tab.errors == []
        await tab.page.context.close()


async def test_the_signature_verdict_speaks_english_and_a_pasted_proof_has_none(
    browser,  # noqa: F811
    site,  # noqa: F811
    charity,
    tmp_path: Path,
):
    await charity.fund(name="#SenyumAnak 2026")
    gift = await charity.donate(50_000_000, donor=DONOR)
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(await receipt_pdf(charity, gift["index"], "en"))
    tab = await open_tab(browser, site, 390)
    await pin_keys(tab, charity.slug)
    await tab.goto("/verify?lang=en")
    result = await signature_result(tab, pdf)
    assert result["signature"] == "valid"
    assert "PDF signature: valid" in result["signature_text"]
    assert f"This PDF is signed by {ORG}" in result["signature_text"]
    # Editing the text makes it no longer the PDF's: no signature verdict is shown for it.
    receipt = await tab.page.input_value("#receipt")
    await tab.page.fill("#receipt", receipt + " ")
    await tab.page.click("#verify-button")
    await tab.page.locator("#result [data-verdict]").wait_for()
    assert await tab.page.locator("#result [data-pdf-signature]").count() == 0
    assert tab.errors == []
    await tab.page.context.close()


async def test_p384_and_rsa_signatures_verify_in_the_browser_and_are_not_the_orgs(
    browser,  # noqa: F811
    site,  # noqa: F811
    charity,
    tmp_path: Path,
):
    """The server signs with P-256 only; a PDF signed with P-384/SHA-384 or RSA verifies in
    the browser (so the page can name its signer) and is refused as not the organization's,
    while the same RSA file with a changed byte is refused as altered."""
    await charity.fund(name="#SenyumAnak 2026")
    gift = await charity.donate(125_000_000, donor=DONOR)
    good = await receipt_pdf(charity, gift["index"])
    p384 = await asyncio.to_thread(
        signed_with, good, ec.generate_private_key(ec.SECP384R1()), "sha384"
    )
    rsa_signed = await asyncio.to_thread(
        signed_with, good, rsa.generate_private_key(public_exponent=65537, key_size=2048), "sha256"
    )
    files = {"p384": (p384, "foreign"), "rsa": (rsa_signed, "foreign"),
             "rsa-altered": (tampered(rsa_signed), "altered")}  # fmt: skip
    tab = await open_tab(browser, site, 390)
    await pin_keys(tab, charity.slug)
    for name, (content, want) in files.items():
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(content)
        await tab.goto("/verify")
        result = await signature_result(tab, path)
        assert result["signature"] == want, (name, result)
        if want == "foreign":
            assert "\u201cYayasan Lain\u201d" in result["signature_text"], result
    assert tab.errors == []
    await tab.page.context.close()
