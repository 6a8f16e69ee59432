"""Errors of the ledger, one base and a subclass per failure.

Every message says what was expected, what was found, and, where it helps, what the caller
can do. Exceptions of asyncpg or cryptography never escape the module that called them:
they are translated into one of these where they enter.
"""

from __future__ import annotations

from typing import Any, TypeVar

E = TypeVar("E", bound="LedgerError")


class LedgerError(Exception):
    """Base of every error this package raises on purpose."""

    template: str | None = None
    """The English gettext msgid the message was made from (``ledger.messages``), if any."""
    params: dict[str, Any] | None = None
    """The values of the template's ``{named}`` fields."""
    pointer: str | None = None
    """The JSON pointer of the request member at fault, for input errors."""

    @classmethod
    def of(cls: type[E], template: str, /, *, pointer: str | None = None, **params: Any) -> E:
        """An error whose message ``ledger.http.problems`` can show in the caller's language:
        ``template`` is an English msgid of the catalog (``ledger/locale``), ``params``
        fill its ``{named}`` fields; ``str()`` of the error is the English text."""
        exc = cls(template.format(**params))
        exc.template, exc.params, exc.pointer = template, params, pointer
        return exc


# --- proofs and signatures (pure modules) ---------------------------------------------


class VerificationError(LedgerError):
    """A proof, signature, or log does not verify."""


class InclusionProofError(VerificationError):
    """An inclusion proof does not lead to the expected root."""


class ConsistencyProofError(VerificationError):
    """A consistency proof does not link the two tree heads."""


class MalformedError(VerificationError):
    """A note, checkpoint, key, proof or entry is not in the documented format."""


class UnusableInputError(MalformedError):
    """Input too deeply nested or too large to be read at all (``ledger-verify`` exits 2;
    the API answers 400)."""


class SignatureError(VerificationError):
    """No known key produced a valid signature on the note."""


class CanonicalError(LedgerError):
    """A value cannot be encoded canonically (floats, non-ASCII keys, unsafe integers)."""


# --- storage and service -----------------------------------------------------------------


class ConfigurationError(LedgerError):
    """Settings are missing or contradict each other."""


class SchemaVersionError(LedgerError):
    """The database schema is not the version this code expects."""


class DatabaseUnavailableError(LedgerError):
    """PostgreSQL cannot be reached; the caller may retry later."""


class NotFoundError(LedgerError):
    """The organization, entry, checkpoint or key asked for does not exist."""


class ConflictError(LedgerError):
    """The request conflicts with the current state (e.g. an overdraft, a duplicate)."""


class InvalidInputError(LedgerError):
    """The request body does not match its schema (wrong type, range, unknown field)."""


class RuleError(LedgerError):
    """The request is well-formed but breaks a ledger rule (wrong currency, earmark, ...)."""


class IdempotencyMismatchError(LedgerError):
    """An Idempotency-Key was reused with a different request."""


# --- domain refusals: one class per refusal, so each has its own problem type ----------
# (ledger.http.problems.TYPES gives each its URI; the statuses come from the base class.)


class AlreadyExistsError(ConflictError):
    """A fund, beneficiary or organization with that code or slug already exists."""


class DuplicateReferenceError(ConflictError):
    """A donation with that payment reference is already recorded."""


class OverdraftError(ConflictError):
    """The entry would take a fund's balance below zero."""


class FeeCapError(ConflictError):
    """The fee would put the fund's fees above its overhead cap (``fee_cap_bps``)."""


class AmilCapError(ConflictError):
    """A transfer from a zakat fund to an amil fund would take the amil share above the
    organization's cap (PSAK 109; ``org.profile`` ``amil_cap_bps``)."""


class AlreadyCorrectedError(ConflictError):
    """The entry was reversed already: an entry is corrected at most once."""


class IdempotencyInFlightError(ConflictError):
    """Another request with the same Idempotency-Key is being recorded right now."""


class UnknownFundError(RuleError):
    """The fund named in the request does not exist in this organization."""


class UnknownBeneficiaryError(RuleError):
    """The beneficiary named in the request does not exist in this organization."""


