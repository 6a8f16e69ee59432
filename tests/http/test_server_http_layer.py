"""The cheap paths of the HTTP layer give the same answers and the same log lines as the
general ones: the access line written straight to the JSON handler, the API key read from
raw ASGI headers, and the guard with and without the rate limiter's principal."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from ledger.http import observability as obs
from ledger.http.app import create_app
from ledger.http.auth import api_key_from, issue_key
from ledger.http.ratelimit import RateLimit
from ledger.journal.organizations import create_organization
from ledger.settings import Settings
from tests.apikit import auth, serve_in_loop

ROUTE = "/v1/orgs/{slug}/donations"


@pytest.fixture
def json_logs() -> Iterator[tuple[obs.JsonLinesHandler, io.StringIO]]:
    """This process logging as ``ledger serve`` does, into a buffer; restored afterwards.
    Each test calls ``alone`` first: pytest adds its capturing handler to the root logger
    for the test's call phase (and with it, access lines rightly go through ``logging``)."""
    root = logging.root
    saved = (list(root.handlers), root.level)
    obs.configure_logging("INFO", secrets=["the-kek-text"])
    [handler] = root.handlers
    assert isinstance(handler, obs.JsonLinesHandler)
    buffer = io.StringIO()
    handler.setStream(buffer)
    try:
        yield handler, buffer
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def alone(handler: logging.Handler) -> None:
    assert obs._direct_access_handler() is None  # pytest's capture handler is there too
    logging.root.handlers[:] = [handler]


def test_direct_access_line_is_the_line_logging_would_write(json_logs):
    handler, buffer = json_logs
    alone(handler)
    token = obs.REQUEST_ID.set("req-1")
    try:
        extra = {"method": "POST", "route": ROUTE, "status": 201, "duration_ms": 1.25}
        obs.access_log.info("%s %s %d", "POST", ROUTE, 201, extra=extra)
    finally:
        obs.REQUEST_ID.reset(token)
    assert obs._direct_access_handler() is handler
    handler.write_access("POST", ROUTE, 201, 1.25, "req-1")
    via_logging, direct = (json.loads(line) for line in buffer.getvalue().splitlines())
    assert list(direct) == list(via_logging)  # same fields, same order
    assert direct.pop("time")[:19] == via_logging.pop("time")[:19]
    assert direct == via_logging
    assert direct["logger"] == "ledger.access" and direct["message"] == f"POST {ROUTE} 201"


def test_direct_access_line_is_redacted_like_any_message(json_logs):
    handler, buffer = json_logs
    alone(handler)
    for _ in range(2):  # the second time from the message cache
        handler.write_access("GET", "/x/siti@example.id/the-kek-text", 200, 0.5, "req-2")
    for line in buffer.getvalue().splitlines():
        message = json.loads(line)["message"]
        assert message == "GET /x/[redacted e-mail]/[redacted] 200", message


def test_access_lines_go_through_logging_when_anything_else_listens(json_logs):
    handler, _ = json_logs
    alone(handler)
    seen: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    capture = Capture()
    for where in (logging.root, obs.access_log):
        where.addHandler(capture)
        assert obs._direct_access_handler() is None
        where.removeHandler(capture)
    assert obs._direct_access_handler() is handler
    handler.addFilter(lambda record: True)
    assert obs._direct_access_handler() is None


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        ([(b"authorization", b"Bearer ldg_a")], "ldg_a"),
        ([(b"authorization", b"bEaReR   ldg_a  ")], "ldg_a"),
        ([(b"x-api-key", b" ldg_b ")], "ldg_b"),
        ([(b"authorization", b"Basic Zm9v"), (b"x-api-key", b"ldg_b")], "ldg_b"),
        ([(b"authorization", b"Bearer ldg_a"), (b"x-api-key", b"ldg_b")], "ldg_a"),
        ([(b"authorization", b"Bearer one"), (b"authorization", b"Bearer two")], "one"),
        ([(b"x-api-key", b"one"), (b"x-api-key", b"two")], "one"),
        ([(b"host", b"x"), (b"authorization", b"Bearer \xe9")], "\xe9"),
        ([(b"host", b"x")], ""),
    ],
)
def test_api_key_from_raw_headers(headers, key):
    assert api_key_from(headers) == key


