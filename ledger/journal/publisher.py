"""Publishing signed checkpoints (c2sp.org/tlog-checkpoint, signed as c2sp.org/signed-note).

The log signs checkpoints, not entries: one Ed25519 signature covers every entry up to the
tree size. Before signing, the new tree head is proven consistent with the newest checkpoint
already published, from the stored Merkle nodes (RFC 9162 §2.1.4); if that proof fails the
log refuses to sign, so it never signs two checkpoints that contradict each other.
"""

from __future__ import annotations

import logging

from ledger.errors import ConsistencyProofError, VerificationError
from ledger.formats import merkle
from ledger.formats.checkpoint import Checkpoint, sign_checkpoint
from ledger.journal.keys import open_signers
from ledger.store.log import Organization, Store, StoredCheckpoint

log = logging.getLogger(__name__)


async def publish(store: Store, org: Organization, kek: bytes) -> StoredCheckpoint:
    """Sign and store a checkpoint of the log's current head (or return the newest one)."""
    head = await store.head(org.id)
    latest = await store.latest_checkpoint(org.id)
    if latest is not None and latest.size == head.size:
        return latest
    root = merkle.fold(head.frontier) if head.size else merkle.EMPTY_ROOT
    if latest is not None:
        if latest.size > head.size:
            raise VerificationError(
                f"log {org.slug} has {head.size} entries but already signed a checkpoint at "
                f"size {latest.size}: the log was truncated; refusing to sign"
            )
        if latest.size > 0:
            nodes = await store.nodes(org.id, merkle.consistency_nodes(latest.size, head.size))
            try:
                proof = merkle.consistency_proof(latest.size, head.size, nodes)
                merkle.verify_consistency(latest.size, head.size, latest.root, root, proof)
            except (KeyError, ConsistencyProofError) as exc:
                raise VerificationError(
                    f"log {org.slug} at size {head.size} is not consistent with its checkpoint "
                    f"at size {latest.size} ({exc}); refusing to sign"
                ) from exc
    signers = open_signers(kek, org.id, await store.signing_keys(org.id))
    note = sign_checkpoint(Checkpoint(org.origin, head.size, root), signers)
    await store.insert_checkpoint(org.id, head.size, root, note)
    return await store.checkpoint_at(org.id, head.size)
