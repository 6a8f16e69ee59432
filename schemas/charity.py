"""The charity domain's documents: requests, entry bodies, and responses.

Entry bodies are what the log hashes and publishes (the ``body`` member of an entry's
canonical bytes, docs/FORMAT.md): they never hold donor personal data, only a salted
commitment and the display the donor chose. Requests are what clients send; responses what
the API answers. All inherit the policy of ``schemas.base.Document``.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

import msgspec

from schemas import kinds
from schemas.base import Body, Document
from schemas.money import Amount, CurrencyCode, MinorUnits, check_currency
from schemas.taxids import NikText, NpwpText, nik_digits, npwp_digits

CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
Code = Annotated[str, msgspec.Meta(pattern=CODE_PATTERN, description="public code")]
# Text never holds control characters (NUL cannot even be stored by PostgreSQL); long text
# may hold line breaks and tabs.
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
LongText = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=1000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+$"),
]
Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$")]
EntryIndex = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]
FeeCap = Annotated[int, msgspec.Meta(ge=0, le=1000, description="basis points; 1000 = 10%")]

Channel = Literal["bank_transfer", "e_wallet", "qris", "cash", "card", "payment_gateway", "other"]
Purpose = Literal["food", "education", "health", "shelter", "clothing", "operations", "other"]
Role = Literal["admin", "recorder", "auditor"]


# --- entry bodies (hashed and public) -----------------------------------------------------


class Earmark(Document, frozen=True):
    """What a fund is reserved for: one beneficiary, or one purpose."""

    beneficiary: Code | None = None
    """Only this beneficiary may receive disbursements from the fund."""
    purpose: Purpose | None = None
    """Only disbursements of this purpose may come from the fund."""


class FundBody(Body, frozen=True, tag=kinds.FUND_CREATED):
    """``fund.created``: a fund or campaign."""

    code: Code
    name: Text
    currency: CurrencyCode
    earmark: Earmark | None = None
    fee_cap_bps: FeeCap = 1000
    """Most fees may take, in basis points of donations (0 for zakat and disaster funds)."""
    minor_units: MinorUnits | None = None
    """Decimal exponent of every amount in the fund (ISO 4217's when the fund was created;
    IDR 2), frozen here so that no later table changes what an amount means. The server
    always sets it; ``null`` only in entries written before it existed, which use ISO 4217
    as of 2026-01-01 (docs/FORMAT.md §6)."""


class BeneficiaryBody(Body, frozen=True):
    """The members of both beneficiary kinds: a version of a beneficiary."""

    code: Code
    version: Annotated[int, msgspec.Meta(ge=1)]
    name: Text
    city: Text
    province: Text
    registration: Text | None = None
    """Official registration number (e.g. of an LKSA), if any."""


class BeneficiaryRegistered(BeneficiaryBody, frozen=True, tag=kinds.BENEFICIARY_REGISTERED):
    """``beneficiary.registered``: version 1 of a beneficiary."""


class BeneficiaryUpdated(BeneficiaryBody, frozen=True, tag=kinds.BENEFICIARY_UPDATED):
    """``beneficiary.updated``: a later version (its number is set under the head lock)."""


class DonorPublic(Document, frozen=True):
    """What the log says about a donor: a commitment and the display they consented to."""

    commitment: str | None
    """Base64 SHA-256 commitment to the donor's personal data (None when none was given)."""
    display: Text | None
    """Public name the donor consented to; None means anonymous."""


class DonationBody(Body, frozen=True, tag=kinds.DONATION):
    """``donation``: money into a fund."""

    fund: Code
    amount: Amount
    currency: CurrencyCode
    received_on: datetime.date
    channel: Channel
    reference: Reference
    donor: DonorPublic
    message: LongText | None = None


class DisbursementBody(Body, frozen=True, tag=kinds.DISBURSEMENT):
    """``disbursement``: money out of a fund to a beneficiary."""

    fund: Code
    beneficiary: Code
    amount: Amount
    currency: CurrencyCode
    purpose: Purpose
    paid_on: datetime.date
    reference: Reference


class TransferBody(Body, frozen=True, tag=kinds.TRANSFER):
    """``transfer``: money between two funds of the organization."""

    from_fund: Code
    to_fund: Code
    amount: Amount
    currency: CurrencyCode
    transferred_on: datetime.date
    reason: LongText


class FeeBody(Body, frozen=True, tag=kinds.FEE):
    """``fee``: fundraising overhead or operating cost, counted against the fund's cap."""

    fund: Code
    amount: Amount
    currency: CurrencyCode
    charged_on: datetime.date
    description: LongText


class CorrectionBody(Body, frozen=True, tag=kinds.CORRECTION):
    """``correction``: reverses one earlier money entry (at most one correction per entry)."""

    corrects: EntryIndex
    reason: LongText
    effective_on: datetime.date | None = None
    """Value date of the reversal: the period it counts in. The server always sets it (the
    request's, or today in the organization's time zone); ``null`` only in entries written
    before it existed, whose value date is their recording date in Asia/Jakarta."""


