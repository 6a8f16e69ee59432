"""The one base Struct that carries the schema policy for every document.

* ``frozen``: documents are values; nothing mutates them after decoding.
* ``kw_only``: fields are always named, so adding one never shifts another.
* ``forbid_unknown_fields``: a misspelled or unexpected field is an error, not silently
  dropped; what a client sends is exactly what was validated.
"""

from __future__ import annotations

import msgspec


class Document(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every wire and public document type."""


MAX_INDEX = 2**53 - 1
"""Largest index, size or cursor a request may name: exact as a JSON number in any client
(and within PostgreSQL's bigint); larger ones are refused (400), and the OpenAPI says so."""


class Body(Document, frozen=True, tag_field="kind"):
    """Base of every entry body: each kind's Struct sets ``tag`` to its kind's name
    (``schemas.kinds``), so the bodies form a tagged union (``schemas.entries.EntryBody``).

    The tag field is ``kind``, the member that carries the kind in an entry's envelope,
    next to ``body``. It is never a member of the body itself: what the log hashes is the
    body without it (``schemas.entries.body_builtins``), and a body decoded on its own
    may leave it out.
    """
