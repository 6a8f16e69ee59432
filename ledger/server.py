"""``ledger serve``: run the app under uvicorn, in this process or in N worker processes.

With one worker (the default) uvicorn runs in this process. With ``--workers N`` uvicorn's
supervisor starts N processes that each build the app through ``app_factory`` from the
environment, which ``serve`` fills in first: ``DATABASE_URL`` (resolved, so the workers
share the embedded PostgreSQL this process started), ``LEDGER_DATA_DIR`` and
``PROMETHEUS_MULTIPROC_DIR`` (a fresh directory where the workers pool their metrics).

What keeps N workers on one PostgreSQL correct and fast: each worker gathers its own appends
into group commits and the ``log_heads`` row lock orders the batches of all workers; one
worker at a time signs checkpoints (an advisory lock in ``Services.publish_all``); rate
limits are counted in PostgreSQL (``ledger.ratelimit``). Every worker opens its own pool of
``Settings.pool_size`` connections, so mind PostgreSQL's ``max_connections``.

Logs are JSON lines on stderr (``ledger.observability``); ``LEDGER_LOG_LEVEL`` sets the level
(default INFO). ``LEDGER_RATE_LIMIT`` is the limit in requests per minute per API key.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping

import uvicorn
from litestar import Litestar

from ledger.app import create_app
from ledger.database import connect, resolve_url
from ledger.keys import load_kek
from ledger.observability import MULTIPROC_ENV, configure_logging
from ledger.ratelimit import RateLimit
from ledger.settings import Settings

log = logging.getLogger(__name__)

PROXY_HEADERS = False
"""uvicorn's X-Forwarded-For/-Proto rewriting is off: nothing in the service reads the client
address or the scheme (logs carry neither, limits are per API key, links are relative), so it
would be a middleware layer of work on every request for nothing."""


def _configure_logging(settings: Settings, env: Mapping[str, str]) -> None:
    """JSON logs for this process, with the key-encryption key masked wherever it appears."""
    kek = base64.b64encode(load_kek(settings)).decode()
    configure_logging(env.get("LEDGER_LOG_LEVEL", "INFO"), secrets=[kek])


def app_factory() -> Litestar:
    """What each worker of ``ledger serve --workers N`` runs: the app from the environment."""
    settings = Settings.from_env()
    _configure_logging(settings, os.environ)
    return create_app(settings, rate_limit=RateLimit.from_env(os.environ))


async def serve(settings: Settings, *, demo: bool = False, workers: int = 1) -> None:
    _configure_logging(settings, os.environ)
    rate_limit = RateLimit.from_env(os.environ)  # refuse a bad value before starting anything
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
    log.info(
        "serving on http://%s:%d with %d worker(s) (API docs: /schema, metrics: /metrics)",
        settings.host,
        settings.port,
        workers,
    )
    if workers > 1:
        settings = settings.with_(database_url=await resolve_url(settings))
        run_workers(settings, workers)
        return
    config = uvicorn.Config(
        create_app(settings, rate_limit=rate_limit),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        proxy_headers=PROXY_HEADERS,
    )
    await uvicorn.Server(config).serve()


def run_workers(settings: Settings, workers: int) -> None:
    """Run ``workers`` processes of ``app_factory`` until interrupted (blocks this thread,
    which must be the main one: uvicorn's supervisor handles the signals)."""
    assert settings.database_url is not None
    os.environ["DATABASE_URL"] = settings.database_url
    os.environ["LEDGER_DATA_DIR"] = str(settings.data_dir)
    own_metrics_dir = not os.environ.get(MULTIPROC_ENV)
    if own_metrics_dir:
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="ledger-metrics-")
    try:
        uvicorn.run(
            "ledger.server:app_factory",
            factory=True,
            workers=workers,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            proxy_headers=PROXY_HEADERS,
        )
    finally:
        if own_metrics_dir:
            shutil.rmtree(os.environ.pop(MULTIPROC_ENV), ignore_errors=True)