class OrgSettingsBody(Body, frozen=True, tag=kinds.ORG_SETTINGS):
    """``org.settings``: the organization's calendar from this entry on (ledger.formats.valuedates)."""

    time_zone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    """IANA time zone: periods are ``[from, to)`` of its local dates (default Asia/Jakarta)."""
    books_open: datetime.date
    """Earliest value date the organization records (default: 5 years before the log)."""


class EvidenceBody(Body, frozen=True, tag=kinds.EVIDENCE_ATTACHED):
    """``evidence.attached``: commits a file's hash to a disbursement."""

    disbursement: EntryIndex
    sha256: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
    content_type: Literal["application/pdf", "image/jpeg", "image/png"]
    size: Annotated[int, msgspec.Meta(gt=0)]


EvidenceType = Literal["application/pdf", "image/jpeg", "image/png"]
Sha256Hex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]


class EvidencePublishedBody(Body, frozen=True, tag=kinds.EVIDENCE_PUBLISHED):
    """``evidence.published``: a redacted copy of evidence attached to a disbursement, served
    to everyone. ``original`` is the ``sha256`` of an ``evidence.attached`` entry of the same
    disbursement (the original stays private); the copy is a different file."""

    disbursement: EntryIndex
    original: Sha256Hex
    """SHA-256 (hex) of the original evidence, already attached to ``disbursement``."""
    sha256: Sha256Hex
    """SHA-256 (hex) of the public, redacted copy: its address."""
    content_type: EvidenceType
    """Sniffed from the copy's bytes."""
    size: Annotated[int, msgspec.Meta(gt=0)]
    redactions: Text
    """What was blacked out, in short words (e.g. "nomor rekening, tanda tangan")."""


class EvidenceWithdrawnBody(Body, frozen=True, tag=kinds.EVIDENCE_WITHDRAWN):
    """``evidence.withdrawn``: an ``evidence.published`` copy is no longer served (the file
    answers 410 Gone, pages say when and why). Both entries stay in the log; a copy is
    withdrawn at most once."""

    published: EntryIndex
    """Index of the ``evidence.published`` entry whose copy is withdrawn."""
    reason: Text
    """Why, in short words, shown on the public pages (e.g. "nama anak terlihat")."""


class EvidenceWithdrawal(Document, frozen=True):
    """The request body of ``POST …/public-evidence/{index}/withdraw`` (admin)."""

    reason: Text
    """Why the copy is taken down, shown on the public pages."""


class DonorErasedBody(Body, frozen=True, tag=kinds.DONOR_ERASED):
    """``donor.erased``: a donor's personal data was erased; commitments stay, unopenable."""

    records: Annotated[int, msgspec.Meta(ge=1)]


class _Priced(Document, frozen=True):
    """Requests that carry a currency: it must be an active ISO 4217 code."""

    def __post_init__(self) -> None:
        check_currency(self.currency)  # type: ignore[attr-defined]


# --- requests -----------------------------------------------------------------------------


class FundCreate(_Priced, frozen=True):
    code: Code
    name: Text
    currency: CurrencyCode
    earmark: Earmark | None = None
    fee_cap_bps: FeeCap = 1000


class BeneficiaryCreate(Document, frozen=True):
    code: Code
    name: Text
    city: Text
    province: Text
    registration: Text | None = None


class BeneficiaryChange(Document, frozen=True):
    """The full new state of a beneficiary (the old versions stay in the log)."""

    name: Text
    city: Text
    province: Text
    registration: Text | None = None


class DonorIn(Document, frozen=True):
    """Donor personal data: stored outside the log, erasable on request."""

    name: Text | None = None
    email: (
        Annotated[
            str, msgspec.Meta(pattern=r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,255}$")
        ]
        | None
    ) = None
    phone: Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9 ()-]{5,20}$")] | None = None
    address: LongText | None = None
    public_name: Text | None = None
    """The name the donor consents to show publicly; absent means anonymous."""
    full_name: Text | None = None
    """The legal name as on the donor's KTP or NPWP card, for tax receipts (PMK 114/2025
    art. 9, PP 93/2010): personal data, like ``npwp`` and ``nik``."""
    npwp: NpwpText | None = None
    """The donor's NPWP, for a tax receipt (15 or 16 digits; kept as digits)."""
    nik: NikText | None = None
    """The donor's NIK (16 digits), for a tax receipt when they have no NPWP."""

    def __post_init__(self) -> None:
        if self.npwp is not None:
            npwp_digits(self.npwp)
        if self.nik is not None:
            nik_digits(self.nik)


