"""Operations: JSON logs with request ids and nothing secret or personal in them, Prometheus
metrics, readiness, and `ledger serve --workers 2` sharing one database (group commit, one
checkpoint signer, one rate limit per API key) — against real `ledger serve` processes."""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ledger.http.auth import issue_key
from ledger.http.ratelimit import RateLimit, RateLimiter
from ledger.http.services import Services
from ledger.journal.appender import Appender
from ledger.journal.organizations import create_organization
from ledger.settings import Settings
from ledger.store import ratelimits
from ledger.store.database import WRITER_ROLE, create_pool
from ledger.store.log import Q, Store
from tests.apikit import assert_problem, auth
from tests.conftest import scratch_database
from tests.http.test_api_errors import database_refusing_connections
from tests.logkit import assert_log_verifies
from tests.system.test_faults import (
    FUND,
    SLUG,
    Keys,
    ServerProcess,
    bearer,
    create_fund,
    donation,
    seed_org,
)

DONOR = {
    "name": "Siti Aminah Rahmawati",
    "email": "siti.aminah@example.id",
    "phone": "+62 812 5555 0101",
    "address": "Jl. Melati No. 7, Bandung",
    "public_name": "Hamba Allah",
}


@dataclass
class Served:
    server: ServerProcess
    keys: Keys
    db_url: str
    kek: str


@pytest.fixture(scope="module")
async def served(pg_admin_url: str, template_db: str, tmp_path_factory) -> AsyncIterator[Served]:
    """One `ledger serve` process on a fresh database, shared by this module's log tests."""
    async with serving(pg_admin_url, template_db, tmp_path_factory.mktemp("obs")) as s:
        yield s


@asynccontextmanager
async def serving(
    pg_admin_url: str, template_db: str, home: Path, workers: int = 1, **env: str
) -> AsyncIterator[Served]:
    async with scratch_database(pg_admin_url, "ledger_obs_", template_db) as db_url:
        kek = secrets.token_bytes(32)
        kek_text = base64.b64encode(kek).decode()
        pool = await create_pool(db_url, role=WRITER_ROLE, size=2)
        try:
            settings = Settings(database_url=db_url, data_dir=home, kek=kek_text)
            keys = await seed_org(Store(pool), settings, kek)
            server = ServerProcess(db_url, kek_text, home, workers=workers, env=env)
            server.start()
            try:
                await server.wait_ready()
                async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                    await create_fund(http, keys)
                yield Served(server, keys, db_url, kek_text)
                await assert_log_verifies(Store(pool))
            finally:
                server.stop()
        finally:
            await pool.close()


def log_records(server: ServerProcess) -> list[dict[str, Any]]:
    """Every line the server wrote, each of which must be one JSON object."""
    records = []
    for line in server.text().splitlines():
        record = json.loads(line)
        assert isinstance(record, dict), line
        assert {"time", "level", "logger", "message", "request_id"} <= record.keys(), line
        records.append(record)
    return records


