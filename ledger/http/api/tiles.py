"""c2sp.org/tlog-tiles endpoints under ``/v1/orgs/{slug}/tlog/``: cacheable by any CDN.

Entry bundles are gzipped when the client accepts gzip (the spec's SHOULD; ``Vary:
Accept-Encoding`` so caches keep both forms). The gzip bytes are deterministic (no mtime,
fixed level), so a bundle's compressed form never changes either.
"""

from __future__ import annotations

import gzip

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from ledger.errors import MalformedError
from ledger.http.api.contract import read
from ledger.http.services import Services
from ledger.journal import tiles, witnessing
from ledger.journal.publisher import publish

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
        request: Request,
    ) -> Response[bytes]:
        org = await services.organization(slug)
        path = tiles.parse_tile_path(kind, rest.lstrip("/"))
        data = await tiles.tile(services.reader, org, path)
        headers = {"Cache-Control": IMMUTABLE}
        if path.level is None:  # an entry bundle
            headers["Vary"] = "Accept-Encoding"
            if accepts_gzip(request.headers.get("accept-encoding", "")):
                data = gzip.compress(data, compresslevel=6, mtime=0)
                headers["Content-Encoding"] = "gzip"
        return Response(data, media_type="application/octet-stream", headers=headers)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value accepts gzip (RFC 9110 12.5.3: ``gzip`` or ``*``
    with a non-zero weight; an explicit ``gzip;q=0`` refuses it)."""
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if coding:
            weights[coding.strip().lower()] = weight
    if "gzip" in weights:
        return weights["gzip"] > 0
    return weights.get("*", 0) > 0
