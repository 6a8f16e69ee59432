"""``ledger serve``: run the app under uvicorn, in this process or in N worker processes.

With one worker (the default) uvicorn runs in this process. With ``--workers N`` this
process supervises N worker processes (``run_workers``), each with its own ``SO_REUSEPORT``
socket on the same address so the kernel balances connections, and each building the app
through ``app_factory`` from the environment, which ``serve`` fills in first: ``DATABASE_URL`` (resolved, so the workers
share the embedded PostgreSQL this process started), ``LEDGER_DATA_DIR`` and
``PROMETHEUS_MULTIPROC_DIR`` (a fresh directory where the workers pool their metrics).

What keeps N workers on one PostgreSQL correct and fast: each worker gathers its own appends
into group commits and the ``log_heads`` row lock orders the batches of all workers; one
worker at a time signs checkpoints (an advisory lock in ``Services.publish_all``); rate
limits are counted in PostgreSQL (``ledger.http.ratelimit``). Every worker opens its own pool of
``Settings.pool_size`` connections, so mind PostgreSQL's ``max_connections``.

Before serving, each process moves its startup heap out of the garbage collector's view
(``settle_heap``): full collections of it were the service's longest pauses.

Before anything else ``serve`` claims the port, so a busy one is a one-line error naming
``--port``. Then the database: the embedded one (no ``DATABASE_URL``) is migrated, so an empty
data directory needs no manual step; a configured one is only checked, and an unmigrated or
newer schema is refused with a message naming ``ledger migrate``.

Logs are JSON lines on stderr (``ledger.http.observability``); ``LEDGER_LOG_LEVEL`` sets the level
(default INFO). ``LEDGER_RATE_LIMIT`` is the limit in requests per minute per API key.
"""

from __future__ import annotations

import base64
import errno
import gc
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
from collections.abc import Mapping
from typing import Any

import uvicorn
from litestar import Litestar

from ledger.errors import ConfigurationError
from ledger.http.app import create_app
from ledger.http.connection import protocol_for
from ledger.http.observability import MULTIPROC_ENV, configure_logging
from ledger.http.ratelimit import RateLimit
from ledger.journal.keys import load_kek
from ledger.settings import Settings
from ledger.store import migrate
from ledger.store.database import connect, resolve_url

log = logging.getLogger(__name__)

PROXY_HEADERS = False
"""uvicorn's X-Forwarded-For/-Proto rewriting is off: nothing in the service reads the client
address or the scheme (logs carry neither, limits are per API key, links are relative), so it
would be a middleware layer of work on every request for nothing."""


def _configure_logging(settings: Settings, env: Mapping[str, str]) -> None:
    """JSON logs for this process, with the key-encryption key masked wherever it appears."""
    kek = base64.b64encode(load_kek(settings)).decode()
    configure_logging(env.get("LEDGER_LOG_LEVEL", "INFO"), secrets=[kek])


GC_THRESHOLDS = (20_000, 50, 100)
"""Collect the young generation every 20,000 net allocations instead of 700, and the older
generations less often: fewer collections on the request path. (Not measured apart from the
freeze; together they took the p99 of ``bench.http_load`` from ~94 to ~36 ms.)"""