async def test_logs_are_json_lines_with_request_ids_and_no_secrets_or_personal_data(
    served: Served,
):
    keys = served.keys
    path = f"/v1/orgs/{SLUG}/donations"
    body = {
        "fund": FUND,
        "amount": 125_000_000,
        "currency": "IDR",
        "received_on": "2026-11-20",
        "channel": "qris",
        "reference": "QRIS-LOG-1",
        "donor": DONOR,
    }
    async with httpx.AsyncClient(base_url=served.server.url, timeout=10) as http:
        r = await http.post(
            path,
            json=body,
            headers={**bearer(keys.recorder, "log-1"), "X-Request-ID": "trace-4f1c.7:a_b-9"},
        )
        assert r.status_code == 201, r.text
        assert r.headers["X-Request-ID"] == "trace-4f1c.7:a_b-9"
        index = r.json()["index"]
        # The personal endpoints, with personal data in the query string too.
        r = await http.get(
            f"/v1/orgs/{SLUG}/donations/{index}/donor?email={DONOR['email']}",
            headers=auth(keys.auditor),
        )
        assert r.status_code == 200 and DONOR["email"] in r.text
        # Failures: a bad key (its secret must not be logged either) and a validation error.
        stolen = "ldg_abcdefgh_" + "S3cr3t" * 7
        r = await http.post(path, json=body, headers=bearer(stolen, "log-2"))
        assert r.status_code == 401
        r = await http.post(
            path, json={**body, "amount": "lots"}, headers=bearer(keys.recorder, "log-3")
        )
        assert r.status_code == 400
        r = await http.get("/v1/orgs/no-such-org/nothing/here?email=x%40y.id")
        assert r.status_code == 404
    await asyncio.sleep(0.2)
    records = log_records(served.server)
    text = served.server.text()
    forbidden = [
        keys.recorder, keys.auditor, keys.admin, keys.recorder.split("_", 2)[2],
        stolen, "S3cr3t", served.kek, "Bearer", "authorization",
        DONOR["name"], DONOR["email"], DONOR["phone"], DONOR["address"], "Siti", "example.id",
        "x@y.id", "QRIS-LOG-1", "125000000", "?email",
    ]  # fmt: skip
    leaked = [s for s in forbidden if s.lower() in text.lower()]
    assert not leaked, leaked

    [access] = [r for r in records if r["request_id"] == "trace-4f1c.7:a_b-9"]
    assert access["logger"] == "ledger.access" and access["level"] == "info"
    assert access["method"] == "POST" and access["status"] == 201
    assert access["route"] == "/v1/orgs/{slug}/donations"
    assert isinstance(access["duration_ms"], float) and access["duration_ms"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", access["time"])
    routes = {(r.get("route"), r.get("status")) for r in records if r["logger"] == "ledger.access"}
    assert ("/v1/orgs/{slug}/donations/{index}/donor", 200) in routes
    assert ("/v1/orgs/{slug}/donations", 401) in routes
    assert ("/v1/orgs/{slug}/donations", 400) in routes
    assert ("unmatched", 404) in routes
    assert all(r["request_id"] for r in records if r["logger"] == "ledger.access")


async def test_request_ids_are_echoed_when_sane_and_generated_otherwise(served: Served):
    async with httpx.AsyncClient(base_url=served.server.url, timeout=10) as http:
        generated = set()
        for sent in (None, "", "has space", "x" * 129, "ünï".encode(), "a;b", "<script>"):
            headers = {} if sent is None else {"X-Request-ID": sent}
            r = await http.get("/healthz", headers=headers)
            assert r.status_code == 200
            assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-ID"]), (sent, r.headers)
            generated.add(r.headers["X-Request-ID"])
        assert len(generated) == 7
        for sane in ("abc", "0" * 128, "4bf92f3577b34da6a3ce929d0e0e4736", "req:1.2-3_4"):
            r = await http.get(f"/v1/orgs/{SLUG}/funds", headers={"X-Request-ID": sane})
            assert r.headers["X-Request-ID"] == sane
        r = await http.get("/nope", headers={"X-Request-ID": "missing-route"})
        assert r.status_code == 404 and r.headers["X-Request-ID"] == "missing-route"


def metric_samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = collections.defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name].append((sample.labels, sample.value))
    return found


async def test_metrics_expose_request_latency_append_batches_and_log_sizes(served: Served):
    async with httpx.AsyncClient(base_url=served.server.url, timeout=10) as http:
        await asyncio.gather(
            *(
                http.post(
                    f"/v1/orgs/{SLUG}/donations",
                    content=donation(f"M-{n}", 10_000 + n),
                    headers=bearer(served.keys.recorder, f"metrics-{n}"),
                )
                for n in range(40)
            )
        )
        size = int((await http.get(f"/v1/orgs/{SLUG}/entries?limit=1")).json()["items"][0]["index"])
        r = await http.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = metric_samples(r.text)
    posts = [
        value
        for labels, value in samples["ledger_http_request_duration_seconds_count"]
        if labels == {"method": "POST", "route": "/v1/orgs/{slug}/donations", "status": "201"}
    ]
    assert posts and posts[0] >= 40, samples["ledger_http_request_duration_seconds_count"]
    buckets = [
        labels["le"]
        for labels, _ in samples["ledger_http_request_duration_seconds_bucket"]
        if labels["route"] == "/v1/orgs/{slug}/donations"
    ]
    assert "0.005" in buckets and "+Inf" in buckets
    [(_, batches)] = samples["ledger_append_batch_size_count"]
    [(_, appended)] = samples["ledger_append_batch_size_sum"]
    assert appended >= 41 and batches < appended  # 40 concurrent donations: group commit
    [(labels, entries)] = samples["ledger_log_entries"]
    assert labels == {"org": SLUG} and entries >= size + 1
    assert samples["ledger_database_up"] == [({}, 1.0)]


async def test_readyz_and_metrics_when_the_database_refuses_connections(
    charity, owner, pg_admin_url
):
    await charity.fund()
    async with database_refusing_connections(owner, pg_admin_url):
        assert_problem(await charity.client.get("/readyz"), 503)
        assert (await charity.client.get("/readyz")).headers["Retry-After"].isdigit()
        assert (await charity.client.get("/healthz")).status_code == 200
        r = await charity.client.get("/metrics")  # still scrapable: the outage is a metric
        assert r.status_code == 200
        assert metric_samples(r.text)["ledger_database_up"] == [({}, 0.0)]
    assert (await charity.client.get("/readyz")).status_code == 200


RATE_LIMIT = 300


