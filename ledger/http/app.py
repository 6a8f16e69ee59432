"""``create_app(settings)``: all the wiring of the HTTP service, in one readable call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from litestar import Litestar, Request, get
from litestar.di import NamedDependency, Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import PathParameter
from litestar.static_files import create_static_files_router

from ledger.charity.rules import CharityPolicy
from ledger.clock import Clock, system_clock
from ledger.errors import NotFoundError
from ledger.http import observability
from ledger.http.api.acknowledgments import AcknowledgmentController, EnrolmentController
from ledger.http.api.admin import AdminController
from ledger.http.api.bankimports import BankImportController, BankLayoutController
from ledger.http.api.compliance import ComplianceController
from ledger.http.api.contract import SECURITY_SCHEMES, read
from ledger.http.api.fastpath import DonationFastPath
from ledger.http.api.financial import FinancialStatementController
from ledger.http.api.gateways import GatewayController
from ledger.http.api.headlimit import MAX_HEAD_BYTES, HeaderLimit
from ledger.http.api.opendata import OpenDataController
from ledger.http.api.proofs import ProofController, verify_endpoint
from ledger.http.api.public import PublicLogController
from ledger.http.api.publication import PublicationController
from ledger.http.api.statements import StatementController
from ledger.http.api.taxes import TaxController
from ledger.http.api.tiles import TilesController
from ledger.http.api.webhooks import WebhookController
from ledger.http.api.writes import OrganizationController
from ledger.http.connection import FrontDoor
from ledger.http.console import TEMPLATES as CONSOLE_TEMPLATES
from ledger.http.console import route_handlers as console_pages
from ledger.http.observability import instrument
from ledger.http.problems import EXCEPTION_HANDLERS, TYPE_PREFIX, TYPES
from ledger.http.ratelimit import RateLimit, RateLimiter, RateLimitMiddleware
from ledger.http.services import Services
from ledger.http.site import route_handlers as site_pages
from ledger.http.site import template_config as site_templates
from ledger.http.site.revalidation import PageRevalidation
from ledger.journal.appender import Appender, FaultHook
from ledger.journal.keys import load_kek
from ledger.settings import Settings
from ledger.store import migrate
from ledger.store.database import READER_ROLE, WRITER_ROLE, connect, create_pool, resolve_url
from ledger.store.log import Store

DOCS_ASSETS = "/docs-assets"
"""Swagger UI 5 (renders OpenAPI 3.1), vendored in ledger/api/swagger-ui with its licence
(see the README there): the docs page at /schema loads nothing from the network."""
SWAGGER_UI = Path(__file__).parent / "api" / "swagger-ui"


class SwaggerUI(SwaggerRenderPlugin):
    """Litestar's Swagger UI page, also showing each operation's ``operationId`` (what a
    generated client names its methods)."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        page = super().render(request, openapi_schema)
        return page.replace(b"deepLinking: true,", b"deepLinking: true, displayOperationId: true,")


_PROBLEMS = {name: text for name, text in TYPES.values()}


@get(
    "/healthz",
    summary="Liveness",
    sync_to_thread=False,
    **read("getLiveness", "operations", base=()),
)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/readyz",
    summary="Readiness: the database answers",
    **read("getReadiness", "operations", base=()),
)
async def readyz(services: NamedDependency[Services]) -> dict[str, str]:
    await services.store.ping()
    return {"status": "ready"}


metrics = get(
    observability.METRICS_PATH,
    summary=observability.METRICS_SUMMARY,
    media_type=observability.METRICS_TYPE,
    **read("getMetrics", "operations", base=()),
)(observability.metrics_endpoint)


@get(
    TYPE_PREFIX + "{name:str}",
    summary="What a problem type (the `type` of an error answer) means",
    media_type="text/plain",
    sync_to_thread=False,
    **read("getProblemType", "problems", base=(400, NotFoundError)),
)
def problem_type(
    name: Annotated[str, PathParameter(pattern=r"^[a-z-]{1,40}$")],
) -> str:
    text = _PROBLEMS.get(name)
    if text is None:
        raise NotFoundError(f"no problem type {name!r}; the README lists them")
    return f"{TYPE_PREFIX}{name}\n\n{text}\n"


API_DESCRIPTION = """Public reads need no key; writes and restricted reads take an API key
(`Authorization: Bearer ldg_...`), as each operation's `security` states. Every write needs an
`Idempotency-Key` header. Every error is `application/problem+json` (RFC 9457) whose `type`
names the problem: `GET /problems/{name}` describes each (the README lists them)."""


