"""Full verification of the logs stored in the database (``ledger verify``).

For each organization it streams the log in index order (bounded memory, whatever the size)
and checks, entry by entry:

1. indexes are contiguous from 0 (no gap, no reordering);
2. ``leaf_hash`` is the RFC 9162 leaf hash of the stored canonical bytes;
3. the bytes' header (``log``, ``index``, ``prev``, ``kind``, ``time``) agrees with the row;
4. ``prev_hash`` is the previous entry's ``entry_hash`` and ``entry_hash`` is the chain hash;
5. every stored Merkle node equals the node recomputed from the entries, and there are no
   extra nodes;
6. every stored checkpoint carries a valid signature by one of the organization's keys and
   its root equals the recomputed root at its size (so the log still extends it);
7. the head row agrees with the last entry.

The first failure is reported with the first bad index and the reason. A tail deleted from
the log together with its checkpoints cannot be seen here: that is what receipts, statements
and witnesses are for (pass them in ``external`` checkpoints).
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import msgspec

from ledger import merkle
from ledger.canonical import format_time
from ledger.chain import CHAIN_PREFIX, GENESIS_PREV_HASH
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.errors import LedgerError, VerificationError
from ledger.note import ALG_ED25519, Verifier, key_id
from ledger.storage import Organization, Store, StoredCheckpoint

NODE_CHECK_EVERY = 8192


class _Header(msgspec.Struct):
    """The envelope members of an entry's canonical bytes (``body`` is skipped)."""

    v: int
    log: str
    index: int
    prev: str
    time: str
    kind: str


_decode_header = msgspec.json.Decoder(_Header).decode


@dataclass(frozen=True)
class LogReport:
    """The outcome of verifying one log."""

    slug: str
    """Organization verified."""
    ok: bool
    """True when every check passed."""
    size: int
    """Entries read."""
    checkpoints: int
    """Checkpoints whose signature and root were checked."""
    first_bad_index: int | None
    """Index of the first entry that fails (None when ok, or when not tied to an entry)."""
    reason: str | None
    """What failed, in words."""
    seconds: float
    """Time taken."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class _Bad(Exception):
    def __init__(self, index: int | None, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


def _verifiers(org: Organization, keys: Sequence) -> list[Verifier]:
    found = []
    for k in keys:
        if key_id(k.name, ALG_ED25519, k.public_key) != k.key_id:
            raise _Bad(None, f"stored key {k.key_id.hex()} does not match its public key")
        found.append(Verifier(k.name, k.key_id, k.public_key, ALG_ED25519))
    return found


def _check_checkpoint(
    org: Organization,
    cp: StoredCheckpoint | Checkpoint,
    note: str | None,
    verifiers: list[Verifier],
    root: bytes,
) -> None:
    size = cp.size
    if note is not None:
        try:
            opened = open_checkpoint(note, verifiers, origin=org.origin)
        except LedgerError as exc:
            raise _Bad(None, f"checkpoint at size {size} does not verify: {exc}") from exc
        if opened.size != size or opened.root != cp.root:
            raise _Bad(None, f"checkpoint row at size {size} disagrees with its signed note")
    if cp.root != root:
        raise _Bad(
            max(size - 1, 0),
            f"the log does not extend its checkpoint at size {size}: expected root "
            f"{base64.b64encode(cp.root).decode()}, recomputed {base64.b64encode(root).decode()}",
        )


async def _check_nodes(store: Store, org: Organization, computed: list) -> None:
    stored = await store.nodes(org.id, [n for n, _ in computed])
    for node, digest in computed:
        if stored.get(node) != digest:
            level, idx = node
            first = idx << level
            what = "missing" if node not in stored else "different"
            raise _Bad(
                first,
                f"Merkle node {node} covering entries {first}..{((idx + 1) << level) - 1} is "
                f"{what} from the recomputed tree: entries were rewritten from about here",
            )


async def verify_log(
    store: Store, org: Organization, external: Sequence[Checkpoint] = ()
) -> LogReport:
    """Verify one organization's whole log; never raises for a bad log, reports instead."""
    started = time.perf_counter()
    count = checked = 0
    try:
        verifiers = _verifiers(org, await store.public_keys(org.id))
        count, checked = await _walk(store, org, verifiers, external)
    except _Bad as bad:
        return LogReport(
            org.slug, False, count, checked, bad.index, bad.reason, time.perf_counter() - started
        )
    except VerificationError as exc:
        return LogReport(
            org.slug, False, count, checked, None, str(exc), time.perf_counter() - started
        )
    return LogReport(org.slug, True, count, checked, None, None, time.perf_counter() - started)


