"""The recipients' own word: a beneficiary's key, and what it signs about a disbursement.

An orphanage (a beneficiary, in Indonesia an LKSA) holds its own Ed25519 key. Its public
key is recorded in the log (``beneficiary.key``); with it, the orphanage signs that a
disbursement arrived (``disbursement.acknowledged``) or did not arrive as recorded
(``disbursement.disputed``), over the message of ``ledger.formats.acknowledgment``
(docs/FORMAT.md section 8). The charity records these entries but cannot forge them. No
member holds personal data: no names of children or staff, no contact details.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

import msgspec

from schemas import kinds
from schemas.base import Body, Document
from schemas.charity import Code, EntryIndex

PublicKey = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9+/]{43}=$",
        description="base64 of a 32-byte Ed25519 public key",
        examples=["A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="],
    ),
]
Signature = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9+/]{86}==$",
        description="base64 of a 64-byte Ed25519 signature over the acknowledgment message "
        "(docs/FORMAT.md section 8)",
    ),
]
Received = Annotated[
    int,
    msgspec.Meta(
        # gt=-1, not ge=0: Litestar leaves a zero minimum out of the OpenAPI schema of an
        # optional member, and clients (and the fuzz test) then send negative numbers
        gt=-1,
        le=10**15,
        description="minor units the beneficiary says it received (0: nothing arrived)",
    ),
]
Verdict = Literal["acknowledged", "disputed"]


# --- entry bodies (hashed and public) -----------------------------------------------------


class BeneficiaryKeyBody(Body, frozen=True, tag=kinds.BENEFICIARY_KEY):
    """``beneficiary.key``: the beneficiary's signing key from this entry on.

    A later ``beneficiary.key`` of the same beneficiary replaces it (a lost phone): the old
    key stays in the log, and the signatures it made before its replacement keep counting."""

    beneficiary: Code
    public_key: PublicKey
    replaces: EntryIndex | None = None
    """The ``beneficiary.key`` entry this one replaces (``null`` for the first key); set by
    the server under the log-head lock."""


class RecipientStatementBody(Body, frozen=True):
    """The members of both things a beneficiary signs about one disbursement."""

    disbursement: EntryIndex
    """The disbursement entry."""
    beneficiary: Code
    """Its beneficiary (the signer)."""
    key: EntryIndex
    """The ``beneficiary.key`` entry whose key signed."""
    signature: Signature


class AcknowledgedBody(RecipientStatementBody, frozen=True, tag=kinds.ACKNOWLEDGED):
    """``disbursement.acknowledged``: the whole amount arrived."""


class DisputedBody(RecipientStatementBody, frozen=True, tag=kinds.DISPUTED):
    """``disbursement.disputed``: a different amount arrived, or nothing (``received`` 0)."""

    received: Received


# --- requests -----------------------------------------------------------------------------


class EnrolmentLinkCreate(Document, frozen=True):
    """An admin asks for a one-time enrolment link for a beneficiary."""

    valid_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 7


class EnrolmentCreate(Document, frozen=True):
    """The orphanage's browser (or the recipient CLI) registers its public key."""

    public_key: PublicKey


class AcknowledgmentCreate(Document, frozen=True):
    """A signed acknowledgment or dispute of one disbursement."""

    verdict: Verdict
    key: EntryIndex
    """The ``beneficiary.key`` entry of the key that signed (the current one)."""
    signature: Signature
    received: Received | None = None
    """Only with ``disputed``: what arrived, in minor units (0: nothing)."""


# --- responses ----------------------------------------------------------------------------


class EnrolmentLink(Document, frozen=True):
    """A one-time link: its token is shown once and stored only as a hash."""

    beneficiary: str
    token: str
    path: str
    """The page to open, relative to the server (``/daftar/<token>``)."""
    expires_at: datetime.datetime


class EnrolmentView(Document, frozen=True):
    """What an enrolment link is for (public: the token is the secret)."""

    org: str
    org_name: str
    origin: str
    beneficiary: str
    beneficiary_name: str
    expires_at: datetime.datetime
    used: bool
    """True once a key was recorded with this link."""


class SignedMessage(Document, frozen=True):
    """The members of the acknowledgment message of one disbursement (docs/FORMAT.md §8)."""

    origin: str
    org: str
    beneficiary: str
    disbursement: int
    leaf_hash: str
    """Base64 RFC 9162 leaf hash of the disbursement entry."""
    amount: int
    currency: str
    minor_units: int
    paid_on: datetime.date


class AcknowledgmentView(Document, frozen=True):
    """The recipient's word on one disbursement, and what to sign when there is none yet."""

    disbursement: int
    status: Literal["acknowledged", "disputed", "awaiting"]
    awaiting_days: int | None
    """Days since the value date while awaiting (None otherwise)."""
    entry: int | None
    """The acknowledgment or dispute entry."""
    received: int | None
    """What the beneficiary says arrived (the amount when acknowledged)."""
    key: int | None
    """The beneficiary's current key entry (None: not enrolled)."""
    public_key: str | None
    """Its base64 public key."""
    message: SignedMessage
    purpose: str
    reference: str
    reversed_by: int | None
