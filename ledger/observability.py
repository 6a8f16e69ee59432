"""Observability: request ids, structured JSON logs, and Prometheus metrics.

* **Request ids.** Every HTTP request gets one: the client's ``X-Request-ID`` when it is
  sane (1-128 characters of ``A-Z a-z 0-9 . _ : -``), else a fresh random one. It is echoed
  in the ``X-Request-ID`` response header and carried by every log line written while the
  request is handled.
* **Logs.** One JSON object per line on stderr (``configure_logging``): ``time``, ``level``,
  ``logger``, ``message``, ``request_id``, and for the access line of each request
  ``method``, ``route`` (the route *template*, e.g. ``/v1/orgs/{slug:str}/donations``),
  ``status`` and ``duration_ms``. What is never logged: request or response bodies, headers,
  query strings, raw paths (a path can carry a donor's data; the template cannot). As a
  second line of defence every message and traceback is scrubbed of bearer tokens, API keys,
  e-mail addresses, URL passwords and the key-encryption key (``redact``).
* **Metrics** (Prometheus text exposition 0.0.4 at ``GET /metrics``):
  ``ledger_http_request_duration_seconds{method,route,status}`` (a histogram; its
  ``_count`` is the request rate), ``ledger_append_batch_size`` (requests gathered into one
  group-commit transaction), ``ledger_rate_limited_requests_total``, and, read from
  ``log_heads`` at scrape time, ``ledger_log_entries{org}`` with ``ledger_database_up``.
  With ``ledger serve --workers N`` the workers share their values through
  ``prometheus_client``'s multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by
  ``ledger serve`` before the workers start), so any worker answers for all of them.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

from ledger.errors import LedgerError
from ledger.storage import Q, Store

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Where worker processes keep their metric values (prometheus_client multiprocess mode)."""

REQUEST_ID_HEADER = "x-request-id"
UNMATCHED_ROUTE = "unmatched"
"""Route label of requests that matched no route (404/405): raw paths would be unbounded."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Method labels kept as sent; any other method is counted as ``OTHER`` (bounded labels)."""

# --------------------------------------------------------------------------- request ids

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the request being handled by the current task (None outside requests)."""

_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def request_id_from(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID if it is sane, else a new random id (32 hex digits)."""
    for name, value in headers:
        if name == b"x-request-id":  # ASGI header names are lower-case
            if _SANE_REQUEST_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return uuid.uuid4().hex


# --------------------------------------------------------------------------- logs

_REDACTIONS = (
    (re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+"), r"\1 [redacted]"),
    (re.compile(r"\b(ldg_[a-z0-9]{8})_[A-Za-z0-9_-]+"), r"\1_[redacted]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "[redacted e-mail]"),
    (re.compile(r"(?i)\b(postgres(?:ql)?://[^:/@\s]*:)[^@\s]+@"), r"\1[redacted]@"),
)
"""Patterns scrubbed from every log message and traceback: bearer tokens, API keys (the
8-character lookup prefix is kept, it is not secret), e-mail addresses, URL passwords."""


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without anything that looks like a credential or an e-mail address."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


ACCESS_FIELDS = ("method", "route", "status", "duration_ms")
"""Extra fields of the per-request access line."""


class JsonFormatter(logging.Formatter):
    """One JSON object per line; messages and tracebacks pass through ``redact``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage(), self.secrets),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                doc[name] = value
        doc["pid"] = record.process
        if record.exc_info:
            doc["error"] = redact(self.formatException(record.exc_info), self.secrets)
        return msgspec.json.encode(doc).decode()


def configure_logging(level: str = "INFO", *, secrets: Iterable[str] = ()) -> None:
    """Send every log record of the process, uvicorn's included, to stderr as JSON lines.

    ``secrets`` (e.g. the key-encryption key) are replaced wherever they would appear. Called
    once per process by ``ledger serve`` and by each worker's ``app_factory``.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")  # replaced by our access line
    access.handlers.clear()
    access.propagate = False
    access.disabled = True


# --------------------------------------------------------------------------- metrics

REGISTRY = CollectorRegistry(auto_describe=True)
"""This process's metrics (in multiprocess mode the values live in PROMETHEUS_MULTIPROC_DIR)."""

HTTP_DURATION = Histogram(
    "ledger_http_request_duration_seconds",
    "Time from receiving a request to sending the end of its response, by method, route "
    "template and status; the _count series is the request rate.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
APPEND_BATCH = Histogram(
    "ledger_append_batch_size",
    "Append requests gathered into one group-commit transaction of one log (LogWriter).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000),
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "ledger_rate_limited_requests",
    "Requests refused with 429 because their API key was over its rate limit.",
    registry=REGISTRY,
)


def observe_append_batch(size: int) -> None:
    """Hook called by ``LogWriter._commit`` after each committed batch."""
    APPEND_BATCH.observe(size)


class _LogSizes:
    """Scrape-time gauges: entries per log (from ``log_heads``) and database reachability."""

    def __init__(self, sizes: list[tuple[str, int]] | None) -> None:
        self.sizes = sizes

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "ledger_database_up",
            "1 when this scrape could read the log heads from PostgreSQL, else 0.",
            value=0 if self.sizes is None else 1,
        )
        yield up
        entries = GaugeMetricFamily(
            "ledger_log_entries",
            "Entries in each organization's log (log_heads.size), read at scrape time.",
            labels=["org"],
        )
        for slug, size in self.sizes or ():
            entries.add_metric([slug], size)
        yield entries


async def log_sizes(store: Store) -> list[tuple[str, int]] | None:
    """Every log's size, or None when the database cannot be read (the scrape still works)."""
    try:
        async with store.connection() as conn:
            rows = await conn.fetch(Q["log_sizes"])
    except (LedgerError, asyncpg.PostgresError) as exc:
        logging.getLogger(__name__).warning("metrics: cannot read log sizes: %s", exc)
        return None
    return [(r["slug"], r["size"]) for r in rows]


def exposition(sizes: list[tuple[str, int]] | None) -> bytes:
    """The text exposition of every metric: this process's, or all workers' in multiprocess
    mode, followed by the scrape-time log gauges."""
    if os.environ.get(MULTIPROC_ENV):
        workers = CollectorRegistry()
        MultiProcessCollector(workers)
        text = generate_latest(workers)
    else:
        text = generate_latest(REGISTRY)
    scraped = CollectorRegistry()
    scraped.register(_LogSizes(sizes))
    return text + generate_latest(scraped)


@get("/metrics", summary="Prometheus metrics (text exposition format)", tags=["operations"])
async def metrics_endpoint(state: State) -> Response[bytes]:
    sizes = await log_sizes(state.services.store)
    return Response(exposition(sizes), media_type=CONTENT_TYPE_PLAIN_0_0_4)


# --------------------------------------------------------------------------- per request

access_log = logging.getLogger("ledger.access")


class RequestObserver:
    """ASGI wrapper around the whole app (routing included, so 404s and 405s are seen too):
    assigns the request id, times the request, records the metric and writes the access line.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope["headers"])
        echoed = (REQUEST_ID_HEADER.encode(), request_id.encode())
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500  # if the app fails before answering, the server sends a 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = scope.get("path_template") or UNMATCHED_ROUTE
            HTTP_DURATION.labels(method, route, str(status)).observe(seconds)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %d",
                    method,
                    route,
                    status,
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 3),
                    },
                )
            REQUEST_ID.reset(token)


def instrument(app: Litestar) -> Litestar:
    """Wrap the app's request handling in a ``RequestObserver``; returns the same app."""
    app.asgi_handler = RequestObserver(app.asgi_handler)
    return app
