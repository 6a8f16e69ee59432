"""Open data (public): a fund's money over a period as a Fiscal Data Package.

``GET /v1/orgs/{slug}/open-data/{fund}?from=&to=`` answers the whole package as a zip;
``GET …/open-data/{fund}/{file}?from=&to=&size=`` one of its files, where the
``datapackage.json`` links its CSV files by absolute URLs cut at the same checkpoint
(``size``). Answers carry a strong ETag (``If-None-Match`` gets a 304). Cut at the newest
checkpoint they may change when the log grows (``Cache-Control`` as the public pages'); cut
at a named ``size`` they do not.
"""

from __future__ import annotations

import datetime
from typing import Annotated
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from ledger import errors as E
from ledger.charity import opendata
from ledger.charity.opendata import FILES, OpenDataRequest
from ledger.http.api.contract import read
from ledger.http.api.proofs import immutable
from ledger.http.services import Services
from reports.opendata.package import BALANCES, ENTRIES, FundPeriod
from schemas.base import MAX_INDEX

LATEST = "public, max-age=30, stale-while-revalidate=300"
"""Cut at the newest checkpoint: a newer one may come any second."""
FIXED = "public, max-age=86400"
"""Cut at a named checkpoint: the entries below it never change."""

From = Annotated[
    datetime.date,
    QueryParameter(name="from", description="First value date of the period (YYYY-MM-DD)."),
]
To = Annotated[
    datetime.date,
    QueryParameter(
        name="to",
        description="First value date after the period (YYYY-MM-DD): the period is [from, to), "
        f"at most {opendata.MAX_DAYS} days.",
    ),
]
Size = Annotated[
    int | None,
    QueryParameter(
        ge=1,
        le=MAX_INDEX,
        schema_extra={"minimum": 1},
        description="Cut at the signed checkpoint of this tree size (default: the newest).",
    ),
]


class OpenDataController(Controller):
    path = "/v1/orgs/{slug:str}/open-data"

    @get(
        "/{fund:str}",
        summary="A fund's money entries over a period of value dates as a Fiscal Data "
        "Package (zip: datapackage.json, CSV files, the signed checkpoint)",
        media_type="application/zip",
        **read(
            "getOpenDataPackage",
            "open data",
            raises=(E.RuleError,),
            cached=True,
            success_media=("application/zip",),
        ),
    )
    async def package(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        fund: FromPath[str],
        request: Request,
        value_from: From,
        value_to: To,
        size: Size = None,
    ) -> Response[bytes]:
        org = await services.organization(slug)
        wanted = OpenDataRequest(fund, value_from, value_to, size)
        period, content = await opendata.package_zip(services.store, org, services.kek, wanted)
        response = immutable(request, content, "application/zip", FIXED if size else LATEST)
        response.headers["Content-Disposition"] = f'attachment; filename="{period.name}.zip"'
        return response

    @get(
        "/{fund:str}/{file:str}",
        summary="One file of the package: datapackage.json (its CSV paths are URLs cut at "
        "the same checkpoint), entries.csv, balances.csv or checkpoint.txt",
        media_type="application/octet-stream",
        **read(
            "getOpenDataFile",
            "open data",
            raises=(E.RuleError,),
            cached=True,
            success_media=tuple(sorted(set(FILES.values()))),
        ),
    )
    async def file(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        fund: FromPath[str],
        file: FromPath[str],
        request: Request,
        value_from: From,
        value_to: To,
        size: Size = None,
    ) -> Response[bytes]:
        org = await services.organization(slug)
        wanted = OpenDataRequest(fund, value_from, value_to, size)
        base = f"{services.settings.public_url}/v1/orgs/{slug}/open-data/{fund}"

        def links(period: FundPeriod) -> dict[str, str]:
            query = urlencode(
                {
                    "from": value_from.isoformat(),
                    "to": value_to.isoformat(),
                    "size": period.checkpoint.size,
                }
            )
            return {name: f"{base}/{name}.csv?{query}" for name in (ENTRIES, BALANCES)}

        content = await opendata.package_file(
            services.store, org, services.kek, wanted, file, links
        )
        return immutable(request, content, FILES[file], FIXED if size else LATEST)
