"""The demo ledger that ``make run`` (``ledger serve --demo``) starts with.

Idempotent: an existing demo organization is left as it is.
"""

from __future__ import annotations

from ledger.appender import Appender
from ledger.database import WRITER_ROLE, create_pool, resolve_url
from ledger.errors import NotFoundError
from ledger.keys import load_kek
from ledger.organizations import create_organization
from ledger.publisher import publish
from ledger.settings import Settings
from ledger.storage import Store

DEMO_SLUG = "yayasan-senyum"
DEMO_NAME = "Yayasan Senyum Anak Nusantara"


async def seed_demo(store: Store, settings: Settings) -> str:
    kek = load_kek(settings)
    try:
        org = await store.organization(DEMO_SLUG)
        return f"demo organization {DEMO_SLUG} already exists"
    except NotFoundError:
        org = await create_organization(store, settings, kek, DEMO_SLUG, DEMO_NAME)
    appender = Appender(store)
    for text in ("#SenyumAnak 2026 campaign opened", "Demo ledger: every entry is public"):
        await appender.append(org, "note", {"text": text})
    await publish(store, org, kek)
    return f"created demo organization {DEMO_SLUG} ({org.origin})"


async def seed_demo_at(settings: Settings) -> str:
    url = await resolve_url(settings)
    pool = await create_pool(url, role=WRITER_ROLE, size=2)
    try:
        return await seed_demo(Store(pool), settings)
    finally:
        await pool.close()
