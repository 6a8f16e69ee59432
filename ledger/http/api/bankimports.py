"""Bank statement imports over the API: upload for a preview, then upload again to commit.

The same use case as ``ledger import-bank`` (``ledger.ingest.bankimports``): the preview
records nothing; the commit records every new credit as a donation in one transaction, or
nothing while a bad line remains that the request does not exclude. A commit needs an
``Idempotency-Key``; the same file committed twice records nothing the second time.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from ledger import errors as E
from ledger.charity.recording import check_key, replay, request_hash
from ledger.http.api import contract as C
from ledger.http.api import examples as X
from ledger.http.api.bodies import StrictBody
from ledger.http.api.contract import read, write
from ledger.http.api.writes import IdempotencyKey, reply
from ledger.http.auth import guard
from ledger.http.services import Services
from ledger.ingest import bankimports
from schemas.bankstatements import BankLayout, ImportCommitted, ImportPreview

STATEMENT_TYPES = ("text/csv", "text/plain", "application/octet-stream", "application/vnd.ms-excel")
"""What a statement upload may be sent as (browsers send .csv files as any of these)."""

Fund = Annotated[str, QueryParameter(description="The fund the credits go to.", max_length=63)]
Layout = Annotated[
    str,
    QueryParameter(
        pattern=r"^[a-z0-9-]{1,40}$",
        description="The bank's export layout: bca, mandiri, bri, or the name of a layout "
        "the organization saved (PUT …/bank-layouts/{name}; README, Bank statement imports).",
    ),
]
LayoutName = Annotated[str, PathParameter(pattern=r"^[a-z0-9-]{1,40}$")]
Year = Annotated[
    int | None,
    QueryParameter(ge=2000, le=2100, description="The year, for exports whose dates have none."),
]
Exclude = Annotated[
    list[int] | None,
    QueryParameter(description="Line numbers to leave out (repeat the parameter)."),
]


def _statement_media(content_type: str | None) -> None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in STATEMENT_TYPES:
        raise E.UnsupportedMediaError(
            f"expected a CSV statement as one of {', '.join(STATEMENT_TYPES)}, got "
            f"{content_type or 'no Content-Type'}"
        )


class BankImportController(Controller):
    path = "/v1/orgs/{slug:str}/bank-imports"
    guards = [guard]

    @post(
        "/preview",
        status_code=200,
        summary="What a bank statement would record: lines, totals, dates, bad lines (recorder)",
        **read(
            "previewBankImport",
            "bank-imports",
            roles=C.RECORDER,
            body=True,
            example=X.BANK_STATEMENT,
            body_media=STATEMENT_TYPES,
            raises=(E.UnknownFundError,),
        ),
    )
    async def preview(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        fund: Fund,
        layout: Layout = "bca",
        year: Year = None,
        exclude: Exclude = None,
    ) -> ImportPreview:
        _statement_media(request.headers.get("content-type"))
        org = await services.organization(slug)
        chosen = await bankimports.layout_named(services.store, org, layout)
        checked = await bankimports.check(
            services.store, services.clock, org, fund, await request.body(), chosen,
            year, exclude or (),
        )
        return await bankimports.preview(services.store, org, checked)

    @post(
        "/",
        summary="Record a bank statement's new credits as donations, all or nothing (recorder)",
        **write(
            "commitBankImport",
            "bank-imports",
            roles=C.RECORDER,
            example=X.BANK_STATEMENT,
            body_media=STATEMENT_TYPES,
            raises=(E.UnknownFundError, E.DuplicateReferenceError, E.RuleError),
        ),
    )
    async def commit(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        fund: Fund,
        layout: Layout = "bca",
        year: Year = None,
        exclude: Exclude = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ImportCommitted]:
        _statement_media(request.headers.get("content-type"))
        key = check_key(idempotency_key)
        digest = request_hash(request.method, str(request.url), await request.body())
        org = await services.organization(slug)
        previous = await replay(services, org, key, digest)
        if previous is not None:
            return reply(previous)
        chosen = await bankimports.layout_named(services.store, org, layout)
        checked = await bankimports.check(
            services.store, services.clock, org, fund, await request.body(), chosen,
            year, exclude or (),
        )
        done = await bankimports.commit(
            services.store, services.clock, org, checked, idempotency=(key, digest)
        )
        return Response(done, status_code=200 if done.replayed else 201)


LAYOUT_EXAMPLE = {
    "name": "bank-jateng",
    "header_starts": "Tanggal",
    "date": "Tanggal",
    "date_format": "%d-%m-%Y",
    "description": "Uraian",
    "reference": "No. Referensi",
    "amount": "Nominal",
    "direction": "Jenis",
    "credit_marker": "K",
    "thousands": ".",
    "decimal": ",",
    "delimiter": ";",
}


class BankLayoutController(Controller):
    """A charity's own export layouts: saved once by an admin, named by later uploads."""

    path = "/v1/orgs/{slug:str}/bank-layouts"
    guards = [guard]
    dto = StrictBody
    return_dto = None

    @put(
        "/{name:str}",
        summary="Save a custom bank export layout under a name (admin)",
        **read(
            "saveBankLayout",
            "bank-imports",
            roles=C.ADMIN,
            body=True,
            example=LAYOUT_EXAMPLE,
            raises=(E.RuleError,),
        ),
    )
    async def save(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        name: LayoutName,
        data: JSONBody[BankLayout],
    ) -> BankLayout:
        org = await services.organization(slug)
        await bankimports.save_layout(services.store, org, name, data)
        return data

    @get(
        "/",
        summary="The organization's custom bank export layouts (recorder)",
        **read("listBankLayouts", "bank-imports", roles=C.RECORDER),
    )
    async def list_layouts(
        self, services: NamedDependency[Services], slug: FromPath[str]
    ) -> list[BankLayout]:
        org = await services.organization(slug)
        return await bankimports.custom_layouts(services.store, org)
