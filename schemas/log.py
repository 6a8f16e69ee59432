"""Bodies of the entries the log itself writes (organization and key lifecycle).

Entry bodies are the ``body`` member of an entry's canonical bytes (docs/FORMAT.md); every
field here is hashed and public.
"""

from __future__ import annotations

from typing import Annotated, Literal

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


StaffRole = Literal["admin", "recorder", "auditor"]
Uuid = Annotated[
    str, msgspec.Meta(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]
Actor = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(server|(key:)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
    ),
]
"""Who made an access change: a staff account's id; ``key:<id>``, an admin API key (a machine,
through the API's ``…/api-keys`` routes); or ``server`` (the ``ledger`` command run on the
server host: ``ledger org create`` and recovery)."""


class StaffAdded(Body, frozen=True, tag=kinds.STAFF_ADDED):
    """A console account was created (kind ``staff.added``). Names and e-mail addresses are
    personal data and stay out of the log: the account is named by its random id."""

    staff: Uuid
    """The account's id."""
    role: StaffRole
    """Its role."""
    by: Actor
    """Who created it."""


class StaffChanged(Body, frozen=True, tag=kinds.STAFF_CHANGED):
    """An access change to a console account (kind ``staff.changed``)."""

    staff: Uuid
    """The account's id."""
    change: Literal[
        "role", "disabled", "enabled", "password_reset", "unlocked", "totp_enabled", "totp_removed"
    ]
    """What changed (``password_reset``: set by an admin or by recovery, and the account unlocked)."""
    role: StaffRole
    """Its role after the change."""
    by: Actor
    """Who changed it."""


class ApiKeyIssued(Body, frozen=True, tag=kinds.API_KEY_ISSUED):
    """An API key was issued (kind ``api_key.issued``): from the console, through the API, by
    ``ledger org create`` or by recovery (``ledger keys issue``). Its secret, prefix and label
    are never logged."""

    key: Uuid
    """The key's public id."""
    role: StaffRole
    """Its role."""
    by: Actor
    """Who issued it."""


class ApiKeyRevoked(Body, frozen=True, tag=kinds.API_KEY_REVOKED):
    """An API key was revoked from the console or through the API (kind ``api_key.revoked``)."""

    key: Uuid
    """The key's public id."""
    by: Actor
    """Who revoked it."""
