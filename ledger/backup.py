"""Backup and restore of one organization's log: ``ledger export`` / ``ledger import``.

The file is the public export (``donation-ledger-export/v1`` JSON Lines, see
``ledger.verify.offline``): a header with the origin, slug, name and the log's public keys, every
checkpoint, then every entry's canonical bytes. Import first verifies the whole file
(signatures, chain, roots, against keys you pin with ``--vkey`` or else the header's), then
writes the organization, its log, Merkle nodes, checkpoints and every projection (funds,
beneficiaries, postings, balances) in ONE transaction, and re-verifies from the database.

Not in the file, by design: private keys (the restored log's keys are public only: run
``ledger keys rotate`` to sign again), donor personal data and evidence files (outside the
log; back them up with the database), API keys, console accounts and sessions (their
``staff.added`` / ``staff.changed`` entries are restored; the accounts are not: create them
again with ``ledger staff create``) and idempotency records.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from ledger.charity.rules import CharityPolicy
from ledger.errors import ConflictError, MalformedError
from ledger.formats import merkle
from ledger.formats.canonical import parse_time
from ledger.formats.chain import GENESIS_PREV_HASH, entry_hash
from ledger.formats.checkpoint import parse_checkpoint
from ledger.formats.note import Verifier, parse_note, parse_vkey
from ledger.journal.appender import Appended, Intent
from ledger.store.log import Head, Organization, Store, StoredKey
from ledger.verify.offline import EXPORT_FORMAT, verify_export
from ledger.verify.stored import LogReport, verify_log

BATCH = 5000


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        yield from f


def read_header(path: Path) -> dict:
    with path.open("rb") as f:
        header = json.loads(f.readline() or b"{}")
    if header.get("format") != EXPORT_FORMAT:
        raise MalformedError(f"expected a {EXPORT_FORMAT} file")
    for field in ("origin", "slug", "name", "vkeys"):
        if field not in header:
            raise MalformedError(f"the export header has no {field!r}")
    return header


async def import_log(
    store: Store, path: Path, pinned: list[Verifier] | None = None
) -> tuple[Organization, LogReport]:
    """Verify the file, restore the log in one transaction, and verify it again from the DB."""
    header = read_header(path)
    keys = [parse_vkey(v) for v in header["vkeys"]]
    summary = verify_export(_lines(path), pinned or keys)  # raises on any inconsistency
    policy = CharityPolicy()
    async with store.connection() as conn:
        try:
            async with conn.transaction():
                org = await store.create_organization(
                    conn, header["slug"], header["name"], header["origin"]
                )
                for key in keys:
                    await store.insert_signing_key(
                        conn,
                        org.id,
                        StoredKey(key.key_id, key.name, key.public_key, b"", None, None),
                    )
                    await store.retire_signing_key(conn, org.id, key.key_id)
                head = await _restore_entries(store, conn, org, path, policy)
                if head.size != summary.size:
                    raise MalformedError(f"expected {summary.size} entries, restored {head.size}")
                if not await store.advance_head(conn, org.id, 0, head):
                    raise ConflictError("the new log's head moved during the import")
                for line in _lines(path):
                    item = json.loads(line)
                    if "checkpoint" in item:
                        cp = parse_checkpoint(parse_note(item["checkpoint"]).text)
                        await store.insert_checkpoint(
                            org.id, cp.size, cp.root, item["checkpoint"], conn=conn
                        )
                # Commit point: the organization, its whole log, nodes, checkpoints and
                # projections appear together, or nothing does.
        except asyncpg.UniqueViolationError as exc:
            raise ConflictError(
                f"an organization {header['slug']!r} or log {header['origin']!r} already exists here"
            ) from exc
    return org, await verify_log(store, org)


async def _restore_entries(
    store: Store, conn: asyncpg.Connection, org: Organization, path: Path, policy: CharityPolicy
) -> Head:
    tree = merkle.CompactRange()
    prev = GENESIS_PREV_HASH
    rows: list[Appended] = []
    nodes: list = []
    last_time = None

    async def flush() -> None:
        if not rows:
            return
        await store.insert_entries(conn, org.id, rows)
        await store.insert_nodes(conn, org.id, nodes)
        pairs = [(Intent(r.kind, json.loads(r.body)["body"]), r) for r in rows]
        await policy.after_insert(conn, org, pairs)
        rows.clear()
        nodes.clear()

    for line in _lines(path):
        item = json.loads(line)
        if "canonical" not in item:
            continue
        body = base64.b64decode(item["canonical"], validate=True)
        doc = json.loads(body)
        leaf = merkle.leaf_hash(body)
        chained = entry_hash(prev, leaf)
        last_time = parse_time(doc["time"])
        rows.append(Appended(item["index"], doc["kind"], last_time, body, prev, chained, leaf))
        nodes.extend(tree.append(leaf))
        prev = chained
        if len(rows) >= BATCH:
            await flush()
    await flush()
    return Head(tree.size, prev, last_time or datetime.fromtimestamp(0, UTC), tree.hashes)
