"""Proof documents served by the log and the verification service."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from schemas.base import Document


class InclusionProof(Document, frozen=True):
    index: int
    size: int
    leaf_hash: str
    """Base64 RFC 9162 leaf hash of the entry."""
    proof: list[str]
    """Base64 hashes, leaf's sibling first (RFC 9162 §2.1.3)."""


class ConsistencyProof(Document, frozen=True):
    old: int
    new: int
    proof: list[str]
    """Base64 hashes (RFC 9162 §2.1.4)."""


MAX_VKEYS = 16
"""Most keys one verification may try: each costs a parse and, per signature line, a
lookup; an organization publishes one or two."""
VKey = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
"""A signed-note verifier key (``name+hash+base64``), about 100 characters."""


class VerifyRequest(Document, frozen=True):
    receipt: Annotated[str, msgspec.Meta(min_length=1, max_length=1_000_000)]
    """A receipt (JSON text, nested at most ``ledger.verify.offline.MAX_JSON_DEPTH`` deep), a
    c2sp.org/tlog-proof, or a recipient's acknowledgment file
    (``donation-ledger-acknowledgment/v1``)."""
    vkeys: Annotated[list[VKey], msgspec.Meta(max_length=MAX_VKEYS)] | None = None
    """Keys to trust (recommended: pinned from the organization's page or a statement);
    at most ``MAX_VKEYS``."""
    org: str | None = None
    """Else: trust the keys this server publishes for that organization."""


class ReversalFound(Document, frozen=True):
    """The correction, proven under the receipt's checkpoint, that reversed the entry."""

    index: int
    """Index of the correction entry."""
    time: str
    """When the log recorded it (the entry's RFC 3339 ``time``)."""
    effective_on: str
    """Its value date, ``YYYY-MM-DD`` (``effective_on``; a correction without one: its
    recording date in Asia/Jakarta): the day the reversal is shown with."""
    reason: str
    """The reason it gives."""


class AcknowledgmentFound(Document, frozen=True):
    """A recipient's signed word on a disbursement, proven and its signature checked (an
    acknowledgment file, ``donation-ledger-acknowledgment/v1``, docs/FORMAT.md section 8)."""

    verdict: Literal["acknowledged", "disputed"]
    entry: int
    """The disbursement.acknowledged or disbursement.disputed entry."""
    signed_at: str
    """When the log recorded it (the entry's RFC 3339 ``time``)."""
    disbursement: int
    """The disbursement it is about."""
    beneficiary: str
    """The beneficiary's code."""
    beneficiary_name: str | None
    """Its name as its proven record gives it (None: the file does not prove it)."""
    org_name: str | None
    """The organization's name from entry 0 (None: the file does not prove it)."""
    key: int
    """The beneficiary.key entry whose key signed."""
    amount: int
    """What the disbursement recorded, in minor units."""
    received: int
    """What the recipient signed that it received (the amount when acknowledged)."""
    currency: str
    minor_units: int
    """The exponent the disbursement's fund recorded."""
    paid_on: str
    """The disbursement's value date, ``YYYY-MM-DD``."""
    says: dict[str, str]
    """The statement in plain words, by language (``id``, ``en``): "Panti X menandatangani
    bahwa telah menerima Rp Y pada tanggal D", or the dispute."""


class VerifyResult(Document, frozen=True):
    ok: bool
    """The receipt verifies: the entry is in the log at a checkpoint signed by a trusted key
    (true also for a reversed entry: see ``status``)."""
    detail: str
    pinned: bool
    """False when the keys came from this server rather than from the caller."""
    origin: str | None = None
    index: int | None = None
    size: int | None = None
    signed_by: list[str] | None = None
    donor_opened: bool | None = None
    entry: dict[str, Any] | None = None
    status: Literal["counts", "reversed", "unknown"] | None = None
    """What the entry means now, as far as the receipt proves: ``reversed`` (a correction
    reversed it: the gift no longer counts), ``counts`` (the receipt shows no reversal up to
    its checkpoint), ``unknown`` (the receipt cannot say: a bare tlog-proof or an older
    receipt). None when the receipt does not verify."""
    reversed_by: ReversalFound | None = None
    """The correction that reversed it, when ``status`` is ``reversed``."""
    acknowledgment: AcknowledgmentFound | None = None
    """For an acknowledgment file: what the recipient signed, with its signature checked
    (``ok`` false when it does not verify)."""
    reversed_later: ReversalFound | None = None
    """Not proven by the receipt: this server's log records a correction of the entry that
    the receipt does not carry (it was issued before the reversal, or is a bare tlog-proof).
    Fetch a new receipt to have it proven; the gift no longer counts."""
