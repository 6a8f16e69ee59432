"""PAdES signatures on PDFs (ETSI EN 319 142-1, baseline B-B; ISO 32000-2 12.8).

A signature is a CMS ``SignedData`` (``ETSI.CAdES.detached``, SHA-256, ECDSA
P-256) over the PDF's ``/ByteRange``: every byte of the file as it was when
signed, except the hole that holds the signature itself. It is written as an
incremental update, so everything in the unsigned PDF — including its file
attachments — is inside the signed range.

Two facts shape :func:`validate_pdf`:

* An update appended after signing leaves the old signature cryptographically
  "valid" for the part it covers. A verifier must therefore also check that the
  signature covers the *whole* file; ``Validation.covers_whole_file`` does.
* pyHanko and poppler's ``pdfsig`` both validate these signatures (``pdfsig``
  exits 0 even when a signature fails: read its text, not its exit code).

pyHanko drives its work with ``asyncio.run``: call these functions from a worker
thread, never from inside a running event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError as PyHankoValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from reports.errors import (
    MalformedPdfError,
    SignatureNotFoundError,
    SignatureValidationError,
    SigningError,
)
from reports.pdf.certificates import load_signer

SIGNATURE_FIELD_NAME = "LedgerSignature"
"""Name of the (invisible) form field that holds the organization's signature."""

DIGEST_ALGORITHM = "sha256"
"""Digest of the signed byte range and of the CMS signed attributes."""


@dataclass(frozen=True)
class Validation:
    """The outcome of checking a signed PDF against one trusted certificate.

    A document may be relied on only when :attr:`trustworthy` is True: the
    digest matches, the signature verifies and chains to the trusted
    certificate, and no byte of the file lies outside the signed range.
    """

    intact: bool
    """The digest of the signed byte range equals the digest in the signature:
    the bytes it covers have not changed since signing."""

    valid: bool
    """The CMS signature verifies over its signed attributes, the signer's
    certificate validates with the given certificate as the only trust root,
    *and* the signer's certificate is that very certificate (pinned: a
    certificate issued under the organization's root is not accepted)."""

    covers_whole_file: bool
    """The signed byte range runs from the first to the last byte of the file.
    False when anything (an incremental update, trailing bytes) was appended
    after signing; the signed part may still be ``intact`` and ``valid``."""

    signer_common_name: str
    """Subject CN of the certificate embedded in the signature (the organization
    name, by :mod:`reports.pdf.certificates`). Informational: trust comes from
    ``valid``, not from this name."""

    signing_time: dt.datetime | None
    """The signing time the signer claimed (CMS ``signingTime`` attribute),
    timezone-aware; None when absent. Claimed, not timestamped by a third party."""

    @property
    def trustworthy(self) -> bool:
        """True when the document is exactly what the trusted signer signed."""
        return self.intact and self.valid and self.covers_whole_file


def sign_pdf(
    pdf_bytes: bytes,
    cert_der: bytes,
    key_der: bytes,
    *,
    reason: str,
    location: str,
    signing_time: dt.datetime,
) -> bytes:
    """Sign ``pdf_bytes`` with a PAdES signature and return the signed PDF.

    Guaranteed: the result is ``pdf_bytes`` followed by one incremental update
    holding an invisible signature field, the signature covers the whole result,
    the CMS ``signingTime`` attribute and the signature dictionary's ``/M``
    are ``signing_time``, and the digest is SHA-256.

    Not guaranteed: byte-identical output for identical inputs. ECDSA
    signatures are randomized, pyHanko gives the update a random second
    document ID, and it stamps ``/ModDate`` in the document information with the
    wall clock. Only the unsigned rendering is deterministic.
    """
    if signing_time.tzinfo is None or signing_time.utcoffset() is None:
        raise SigningError(
            f"expected a timezone-aware signing_time, got naive {signing_time.isoformat()}"
        )
    signer = load_signer(cert_der, key_der)
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD_NAME,
        md_algorithm=DIGEST_ALGORITHM,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes))
        pdf_signer = signers.PdfSigner(
            metadata,
            signer=signer,
            new_field_spec=fields.SigFieldSpec(sig_field_name=SIGNATURE_FIELD_NAME),
        )
        output = asyncio.run(_sign_at(pdf_signer, writer, signing_time))
    except (PdfError, PyHankoSigningError, ValueError, KeyError) as exc:
        raise SigningError(f"pyHanko could not sign the PDF: {exc}") from exc
    return output


