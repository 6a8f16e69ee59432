"""Bank statement imports over the API: upload for a preview, then upload again to commit.

The same use case as ``ledger import-bank`` (``ledger.ingest.bankimports``): the preview
records nothing; the commit records every new credit as a donation in one transaction, or
nothing while a bad line remains that the request does not exclude. A commit needs an
``Idempotency-Key``; the same file committed twice records nothing the second time.
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from ledger import errors as E
from ledger.charity.recording import check_key, replay, request_hash
from ledger.http.api import contract as C
from ledger.http.api import examples as X
from ledger.http.api.contract import read, write
from ledger.http.api.writes import IdempotencyKey, reply
from ledger.http.auth import guard
from ledger.http.services import Services
from ledger.ingest import bankimports
from ledger.ingest.bankstatements import LAYOUTS
from schemas.bankstatements import ImportCommitted, ImportPreview

STATEMENT_TYPES = ("text/csv", "text/plain", "application/octet-stream", "application/vnd.ms-excel")
"""What a statement upload may be sent as (browsers send .csv files as any of these)."""

Fund = Annotated[str, QueryParameter(description="The fund the credits go to.", max_length=63)]
Layout = Annotated[
    Literal["bca", "mandiri", "bri"],
    QueryParameter(description="The bank's export layout (README, Bank statement imports)."),
]
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
        checked = await bankimports.check(
            services.store, services.clock, org, fund, await request.body(), LAYOUTS[layout],
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
        checked = await bankimports.check(
            services.store, services.clock, org, fund, await request.body(), LAYOUTS[layout],
            year, exclude or (),
        )
        done = await bankimports.commit(
            services.store, services.clock, org, checked, idempotency=(key, digest)
        )
        return Response(done, status_code=200 if done.replayed else 201)
