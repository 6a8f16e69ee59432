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
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

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
    end = pdf.index(b"%%EOF") + len(b"%%EOF")
    pdf = pdf[: end + 1] if pdf[end : end + 1] == b"\n" else pdf[:end]
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    other = generate_signing_certificate("Yayasan Tiruan", now=now)
    return sign_pdf(
        pdf, other.cert_der, other.key_pkcs8_der, reason="tiruan", location="x", signing_time=now
    )


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
