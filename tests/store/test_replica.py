"""Public reads from a real streaming replica on this machine; writes stay on the primary."""

from __future__ import annotations

import asyncio
import base64
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from ledger.http.app import create_app
from ledger.http.auth import issue_key
from ledger.journal.organizations import create_organization
from ledger.settings import Settings
from ledger.store.database import WRITER_ROLE, create_pool
from ledger.store.log import Store
from ledger.store.migrate import migrate
from tests.apikit import Org


@pytest.fixture(scope="module")
def primary_and_replica() -> Iterator[tuple[str, str]]:
    """A pgserver primary and a pg_basebackup streaming replica of it (its own socket)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        from pgserver import _commands as pg

    home = Path(tempfile.mkdtemp(prefix="ldgr-"))
    home.chmod(0o755)
    primary = pgserver.get_server(home / "p", cleanup_mode="delete")
    user = primary.system_user
    replica_dir, socket_dir = home / "r", home / "s"
    for d in (replica_dir, socket_dir):
        d.mkdir(mode=0o700)
        if user:
            shutil.chown(d, user)
    kw = {"user": user} if user else {}
    pg.pg_basebackup(
        ["-h", str(home / "p"), "-U", "postgres", "-D", str(replica_dir), "-R", "-X", "stream"],
        timeout=120,
        **kw,
    )
    pg.pg_ctl(
        [
            "-w",
            "-o",
            '-h ""',
            "-o",
            f"-k {socket_dir}",
            "-o",
            "-p 5499",
            "-l",
            str(replica_dir / "log"),
            "start",
        ],
        pgdata=replica_dir,
        timeout=60,
        **kw,
    )
    try:
        yield primary.get_uri(), f"postgresql://postgres@/postgres?host={socket_dir}&port=5499"
    finally:
        pg.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=replica_dir, timeout=60, **kw)
        primary.cleanup()
        shutil.rmtree(home, ignore_errors=True)


async def wait_for(predicate, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "replica did not catch up"
        await asyncio.sleep(0.05)


async def test_public_reads_come_from_the_replica(primary_and_replica, tmp_path, kek):
    from tests.apikit import serve_in_loop

    primary_url, replica_url = primary_and_replica
    conn = await asyncpg.connect(primary_url)
    await migrate(conn)
    await conn.close()
    settings = Settings(
        database_url=primary_url,
        replica_url=replica_url,
        data_dir=tmp_path,
        kek=base64.b64encode(kek).decode(),
        checkpoint_interval=0,
    )
    store = Store(await create_pool(primary_url, role=WRITER_ROLE, size=4))
    replica = await asyncpg.connect(replica_url)
    try:
        org = await create_organization(store, settings, kek, "yayasan-replika", "Yayasan Replika")
        keys = {r: (await issue_key(store, org.id, r))[1] for r in ("admin", "recorder", "auditor")}
        async with serve_in_loop(create_app(settings)) as client:
            charity = Org(client, org.slug, keys)
            await charity.fund()
            await charity.donate(100_000)

            async def caught_up() -> bool:
                r = await client.get(charity.url("/funds/senyum-2026"))
                return r.status_code == 200 and r.json()["raised"] == 100_000

            await wait_for(caught_up)
            await replica.execute("SELECT pg_wal_replay_pause()")
            await charity.donate(50_000)  # written to the primary: accepted at once
            stale = (await client.get(charity.url("/funds/senyum-2026"))).json()
            assert stale["raised"] == 100_000  # public reads are served by the paused replica
            await replica.execute("SELECT pg_wal_replay_resume()")

            async def fresh() -> bool:
                return (await client.get(charity.url("/funds/senyum-2026"))).json()[
                    "raised"
                ] == 150_000

            await wait_for(fresh)
            assert await replica.fetchval("SELECT pg_is_in_recovery()") is True
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await replica.execute("CREATE TABLE nope (x int)")
    finally:
        await replica.close()
        await store.pool.close()
