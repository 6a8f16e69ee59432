"""``ledger serve``: run the app under uvicorn (optionally migrating and seeding the demo)."""

from __future__ import annotations

import uvicorn

from ledger.app import create_app
from ledger.database import connect, resolve_url
from ledger.settings import Settings


async def serve(settings: Settings, *, demo: bool = False) -> None:
    if demo:
        from ledger.demo import seed_demo_at
        from ledger.migrate import migrate

        url = await resolve_url(settings)
        conn = await connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        print(await seed_demo_at(settings))
        settings = settings.with_(database_url=url)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        lifespan="on",
    )
    print(f"serving on http://{settings.host}:{settings.port}  (API docs: /schema)")
    await uvicorn.Server(config).serve()