async def _walk(
    store: Store, org: Organization, verifiers: list[Verifier], external: Sequence[Checkpoint]
) -> tuple[int, int]:
    sha256 = hashlib.sha256
    b64 = base64.b64encode
    tree = merkle.CompactRange()
    prev = GENESIS_PREV_HASH
    expected = 0
    checked = 0
    pending_nodes: list = []
    cps = store.stream_checkpoints(org.id)
    cp = await anext(cps, None)
    outside = sorted(external, key=lambda c: c.size)

    def check_cps_at(size: int) -> None:
        nonlocal cp, checked
        while outside and outside[0].size == size:
            _check_checkpoint(org, outside.pop(0), None, verifiers, tree.root())
            checked += 1

    while cp is not None and cp.size == 0:
        _check_checkpoint(org, cp, cp.note, verifiers, merkle.EMPTY_ROOT)
        checked += 1
        cp = await anext(cps, None)
    check_cps_at(0)

    async for chunk in store.stream_entries(org.id):
        for row in chunk:
            i = row.index
            if i != expected:
                raise _Bad(
                    expected,
                    f"expected entry {expected}, found {i}: entries are missing or out of order",
                )
            body = row.body
            leaf = sha256(b"\x00" + body).digest()
            if leaf != row.leaf_hash:
                raise _Bad(
                    i, "stored leaf_hash is not the hash of the stored bytes: the entry was edited"
                )
            try:
                h = _decode_header(body)
            except msgspec.DecodeError as exc:
                raise _Bad(i, f"entry bytes are not a valid entry document: {exc}") from exc
            if (
                h.index != i
                or h.log != org.origin
                or h.kind != row.kind
                or h.prev != b64(prev).decode()
            ):
                raise _Bad(i, "entry bytes disagree with their row (index, log, kind or prev)")
            if h.time != format_time(row.created_at):
                raise _Bad(i, f"entry time {h.time} disagrees with created_at {row.created_at}")
            if row.prev_hash != prev:
                raise _Bad(i, "prev_hash does not link to the previous entry")
            chained = sha256(CHAIN_PREFIX + prev + leaf).digest()
            if chained != row.entry_hash:
                raise _Bad(i, "entry_hash is not the chain hash of prev_hash and leaf_hash")
            pending_nodes.extend(tree.append(leaf))
            prev = chained
            expected += 1
            while cp is not None and cp.size == expected:
                _check_checkpoint(org, cp, cp.note, verifiers, tree.root())
                checked += 1
                cp = await anext(cps, None)
            if outside:
                check_cps_at(expected)
        if len(pending_nodes) >= NODE_CHECK_EVERY:
            await _check_nodes(store, org, pending_nodes)
            pending_nodes = []
    if pending_nodes:
        await _check_nodes(store, org, pending_nodes)

    if cp is not None:
        raise _Bad(
            expected,
            f"a checkpoint was signed at size {cp.size} but the log has only "
            f"{expected} entries: entries were deleted from the end",
        )
    if outside:
        raise _Bad(
            expected,
            f"a checkpoint at size {outside[0].size} was given but the log has "
            f"only {expected} entries: entries were deleted from the end",
        )
    expected_nodes = expected - bin(expected).count("1")
    stored_nodes = await store.count_nodes(org.id)
    if stored_nodes != expected_nodes:
        raise _Bad(None, f"expected {expected_nodes} Merkle nodes, found {stored_nodes}")
    head = await store.head(org.id)
    if head.size != expected or head.head_hash != prev or tuple(head.frontier) != tree.hashes:
        raise _Bad(
            min(head.size, expected),
            f"log head (size {head.size}) disagrees with the entries (size {expected})",
        )
    return expected, checked


async def verify_all(store: Store, slug: str | None = None) -> list[LogReport]:
    """Verify one organization's log, or every organization's."""
    if slug is not None:
        orgs = [await store.organization(slug)]
    else:
        orgs = []
        after = 0
        while page := await store.organizations(after):
            orgs.extend(page)
            after = page[-1].id
    return [await verify_log(store, org) for org in orgs]
