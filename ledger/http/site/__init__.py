"""The public transparency website: server-rendered pages in Bahasa Indonesia and English,
and a receipt verifier that runs in the donor's browser.

``create_app`` registers ``route_handlers()`` and ``template_config()``. The pages read
through the same use cases as the JSON API; the site's CSS and scripts are hand-written files
of this package, served from ``/site-assets`` (nothing is loaded from another host).
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from ledger.charity.acknowledgments import local_today
from ledger.http.site.display import Money, day_text, moment_text, period_text, ratio_text
from ledger.http.site.fundpage import FundPages
from ledger.http.site.mygift import DonorPages
from ledger.http.site.pages import ASSETS, SitePages
from ledger.http.site.recipients import RecipientPages
from schemas import kinds

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def route_handlers() -> list[ControllerRouterHandler]:
    """The pages and the static files router."""
    return [
        SitePages,
        DonorPages,
        FundPages,
        RecipientPages,
        create_static_files_router(
            path=ASSETS,
            directories=[str(STATIC)],
            include_in_schema=False,
        ),
    ]


def template_config(*extra: Path) -> TemplateConfig[JinjaTemplateEngine]:
    """Jinja with autoescaping and strict undefined names (a typo fails, never renders empty);
    ``extra`` template directories (the staff console's) are searched after the site's."""
    env = Environment(
        loader=FileSystemLoader([TEMPLATES, *extra]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(moment=moment_text, day=day_text, ratio=ratio_text, period=period_text)
    env.globals["kinds"] = kinds  # templates name entry kinds as kinds.DONATION, …
    env.globals["local_day"] = local_today  # a server time's date in WIB (Asia/Jakarta)
    env.globals["money_text"] = lambda amount, currency, exponent: Money(
        amount, currency, exponent
    ).text
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(env))
