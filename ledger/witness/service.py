"""A witness: c2sp.org/tlog-witness ``add-checkpoint``, answering with c2sp.org/tlog-cosignature.

An independent party (a public accountant, a donor association, a zakat body) runs
``ledger witness serve``. For each log it follows it keeps the latest checkpoint it
cosigned, and cosigns a new one only if a consistency proof shows it extends that one.
Checking the old size and moving the state happen in one transaction under a row lock
(``lock_state``), and the state is committed before the answer is sent, so two concurrent
requests can never make it cosign checkpoints that contradict each other.

``GET /<sha256 of the origin, hex>/checkpoint`` serves the latest checkpoint it cosigned for
a log, with the log's signatures and the witness's cosignature (tlog-witness, monitor
retrieval; 404 if it never cosigned one for that log). The cosignature is made again from
the recorded timestamp: Ed25519 is deterministic, so it is the line add-checkpoint returned.

Content types are exact: ``text/x.tlog.size`` for a 409 (the spec's MUST; clients compare
the string), ``text/plain; charset=utf-8`` otherwise.

Statuses (spec): 400 malformed or old size above the checkpoint size; 403 no valid
signature by a trusted log key (or a bad one by a trusted key); 404 unknown origin; 409 old
size is not the witness's latest (body: that size, ``text/x.tlog.size``); 422 bad
consistency proof, or a non-empty proof from size 0, or a size-0 checkpoint with a non-empty
root; 200 with the cosignature line(s).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath

from ledger.errors import ConsistencyProofError, MalformedError, SignatureError
from ledger.formats import merkle
from ledger.formats.checkpoint import Checkpoint, parse_checkpoint
from ledger.formats.note import (
    CosignatureSigner,
    NoteSignature,
    format_cosignature_vkey,
    open_note,
    parse_note,
    parse_vkey,
)
from ledger.journal.keys import seal, unseal
from ledger.store import witness as WS
from ledger.store.database import connect
from ledger.store.migrate import WITNESS, check

MAX_PROOF_LINES = 63
SIZE_MEDIA_TYPE = "text/x.tlog.size"
TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"
_ORIGIN_HASH = re.compile(r"^[0-9a-f]{64}$")
_SEAL_ID = b"witn"


@dataclass(frozen=True)
class Answer:
    """An add-checkpoint answer."""

    status: int
    """HTTP status."""
    body: str
    """Text body."""
    media_type: str = TEXT_MEDIA_TYPE
    """The exact Content-Type header (``text/x.tlog.size`` for 409)."""

    def response(self) -> Response[str]:
        # An explicit header: Litestar would append "; charset=utf-8" to any text/ type.
        return Response(
            self.body, status_code=self.status, headers={"Content-Type": self.media_type}
        )


@dataclass(frozen=True)
class Submission:
    """A parsed add-checkpoint request body."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str
    checkpoint: Checkpoint


