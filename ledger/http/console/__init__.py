"""The staff console at ``/console``: server-rendered pages (Jinja, the public site's look)
for the people who keep a charity's books, in Bahasa Indonesia first and English.

``create_app`` registers ``route_handlers()`` and adds ``TEMPLATES`` to the site's template
loader (console templates are named ``console/<page>.html``). Sessions, form tokens and
roles: ``session``; the pages: ``pages``; the bank-import screen: ``imports``; the administration's gateway settings and webhooks:
``gateways``, ``webhooks``; forms read into the API's request documents:
``forms``; what the pages show: ``views``. The domain behind it is
``ledger.charity.staff`` (accounts, sessions, logged access changes) and
``ledger.charity.recording`` (every entry, exactly as the API records it).
"""

from __future__ import annotations

from pathlib import Path

from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from ledger.http.console.gateways import ConsoleGateways
from ledger.http.console.imports import ConsoleImports
from ledger.http.console.pages import ConsolePages
from ledger.http.console.session import ASSETS
from ledger.http.console.webhooks import ConsoleWebhooks

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def route_handlers() -> list[ControllerRouterHandler]:
    """The console's pages and its stylesheet."""
    return [
        ConsolePages,
        ConsoleImports,
        ConsoleGateways,
        ConsoleWebhooks,
        create_static_files_router(path=ASSETS, directories=[str(STATIC)], include_in_schema=False),
    ]
