"""Payment gateways: an admin connects Midtrans or Xendit; the gateways post notifications.

The notification routes take no API key: the gateway proves itself with the Midtrans
``signature_key`` or the Xendit ``x-callback-token``, checked against the secret the admin
connected (``ledger.ingest``). They need no ``Idempotency-Key`` either: a notification is
idempotent on its payment and event, whatever the gateway resends. They answer 200 once
the notification is safe (recorded, waiting for its settlement, or moving no money).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import FromPath, HeaderParameter, JSONBody

from ledger import errors as E
from ledger.http.api import contract as C
from ledger.http.api import examples as X
from ledger.http.api.bodies import StrictBody
from ledger.http.api.contract import read
from ledger.http.auth import guard
from ledger.http.services import Services
from ledger.ingest import connections, midtrans, xendit
from schemas.gateways import (
    GatewayAck,
    GatewayConnect,
    GatewayView,
    MidtransNotification,
    XenditCallback,
)

CallbackToken = Annotated[
    str | None,
    HeaderParameter(
        name="x-callback-token",
        description="The callback verification token of the Xendit dashboard.",
        examples=[Example(value="xnd_callback_token_abcdefgh")],
    ),
]
NOTIFIED = (E.GatewaySignatureError, E.GatewayNotConnectedError, E.UnroutedPaymentError,
            E.UnknownFundError, E.CurrencyMismatchError, E.RuleError, E.ConflictError)
"""What a notification may be refused for (beyond a malformed body)."""


class GatewayController(Controller):
    path = "/v1/orgs/{slug:str}/gateways"
    guards = [guard]
    dto = StrictBody  # bodies decoded once, strictly (ledger.http.api.bodies)
    return_dto = None

    @put(
        "/midtrans",
        summary="Connect Midtrans: its server key (sealed) and the fund rule (admin)",
        **read(
            "connectMidtrans",
            "gateways",
            roles=C.ADMIN,
            body=True,
            example=X.GATEWAY_CONNECT,
            raises=(E.ConflictError,),
        ),
    )
    async def connect_midtrans(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        data: JSONBody[GatewayConnect],
    ) -> GatewayView:
        org = await services.organization(slug)
        return await services.gateways.connect(org, "midtrans", data)

    @put(
        "/xendit",
        summary="Connect Xendit: its callback token (sealed) and the fund rule (admin)",
        **read(
            "connectXendit",
            "gateways",
            roles=C.ADMIN,
            body=True,
            example=X.GATEWAY_CONNECT,
            raises=(E.ConflictError,),
        ),
    )
    async def connect_xendit(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        data: JSONBody[GatewayConnect],
    ) -> GatewayView:
        org = await services.organization(slug)
        return await services.gateways.connect(org, "xendit", data)

    @get(
        "/",
        summary="The connected gateways and their fund rules, never the secrets (admin)",
        **read("listGateways", "gateways", roles=C.ADMIN),
    )
    async def list_gateways(
        self, services: NamedDependency[Services], slug: FromPath[str]
    ) -> list[GatewayView]:
        return await connections.views(services.store, await services.organization(slug))

    @post(
        "/midtrans/notifications",
        status_code=200,
        summary="Midtrans HTTP notification (signed with the server key; no API key)",
        **read(
            "receiveMidtransNotification",
            "gateways",
            body=True,
            example=X.MIDTRANS_NOTIFICATION,
            raises=NOTIFIED,
        ),
    )
    async def midtrans_notification(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[MidtransNotification],
    ) -> GatewayAck:
        org = await services.organization(slug)
        raw = await request.body()
        return await midtrans.receive(
            services.gateways, services.appender, services.clock, org, data, raw
        )

    @post(
        "/xendit/callbacks",
        status_code=200,
        summary="Xendit callback: invoice, QR code, payment and refund events (no API key)",
        **read(
            "receiveXenditCallback",
            "gateways",
            body=True,
            example=X.XENDIT_CALLBACK,
            raises=NOTIFIED,
        ),
    )
    async def xendit_callback(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[XenditCallback],
        x_callback_token: CallbackToken = None,
    ) -> GatewayAck:
        org = await services.organization(slug)
        raw = await request.body()
        return await xendit.receive(
            services.gateways,
            services.appender,
            services.clock,
            org,
            x_callback_token,
            data,
            raw,
        )