async def _sign_at(
    pdf_signer: signers.PdfSigner, writer: IncrementalPdfFileWriter, signing_time: dt.datetime
) -> bytes:
    """pyHanko's ``PdfSigner.async_sign_pdf``, with the signing time injected.

    ``PdfSigner`` reads the wall clock for the signing session; the documented
    lower-level session API lets us set it instead, so the signature claims the
    caller's clock.
    """
    session = pdf_signer.init_signing_session(writer)
    session.system_time = signing_time
    validation_info = await session.perform_presign_validation(writer)
    bytes_reserved = await session.estimate_signature_container_size(validation_info)
    tbs_document = session.prepare_tbs_document(
        validation_info=validation_info, bytes_reserved=bytes_reserved
    )
    prepared, output = tbs_document.digest_tbs_document(output=io.BytesIO())
    post_signing = await tbs_document.perform_signature(
        document_digest=prepared.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(signing_time=signing_time),
    )
    await post_signing.post_signature_processing(output)
    return output.getvalue()


def validate_pdf(
    pdf_bytes: bytes,
    trusted_cert_der: bytes,
    *,
    at: dt.datetime | None = None,
) -> Validation:
    """Validate the single signature of a PDF against one trusted certificate.

    ``trusted_cert_der`` is the only trust root and the only accepted signer
    certificate. Nothing is fetched from the network and revocation is not
    checked (a self-signed organization certificate has no revocation
    service). ``at`` is the moment at which the certificate must be within its
    validity period (default: now; there is no trusted timestamp, so after the
    certificate expires a caller must choose the moment deliberately).

    Returns the findings rather than raising for an invalid signature; raises
    :class:`MalformedPdfError` for bytes pyHanko cannot parse,
    :class:`SignatureNotFoundError` unless there is exactly one signature, and
    :class:`SignatureValidationError` when validation could not run.
    """
    try:
        trusted = asn1_x509.Certificate.load(trusted_cert_der)
        trusted.native  # noqa: B018 -- asn1crypto parses lazily; force it here
    except (ValueError, TypeError) as exc:
        raise SignatureValidationError(f"expected the trusted certificate as DER: {exc}") from exc
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        signatures = reader.embedded_regular_signatures
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise MalformedPdfError(f"expected a readable PDF: {exc}") from exc
    if len(signatures) != 1:
        raise SignatureNotFoundError(
            f"expected exactly one signature in the PDF, found {len(signatures)}"
        )
    embedded = signatures[0]
    context = ValidationContext(
        trust_roots=[trusted],
        allow_fetching=False,
        revocation_mode="soft-fail",
        moment=at,
    )
    try:
        # Diff analysis judges whether later updates are harmless form filling;
        # our policy accepts no later update at all, so coverage alone decides.
        status = validate_pdf_signature(embedded, context, skip_diff=True)
    except (PdfError, PyHankoValidationError, ValueError, KeyError, TypeError) as exc:
        raise SignatureValidationError(f"pyHanko could not validate the signature: {exc}") from exc
    signer_names = status.signing_cert.subject.native
    pinned = status.signing_cert.dump() == trusted.dump()
    return Validation(
        intact=bool(status.intact),
        valid=bool(status.intact and status.valid and status.trusted and pinned),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer_common_name=str(signer_names.get("common_name", "")),
        signing_time=status.signer_reported_dt,
    )


__all__ = ["DIGEST_ALGORITHM", "SIGNATURE_FIELD_NAME", "Validation", "sign_pdf", "validate_pdf"]
