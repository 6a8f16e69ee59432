"""Reads of what an organization publishes beyond money: a fund's target (``fund.target``)
and the public, redacted copies of evidence (``evidence.published``) with the private
evidence they are linked to (``evidence.attached``) and their withdrawals
(``evidence.withdrawn``).

Straight from the log, through the ``entries_by_kind`` index (queries in
``sql/publication_queries.sql``): there is no projection to trust, so what the rules, the
API and the pages know of a target or a publication are the entries' own bytes. The
redacted files themselves live in ``evidence_files`` beside the originals (content-addressed);
only a hash named by an ``evidence.published`` entry that no ``evidence.withdrawn`` entry
took down is ever served to the public.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import asyncpg
import msgspec

from ledger.store.log import load_queries
from schemas import kinds
from schemas.base import MAX_INDEX
from schemas.charity import EvidenceBody, EvidencePublishedBody, EvidenceWithdrawnBody
from schemas.targets import FundTargetBody

Q = load_queries("publication_queries.sql")

_target = msgspec.json.Decoder(FundTargetBody)
_attached = msgspec.json.Decoder(EvidenceBody)
_published = msgspec.json.Decoder(EvidencePublishedBody)
_withdrawn = msgspec.json.Decoder(EvidenceWithdrawnBody)


async def fund_target(
    conn: asyncpg.Connection, org_id: int, code: str, size: int = MAX_INDEX
) -> tuple[int, FundTargetBody] | None:
    """The newest ``fund.target`` entry of fund ``code`` among the first ``size`` entries,
    with its index (None: the fund never recorded one)."""
    row = await conn.fetchrow(Q["fund_target"], org_id, code, size)
    if row is None:
        return None
    return row["idx"], _target.decode(row["body"])


@dataclass(frozen=True)
class Withdrawal:
    """An ``evidence.withdrawn`` entry: a public copy taken down."""

    index: int
    """The withdrawal entry's index."""
    time: dt.datetime
    """When it was recorded (the entry's ``time``)."""
    body: EvidenceWithdrawnBody
    """What it says: the published entry and the reason."""


@dataclass
class EvidenceLinks:
    """Evidence entries about some disbursements, in log order."""

    attached: list[tuple[int, EvidenceBody]] = field(default_factory=list)
    """``evidence.attached`` entries (the private originals), with their indexes."""
    published: list[tuple[int, EvidencePublishedBody]] = field(default_factory=list)
    """``evidence.published`` entries (the public copies), with their indexes."""
    withdrawn: dict[int, Withdrawal] = field(default_factory=dict)
    """The withdrawal of each withdrawn copy, by the ``evidence.published`` entry's index."""

    def withdrawal(self, published: int) -> Withdrawal | None:
        """How the copy published by entry ``published`` was withdrawn (None: still public)."""
        return self.withdrawn.get(published)

    def live_for(self, disbursement: int) -> list[tuple[int, EvidencePublishedBody]]:
        """The copies of ``disbursement``'s evidence still served (not withdrawn)."""
        return [(i, b) for i, b in self.published_for(disbursement) if i not in self.withdrawn]

    def attached_to(self, disbursement: int) -> set[str]:
        """The hex SHA-256 of every original attached to ``disbursement``."""
        return {b.sha256 for _, b in self.attached if b.disbursement == disbursement}

    def published_for(self, disbursement: int) -> list[tuple[int, EvidencePublishedBody]]:
        return [(i, b) for i, b in self.published if b.disbursement == disbursement]

    def status(self, disbursement: int) -> str:
        """``public`` (a redacted copy is served), ``withdrawn`` (every copy published was
        withdrawn), ``attached`` (evidence, all private) or ``none``."""
        if self.live_for(disbursement):
            return "public"
        if self.published_for(disbursement):
            return "withdrawn"
        return "attached" if self.attached_to(disbursement) else "none"


async def evidence_links(
    conn: asyncpg.Connection,
    org_id: int,
    disbursements: Iterable[int],
    digests: Iterable[str] = (),
) -> EvidenceLinks:
    """The evidence entries about ``disbursements``, or naming one of ``digests`` (hex)."""
    found = EvidenceLinks()
    rows = await conn.fetch(Q["evidence_links"], org_id, list(disbursements), list(digests))
    for r in rows:
        if r["kind"] == kinds.EVIDENCE_PUBLISHED:
            found.published.append((r["idx"], _published.decode(r["body"])))
        else:
            found.attached.append((r["idx"], _attached.decode(r["body"])))
    if found.published:
        found.withdrawn = await withdrawals(conn, org_id, [i for i, _ in found.published])
    return found


async def withdrawals(
    conn: asyncpg.Connection, org_id: int, published: Iterable[int]
) -> dict[int, Withdrawal]:
    """The withdrawal of each of the ``published`` entries that was withdrawn, by its index
    (the first one, should the log ever hold two)."""
    found: dict[int, Withdrawal] = {}
    for r in await conn.fetch(Q["evidence_withdrawals"], org_id, list(published)):
        body = _withdrawn.decode(r["body"])
        found.setdefault(body.published, Withdrawal(r["idx"], r["created_at"], body))
    return found


async def entry_kinds(
    conn: asyncpg.Connection, org_id: int, indexes: Iterable[int]
) -> dict[int, str]:
    """The kind of each of the entries ``indexes`` that exists."""
    rows = await conn.fetch(Q["entry_kinds"], org_id, list(indexes))
    return {r["idx"]: r["kind"] for r in rows}


@dataclass(frozen=True)
class WithdrawnFile:
    """A public copy that every publication of which was withdrawn: what the 410 says."""

    withdrawal: Withdrawal
    """The newest withdrawal."""


async def published_file(
    conn: asyncpg.Connection, org_id: int, digest: bytes
) -> tuple[str, bytes] | WithdrawnFile | None:
    """(content type, bytes) of a file an ``evidence.published`` entry made public and no
    withdrawal took down; ``WithdrawnFile`` when every publication of it was withdrawn; None
    for a private original or a hash the organization does not have."""
    row = await conn.fetchrow(Q["published_evidence_file"], org_id, digest)
    if row is not None:
        return row["content_type"], bytes(row["content"])
    published = [
        r["idx"] for r in await conn.fetch(Q["publications_of_file"], org_id, digest.hex())
    ]
    taken = await withdrawals(conn, org_id, published) if published else {}
    if published and all(i in taken for i in published):
        return WithdrawnFile(max(taken.values(), key=lambda w: w.index))
    return None
