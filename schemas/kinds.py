"""The names of the log's entry kinds (docs/FORMAT.md section 6), each spelled once.

An entry carries its kind in the envelope member ``kind``, next to ``body``. These names are
the tags of the entry-body union (``schemas.entries``) and the values of the ``kind`` columns
the projections store. This module imports nothing, so the pure formats
(``ledger.formats``) may read the names too.
"""

from __future__ import annotations

from typing import Final

# --- the log's own entries (schemas.log) --------------------------------------------------

LOG_CREATED: Final = "log.created"
"""Entry 0 of every log."""
KEY_ROTATED: Final = "key.rotated"
"""A new checkpoint key."""
KEY_RETIRED: Final = "key.retired"
"""A checkpoint key stopped signing."""
NOTE: Final = "note"
"""Free text, used by tools and benchmarks."""

# --- access changes (schemas.log): console accounts and API keys --------------------------

STAFF_ADDED: Final = "staff.added"
"""A console account was created."""
STAFF_CHANGED: Final = "staff.changed"
"""A console account's access changed (role, disabled, password reset, …)."""
API_KEY_ISSUED: Final = "api_key.issued"
"""An API key was issued (console or recovery)."""
API_KEY_REVOKED: Final = "api_key.revoked"
"""An API key was revoked (console)."""

# --- the charity domain (schemas.charity, schemas.statements) -----------------------------

FUND_CREATED: Final = "fund.created"
BENEFICIARY_REGISTERED: Final = "beneficiary.registered"
BENEFICIARY_UPDATED: Final = "beneficiary.updated"
DONATION: Final = "donation"
DISBURSEMENT: Final = "disbursement"
TRANSFER: Final = "transfer"
FEE: Final = "fee"
CORRECTION: Final = "correction"
ORG_SETTINGS: Final = "org.settings"
EVIDENCE_ATTACHED: Final = "evidence.attached"
EVIDENCE_PUBLISHED: Final = "evidence.published"
"""A redacted copy of a disbursement's attached evidence, made public (hash-linked to it)."""
EVIDENCE_WITHDRAWN: Final = "evidence.withdrawn"
"""A published copy of evidence taken down again, with a reason (the entries both stay)."""
DONOR_ERASED: Final = "donor.erased"
STATEMENT_ISSUED: Final = "statement.issued"

# --- Indonesian compliance (schemas.compliance) --------------------------------------------

FUND_CLASSIFIED: Final = "fund.classified"
"""A fund's classes: ISAK 35 restriction, PSAK 109 fund, tax deductibility (newest wins)."""
FUND_PERMIT: Final = "fund.permit"
"""A fund's public fundraising permit (PUB), or the exemption it collects under."""
ORG_PROFILE: Final = "org.profile"
"""The organization's legal identity: legal name, NPWP, zakat licence, amil cap (newest wins)."""

FUND_TARGET: Final = "fund.target"
"""A fund's fundraising target and deadline, or its removal (schemas.targets; newest wins)."""

FUND_COMPLIANCE: Final = frozenset({FUND_CLASSIFIED, FUND_PERMIT})
"""Kinds that describe one fund's standing under Indonesian rules (member ``fund``)."""

# --- the recipients' own word (schemas.recipients) -----------------------------------------

BENEFICIARY_KEY: Final = "beneficiary.key"
"""A beneficiary's Ed25519 public key (enrolment; a later one replaces it)."""
ACKNOWLEDGED: Final = "disbursement.acknowledged"
"""A beneficiary's signed word that a disbursement arrived in full."""
DISPUTED: Final = "disbursement.disputed"
"""A beneficiary's signed word that a disbursement did not arrive as recorded."""

RECIPIENT_STATEMENTS: Final = frozenset({ACKNOWLEDGED, DISPUTED})
"""Kinds a beneficiary signs about one disbursement (at most one per disbursement)."""

MOVEMENTS: Final = frozenset({DONATION, DISBURSEMENT, TRANSFER, FEE})
"""Kinds that move money between accounts of their own, and that a correction may reverse."""

MONEY: Final = MOVEMENTS | {CORRECTION}
"""Kinds with a money row and posting lines (a correction's are the reversal's)."""

BENEFICIARY: Final = frozenset({BENEFICIARY_REGISTERED, BENEFICIARY_UPDATED})
"""Kinds that record a version of a beneficiary."""
