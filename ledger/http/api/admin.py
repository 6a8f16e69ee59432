"""Organization administration and restricted reads: API keys, donor erasure, evidence,
donor records (auditor)."""

from __future__ import annotations

import base64
import re
import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from ledger import errors as E
from ledger.charity import documents, mygift, receipts, staff
from ledger.charity.donors import email_lookup, erase, phone_lookup
from ledger.charity.evidence import check
from ledger.charity.recording import check_key, record, request_hash
from ledger.charity.rules import Command
from ledger.errors import NotFoundError, RuleError
from ledger.http.api import IndexPath
from ledger.http.api import contract as C
from ledger.http.api import examples as X
from ledger.http.api.bodies import StrictBody
from ledger.http.api.contract import read, write
from ledger.http.api.writes import IdempotencyKey, command, keyed, reply
from ledger.http.auth import Principal, guard
from ledger.http.services import Services
from ledger.store import charity as P
from schemas import kinds
from schemas.charity import (
    AnnualReceiptRequest,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyView,
    DonorErase,
    Erased,
    EvidenceBody,
    OrgSettingsChange,
    Recorded,
)

TEXT = "text/plain"
"""Litestar adds ``; charset=utf-8`` to every ``text/`` type itself."""
EVIDENCE_TYPES = ("application/pdf", "image/jpeg", "image/png")


def _pdf(content: bytes, filename: str) -> Response[bytes]:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _caller(request: Request) -> staff.ApiCaller:
    """The admin key calling (``ledger.http.auth.guard`` authenticated it): the issuer an
    ``api_key.issued`` or ``api_key.revoked`` entry names."""
    principal: Principal = request.scope["state"]["principal"]
    return staff.ApiCaller(principal.key_id)


