"""The console's webhooks screen (admin): the organization's signed-webhook subscriptions, how
far each was delivered, a new one (its secret shown once), stopping one, and its delivery log.

The same use cases as the API's ``/webhooks`` routes (``ledger.http.api.webhooks``):
``ledger.journal.webhooks.subscribe`` and ``unsubscribe`` (a removed subscription is disabled,
its row and delivery log kept; nothing is delivered to it again), the listing and the
delivery log read through ``ledger.store.webhooks``. The form is read into the API's request
document (``WebhookCreate``), so the URL and event rules are the schema's. The secret is in
the page that answers the creation only: it is never stored in the clear, never in a cookie
or an address, and the list page never shows it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from ledger.errors import InvalidInputError, LedgerError, NotFoundError
from ledger.http.api.explain import explain
from ledger.http.console.session import (
    HEADERS,
    ROLES_OPT,
    ROOT,
    ConsoleController,
    Translator,
    checked_form,
    current,
    language,
    organization_of,
    render,
)
from ledger.http.services import Services
from ledger.journal import webhooks
from ledger.store import webhooks as W
from schemas.webhooks import WebhookCreate

ADMIN = {ROLES_OPT: ("admin",)}
"""As the API: only admins manage webhooks (``contract.ADMIN``)."""
EVENTS: dict[str, str] = {
    "entry.appended": "every new entry of the log",
    "checkpoint.signed": "every signed checkpoint",
    "statement.issued": "every statement issued",
}
"""The events of ``ledger.journal.webhooks.EVENTS``, in words (msgids of the catalog)."""
assert tuple(EVENTS) == webhooks.EVENTS
SHOWN_DELIVERIES = 200
"""Attempts listed on a subscription's delivery log, newest first."""


def _id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFoundError.of("no webhook subscription {id} here", id=text) from None


def _decoded(url: str, events: list[str]) -> WebhookCreate:
    """The form as the API's request document; the two mistakes a person makes (an address
    that is not a web address, no box ticked) said in words, anything else as the API says it."""
    try:
        return msgspec.convert({"url": url, "events": events}, WebhookCreate)
    except msgspec.ValidationError as exc:
        if str(exc).endswith("at `$.url`"):
            raise InvalidInputError.of(
                "the receiver URL must be a web address starting with https:// (or http://) "
                "and a host name, e.g. https://dashboard.example.org/ledger-events"
            ) from None
        if str(exc).endswith("at `$.events`"):
            raise InvalidInputError.of("tick at least one event to send") from None
        raise explain(str(exc), WebhookCreate) from None


class ConsoleWebhooks(ConsoleController):
    """``/console/webhooks``: subscriptions, a new one, stopping one, the delivery log."""

    @get("/webhooks", opt=ADMIN)
    async def webhooks_page(
        self,
        request: Request,
        services: NamedDependency[Services],
        removed: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        t = Translator(language(request))
        notice = t("stopped: nothing more is delivered to it") if removed else None
        return await self._page(request, services, notice=notice)

    async def _page(
        self,
        request: Request,
        services: Services,
        *,
        created: tuple[str, str] | None = None,
        notice: str | None = None,
        error: str | None = None,
        values: dict[str, Any] | None = None,
        status: int = 200,
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        async with services.store.connection() as conn:
            subscriptions = await W.subscriptions(conn, org.id)
        return render(
            request,
            "console/webhooks.html",
            status=status,
            active="webhooks",
            org=org,
            subscriptions=subscriptions,
            events=list(EVENTS.items()),
            created=created,
            notice=notice,
            error=error,
            values=values or {"url": "", "events": list(EVENTS)},
        )

    @post("/webhooks", opt=ADMIN)
    async def subscribe(
        self, request: Request, services: NamedDependency[Services]
    ) -> Response[Any]:
        await checked_form(request)
        form = await request.form()
        who, _ = current(request)
        org = await organization_of(services, who)
        url = str(form.get("url", "")).strip()
        chosen = [e for e in form.getall("events", []) if isinstance(e, str)]
        values = {"url": url, "events": chosen}
        try:
            wanted = _decoded(url, chosen)
            created, state = await webhooks.subscribe(
                services.store, services.kek, org, wanted.url, wanted.events
            )
        except LedgerError as exc:
            error = Translator(language(request)).error(exc)
            return await self._page(request, services, error=error, values=values, status=422)
        return await self._page(request, services, created=(state.url, created.secret))

    @post("/webhooks/{sub_id:str}/stop", opt=ADMIN)
    async def unsubscribe(
        self, request: Request, services: NamedDependency[Services], sub_id: FromPath[str]
    ) -> Response[Any]:
        await checked_form(request)
        who, _ = current(request)
        org = await organization_of(services, who)
        await webhooks.unsubscribe(services.store, org, _id(sub_id))
        return Redirect(f"{ROOT}/webhooks?removed=1", status_code=303, headers=HEADERS)

    @get("/webhooks/{sub_id:str}", opt=ADMIN)
    async def deliveries_page(
        self, request: Request, services: NamedDependency[Services], sub_id: FromPath[str]
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        wanted = _id(sub_id)
        async with services.store.connection() as conn:
            active = [s for s in await W.subscriptions(conn, org.id) if s.id == wanted]
            attempts = await W.deliveries(conn, org.id, wanted, SHOWN_DELIVERIES)
        if not active and not attempts:
            raise NotFoundError.of("no webhook subscription {id} here", id=sub_id)
        return render(
            request,
            "console/webhook.html",
            active="webhooks",
            org=org,
            subscription=active[0] if active else None,
            sub_id=str(wanted),
            attempts=attempts,
        )
