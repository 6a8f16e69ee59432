"""A fund's (campaign's) public page, ``/orgs/{slug}/funds/{code}``: raised, disbursed, fees
and balance (the API's ``GET …/funds/{code}`` figures), overhead against its cap, and
server-rendered SVG charts (``ledger.http.site.charts``): money in and out per month, the
disbursements by category and by beneficiary, each with a table of the same numbers; then
the newest disbursements with their evidence status (none, attached but private, public).
With a target (``fund.target``) a progress bar says how much of it was raised and how many
days are left. Open Graph and Twitter card tags carry the verifiable headline ("Rp X
terkumpul · Rp Y tersalurkan ke N panti asuhan · diperiksa …", and the target reached) and
point to the share card, a PNG with the same words (``/orgs/{slug}/funds/{code}/card.png``,
``ledger.http.site.sharecard``).

Caching: the page and its card depend only on the log (its size), the language and the day
(days left, "diperiksa"), so their ``ETag`` is computed from those (the day as the UTC hour,
which changes at every time zone's midnight) before anything else is read, ``If-None-Match``
is answered 304 after one small query, and a page or card already rendered for that tag is
served from this process's ``PageCache`` (``ledger.http.site.caching``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from markupsafe import Markup

from ledger.charity import compliance, reads, targets
from ledger.charity.acknowledgments import local_today
from ledger.errors import NotFoundError
from ledger.http.services import Services
from ledger.http.site import caching, charts, sharecard
from ledger.http.site.display import Money, day_text, month_text
from ledger.http.site.i18n import Translator, resolve_lang
from ledger.http.site.pages import SECURITY_HEADERS, Lang, not_found, render_bytes
from ledger.http.site.views import FundRow, all_beneficiaries
from ledger.store import charity as P
from ledger.store import publication as PUB
from ledger.store.log import Head, Organization
from schemas import kinds
from schemas.compliance import FundCompliance
from schemas.targets import FundTargetView

LATEST = 10
"""Disbursements listed on the page."""
PAGES = caching.PageCache()
"""Rendered fund pages of this process, by entity tag (the log's size, fund, language, hour)."""
CARDS = caching.PageCache(128)
"""Rendered share cards (PNG) of this process, by entity tag."""


@dataclass(frozen=True)
class Row:
    """A line of a chart's table (its text alternative)."""

    label: str
    amount: Money
    share: str
    """Percentage of the whole (``46,51%``), or empty."""


@dataclass(frozen=True)
class PublicCopy:
    """A published, redacted copy of a disbursement's evidence (``evidence.published``)."""

    entry: int
    sha256: str
    content_type: str
    redactions: str
    original: str


@dataclass(frozen=True)
class Movement:
    index: int
    beneficiary: str
    amount: Money
    value_on: str
    reversed_by: int | None
    evidence: str = "none"
    """``none``, ``attached`` (private originals only), ``public`` (a redacted copy is
    served) or ``withdrawn`` (every copy published was withdrawn)."""
    public: tuple[PublicCopy, ...] = ()
    """The copies still served."""
    withdrawn: tuple[str, str] | None = None
    """(day, reason) of the newest withdrawal when the status is ``withdrawn``."""


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
    target: FundTargetView | None = None
    """The fund's target against what it raised (``amount`` None: no target)."""
    card: str = ""
    """The share text: ``og:description``, the card's words (`` · ``-separated)."""
    image_url: str = ""
    """Absolute URL of the share card (``LEDGER_PUBLIC_URL``)."""
    page_url: str = ""
    """Absolute URL of this page."""

    @property
    def target_money(self) -> Money | None:
        t = self.target
        if t is None or t.amount is None:
            return None
        return Money(t.amount, t.currency, t.minor_units)


def card_text(
    t: Translator, raised: Money, disbursed: Money, n: int, day: str, target: FundTargetView
) -> str:
    """The share text: the page's ``og:description`` and the card's words, one source."""
    text = t("f_card", raised=raised.text, disbursed=disbursed.text, n=n, day=day)
    if target.amount is not None:
        goal = Money(target.amount, target.currency, target.minor_units)
        text += sharecard.SEPARATOR + t("f_card_target", percent=target.percent, target=goal.text)
    return text


def public_url(services: Services, org: Organization, path: str, lang: str) -> str:
    """An absolute URL of the public site (``LEDGER_PUBLIC_URL``), in ``lang``."""
    base = services.settings.public_url.rstrip("/")
    return f"{base}/orgs/{org.slug}{path}" + ("?lang=en" if lang == "en" else "")


async def fund_page(services: Services, org: Organization, code: str, lang: str) -> FundPage:
    chosen = resolve_lang(lang)
    t = Translator(chosen)
    view = await reads.fund_view(services.reader, org, code)
    activity = await reads.fund_activity(services.reader, org, code, LATEST)
    names = {b.code: b.name for b in await all_beneficiaries(services, org)}
    row = FundRow.of(view)
    standing = await compliance.fund_view(services.reader, org.id, code)
    today = await _today(services, org)
    async with services.reader.connection() as conn:
        target = targets.progress(view, await PUB.fund_target(conn, org.id, code), today)
        evidence = await PUB.evidence_links(conn, org.id, [m.index for m in activity.latest])

    def money(amount: int) -> Money:
        return Money(amount, view.currency, view.minor_units)

    def text(amount: int) -> str:
        return money(amount).text

    months: dict[str, list[int]] = {}
    for flow in activity.monthly:
        month, kind = flow.key
        pair = months.setdefault(str(month), [0, 0])
        pair[0 if kind == kinds.DONATION else 1] += flow.total
    labelled = [
        (month_text(dt.date.fromisoformat(m), chosen), v[0], v[1])
        for m, v in sorted(months.items())
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

    def copies(index: int) -> tuple[PublicCopy, ...]:
        return tuple(
            PublicCopy(i, b.sha256, b.content_type, b.redactions, b.original)
            for i, b in evidence.live_for(index)
        )

    def withdrawn(index: int) -> tuple[str, str] | None:
        if evidence.status(index) != "withdrawn":
            return None
        w = max(
            (evidence.withdrawn[i] for i, _ in evidence.published_for(index)),
            key=lambda w: w.index,
        )
        return day_text(local_today(w.time), chosen), w.body.reason

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
                evidence.status(m.index),
                copies(m.index),
                withdrawn(m.index),
            )
            for m in activity.latest
        ],
        beneficiaries_paid=len(by_beneficiary),
        checked_on=today.isoformat(),
        size=0,
        standing=standing,
        permit_state=compliance.permit_state(standing, today),
        target=target,
        card=card_text(
            t,
            row.raised,
            row.disbursed,
            len(by_beneficiary),
            day_text(today, chosen),
            target,
        ),
        image_url=public_url(services, org, f"/funds/{code}/card.png", chosen),
        page_url=public_url(services, org, f"/funds/{code}", chosen),
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
        head = await services.reader.head(org.id)
        tag = fund_tag(services, org, head, code, lang)
        headers = caching.headers(tag, caching.SHORT)
        if caching.fresh(request, tag):
            if caching.any_representation(request):
                await reads.fund_view(services.reader, org, code)  # unknown: 404, not 304
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

    @get("/orgs/{slug:str}/funds/{code:str}/card.png")
    async def card(
        self,
        request: Request,
        services: NamedDependency[Services],
        slug: FromPath[str],
        code: FromPath[str],
        lang: Lang = None,
    ) -> Response[bytes]:
        """The share card (PNG) of the fund page in that language: its ``og:image``."""
        org = await services.organization(slug)
        head = await services.reader.head(org.id)
        chosen = resolve_lang(lang)
        tag = card_tag(services, org, head, code, lang)
        headers = caching.headers(tag, caching.SHORT)
        if caching.fresh(request, tag):
            if caching.any_representation(request):
                await reads.fund_view(services.reader, org, code)  # unknown: 404, not 304
            return caching.not_modified(headers)
        png = CARDS.get(tag, "")
        if png is None:
            view = await fund_page(services, org, code, chosen)
            card = sharecard.Card(
                org=org.name,
                fund=view.fund.view.name,
                text=view.card,
                percent=view.target.percent if view.target is not None else None,
                site=urlsplit(services.settings.public_url).netloc or None,
            )
            png = await asyncio.to_thread(sharecard.render, card)
            CARDS.put(tag, "", png)
        return Response(png, media_type="image/png", headers=headers)


