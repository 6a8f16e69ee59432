"""ISAK 35 and PSAK 109 financial statements, computed from the log on request.

The JSON and CSV are public (anyone may recompute them: the same query with the same
``as_of`` gives the same bytes). The PDF is rendered and PAdES-signed on each request with
the organization's document certificate, which takes a core for a moment, so it is for the
organization's keys (any role). Nothing is recorded in the log (README, "ISAK 35 and PSAK
109 statements").
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from ledger import errors as E
from ledger.charity import financial
from ledger.http.api import contract as C
from ledger.http.api.contract import read
from ledger.http.auth import guard
from ledger.http.services import Services
from schemas.financial import FinancialDocument, FinancialRequest, Standard, csv_text

StandardQuery = Annotated[
    Standard,
    QueryParameter(description="isak35: the three ISAK 35 statements; psak109: PSAK 109"),
]
FromQuery = Annotated[
    dt.date, QueryParameter(name="from", description="first day of the period (local date)")
]
ToQuery = Annotated[dt.date, QueryParameter(description="first day after the period")]
CurrencyQuery = Annotated[
    str | None,
    QueryParameter(
        pattern="^[A-Z]{3}$", description="currency reported (default: the funds' only one)"
    ),
]
AsOfQuery = Annotated[
    int | None,
    QueryParameter(
        ge=1, le=2**53 - 1, description="count the log's first as_of entries (default: all)"
    ),
]


def _request(
    standard: str, from_: dt.date, to: dt.date, currency: str | None, as_of: int | None
) -> FinancialRequest:
    return FinancialRequest(
        standard=standard,  # type: ignore[arg-type]
        from_=from_,
        to=to,
        currency=currency,
        as_of=as_of,
    )


def _filename(slug: str, request: FinancialRequest, ext: str) -> str:
    return (
        f'attachment; filename="{request.standard}-{slug}-{request.from_.isoformat()}-'
        f'{request.to.isoformat()}.{ext}"'
    )


async def _gathered(
    services: Services, slug: str, request: FinancialRequest
) -> FinancialDocument:
    """The statements ``request`` asks for, read from the organization's log."""
    org = await services.organization(slug)
    return await financial.gather(services.reader, org, request, now=services.clock())


class FinancialStatementController(Controller):
    path = "/v1/orgs/{slug:str}/financial-statements"
    guards = [guard]

    @get(
        "/",
        summary="ISAK 35 or PSAK 109 statements for [from, to), as JSON, computed from the "
        "postings (public)",
        **read("getFinancialStatements", "financial statements", raises=(E.RuleError,)),
    )
    async def json(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        standard: StandardQuery,
        from_: FromQuery,
        to: ToQuery,
        currency: CurrencyQuery = None,
        as_of: AsOfQuery = None,
    ) -> Response[bytes]:
        request = _request(standard, from_, to, currency, as_of)
        doc = await _gathered(services, slug, request)
        return Response(financial.document_json(doc), media_type="application/json")

    @get(
        "/csv",
        summary="The same statements as CSV, one row per line (public)",
        media_type="text/csv",
        **read("getFinancialStatementsCsv", "financial statements", raises=(E.RuleError,)),
    )
    async def csv(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        standard: StandardQuery,
        from_: FromQuery,
        to: ToQuery,
        currency: CurrencyQuery = None,
        as_of: AsOfQuery = None,
    ) -> Response[bytes]:
        request = _request(standard, from_, to, currency, as_of)
        doc = await _gathered(services, slug, request)
        return Response(
            csv_text(doc).encode(),
            media_type="text/csv",
            headers={"Content-Disposition": _filename(slug, request, "csv")},
        )

    @get(
        "/pdf",
        summary="The same statements as a PAdES-signed PDF (lang=id|en), signed on request "
        "(any role of the organization)",
        media_type="application/pdf",
        **read(
            "getFinancialStatementsPdf",
            "financial statements",
            roles=C.READERS,
            raises=(E.RuleError,),
            success_media=("application/pdf",),
        ),
    )
    async def pdf(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        standard: StandardQuery,
        from_: FromQuery,
        to: ToQuery,
        currency: CurrencyQuery = None,
        as_of: AsOfQuery = None,
        lang: Annotated[Literal["id", "en"], QueryParameter()] = "id",
    ) -> Response[bytes]:
        org = await services.organization(slug)
        request = _request(standard, from_, to, currency, as_of)
        content = await financial.signed_pdf(
            services.store, services.kek, org, request, lang, now=services.clock()
        )
        return Response(
            content,
            media_type="application/pdf",
            headers={"Content-Disposition": _filename(slug, request, f"{lang}.pdf")},
        )
