"""Public, unauthenticated reads of the logs: organizations, entries, checkpoints, keys."""

from __future__ import annotations

import base64
import datetime
from typing import Annotated

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from ledger.charity import documents, reads
from ledger.charity.reversals import Reversal, reversals
from ledger.formats.note import format_vkey
from ledger.http.api import CodeCursor, IndexPath, IndexQuery, PageLimit
from ledger.http.api.contract import read
from ledger.http.services import Services
from ledger.journal import witnessing
from ledger.journal.publisher import publish
from ledger.store import filters
from ledger.store.filters import EntryFilter
from schemas.base import MAX_INDEX
from schemas.charity import BalancesView, BeneficiaryView, FundView
from schemas.public import EntryView, OrganizationView, Page

TEXT = "text/plain"
"""Litestar adds ``; charset=utf-8`` to every ``text/`` type itself (c2sp.org/tlog-tiles:
the checkpoint is ``text/plain; charset=utf-8``, exactly)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class PublicLogController(Controller):
    path = "/v1/orgs"

    @get("/", summary="List organizations", **read("listOrganizations", "organizations"))
    async def list_orgs(
        self,
        services: NamedDependency[Services],
        cursor: IndexQuery = 0,
        limit: PageLimit = 100,
    ) -> Page[OrganizationView]:
        orgs = await services.reader.organizations(cursor, limit + 1)
        items = [OrganizationView(slug=o.slug, name=o.name, origin=o.origin) for o in orgs[:limit]]
        more = len(orgs) > limit
        return Page(
            items=items, has_more=more, next_cursor=str(orgs[limit - 1].id) if more else None
        )

    @get("/{slug:str}", summary="One organization", **read("getOrganization", "organizations"))
    async def get_org(
        self, services: NamedDependency[Services], slug: FromPath[str]
    ) -> OrganizationView:
        org = await services.reader.organization(slug)
        return OrganizationView(slug=org.slug, name=org.name, origin=org.origin)

    @get(
        "/{slug:str}/log/checkpoint",
        summary="Latest signed checkpoint (signed note)",
        media_type=TEXT,
        **read("getLogCheckpoint", "log"),
    )
    async def checkpoint(
        self, services: NamedDependency[Services], slug: FromPath[str]
    ) -> Response[str]:
        org = await services.store.organization(slug)
        cp = await services.reader.latest_checkpoint(org.id)
        if cp is None:
            cp = await publish(services.store, org, services.kek)
        return Response(
            await witnessing.cosigned_note(services.reader, org.id, cp),
            media_type=TEXT,
            headers={"Cache-Control": "no-cache"},
        )

    @get(
        "/{slug:str}/certificate",
        summary="The document-signing certificate (PEM) that signs receipts and statements",
        media_type="application/x-pem-file",
        **read("getCertificate", "keys"),
    )
    async def certificate(self, services: NamedDependency[Services], slug: FromPath[str]) -> str:
        org = await services.organization(slug)
        der = await documents.certificate(services.store, org, services.kek)
        return x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM).decode()

    @get(
        "/{slug:str}/log/keys",
        summary="Checkpoint public keys (vkey lines)",
        media_type=TEXT,
        **read("getLogKeys", "keys"),
    )
    async def keys(self, services: NamedDependency[Services], slug: FromPath[str]) -> str:
        org = await services.reader.organization(slug)
        keys = await services.reader.public_keys(org.id)
        return "".join(format_vkey(k.name, k.public_key) + "\n" for k in keys)

    @get(
        "/{slug:str}/log/entries/{index:int}",
        summary="One entry with its canonical bytes",
        **read("getLogEntry", "log"),
    )
    async def entry(
        self, services: NamedDependency[Services], slug: FromPath[str], index: IndexPath
    ) -> EntryView:
        org = await services.reader.organization(slug)
        found = await reversals(services.reader, org.id, [index])
        return _entry_view(await services.reader.entry(org.id, index), found.get(index))


class PublicCharityController(Controller):
    """Public projections of an organization's funds, beneficiaries, balances and entries."""

    @get(
        "/funds",
        summary="Funds with raised, disbursed, fees, balance and overhead ratio",
        **read("listFunds", "funds"),
    )
    async def funds(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        cursor: CodeCursor = "",
        limit: PageLimit = 100,
    ) -> Page[FundView]:
        org = await services.organization(slug)
        views = await reads.fund_views(services.reader, org, cursor, limit + 1)
        return _page(views, limit, lambda v: v.code)

    @get("/funds/{code:str}", summary="One fund", **read("getFund", "funds"))
    async def fund(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        code: FromPath[str],
    ) -> FundView:
        return await reads.fund_view(services.reader, await services.organization(slug), code)

    @get(
        "/beneficiaries",
        summary="Beneficiaries (latest version) with what each received",
        **read("listBeneficiaries", "beneficiaries"),
    )
    async def beneficiaries(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        cursor: CodeCursor = "",
        limit: PageLimit = 100,
    ) -> Page[BeneficiaryView]:
        org = await services.organization(slug)
        views = await reads.beneficiary_views(services.reader, org, cursor, limit + 1)
        return _page(views, limit, lambda v: v.code)

    @get(
        "/beneficiaries/{code:str}",
        summary="Every version of one beneficiary, oldest first",
        **read("getBeneficiaryVersions", "beneficiaries"),
    )
    async def beneficiary(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        code: FromPath[str],
    ) -> list[BeneficiaryView]:
        org = await services.organization(slug)
        return await reads.beneficiary_history(services.reader, org, code)

    @get(
        "/balances",
        summary="Balances of every account, now or as of a past tree size",
        **read("getBalances", "funds"),
    )
    async def balances(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        # Litestar leaves out a minimum of 0 for an optional parameter: stated again.
        as_of: Annotated[
            int | None, QueryParameter(ge=0, le=MAX_INDEX, schema_extra={"minimum": 0})
        ] = None,
    ) -> BalancesView:
        org = await services.organization(slug)
        return await reads.balances_view(services.reader, org, as_of)

    @get(
        "/entries",
        summary="Entries in log order, optionally filtered (public projection: the entry "
        "documents)",
        **read("listEntries", "log"),
    )
    async def entries(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        cursor: IndexQuery = 0,
        limit: PageLimit = 100,
        kind: Annotated[
            str | None, QueryParameter(pattern=r"^[a-z][a-z.]{0,39}$", description="Entry kind.")
        ] = None,
        fund: Annotated[
            str | None,
            QueryParameter(
                pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
                description="Entries that move money in this fund.",
            ),
        ] = None,
        value_from: Annotated[
            datetime.date | None,
            QueryParameter(name="from", description="Value date on or after (YYYY-MM-DD)."),
        ] = None,
        value_to: Annotated[
            datetime.date | None,
            QueryParameter(name="to", description="Value date before (YYYY-MM-DD)."),
        ] = None,
        reference: Annotated[
            str | None,
            QueryParameter(
                pattern=r"^[\x21-\x7e]{1,100}$", description="The money entry's reference."
            ),
        ] = None,
    ) -> Page[EntryView]:
        org = await services.organization(slug)
        where = EntryFilter(kind, fund, value_from, value_to, reference)
        if where.driver() is None:
            rows = await services.reader.entries(
                org.id, cursor, min(cursor + limit + 1, MAX_INDEX)
            )
        else:
            async with services.reader.connection() as conn:
                rows = await filters.matching(conn, org.id, where, cursor, limit + 1)
        found = await reversals(services.reader, org.id, [e.index for e in rows])
        views = [_entry_view(e, found.get(e.index)) for e in rows]
        return _page(views, limit, lambda v: str(v.index + 1))


def _page(items: list, limit: int, cursor_of) -> Page:  # type: ignore[no-untyped-def]
    more = len(items) > limit
    items = items[:limit]
    return Page(items=items, has_more=more, next_cursor=cursor_of(items[-1]) if more else None)


def _entry_view(e, reversal: Reversal | None = None) -> EntryView:  # type: ignore[no-untyped-def]
    return EntryView(
        index=e.index,
        kind=e.kind,
        time=e.created_at,
        canonical=_b64(e.body),
        leaf_hash=_b64(e.leaf_hash),
        entry_hash=_b64(e.entry_hash),
        prev_hash=_b64(e.prev_hash),
        document=msgspec.json.decode(e.body),
        reversed_by=reversal.view() if reversal else None,
    )