class AdminController(Controller):
    path = "/v1/orgs/{slug:str}"
    guards = [guard]
    dto = StrictBody  # JSON bodies decoded once, strictly (ledger.http.api.bodies)
    return_dto = None

    @post(
        "/api-keys",
        summary="Issue an API key; its text is shown only once (admin)",
        **read("createApiKey", "api-keys", roles=C.ADMIN, body=True, example=X.API_KEY),
    )
    async def create_key(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[ApiKeyCreate],
    ) -> ApiKeyCreated:
        org = await services.organization(slug)
        key_id, text = await staff.issue_api_key(
            services.store, org, data.role, data.label, _caller(request), clock=services.clock
        )
        return ApiKeyCreated(id=str(key_id), key=text, role=data.role, label=data.label)

    @post(
        "/settings",
        summary="Record the organization's time zone and books-open date as an org.settings "
        "entry (admin)",
        **write(
            "recordOrgSettings",
            "organizations",
            roles=C.ADMIN,
            example=X.ORG_SETTINGS,
            raises=(E.RuleError,),
        ),
    )
    async def settings(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[OrgSettingsChange],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        # A change, not yet a body: the calendar's rule completes the members it leaves out
        # with the current ones under the head lock (ledger.formats.valuedates.admit).
        change = msgspec.to_builtins(data)
        cmd = Command(kinds.ORG_SETTINGS, change, *await keyed(request, idempotency_key))
        return reply(await record(services, await services.organization(slug), cmd))

    @get(
        "/api-keys",
        summary="List API keys, without secrets (admin)",
        **read("listApiKeys", "api-keys", roles=C.ADMIN),
    )
    async def list_keys(
        self, services: NamedDependency[Services], slug: FromPath[str]
    ) -> list[ApiKeyView]:
        org = await services.organization(slug)
        async with services.store.connection() as conn:
            rows = await P.list_api_keys(conn, org.id)
        return [
            ApiKeyView(
                id=str(r.id),
                prefix=r.prefix,
                role=r.role,
                label=r.label,  # type: ignore[arg-type]
                created_at=r.created_at,
                revoked_at=r.revoked_at,
            )  # type: ignore[arg-type]
            for r in rows
        ]

    @delete(
        "/api-keys/{key_id:str}",
        status_code=204,
        summary="Revoke an API key (admin)",
        **read("revokeApiKey", "api-keys", roles=C.ADMIN),
    )
    async def revoke_key(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        key_id: FromPath[str],
        request: Request,
    ) -> None:
        org = await services.organization(slug)
        try:
            parsed = uuid.UUID(key_id)
        except ValueError as exc:
            raise NotFoundError(f"no API key {key_id!r}") from exc
        await staff.revoke_api_key(
            services.store, org, parsed, _caller(request), clock=services.clock
        )
        services.keys.forget()

    @post(
        "/donors/erase",
        status_code=200,
        summary="Erase a donor's personal data (UU PDP); totals and proofs stay valid (admin)",
        **write(
            "eraseDonor", "donors", roles=C.ADMIN, example=X.DONOR_ERASE, raises=(E.RuleError,)
        ),
    )
    async def erase_donor(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[DonorErase],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Erased]:
        key = check_key(idempotency_key)
        digest = request_hash(request.method, request.url.path, await request.body())
        org = await services.organization(slug)
        return reply(await erase(services, org, data.email, data.phone, key, digest))

    @get(
        "/donations/{index:int}/donor",
        summary="A donation's donor record and commitment opening (auditor)",
        **read("getDonorRecord", "donors", roles=C.AUDITOR),
    )
    async def donor(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: IndexPath,
    ) -> dict[str, Any]:
        org = await services.organization(slug)
        async with services.store.connection() as conn:
            found = await P.donor_record(conn, org.id, index)
        if found is None:
            raise NotFoundError(f"entry {index} has no donor record")
        salt, personal, erased_at = found
        return {
            "donation": index,
            "salt": base64.b64encode(salt).decode() if salt else None,
            "personal": personal,
            "erased_at": erased_at.isoformat() if erased_at else None,
        }

    @get(
        "/donations/{index:int}/receipt",
        summary="The donor receipt: tlog-proof plus the opening of the donor commitment",
        **read("getReceipt", "receipts", roles=C.AUDITOR),
    )
    async def receipt(
        self, services: NamedDependency[Services], slug: FromPath[str], index: IndexPath
    ) -> dict[str, Any]:
        org = await services.organization(slug)
        return await receipts.receipt(services.store, org, services.kek, index)

    @get(
        "/donations/{index:int}/receipt.tlog-proof",
        summary="The receipt's c2sp.org/tlog-proof file",
        media_type=TEXT,
        **read("getReceiptTlogProof", "receipts", roles=C.AUDITOR),
    )
    async def receipt_file(
        self, services: NamedDependency[Services], slug: FromPath[str], index: IndexPath
    ) -> Response[str]:
        org = await services.organization(slug)
        data = await receipts.receipt(services.store, org, services.kek, index)
        filename = f"receipt-{slug}-{index}.tlog-proof"
        return Response(
            data["tlog_proof"],
            media_type=TEXT,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @get(
        "/donations/{index:int}/receipt.pdf",
        summary="The donor receipt as a PAdES-signed PDF (lang=id|en), proof attached",
        media_type="application/pdf",
        **read("getReceiptPdf", "receipts", roles=C.AUDITOR),
    )
    async def receipt_pdf(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: IndexPath,
        lang: Annotated[Literal["id", "en"], QueryParameter()] = "id",
    ) -> Response[bytes]:
        org = await services.organization(slug)
        pdf = await documents.receipt_pdf(
            services.store, org, services.kek, index, lang, services.settings.signed_link_base()
        )
        return _pdf(pdf, f"receipt-{slug}-{index}-{lang}.pdf")

    @get(
        "/donations/{index:int}/receipt-link",
        summary="The donor's receipt code and the link that opens their gift (to send them)",
        **read("getReceiptLink", "receipts", roles=C.AUDITOR),
    )
    async def receipt_link(
        self, services: NamedDependency[Services], slug: FromPath[str], index: IndexPath
    ) -> dict[str, Any]:
        org = await services.organization(slug)
        return await mygift.receipt_link(
            services.store, org, services.kek, index, services.settings.public_url
        )

    @post(
        "/annual-receipts",
        status_code=200,
        summary="One donor's donations in a year as a signed PDF, every proof attached",
        media_type="application/pdf",
        **read(
            "getAnnualReceiptPdf",
            "receipts",
            roles=C.AUDITOR,
            body=True,
            example=X.ANNUAL_RECEIPT,
            raises=(E.RuleError,),
        ),
    )
    async def annual_receipt(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[AnnualReceiptRequest],
    ) -> Response[bytes]:
        org = await services.organization(slug)
        lookups = [x for x in (email_lookup(data.email), phone_lookup(data.phone)) if x]
        if not lookups:
            raise RuleError("give the email or the phone number the donor used")
        pdf = await documents.annual_receipt_pdf(
            services.store,
            org,
            services.kek,
            lookups,
            data.year,
            data.lang,
            services.settings.signed_link_base(),
        )
        return _pdf(pdf, f"annual-receipt-{slug}-{data.year}-{data.lang}.pdf")

    @post(
        "/disbursements/{index:int}/evidence",
        summary="Attach an evidence file (PDF, JPEG, PNG) to a disbursement (recorder)",
        **write(
            "attachEvidence",
            "evidence",
            roles=C.RECORDER,
            example=X.EVIDENCE,
            body_media=(*EVIDENCE_TYPES, "application/octet-stream"),
            raises=(E.NotCorrectableError,),
        ),
    )
    async def attach_evidence(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: IndexPath,
        request: Request,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        org = await services.organization(slug)
        content = await request.body()
        digest, content_type = check(content, services.settings.max_evidence_bytes)
        body = EvidenceBody(
            disbursement=index,
            sha256=digest.hex(),
            content_type=content_type,  # type: ignore[arg-type]
            size=len(content),
        )
        cmd = await command(request, body, idempotency_key, evidence=content)
        return reply(await record(services, org, cmd))

    @get(
        "/evidence/{sha256:str}",
        summary="Download an evidence file by its SHA-256",
        **read(
            "getEvidence",
            "evidence",
            roles=C.READERS,
            raises=(E.RuleError,),
            success_media=EVIDENCE_TYPES,
        ),
    )
    async def evidence(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        sha256: FromPath[str],
    ) -> Response[bytes]:
        org = await services.organization(slug)
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise RuleError("expected the file's SHA-256 as 64 lowercase hex digits")
        digest = bytes.fromhex(sha256)
        async with services.store.connection() as conn:
            found = await P.evidence_file(conn, org.id, digest)
        if found is None:
            raise NotFoundError(f"no evidence file {sha256} in {org.slug}")
        content_type, content = found
        return Response(
            content,
            media_type=content_type,
            headers={
                "X-Content-SHA256": sha256,
                "Cache-Control": "private, max-age=31536000, immutable",
            },
        )