class DonationCreate(_Priced, frozen=True):
    fund: Code
    amount: Amount
    currency: CurrencyCode
    received_on: datetime.date
    channel: Channel
    reference: Reference
    donor: DonorIn = msgspec.field(default_factory=DonorIn)
    message: LongText | None = None


class BatchDonation(DonationCreate, frozen=True, kw_only=True):
    """A donation of a batch, with its own idempotency key if the client gives one."""

    key: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"^[\x20-\x7e]+$")] | None
    ) = None
    """This item's own idempotency key (the same namespace as Idempotency-Key headers): a
    later batch holding an item with a key that was recorded gets that item's original
    answer instead of a second entry; the same key with another item is refused (422)."""


class DonationBatch(Document, frozen=True):
    """Up to 1,000 donations recorded all or nothing (bank statement imports)."""

    donations: Annotated[list[BatchDonation], msgspec.Meta(min_length=1, max_length=1000)]


class DisbursementCreate(_Priced, frozen=True):
    fund: Code
    beneficiary: Code
    amount: Amount
    currency: CurrencyCode
    purpose: Purpose
    paid_on: datetime.date
    reference: Reference


class TransferCreate(_Priced, frozen=True):
    from_fund: Code
    to_fund: Code
    amount: Amount
    currency: CurrencyCode
    transferred_on: datetime.date
    reason: LongText


class FeeCreate(_Priced, frozen=True):
    fund: Code
    amount: Amount
    currency: CurrencyCode
    charged_on: datetime.date
    description: LongText


class CorrectionCreate(Document, frozen=True):
    corrects: EntryIndex
    reason: LongText
    effective_on: datetime.date | None = None
    """The reversal's value date; default today in the organization's time zone."""


class OrgSettingsChange(Document, frozen=True):
    """An admin's change of the calendar; a member left out keeps its current value."""

    time_zone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    """IANA time zone name, e.g. ``Asia/Jakarta`` (WIB), ``Asia/Makassar``, ``Asia/Jayapura``."""
    books_open: datetime.date | None = None
    """Earliest value date to accept, as YYYY-MM-DD."""


class DonorErase(Document, frozen=True):
    """Identify the donor by the email or phone they gave."""

    email: Annotated[str, msgspec.Meta(max_length=320, pattern=r"^[^\x00-\x1f\x7f]*$")] | None = (
        None
    )
    phone: Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[^\x00-\x1f\x7f]*$")] | None = None


class AnnualReceiptRequest(Document, frozen=True):
    """Which donor (by the email or phone they gave) and which year; personal data stays out
    of URLs and access logs, hence a POST."""

    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)]
    email: Annotated[str, msgspec.Meta(max_length=320, pattern=r"^[^\x00-\x1f\x7f]*$")] | None = (
        None
    )
    phone: Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[^\x00-\x1f\x7f]*$")] | None = None
    lang: Literal["id", "en"] = "id"


class ApiKeyCreate(Document, frozen=True):
    role: Role
    label: Annotated[str, msgspec.Meta(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""


# --- responses ----------------------------------------------------------------------------


class Recorded(Document, frozen=True):
    """A write that is committed to the log."""

    index: int
    """The entry's index in the organization's log."""
    kind: str
    """Entry kind."""
    time: str
    """Server timestamp (RFC 3339, as in the entry)."""
    entry_hash: str
    """Base64 chain hash."""
    leaf_hash: str
    """Base64 RFC 9162 leaf hash."""


class BatchRecorded(Document, frozen=True):
    recorded: list[Recorded]


class Erased(Document, frozen=True):
    records: int
    entry: Recorded


class ApiKeyCreated(Document, frozen=True):
    id: str
    key: str
    """The secret: shown this once, stored only as a hash."""
    role: Role
    label: str


class ApiKeyView(Document, frozen=True):
    id: str
    prefix: str
    role: Role
    label: str
    created_at: datetime.datetime
    revoked_at: datetime.datetime | None


class Balance(Document, frozen=True):
    account: str
    currency: str
    amount: int


class FundView(Document, frozen=True):
    code: str
    name: str
    currency: str
    minor_units: int
    earmark: Earmark | None
    fee_cap_bps: int
    created_at_index: int
    raised: int
    """Sum of donations (net of corrections)."""
    disbursed: int
    """Sum of disbursements to beneficiaries (net of corrections)."""
    fees: int
    """Sum of fees and operating costs (net of corrections)."""
    transferred_in: int
    transferred_out: int
    balance: int
    overhead_bps: int
    """fees / raised in basis points (0 when nothing was raised)."""
    over_cap: bool
    """True when overhead_bps exceeds fee_cap_bps."""


class BeneficiaryView(Document, frozen=True):
    code: str
    version: int
    name: str
    city: str
    province: str
    registration: str | None
    entry_index: int
    received: list[Balance]


class BalancesView(Document, frozen=True):
    as_of: int
    """Balances include entries with index < as_of (the tree size)."""
    balances: list[Balance]
