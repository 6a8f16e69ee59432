"""Fixtures: a real PostgreSQL for every test that needs one.

By default the suite starts an embedded PostgreSQL (pgserver) in a temporary directory, so
`pytest` passes on a machine that has only Python. Set ``LEDGER_TEST_DATABASE_URL`` to an
admin URL of another server (e.g. ``postgresql://postgres@127.0.0.1:5432/test``) to use it
instead. The schema is migrated once into a template database; each test gets a fresh copy.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from ledger.formats.note import Signer, parse_vkey
from ledger.settings import Settings
from ledger.store.database import WRITER_ROLE, create_pool, with_database
from ledger.store.log import Store
from ledger.store.migrate import migrate
from tests.apikit import Org, serve_in_loop

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "tests" / "vectors"
"""Golden vectors from independent implementations (tests/vectors/README.md)."""
GO_SUMDB = json.loads((VECTORS / "tlog-go-sumdb.json").read_text())
"""Roots, proofs and a signed checkpoint computed by Go's golang.org/x/mod/sumdb."""
GO_CHECKPOINT = GO_SUMDB["checkpoint"]
GO_SIGNER = Signer.from_seed(
    GO_CHECKPOINT["key_name"], base64.b64decode(GO_CHECKPOINT["ed25519_seed"])
)
GO_VERIFIER = parse_vkey(GO_CHECKPOINT["vkey"])


def run_ledger(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m ledger ARGS`` run to its end from the repository, as an operator runs it;
    a failure is returned, not raised."""
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    url = os.environ.get("LEDGER_TEST_DATABASE_URL")
    if url:
        yield url
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        home = tempfile.mkdtemp(prefix="ldg-")
        server = pgserver.get_server(Path(home), cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_db(pg_admin_url: str) -> AsyncIterator[str]:
    name = f"ledger_tmpl_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(pg_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    conn = await asyncpg.connect(with_database(pg_admin_url, name))
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield name
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@asynccontextmanager
async def scratch_database(
    pg_admin_url: str, prefix: str, template: str | None = None
) -> AsyncIterator[str]:
    """A database for one test (a copy of ``template``, or empty), dropped afterwards;
    yields its admin (owner) URL."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin_url)
    copy = f' TEMPLATE "{template}"' if template else ""
    await admin.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield with_database(pg_admin_url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def db_url(pg_admin_url: str, template_db: str) -> AsyncIterator[str]:
    """Admin (owner) URL of a fresh, migrated database for this test."""
    async with scratch_database(pg_admin_url, "ledger_t_", template_db) as url:
        yield url


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """The store as the service sees it: connections run as ledger_writer."""
    pool = await create_pool(db_url, role=WRITER_ROLE, size=10)
    yield Store(pool)
    await pool.close()


@pytest.fixture
async def owner(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the schema owner / superuser (what an attacker with DBA rights has)."""
    conn = await asyncpg.connect(db_url)
    yield conn
    await conn.close()


@pytest.fixture
def kek() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture
def settings(db_url: str, kek: bytes, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        data_dir=tmp_path,
        kek=base64.b64encode(kek).decode(),
        origin_base="ledger.example/orgs",
        public_url="https://transparansi.example",
    )


@pytest.fixture
async def empty_db_url(pg_admin_url: str) -> AsyncIterator[str]:
    """Admin URL of a fresh database with no schema at all."""
    async with scratch_database(pg_admin_url, "ledger_e_") as url:
        yield url


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app (group commit, charity rules) over HTTP, on this test's database."""
    from ledger.http.app import create_app

    async with serve_in_loop(create_app(settings.with_(checkpoint_interval=0))) as c:
        yield c


@pytest.fixture
async def charity(client, store, settings, kek):  # type: ignore[no-untyped-def]
    """Organization 'yayasan-senyum' with an admin, recorder and auditor key."""
    from ledger.http.auth import issue_key
    from ledger.journal.organizations import create_organization

    org = await create_organization(store, settings, kek, "yayasan-senyum", "Yayasan Senyum Anak")
    keys = {
        role: (await issue_key(store, org.id, role))[1] for role in ("admin", "recorder", "auditor")
    }
    return Org(client, org.slug, keys)


@pytest.fixture
async def other_db_url(pg_admin_url: str, template_db: str) -> AsyncIterator[str]:
    """A second fresh, migrated database (e.g. where a backup is restored)."""
    async with scratch_database(pg_admin_url, "ledger_o_", template_db) as url:
        yield url


@pytest.fixture(params=["c-loop", "python-loop"])
def verify_loop(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test once with ``ledger verify``'s C loop (``ledger.verify._entrywalk``) and
    once with its Python loop: every tampered log must get the same report from both (the C
    loop hands any doubt to the Python loop, so a difference means the C loop accepted what
    the Python loop refuses)."""
    from ledger.verify import native

    if request.param == "c-loop":
        assert native.module is not None, "the C loop was not built by the install"
    monkeypatch.setattr(native, "FAST", request.param == "c-loop")
    # and for `ledger verify` run as a command by the test
    monkeypatch.setenv("LEDGER_VERIFY_LOOP", "c" if request.param == "c-loop" else "python")
    yield request.param