def fund_tag(services: Services, org: Organization, head: Head, code: str, lang: str | None) -> str:
    """The fund page's entity tag: the log's state, the fund, the language, the UTC hour and
    ``LEDGER_PUBLIC_URL`` (the route and the revalidation fast path both call this)."""
    state = caching.log_state(head)
    lang = resolve_lang(lang)
    return caching.etag("fund", org.id, state, code, lang, _hour(services), _base(services))


def card_tag(services: Services, org: Organization, head: Head, code: str, lang: str | None) -> str:
    """The share card's entity tag, from the same parts as its page's."""
    state = caching.log_state(head)
    lang = resolve_lang(lang)
    return caching.etag("card", org.id, state, code, lang, _hour(services), _base(services))


def _base(services: Services) -> str:
    """``LEDGER_PUBLIC_URL``: the page's share tags and the card's footer name it."""
    return services.settings.public_url


def _hour(services: Services) -> str:
    """The UTC hour now: part of the pages' tags, so a page that says "N days left" or
    "diperiksa <day>" changes at every time zone's midnight (Indonesia's are on the hour)."""
    now = services.clock()
    if now.tzinfo is not dt.UTC:
        now = now.astimezone(dt.UTC)
    return f"{now.year:04d}-{now.month:02d}-{now.day:02d}T{now.hour:02d}"  # strftime's cost/3