def settle_heap() -> None:
    """Take what the process built to start (modules, routes, schemas, templates) out of the
    garbage collector's view, once, before serving.

    Otherwise every full collection walks that whole startup heap while the event loop waits:
    measured as ~60-100 ms stalls of every in-flight request (``bench.http_load``: p99 94 ms
    with a p90 of 27 ms; 36 ms after). Objects made later are collected as usual.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def app_factory() -> Litestar:
    """What each worker of ``ledger serve --workers N`` runs: the app from the environment."""
    settings = Settings.from_env()
    _configure_logging(settings, os.environ)
    app = create_app(settings, rate_limit=RateLimit.from_env(os.environ))
    settle_heap()
    return app


def uvicorn_config(app: Litestar, **options: Any) -> uvicorn.Config:
    """uvicorn for this app: our JSON access lines instead of its own, the lifespan on, and
    the connection protocol with the donation door when the app has one
    (``ledger.http.connection``). ``options`` go to ``uvicorn.Config`` as well (tests: the
    host and port)."""
    return uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="on",
        proxy_headers=PROXY_HEADERS,
        http=protocol_for(app.state.get("front_door")),
        **options,
    )


async def serve(settings: Settings, *, demo: bool = False, workers: int = 1) -> None:
    _configure_logging(settings, os.environ)
    rate_limit = RateLimit.from_env(os.environ)  # refuse a bad value before starting anything
    sock = claim_port(settings.host, settings.port)  # a busy port: refused before anything starts
    if workers == 1:
        sock.listen(2048)  # ours from now on; connections wait in the backlog until we serve
    try:
        settings = await prepare_database(settings, demo=demo)
        if demo:
            settings = settings.with_(demo=True)
            from ledger.demo import seed_demo_at

            print(await seed_demo_at(settings))
        log.info(
            "serving on http://%s:%d with %d worker(s) (API docs: /schema, metrics: /metrics)",
            settings.host,
            settings.port,
            workers,
        )
        if workers > 1:
            sock.close()  # each worker binds its own SO_REUSEPORT socket
            run_workers(settings, workers)
            return
        app = create_app(settings, rate_limit=rate_limit)
        settle_heap()
        await uvicorn.Server(uvicorn_config(app)).serve(sockets=[sock])
    finally:
        sock.close()


async def prepare_database(settings: Settings, *, demo: bool = False) -> Settings:
    """Make the database ready to serve; return the settings with its URL resolved.

    The embedded database (no ``DATABASE_URL``) and ``--demo`` are migrated; a configured
    database is only checked (``migrate.check``: unmigrated, edited or newer schemas raise
    ``SchemaVersionError`` naming ``ledger migrate``), since migrating a shared database is a
    deliberate step of its operator.
    """
    embedded = settings.database_url is None
    url = await resolve_url(settings)
    conn = await connect(url)
    try:
        if embedded or demo:
            applied = await migrate.migrate(conn)
            if applied:
                log.info("applied %d migration(s): %s", len(applied), ", ".join(applied))
        else:
            await migrate.check(conn)
    finally:
        await conn.close()
    return settings.with_(database_url=url)


def claim_port(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) for this process to serve on, or a one-line error.

    Bound without ``SO_REUSEPORT``, so it fails if anything at all listens there (another
    ``ledger serve --workers N`` included). The caller decides when it listens.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: TIME_WAIT is fine
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigurationError(
                f"port {port} is already in use on {host}; choose another with --port"
            ) from None
        reason = exc.strerror or str(exc)
        raise ConfigurationError(
            f"cannot listen on {host} port {port}: {reason}; choose another with --host or --port"
        ) from None
    sock.set_inheritable(True)
    return sock


def run_workers(settings: Settings, workers: int) -> None:
    """Run ``workers`` processes of ``app_factory`` until SIGINT or SIGTERM (blocks; call it
    from the main thread).

    Each worker listens on its own socket bound to the same address with ``SO_REUSEPORT``,
    so the kernel spreads new connections evenly over the workers (by a hash of each
    connection's addresses). With one shared listening socket, as uvicorn's own supervisor
    has it, whichever worker happened to be awake accepted a whole burst of connections, and
    a client's keep-alive connections could all end up on one worker while the other idled
    (seen in ``bench.http_load --workers 2``: the server at 0.66 cores, as with one worker,
    instead of 0.85). A worker that dies
    is replaced; SIGINT or SIGTERM stops them all gracefully (uvicorn's shutdown in each).
    """
    assert settings.database_url is not None
    os.environ["DATABASE_URL"] = settings.database_url
    os.environ["LEDGER_DATA_DIR"] = str(settings.data_dir)
    own_metrics_dir = not os.environ.get(MULTIPROC_ENV)
    if own_metrics_dir:
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="ledger-metrics-")
    claim_port(settings.host, settings.port).close()  # still free? (one-line error if not)
    context = multiprocessing.get_context("spawn")
    address = (settings.host, settings.port)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    processes = [context.Process(target=serve_worker, args=address) for _ in range(workers)]
    try:
        for process in processes:
            process.start()
        while not stop.wait(0.5):
            for n, process in enumerate(processes):
                if not process.is_alive() and not stop.is_set():
                    log.warning(
                        "worker %s exited (%s); starting another", process.pid, process.exitcode
                    )
                    processes[n] = context.Process(target=serve_worker, args=address)
                    processes[n].start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes in-flight requests, lifespan ends
        for process in processes:
            process.join(timeout=WORKER_STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if own_metrics_dir:
            shutil.rmtree(os.environ.pop(MULTIPROC_ENV), ignore_errors=True)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
WORKER_STOP_SECONDS = 30.0
"""How long a worker may take to finish its in-flight requests when stopped."""


def _listening_socket(host: str, port: int, *, listen: bool = True) -> socket.socket:
    """A TCP socket bound to (host, port) with SO_REUSEPORT (one per worker)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    if listen:
        sock.listen(2048)
        sock.set_inheritable(True)
    return sock


def serve_worker(host: str, port: int) -> None:
    """One worker process of ``run_workers``: its own socket, the app, uvicorn."""
    sock = _listening_socket(host, port)
    uvicorn.Server(uvicorn_config(app_factory())).run(sockets=[sock])
