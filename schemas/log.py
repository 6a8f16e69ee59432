"""Bodies of the entries the log itself writes (organization and key lifecycle).

Entry bodies are the ``body`` member of an entry's canonical bytes (docs/FORMAT.md); every
field here is hashed and public.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from schemas import kinds
from schemas.base import Body

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


class LogCreated(Body, frozen=True, tag=kinds.LOG_CREATED):
    """Entry 0 of every log (kind ``log.created``)."""

    slug: Slug
    """The organization's public slug."""
    name: Name
    """The organization's display name."""
    vkey: str
    """The checkpoint key in c2sp.org/signed-note vkey form."""


class KeyRotated(Body, frozen=True, tag=kinds.KEY_ROTATED):
    """A new checkpoint key (kind ``key.rotated``)."""

    vkey: str
    """The new key, vkey form."""
    retired: list[str]
    """Hex key IDs of keys that stopped signing with this rotation."""


class KeyRetired(Body, frozen=True, tag=kinds.KEY_RETIRED):
    """A key stopped signing (kind ``key.retired``); it stays valid for old checkpoints."""

    key_id: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{8}$")]
    """Hex key ID of the retired key."""


class Event(Body, frozen=True, tag=kinds.NOTE):
    """A free-form log event (kind ``note``), used by tools and benchmarks."""

    text: Annotated[str, msgspec.Meta(max_length=2000)]
    """Public text."""
