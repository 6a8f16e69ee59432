"""Where the database comes from: ``DATABASE_URL`` or an embedded PostgreSQL (pgserver).

The embedded server lives in ``<data_dir>/pg`` and is started and stopped by the command
that needs it; several processes may share it. pgserver reference-counts its users in
``<data_dir>/pg/.handle_pids.json`` and stops the server (at interpreter exit) when the last
one leaves; a process that died without leaving (SIGKILL, a crash) would stay listed forever
and keep the server running after everyone else has gone, so ``start_embedded`` drops the
pids of dead processes from that list both when a process joins and when it leaves, and the
last living user to leave stops the server (``leave_embedded``).
Connections for the service run as the ``ledger_writer`` role, set as a startup parameter so
that it survives the pool's ``RESET ALL``; that role has no UPDATE, DELETE or TRUNCATE on
the log tables.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from ledger.errors import DatabaseUnavailableError
from ledger.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "ledger"
WRITER_ROLE = "ledger_writer"
READER_ROLE = "ledger_reader"


HANDLE_FILE = ".handle_pids.json"
"""pgserver's list of the pids using a server, in its data directory."""

_joined: set[Path] = set()


def start_embedded(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL in ``data_dir/pg``; return its admin URL.

    It is stopped when the last process using it exits, by returning, by an exception, or by
    a signal the command turns into an exit (``ledger`` does so for SIGTERM and SIGHUP):
    pgserver's exit handler stops it when this process is the only user left, and
    ``leave_embedded`` when every other user listed has died. Signals that arrive while the
    server is being created or started wait until it is up and this process is counted, so
    that stopping early neither interrupts ``initdb`` nor leaves an uncounted server behind.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pg").expanduser().resolve()
    pgdata.mkdir(exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        if pgdata not in _joined:
            _joined.add(pgdata)
            # Registered before pgserver registers its own, so it runs after it (atexit is
            # last-in first-out) and sees what pgserver's exit handler left.
            atexit.register(leave_embedded, pgdata)
        with _signals_deferred():
            forget_dead_users(pgdata)
            server = pgserver.get_server(pgdata, cleanup_mode="stop")
    return server.get_uri()


def forget_dead_users(pgdata: Path, *, leaving: bool = False) -> list[int]:
    """Drop the pids of processes that no longer exist from pgserver's handle file (and this
    process's own when ``leaving``), under pgserver's own lock; return the users left.

    With ``leaving``, a server that has no user left is stopped. A pid reused by an unrelated
    process still counts as a user until that process exits.
    """
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import DiskList

    handles = DiskList(pgdata / HANDLE_FILE)
    with PostgresServer._lock:
        try:
            pids, torn = handles.get(), False
        except ValueError:  # a torn or empty file: nobody can be counted on it
            pids, torn = [], True
        users = [pid for pid in pids if _alive(pid) and not (leaving and pid == os.getpid())]
        if users != pids or torn:
            handles.put(users)
            log.info("embedded PostgreSQL %s: users %s, still running: %s", pgdata, pids, users)
        if leaving and not users:
            _stop(pgdata)
    return users


def leave_embedded(pgdata: Path) -> None:
    """At exit: leave the embedded server, stopping it if no living user remains."""
    try:
        forget_dead_users(pgdata, leaving=True)
    except Exception:  # at exit, with the data directory possibly gone: nothing left to do
        log.debug("leaving the embedded PostgreSQL %s failed", pgdata, exc_info=True)


def _stop(pgdata: Path) -> None:
    """Stop the PostgreSQL running in ``pgdata``, if one is (``pg_ctl stop``, fast mode)."""
    import subprocess

    from pgserver._commands import pg_ctl
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return
    user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None  # as pgserver
    log.info("stopping the embedded PostgreSQL %s: its last user has left", pgdata)
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    except (subprocess.SubprocessError, OSError):
        assert info.process is not None
        info.process.send_signal(signal.SIGINT)  # to the postmaster: a "fast" shutdown


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:  # ZombieProcess included
        return False
    except psutil.AccessDenied:  # exists, belongs to someone else
        return True


DEFERRED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block is done, then deliver them to the
    handlers they had (main thread only; elsewhere signals reach the main thread anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, _: pending.append(signum))
        for sig in DEFERRED_SIGNALS
        if signal.getsignal(sig) not in (signal.SIG_IGN, None)  # None: not set from Python
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(pending):
            signal.raise_signal(sig)


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at database ``name``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def ensure_database(admin_url: str, name: str) -> None:
    """Create database ``name`` if it does not exist (embedded mode only)."""
    conn = await connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def resolve_url(settings: Settings) -> str:
    """The URL of the ledger's database, starting the embedded server if none is configured."""
    if settings.database_url:
        return settings.database_url
    admin = start_embedded(settings.data_dir)
    await ensure_database(admin, EMBEDDED_DATABASE)
    return with_database(admin, EMBEDDED_DATABASE)


async def connect(url: str, role: str | None = None) -> asyncpg.Connection:
    """One connection, optionally running as ``role``; unreachable servers raise our error."""
    settings = {"role": role} if role else None
    try:
        return await asyncpg.connect(url, server_settings=settings)
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError) as exc:
        raise DatabaseUnavailableError(f"cannot reach PostgreSQL: {exc}") from exc


_settled: set[int] = set()
"""Backend pids of pooled connections whose use since they were acquired left no session
state behind (see :func:`settled`)."""


def settled(conn: asyncpg.Connection) -> None:
    """Say that ``conn`` (from a pool of :func:`create_pool`) ran only whole transactions
    since it was acquired: no SET, LISTEN, session advisory lock or held cursor. Returning it
    to the pool then skips the reset query (``RESET ALL``, ``UNLISTEN *``, ...), a round trip
    that the group commit would otherwise pay once per batch."""
    _settled.add(conn.get_server_pid())


async def _reset(conn: asyncpg.Connection) -> None:
    """The pool's reset: asyncpg has already rolled back any open transaction; run the reset
    query unless the connection was declared :func:`settled`."""
    pid = conn.get_server_pid()
    if pid in _settled:
        _settled.discard(pid)
        return
    query = conn.get_reset_query()
    if query:
        await conn.execute(query)


async def create_pool(url: str, *, role: str | None = WRITER_ROLE, size: int = 20) -> asyncpg.Pool:
    settings = {"role": role} if role else None
    try:
        return await asyncpg.create_pool(
            url, min_size=1, max_size=size, server_settings=settings, reset=_reset
        )
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError) as exc:
        raise DatabaseUnavailableError(f"cannot reach PostgreSQL: {exc}") from exc
