"""Donor privacy: commitments in the log, personal data outside it, erasure on request.

A donation's entry holds only ``commitment = base64(SHA-256("donation-ledger donor v1" ||
0x00 || salt || JCS(personal)))`` and the public display the donor chose (anonymous unless
they consented to a name). The salt and the personal data live in ``donor_records``; a
receipt can reveal them to the donor so they can show the entry is theirs. Erasure deletes
the personal data and the salt: the commitment stays in the log, every hash and total still
verifies, and nobody can open it any more.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from ledger.charity.rules import DonorPrivate
from ledger.formats.canonical import canonical_json
from schemas.charity import DonorIn, DonorPublic
from schemas.taxids import nik_digits, npwp_digits

COMMITMENT_DOMAIN = b"donation-ledger donor v1\x00"
LOOKUP_DOMAIN = b"donation-ledger donor lookup v1\x00"
PERSONAL_FIELDS = ("name", "email", "phone", "address", "full_name", "npwp", "nik")
"""The donor members that are personal data: committed to in the log, kept in
``donor_records``, erased on request. ``full_name``, ``npwp`` and ``nik`` are the tax identity
printed on the donor's own tax receipt (``ledger.charity.taxreceipts``) and in the reports for
the tax office; the NPWP and NIK are kept as their digits."""
TAX_ID_DIGITS = {"npwp": npwp_digits, "nik": nik_digits}


def commitment(salt: bytes, personal: dict[str, Any]) -> str:
    """The public commitment to a donor's personal data (docs/FORMAT.md)."""
    digest = hashlib.sha256(COMMITMENT_DOMAIN + salt + canonical_json(personal)).digest()
    return base64.b64encode(digest).decode("ascii")


def email_lookup(email: str | None) -> bytes | None:
    """Hash of a normalized email (case and surrounding spaces ignored)."""
    if not email or not email.strip():
        return None
    return hashlib.sha256(LOOKUP_DOMAIN + b"email:" + email.strip().lower().encode()).digest()


def phone_lookup(phone: str | None) -> bytes | None:
    """Hash of a phone number's digits (spaces, dashes and brackets ignored)."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return hashlib.sha256(LOOKUP_DOMAIN + b"phone:" + digits.encode()).digest() if digits else None


def split_donor(donor: DonorIn) -> tuple[DonorPublic, DonorPrivate | None]:
    """What goes in the log, and what stays in donor_records."""
    personal = {f: getattr(donor, f) for f in PERSONAL_FIELDS if getattr(donor, f) is not None}
    for member, digits in TAX_ID_DIGITS.items():
        if member in personal:
            personal[member] = digits(personal[member])
    if not personal:
        return DonorPublic(commitment=None, display=donor.public_name), None
    salt = secrets.token_bytes(16)
    public = DonorPublic(commitment=commitment(salt, personal), display=donor.public_name)
    private = DonorPrivate(email_lookup(donor.email), phone_lookup(donor.phone), salt, personal)
    return public, private


async def erase(services, org, email: str | None, phone: str | None, key: str, digest: bytes):  # type: ignore[no-untyped-def]
    """Erase a donor's personal data and salts; log a ``donor.erased`` entry. Returns a Reply."""
    import msgspec

    from ledger.charity.recording import Reply, replay
    from ledger.charity.rules import CharityPolicy, Command, recorded
    from ledger.errors import LedgerError, NotFoundError, RuleError
    from ledger.journal.appender import Intent, append_batch
    from ledger.store import charity as P
    from schemas.charity import DonorErasedBody, Erased

    lookup = email_lookup(email) or phone_lookup(phone)
    if lookup is None:
        raise RuleError("give the email or the phone number the donor used")
    previous = await replay(services, org, key, digest)
    if previous is not None:
        return previous
    async with services.store.connection() as conn, conn.transaction():
        indexes = await P.donor_records_by_lookup(conn, org.id, lookup)
        if not indexes:
            raise NotFoundError("no donor records match; nothing to erase")
        await P.erase_donor_records(conn, org.id, indexes)
        command = Command.of(DonorErasedBody(records=len(indexes)))
        [outcome] = await append_batch(
            services.store,
            conn,
            org,
            [Intent(command.kind, command.body, command)],
            policy=CharityPolicy(services.clock),
            clock=services.clock,
        )
        if isinstance(outcome, LedgerError):
            raise outcome
        response = msgspec.json.encode(Erased(records=len(indexes), entry=recorded(outcome)))
        await P.insert_idempotency(conn, org.id, key, digest, 200, response)
        # Commit point: the personal data is gone and the log says so, together.
    return Reply(200, response)
