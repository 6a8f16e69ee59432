"""Use cases that create an organization and manage its signing keys.

Creating an organization is one transaction: the organization row, its log head, its first
signing key (sealed) and entry 0 (``log.created``, carrying the public key) commit together.
"""

from __future__ import annotations

import asyncpg
import msgspec

from ledger.clock import Clock, system_clock
from ledger.errors import AlreadyExistsError, ConflictError, LedgerError, NotFoundError
from ledger.journal import keys
from ledger.journal.appender import Intent, append_batch
from ledger.journal.publisher import publish
from ledger.settings import Settings
from ledger.store.log import Organization, Store
from schemas.entries import body_builtins, kind_of
from schemas.log import KeyRetired, KeyRotated, LogCreated


async def create_organization(
    store: Store,
    settings: Settings,
    kek: bytes,
    slug: str,
    name: str,
    *,
    clock: Clock = system_clock,
) -> Organization:
    """Create the organization, its key and its log; publish the first checkpoint.
    ``clock`` gives the time of the ``log.created`` entry (``ledger.clock``)."""
    entry = LogCreated(slug=slug, name=name, vkey="pending")
    body = body_builtins(entry)
    msgspec.convert(body, LogCreated)  # validates slug and name before touching the database
    origin = f"{settings.origin_base}/{slug}"
    async with store.connection() as conn:
        try:
            async with conn.transaction():
                org = await store.create_organization(conn, slug, name, origin)
                signer, sealed = keys.generate(kek, org.id, origin)
                await store.insert_signing_key(conn, org.id, sealed)
                body["vkey"] = signer.vkey()
                [outcome] = await append_batch(
                    store, conn, org, [Intent(kind_of(entry), body)], clock=clock
                )
                if isinstance(outcome, LedgerError):
                    raise outcome
                # Commit point: organization, head, key and entry 0 appear together.
        except asyncpg.UniqueViolationError as exc:
            raise AlreadyExistsError(f"an organization with slug {slug!r} already exists") from exc
    await publish(store, org, kek)
    return org


async def rotate_key(store: Store, kek: bytes, org: Organization, *, keep_old: bool = False) -> str:
    """Generate a new checkpoint key; retire the old ones unless ``keep_old``.

    With ``keep_old`` checkpoints carry both signatures until the old key is retired, so
    verifiers pinned to either key keep working during the change-over. Returns the new vkey.
    """
    existing = [k for k in await store.signing_keys(org.id) if k.retired_at is None]
    async with store.connection() as conn, conn.transaction():
        signer, sealed = keys.generate(kek, org.id, org.origin)
        await store.insert_signing_key(conn, org.id, sealed)
        retired = [] if keep_old else existing
        for key in retired:
            await store.retire_signing_key(conn, org.id, key.key_id)
        rotated = KeyRotated(vkey=signer.vkey(), retired=[k.key_id.hex() for k in retired])
        intent = Intent(kind_of(rotated), body_builtins(rotated))
        [outcome] = await append_batch(store, conn, org, [intent])
        if isinstance(outcome, LedgerError):
            raise outcome
        # Commit point: the new key signs from the next checkpoint on; the rotation is logged.
    await publish(store, org, kek)
    return signer.vkey()


async def retire_key(store: Store, kek: bytes, org: Organization, key_id_hex: str) -> None:
    """Stop signing with one key; it stays published so old checkpoints still verify."""
    active = [k for k in await store.signing_keys(org.id) if k.retired_at is None]
    target = next((k for k in active if k.key_id.hex() == key_id_hex), None)
    if target is None:
        raise NotFoundError(f"no active key {key_id_hex} for {org.slug}")
    if len(active) == 1:
        raise ConflictError("refusing to retire the last active key: rotate first")
    async with store.connection() as conn, conn.transaction():
        await store.retire_signing_key(conn, org.id, target.key_id)
        retirement = KeyRetired(key_id=key_id_hex)
        intent = Intent(kind_of(retirement), body_builtins(retirement))
        [outcome] = await append_batch(store, conn, org, [intent])
        if isinstance(outcome, LedgerError):
            raise outcome
        # Commit point: the key stops signing and the log says so, together.
    await publish(store, org, kek)
