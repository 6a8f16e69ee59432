"""Proofs and donor receipts, served by the log (verified offline by ``ledger.verify.offline``).

A receipt's proof is against the smallest stored checkpoint that covers the entry; if none
covers it yet, the log signs one now. Proofs are computed from the stored Merkle nodes with
one query (O(log n) rows).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import asyncpg

from ledger.charity.reversals import reversal_of
from ledger.errors import NotFoundError, RuleError
from ledger.formats import merkle
from ledger.formats.note import format_vkey
from ledger.formats.tlogproof import TlogProof, format_proof
from ledger.journal.publisher import publish
from ledger.store import charity as P
from ledger.store.log import Organization, Store, StoredCheckpoint, StoredEntry
from ledger.store.witnessing import cosignature_lines
from ledger.verify.offline import EXPORT_FORMAT, RECEIPT_FORMAT
from schemas import kinds


async def covering_checkpoint(
    store: Store, org: Organization, kek: bytes, size: int
) -> StoredCheckpoint:
    cp = await store.checkpoint_covering(org.id, size)
    if cp is None:
        cp = await publish(store, org, kek)
        if cp.size < size:
            raise NotFoundError(f"log {org.slug} has only {cp.size} entries")
    return cp


async def _head_size(store: Store, org: Organization) -> int:
    return (await store.head(org.id)).size


async def inclusion_proof(store: Store, org: Organization, index: int, size: int) -> list[bytes]:
    if not 0 <= index < size:
        raise RuleError(f"expected 0 <= index < size, got index {index} and size {size}")
    if size > await _head_size(store, org):
        raise NotFoundError(f"log {org.slug} is smaller than {size}")
    nodes = await store.nodes(org.id, merkle.inclusion_nodes(index, size))
    return merkle.inclusion_proof(index, size, nodes)


async def consistency_proof(store: Store, org: Organization, old: int, new: int) -> list[bytes]:
    if not 0 <= old <= new:
        raise RuleError(f"expected 0 <= old <= new, got old {old} and new {new}")
    if new > await _head_size(store, org):
        raise NotFoundError(f"log {org.slug} is smaller than {new}")
    nodes = await store.nodes(org.id, merkle.consistency_nodes(old, new))
    return merkle.consistency_proof(old, new, nodes)


async def _tlog_proof(
    store: Store,
    org: Organization,
    kek: bytes,
    index: int,
    conn: asyncpg.Connection,
    size: int | None = None,
) -> tuple[StoredEntry, str, int]:
    """The entry, its tlog-proof text and the proof's tree size: against the checkpoint of
    ``size`` when given, else the smallest stored checkpoint that covers the entry."""
    entry = await store.entry(org.id, index, conn)
    cp = await store.checkpoint_covering(org.id, size or index + 1, conn)
    if cp is None:
        cp = await covering_checkpoint(store, org, kek, size or index + 1)
    nodes = await store.nodes(org.id, merkle.inclusion_nodes(index, cp.size), conn)
    proof = merkle.inclusion_proof(index, cp.size, nodes)
    note = cp.note + await cosignature_lines(conn, org.id, cp.size)
    return entry, format_proof(TlogProof(index, tuple(proof), note, entry.body)), cp.size


async def _tlog_proofs(
    store: Store,
    org: Organization,
    index: int,
    others: list[int],
    cp: StoredCheckpoint,
    conn: asyncpg.Connection,
) -> list[str]:
    """The tlog-proof texts of ``index`` and of each of ``others`` (entries before it) under
    the checkpoint ``cp``: the entries, the Merkle nodes of every proof and the checkpoint's
    cosignatures in three queries, whatever the number of proofs."""
    wanted = [index, *others]
    entries = await store.entries_at(org.id, wanted, conn)
    missing = [i for i in wanted if i not in entries]
    if missing:
        raise NotFoundError(f"no entry {missing[0]} in log {org.slug}")
    nodes = await store.nodes(
        org.id, {n for i in wanted for n in merkle.inclusion_nodes(i, cp.size)}, conn
    )
    note = cp.note + await cosignature_lines(conn, org.id, cp.size)
    return [
        format_proof(
            TlogProof(i, tuple(merkle.inclusion_proof(i, cp.size, nodes)), note, entries[i].body)
        )
        for i in wanted
    ]


async def tlog_proof(store: Store, org: Organization, kek: bytes, index: int) -> str:
    """The c2sp.org/tlog-proof@v1 text for one entry (its canonical bytes as extra)."""
    async with store.connection() as conn:
        return (await _tlog_proof(store, org, kek, index, conn))[1]


async def receipt(store: Store, org: Organization, kek: bytes, index: int) -> dict:
    """A donor receipt: the donation's proof, the proof of its fund's ``fund.created`` entry
    under the same checkpoint (it records the exponent that says what the amount means), the
    proof of the correction that reversed it if one did (under that same checkpoint, which
    then covers the correction), the proof of entry 0 (``log.created``, which names the
    organization) under that checkpoint, and the opening of the donor commitment (if not
    erased)."""
    async with store.connection() as conn:
        reversal = await reversal_of(store, org.id, index, conn)
        entry = await store.entry(org.id, index, conn)
        if entry.kind != kinds.DONATION:
            raise NotFoundError(f"entry {index} of {org.slug} is a {entry.kind}, not a donation")
        covers = reversal.index + 1 if reversal is not None else index + 1
        cp = await store.checkpoint_covering(org.id, covers, conn)
        if cp is None:
            cp = await covering_checkpoint(store, org, kek, covers)
        code = json.loads(entry.body)["body"]["fund"]
        fund = (await P.funds(conn, org.id, [code]))[code]
        others = [fund.entry_idx, 0] + ([reversal.index] if reversal is not None else [])
        proof, fund_proof, org_proof, *rest = await _tlog_proofs(
            store, org, index, others, cp, conn
        )
        reversal_proof = rest[0] if rest else None
        record = await P.donor_record(conn, org.id, index)
    opening = None
    if record is not None and record[0] is not None:
        salt, personal, _ = record
        opening = {"salt": base64.b64encode(salt).decode(), "personal": personal}
    return {
        "format": RECEIPT_FORMAT,
        "tlog_proof": proof,
        "fund_proof": fund_proof,
        "reversal_proof": reversal_proof,
        "org_proof": org_proof,
        "donor_opening": opening,
    }


async def public_receipt(store: Store, org: Organization, kek: bytes, index: int) -> dict:
    """What anyone may see of a donation's receipt (the public verify page, a receipt's QR
    code): every proof of ``receipt``, as of now, with the donor commitment left closed
    (``donor_opening`` null), so nothing personal is shown."""
    return {**await receipt(store, org, kek, index), "donor_opening": None}


async def export_lines(store: Store, org: Organization) -> AsyncIterator[bytes]:
    """The whole log as donation-ledger-export/v1 JSON Lines, streamed."""
    head = await store.head(org.id)
    keys = await store.public_keys(org.id)
    header = {
        "format": EXPORT_FORMAT,
        "origin": org.origin,
        "size": head.size,
        "slug": org.slug,
        "name": org.name,
        "vkeys": [format_vkey(k.name, k.public_key) for k in keys],
    }
    yield json.dumps(header).encode() + b"\n"
    async for cp in store.stream_checkpoints(org.id):
        if cp.size <= head.size:
            yield json.dumps({"checkpoint": cp.note}).encode() + b"\n"
    async for chunk in store.stream_entries(org.id):
        lines = [
            json.dumps({"index": e.index, "canonical": base64.b64encode(e.body).decode()})
            for e in chunk
            if e.index < head.size
        ]
        if lines:
            yield ("\n".join(lines) + "\n").encode()
