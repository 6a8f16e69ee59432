"""Reads of what an organization publishes beyond money: a fund's target (``fund.target``)
and the public, redacted copies of evidence (``evidence.published``) with the private
evidence they are linked to (``evidence.attached``).

Straight from the log, through the ``entries_by_kind`` index (queries in
``sql/publication_queries.sql``): there is no projection to trust, so what the rules, the
API and the pages know of a target or a publication are the entries' own bytes. The
redacted files themselves live in ``evidence_files`` beside the originals (content-addressed);
only a hash named by an ``evidence.published`` entry is ever served to the public.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import asyncpg
import msgspec

from ledger.store.log import load_queries
from schemas import kinds
from schemas.base import MAX_INDEX
from schemas.charity import EvidenceBody, EvidencePublishedBody
from schemas.targets import FundTargetBody

Q = load_queries("publication_queries.sql")

_target = msgspec.json.Decoder(FundTargetBody)
_attached = msgspec.json.Decoder(EvidenceBody)
_published = msgspec.json.Decoder(EvidencePublishedBody)


async def fund_target(
    conn: asyncpg.Connection, org_id: int, code: str, size: int = MAX_INDEX
) -> tuple[int, FundTargetBody] | None:
    """The newest ``fund.target`` entry of fund ``code`` among the first ``size`` entries,
    with its index (None: the fund never recorded one)."""
    row = await conn.fetchrow(Q["fund_target"], org_id, code, size)
    if row is None:
        return None
    return row["idx"], _target.decode(row["body"])


@dataclass
class EvidenceLinks:
    """Evidence entries about some disbursements, in log order."""

    attached: list[tuple[int, EvidenceBody]] = field(default_factory=list)
    """``evidence.attached`` entries (the private originals), with their indexes."""
    published: list[tuple[int, EvidencePublishedBody]] = field(default_factory=list)
    """``evidence.published`` entries (the public copies), with their indexes."""

    def attached_to(self, disbursement: int) -> set[str]:
        """The hex SHA-256 of every original attached to ``disbursement``."""
        return {b.sha256 for _, b in self.attached if b.disbursement == disbursement}

    def published_for(self, disbursement: int) -> list[tuple[int, EvidencePublishedBody]]:
        return [(i, b) for i, b in self.published if b.disbursement == disbursement]

    def status(self, disbursement: int) -> str:
        """``public`` (a redacted copy is published), ``attached`` (evidence, all private)
        or ``none``."""
        if self.published_for(disbursement):
            return "public"
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
    return found


async def published_file(
    conn: asyncpg.Connection, org_id: int, digest: bytes
) -> tuple[str, bytes] | None:
    """(content type, bytes) of a file an ``evidence.published`` entry made public; None for
    a private original or a hash the organization does not have."""
    row = await conn.fetchrow(Q["published_evidence_file"], org_id, digest)
    return None if row is None else (row["content_type"], bytes(row["content"]))