class CurrencyMismatchError(RuleError):
    """The amount's currency is not the fund's currency."""


class EarmarkError(RuleError):
    """The disbursement breaks the fund's earmark (beneficiary or purpose)."""


class PermitLapsedError(RuleError):
    """The donation's value date is outside every fundraising permit (PUB) of its fund."""


class ClassificationError(RuleError):
    """A fund classification or permit that contradicts the fund (an earmarked fund without
    restriction, zakat receipts from a fund that is not a zakat fund, a partial permit)."""


class EvidenceLinkError(RuleError):
    """A public copy of evidence that is not hash-linked to evidence attached to its
    disbursement, or that would make a private original public."""


class NotPublishedError(RuleError):
    """A withdrawal names an entry that is not a published copy of evidence."""


class AlreadyWithdrawnError(ConflictError):
    """The published copy was withdrawn already: a copy is withdrawn at most once."""


class GoneError(LedgerError):
    """The resource existed and was taken down on purpose (a withdrawn public copy)."""


class NotCorrectableError(RuleError):
    """The entry to correct is not a money entry (or evidence names a non-disbursement)."""


class AlreadyAcknowledgedError(ConflictError):
    """The disbursement was acknowledged or disputed by its recipient already (final)."""


class EnrolmentLinkUsedError(ConflictError):
    """The one-time enrolment link already recorded a key."""


class NotEnrolledError(RuleError):
    """The beneficiary has no key yet, or signed with a key that was replaced."""


class RecipientSignatureError(RuleError):
    """The beneficiary's signature does not verify over the acknowledgment message."""


class IdempotencyKeyError(RuleError):
    """The write has no Idempotency-Key header, or one that is too long or unprintable."""


class AlreadyRecorded(LedgerError):
    """Not a failure: the Idempotency-Key's request was recorded before; here is its reply.

    Raised by the append path (which reads stored keys under the log-head lock) so that a
    retry costs no extra query; ``ledger.charity.recording`` turns it into the replayed response.
    """

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__("already recorded")
        self.status = status
        self.body = body


class UnauthorizedError(LedgerError):
    """No API key, or one that is unknown or revoked."""


class ForbiddenError(LedgerError):
    """The API key is valid but may not do this (role, or another organization)."""


class PayloadTooLargeError(LedgerError):
    """A request body or file is larger than allowed."""


class UnsupportedMediaError(LedgerError):
    """A file or body is not of an accepted type."""


class SigningKeyError(LedgerError):
    """A signing key is missing, cannot be decrypted, or is not usable."""


# --- the staff console (ledger.charity.staff) -------------------------------------------


class LoginError(UnauthorizedError):
    """A console login was refused: wrong e-mail, password or code, or a locked account."""


class LoginThrottledError(LoginError):
    """Too many failed logins from one address: wait before trying again."""


# --- payment gateways (ledger/ingest/) ----------------------------------------------------


class GatewaySignatureError(UnauthorizedError):
    """A gateway notification whose signature (Midtrans ``signature_key``) or callback token
    (Xendit ``x-callback-token``) does not match the organization's connection."""


class GatewayNotConnectedError(NotFoundError):
    """The organization has not connected that payment gateway."""


class AmountFormatError(InvalidInputError):
    """A decimal amount that is not exact in the fund's exponent, or out of range."""


class UnroutedPaymentError(RuleError):
    """No rule of the gateway connection says which fund a payment goes to."""


# --- tax receipts and reports (ledger.charity.taxreceipts, .taxreports) ------------------


class NotDeductibleError(RuleError):
    """The donation's fund had no tax category when the donation was recorded: no tax
    receipt (zakat: PMK 114/2025; other gifts: PP 93/2010) can be given for it."""


class TaxIdentityMissingError(RuleError):
    """A tax receipt or report lacks an identity it must show: the organization's NPWP
    (``org.profile``), or the donor's NPWP or NIK and full name (given, or since erased)."""


class DonationReversedError(ConflictError):
    """The donation was reversed by a correction: it gets no tax receipt."""