async def test_two_workers_share_one_database_one_signer_and_one_rate_limit(
    pg_admin_url: str, template_db: str, tmp_path: Path
):
    async with serving(
        pg_admin_url, template_db, tmp_path, workers=2, LEDGER_RATE_LIMIT=str(RATE_LIMIT)
    ) as s:
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        # 120 requests share 16 connections: on a busy machine a request may wait its turn
        # for a connection longer than it takes to answer, so the pool wait gets its own bound.
        timeout = httpx.Timeout(10.0, pool=60.0)
        async with httpx.AsyncClient(base_url=s.server.url, timeout=timeout, limits=limits) as http:
            # Writes from both workers interleave in one log (group commit in each process,
            # the head row lock between them), and the log gets signed.
            answers = await asyncio.gather(
                *(
                    http.post(
                        f"/v1/orgs/{SLUG}/donations",
                        content=donation(f"W-{n}", 500 + n),
                        headers=bearer(s.keys.recorder, f"workers-{n}"),
                    )
                    for n in range(120)
                )
            )
            assert [r.status_code for r in answers] == [201] * 120
            indexes = sorted(r.json()["index"] for r in answers)
            assert indexes == list(range(indexes[0], indexes[0] + 120))  # no gap, no fork
            size = str(indexes[-1] + 1)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                note = (await http.get(f"/v1/orgs/{SLUG}/log/checkpoint")).text
                if note.splitlines()[1] == size:
                    break
                await asyncio.sleep(0.2)
            assert note.splitlines()[1] == size, note

            # A fresh API key, 3x its per-minute limit, from 16 connections spread over both
            # workers, inside one window of the fixed-window counter.
            r = await http.post(
                f"/v1/orgs/{SLUG}/api-keys",
                json={"role": "admin", "label": "burst"},
                headers=bearer(s.keys.admin, "burst-key"),
            )
            assert r.status_code == 201, r.text
            burst_key = r.json()["key"]
            if time.time() % 60 > 30:  # 900 requests on a busy machine may take many seconds
                await asyncio.sleep(60.5 - time.time() % 60)
            # A new connection per request, so the kernel hands requests to both workers.
            fresh = httpx.Limits(max_connections=16, max_keepalive_connections=0)
            # No pool timeout: the 900 requests queue for 16 connections, and on a busy CI
            # machine the last ones wait more than 10 s for a free one (httpx.PoolTimeout).
            queued = httpx.Timeout(10.0, pool=None)
            async with httpx.AsyncClient(base_url=s.server.url, timeout=queued, limits=fresh) as each:
                burst = await asyncio.gather(
                    *(
                        each.get(f"/v1/orgs/{SLUG}/api-keys", headers=auth(burst_key))
                        for _ in range(3 * RATE_LIMIT)
                    )
                )
                await asyncio.sleep(0.3)
                scrapes = [(await each.get("/metrics")).text for _ in range(6)]
            # Keep-alive connections opened together are spread over both workers as well
            # (each worker has its own SO_REUSEPORT socket): 16 clients, a connection each.
            together = [httpx.AsyncClient(base_url=s.server.url, timeout=10) for _ in range(16)]
            try:
                await asyncio.gather(*(c.get("/healthz") for c in together))
            finally:
                await asyncio.gather(*(c.aclose() for c in together))
        statuses = collections.Counter(r.status_code for r in burst)
        accepted, refused = statuses[200], statuses[429]
        assert accepted + refused == 3 * RATE_LIMIT, statuses
        # Exact with one worker; with two, the other worker's admissions since its last
        # flush (100 ms) may slip through before the shared count catches up.
        assert RATE_LIMIT <= accepted <= RATE_LIMIT + 150, statuses
        too_many = next(r for r in burst if r.status_code == 429)
        body = assert_problem(too_many, 429, "per minute")
        assert body["title"] == "Too many requests"
        assert 1 <= int(too_many.headers["Retry-After"]) <= 60

        pids = {
            r["pid"] for r in log_records(s.server) if r.get("route") == "/v1/orgs/{slug}/api-keys"
        }
        assert len(pids) == 2, "both workers should have served the burst"
        spread = {r["pid"] for r in log_records(s.server) if r.get("route") == "/healthz"}
        assert len(spread) == 2, "connections opened together should reach both workers"
        for text in scrapes:  # any worker answers for both
            counts = {
                labels["status"]: value
                for labels, value in metric_samples(text)[
                    "ledger_http_request_duration_seconds_count"
                ]
                if labels["route"] == "/v1/orgs/{slug}/api-keys" and labels["method"] == "GET"
            }
            assert counts == {"200": accepted, "429": refused}, counts
            assert metric_samples(text)["ledger_rate_limited_requests_total"] == [({}, refused)]