def create_app(
    settings: Settings,
    *,
    fault: FaultHook | None = None,
    rate_limit: RateLimit | None = None,
    fast_path: bool = True,
    clock: Clock = system_clock,
) -> Litestar:
    """The service. Startup refuses an unmigrated or newer schema (run ``ledger migrate``).

    Every request gets a request id, a JSON access line and a latency metric (``instrument``);
    API keys are rate-limited across all worker processes (``rate_limit``, default generous).
    ``fast_path`` answers ``POST .../donations`` without Litestar's per-request machinery
    (``ledger.http.api.fastpath``; the same code and answers, off only to compare the two),
    and public pages' matching ``If-None-Match`` with a 304 from a per-process cache of log
    heads (``ledger.http.site.revalidation``; the same headers, stale by at most 1 s for
    appends made by other processes).
    ``clock`` is where every entry time, value-date window and issue time comes from
    (``ledger.clock``; tests pass a ``ManualClock``).
    """
    limiter = RateLimiter(rate_limit or RateLimit())

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        url = await resolve_url(settings)
        conn = await connect(url)
        try:
            await migrate.check(conn)
        finally:
            await conn.close()
        pool = await create_pool(url, role=WRITER_ROLE, size=settings.pool_size)
        store = Store(pool)
        replica = None
        if settings.replica_url:
            replica = Store(
                await create_pool(settings.replica_url, role=READER_ROLE, size=settings.pool_size)
            )
        services = Services(
            settings=settings,
            store=store,
            appender=Appender(
                store,
                policy=CharityPolicy(clock),
                max_batch=settings.max_batch,
                fault=fault,
                clock=clock,
                in_flight=settings.append_in_flight,
            ),
            kek=load_kek(settings),
            replica=replica,
        )
        app.state.services = services
        services.start()
        try:
            yield
        finally:
            await services.stop()
            await pool.close()
            if replica is not None:
                await replica.pool.close()

    def provide_services() -> Services:
        # No parameters: a ``state: State`` parameter would be validated through a
        # signature model and wrapped in a new State (with its RLock) on every request.
        return app.state.services

    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            problem_type,
            metrics,
            PublicLogController,
            OrganizationController,
            AdminController,
            ProofController,
            TilesController,
            StatementController,
            OpenDataController,
            AcknowledgmentController,
            EnrolmentController,
            GatewayController,
            BankImportController,
            BankLayoutController,
            WebhookController,
            ComplianceController,
            TaxController,
            FinancialStatementController,
            PublicationController,
            verify_endpoint,
            *site_pages(),  # the public website (HTML pages, /site-assets)
            *console_pages(),  # the staff console (/console, /console-assets)
            create_static_files_router(
                path=DOCS_ASSETS, directories=[str(SWAGGER_UI)], include_in_schema=False
            ),
        ],
        dependencies={"services": Provide(provide_services, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        # Only when limiting is on: any middleware adds two layers to every request.
        middleware=[RateLimitMiddleware(limiter)] if limiter.active else [],
        logging_config=None,  # the process configures logging: JSON lines (ledger serve)
        lifespan=[lifespan, limiter.lifespan],
        openapi_config=OpenAPIConfig(
            title="Donation transparency ledger",
            version="1",
            description=API_DESCRIPTION,
            path="/schema",
            components=SECURITY_SCHEMES,
            render_plugins=[
                SwaggerUI(
                    path="/",
                    js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                    css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                    standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
                    favicon="<link rel='icon' href='/site-assets/favicon.svg'>",  # the site's own
                )
            ],
        ),
        request_max_body_size=settings.max_body_bytes,
        template_config=site_templates(CONSOLE_TEMPLATES),
    )
    fast = revalidation = None
    if fast_path:  # POST .../donations without the framework's per-request work
        fast = DonationFastPath(app.asgi_handler, app, limiter, settings.max_body_bytes)
        # 304s for public pages from a per-process cache of log heads; sees every write
        # answered here (including the donation fast path's) to forget what they changed.
        revalidation = PageRevalidation(fast, app, limiter)
        app.asgi_handler = revalidation
    app.asgi_handler = HeaderLimit(app.asgi_handler)  # 431 before any other work
    instrument(app)  # request ids, JSON access lines, request metrics
    if fast is not None and revalidation is not None:
        # The same layers' work, for ``ledger serve``'s connections (ledger.http.connection).
        app.state.front_door = FrontDoor(
            fast=fast,
            heads=revalidation.heads,
            observer=app.asgi_handler,  # type: ignore[arg-type]
            head_limit=MAX_HEAD_BYTES,
            max_body=settings.max_body_bytes,
        )
    return app
