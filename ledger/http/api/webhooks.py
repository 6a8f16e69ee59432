"""Webhook subscriptions (admin): subscribe, list, remove, and read the delivery log."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from ledger.errors import NotFoundError
from ledger.formats.canonical import format_time
from ledger.http.api import contract as C
from ledger.http.api.bodies import StrictBody
from ledger.http.api.contract import read
from ledger.http.auth import guard
from ledger.http.services import Services
from ledger.journal import webhooks
from ledger.store import webhooks as W
from schemas.webhooks import WebhookCreate, WebhookCreated, WebhookDeliveryView, WebhookView

EXAMPLE = {"url": "https://example.org/ledger-events", "events": ["entry.appended"]}


def _view(s: W.SubscriptionState) -> WebhookView:
    return WebhookView(
        id=str(s.id),
        url=s.url,
        events=list(s.events),
        created_at=format_time(s.created_at),
        delivered_seq=s.delivered_seq,
        failures=s.failures,
        next_attempt_at=format_time(s.next_attempt_at),
    )


def _id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFoundError(f"no webhook subscription {text!r}") from None


class WebhookController(Controller):
    path = "/v1/orgs/{slug:str}/webhooks"
    guards = [guard]
    dto = StrictBody  # bodies decoded once, strictly (ledger.http.api.bodies)
    return_dto = None

    @post(
        "/",
        summary="Subscribe a receiver to signed events; the secret is shown once (admin)",
        **read("createWebhook", "webhooks", roles=C.ADMIN, body=True, example=EXAMPLE),
    )
    async def create(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        data: JSONBody[WebhookCreate],
    ) -> WebhookCreated:
        org = await services.organization(slug)
        created, state = await webhooks.subscribe(
            services.store, services.kek, org, data.url, data.events
        )
        return WebhookCreated(subscription=_view(state), secret=created.secret)

    @get(
        "/",
        summary="The organization's webhook subscriptions and how far each was delivered (admin)",
        **read("listWebhooks", "webhooks", roles=C.ADMIN),
    )
    async def list_subscriptions(
        self, services: NamedDependency[Services], slug: FromPath[str]
    ) -> list[WebhookView]:
        org = await services.organization(slug)
        async with services.store.connection() as conn:
            return [_view(s) for s in await W.subscriptions(conn, org.id)]

    @delete(
        "/{sub_id:str}",
        status_code=204,
        summary="Remove a webhook subscription: nothing more is delivered to it (admin)",
        **read("deleteWebhook", "webhooks", roles=C.ADMIN),
    )
    async def remove(
        self, services: NamedDependency[Services], slug: FromPath[str], sub_id: FromPath[str]
    ) -> None:
        await webhooks.unsubscribe(services.store, await services.organization(slug), _id(sub_id))

    @get(
        "/{sub_id:str}/deliveries",
        summary="The delivery log of a subscription, newest first (admin)",
        **read("listWebhookDeliveries", "webhooks", roles=C.ADMIN),
    )
    async def deliveries(
        self, services: NamedDependency[Services], slug: FromPath[str], sub_id: FromPath[str]
    ) -> list[WebhookDeliveryView]:
        org = await services.organization(slug)
        async with services.store.connection() as conn:
            found = await W.deliveries(conn, org.id, _id(sub_id), 1000)
        return [
            WebhookDeliveryView(
                seq=d.seq,
                attempt=d.attempt,
                attempted_at=format_time(d.attempted_at),
                status=d.status,
                error=d.error,
                duration_ms=d.duration_ms,
            )
            for d in found
        ]
