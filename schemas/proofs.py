"""Proof documents served by the log and the verification service."""

from __future__ import annotations

from typing import Annotated, Any

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


class VerifyRequest(Document, frozen=True):
    receipt: Annotated[str, msgspec.Meta(max_length=1_000_000)]
    """A receipt (JSON text) or a c2sp.org/tlog-proof."""
    vkeys: list[str] | None = None
    """Keys to trust (recommended: pinned from the organization's page or a statement)."""
    org: str | None = None
    """Else: trust the keys this server publishes for that organization."""


class VerifyResult(Document, frozen=True):
    ok: bool
    detail: str
    pinned: bool
    """False when the keys came from this server rather than from the caller."""
    origin: str | None = None
    index: int | None = None
    size: int | None = None
    signed_by: list[str] | None = None
    donor_opened: bool | None = None
    entry: dict[str, Any] | None = None
