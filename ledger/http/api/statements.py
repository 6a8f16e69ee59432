"""Public statements: admins issue them; anyone lists and downloads them.

Documents never change once issued, so downloads carry a strong ETag and
``Cache-Control: public, max-age=31536000, immutable`` (``If-None-Match`` gets a 304).
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream

from ledger import errors as E
from ledger.charity import statements
from ledger.charity.recording import check_key, request_hash
from ledger.http.api import IndexPath, IndexQuery, PageLimit
from ledger.http.api import contract as C
from ledger.http.api import examples as X
from ledger.http.api.bodies import StrictBody
from ledger.http.api.contract import read, write
from ledger.http.api.proofs import IMMUTABLE, immutable
from ledger.http.api.public import _page
from ledger.http.api.writes import IdempotencyKey, reply
from ledger.http.auth import guard
from ledger.http.services import Services
from schemas.public import Page
from schemas.statements import StatementRequest, StatementView

CSV = "text/csv"
"""Litestar adds ``; charset=utf-8`` to every ``text/`` type itself."""


def _attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'


class StatementController(Controller):
    path = "/v1/orgs/{slug:str}/statements"
    guards = [guard]
    dto = StrictBody  # JSON bodies decoded once, strictly (ledger.http.api.bodies)
    return_dto = None

    @post(
        "/",
        summary="Issue a signed public statement for [from, to), optionally one fund or "
        "beneficiary (admin)",
        **write(
            "issueStatement",
            "statements",
            roles=C.ADMIN,
            example=X.STATEMENT,
            raises=(E.RuleError, E.ConflictError),
        ),
    )
    async def issue(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[StatementRequest],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[StatementView]:
        key = check_key(idempotency_key)
        digest = request_hash(request.method, request.url.path, await request.body())
        org = await services.organization(slug)
        return reply(await statements.issue(services, org, data, key, digest))

    @get(
        "/",
        summary="Statements of the organization, oldest first (public)",
        **read("listStatements", "statements"),
    )
    async def list_statements(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        cursor: IndexQuery = 0,
        limit: PageLimit = 100,
    ) -> Page[StatementView]:
        org = await services.organization(slug)
        views = await statements.list_statements(services.store, org, cursor, limit + 1)
        return _page(views, limit, lambda v: str(v.id))

    @get(
        "/{number:int}",
        summary="One statement's metadata and document hashes (public)",
        **read("getStatement", "statements"),
    )
    async def statement(
        self, services: NamedDependency[Services], slug: FromPath[str], number: IndexPath
    ) -> StatementView:
        org = await services.organization(slug)
        return await statements.statement(services.store, org, number)

    @get(
        "/{number:int}/pdf",
        summary="The PAdES-signed statement PDF (lang=id|en), byte for byte as issued",
        media_type="application/pdf",
        **read("getStatementPdf", "statements", cached=True),
    )
    async def pdf(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        number: IndexPath,
        request: Request,
        lang: Annotated[Literal["id", "en"], QueryParameter()] = "id",
    ) -> Response[bytes]:
        org = await services.organization(slug)
        media_type, content = await statements.document(services.store, org, number, f"pdf-{lang}")
        response = immutable(request, content, media_type)
        response.headers["Content-Disposition"] = _attachment(
            f"statement-{slug}-{number}-{lang}.pdf"
        )
        return response

    @get(
        "/{number:int}/json",
        summary="The statement as JSON (donation-ledger-statement/v1), as issued",
        **read("getStatementJson", "statements", cached=True),
    )
    async def json(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        number: IndexPath,
        request: Request,
    ) -> Response[bytes]:
        org = await services.organization(slug)
        media_type, content = await statements.document(services.store, org, number, "json")
        return immutable(request, content, media_type)

    @get(
        "/{number:int}/csv",
        summary="The statement as CSV, one row per fact, streamed",
        media_type=CSV,
        **read("getStatementCsv", "statements", cached=True),
    )
    async def csv(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        number: IndexPath,
        request: Request,
    ) -> Response[bytes] | Stream:
        org = await services.organization(slug)
        etag, pieces = await statements.csv_source(services.store, org, number)
        headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
        if request.headers.get("if-none-match") == etag:
            return Response(b"", status_code=304, headers=headers)
        filename = f"statement-{slug}-{number}.csv"
        return Stream(
            pieces,
            media_type=CSV,
            headers={**headers, "Content-Disposition": _attachment(filename)},
        )
