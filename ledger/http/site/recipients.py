"""The orphanage's pages: enrol a key on a one-time link, acknowledge or dispute disbursements.

Mobile first, Bahasa Indonesia by default (``?lang=en``), their text through the gettext
catalog (``ledger.messages``). The private key is made and kept by the phone's browser
(``static/recipient.js``: WebCrypto Ed25519, a non-extractable key in IndexedDB, an optional
passphrase-encrypted backup file); the page sends only the public key and signatures. So
these pages, unlike the rest of the site, may talk to their own server (``connect-src
'self'``), and to nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, PathParameter
from litestar.response import Template

from ledger.charity import acknowledgments as A
from ledger.errors import NotFoundError
from ledger.http.services import Services
from ledger.http.site import views
from ledger.http.site.display import Money
from ledger.http.site.pages import SECURITY_HEADERS, Lang, not_found, render
from schemas.recipients import AcknowledgmentView, EnrolmentView

PAGE_CSP = SECURITY_HEADERS["Content-Security-Policy"].replace(
    "connect-src 'none'", "connect-src 'self'"
)
"""The site's policy, except that the page may send the public key and signatures to its
own server."""

Token = Annotated[str, PathParameter(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


@dataclass(frozen=True)
class EnrolPage:
    enrolment: EnrolmentView
    token: str


@dataclass(frozen=True)
class AckItem:
    view: AcknowledgmentView
    amount: Money
    received: Money | None


@dataclass(frozen=True)
class AckPage:
    org: str
    org_name: str
    beneficiary: str
    beneficiary_name: str
    items: list[AckItem]
    single: bool


def _item(v: AcknowledgmentView) -> AckItem:
    m = v.message
    received = Money(v.received, m.currency, m.minor_units) if v.received is not None else None
    return AckItem(v, Money(m.amount, m.currency, m.minor_units), received)


def _page(request: Request, template: str, view: Any, lang: str | None) -> Template:
    page = render(request, template, view, lang)
    page.headers["Content-Security-Policy"] = PAGE_CSP
    page.headers["Cache-Control"] = "no-store"
    return page


async def _names(services: Services, slug: str, code: str) -> tuple[Any, str]:
    org = await services.organization(slug)
    names = {b.code: b.name for b in await views.all_beneficiaries(services, org)}
    if code not in names:
        raise NotFoundError(f"no beneficiary {code!r} in {slug}")
    return org, names[code]


class RecipientPages(Controller):
    """``/daftar/{token}``, a beneficiary's list and one disbursement's page."""

    path = "/"
    include_in_schema = False
    exception_handlers = {NotFoundError: not_found}

    @get("/daftar/{token:str}")
    async def enrol(
        self,
        request: Request,
        services: NamedDependency[Services],
        token: Annotated[str, Token],
        lang: Lang = None,
    ) -> Template:
        view = await A.enrolment_view(services.store, token, services.clock())
        return _page(request, "enrol.html", EnrolPage(view, token), lang)

    @get("/orgs/{slug:str}/beneficiaries/{code:str}/acknowledge")
    async def beneficiary(
        self,
        request: Request,
        services: NamedDependency[Services],
        slug: FromPath[str],
        code: FromPath[str],
        lang: Lang = None,
    ) -> Template:
        org, name = await _names(services, slug, code)
        today = A.local_today(services.clock())
        items = [_item(v) for v in await A.beneficiary_views(services.store, org, code, today)]
        page = AckPage(org.slug, org.name, code, name, items, single=False)
        return _page(request, "acknowledge.html", page, lang)

    @get("/orgs/{slug:str}/disbursements/{index:int}/acknowledge")
    async def disbursement(
        self,
        request: Request,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: Annotated[int, PathParameter(ge=0, le=2**53 - 1)],
        lang: Lang = None,
    ) -> Template:
        org = await services.organization(slug)
        today = A.local_today(services.clock())
        v = await A.acknowledgment_view(services.store, org, index, today)
        org, name = await _names(services, slug, v.message.beneficiary)
        page = AckPage(org.slug, org.name, v.message.beneficiary, name, [_item(v)], single=True)
        return _page(request, "acknowledge.html", page, lang)
