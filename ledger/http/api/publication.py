"""What a charity publishes beyond its money entries: a fund's target (``fund.target``) and
redacted, public copies of disbursement evidence (``evidence.published``). Admin writes,
public reads; the rules are in ``ledger.charity.rules``, the reads in
``ledger.charity.targets`` and ``ledger.store.publication``.

A public copy is uploaded as the raw body (like evidence itself), with the original's hash
and what was redacted in the query: ``POST …/disbursements/{i}/public-evidence?original=<hex>
&redactions=<text>``. The Idempotency-Key is bound to the body *and* that query.

A copy is taken down with ``POST …/public-evidence/{index}/withdraw`` (``index``: the
``evidence.published`` entry; body ``{"reason": …}``), which records ``evidence.withdrawn``:
the file then answers 410 Gone, and both entries stay in the log.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from ledger import errors as E
from ledger.charity import targets
from ledger.charity.acknowledgments import local_today
from ledger.charity.evidence import check
from ledger.charity.recording import check_key, record, request_hash
from ledger.charity.rules import Command
from ledger.http.api import IndexPath
from ledger.http.api import contract as C
from ledger.http.api.admin import EVIDENCE_TYPES
from ledger.http.api.bodies import StrictBody
from ledger.http.api.contract import read, write
from ledger.http.api.writes import IdempotencyKey, append_one, reply
from ledger.http.auth import guard
from ledger.http.services import Services
from ledger.store import publication as PUB
from schemas.charity import (
    EvidencePublishedBody,
    EvidenceWithdrawal,
    EvidenceWithdrawnBody,
    Recorded,
)
from schemas.targets import FundTargetSet, FundTargetView

TARGET_EXAMPLE: dict[str, Any] = {
    "amount": 50_000_000_00,
    "currency": "IDR",
    "deadline": "2026-12-31",
    "note": "Renovasi asrama LKSA Harapan Bunda",
}
PUBLIC_COPY_EXAMPLE = "%PDF-1.7 (the redacted copy: a PDF, JPEG or PNG file)"
WITHDRAWAL_EXAMPLE: dict[str, Any] = {"reason": "nama anak masih terbaca di halaman 2"}
WITHDRAWN = "the public copy {sha256} was withdrawn on {day} (entry {index}): {reason}"
"""What a withdrawn file's 410 says (catalog: Indonesian)."""
SHA256_HEX = re.compile(r"[0-9a-f]{64}")

OriginalQuery = Annotated[
    str,
    QueryParameter(
        description="SHA-256 (64 lowercase hex digits) of the original evidence, already "
        "attached to this disbursement (POST …/disbursements/{index}/evidence)",
        pattern="^[0-9a-f]{64}$",
        min_length=64,
        max_length=64,
    ),
]
RedactionsQuery = Annotated[
    str,
    QueryParameter(
        description='What was blacked out, in short words (e.g. "nomor rekening, tanda '
        'tangan"); shown on the public page',
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
    ),
]


