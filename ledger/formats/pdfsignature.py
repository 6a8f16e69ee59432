"""A PDF's signature (ISO 32000-1 section 12.8; PAdES, ETSI EN 319 142: a detached CMS
``SignedData``, RFC 5652) checked with ``cryptography`` and a minimal DER reader.

What is checked: the last signature's ``/ByteRange`` covers the whole file except its own
``/Contents`` (nothing was appended after signing, the BRIEF's warning about updates that
leave the old signature "valid"); the digest of those bytes equals the signed
``messageDigest`` attribute; the signature over the signed attributes verifies under the
public key of a certificate the CMS carries (ECDSA or RSA PKCS #1 v1.5). What is not: the
certificate chain and revocation (the organization's document certificate is self-issued
and published at ``GET …/certificate``: pin it with ``expected_certificate``), timestamps.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from ledger.errors import MalformedError, SignatureError

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
OID_MESSAGE_DIGEST = bytes.fromhex("2a864886f70d010904")
"""1.2.840.113549.1.9.4, the signed attribute holding the content's digest."""
DIGESTS = {
    bytes.fromhex("608648016503040201"): (hashlib.sha256, hashes.SHA256),
    bytes.fromhex("608648016503040202"): (hashlib.sha384, hashes.SHA384),
    bytes.fromhex("608648016503040203"): (hashlib.sha512, hashes.SHA512),
}
"""SHA-256, SHA-384 and SHA-512 by their OID's encoded value."""


@dataclass(frozen=True)
class PdfSignature:
    """A PDF signature that verified."""

    signer: str
    """The signing certificate's subject common name (else its whole subject)."""
    certificate_der: bytes
    """The signing certificate, DER."""
    pinned: bool
    """True when the certificate is the one the caller expected."""


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise MalformedError("the PDF signature's CMS ends early")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise MalformedError("the PDF signature's CMS has a bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise MalformedError("the PDF signature's CMS ends early")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The elements in ``data[start:end]`` as (tag, header start, value start, value end)."""
    found = []
    pos = start
    while pos < end:
        tag, value, stop = _tlv(data, pos)
        found.append((tag, pos, value, stop))
        pos = stop
    return found


def is_signed(pdf: bytes) -> bool:
    """Whether the PDF has a signature dictionary with a byte range."""
    return _BYTE_RANGE.search(pdf) is not None


def check_pdf_signature(pdf: bytes, expected_certificate: bytes | None = None) -> PdfSignature:
    """Verify the PDF's last signature; ``SignatureError`` when it does not verify or does not
    cover the whole file, ``MalformedError`` when there is none or it cannot be read."""
    ranges = list(_BYTE_RANGE.finditer(pdf))
    if not ranges:
        raise MalformedError("the PDF has no signature (/ByteRange)")
    a, b, c, d = (int(x) for x in ranges[-1].groups())
    if a != 0 or c + d != len(pdf) or a + b > c:
        raise SignatureError(
            f"the PDF's signature covers bytes 0..{a + b} and {c}..{c + d} of {len(pdf)}: the "
            "file was changed or extended after it was signed"
        )
    hexdigits = pdf[a + b : c].strip()
    if not (hexdigits.startswith(b"<") and hexdigits.endswith(b">")):
        raise MalformedError("expected the signature's /Contents as a hex string")
    try:
        padded = bytes.fromhex(hexdigits[1:-1].decode("ascii"))
    except ValueError:
        raise MalformedError("the signature's /Contents is not hex") from None
    cms = padded[: _tlv(padded, 0)[2]]  # the CMS without the zeros that pad /Contents
    signed = pdf[a : a + b] + pdf[c : c + d]

    # ContentInfo → [0] SignedData → signerInfos (the last SET) → the first SignerInfo.
    _, value, end = _tlv(cms, 0)
    content = _children(cms, value, end)
    if len(content) < 2:
        raise MalformedError("expected a CMS ContentInfo with SignedData")
    _, value, end = _tlv(cms, content[1][2])
    signed_data = _children(cms, value, end)
    signer_infos = signed_data[-1]
    infos = _children(cms, signer_infos[2], signer_infos[3])
    if not infos:
        raise MalformedError("the CMS has no SignerInfo")
    parts = _children(cms, infos[0][2], infos[0][3])
    digest_alg = next((p for p in parts[2:3] if p[0] == 0x30), None)
    attrs = next((p for p in parts if p[0] == 0xA0), None)
    signature = next((p for p in parts if p[0] == 0x04), None)
    if digest_alg is None or attrs is None or signature is None:
        raise MalformedError(
            "expected a SignerInfo with digest algorithm, signed attributes, signature"
        )
    oid = _children(cms, digest_alg[2], digest_alg[3])[0]
    algorithm = DIGESTS.get(cms[oid[2] : oid[3]])
    if algorithm is None:
        raise MalformedError("the PDF signature's digest is not SHA-256, SHA-384 or SHA-512")
    digest_of, hash_type = algorithm
    message_digest = None
    for _, _, start, stop in _children(cms, attrs[2], attrs[3]):
        attr = _children(cms, start, stop)
        if cms[attr[0][2] : attr[0][3]] == OID_MESSAGE_DIGEST:
            inner = _children(cms, attr[1][2], attr[1][3])[0]
            message_digest = cms[inner[2] : inner[3]]
    if message_digest != digest_of(signed).digest():
        raise SignatureError("the PDF's signed bytes do not match the digest its signature signs")
    to_verify = b"\x31" + cms[attrs[1] + 1 : attrs[3]]  # [0] IMPLICIT → SET OF, as signed
    sig = cms[signature[2] : signature[3]]
    try:
        certificates = pkcs7.load_der_pkcs7_certificates(cms)
    except ValueError as exc:
        raise MalformedError(f"the PDF signature's certificates cannot be read: {exc}") from exc
    for cert in certificates:
        key = cert.public_key()
        try:
            if isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(sig, to_verify, ec.ECDSA(hash_type()))
            elif isinstance(key, rsa.RSAPublicKey):
                key.verify(sig, to_verify, padding.PKCS1v15(), hash_type())
            else:
                continue
        except InvalidSignature:
            continue
        der = cert.public_bytes(serialization.Encoding.DER)
        if expected_certificate is not None and der != expected_certificate:
            raise SignatureError(
                f"the PDF is signed by another certificate than the organization's ({_name(cert)})"
            )
        return PdfSignature(_name(cert), der, expected_certificate is not None)
    raise SignatureError("the PDF's signature does not verify under any certificate it carries")


def _name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def load_certificate(data: bytes) -> bytes:
    """A certificate file (DER or PEM) as DER."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            cert = x509.load_pem_x509_certificate(data)
        else:
            cert = x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise MalformedError(f"expected an X.509 certificate (DER or PEM): {exc}") from exc
    return cert.public_bytes(serialization.Encoding.DER)


__all__ = ["PdfSignature", "check_pdf_signature", "is_signed", "load_certificate"]
