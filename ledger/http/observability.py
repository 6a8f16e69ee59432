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

import asyncio
import bisect
import logging
import math
import os
import random
import re
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar, Response
from litestar.datastructures import State
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

from ledger.errors import LedgerError
from ledger.journal.metrics import REGISTRY
from ledger.store.log import Store

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Where worker processes keep their metric values (prometheus_client multiprocess mode)."""

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_HEADER = REQUEST_ID_HEADER.encode()
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
    return f"{_ids.getrandbits(128):032x}"


_ids = random.Random(os.urandom(32))
"""Where fresh request ids come from: a generator seeded from the system's randomness once per
process (and again in a forked child, so workers never share a sequence). A request id needs
to be unique, not secret, and ``os.urandom`` was a system call per request."""


def _reseed_ids() -> None:
    _ids.seed(os.urandom(32))


os.register_at_fork(after_in_child=_reseed_ids)


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


_second: tuple[int, str] = (-1, "")
"""The last whole second formatted by ``_log_time``: (its timestamp, 'YYYY-MM-DDTHH:MM:SS')."""


def _log_time(created: float) -> str:
    """``created`` as ISO 8601 in UTC to the millisecond, e.g. 2026-12-04T21:55:00.123+00:00
    (``datetime.isoformat``'s form); the date and time of day are formatted once a second."""
    global _second
    whole = math.floor(created)
    micros = round((created - whole) * 1e6)  # rounded to microseconds first, as datetime does
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    cached = _second
    if cached[0] != whole:
        cached = _second = (whole, datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{cached[1]}.{micros // 1000:03d}+00:00"


class JsonFormatter(logging.Formatter):
    """One JSON object per line; messages and tracebacks pass through ``redact``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": _log_time(record.created),
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


class JsonLinesHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The process's one log handler (``configure_logging``): JSON lines on a stream.

    Besides ordinary records it writes the access line of each request without building a
    ``LogRecord`` (``write_access``): the same document ``JsonFormatter`` makes of the
    record ``RequestObserver`` would otherwise log, at a fraction of the cost (the logging
    module's record, caller lookup and handler chain were ~5% of a request's CPU).
    """

    def __init__(self, stream: Any, formatter: JsonFormatter) -> None:
        super().__init__(stream)
        self.setFormatter(formatter)
        self.json = formatter
        self._messages: dict[tuple[str, str, int], str] = {}
        self._pending: list[str] = []
        """Access lines written during this turn of the event loop (``flush`` writes them)."""
        self._scheduled = False

    def write_access(
        self,
        method: str,
        route: str,
        status: int,
        duration_ms: float,
        request_id: str,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """Write the access line ``access_log.info("%s %s %d", ...)`` would have written;
        ``loop``, the running event loop if the caller knows it (asking costs a system call
        on Python 3.11: ``get_running_loop`` compares the process id)."""
        key = (method, route, status)
        message = self._messages.get(key)
        if message is None:  # bounded: method labels x route templates x statuses
            message = redact(f"{method} {route} {status}", self.json.secrets)
            if len(self._messages) < 4096:
                self._messages[key] = message
        doc = {
            "time": _log_time(time.time()),
            "level": "info",
            "logger": ACCESS_LOGGER,
            "message": message,
            "request_id": request_id,
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": duration_ms,
            "pid": _pid,
        }
        line = msgspec.json.encode(doc).decode() + self.terminator
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
        if loop is None:
            with self.lock:  # type: ignore[union-attr]
                self.stream.write(line)
                self.flush()
            return
        # On the event loop: the lines of one turn of the loop (a group commit answers tens of
        # requests at once) go out in one write when the turn ends, not one write each.
        self._pending.append(line)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self.flush)

    def emit(self, record: logging.LogRecord) -> None:
        if self._pending:
            self.flush()  # access lines already written stay before this record
        super().emit(record)

    def flush(self) -> None:
        """Write the access lines waiting for the end of the loop's turn, then flush."""
        with self.lock:  # type: ignore[union-attr]
            self._scheduled = False
            if self._pending:
                lines, self._pending = "".join(self._pending), []
                self.stream.write(lines)
            super().flush()


_pid = os.getpid()
"""This process's id, for log lines (``os.getpid`` is a system call each time)."""


def _new_pid() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_new_pid)


def configure_logging(level: str = "INFO", *, secrets: Iterable[str] = ()) -> None:
    """Send every log record of the process, uvicorn's included, to stderr as JSON lines.

    ``secrets`` (e.g. the key-encryption key) are replaced wherever they would appear. Called
    once per process by ``ledger serve`` and by each worker's ``app_factory``.
    """
    handler = JsonLinesHandler(sys.stderr, JsonFormatter(secrets))
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

HTTP_DURATION = Histogram(
    "ledger_http_request_duration_seconds",
    "Time from receiving a request to sending the end of its response, by method, route "
    "template and status; the _count series is the request rate.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "ledger_rate_limited_requests",
    "Requests refused with 429 because their API key was over its rate limit.",
    registry=REGISTRY,
)


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
        return await store.log_sizes()
    except (LedgerError, asyncpg.PostgresError) as exc:
        logging.getLogger(__name__).warning("metrics: cannot read log sizes: %s", exc)
        return None


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


METRICS_PATH = "/metrics"
METRICS_TYPE = CONTENT_TYPE_PLAIN_0_0_4.removesuffix("; charset=utf-8")
"""``text/plain; version=0.0.4``: Litestar appends the ``; charset=utf-8`` itself."""
METRICS_SUMMARY = "Prometheus metrics (text exposition format)"


async def metrics_endpoint(state: State) -> Response[bytes]:
    """``GET /metrics`` (declared as a route by ``ledger.http.app``, with its OpenAPI contract)."""
    sizes = await log_sizes(state.services.store)
    return Response(exposition(sizes), media_type=METRICS_TYPE)


# --------------------------------------------------------------------------- per request

ACCESS_LOGGER = "ledger.access"
access_log = logging.getLogger(ACCESS_LOGGER)


def _direct_access_handler() -> JsonLinesHandler | None:
    """The handler that may take access lines directly: when the process logs as
    ``configure_logging`` set it up (one JSON handler on the root logger, no filters, nothing
    else on the way), writing to it is exactly what ``access_log.info`` would do. Otherwise
    (tests capturing logs, another configuration) access lines go through ``logging``."""
    root = logging.root
    handlers = root.handlers
    if len(handlers) != 1 or access_log.handlers or access_log.filters or root.filters:
        return None
    handler = handlers[0]
    if type(handler) is not JsonLinesHandler or handler.filters or handler.level > logging.INFO:
        return None
    if not access_log.propagate or access_log.disabled:
        return None
    return handler


def observe_all(histogram: Any, values: Sequence[float]) -> None:
    """``histogram.observe(v)`` for each of ``values``, with one increment per bucket: the
    same counts as observing them one by one (each value counts in the first bucket whose
    upper bound is at least the value; the exposition adds the buckets up), the same sum but
    for the rounding of its additions."""
    bounds = histogram._upper_bounds
    counts = [0] * len(bounds)
    for value in values:
        counts[bisect.bisect_left(bounds, value)] += 1
    histogram._sum.inc(math.fsum(values))
    for bucket, count in zip(histogram._buckets, counts, strict=True):
        if count:
            bucket.inc(count)


class RequestObserver:
    """ASGI wrapper around the whole app (routing included, so 404s and 405s are seen too):
    assigns the request id, times the request, records the metric and writes the access line.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._histograms: dict[tuple[str, str, int], Any] = {}
        """Labelled histogram children by (method, route, status): ``labels()`` takes a lock
        and validates its arguments on every call; the set of keys is bounded."""
        self._latencies: dict[tuple[str, str, int], list[float]] = {}
        """Latencies observed during this turn of the event loop, not yet in the histogram."""

    def _observe(
        self,
        method: str,
        route: str,
        status: int,
        seconds: float,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """Into the histogram now, or with ``loop`` (the connection's requests) at the end of
        this turn of the loop, together with the turn's other latencies: a group commit
        answers tens of requests in one turn, and ``Histogram.observe`` takes two locks and
        ~3.5 us per call, where a turn's observations go in with one ``inc`` per bucket."""
        key = (method, route, status)
        if loop is None:
            self._histogram(key).observe(seconds)
            return
        latencies = self._latencies.get(key)
        if latencies is not None:
            latencies.append(seconds)
            return
        if not self._latencies:
            loop.call_soon(self.flush_latencies)
        self._latencies[key] = [seconds]

    def _histogram(self, key: tuple[str, str, int]) -> Any:
        child = self._histograms.get(key)
        if child is None:
            method, route, status = key
            child = self._histograms[key] = HTTP_DURATION.labels(method, route, str(status))
        return child

    def flush_latencies(self) -> None:
        """Put the latencies of this turn of the loop into the histogram."""
        latencies, self._latencies = self._latencies, {}
        for key, values in latencies.items():
            observe_all(self._histogram(key), values)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope["headers"])
        echoed = (_REQUEST_ID_HEADER, request_id.encode())
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
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = scope.get("path_template") or UNMATCHED_ROUTE
            self.finish(method, route, status, time.perf_counter() - started, request_id)
            REQUEST_ID.reset(token)

    def finish(
        self,
        method: str,
        route: str,
        status: int,
        seconds: float,
        request_id: str,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """A request answered: its latency metric and its access line (``ledger.http.connection``
        calls this too, for the requests it answers before ASGI, with its loop)."""
        self._observe(method, route, status, seconds, loop)
        if access_log.isEnabledFor(logging.INFO):
            direct = _direct_access_handler()
            if direct is not None:
                ms = round(seconds * 1000, 3)
                direct.write_access(method, route, status, ms, request_id, loop)
            else:
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


def instrument(app: Litestar) -> Litestar:
    """Wrap the app's request handling in a ``RequestObserver``; returns the same app."""
    app.asgi_handler = RequestObserver(app.asgi_handler)
    return app