class PublicationController(Controller):
    path = "/v1/orgs/{slug:str}"
    guards = [guard]
    dto = StrictBody
    return_dto = None

    @post(
        "/funds/{code:str}/target",
        summary="Set, change or clear (amount null) a fund's fundraising target (admin)",
        **write(
            "setFundTarget",
            "funds",
            roles=C.ADMIN,
            example=TARGET_EXAMPLE,
            raises=(E.UnknownFundError, E.CurrencyMismatchError),
        ),
    )
    async def set_target(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        code: FromPath[str],
        request: Request,
        data: JSONBody[FundTargetSet],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        return await append_one(services, slug, request, data.body(code), idempotency_key)

    @get(
        "/funds/{code:str}/target",
        summary="A fund's target against what it raised (percent, days left)",
        **read("getFundTarget", "funds"),
    )
    async def target(
        self, services: NamedDependency[Services], slug: FromPath[str], code: FromPath[str]
    ) -> FundTargetView:
        org = await services.organization(slug)
        return await targets.target_view(services.reader, org, code, services.clock())

    @post(
        "/disbursements/{index:int}/public-evidence",
        summary="Publish a redacted copy (PDF, JPEG, PNG) of a disbursement's evidence, "
        "hash-linked to the original, which stays private (admin)",
        **write(
            "publishEvidence",
            "evidence",
            roles=C.ADMIN,
            example=PUBLIC_COPY_EXAMPLE,
            body_media=(*EVIDENCE_TYPES, "application/octet-stream"),
            raises=(E.NotCorrectableError, E.EvidenceLinkError),
        ),
    )
    async def publish(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: IndexPath,
        request: Request,
        original: OriginalQuery,
        redactions: RedactionsQuery,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        org = await services.organization(slug)
        content = await request.body()
        key = check_key(idempotency_key)
        digest, content_type = check(content, services.settings.max_evidence_bytes, public=True)
        body = EvidencePublishedBody(
            disbursement=index,
            original=original,
            sha256=digest.hex(),
            content_type=content_type,  # type: ignore[arg-type]
            size=len(content),
            redactions=redactions,
        )
        bound = f"{request.url.path}?{urlencode({'original': original, 'redactions': redactions})}"
        cmd = Command.of(body, key, request_hash(request.method, bound, content), evidence=content)
        return reply(await record(services, org, cmd))

    @post(
        "/public-evidence/{index:int}/withdraw",
        summary="Withdraw a published copy of evidence (index: its evidence.published entry) "
        "with a reason; the file then answers 410 Gone, the entries stay (admin)",
        **write(
            "withdrawEvidence",
            "evidence",
            roles=C.ADMIN,
            example=WITHDRAWAL_EXAMPLE,
            raises=(E.NotPublishedError, E.AlreadyWithdrawnError),
        ),
    )
    async def withdraw(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: IndexPath,
        request: Request,
        data: JSONBody[EvidenceWithdrawal],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        body = EvidenceWithdrawnBody(published=index, reason=data.reason)
        return await append_one(services, slug, request, body, idempotency_key)

    @get(
        "/public-evidence/{sha256:str}",
        summary="Download a published (redacted) evidence file by its SHA-256",
        **read(
            "getPublicEvidence",
            "evidence",
            raises=(E.RuleError, E.GoneError),
            success_media=EVIDENCE_TYPES,
        ),
    )
    async def public_evidence(
        self, services: NamedDependency[Services], slug: FromPath[str], sha256: FromPath[str]
    ) -> Response[bytes]:
        org = await services.organization(slug)
        if not SHA256_HEX.fullmatch(sha256):
            raise E.RuleError("expected the file's SHA-256 as 64 lowercase hex digits")
        async with services.reader.connection() as conn:
            found = await PUB.published_file(conn, org.id, bytes.fromhex(sha256))
        if found is None:
            raise E.NotFoundError(f"no published evidence file {sha256} in {org.slug}")
        if isinstance(found, PUB.WithdrawnFile):
            w = found.withdrawal
            raise E.GoneError.of(
                WITHDRAWN,
                sha256=sha256,
                day=local_today(w.time).isoformat(),  # the organization's date (WIB)
                index=w.index,
                reason=w.body.reason,
            )
        content_type, content = found
        extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
        return Response(
            content,
            media_type=content_type,
            headers={
                "X-Content-SHA256": sha256,
                "ETag": f'"{sha256}"',
                # The bytes never change, but the copy can be withdrawn (410): caches keep it
                # at most five minutes, then revalidate (the ETag is the hash).
                "Cache-Control": "public, max-age=300",
                "Content-Disposition": (
                    f'inline; filename="bukti-{sha256[:12]}.{extension[content_type]}"'
                ),
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "X-Content-Type-Options": "nosniff",
            },
        )
