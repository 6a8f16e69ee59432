"""Reads of the compliance entries (``fund.classified``, ``fund.permit``, ``org.profile``;
migration 0023): straight from the log, through the ``entries_by_kind`` index.

There is no projection to trust: what the rules, the reports and the pages know of a fund's
classes and permits, and of the organization's legal identity, are the entries' own bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec

from ledger.store.log import Q
from schemas import kinds
from schemas.base import MAX_INDEX
from schemas.compliance import FundClassifiedBody, FundPermitBody, OrgProfileBody

_classified = msgspec.json.Decoder(FundClassifiedBody)
_permit = msgspec.json.Decoder(FundPermitBody)
_profile = msgspec.json.Decoder(OrgProfileBody)


class _Envelope(msgspec.Struct):
    body: msgspec.Raw


_envelope = msgspec.json.Decoder(_Envelope)


@dataclass
class ComplianceEntries:
    """An organization's compliance entries, in log order."""

    funds: list[tuple[int, FundClassifiedBody | FundPermitBody]] = field(default_factory=list)
    """Each fund's ``fund.classified`` and ``fund.permit`` entries, with their indexes."""
    profile: OrgProfileBody | None = None
    """The newest ``org.profile`` (None: the organization recorded none)."""
    profile_index: int | None = None


def decode_fund_entry(kind: str, body: bytes | str) -> FundClassifiedBody | FundPermitBody:
    """A fund compliance body from its JSON (the ``body`` member of an entry)."""
    return (_classified if kind == kinds.FUND_CLASSIFIED else _permit).decode(body)


def fund_entries_of(found: list[Any]) -> list[tuple[int, FundClassifiedBody | FundPermitBody]]:
    """``admit_lookups``'s ``compliance`` member ([idx, kind, body] triples) as bodies."""
    return [
        (idx, msgspec.convert(body, FundClassifiedBody if kind == kinds.FUND_CLASSIFIED else FundPermitBody))
        for idx, kind, body in found
    ]


async def compliance_entries(
    conn: asyncpg.Connection, org_id: int, size: int = MAX_INDEX
) -> ComplianceEntries:
    """The compliance entries of the log's first ``size`` entries (all by default)."""
    found = ComplianceEntries()
    for r in await conn.fetch(Q["compliance_entries"], org_id, size):
        body = _envelope.decode(r["body"]).body
        if r["kind"] == kinds.ORG_PROFILE:
            found.profile, found.profile_index = _profile.decode(body), r["idx"]
        else:
            found.funds.append((r["idx"], decode_fund_entry(r["kind"], body)))
    return found


async def amil_taken(
    conn: asyncpg.Connection, org_id: int, fund: str, amil_funds: list[str]
) -> int:
    """What zakat fund ``fund`` has transferred to the amil funds, net of corrections."""
    return await conn.fetchval(Q["amil_taken"], org_id, fund, amil_funds)
