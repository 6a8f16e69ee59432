"""Public, unauthenticated reads of the logs: organizations, entries, checkpoints, keys."""

from __future__ import annotations

import base64
from typing import Annotated

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from ledger.note import format_vkey
from ledger.services import Services
from schemas.public import EntryView, OrganizationView, Page


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class PublicLogController(Controller):
    path = "/v1/orgs"
    tags = ["public log"]

    @get("/", summary="List organizations")
    async def list_orgs(
        self,
        services: NamedDependency[Services],
        cursor: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> Page[OrganizationView]:
        orgs = await services.store.organizations(cursor, limit + 1)
        items = [OrganizationView(slug=o.slug, name=o.name, origin=o.origin) for o in orgs[:limit]]
        more = len(orgs) > limit
        return Page(
            items=items, has_more=more, next_cursor=str(orgs[limit - 1].id) if more else None
        )

    @get("/{slug:str}", summary="One organization")
    async def get_org(
        self, services: NamedDependency[Services], slug: FromPath[str]
    ) -> OrganizationView:
        org = await services.store.organization(slug)
        return OrganizationView(slug=org.slug, name=org.name, origin=org.origin)

    @get(
        "/{slug:str}/log/checkpoint",
        summary="Latest signed checkpoint (signed note)",
        media_type="text/plain; charset=utf-8",
    )
    async def checkpoint(
        self, services: NamedDependency[Services], slug: FromPath[str]
    ) -> Response[str]:
        org = await services.store.organization(slug)
        cp = await services.store.latest_checkpoint(org.id)
        if cp is None:
            from ledger.publisher import publish

            cp = await publish(services.store, org, services.kek)
        return Response(
            cp.note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    @get(
        "/{slug:str}/log/keys",
        summary="Checkpoint public keys (vkey lines)",
        media_type="text/plain; charset=utf-8",
    )
    async def keys(self, services: NamedDependency[Services], slug: FromPath[str]) -> str:
        org = await services.store.organization(slug)
        keys = await services.store.public_keys(org.id)
        return "".join(format_vkey(k.name, k.public_key) + "\n" for k in keys)

    @get("/{slug:str}/log/entries/{index:int}", summary="One entry with its canonical bytes")
    async def entry(
        self, services: NamedDependency[Services], slug: FromPath[str], index: FromPath[int]
    ) -> EntryView:
        org = await services.store.organization(slug)
        e = await services.store.entry(org.id, index)
        return EntryView(
            index=e.index,
            kind=e.kind,
            time=e.created_at,
            canonical=_b64(e.body),
            leaf_hash=_b64(e.leaf_hash),
            entry_hash=_b64(e.entry_hash),
            prev_hash=_b64(e.prev_hash),
        )
