"""The console's gateway settings (admin): which payment gateways (Midtrans, Xendit) the
organization connected, their fund rules, the notification URL to paste into each gateway's
dashboard, and a form to connect or replace a connection.

The same use cases as the API's ``GET …/gateways`` and ``PUT …/gateways/midtrans|xendit``
(``ledger.ingest.connections.views`` and ``connect``): the form is read into the API's own
request document (``GatewayConnect`` with its ``FundRule``, every constraint of the schema),
and a connection stores a new version with its secret sealed under the key-encryption key.
The server key or callback token is typed in a password field, never shown again and never
sent back to the browser, not even on a refused form. The console writes order-id prefix
rules (the common case); a custom-field rule set through the API is shown as it is, and
replacing it here makes it a prefix rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from ledger.errors import InvalidInputError, LedgerError, NotFoundError
from ledger.http.api.explain import explain
from ledger.http.console import views
from ledger.http.console.session import (
    HEADERS,
    ROLES_OPT,
    ROOT,
    ConsoleController,
    Translator,
    current,
    language,
    organization_of,
    posted,
    render,
)
from ledger.http.services import Services
from ledger.ingest import connections
from schemas.gateways import GatewayConnect, GatewayView

ADMIN = {ROLES_OPT: ("admin",)}
"""As the API: only admins see or change gateway connections (``contract.ADMIN``)."""
GATEWAYS: dict[str, str] = {"midtrans": "Midtrans", "xendit": "Xendit"}
"""The gateways a charity can connect (``schemas.gateways.Gateway``)."""
SECRET_NAMES: dict[str, str] = {
    "midtrans": "Server key (Midtrans Dashboard → Settings → Access Keys)",
    "xendit": "Callback verification token (Xendit Dashboard → Settings → Webhooks)",
}
"""What the secret is called in each gateway's dashboard (msgids of the catalog)."""
PREFIX_ROWS = 3
"""Empty prefix rows offered beyond the rule's own (the schema allows up to 100)."""


@dataclass(frozen=True)
class GatewayForm:
    """What the connect form of one gateway shows: the rule's rows and the default fund
    (the secret is never among them)."""

    rows: list[tuple[str, str]]
    """(order-id prefix, fund code), the rule's own first, then empty rows."""
    default: str
    """The default fund's code, or empty for none."""
    error: str | None = None
    """Why the last attempt was refused, in the admin's language."""


def _form_of(view: GatewayView | None) -> GatewayForm:
    rows: list[tuple[str, str]] = []
    default = ""
    if view is not None and view.fund_rule.by == "order_prefix":
        rows = sorted(view.fund_rule.funds.items())
    if view is not None:
        default = view.fund_rule.default or ""
    return GatewayForm([*rows, *[("", "")] * PREFIX_ROWS], default)


def read_connect(form: dict[str, Any]) -> tuple[GatewayForm, dict[str, Any]]:
    """The form as the API's request document (not yet checked) and as it comes back when
    refused. Rows with neither a prefix nor a fund are ignored."""
    rows: list[tuple[str, str]] = []
    index = 0
    while f"prefix_{index}" in form or f"fund_{index}" in form:
        prefix = str(form.get(f"prefix_{index}", "")).strip()
        fund = str(form.get(f"fund_{index}", "")).strip()
        if prefix or fund:
            rows.append((prefix, fund))
        index += 1
    default = str(form.get("default", "")).strip()
    rule: dict[str, Any] = {"by": "order_prefix", "funds": dict(rows)}
    if default:
        rule["default"] = default
    document = {"secret": str(form.get("secret", "")).strip(), "fund_rule": rule}
    return GatewayForm([*rows, *[("", "")] * PREFIX_ROWS], default), document


def _checked_rows(rows: list[tuple[str, str]], default: str) -> None:
    """A row with only half filled in, or a prefix given twice, is a mistake the clerk
    should see (a dictionary would silently keep one of them); a rule with neither a row nor
    a default fund, which the schema also refuses, is said in the form's own words."""
    if not rows and not default:
        raise InvalidInputError.of(
            "fill in at least one prefix and its fund, or choose a default fund"
        )
    seen: set[str] = set()
    for prefix, fund in rows:
        if not prefix or not fund:
            raise InvalidInputError.of(
                "each row needs both an order-id prefix and a fund; clear the row to remove it"
            )
        if prefix in seen:
            raise InvalidInputError.of("the prefix {prefix} is given twice", prefix=prefix)
        seen.add(prefix)


class ConsoleGateways(ConsoleController):
    """``/console/gateways``: see and connect the organization's payment gateways."""

    @get("/gateways", opt=ADMIN)
    async def gateways_page(
        self,
        request: Request,
        services: NamedDependency[Services],
        saved: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        return await self._page(request, services, {}, GATEWAYS.get(saved or ""))

    async def _page(
        self,
        request: Request,
        services: Services,
        refused: dict[str, GatewayForm],
        saved: str | None,
        status: int = 200,
    ) -> Response[Any]:
        who, _ = current(request)
        org = await organization_of(services, who)
        connected = {v.gateway: v for v in await connections.views(services.store, org)}
        funds = await views.funds(services, org)
        base = services.settings.public_url.rstrip("/")
        return render(
            request,
            "console/gateways.html",
            status=status,
            active="gateways",
            org=org,
            gateways=[
                (
                    code,
                    name,
                    SECRET_NAMES[code],
                    connected.get(code),
                    base + connections.NOTIFICATION_PATHS[code].format(slug=org.slug),
                    refused.get(code) or _form_of(connected.get(code)),
                )
                for code, name in GATEWAYS.items()
            ],
            fund_names={f.code: f.name for f in funds},
            fund_options=[(f.code, f"{f.name} ({f.code})") for f in funds],
            saved=saved,
        )

    @post("/gateways/{gateway:str}", opt=ADMIN)
    async def connect(
        self, request: Request, services: NamedDependency[Services], gateway: FromPath[str]
    ) -> Response[Any]:
        form, _, org, _ = await posted(request, services)
        if gateway not in GATEWAYS:
            raise NotFoundError.of("no gateway {gateway} here", gateway=gateway)
        shown, document = read_connect(form)
        try:
            _checked_rows([r for r in shown.rows if r != ("", "")], shown.default)
            wanted = _decoded(document)
            await services.gateways.connect(org, gateway, wanted)
        except LedgerError as exc:
            t = Translator(language(request))
            refused = GatewayForm(shown.rows, shown.default, t.error(exc))
            return await self._page(request, services, {gateway: refused}, None, 422)
        return _saved(gateway)


def _decoded(document: dict[str, Any]) -> GatewayConnect:
    try:
        return msgspec.convert(document, GatewayConnect, strict=False)
    except msgspec.ValidationError as exc:
        raise explain(str(exc), GatewayConnect) from None


def _saved(gateway: str) -> Response[Any]:
    return Redirect(f"{ROOT}/gateways?saved={gateway}", status_code=303, headers=HEADERS)
