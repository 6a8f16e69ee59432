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
7. the head row agrees with the last entry, and no entry lies beyond it;
8. every projection row (funds, beneficiary versions, money rows, posting lines,
   corrections) is the one the entry's canonical bytes give, and every running total
   (balances, fund totals, corrected_by) is the sum over the whole log
   (``ledger.verify.derivation``).

The first failure is reported with the first bad index and the reason. Where the evidence
allows, the index is the entry that was changed, not the first check that noticed: a broken
link at entry i whose own bytes still name the old predecessor means entry i - 1 was
rewritten (its hashes recomputed); a checkpoint root that no longer matches names the first
entry after the last checkpoint that still does. README ("What ``ledger verify`` checks,
and what it can name") says what the stored evidence cannot narrow down. A tail deleted
from the log together with its checkpoints cannot be seen here: that is what receipts,
statements and witnesses are for (pass them in ``external`` checkpoints).

How it is fast: the log is cut into ranges of ``2**RANGE_LEVEL`` entries, aligned so that
every Merkle node of level ``<= RANGE_LEVEL`` lies inside one range. Each range is verified
on its own (in worker processes when ``workers > 1``), starting its chain from the stored
``entry_hash`` before it, which the previous range checks at its end. A range's recomputed
nodes are compared with the stored ones through one digest per level (``node_digests``);
only on a mismatch are they compared one by one to locate it. The parent joins the ranges:
chain links between ranges, nodes above ``RANGE_LEVEL``, checkpoint roots, the head.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import datetime as dt
import gc
import hashlib
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context

import asyncpg
import msgspec

from ledger.errors import LedgerError, VerificationError
from ledger.formats import merkle
from ledger.formats.canonical import canonical_json, format_time
from ledger.formats.chain import GENESIS_PREV_HASH
from ledger.formats.checkpoint import Checkpoint, open_checkpoint
from ledger.formats.note import ALG_ED25519, Verifier, key_id
from ledger.store import audit
from ledger.store.log import Organization, Store, StoredKey
from ledger.verify import native
from ledger.verify.derivation import (
    MONEY_KINDS,
    PROJECTED_KINDS,
    ProjectionMismatch,
    RangeDerivation,
    check_range,
    check_totals,
    merge_sums,
)

RANGE_LEVEL = 15
"""Ranges of 32,768 entries: 31 for a million, so that two workers finish within about 2%
of each other (with 2**17, 8 ranges, one worker did 4 and the other 3.6)."""
FETCH_ROWS = 8192


class _Header(msgspec.Struct):
    """The envelope members of an entry's canonical bytes (``body`` kept as raw bytes)."""

    v: int
    log: str
    index: int
    prev: bytes
    """Decoded from its base64 by msgspec, compared with the predecessor's hash as bytes."""
    time: str
    kind: str
    body: msgspec.Raw = msgspec.Raw(b"null")
    """The body member's bytes, decoded further only for kinds with projection rows."""


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


@dataclass
class RangeResult:
    """What verifying one range of entries established."""

    start: int
    """First index of the range."""
    end: int
    """One past the last index read (``start`` + entries found)."""
    first_prev: bytes
    """The stored prev_hash of entry ``start`` (checked against the previous range)."""
    last_hash: bytes
    """entry_hash of entry ``end - 1``."""
    frontier: list[tuple[int, bytes]]
    """The range's compact Merkle range (level, hash), left to right."""
    at_sizes: dict[int, list[tuple[int, bytes]]] = field(default_factory=dict)
    """For each requested absolute size in the range, the range's compact range then."""
    bad: tuple[int | None, str] | None = None
    """The first failure inside the range, if any."""
    asked_end: int = 0
    """The end the range was asked to reach (entries may be missing before it)."""
    derived: RangeDerivation | None = None
    """The range's running-total sums and corrected_by pairs (its per-entry rows checked)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def _node_mismatch(
    conn: asyncpg.Connection, org_id: int, nodes: list[tuple[int, int, bytes]]
) -> tuple[int, int] | None:
    return await audit.first_node_mismatch(conn, org_id, nodes)


async def verify_range(
    conn: asyncpg.Connection,
    org_id: int,
    origin: str,
    start: int,
    end: int,
    level: int,
    sizes: Sequence[int] = (),
) -> RangeResult:
    """Verify entries [start, end) (start aligned to 2**level, end - start <= 2**level)."""
    if start == 0:
        prev = GENESIS_PREV_HASH
    else:
        prev = await audit.entry_hash_at(conn, org_id, start - 1)
        if prev is None:
            return RangeResult(
                start, start, b"", b"", [], {}, (start - 1, f"entry {start - 1} is missing")
            )
    # The range's rows are plain tuples and records without cycles, made by the hundred
    # thousand: the cycle collector would only walk them again and again (about a tenth of
    # the range's time), so it waits until the range is done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        walked = None
        if native.enabled():
            walked = await _walk_range(conn, org_id, origin, start, end, level, sizes, prev)
        result = walked or await _read_range(conn, org_id, origin, start, end, level, sizes, prev)
    finally:
        if collecting:
            gc.enable()
    result.asked_end = end
    return result


def _kind_codes() -> dict[str, int]:
    codes = dict.fromkeys(PROJECTED_KINDS, 2)
    codes.update(dict.fromkeys(MONEY_KINDS, 1))
    return codes


_KIND_CODES = _kind_codes()
"""For ``_entrywalk``: 1 for money kinds (bodies handed back as one JSON array), 2 for the
other kinds with projection rows, absent (0) for kinds without."""


async def _walk_range(
    conn: asyncpg.Connection,
    org_id: int,
    origin: str,
    start: int,
    end: int,
    level: int,
    sizes: Sequence[int],
    prev: bytes,
) -> RangeResult | None:
    """``_read_range`` by the C loop of ``ledger.verify._entrywalk`` over binary COPY
    chunks: the result when every check passes, None at the first doubt of any kind (a
    failed check, fewer entries than asked, a projection row that differs), and the caller
    then verifies the range with the Python loop, which says what failed and where."""
    assert native.module is not None
    walk = native.module.Walk(
        start,
        prev,
        canonical_json(origin, "$.log"),
        level,
        sorted(s - start for s in sizes if start < s <= end),
        _KIND_CODES,
    )
    derived = RangeDerivation(pending_from=start, origin=origin)

    async def sink(data: bytes) -> None:
        walk.feed(data)

    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        await audit.read_in_index_order(conn)
        for a in range(start, end, FETCH_ROWS):
            b = min(a + FETCH_ROWS, end)
            await audit.copy_entries(conn, org_id, a, b, sink)
            if walk.bad is not None or not walk.complete or start + walk.n != b:
                return None
            if not derived.add_walked(*walk.take()):
                return None
            if await _check_projections(conn, org_id, b, derived) is not None:
                return None
        n = walk.n
        digests = walk.digests()
        for r in await audit.node_digests(conn, org_id, start, start + n, level):
            if (r["n"], r["digest"]) != digests[r["level"]]:
                return None
    result = RangeResult(start, start + n, prev, walk.prev, walk.frontier(), walk.at_sizes)
    result.derived = derived
    return result


async def _read_range(
    conn: asyncpg.Connection,
    org_id: int,
    origin: str,
    start: int,
    end: int,
    level: int,
    sizes: Sequence[int],
    prev: bytes,
) -> RangeResult:
    sha256 = hashlib.sha256
    first_prev = prev
    stack: list[tuple[int, bytes]] = []
    digests = [sha256() for _ in range(level + 1)]
    counts = [0] * (level + 1)
    wanted = {s - start for s in sizes if start < s <= end}
    at_sizes: dict[int, list[tuple[int, bytes]]] = {}
    n = 0  # entries of the range read so far
    expected = start  # the index of the next entry
    last_time = ""
    last_dt = None
    derived = RangeDerivation(pending_from=start, origin=origin)
    projected: tuple[int | None, str] | None = None  # the first projection row that differs
    kind_of = PROJECTED_KINDS.__contains__
    try:
        async with conn.transaction(readonly=True, isolation="repeatable_read"):
            async for rows in audit.entry_chunks(conn, org_id, start, end, FETCH_ROWS):
                if projected is None and n:  # the previous chunk's projection rows
                    projected = await _check_projections(conn, org_id, start + n, derived)
                bodies: list[tuple[int, str, bytes, dt.datetime]] = []
                for i, body, row_prev, row_hash, row_leaf, kind, created in rows:
                    if i != expected:
                        raise _Bad(
                            expected,
                            f"expected entry {expected}, found {i}: entries "
                            "are missing or out of order",
                        )
                    leaf = sha256(b"\x00" + body).digest()
                    if leaf != row_leaf:
                        raise _Bad(
                            i,
                            "stored leaf_hash is not the hash of the stored bytes: "
                            "the entry was edited",
                        )
                    try:
                        h = _decode_header(body)
                    except msgspec.DecodeError as exc:
                        raise _Bad(i, f"entry bytes are not a valid entry document: {exc}") from exc
                    if h.index != i or h.log != origin or h.kind != kind:
                        raise _Bad(i, "entry bytes disagree with their row (index, log or kind)")
                    if h.prev != prev:
                        if i > 0 and h.prev == row_prev:
                            # Entry i and its row agree on a predecessor that entry i - 1 no
                            # longer hashes to: i - 1 was rewritten with its hashes recomputed.
                            raise _Rewritten(i, _b64(h.prev), _b64(prev), f"entry {i}")
                        raise _Bad(i, "entry bytes disagree with their row (prev)")
                    # Entries of one batch share a time: format only when it changes.
                    if created != last_dt:
                        last_dt = created
                        spelled = format_time(last_dt)
                        if spelled < last_time:
                            raise _Bad(
                                i, f"entry time {spelled} is earlier than the entry before it"
                            )
                        last_time = spelled
                    if h.time != last_time:
                        raise _Bad(i, f"entry time {h.time} disagrees with created_at {last_time}")
                    if row_prev != prev:
                        raise _Bad(i, "prev_hash does not link to the previous entry")
                    if kind_of(kind):
                        bodies.append((i, kind, h.body, created))
                    chained = sha256(b"\x02" + prev + leaf).digest()
                    if chained != row_hash:
                        raise _Bad(i, "entry_hash is not the chain hash of prev_hash and leaf_hash")
                    prev = chained
                    # Merkle: push the leaf, merge equal levels (each merge completes a node).
                    node, lvl, k = leaf, 0, n
                    while k & 1:
                        node = sha256(b"\x01" + stack.pop()[1] + node).digest()
                        lvl += 1
                        k >>= 1
                        digests[lvl].update(node)
                        counts[lvl] += 1
                    stack.append((lvl, node))
                    n += 1
                    expected += 1
                    if n in wanted:
                        at_sizes[start + n] = list(stack)
                derived.add_all(bodies)
    except _Rewritten as bad:
        where = await _attribute_rewrite(conn, org_id, origin, start, bad)
        return RangeResult(start, start + n, first_prev, prev, stack, at_sizes, where)
    except _Bad as bad:
        return RangeResult(
            start, start + n, first_prev, prev, stack, at_sizes, (bad.index, bad.reason)
        )
    # The range's nodes (levels 1..level) against the stored ones, one digest per level.
    stored = await audit.node_digests(conn, org_id, start, start + n, level)
    for r in stored:
        lvl = r["level"]
        if r["n"] != counts[lvl] or r["digest"] != digests[lvl].digest():
            where = await _locate_node(conn, org_id, origin, start, start + n, lvl)
            last = start + n - 1
            if where[0] == last - 1 and last % 2 == 1:
                # The stale pair ends the range: the next entry (or the head) tells whether
                # its second entry was rewritten, as a broken link does inside a range.
                row = await audit.successor_commitment(conn, org_id, last)
                by = f"entry {last + 1}" if row["next_prev"] is not None else "the log head"
                committed = row["next_prev"] or row["head_hash"]
                if committed is not None and committed != prev:
                    bad = _Rewritten(last + 1, _b64(committed), _b64(prev), by)
                    where = await _attribute_rewrite(conn, org_id, origin, start, bad)
            return RangeResult(start, start + n, first_prev, prev, stack, at_sizes, where)
    # The log is sound here, so a projection row that differs is the failure to report.
    if projected is None:
        projected = await _check_projections(conn, org_id, start + n, derived)
    if projected is not None:
        return RangeResult(start, start + n, first_prev, prev, stack, at_sizes, projected)
    result = RangeResult(start, start + n, first_prev, prev, stack, at_sizes)
    result.derived = derived
    return result


async def _check_projections(
    conn: asyncpg.Connection, org_id: int, end: int, derived: RangeDerivation
) -> tuple[int | None, str] | None:
    """The stored projection rows of the entries read since the last call, against what
    their bytes give; the first difference, kept until the log itself is known sound (a
    rewritten entry is reported as such, not as the projection rows it no longer gives)."""
    try:
        await check_range(conn, org_id, derived.pending_from, end, derived)
    except ProjectionMismatch as bad:
        return bad.index, bad.reason
    derived.pending_from = end
    return None


class _Rewritten(Exception):
    """Entry ``index`` names a predecessor hash that entry ``index - 1`` no longer has."""

    def __init__(self, index: int, committed: str, recomputed: str, by: str) -> None:
        super().__init__(index)
        self.index, self.committed, self.recomputed, self.by = index, committed, recomputed, by


async def _attribute_rewrite(
    conn: asyncpg.Connection, org_id: int, origin: str, start: int, bad: _Rewritten
) -> tuple[int | None, str]:
    """Entry ``bad.index - 1`` was rewritten, unless a stored Merkle node shows an earlier
    rewrite (a suffix re-hashed forward that stops before ``bad.index``): then the first
    entry of that node."""
    rewritten = bad.index - 1
    if rewritten & ~1 > start:  # nodes wholly before the pair that holds the rewritten entry
        first, reason = await _locate_node(conn, org_id, origin, start, rewritten & ~1, 1)
        if first is not None:
            return first, reason
    return rewritten, (
        f"entry {rewritten} was rewritten: {bad.by} committed to its entry_hash "
        f"{bad.committed}, its bytes now hash to {bad.recomputed}"
    )


async def _locate_node(
    conn: asyncpg.Connection, org_id: int, origin: str, start: int, end: int, level: int
) -> tuple[int | None, str]:
    """Slow path, only on a mismatch: recompute the range's nodes and find the first bad one."""
    tree = merkle.CompactRange()
    computed: list[tuple[int, int, bytes]] = []
    async with conn.transaction(readonly=True):
        async for rows in audit.entry_chunks(conn, org_id, start, end, FETCH_ROWS):
            for row in rows:
                for (lvl, i), h in tree.append(hashlib.sha256(b"\x00" + row[1]).digest()):
                    computed.append((lvl, (start >> lvl) + i, h))
    found = await _node_mismatch(conn, org_id, computed)
    if found is None:  # an extra node that nothing recomputes
        return (
            None,
            f"there are stored Merkle nodes at level {level} that the entries do not produce",
        )
    lvl, idx = found
    first = idx << lvl
    return first, (
        f"Merkle node {(lvl, idx)} covering entries {first}..{((idx + 1) << lvl) - 1} "
        "does not match the recomputed tree: entries were rewritten from about here"
    )


_worker: dict[str, object] = {}
"""A worker process's event loop and connection, kept from one range to the next."""


def _close_worker_connection() -> None:
    loop, conn = _worker.get("loop"), _worker.get("conn")
    if isinstance(loop, asyncio.AbstractEventLoop) and isinstance(conn, asyncpg.Connection):
        loop.run_until_complete(conn.close())


def _verify_range_in_process(
    url: str,
    role: str | None,
    org_id: int,
    origin: str,
    start: int,
    end: int,
    level: int,
    sizes: Sequence[int],
) -> RangeResult:
    """Worker-process entry point: one range, on the process's own connection (opened by
    its first range and kept, so many small ranges cost no more connections than workers)."""
    loop = _worker.get("loop")
    if not isinstance(loop, asyncio.AbstractEventLoop):
        loop = _worker["loop"] = asyncio.new_event_loop()

    async def run() -> RangeResult:
        conn = _worker.get("conn")
        if not isinstance(conn, asyncpg.Connection) or conn.is_closed():
            conn = _worker["conn"] = await asyncpg.connect(
                url, server_settings={"role": role} if role else None
            )
            atexit.register(_close_worker_connection)
        return await verify_range(conn, org_id, origin, start, end, level, sizes)

    return loop.run_until_complete(run())


def _verifiers(keys: Sequence[StoredKey]) -> list[Verifier]:
    found = []
    for k in keys:
        if key_id(k.name, ALG_ED25519, k.public_key) != k.key_id:
            raise _Bad(None, f"stored key {k.key_id.hex()} does not match its public key")
        found.append(Verifier(k.name, k.key_id, k.public_key, ALG_ED25519))
    return found


class _Frontier:
    """The global compact range, built from whole ranges' subtrees (nodes above RANGE_LEVEL)."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []
        self.size = 0
        self.completed: list[tuple[int, int, bytes]] = []

    def add(self, level: int, h: bytes) -> None:
        """Append a complete subtree of ``2**level`` leaves at the current size."""
        position = self.size >> level
        while self.stack and self.stack[-1][0] == level:
            h = hashlib.sha256(b"\x01" + self.stack.pop()[1] + h).digest()
            level += 1
            position >>= 1
            self.completed.append((level, position, h))
        self.stack.append((level, h))
        self.size = (position + 1) << level

    def root_with(self, tail: list[tuple[int, bytes]]) -> bytes:
        hashes = [h for _, h in self.stack] + [h for _, h in tail]
        return merkle.fold(hashes) if hashes else merkle.EMPTY_ROOT


async def verify_log(
    store: Store,
    org: Organization,
    external: Sequence[Checkpoint] = (),
    *,
    url: str | None = None,
    role: str | None = None,
    workers: int = 1,
    range_level: int = RANGE_LEVEL,
) -> LogReport:
    """Verify one organization's whole log; never raises for a bad log, reports instead.

    With ``url`` and ``workers > 1`` the ranges are verified in that many worker processes
    (each with its own connection as ``role``); otherwise in this process.
    """
    started = time.perf_counter()
    state = {"size": 0, "checked": 0}
    try:
        await _verify(store, org, external, url, role, workers, range_level, state)
    except _Bad as bad:
        return LogReport(
            org.slug,
            False,
            state["size"],
            state["checked"],
            bad.index,
            bad.reason,
            time.perf_counter() - started,
        )
    except VerificationError as exc:
        return LogReport(
            org.slug,
            False,
            state["size"],
            state["checked"],
            None,
            str(exc),
            time.perf_counter() - started,
        )
    return LogReport(
        org.slug, True, state["size"], state["checked"], None, None, time.perf_counter() - started
    )


async def _verify(
    store: Store,
    org: Organization,
    external: Sequence[Checkpoint],
    url: str | None,
    role: str | None,
    workers: int,
    level: int,
    state: dict[str, int],
) -> None:
    verifiers = _verifiers(await store.public_keys(org.id))
    head = await store.head(org.id)
    size = head.size
    checkpoints: dict[int, list[tuple[bytes, str]]] = {}
    async for cp in store.stream_checkpoints(org.id):
        if cp.size > size:
            break
        try:
            opened = open_checkpoint(cp.note, verifiers, origin=org.origin)
        except LedgerError as exc:
            raise _Bad(None, f"checkpoint at size {cp.size} does not verify: {exc}") from exc
        if opened.size != cp.size or opened.root != cp.root:
            raise _Bad(None, f"checkpoint row at size {cp.size} disagrees with its signed note")
        checkpoints.setdefault(cp.size, []).append((cp.root, "stored"))
    for cp in external:
        checkpoints.setdefault(cp.size, []).append((cp.root, "given"))
    sizes = sorted(checkpoints)
    span = 1 << level
    bounds = [(a, min(a + span, size)) for a in range(0, size, span)]
    if url is not None and workers > 1 and len(bounds) > 1:
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = [
                loop.run_in_executor(
                    pool,
                    _verify_range_in_process,
                    url,
                    role,
                    org.id,
                    org.origin,
                    a,
                    b,
                    level,
                    [s for s in sizes if a < s <= b],
                )
                for a, b in bounds
            ]
            results = await asyncio.gather(*futures)
    else:
        results = []
        async with store.connection() as conn:
            for a, b in bounds:
                results.append(
                    await verify_range(
                        conn, org.id, org.origin, a, b, level, [s for s in sizes if a < s <= b]
                    )
                )
                if results[-1].bad:
                    break
    frontier = await _join(store, org, results, checkpoints, size, state)
    last_hash = results[-1].last_hash if results else GENESIS_PREV_HASH
    await _check_head_and_tail(store, org, size, last_hash, frontier)
    await _check_running_totals(store, org, results, size)


async def _check_running_totals(
    store: Store, org: Organization, results: list[RangeResult], size: int
) -> None:
    """Balances, fund totals and corrected_by against the sums over every range."""
    balances: dict[tuple[str, str], int] = {}
    totals: dict[tuple[str, str], int] = {}
    expected: dict[int, int] = {}
    settings = None
    for r in results:
        if r.derived is None:
            continue
        if r.derived.settings is not None:  # ranges come in index order: the last one wins
            settings = r.derived.settings
        merge_sums(balances, r.derived.balances)
        merge_sums(totals, r.derived.totals)
        for corrected, by in r.derived.corrected_expected.items():
            if corrected in expected:
                raise _Bad(
                    by, f"entry {corrected} is corrected twice ({expected[corrected]}, {by})"
                )
            expected[corrected] = by
    try:
        async with store.connection() as conn:
            await check_totals(conn, org.id, size, balances, totals, expected, settings)
    except ProjectionMismatch as bad:
        raise _Bad(bad.index, bad.reason) from bad


async def _join(
    store: Store,
    org: Organization,
    results: list[RangeResult],
    checkpoints: dict[int, list],
    size: int,
    state: dict[str, int],
) -> tuple[bytes, ...]:
    """Link the ranges, check nodes above the range level and checkpoint roots; return the
    hashes of the whole tree's compact range."""
    frontier = _Frontier()
    prev = GENESIS_PREV_HASH
    pending = dict(checkpoints)

    vouched = [0]  # the largest size whose checkpoint root matched: entries before it hold

    def check_roots(at: int, root: bytes) -> None:
        for expected, what in pending.pop(at, []):
            if expected != root:
                # One root commits to all `at` leaves at once: the rewritten entry lies after
                # the last matching checkpoint, and nothing stored narrows it further when
                # the nodes and the head were rewritten too (README, "what it can name").
                first = vouched[0]
                held = (
                    f"the checkpoint at size {first} still matches"
                    if first
                    else "no earlier checkpoint matches"
                )
                raise _Bad(
                    first,
                    f"the log does not extend its checkpoint at size {at} ({what}): "
                    f"expected root {_b64(expected)}, recomputed {_b64(root)}; an entry "
                    f"in {first}..{at - 1} was rewritten ({held}), and the stored Merkle "
                    "nodes with it",
                )
            state["checked"] += 1
        vouched[0] = max(vouched[0], at)

    check_roots(0, merkle.EMPTY_ROOT)
    for r in results:
        state["size"] = r.start
        if r.first_prev and r.first_prev != prev:
            raise _Bad(r.start, "prev_hash does not link to the previous entry")
        if r.bad:
            index, reason = r.bad
            state["size"] = r.end
            raise _Bad(index, reason)
        for at in sorted(r.at_sizes):
            check_roots(at, frontier.root_with(r.at_sizes[at]))
        prev = r.last_hash
        state["size"] = r.end
        for lvl, h in r.frontier:
            frontier.add(lvl, h)
        if r.end < r.asked_end:
            above = [at for at in pending if at > r.end]
            if above:
                raise _Bad(r.end, _truncated(min(above), pending[min(above)], r.end))
            raise _Bad(r.end, f"expected entry {r.end}, found none: the head says {size} entries")
    # Nodes above the range level, recomputed here from the ranges' subtrees.
    high = frontier.completed
    async with store.connection() as conn:
        if high:
            found = await _node_mismatch(conn, org.id, high)
            if found is not None:
                lvl, idx = found
                raise _Bad(
                    idx << lvl,
                    f"Merkle node {(lvl, idx)} does not match the recomputed "
                    "tree: entries were rewritten",
                )
        stored_nodes = await audit.count_nodes_within(conn, org.id, size)
    expected_nodes = size - bin(size).count("1")
    if stored_nodes != expected_nodes:
        raise _Bad(None, f"expected {expected_nodes} Merkle nodes, found {stored_nodes}")
    if pending:
        at = min(pending)
        raise _Bad(size, _truncated(at, pending[at], size))
    return tuple(h for _, h in frontier.stack)


def _truncated(at: int, kinds: list[tuple[bytes, str]], size: int) -> str:
    what = (
        f"a checkpoint was signed at size {at}"
        if any(kind == "stored" for _, kind in kinds)
        else f"a checkpoint at size {at} was given"
    )
    return f"{what} but the log has only {size} entries: entries were deleted from the end"


async def _check_head_and_tail(
    store: Store, org: Organization, size: int, last_hash: bytes, frontier: tuple[bytes, ...]
) -> None:
    async with store.connection() as conn:
        max_index = await audit.max_index(conn, org.id)
        max_checkpoint = await audit.max_checkpoint(conn, org.id)
    head = await store.head(org.id)
    if max_checkpoint is not None and max_checkpoint > head.size:
        raise _Bad(
            head.size,
            f"a checkpoint was signed at size {max_checkpoint} but the log has "
            f"only {head.size} entries: entries were deleted from the end",
        )
    if max_index is not None and max_index >= head.size:
        raise _Bad(head.size, f"entry {max_index} lies beyond the log head (size {head.size})")
    if head.size == size and (head.head_hash != last_hash or tuple(head.frontier) != frontier):
        raise _Bad(max(size - 1, 0), f"log head (size {head.size}) disagrees with the entries")
    if head.size < size:
        raise _Bad(head.size, f"the log head moved back from {size} to {head.size}")


async def verify_all(
    store: Store,
    slug: str | None = None,
    *,
    url: str | None = None,
    role: str | None = None,
    workers: int = 1,
) -> list[LogReport]:
    """Verify one organization's log, or every organization's."""
    if slug is not None:
        orgs = [await store.organization(slug)]
    else:
        orgs = []
        after = 0
        while page := await store.organizations(after):
            orgs.extend(page)
            after = page[-1].id
    return [await verify_log(store, org, url=url, role=role, workers=workers) for org in orgs]