@pytest.fixture(params=[0, 60_000], ids=["limiter-off", "limiter-on"])
async def served(request, settings: Settings, store, kek) -> AsyncIterator[tuple]:
    """The app with the rate limiter off (the guard authenticates) and on (the guard takes
    the principal the limiter authenticated)."""
    app = create_app(settings.with_(checkpoint_interval=0), rate_limit=RateLimit(request.param))
    mine = await create_organization(store, settings, kek, "yayasan-senyum", "Yayasan Senyum")
    other = await create_organization(store, settings, kek, "panti-lain", "Panti Lain")
    keys = {role: (await issue_key(store, mine.id, role))[1] for role in ("admin", "recorder")}
    keys["other-admin"] = (await issue_key(store, other.id, "admin"))[1]
    async with serve_in_loop(app) as client:
        yield client, keys


async def test_guard_refuses_and_admits_the_same_with_or_without_the_limiter(served):
    client, keys = served
    url = "/v1/orgs/yayasan-senyum/api-keys"

    async def status(headers: dict[str, str]) -> int:
        return (await client.get(url, headers=headers)).status_code

    assert await status(auth(keys["admin"])) == 200
    assert await status({"X-API-Key": keys["admin"]}) == 200
    assert await status(auth(keys["recorder"])) == 403  # wrong role
    assert await status(auth(keys["other-admin"])) == 403  # another organization
    assert await status({}) == 401
    assert await status(auth("ldg_abcdefgh_" + "x" * 43)) == 401
    created = await client.post(url, json={"role": "recorder"}, headers=auth(keys["admin"]))
    assert created.status_code == 201
    new = created.json()
    assert await status(auth(new["key"])) == 403
    r = await client.delete(f"{url}/{new['id']}", headers=auth(keys["admin"]))
    assert r.status_code == 204
    r = await client.get(url, headers=auth(new["key"]))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]  # visible at once


def test_app_has_no_route_middleware_when_the_limit_is_off(settings: Settings):
    assert create_app(settings, rate_limit=RateLimit(0, 0)).middleware == []
    assert len(create_app(settings, rate_limit=RateLimit(5)).middleware) == 1


def test_request_ids_are_fresh_hex():
    ids = {obs.request_id_from([]) for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert obs.request_id_from([(b"x-request-id", b"abc")]) == "abc"


def test_log_times_are_datetimes_isoformat_to_the_millisecond():
    import random
    from datetime import UTC, datetime

    rng = random.Random(19)
    times = [0.0, 0.5, 1733350000.999, 1733350000.9999996, 1882693761.481]
    times += [rng.uniform(0, 2e9) for _ in range(20_000)]
    times += [rng.randint(0, 2_000_000_000) + rng.randint(0, 999_999) / 1e6 for _ in range(20_000)]
    for t in times:
        assert obs._log_time(t) == datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


async def test_access_lines_of_one_loop_turn_go_out_together_and_in_order(json_logs):
    handler, buffer = json_logs
    alone(handler)
    writes: list[str] = []
    stream_write = buffer.write

    def counted(text: str) -> int:
        writes.append(text)
        return stream_write(text)

    buffer.write = counted  # type: ignore[method-assign]
    handler.write_access("POST", ROUTE, 201, 1.0, "req-a")
    handler.write_access("POST", ROUTE, 201, 1.0, "req-b")
    assert buffer.getvalue() == ""  # not yet: the loop's turn has not ended
    await asyncio.sleep(0)
    ids = [json.loads(line)["request_id"] for line in buffer.getvalue().splitlines()]
    assert ids == ["req-a", "req-b"] and len(writes) == 1
    handler.write_access("POST", ROUTE, 201, 1.0, "req-c")
    logging.getLogger("ledger.test").warning("after c")  # an ordinary record: c first
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [x.get("request_id") for x in lines[2:]] == ["req-c", None]
    assert lines[3]["message"] == "after c"
    handler.write_access("POST", ROUTE, 201, 1.0, "req-d")
    handler.flush()  # what logging.shutdown() does at exit: nothing waiting is lost
    assert json.loads(buffer.getvalue().splitlines()[-1])["request_id"] == "req-d"


def test_a_forked_worker_draws_other_request_ids_and_logs_its_own_pid():
    """``ledger serve --workers N`` may fork: the child reseeds its request ids and reads its
    own process id, so two workers never log the same id or each other's pid."""
    import os

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids and pid, then out without pytest's teardown
        try:
            ids = [obs.request_id_from([]) for _ in range(3)]
            os.write(write, json.dumps([ids, obs._pid, os.getpid()]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child_ids, child_logged_pid, child_pid = json.loads(pipe.read())
    os.waitpid(pid, 0)
    ours = [obs.request_id_from([]) for _ in range(3)]
    assert not set(ours) & set(child_ids)
    assert child_logged_pid == child_pid != obs._pid == os.getpid()
