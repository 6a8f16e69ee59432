"""An organization's document-signing certificate (X.509, RFC 5280).

Each organization signs its PDFs (receipts, statements) with its own
self-signed ECDSA P-256 certificate. P-256 is chosen because it is the curve
that validates everywhere it matters here: pyHanko, poppler's ``pdfsig``
(NSS) and ``openssl cms``; Ed25519 PDF signatures validate only in pyHanko.

The certificate is its own trust root: a verifier is handed the organization's
certificate (published next to its log's public key) and trusts exactly that.

Key material leaves this module as bytes (certificate DER/PEM, private key as
unencrypted PKCS#8 DER); sealing the private key at rest is the caller's job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from reports.errors import KeyMaterialError

VALIDITY_YEARS = 10
"""How long a generated certificate is valid, counted from the injected ``now``."""

# Certificate profile, as measured against poppler's pdfsig (NSS) with the
# certificate imported as a trusted root (certutil -t "CT,C,C"):
#   CA:TRUE + keyCertSign, no extended key usage  -> "Certificate is Trusted."
#   CA:FALSE (a self-signed end-entity certificate) -> "Certificate issuer is unknown."
#   an extendedKeyUsage extension (RFC 9336 id-kp-documentSigning, with or
#   without emailProtection)                       -> "Unknown issue with Certificate"
# NSS checks PDF signers for the e-mail signing usage and only accepts a
# self-signed certificate as an anchor when it is a CA. So the certificate is a
# self-signed root (pathLenConstraint 0: no intermediate CAs below it) with no
# EKU; reports.pdf.signing.validate_pdf pins the signer to this exact certificate,
# so a certificate issued under it would not be accepted there.


@dataclass(frozen=True)
class SigningCertificate:
    """A freshly generated certificate and its private key.

    Guaranteed: ``cert_pem`` and ``cert_der`` encode the same certificate, and
    ``key_pkcs8_der`` is the P-256 private key matching its public key.
    """

    cert_der: bytes
    """The certificate, DER-encoded. Public: publish it as the trust root."""

    cert_pem: bytes
    """The same certificate, PEM-encoded (for people and openssl)."""

    key_pkcs8_der: bytes
    """The private key as unencrypted PKCS#8 DER. Secret: seal it before storing."""


def generate_signing_certificate(organization_name: str, *, now: dt.datetime) -> SigningCertificate:
    """Generate a self-signed ECDSA P-256 document-signing certificate.

    Subject and issuer are ``CN=<organization_name>, O=<organization_name>``;
    the serial number is random (RFC 5280 section 4.1.2.2: positive, at most
    20 octets); validity runs from ``now`` for ten years. Key usage is
    digitalSignature + nonRepudiation, plus keyCertSign because the certificate
    is its own root (basic constraints CA with path length 0); there is no
    extended key usage. The comment on the certificate profile at the top of
    this module says why: it is the profile poppler/NSS accept as a trusted signer.

    ``now`` must be timezone-aware; it is the only clock this function reads.
    """
    if not organization_name.strip():
        raise KeyMaterialError("expected a non-empty organization name for the certificate subject")
    if now.tzinfo is None or now.utcoffset() is None:
        raise KeyMaterialError(f"expected a timezone-aware 'now', got naive {now.isoformat()}")
    not_before = now.astimezone(dt.UTC).replace(microsecond=0)
    not_after = _add_years(not_before, VALIDITY_YEARS)

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, organization_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization_name),
        ]
    )
    public_key = key.public_key()
    try:
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,  # the RFC 5280 name of nonRepudiation
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,  # required of a self-signed root by NSS
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .sign(key, hashes.SHA256())
        )
    except ValueError as exc:  # e.g. a name that does not fit an X.509 attribute
        raise KeyMaterialError(
            f"could not build a certificate for {organization_name!r}: {exc}"
        ) from exc

    return SigningCertificate(
        cert_der=certificate.public_bytes(serialization.Encoding.DER),
        cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
        key_pkcs8_der=key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def load_signer(cert_der: bytes, key_der: bytes) -> SimpleSigner:
    """Build the pyHanko signer for a certificate and its PKCS#8 private key.

    Guaranteed on return: the key is ECDSA P-256 and matches the certificate's
    public key, so a signature made with the signer verifies against the
    certificate. The certificate is registered as its own (only) chain.
    """
    try:
        certificate = x509.load_der_x509_certificate(cert_der)
        private_key = serialization.load_der_private_key(key_der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyMaterialError(
            f"expected a DER certificate and an unencrypted PKCS#8 DER key: {exc}"
        ) from exc
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise KeyMaterialError(
            f"expected an ECDSA P-256 private key, got {type(private_key).__name__}"
            + (
                f" on {private_key.curve.name}"
                if isinstance(private_key, ec.EllipticCurvePrivateKey)
                else ""
            )
        )
    public_der = serialization.Encoding.DER
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if certificate.public_key().public_bytes(
        public_der, spki
    ) != private_key.public_key().public_bytes(public_der, spki):
        raise KeyMaterialError(
            "the private key does not match the certificate's public key; "
            "expected the key generated together with this certificate"
        )
    signing_cert = asn1_x509.Certificate.load(cert_der)
    signing_key = asn1_keys.PrivateKeyInfo.load(key_der)
    return SimpleSigner(
        signing_cert=signing_cert,
        signing_key=signing_key,
        cert_registry=SimpleCertificateStore.from_certs([signing_cert]),
    )


def certificate_common_name(cert_der: bytes) -> str:
    """The subject CN of a DER certificate (the organization name we put there)."""
    try:
        certificate = x509.load_der_x509_certificate(cert_der)
    except ValueError as exc:
        raise KeyMaterialError(f"expected a DER-encoded X.509 certificate: {exc}") from exc
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) != 1:
        raise KeyMaterialError(f"expected exactly one subject CN, found {len(names)}")
    value = names[0].value
    return value if isinstance(value, str) else value.decode()


def _add_years(moment: dt.datetime, years: int) -> dt.datetime:
    """``moment`` plus whole calendar years; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


__all__ = [
    "VALIDITY_YEARS",
    "SigningCertificate",
    "certificate_common_name",
    "generate_signing_certificate",
    "load_signer",
]
