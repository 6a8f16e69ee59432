"""c2sp.org/tlog-tiles endpoints under ``/v1/orgs/{slug}/tlog/``: cacheable by any CDN."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from ledger import tiles, witnessing
from ledger.api.contract import read
from ledger.errors import MalformedError
from ledger.publisher import publish
from ledger.services import Services

IMMUTABLE = "public, max-age=31536000, immutable"
TEXT = "text/plain"
"""Litestar adds ``; charset=utf-8``: the checkpoint is ``text/plain; charset=utf-8`` (spec)."""


class TilesController(Controller):
    path = "/v1/orgs/{slug:str}/tlog"

    @get(
        "/checkpoint",
        summary="The latest checkpoint (mutable; cache a few seconds)",
        media_type=TEXT,
        **read("getTlogCheckpoint", "tiles"),
    )
    async def checkpoint(
        self, services: NamedDependency[Services], slug: FromPath[str]
    ) -> Response[str]:
        org = await services.organization(slug)
        cp = await services.reader.latest_checkpoint(org.id)
        if cp is None:
            cp = await publish(services.store, org, services.kek)
        note = await witnessing.cosigned_note(services.reader, org.id, cp)
        return Response(
            note,
            media_type=TEXT,
            headers={"Cache-Control": "public, max-age=5"},
        )

    @get(
        "/tile/{kind:str}/{rest:path}",
        summary="A hash tile or entry bundle (immutable)",
        media_type="application/octet-stream",
        **read("getTile", "tiles", raises=(MalformedError,)),
    )
    async def tile(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        kind: FromPath[str],
        rest: FromPath[str],
    ) -> Response[bytes]:
        org = await services.organization(slug)
        path = tiles.parse_tile_path(kind, rest.lstrip("/"))
        data = await tiles.tile(services.reader, org, path)
        return Response(
            data, media_type="application/octet-stream", headers={"Cache-Control": IMMUTABLE}
        )