async def test_only_the_holder_of_the_publisher_lock_signs_checkpoints(store, settings, kek, owner):
    """With N workers each runs the publisher loop; the advisory lock lets one sign at a time."""
    org = await create_organization(store, settings, kek, SLUG, "Yayasan Senyum Anak")
    appender = Appender(store)
    await appender.append(org, "note", {"text": "to be signed"})
    services = Services(settings=settings, store=store, appender=appender, kek=kek)
    signed = (await store.latest_checkpoint(org.id)).size  # type: ignore[union-attr]
    assert await owner.fetchval(Q["try_publisher_lock"])  # another worker is publishing
    await services.publish_all()
    assert (await store.latest_checkpoint(org.id)).size == signed  # type: ignore[union-attr]
    assert await owner.fetchval(Q["publisher_unlock"])
    await services.publish_all()
    assert (await store.latest_checkpoint(org.id)).size == signed + 1  # type: ignore[union-attr]
    await assert_log_verifies(store)


async def test_rate_limit_windows_and_the_shared_counter(store, settings, kek):
    """Two limiters stand for two worker processes: each counts locally, and what one
    flushed is what the other refuses against; a new window starts from zero."""
    org = await create_organization(store, settings, kek, SLUG, "Yayasan Senyum Anak")
    key_id, _ = await issue_key(store, org.id, "recorder")
    now = [1_800_000_000.0 + 10]  # 10 s into a window
    one = RateLimiter(RateLimit(5), clock=lambda: now[0])
    two = RateLimiter(RateLimit(5), clock=lambda: now[0])
    assert [one.hit(key_id) for _ in range(3)] == [None] * 3
    await one.flush(store)
    assert two.hit(key_id) is None  # two has not heard of one's 3 yet: the documented slack
    await two.flush(store)  # ... and now it has: 4 in the window
    assert two.hit(key_id) is None
    assert two.hit(key_id) == 50.0  # refused: seconds until the next window
    await two.flush(store)
    # one learns the shared total when it next flushes what it admitted: one more slips by
    assert one.hit(key_id) is None
    await one.flush(store)
    assert one.hit(key_id) is not None and two.hit(key_id) is not None
    now[0] += 50  # the next window
    assert one.hit(key_id) is None and two.hit(key_id) is None
    await one.flush(store)
    await two.flush(store)
    assert RateLimiter(RateLimit(0)).enabled is False


async def test_hits_on_their_way_to_the_shared_counter_still_count(store, settings, kek):
    """A flush takes a round trip; the hits it carries must still count meanwhile, or a slow
    database (another worker's flush holding the counter row) lets a key past its limit."""
    org = await create_organization(store, settings, kek, SLUG, "Yayasan Senyum Anak")
    key_id, _ = await issue_key(store, org.id, "recorder")
    now = [1_800_000_000.0 + 10]
    limiter = RateLimiter(RateLimit(3), clock=lambda: now[0])
    assert [limiter.hit(key_id) for _ in range(3)] == [None] * 3
    window = datetime.fromtimestamp(1_800_000_000, UTC)
    async with store.connection() as other:
        held = other.transaction()
        await held.start()
        await ratelimits.add_key_counts(other, window, [(key_id, 0)])  # holds the row
        flushing = asyncio.create_task(limiter.flush(store))
        await asyncio.sleep(0.3)
        assert not flushing.done()  # waiting for the row
        assert limiter.hit(key_id) == 50.0  # the three on their way count: refused
        await held.rollback()
    await flushing
    assert limiter.hit(key_id) == 50.0
    now[0] += 50
    assert limiter.hit(key_id) is None


def test_latencies_observed_together_count_as_observed_one_by_one():
    """``observe_all`` (the connection's latencies, one turn of the event loop at a time)
    leaves the histogram with the counts and sum ``observe`` gives, values on bucket bounds
    and past the last bound included."""
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    from ledger.http.observability import observe_all

    bounds = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)
    values = [0.0, 0.0004, 0.001, 0.0010001, 0.0025, 0.007, 0.01, 0.3, 12.0, *[0.004] * 40]
    one = Histogram("t", "t", ["k"], buckets=bounds, registry=(r1 := CollectorRegistry()))
    all_ = Histogram("t", "t", ["k"], buckets=bounds, registry=(r2 := CollectorRegistry()))
    for v in values:
        one.labels("a").observe(v)
    observe_all(all_.labels("a"), values[:5])
    observe_all(all_.labels("a"), values[5:])

    def samples(registry: CollectorRegistry) -> dict[str, float]:
        text = generate_latest(registry).decode()
        return {
            f"{s.name}{sorted(s.labels.items())}": s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if not s.name.endswith("_created")
        }

    expected, got = samples(r1), samples(r2)
    assert expected.keys() == got.keys()
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-12), name
    assert got["t_count[('k', 'a')]"] == len(values)
