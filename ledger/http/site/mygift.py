""""Cek donasi saya": a donor finds their gift with its payment reference and receipt code
(``ledger.charity.mygift``), sees whether it still counts, and downloads their receipt.

Pages: ``GET /my-gift`` (the form), ``POST /my-gift`` (a match redirects to the gift's own
page; anything else shows the one "not found" answer), ``GET /orgs/{slug}/my-gift/{index}/{code}``
(the gift: what the public log says and its status, nothing personal) with
``…/receipt.pdf`` (the signed PDF, proof attached) and ``…/receipt.json`` (the receipt with
the donor's opening). The code is the only key: these answers are never cached by shared
caches (``Cache-Control: private, no-store``) and send no referrer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from ledger.charity import documents, mygift, receipts, taxreceipts
from ledger.errors import NotFoundError
from ledger.http.services import Services
from ledger.http.site.display import Money
from ledger.http.site.i18n import resolve_lang
from ledger.http.site.pages import Lang, not_found, render
from ledger.store.log import Organization

PRIVATE = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
"""Headers of every answer that a receipt code opened."""


@dataclass
class FindForm:
    """The lookup form, as posted."""

    org: str = ""
    reference: str = ""
    code: str = ""


@dataclass(frozen=True)
class OrgChoice:
    slug: str
    name: str


@dataclass(frozen=True)
class FindPage:
    orgs: list[OrgChoice]
    chosen: str
    failed: bool


@dataclass(frozen=True)
class GiftPage:
    org: Organization
    gift: mygift.Gift
    amount: Money
    received_on: str
    reversal_day: str
    base: str
    """Path of the gift's page (the downloads hang below it)."""
    tax_receipt: bool = False
    """The gift gets a tax receipt (a deductible fund, the donor's NPWP or NIK and full
    name): the page offers it."""


async def _find_page(services: Services, chosen: str, failed: bool) -> FindPage:
    orgs = await services.reader.organizations(0, 200)
    return FindPage([OrgChoice(o.slug, o.name) for o in orgs], chosen, failed)


class DonorPages(Controller):
    """The donor's own gift: find it, see it, download its receipt."""

    path = "/"
    include_in_schema = False
    exception_handlers = {NotFoundError: not_found}

    @get("/my-gift")
    async def find_form(
        self,
        request: Request,
        services: NamedDependency[Services],
        lang: Lang = None,
        org: Annotated[str | None, QueryParameter()] = None,
    ) -> Template:
        return render(request, "my_gift_find.html", await _find_page(services, org or "", False), lang)

    @post("/my-gift", status_code=200)
    async def find(
        self,
        request: Request,
        services: NamedDependency[Services],
        data: Annotated[FindForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        lang: Lang = None,
    ) -> Template | Redirect:
        try:
            org = await services.organization(data.org)
            index = await mygift.find_gift(
                services.store, org, services.kek, data.reference, data.code
            )
        except NotFoundError:
            page = await _find_page(services, data.org, True)
            return render(request, "my_gift_find.html", page, lang, status=404, headers=PRIVATE)
        target = mygift.gift_path(org.slug, index, data.code)
        if resolve_lang(lang) == "en":
            target += "?lang=en"
        return Redirect(target, status_code=303, headers=PRIVATE)

    @get("/orgs/{slug:str}/my-gift/{index:int}/{code:str}")
    async def gift(
        self,
        request: Request,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: FromPath[int],
        code: FromPath[str],
        lang: Lang = None,
    ) -> Template:
        org = await services.organization(slug)
        g = await mygift.gift(services.store, org, services.kek, index, code)
        view = GiftPage(
            org,
            g,
            Money(g.amount, g.currency, g.minor_units),
            g.received_on.isoformat(),
            g.reversal.effective_on.isoformat() if g.reversal else "",
            mygift.gift_path(org.slug, index, code),
            await taxreceipts.available(services.store, org, index),
        )
        return render(request, "my_gift.html", view, lang, headers=PRIVATE)

    @get("/orgs/{slug:str}/my-gift/{index:int}/{code:str}/receipt.pdf", media_type="application/pdf")
    async def gift_pdf(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: FromPath[int],
        code: FromPath[str],
        lang: Lang = None,
    ) -> Response[bytes]:
        org = await services.organization(slug)
        await mygift.gift(services.store, org, services.kek, index, code)
        chosen = resolve_lang(lang)
        pdf = await documents.receipt_pdf(
            services.store, org, services.kek, index, chosen, services.settings.signed_link_base()
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                **PRIVATE,
                "Content-Disposition": f'attachment; filename="receipt-{slug}-{index}-{chosen}.pdf"',
            },
        )

    @get(
        "/orgs/{slug:str}/my-gift/{index:int}/{code:str}/tax-receipt.pdf",
        media_type="application/pdf",
    )
    async def gift_tax_pdf(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: FromPath[int],
        code: FromPath[str],
        lang: Lang = None,
    ) -> Response[bytes]:
        """The donor's own tax receipt (their NPWP or NIK and name: only the code opens it)."""
        org = await services.organization(slug)
        await mygift.gift(services.store, org, services.kek, index, code)
        chosen = resolve_lang(lang)
        pdf, number = await taxreceipts.tax_receipt_pdf(
            services.store, org, services.kek, index, chosen, services.settings.signed_link_base()
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                **PRIVATE,
                "Content-Disposition": "attachment; "
                f'filename="{taxreceipts.file_name(slug, number, chosen)}"',
            },
        )

    @get("/orgs/{slug:str}/my-gift/{index:int}/{code:str}/receipt.json", media_type="application/json")
    async def gift_json(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: FromPath[int],
        code: FromPath[str],
    ) -> Response[bytes]:
        org = await services.organization(slug)
        await mygift.gift(services.store, org, services.kek, index, code)
        data: dict[str, Any] = await receipts.receipt(services.store, org, services.kek, index)
        return Response(
            json.dumps(data, ensure_ascii=False).encode(),
            media_type="application/json",
            headers={
                **PRIVATE,
                "Content-Disposition": f'attachment; filename="receipt-{slug}-{index}.json"',
            },
        )
