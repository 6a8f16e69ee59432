"""Compliance routes: a fund's classes and fundraising permit, the organization's legal
profile (admin writes, public reads). Rules in ``ledger.charity.rules``; reads in
``ledger.charity.compliance``."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from ledger import errors as E
from ledger.charity import compliance
from ledger.http.api import contract as C
from ledger.http.api.bodies import StrictBody
from ledger.http.api.contract import read, write
from ledger.http.api.writes import IdempotencyKey, append_one
from ledger.http.auth import guard
from ledger.http.services import Services
from schemas.charity import Recorded
from schemas.compliance import (
    FundClassifiedBody,
    FundClassify,
    FundCompliance,
    FundPermitBody,
    FundPermitRecord,
    OrgProfileChange,
    OrgProfileView,
)

CLASSIFY_EXAMPLE: dict[str, Any] = {
    "restriction": "with",
    "zakat_class": "zakat",
    "tax_category": "zakat",
}
PERMIT_EXAMPLE: dict[str, Any] = {
    "number": "460/123/PUB/DINSOS/2026",
    "issuer": "Dinas Sosial Provinsi DKI Jakarta",
    "valid_from": "2026-09-01",
    "valid_until": "2026-11-30",
}
PROFILE_EXAMPLE: dict[str, Any] = {
    "legal_name": "Yayasan Senyum Anak Nusantara",
    "npwp": "012345678901000",
    "address": "Jl. Melati No. 5, Jakarta Selatan",
    "zakat_license": "SK BAZNAS No. 12/2025 (UPZ)",
    "amil_cap_bps": 1250,
}


class ComplianceController(Controller):
    path = "/v1/orgs/{slug:str}"
    guards = [guard]
    dto = StrictBody
    return_dto = None

    @post(
        "/funds/{code:str}/classification",
        summary="Record a fund's classes: ISAK 35 restriction, PSAK 109 fund, tax category "
        "(admin)",
        **write(
            "classifyFund",
            "compliance",
            roles=C.ADMIN,
            example=CLASSIFY_EXAMPLE,
            raises=(E.UnknownFundError, E.ClassificationError),
        ),
    )
    async def classify(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        code: FromPath[str],
        request: Request,
        data: JSONBody[FundClassify],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        body = FundClassifiedBody(fund=code, **msgspec.structs.asdict(data))
        return await append_one(services, slug, request, body, idempotency_key)

    @post(
        "/funds/{code:str}/permits",
        summary="Record a fund's public fundraising permit (PUB) or its exemption (admin)",
        **write(
            "recordFundPermit",
            "compliance",
            roles=C.ADMIN,
            example=PERMIT_EXAMPLE,
            raises=(E.UnknownFundError, E.ClassificationError),
        ),
    )
    async def permit(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        code: FromPath[str],
        request: Request,
        data: JSONBody[FundPermitRecord],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        body = FundPermitBody(fund=code, **msgspec.structs.asdict(data))
        return await append_one(services, slug, request, body, idempotency_key)

    @get(
        "/funds/{code:str}/compliance",
        summary="A fund's classes and every permit or exemption it recorded",
        **read("getFundCompliance", "compliance"),
    )
    async def fund(
        self, services: NamedDependency[Services], slug: FromPath[str], code: FromPath[str]
    ) -> FundCompliance:
        org = await services.organization(slug)
        return await compliance.fund_view(services.reader, org.id, code)

    @post(
        "/profile",
        summary="Record the organization's legal name, NPWP, zakat licence and amil cap "
        "(the whole new profile; admin)",
        **write("recordOrgProfile", "compliance", roles=C.ADMIN, example=PROFILE_EXAMPLE),
    )
    async def record_profile(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[OrgProfileChange],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        body = data.body()
        return await append_one(services, slug, request, body, idempotency_key)

    @get(
        "/profile",
        summary="The organization's legal name, NPWP, zakat licence and amil cap",
        **read("getOrgProfile", "compliance"),
    )
    async def profile(
        self, services: NamedDependency[Services], slug: FromPath[str]
    ) -> OrgProfileView:
        org = await services.organization(slug)
        return await compliance.org_view(services.reader, org.id)
