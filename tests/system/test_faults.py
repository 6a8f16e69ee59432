"""Faults against the real thing: a `ledger serve` process killed with SIGKILL under write
load, PostgreSQL stopped under load, and a superuser rewriting the log behind the service.

The server runs as a separate process (``python -m ledger serve``) on a free loopback port,
on a real PostgreSQL; the load comes from this process over HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from ledger.http.auth import issue_key
from ledger.journal.appender import Appender
from ledger.journal.organizations import create_organization
from ledger.journal.publisher import publish
from ledger.settings import Settings
from ledger.store.database import WRITER_ROLE, create_pool, with_database
from ledger.store.log import Store
from ledger.store.migrate import migrate
from tests.apikit import free_port
from tests.conftest import REPO
from tests.logkit import assert_log_verifies, run_verify

SLUG = "yayasan-senyum"
FUND = "senyum-2026"


@dataclass
class ServerProcess:
    """``ledger serve`` in its own process group, logging JSON lines to a file."""

    database_url: str
    kek: str
    data_dir: Path
    workers: int = 1
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")}
        env.update(
            DATABASE_URL=self.database_url,
            LEDGER_KEK=self.kek,
            LEDGER_DATA_DIR=str(self.data_dir),
            PYTHONPATH=str(REPO),
            **self.env,
        )
        self.log_path = self.data_dir / f"server-{self.port}.log"
        cmd = [sys.executable, "-m", "ledger", "serve", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--workers", str(self.workers)]
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise AssertionError(f"server exited {self.proc.returncode}:\n{self.tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"server not ready after {timeout} s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (the process group: the workers too)."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.text().splitlines()[-lines:])


@contextlib.asynccontextmanager
async def running(server: ServerProcess) -> AsyncIterator[ServerProcess]:
    server.start()
    try:
        await server.wait_ready()
        yield server
    finally:
        server.stop()


@dataclass
class Keys:
    admin: str
    recorder: str
    auditor: str
    org_id: int


async def seed_org(store: Store, settings: Settings, kek: bytes) -> Keys:
    org = await create_organization(store, settings, kek, SLUG, "Yayasan Senyum Anak")
    keys = [(await issue_key(store, org.id, role))[1] for role in ("admin", "recorder", "auditor")]
    return Keys(*keys, org_id=org.id)


def bearer(key: str, idem: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if idem is not None:
        headers["Idempotency-Key"] = idem
    return headers


async def create_fund(http: httpx.AsyncClient, keys: Keys) -> None:
    body = {"code": FUND, "name": "#SenyumAnak 2026", "currency": "IDR"}
    r = await http.post(f"/v1/orgs/{SLUG}/funds", json=body, headers=bearer(keys.admin, "fund-1"))
    assert r.status_code == 201, r.text


def donation(reference: str, amount: int = 10_000) -> bytes:
    return json.dumps(
        {
            "fund": FUND,
            "amount": amount,
            "currency": "IDR",
            "received_on": "2026-11-01",
            "channel": "qris",
            "reference": reference,
        }
    ).encode()


async def donations_by_reference(owner: asyncpg.Connection, org_id: int) -> dict[str, list[int]]:
    rows = await owner.fetch(
        "SELECT idx, body FROM entries WHERE org_id = $1 AND kind = 'donation' ORDER BY idx", org_id
    )
    found: dict[str, list[int]] = collections.defaultdict(list)
    for row in rows:
        found[json.loads(row["body"])["body"]["reference"]].append(row["idx"])
    return found


# --- 1. kill -9 under write load ------------------------------------------------------------


async def test_kill_9_under_load_keeps_every_acknowledged_write_exactly_once(
    db_url, store, settings, kek, owner, tmp_path
):
    keys = await seed_org(store, settings, kek)
    server = ServerProcess(db_url, settings.kek or "", tmp_path)
    sent: dict[str, bytes] = {}
    acknowledged: dict[str, int] = {}
    url = f"/v1/orgs/{SLUG}/donations"
    server.start()
    await server.wait_ready()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        await create_fund(http, keys)

        async def client(c: int) -> None:
            for n in range(10**6):
                key = f"kill-{c}-{n}"
                sent[key] = donation(key)
                try:
                    r = await http.post(url, content=sent[key], headers=bearer(keys.recorder, key))
                except httpx.TransportError:
                    return  # the server is gone: this request's fate is unknown
                assert r.status_code == 201, r.text
                acknowledged[key] = r.json()["index"]

        clients = [asyncio.create_task(client(c)) for c in range(16)]
        deadline = time.monotonic() + 20
        while len(acknowledged) < 300 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        server.kill()  # mid-load: batches are being committed and answered right now
        await asyncio.wait_for(asyncio.gather(*clients), 30)
    assert len(acknowledged) >= 300, server.tail()
    assert len(sent) > len(acknowledged)  # some requests were in flight when it died

    found = await donations_by_reference(owner, keys.org_id)
    for key, index in acknowledged.items():
        assert found.get(key) == [index], (key, index, found.get(key))
    assert all(len(indexes) == 1 for indexes in found.values())

    # Restart, then retry everything, acknowledged or not, with the same keys and bodies.
    async with (
        running(ServerProcess(db_url, settings.kek or "", tmp_path)) as again,
        httpx.AsyncClient(base_url=again.url, timeout=30) as http,
    ):
        gate = asyncio.Semaphore(16)

        async def retry(key: str) -> tuple[str, httpx.Response]:
            async with gate:
                return key, await http.post(
                    url, content=sent[key], headers=bearer(keys.recorder, key)
                )

        answers = await asyncio.gather(*(retry(k) for k in sent))
    for key, r in answers:
        assert r.status_code == 201, (key, r.text)
        if key in acknowledged:
            assert r.headers.get("Idempotency-Replayed") == "true", key
            assert r.json()["index"] == acknowledged[key]
    found = await donations_by_reference(owner, keys.org_id)
    assert sorted(found) == sorted(sent)  # each key recorded ...
    assert all(len(indexes) == 1 for indexes in found.values())  # ... exactly once
    replies = {key: r.json()["index"] for key, r in answers}
    assert {key: idx[0] for key, idx in found.items()} == replies
    await assert_log_verifies(store)


# --- 2. PostgreSQL stopped under load -------------------------------------------------------


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL of our own (pgserver in a temp dir) that this test may stop and start."""

    home: Path
    server: Any = None
    socket_dir: Path | None = None

    def __post_init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

            self.server = pgserver.get_server(self.home / "pg", cleanup_mode="delete")
        self.socket_dir = self.server.get_postmaster_info().socket_dir

    @property
    def admin_url(self) -> str:
        return self.server.get_uri()

    def pg_ctl(self, *args: str) -> None:
        """Run pg_ctl as the user pgserver runs PostgreSQL as (it refuses to run as root)."""
        from pgserver._commands import POSTGRES_BIN_PATH

        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.home / "pg"), *args],
            check=True,
            user=self.server.system_user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def stop(self) -> None:
        self.pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        self.pg_ctl(
            "-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.home / "pg" / "log"),
            "start",
        )  # fmt: skip

    def cleanup(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self.stop()
        self.server.cleanup()


@pytest.fixture
async def own_postgres() -> AsyncIterator[EmbeddedPostgres]:
    home = Path(tempfile.mkdtemp(prefix="ldg-stop-"))
    pg = await asyncio.to_thread(EmbeddedPostgres, home)
    try:
        yield pg
    finally:
        await asyncio.to_thread(pg.cleanup)
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class Answer:
    what: str
    key: str
    started: str
    ended: str
    status: int
    retry_after: str | None
    content_type: str
    body: str


async def test_stopping_postgres_gives_503_with_retry_after_then_recovers_by_itself(
    own_postgres: EmbeddedPostgres, kek: bytes, tmp_path: Path
):
    admin = await asyncpg.connect(own_postgres.admin_url)
    await admin.execute('CREATE DATABASE "ledger"')
    await admin.close()
    db_url = with_database(own_postgres.admin_url, "ledger")
    conn = await asyncpg.connect(db_url)
    await migrate(conn)
    await conn.close()
    kek_text = base64.b64encode(kek).decode()
    settings = Settings(database_url=db_url, data_dir=tmp_path, kek=kek_text)
    pool = await create_pool(db_url, role=WRITER_ROLE, size=2)
    keys = await seed_org(Store(pool), settings, kek)
    await pool.close()

    phase = "up"
    answers: list[Answer] = []
    stop_load = asyncio.Event()
    async with (
        running(ServerProcess(db_url, kek_text, tmp_path)) as server,
        httpx.AsyncClient(base_url=server.url, timeout=15) as http,
    ):
        await create_fund(http, keys)
        requests = [
            ("write", "POST", f"/v1/orgs/{SLUG}/donations"),
            ("fund", "GET", f"/v1/orgs/{SLUG}/funds/{FUND}"),
            ("entries", "GET", f"/v1/orgs/{SLUG}/entries?limit=5"),
            ("keys", "GET", f"/v1/orgs/{SLUG}/api-keys"),
            ("readyz", "GET", "/readyz"),
            ("healthz", "GET", "/healthz"),
        ]

        async def client(c: int) -> None:
            for n in range(10**6):
                if stop_load.is_set():
                    return
                what, method, path = requests[(c + n) % len(requests)]
                key = f"pg-{c}-{n}"
                who = keys.admin if what == "keys" else keys.recorder
                started = phase
                r = await http.request(
                    method,
                    path,
                    content=donation(key) if method == "POST" else None,
                    headers=bearer(who, key),
                )
                answers.append(
                    Answer(
                        what,
                        key,
                        started,
                        phase,
                        r.status_code,
                        r.headers.get("Retry-After"),
                        r.headers.get("content-type", ""),
                        r.text[:300],
                    )
                )
                await asyncio.sleep(0.005)

        load = [asyncio.create_task(client(c)) for c in range(6)]
        await asyncio.sleep(1.0)
        phase = "stopping"
        await asyncio.to_thread(own_postgres.stop)
        phase = "down"
        await asyncio.sleep(2.0)
        phase = "starting"
        await asyncio.to_thread(own_postgres.start)
        phase = "recovering"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            recent = [a for a in answers[-30:] if a.started == "recovering"]
            if len(recent) >= 12 and all(a.status in (200, 201) for a in recent[-12:]):
                break
            await asyncio.sleep(0.1)
        phase = "back"
        await asyncio.sleep(1.0)
        stop_load.set()
        await asyncio.gather(*load)

        # A 503 on a write means "not acknowledged", not "not recorded": the commit may have
        # happened just as the connection died. Retrying with the same key settles each one.
        unanswered = [a.key for a in answers if a.what == "write" and a.status != 201]
        retries = await asyncio.gather(
            *(
                http.post(
                    f"/v1/orgs/{SLUG}/donations",
                    content=donation(k),
                    headers=bearer(keys.recorder, k),
                )
                for k in unanswered
            )
        )
        assert all(r.status_code == 201 for r in retries), [r.text for r in retries][:3]

    statuses = collections.Counter((a.started, a.status) for a in answers)
    failures = [line for line in server.text().splitlines() if '"level":"error"' in line]
    assert not [a for a in answers if a.status >= 500 and a.status != 503], (statuses, failures)
    assert all(a.status in (200, 201) for a in answers if a.started == a.ended == "up"), statuses
    down = [a for a in answers if a.started == a.ended == "down"]
    assert len(down) >= 20, statuses
    for a in down:
        if a.what == "healthz":
            assert a.status == 200
            continue
        assert a.status == 503, (a, statuses)
        assert a.retry_after and a.retry_after.isdigit(), a
        assert a.content_type.startswith("application/problem+json"), a
        assert json.loads(a.body)["status"] == 503
    assert {a.what for a in down} >= {"write", "fund", "entries", "keys", "readyz"}
    back = [a for a in answers if a.started == a.ended == "back"]
    assert len(back) >= 12 and all(a.status in (200, 201) for a in back), statuses
    assert {a.what for a in back if a.status == 201} == {"write"}

    owner = await asyncpg.connect(db_url)
    pool = await create_pool(db_url, role=WRITER_ROLE, size=2)
    try:
        found = await donations_by_reference(owner, keys.org_id)
        assert sorted(found) == sorted(a.key for a in answers if a.what == "write")
        assert all(len(indexes) == 1 for indexes in found.values())  # each write exactly once
        await assert_log_verifies(Store(pool))
    finally:
        await pool.close()
        await owner.close()


# --- 3. a superuser rewrites the log: `ledger verify` reports it -----------------------------


def _rehash(body: bytes, prev: bytes) -> tuple[bytes, bytes]:
    leaf = hashlib.sha256(b"\x00" + body).digest()
    return leaf, hashlib.sha256(b"\x02" + prev + leaf).digest()


DROP_HASH_CHECKS = """
DO $$ DECLARE c record; BEGIN
    FOR c IN SELECT conname FROM pg_constraint
             WHERE conrelid = 'entries'::regclass AND contype = 'c'
               AND pg_get_constraintdef(oid) LIKE '%sha256%'
    LOOP EXECUTE format('ALTER TABLE entries DROP CONSTRAINT %I', c.conname); END LOOP;
END $$"""


async def _edit(owner: asyncpg.Connection, org_id: int, k: int, *, rehash: bool) -> None:
    row = await owner.fetchrow(
        "SELECT body, prev_hash FROM entries WHERE org_id = $1 AND idx = $2", org_id, k
    )
    forged = row["body"].replace(b'"text":"note ', b'"text":"NOTE ')
    assert forged != row["body"]
    if rehash:  # a careful forger keeps the row self-consistent
        leaf, chained = _rehash(forged, row["prev_hash"])
        await owner.execute(
            "UPDATE entries SET body = $3, leaf_hash = $4, entry_hash = $5 "
            "WHERE org_id = $1 AND idx = $2",
            org_id, k, forged, leaf, chained,
        )  # fmt: skip
    else:  # the CHECK constraints recompute the hashes: a superuser drops them first
        await owner.execute(DROP_HASH_CHECKS)
        await owner.execute(
            "UPDATE entries SET body = $3 WHERE org_id = $1 AND idx = $2", org_id, k, forged
        )


TAMPERING = {
    # case: (SQL or edit, first bad index expected), on a log of 20 entries, checkpoint at 20
    "edit-body": (lambda o, org: _edit(o, org, 7, rehash=False), 7),
    "edit-body-rehashed": (lambda o, org: _edit(o, org, 7, rehash=True), 7),
    "delete-one": ("DELETE FROM entries WHERE org_id = {org} AND idx = 7", 7),
    "delete-tail-and-head": (
        "DELETE FROM merkle_nodes WHERE org_id = {org} AND ((idx + 1) << level) > 12;"
        "DELETE FROM entries WHERE org_id = {org} AND idx >= 12;"
        "UPDATE log_heads SET size = 12, head_hash = "
        "(SELECT entry_hash FROM entries WHERE org_id = {org} AND idx = 11) WHERE org_id = {org}",
        12,
    ),
    "truncate": ("TRUNCATE entries CASCADE", 0),
}


@pytest.mark.parametrize("case", list(TAMPERING))
async def test_superuser_tampering_is_reported_by_ledger_verify(
    case: str, db_url, store, settings, kek, owner
):
    org = await create_organization(store, settings, kek, SLUG, "Yayasan Senyum Anak")
    appender = Appender(store)
    for n in range(20):
        await appender.append(org, "note", {"text": f"note {n}"})
    await publish(store, org, kek)
    before = await run_verify(db_url)
    assert before["ok"], before

    tamper, first_bad = TAMPERING[case]
    # A superuser can do what the service role cannot: switch the append-only triggers off.
    await owner.execute("SET session_replication_role = replica")
    if isinstance(tamper, str):
        await owner.execute(tamper.format(org=org.id))
    else:
        await tamper(owner, org.id)
    await owner.execute("RESET session_replication_role")

    report = await run_verify(db_url, expect_exit=1)
    assert not report["ok"]
    [log] = report["logs"]
    assert log["slug"] == SLUG and not log["ok"], log
    assert log["first_bad_index"] == first_bad, log
    assert log["reason"], log


