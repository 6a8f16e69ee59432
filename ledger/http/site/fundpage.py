"""A fund's (campaign's) public page, ``/orgs/{slug}/funds/{code}``: raised, disbursed, fees
and balance (the API's ``GET …/funds/{code}`` figures), overhead against its cap, and
server-rendered SVG charts (``ledger.http.site.charts``): money in and out per month, the
disbursements by category and by beneficiary, each with a table of the same numbers; then
the newest disbursements. Open Graph and Twitter card tags carry the verifiable headline
("Rp X terkumpul · Rp Y tersalurkan ke N panti asuhan").

Caching: the page depends only on the log (its size) and the language, so its ``ETag`` is
computed from those before anything else is read, ``If-None-Match`` is answered 304 after
one small query, and a page already rendered for that tag is served from this process's
``PageCache`` (``ledger.http.site.caching``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from markupsafe import Markup

from ledger.charity import compliance, reads
from ledger.errors import NotFoundError
from ledger.http.services import Services
from ledger.http.site import caching, charts
from ledger.http.site.display import Money, month_text
from ledger.http.site.i18n import Translator, resolve_lang
from ledger.http.site.pages import SECURITY_HEADERS, Lang, not_found, render_bytes
from ledger.http.site.views import FundRow, all_beneficiaries
from ledger.store import charity as P
from ledger.store.log import Organization
from schemas import kinds
from schemas.compliance import FundCompliance

LATEST = 10
"""Disbursements listed on the page."""
PAGES = caching.PageCache()
"""Rendered fund pages of this process, by entity tag (the log's size, fund, language)."""


@dataclass(frozen=True)
class Row:
    """A line of a chart's table (its text alternative)."""

    label: str
    amount: Money
    share: str
    """Percentage of the whole (``46,51%``), or empty."""


@dataclass(frozen=True)
class Movement:
    index: int
    beneficiary: str
    amount: Money
    value_on: str
    reversed_by: int | None


@dataclass(frozen=True)
class FundPage:
    org: Organization
    fund: FundRow
    monthly_svg: Markup
    monthly_rows: list[tuple[str, Money, Money]]
    purpose_svg: Markup
    purpose_rows: list[Row]
    beneficiary_svg: Markup
    beneficiary_rows: list[Row]
    latest: list[Movement]
    beneficiaries_paid: int
    """How many beneficiaries received money from this fund."""
    checked_on: str
    """Today (UTC), as the share card says "diperiksa"."""
    size: int
    """Log size the page was built from."""
    standing: FundCompliance | None = None
    """The fund's classes and permits (``fund.classified``, ``fund.permit``)."""
    permit_state: str = "none"
    """Today's permit status: ``valid``, ``lapsed``, ``exempt`` or ``none`` (not recorded)."""


async def fund_page(services: Services, org: Organization, code: str, lang: str) -> FundPage:
    t = Translator(resolve_lang(lang))
    view = await reads.fund_view(services.reader, org, code)
    activity = await reads.fund_activity(services.reader, org, code, LATEST)
    names = {b.code: b.name for b in await all_beneficiaries(services, org)}
    row = FundRow.of(view)
    standing = await compliance.fund_view(services.reader, org.id, code)

    def money(amount: int) -> Money:
        return Money(amount, view.currency, view.minor_units)

    def text(amount: int) -> str:
        return money(amount).text

    months: dict[str, list[int]] = {}
    for flow in activity.monthly:
        month, kind = flow.key
        pair = months.setdefault(str(month), [0, 0])
        pair[0 if kind == kinds.DONATION else 1] += flow.total
    chosen = resolve_lang(lang)
    labelled = [
        (month_text(dt.date.fromisoformat(m), chosen), v[0], v[1]) for m, v in sorted(months.items())
    ]
    monthly_svg = charts.monthly_chart(
        [charts.MonthBars(label, i, o) for label, i, o in labelled],
        text,
        title=t("f_chart_monthly"),
        desc=t("f_chart_monthly_desc", fund=view.name),
        inflow_label=t("f_inflow"),
        outflow_label=t("f_outflow"),
    )
    by_purpose: dict[str, int] = {}
    by_beneficiary: dict[str, int] = {}
    for flow in activity.split:
        beneficiary, purpose = flow.key
        key = "purpose_" + str(purpose)
        label = t(key) if t.has(key) else str(purpose)
        by_purpose[label] = by_purpose.get(label, 0) + flow.total
        who = names.get(str(beneficiary), str(beneficiary))
        by_beneficiary[who] = by_beneficiary.get(who, 0) + flow.total
    total_out = sum(by_purpose.values())

    def rows(values: dict[str, int]) -> list[Row]:
        ordered = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
        return [Row(k, money(v), charts.percent(v, total_out)) for k, v in ordered]

    return FundPage(
        org=org,
        fund=row,
        monthly_svg=monthly_svg,
        monthly_rows=[(label, money(i), money(o)) for label, i, o in labelled],
        purpose_svg=charts.share_chart(
            [charts.Share(k, v) for k, v in by_purpose.items()],
            text,
            title=t("f_chart_purpose"),
            desc=t("f_chart_purpose_desc", fund=view.name),
            chart_id="by-purpose",
        ),
        purpose_rows=rows(by_purpose),
        beneficiary_svg=charts.share_chart(
            [charts.Share(k, v) for k, v in by_beneficiary.items()],
            text,
            title=t("f_chart_beneficiary"),
            desc=t("f_chart_beneficiary_desc", fund=view.name),
            chart_id="by-beneficiary",
        ),
        beneficiary_rows=rows(by_beneficiary),
        latest=[
            Movement(
                m.index,
                names.get(m.counterparty or "", m.counterparty or ""),
                money(m.amount),
                m.value_on.isoformat(),
                m.corrected_by,
            )
            for m in activity.latest
        ],
        beneficiaries_paid=len(by_beneficiary),
        checked_on=dt.datetime.now(dt.UTC).date().isoformat(),
        size=0,
        standing=standing,
        permit_state=compliance.permit_state(standing, await _today(services, org)),
    )


async def _today(services: Services, org: Organization) -> dt.date:
    """Today in the organization's calendar (a permit's days are its local dates)."""
    async with services.reader.connection() as conn:
        calendar = await P.org_calendar(conn, org)
    return calendar.today(services.clock())


class FundPages(Controller):
    """A fund's public page."""

    path = "/"
    include_in_schema = False
    exception_handlers = {NotFoundError: not_found}

    @get("/orgs/{slug:str}/funds/{code:str}")
    async def fund(
        self,
        request: Request,
        services: NamedDependency[Services],
        slug: FromPath[str],
        code: FromPath[str],
        lang: Lang = None,
    ) -> Template | Response[bytes]:
        org = await services.organization(slug)
        size = (await services.reader.head(org.id)).size
        tag = caching.etag("fund", org.id, size, code, resolve_lang(lang))
        headers = caching.headers(tag, caching.SHORT)
        if caching.fresh(request, tag):
            return caching.not_modified(headers)
        chosen = resolve_lang(lang)
        page_headers = {"Content-Language": chosen, **SECURITY_HEADERS, **headers}
        cached = PAGES.get(tag, request.url.query)
        if cached is not None:
            return Response(cached, media_type="text/html", headers=page_headers)
        view = await fund_page(services, org, code, chosen)
        response = render_bytes(request, "fund.html", view, lang, headers=headers)
        PAGES.put(tag, request.url.query, response.content)
        return response
