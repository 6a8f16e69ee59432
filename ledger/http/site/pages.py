"""The public site's pages: thin handlers that build a view model and render its template.

Every page takes ``?lang=id|en`` (default id). Pages send a Content-Security-Policy that
allows only this site's own styles and scripts and forbids the scripts any network request
(``connect-src 'none'``): the browser verifier cannot ask the server for a verdict, and no
page can pull anything from another host.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from ledger.errors import NotFoundError
from ledger.http.api import IndexQuery
from ledger.http.services import Services
from ledger.http.site import caching, views
from ledger.http.site.i18n import (
    DEFAULT_LANG,
    LANGUAGE_NAMES,
    LANGUAGES,
    Translator,
    resolve_lang,
    switch_url,
)
from ledger.messages import translate
from ledger.store.log import Head, Organization
from schemas.base import MAX_INDEX

ASSETS = "/site-assets"
"""Where the site's own CSS and scripts are served from."""

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
        "connect-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""Sent with every page, 404 pages included."""

Lang = Annotated[str | None, QueryParameter(description="Page language: id (default) or en")]


class Gettext:
    """Page text in the page's language from the gettext catalog (``ledger.messages``; the
    msgids are English), as templates call it: ``g("received {amount}", amount=...)``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, text: str, **params: Any) -> str:
        translated = translate(text, self.lang)  # type: ignore[arg-type]
        return translated.format(**params) if params else translated


def render(
    request: Request,
    template: str,
    view: Any,
    lang: str | None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    """The page ``template`` for ``view`` in the requested language (``headers`` added to, and
    overriding, the security headers)."""
    chosen = resolve_lang(lang)
    query = dict(request.query_params)

    def link(path: str, **params: object) -> str:
        """A link to another page of the site, in this page's language."""
        pairs = [(k, str(v)) for k, v in params.items() if v is not None]
        if chosen != DEFAULT_LANG:
            pairs.append(("lang", chosen))
        return path + ("?" + urlencode(pairs) if pairs else "")

    context = {
        "view": view,
        "lang": chosen,
        "t": Translator(chosen),
        "g": Gettext(chosen),
        "link": link,
        "assets": ASSETS,
        "switch": [
            (code, LANGUAGE_NAMES[code], switch_url(request.url.path, query, code))
            for code in LANGUAGES
        ],
    }
    return Template(
        template,
        context=context,
        status_code=status,
        media_type="text/html",
        headers={"Content-Language": chosen, **SECURITY_HEADERS, **(headers or {})},
    )


def render_bytes(
    request: Request, template: str, view: Any, lang: str | None, *, headers: dict[str, str]
) -> Response[bytes]:
    """``render``, rendered now: the HTML bytes in a response (to keep in a ``PageCache``)."""
    page = render(request, template, view, lang, headers=headers)
    html = request.app.template_engine.get_template(template).render(**page.context)
    return Response(html.encode(), media_type="text/html", headers=dict(page.headers))


def not_found(request: Request, exc: NotFoundError) -> Template:
    """A 404 page in the page's language (API routes keep answering problem+json)."""
    return render(request, "not_found.html", None, request.query_params.get("lang"), status=404)


def org_tag(org: Organization, head: Head, before: int | None, lang: str | None) -> str:
    """The organization page's entity tag (the route and the revalidation fast path call it)."""
    return caching.etag("org", org.id, caching.log_state(head), before, resolve_lang(lang))


def entry_tag(org: Organization, head: Head, index: str, lang: str | None) -> str:
    """An entry page's entity tag: the log's state (the page shows a later reversal), the
    index as the path gives it, the language."""
    return caching.etag("entry", org.id, caching.log_state(head), index, resolve_lang(lang))


class SitePages(Controller):
    """Home, organization, entry, statement and verify pages."""

    path = "/"
    include_in_schema = False
    exception_handlers = {NotFoundError: not_found}

    @get("/")
    async def home(
        self,
        request: Request,
        services: NamedDependency[Services],
        lang: Lang = None,
        after: IndexQuery = 0,
    ) -> Template:
        return render(request, "home.html", await views.home_page(services, after), lang)

    @get("/orgs/{slug:str}")
    async def organization(
        self,
        request: Request,
        services: NamedDependency[Services],
        slug: FromPath[str],
        lang: Lang = None,
        before: Annotated[int | None, QueryParameter(ge=0, le=MAX_INDEX)] = None,
    ) -> Template | Response[bytes]:
        org = await services.organization(slug)
        tag = org_tag(org, await services.reader.head(org.id), before, lang)
        headers = caching.headers(tag, caching.SHORT)
        if caching.fresh(request, tag):
            return caching.not_modified(headers)
        view = await views.org_page(request.app, services, slug, before)
        return render(request, "org.html", view, lang, headers=headers)

    @get("/orgs/{slug:str}/entries/{index:str}")
    async def entry(
        self,
        request: Request,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: FromPath[str],
        lang: Lang = None,
    ) -> Template | Response[bytes]:
        org = await services.organization(slug)
        tag = entry_tag(org, await services.reader.head(org.id), index, lang)
        headers = caching.headers(tag, caching.ENTRY)
        if caching.fresh(request, tag):
            if caching.any_representation(request):  # an entry not in the log: 404, not 304
                await services.reader.entry(org.id, views.parse_index(index))
            return caching.not_modified(headers)
        view = await views.entry_page(services, slug, views.parse_index(index))
        return render(request, "entry.html", view, lang, headers=headers)

    @get("/orgs/{slug:str}/statements/{number:str}")
    async def statement(
        self,
        request: Request,
        services: NamedDependency[Services],
        slug: FromPath[str],
        number: FromPath[str],
        lang: Lang = None,
    ) -> Template:
        view = await views.statement_page(request.app, services, slug, views.parse_index(number))
        return render(request, "statement.html", view, lang)

    @get("/verify")
    async def verify(
        self,
        request: Request,
        services: NamedDependency[Services],
        lang: Lang = None,
        org: Annotated[str | None, QueryParameter()] = None,
        entry: Annotated[int | None, QueryParameter(ge=0, le=MAX_INDEX)] = None,
    ) -> Template:
        view = await views.verify_page(services, org, entry)
        return render(request, "verify.html", view, lang)
