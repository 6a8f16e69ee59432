"""Public proof endpoints: checkpoints, inclusion and consistency proofs, tlog-proofs,
the exported log, and a verification service for people without the command line.

Responses that can never change (a checkpoint at a size, a proof between fixed sizes) carry
a strong ETag and ``Cache-Control: public, max-age=31536000, immutable``.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream

from ledger import errors as E
from ledger.charity import acknowledgments, receipts
from ledger.charity.reversals import reversal_of
from ledger.errors import MalformedError, NotFoundError, VerificationError
from ledger.formats.canonical import format_time
from ledger.formats.note import Verifier, parse_vkey
from ledger.http.api import IndexPath, IndexQuery
from ledger.http.api import examples as X
from ledger.http.api.bodies import StrictBody
from ledger.http.api.contract import read
from ledger.http.services import Services
from ledger.journal import witnessing
from ledger.verify.acknowledgments import is_acknowledgment_file, verify_acknowledgment
from ledger.verify.offline import EntryProven, reversal_text, verify_receipt
from schemas.base import MAX_INDEX
from schemas.proofs import (
    AcknowledgmentFound,
    ConsistencyProof,
    InclusionProof,
    ReversalFound,
    VerifyRequest,
    VerifyResult,
)

IMMUTABLE = "public, max-age=31536000, immutable"
TEXT = "text/plain"
"""Litestar adds ``; charset=utf-8`` to every ``text/`` type itself."""


def immutable(
    request: Request, content: bytes, media_type: str, cache_control: str = IMMUTABLE
) -> Response[Any]:
    """A cacheable response: strong ETag, Cache-Control, and 304 on If-None-Match."""
    etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    base = {"ETag": etag, "Cache-Control": cache_control}
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers=base)
    return Response(content, media_type=media_type, headers=base)


def _b64(items: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in items]


class ProofController(Controller):
    path = "/v1/orgs/{slug:str}/log"

    @get(
        "/checkpoints/{size:int}",
        summary="The signed checkpoint at a tree size",
        media_type=TEXT,
        **read("getCheckpointAt", "log", cached=True),
    )
    async def checkpoint_at(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        size: IndexPath,
        request: Request,
    ) -> Response[str]:
        org = await services.organization(slug)
        cp = await services.reader.checkpoint_at(org.id, size)
        note = await witnessing.cosigned_note(services.reader, org.id, cp)
        # The checkpoint never changes, but witnesses may add cosignatures: revalidate.
        return immutable(request, note.encode(), TEXT, "public, max-age=60, must-revalidate")

    @get(
        "/proof/inclusion",
        summary="RFC 9162 inclusion proof of an entry at a tree size",
        **read("getInclusionProof", "proofs", raises=(E.RuleError,), cached=True),
    )
    async def inclusion(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        index: IndexQuery,
        size: Annotated[int, QueryParameter(ge=1, le=MAX_INDEX)],
    ) -> Response[InclusionProof]:
        org = await services.organization(slug)
        proof = await receipts.inclusion_proof(services.reader, org, index, size)
        leaf = (await services.reader.entry(org.id, index)).leaf_hash
        body = InclusionProof(
            index=index, size=size, leaf_hash=base64.b64encode(leaf).decode(), proof=_b64(proof)
        )
        return immutable(request, msgspec.json.encode(body), "application/json")

    @get(
        "/proof/consistency",
        summary="RFC 9162 consistency proof between two tree sizes",
        **read("getConsistencyProof", "proofs", raises=(E.RuleError,), cached=True),
    )
    async def consistency(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        old: IndexQuery,
        new: IndexQuery,
    ) -> Response[ConsistencyProof]:
        org = await services.organization(slug)
        proof = await receipts.consistency_proof(services.reader, org, old, new)
        body = ConsistencyProof(old=old, new=new, proof=_b64(proof))
        return immutable(request, msgspec.json.encode(body), "application/json")

    @get(
        "/entries/{index:int}/proof",
        summary="c2sp.org/tlog-proof@v1 of one entry (public)",
        media_type=TEXT,
        **read("getEntryProof", "proofs"),
    )
    async def entry_proof(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: IndexPath,
    ) -> Response[str]:
        org = await services.organization(slug)
        text = await receipts.tlog_proof(services.store, org, services.kek, index)
        return Response(
            text,
            media_type=TEXT,
            headers={"Content-Disposition": f'attachment; filename="{slug}-{index}.tlog-proof"'},
        )

    @get(
        "/export",
        summary="The whole log as JSON Lines (donation-ledger-export/v1)",
        media_type="application/x-ndjson",
        **read("exportLog", "log"),
    )
    async def export(self, services: NamedDependency[Services], slug: FromPath[str]) -> Stream:
        org = await services.organization(slug)
        return Stream(
            receipts.export_lines(services.reader, org),
            media_type="application/x-ndjson",
            headers={"Content-Disposition": f'attachment; filename="{slug}.ledger-export.jsonl"'},
        )


VERIFY_MAX_BODY = 1_100_000
"""Largest ``/v1/verify`` body: one receipt of at most 1,000,000 characters, 16 keys."""


@post(
    "/v1/verify",
    status_code=200,
    summary="Verify a receipt, tlog-proof or recipient's acknowledgment file (for people "
    "without the command line)",
    dto=StrictBody,  # strict decode: JSON only, no repeated keys (ledger.http.api.bodies)
    return_dto=None,
    request_max_body_size=VERIFY_MAX_BODY,
    **read("verifyReceipt", "proofs", body=True, example=X.VERIFY, raises=(E.MalformedError,)),
)
async def verify_endpoint(
    services: NamedDependency[Services], data: JSONBody[VerifyRequest]
) -> VerifyResult:
    pinned = bool(data.vkeys)
    verifiers: list[Verifier]
    if data.vkeys:
        verifiers = [parse_vkey(v) for v in data.vkeys]
    elif data.org:
        org = await services.organization(data.org)
        keys = await services.reader.public_keys(org.id)
        verifiers = [Verifier(k.name, k.key_id, k.public_key, 1) for k in keys]
    else:
        raise MalformedError("give the organization's vkeys (recommended) or its slug")
    if is_acknowledgment_file(data.receipt):
        return _verify_acknowledgment(data.receipt, verifiers, pinned)
    try:
        proven = verify_receipt(data.receipt, verifiers)
    except MalformedError:
        raise
    except VerificationError as exc:  # a verdict, not an error of the request
        return VerifyResult(ok=False, detail=str(exc), pinned=pinned)
    detail = "the entry is in the log at a checkpoint signed by " + ", ".join(proven.signed_by)
    reversal = proven.reversal
    if reversal is not None:
        detail += "; " + reversal_text(reversal)
    status = "reversed" if reversal else "counts" if proven.reversal_checked else "unknown"
    later = None if reversal else await _reversal_here(services, proven)
    if later is not None:
        detail += (
            f"; this server's log records that entry {later.index} reversed it on "
            f"{later.time[:10]} ({later.reason}), which the receipt does not prove: fetch a "
            "new receipt; the gift no longer counts"
        )
    return VerifyResult(
        ok=True,
        detail=detail,
        pinned=pinned,
        origin=proven.checkpoint.origin,
        index=proven.index,
        size=proven.checkpoint.size,
        signed_by=list(proven.signed_by),
        donor_opened=proven.donor_opened,
        entry=proven.document,
        status=status,
        reversed_by=ReversalFound(
            index=reversal.index,
            time=reversal.time,
            effective_on=reversal.day,
            reason=reversal.reason,
        )
        if reversal
        else None,
        reversed_later=later,
    )


def _verify_acknowledgment(text: str, verifiers: list[Verifier], pinned: bool) -> VerifyResult:
    """A recipient's acknowledgment file: every proof, the key's enrolment and the
    recipient's Ed25519 signature checked (docs/FORMAT.md section 8), and what it says in
    plain words."""
    try:
        ack = verify_acknowledgment(text, verifiers)
    except MalformedError:
        raise
    except VerificationError as exc:  # a verdict, not an error of the request
        return VerifyResult(ok=False, detail=str(exc), pinned=pinned)
    entry = ack.statement
    body = ack.disbursement.document["body"]
    return VerifyResult(
        ok=True,
        detail=f"{acknowledgments.said(ack, 'en')} The recipient's signature verifies; "
        f"{ack.text()}; the entries are in the log at a checkpoint signed by "
        + ", ".join(entry.signed_by),
        pinned=pinned,
        origin=entry.checkpoint.origin,
        index=entry.index,
        size=entry.checkpoint.size,
        signed_by=list(entry.signed_by),
        entry=entry.document,
        acknowledgment=AcknowledgmentFound(
            verdict=ack.verdict,  # type: ignore[arg-type]
            entry=entry.index,
            signed_at=str(entry.document.get("time")),
            disbursement=ack.disbursement.index,
            beneficiary=ack.beneficiary,
            beneficiary_name=ack.beneficiary_name,
            org_name=ack.org_name,
            key=ack.key_index,
            amount=body["amount"],
            received=ack.received,
            currency=body["currency"],
            minor_units=ack.disbursement.minor_units or 0,
            paid_on=body["paid_on"],
            says={lang: acknowledgments.said(ack, lang) for lang in ("id", "en")},
        ),
    )


async def _reversal_here(services: Services, proven: EntryProven) -> ReversalFound | None:
    """The correction of the proven entry that this server's copy of the same log records, if
    the log is hosted here (same origin) and has one."""
    slug = proven.checkpoint.origin.rsplit("/", 1)[-1]
    try:
        org = await services.organization(slug)
    except NotFoundError:
        return None
    if org.origin != proven.checkpoint.origin:
        return None
    found = await reversal_of(services.reader, org.id, proven.index)
    if found is None:
        return None
    return ReversalFound(
        index=found.index,
        time=format_time(found.recorded_at),
        effective_on=found.effective_on.isoformat(),
        reason=found.reason,
    )
