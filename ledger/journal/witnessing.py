"""The log side of witnessing: submit each new checkpoint to the organization's witnesses
(c2sp.org/tlog-witness ``add-checkpoint``) with a consistency proof from the size each last
cosigned, verify the cosignature lines they return, and keep them with the checkpoint.

Served checkpoints (and so receipts and statements) carry every cosignature collected by
the time they are served. A witness that is down or refuses is reported and retried with
the next checkpoint; the log keeps working without it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass

import httpx

from ledger.errors import LedgerError, MalformedError
from ledger.formats import merkle
from ledger.formats.note import open_note, parse_vkey
from ledger.store import witnessing as W
from ledger.store.log import Organization, Store, StoredCheckpoint

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class WitnessOutcome:
    """What one witness answered for one checkpoint."""

    witness: str
    """Witness name."""
    status: int
    """HTTP status (0 when unreachable)."""
    detail: str
    """Cosigned, or why not."""


async def add_witness(store: Store, org: Organization, name: str, url: str, vkey: str) -> None:
    key = parse_vkey(vkey, 0x04)
    if key.name != name:
        raise MalformedError(f"the vkey is for {key.name!r}, not {name!r}")
    async with store.connection() as conn:
        await W.add_witness(conn, org.id, name, url.rstrip("/"), vkey)


async def cosigned_note(store: Store, org_id: int, cp: StoredCheckpoint) -> str:
    """The checkpoint note with every verified cosignature line appended."""
    async with store.connection() as conn:
        lines = await W.cosignature_lines(conn, org_id, cp.size)
    return cp.note + lines


async def _proof(store: Store, org: Organization, old: int, new: int) -> list[bytes]:
    if old == 0 or old == new:
        return []
    nodes = await store.nodes(org.id, merkle.consistency_nodes(old, new))
    return merkle.consistency_proof(old, new, nodes)


def _body(old: int, proof: list[bytes], note: str) -> bytes:
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


async def _submit(
    store: Store,
    org: Organization,
    cp: StoredCheckpoint,
    witness: W.LogWitness,
    old: int,
    http: httpx.AsyncClient,
) -> WitnessOutcome:
    name, url = witness.name, witness.url
    key = parse_vkey(witness.vkey, 0x04)
    for _ in range(2):  # a 409 tells the size the witness holds; retry once from there
        if old > cp.size:
            return WitnessOutcome(name, 409, f"the witness holds size {old}, above {cp.size}")
        proof = await _proof(store, org, old, cp.size)
        try:
            r = await http.post(f"{url}/add-checkpoint", content=_body(old, proof, cp.note))
        except httpx.HTTPError as exc:
            return WitnessOutcome(name, 0, f"unreachable: {exc}")
        if r.status_code == 409 and r.headers.get("content-type", "").startswith(
            "text/x.tlog.size"
        ):
            old = int(r.text.strip())
            continue
        if r.status_code != 200:
            return WitnessOutcome(name, r.status_code, r.text.strip()[:200])
        try:
            _, used = open_note(cp.note + r.text, [key])
        except LedgerError as exc:
            return WitnessOutcome(name, 200, f"returned an invalid cosignature: {exc}")
        lines = [ln + "\n" for ln in r.text.splitlines() if ln.startswith(f"— {name} ")]
        if not used or not lines:
            return WitnessOutcome(name, 200, "returned no cosignature by its key")
        async with store.connection() as conn:
            await W.add_cosignature(conn, org.id, cp.size, name, lines[0])
        return WitnessOutcome(name, 200, "cosigned")
    return WitnessOutcome(name, 409, "the witness keeps reporting another size")


async def witness_checkpoint(
    store: Store, org: Organization, cp: StoredCheckpoint, http: httpx.AsyncClient | None = None
) -> list[WitnessOutcome]:
    """Submit ``cp`` to every witness of the organization, concurrently."""
    async with store.connection() as conn:
        witnesses = await W.witnesses_of(conn, org.id)
        last = await W.last_cosigned(conn, org.id)
    if not witnesses:
        return []
    own = http is None
    client = http or httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
    try:
        outcomes = await asyncio.gather(
            *(_submit(store, org, cp, w, last.get(w.name, 0), client) for w in witnesses)
        )
    finally:
        if own:
            await client.aclose()
    for o in outcomes:
        if o.detail != "cosigned":
            log.warning(
                "witness %s did not cosign %s at %d: %s", o.witness, org.slug, cp.size, o.detail
            )
    return list(outcomes)
