"""Public projections served without a key. Nothing here carries personal data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, TypeVar

from schemas.base import Document

T = TypeVar("T")


class Page(Document, Generic[T], frozen=True):
    """One page of a cursor-paginated list."""

    items: list[T]
    """The items of this page."""
    has_more: bool
    """True when another page follows."""
    next_cursor: str | None
    """Opaque cursor for the next page (``cursor`` query parameter), None on the last page."""


class OrganizationView(Document, frozen=True):
    """An organization as anyone may see it."""

    slug: str
    """URL name."""
    name: str
    """Display name."""
    origin: str
    """Checkpoint origin of its log."""


class ReversalView(Document, frozen=True):
    """The correction entry that reverses an entry: the reversed entry no longer counts."""

    index: int
    """Index of the correction entry."""
    time: datetime
    """When the log recorded the correction."""
    effective_on: date
    """The correction's value date (local to the organization): the day the reversal is
    shown with."""
    reason: str
    """The reason the correction gives."""


class EntryView(Document, frozen=True):
    """A log entry: its canonical bytes (base64) and hashes; anyone can recompute them."""

    index: int
    """Position in the log."""
    kind: str
    """Entry kind."""
    time: datetime
    """Server timestamp."""
    canonical: str
    """Base64 of the exact canonical bytes (the Merkle leaf)."""
    leaf_hash: str
    """Base64 RFC 9162 leaf hash."""
    entry_hash: str
    """Base64 chain hash."""
    prev_hash: str
    """Base64 chain hash of the previous entry."""
    document: dict[str, Any]
    """The canonical bytes decoded: the entry document (never holds personal data)."""
    reversed_by: ReversalView | None = None
    """The correction that reversed this entry, if one did (not part of the signed bytes:
    the log records it as that later entry, whose ``body.corrects`` is this index)."""