def parse_submission(body: bytes) -> Submission:
    """Strict parse of ``old N\\n<proof lines>\\n\\n<checkpoint>``; MalformedError otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedError("the request body must be UTF-8") from exc
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise MalformedError("expected an empty line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    digits = first[4:]
    if not first.startswith("old ") or not digits.isdigit() or (digits != "0" and digits[0] == "0"):
        raise MalformedError("expected the first line to be 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise MalformedError(f"at most {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in lines[1:]:
        try:
            digest = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedError("a proof line is not base64") from exc
        if len(digest) != 32:
            raise MalformedError("a proof line is not a 32-byte hash")
        proof.append(digest)
    parsed = parse_note(note)
    return Submission(int(digits), tuple(proof), note, parse_checkpoint(parsed.text))


class Witness:
    """The witness's state: a pool on its database and its cosigning key."""

    def __init__(self, pool: asyncpg.Pool, signer: CosignatureSigner) -> None:
        self.pool = pool
        self.signer = signer

    @property
    def vkey(self) -> str:
        return format_cosignature_vkey(self.signer.name, self.signer.public_key)

    async def add_checkpoint(self, body: bytes) -> Answer:
        try:
            sub = parse_submission(body)
        except MalformedError as exc:
            return Answer(400, f"{exc}\n")
        origin = sub.checkpoint.origin
        async with self.pool.acquire() as conn, conn.transaction():
            vkeys = await WS.log_keys(conn, origin)
            if vkeys is None:
                return Answer(404, f"unknown log {origin}\n")
            try:
                open_note(sub.note, [parse_vkey(v) for v in vkeys])
            except (SignatureError, MalformedError) as exc:
                return Answer(403, f"{exc}\n")
            answer = await self._check_and_cosign(conn, sub)
            if answer.status not in (200, 409):
                await WS.record_refusal(
                    conn,
                    origin,
                    answer.status,
                    answer.body.strip(),
                    body.decode("utf-8", "replace"),
                )
            # Commit point: the new state and the evidence row are durable before we answer.
        return answer

    async def _check_and_cosign(self, conn: asyncpg.Connection, sub: Submission) -> Answer:
        cp = sub.checkpoint
        if sub.old_size > cp.size:
            return Answer(400, f"old size {sub.old_size} is above the checkpoint size {cp.size}\n")
        state = await WS.lock_state(conn, cp.origin)
        if sub.old_size != state.size:
            return Answer(409, f"{state.size}\n", SIZE_MEDIA_TYPE)
        if cp.size == 0 and cp.root != merkle.EMPTY_ROOT:
            return Answer(422, "a checkpoint of size 0 must have the empty tree's root\n")
        if sub.old_size == 0 and sub.proof:
            return Answer(422, "the proof from size 0 must be empty\n")
        if sub.old_size > 0:
            try:
                merkle.verify_consistency(sub.old_size, cp.size, state.root, cp.root, sub.proof)
            except (ConsistencyProofError, MalformedError) as exc:
                return Answer(422, f"{exc}\n")
        timestamp = int(time.time())
        line = self._cosignature(cp, timestamp)
        await WS.advance_state(conn, cp.origin, cp.size, cp.root, sub.note, timestamp)
        return Answer(200, line)

    def _cosignature(self, cp: Checkpoint, timestamp: int) -> str:
        signature = self.signer.sign(cp.body(), timestamp)
        return NoteSignature(self.signer.name, self.signer.key_id, signature).line()

    async def latest(self, origin_hash: str) -> Answer:
        """The latest checkpoint cosigned for the log whose origin has this SHA-256 (hex):
        the note as submitted (the log's signatures) plus this witness's cosignature."""
        if not _ORIGIN_HASH.fullmatch(origin_hash):
            return Answer(404, "expected the SHA-256 of a log origin, lowercase hex\n")
        async with self.pool.acquire() as conn:
            latest = await WS.latest_cosigned(conn, origin_hash)
        if latest is None:
            return Answer(404, "this witness has cosigned no checkpoint of that log\n")
        cp = parse_checkpoint(parse_note(latest.checkpoint).text)
        return Answer(200, latest.checkpoint + self._cosignature(cp, latest.timestamp))


async def init_key(conn: asyncpg.Connection, kek: bytes, name: str) -> CosignatureSigner:
    """Generate the witness's key (once); returns the signer."""
    key = await WS.witness_key(conn, name)
    if key is None:
        seed = secrets.token_bytes(32)
        signer = CosignatureSigner.from_seed(name, seed)
        await WS.insert_witness_key(conn, name, signer.public_key, seal(kek, 0, _SEAL_ID, seed))
        return signer
    return CosignatureSigner.from_seed(name, unseal(kek, 0, _SEAL_ID, key.sealed_seed))


async def load_signer(conn: asyncpg.Connection, kek: bytes) -> CosignatureSigner:
    key = await WS.any_witness_key(conn)
    if key is None:
        raise MalformedError("this witness has no key yet: run `ledger witness init --name NAME`")
    return CosignatureSigner.from_seed(key.name, unseal(kek, 0, _SEAL_ID, key.sealed_seed))


async def add_log(conn: asyncpg.Connection, origin: str, vkeys: list[str]) -> None:
    """Follow a log: trust these keys for its checkpoints (re-adding replaces the keys)."""
    for vkey in vkeys:
        if parse_vkey(vkey).name != origin:
            raise MalformedError(f"key {vkey} is not named after the origin {origin}")
    async with conn.transaction():
        await WS.add_log(conn, origin, vkeys)


def create_witness_app(url: str, kek: bytes) -> Litestar:
    """The witness's HTTP service (spec paths under the submission prefix ``/``)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        conn = await connect(url)
        try:
            await check(conn, WITNESS)
            signer = await load_signer(conn, kek)
        finally:
            await conn.close()
        pool = await asyncpg.create_pool(url, min_size=1, max_size=10)
        app.state.witness = Witness(pool, signer)
        try:
            yield
        finally:
            await pool.close()

    @post("/add-checkpoint", status_code=200)
    async def add_checkpoint(request: Request) -> Response[str]:
        witness: Witness = request.app.state.witness
        return (await witness.add_checkpoint(await request.body())).response()

    @get("/{origin_hash:str}/checkpoint")
    async def latest(request: Request, origin_hash: FromPath[str]) -> Response[str]:
        witness: Witness = request.app.state.witness
        return (await witness.latest(origin_hash)).response()

    @get("/")
    async def info(request: Request) -> Response[str]:
        return Answer(200, request.app.state.witness.vkey + "\n").response()

    return Litestar(
        route_handlers=[add_checkpoint, latest, info], lifespan=[lifespan], openapi_config=None
    )
