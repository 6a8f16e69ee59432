"""Receipt PDFs: rendering, PAdES signing and validation (reports package).

Positive checks run the signed PDF through pyHanko and, when poppler-utils is
installed, through ``pdfsig`` and ``pdftotext`` as an ordinary user would.
Negative vectors: a flipped byte inside the signed range, an incremental update
appended after signing, trailing bytes, a different trust root, a wrong key.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from reports.errors import (
    KeyMaterialError,
    MalformedPdfError,
    ReportDataError,
    ReportError,
    SignatureNotFoundError,
)
from reports.pdf.attachments import read_attachments
from reports.pdf.certificates import (
    SigningCertificate,
    certificate_common_name,
    generate_signing_certificate,
    load_signer,
)
from reports.pdf.localization import format_amount
from reports.pdf.signing import sign_pdf, validate_pdf
from reports.receipt.pdf import (
    AnnualDonation,
    AnnualReceiptData,
    ReceiptData,
    render_annual_receipt,
    render_receipt,
)
from tests.apikit import pdf_text

WIB = dt.timezone(dt.timedelta(hours=7))
CERT_NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2025, 3, 8, 9, 30, tzinfo=WIB)
ORG = "Yayasan Senyum Anak Nusantara"
ORIGIN = "ledger.senyumanak.or.id/2025"

PDFSIG = shutil.which("pdfsig")
PDFTOTEXT = shutil.which("pdftotext")


def _b64(seed: str, size: int = 32) -> str:
    return base64.b64encode(hashlib.sha512(seed.encode()).digest()[:size]).decode()


ROOT = _b64("root")
# A signed-note checkpoint: the signature line starts with U+2014 EM DASH.
CHECKPOINT = f"{ORIGIN}\n1043\n{ROOT}\n\n— {ORIGIN} {_b64('sig', 68)}\n"
PROOF = (
    "c2sp.org/tlog-proof@v1\nindex 1041\n"
    + "\n".join(_b64(f"p{i}") for i in range(10))
    + "\n\n"
    + CHECKPOINT
)


def _receipt(**changes: object) -> ReceiptData:
    fields: dict[str, object] = {
        "org_name": ORG,
        "fund_name": "Beasiswa Anak Panti — Bandung",
        "amount": 125000000,
        "currency": "IDR",
        "minor_units": 2,
        "received_on": dt.date(2025, 3, 7),
        "channel": "Transfer bank (BCA)",
        "reference": "TRX-2025-03-07-000981",
        "donor_display": "Siti Nurhaliza",
        "origin": ORIGIN,
        "index": 1041,
        "tree_size": 1043,
        "root_b64": ROOT,
        "checkpoint_note": CHECKPOINT,
        "tlog_proof": PROOF,
        "verify_url": "https://ledger.senyumanak.or.id/verify/2025/1041",
        "receipt_json": b'{"index": 1041, "amount": 125000000}',
    }
    fields.update(changes)
    return ReceiptData(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def certificate() -> SigningCertificate:
    return generate_signing_certificate(ORG, now=CERT_NOW)


@pytest.fixture(scope="module")
def signed(certificate: SigningCertificate) -> dict[str, bytes]:
    """One signed receipt per language, shared by the read-only checks."""
    return {
        lang: sign_pdf(
            render_receipt(_receipt(), lang, now=NOW),
            certificate.cert_der,
            certificate.key_pkcs8_der,
            reason="Tanda terima donasi",
            location="Jakarta",
            signing_time=NOW,
        )
        for lang in ("id", "en")
    }


def _pdfsig(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    # pdfsig exits 0 even when a signature fails: only its text counts.
    return subprocess.run([PDFSIG, str(path)], capture_output=True, text=True, check=False).stdout


def _signed_ranges(pdf: bytes) -> tuple[int, int, int, int]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert match, "expected a /ByteRange in the signed PDF"
    a, b, c, d = (int(g) for g in match.groups())
    return a, b, c, d


# --- certificates -----------------------------------------------------------


def test_certificate_profile(certificate: SigningCertificate) -> None:
    cert = x509.load_der_x509_certificate(certificate.cert_der)
    assert x509.load_pem_x509_certificate(certificate.cert_pem) == cert
    assert cert.subject == cert.issuer
    assert certificate_common_name(certificate.cert_der) == ORG
    assert cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value == ORG
    assert cert.not_valid_before_utc == CERT_NOW
    assert cert.not_valid_after_utc == CERT_NOW.replace(year=2035)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert isinstance(cert.public_key().curve, ec.SECP256R1)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    key = serialization.load_der_private_key(certificate.key_pkcs8_der, password=None)
    assert key.public_key() == cert.public_key()


def test_serial_numbers_are_random() -> None:
    first = generate_signing_certificate(ORG, now=CERT_NOW)
    second = generate_signing_certificate(ORG, now=CERT_NOW)
    serial = x509.load_der_x509_certificate
    assert serial(first.cert_der).serial_number != serial(second.cert_der).serial_number


def test_load_signer_rejects_foreign_key_material(certificate: SigningCertificate) -> None:
    other = generate_signing_certificate("Other Org", now=CERT_NOW)
    with pytest.raises(KeyMaterialError, match="does not match"):
        load_signer(certificate.cert_der, other.key_pkcs8_der)
    ed_key = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyMaterialError, match="P-256"):
        load_signer(certificate.cert_der, ed_key)
    with pytest.raises(KeyMaterialError):
        load_signer(b"not a certificate", certificate.key_pkcs8_der)
    with pytest.raises(KeyMaterialError, match="timezone-aware"):
        generate_signing_certificate(ORG, now=dt.datetime(2025, 1, 1))


# --- rendering --------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "lang", "expected"),
    [
        (125000000, "IDR", "id", "Rp 1.250.000"),
        (125000000, "IDR", "en", "Rp 1.250.000"),
        (125000050, "IDR", "id", "Rp 1.250.000,50"),
        (1250, "USD", "id", "US$ 12,50"),
        (0, "IDR", "en", "Rp 0"),
    ],
)
def test_amount_formatting(amount: int, currency: str, lang: str, expected: str) -> None:
    assert format_amount(amount, currency, 2, lang) == expected  # type: ignore[arg-type]


def test_same_data_renders_identical_bytes() -> None:
    for lang in ("id", "en"):
        first = render_receipt(_receipt(), lang, now=NOW)
        second = render_receipt(_receipt(), lang, now=NOW)
        assert first == second
        assert first.startswith(b"%PDF-")
    assert render_receipt(_receipt(), "id", now=NOW) != render_receipt(_receipt(), "en", now=NOW)
    later = NOW + dt.timedelta(minutes=1)
    assert render_receipt(_receipt(), "id", now=NOW) != render_receipt(_receipt(), "id", now=later)


def test_attachments_are_embedded_and_survive_signing(signed: dict[str, bytes]) -> None:
    unsigned = render_receipt(_receipt(), "id", now=NOW)
    expected = {
        "receipt-1041.tlog-proof": PROOF.encode(),
        "receipt-1041.json": b'{"index": 1041, "amount": 125000000}',
    }
    assert read_attachments(unsigned) == expected
    for pdf in signed.values():
        assert read_attachments(pdf) == expected
    without_json = render_receipt(_receipt(receipt_json=None), "en", now=NOW)
    assert read_attachments(without_json) == {"receipt-1041.tlog-proof": PROOF.encode()}


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) not installed")
def test_printed_text(signed: dict[str, bytes], tmp_path) -> None:
    indonesian = pdf_text(signed["id"], tmp_path)
    assert "Rp 1.250.000" in indonesian
    assert "Rp 1.250.000,00" not in indonesian
    for text in (
        "Tanda Terima Donasi",
        ORG,
        "7 Maret 2025",
        "Beasiswa Anak Panti — Bandung",
        "Siti Nurhaliza",
    ):
        assert text in indonesian
    assert "ledger-verify receipt receipt-1041.tlog-proof --vkey VKEY" in indonesian
    assert ROOT in indonesian
    english = pdf_text(signed["en"], tmp_path)
    for text in ("Donation Receipt", "Rp 1.250.000", "7 March 2025", "Page 1 of 1"):
        assert text in english
    anonymous = pdf_text(render_receipt(_receipt(donor_display=None), "en", now=NOW), tmp_path)
    assert "Anonymous" in anonymous


def test_fonts_fall_back_to_standard_fonts(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("REPORTS_FONT_DIR", str(tmp_path))  # an empty directory: no DejaVu
    pdf = render_receipt(_receipt(donor_display="Siti 张"), "id", now=NOW)
    assert b"/Helvetica" in pdf
    assert b"DejaVu" not in pdf
    assert render_receipt(_receipt(donor_display="Siti 张"), "id", now=NOW) == pdf


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": -1}, "non-negative"),
        ({"amount": 1.5}, "integer"),
        ({"currency": "rupiah"}, "ISO 4217"),
        ({"minor_units": 7}, "minor_units"),
        ({"tree_size": 1041}, "tree_size"),
        ({"root_b64": "not base64!"}, "base64"),
        ({"root_b64": _b64("short", 16)}, "32-byte"),
        ({"org_name": " "}, "org_name"),
    ],
)
def test_bad_receipt_data_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ReportDataError, match=message):
        _receipt(**changes)


def test_bad_language_and_naive_clock_are_refused() -> None:
    with pytest.raises(ReportDataError, match="language"):
        render_receipt(_receipt(), "fr", now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ReportDataError, match="timezone-aware"):
        render_receipt(_receipt(), "id", now=dt.datetime(2025, 3, 8, 9, 30))


# --- signing and validation -----------------------------------------------


@pytest.mark.parametrize("lang", ["id", "en"])
def test_signed_receipt_validates(
    signed: dict[str, bytes], certificate: SigningCertificate, lang: str, tmp_path
) -> None:
    pdf = signed[lang]
    validation = validate_pdf(pdf, certificate.cert_der)
    assert validation.intact and validation.valid and validation.covers_whole_file
    assert validation.trustworthy
    assert validation.signer_common_name == ORG
    assert validation.signing_time == NOW
    start, _first_end, second_start, second_length = _signed_ranges(pdf)
    assert start == 0 and second_start + second_length == len(pdf)
    if PDFSIG:
        report = _pdfsig(pdf, tmp_path)
        assert "Signature is Valid." in report
        assert "Total document signed" in report
        assert "ETSI.CAdES.detached" in report
        assert "SHA-256" in report


def test_flipped_byte_in_signed_range_is_detected(
    signed: dict[str, bytes], certificate: SigningCertificate, tmp_path
) -> None:
    pdf = signed["id"]
    # The header comment is inside the first signed range and parsed by no one,
    # so the file stays readable and only the digest can notice.
    position = pdf.index(b"ReportLab Generated PDF document")
    assert position < _signed_ranges(pdf)[1]
    tampered = bytearray(pdf)
    tampered[position] ^= 0x01
    validation = validate_pdf(bytes(tampered), certificate.cert_der)
    assert not validation.intact
    assert not validation.valid
    assert not validation.trustworthy
    if PDFSIG:
        report = _pdfsig(bytes(tampered), tmp_path)
        assert "Signature is Valid." not in report
        assert "Digest Mismatch" in report


def test_update_appended_after_signing_is_not_covered(
    signed: dict[str, bytes], certificate: SigningCertificate, tmp_path
) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed["id"]))
    writer.root["/Lang"] = generic.pdf_string("en-US")  # a harmless-looking metadata change
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    updated = out.getvalue()
    assert updated.startswith(signed["id"]) and len(updated) > len(signed["id"])

    validation = validate_pdf(updated, certificate.cert_der)
    assert validation.intact and validation.valid  # the signed part is untouched...
    assert not validation.covers_whole_file  # ...but the file is not what was signed
    assert not validation.trustworthy
    if PDFSIG:
        report = _pdfsig(updated, tmp_path)
        assert "Not total document signed" in report
        assert "Total document signed" not in report


def test_trailing_bytes_are_not_covered(
    signed: dict[str, bytes], certificate: SigningCertificate
) -> None:
    validation = validate_pdf(signed["en"] + b"\n% appended\n", certificate.cert_der)
    assert validation.intact
    assert not validation.covers_whole_file


def test_other_trust_root_is_not_valid(signed: dict[str, bytes]) -> None:
    impostor = generate_signing_certificate(ORG, now=CERT_NOW)  # same name, other key
    validation = validate_pdf(signed["id"], impostor.cert_der)
    assert validation.intact
    assert not validation.valid


def test_unsigned_and_malformed_inputs_raise(certificate: SigningCertificate) -> None:
    with pytest.raises(SignatureNotFoundError, match="found 0"):
        validate_pdf(render_receipt(_receipt(), "en", now=NOW), certificate.cert_der)
    with pytest.raises(MalformedPdfError):
        validate_pdf(b"%PDF-1.4\nnot really a pdf", certificate.cert_der)
    with pytest.raises(ReportError):
        sign_pdf(
            b"garbage",
            certificate.cert_der,
            certificate.key_pkcs8_der,
            reason="r",
            location="l",
            signing_time=NOW,
        )


# --- annual receipt ----------------------------------------------------------

FUNDS = (
    "Beasiswa Anak Panti — Bandung",
    "Renovasi Asrama LKSA Al-Ikhlas",
    "Makanan Bergizi",
    "Zakat Mal",
)


def _annual(count: int = 40) -> AnnualReceiptData:
    donations = tuple(
        AnnualDonation(
            received_on=dt.date(2025, 1 + i % 12, 1 + i % 27),
            fund_name=FUNDS[i % 4],
            reference=f"TRX-2025-{i:06d}",
            amount=5000000 * (1 + i % 7),
            index=100 + 13 * i,
            tlog_proof=f"c2sp.org/tlog-proof@v1\nindex {100 + 13 * i}\n\n{CHECKPOINT}",
            receipt_json=b"{}" if i % 2 else None,
        )
        for i in range(count)
    )
    return AnnualReceiptData(
        org_name=ORG,
        donor_display="Siti Nurhaliza",
        year=2025,
        currency="IDR",
        minor_units=2,
        origin=ORIGIN,
        donations=donations,
        verify_url="https://ledger.senyumanak.or.id/donor/2025/abc",
    )


def test_annual_receipt(certificate: SigningCertificate, tmp_path) -> None:
    data = _annual()
    pdf = render_annual_receipt(data, "id", now=NOW)
    assert render_annual_receipt(data, "id", now=NOW) == pdf
    attachments = read_attachments(pdf)
    assert len(attachments) == 40 + 20
    assert attachments["receipt-113.tlog-proof"] == data.donations[1].tlog_proof.encode()
    assert attachments["receipt-113.json"] == b"{}"
    signed = sign_pdf(
        pdf,
        certificate.cert_der,
        certificate.key_pkcs8_der,
        reason="r",
        location="Jakarta",
        signing_time=NOW,
    )
    assert validate_pdf(signed, certificate.cert_der).trustworthy
    assert read_attachments(signed) == attachments
    if PDFTOTEXT:
        text = pdf_text(pdf, tmp_path)
        pages = int(re.search(r"Halaman 1 dari (\d+)", text).group(1))  # type: ignore[union-attr]
        assert pages >= 2
        assert f"Halaman {pages} dari {pages}" in text
        assert format_amount(data.total, "IDR", 2, "id") in text
        english = pdf_text(render_annual_receipt(data, "en", now=NOW), tmp_path)
        assert f"Page {pages} of {pages}" in english
        assert "40 donations" in english


def test_annual_receipt_refuses_inconsistent_data() -> None:
    good = _annual(3)
    stray = AnnualDonation(dt.date(2024, 12, 31), "Zakat Mal", "T", 1, 999, "proof")
    with pytest.raises(ReportDataError, match="received in 2025"):
        AnnualReceiptData(**{**good.__dict__, "donations": (*good.donations, stray)})
    repeated = AnnualDonation(
        dt.date(2025, 5, 1), "Zakat Mal", "T", 1, good.donations[0].index, "proof"
    )
    with pytest.raises(ReportDataError, match="once"):
        AnnualReceiptData(**{**good.__dict__, "donations": (*good.donations, repeated)})
    with pytest.raises(ReportDataError, match="at least one"):
        AnnualReceiptData(**{**good.__dict__, "donations": ()})
