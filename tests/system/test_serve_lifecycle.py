"""`ledger serve` from start to stop, as real processes on a real embedded PostgreSQL.

- On an empty embedded data directory it migrates itself and answers ``/readyz``.
- With ``DATABASE_URL`` pointing at an unmigrated database it refuses, in one line naming
  ``ledger migrate``, with no traceback.
- SIGTERM and SIGINT, with one worker or two, stop the embedded PostgreSQL too: no
  ``postgres -D <data dir>`` process is left behind.
- A server that died without leaving (SIGKILL) stays listed in pgserver's handle file; that
  stale entry never keeps PostgreSQL running after the last living user has left.
- A busy port is one line that names ``--port``.

Every server runs in its own short temporary data directory; a migrated one is prepared once
(``ledger migrate``) and copied for the tests that do not need an empty one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.apikit import free_port
from tests.conftest import REPO, run_ledger

HANDLES = ".handle_pids.json"


def ledger_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a `ledger` command on the embedded database in ``home``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PROMETHEUS_", "LEDGER_")) and k != "DATABASE_URL"
    }
    env.update(LEDGER_DATA_DIR=str(home), PYTHONPATH=str(REPO), **extra)
    return env


def postgres_of(home: Path) -> list[psutil.Process]:
    """The PostgreSQL processes whose data directory is ``home/pg`` (by command line)."""
    pgdata = str((home / "pg").resolve())
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "-D" in cmdline and pgdata in cmdline[cmdline.index("-D") + 1 :][:1]:
            found.append(proc)
    return found


def handles(home: Path) -> list[int]:
    path = home / "pg" / HANDLES
    return json.loads(path.read_text()) if path.exists() else []


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not {what} after {timeout} s")


class Server:
    """One `ledger serve` process in its own process group, logging to a file in ``home``."""

    def __init__(self, home: Path, *args: str, **env: str) -> None:
        self.home = home
        self.port = free_port()
        self.log = home / f"serve-{self.port}.log"
        cmd = [sys.executable, "-m", "ledger", "serve", "--port", str(self.port), *args]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                cmd,
                cwd=REPO,
                env=ledger_env(home, **env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}:\n{self.tail()}")
            try:
                r = httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2)
                if r.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not ready after {timeout} s:\n{self.tail()}")

    def signal(self, sig: int, timeout: float = 30.0) -> int:
        """Send ``sig`` to the server process (not its group) and wait for it to exit."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise AssertionError(f"server ignored signal {sig}:\n{self.tail()}") from None

    def kill(self) -> None:
        """SIGKILL to the whole group: no shutdown code runs anywhere."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill()


def new_home() -> Path:
    # Short, so that PostgreSQL's socket path in it stays within the Unix socket limit.
    return Path(tempfile.mkdtemp(prefix="ldg-life-"))


def remove_home(home: Path) -> None:
    for proc in postgres_of(home):  # a failed test must not leave a server behind
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def migrated_home() -> Iterator[Path]:
    """An embedded data directory, initialized and migrated by `ledger migrate` (stopped)."""
    home = new_home()
    done = run_ledger("migrate", env=ledger_env(home))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "applied" in done.stdout, done.stdout
    assert not postgres_of(home), "`ledger migrate` left PostgreSQL running"
    yield home
    remove_home(home)


@pytest.fixture
def home(migrated_home: Path) -> Iterator[Path]:
    """A copy of the migrated data directory (cp -a: PostgreSQL's files keep their owner)."""
    target = new_home()
    subprocess.run(["cp", "-a", f"{migrated_home}/.", str(target)], check=True)
    yield target
    remove_home(target)


def assert_no_postgres_left(home: Path) -> None:
    wait_for(lambda: not postgres_of(home), 10, "all PostgreSQL processes of the data dir gone")
    assert not (home / "pg" / "postmaster.pid").exists()
    assert handles(home) == []


def test_serve_on_an_empty_data_dir_migrates_itself_and_sigterm_stops_postgres():
    home = new_home()
    try:
        server = Server(home)
        try:
            server.wait_ready()
            orgs = httpx.get(f"http://127.0.0.1:{server.port}/v1/orgs", timeout=10)
            assert orgs.status_code == 200, orgs.text  # the schema is there: it migrated
            assert postgres_of(home), "no embedded PostgreSQL while serving?"
            assert handles(home) == [server.proc.pid]
            assert server.signal(signal.SIGTERM) == 128 + signal.SIGTERM, server.tail()
        finally:
            server.stop()
        text = server.log.read_text()
        assert re.search(r"applied \d+ migration\(s\)", text), server.tail()
        assert "Traceback" not in text, server.tail()
        assert_no_postgres_left(home)
    finally:
        remove_home(home)


@pytest.mark.parametrize(
    ("sig", "workers"),
    [(signal.SIGTERM, 2), (signal.SIGINT, 1), (signal.SIGINT, 2)],
    ids=["sigterm-2-workers", "sigint-1-worker", "sigint-2-workers"],
)
def test_stopping_serve_stops_the_embedded_postgres(home: Path, sig: int, workers: int):
    server = Server(home, "--workers", str(workers))
    try:
        server.wait_ready()
        assert postgres_of(home)
        server.signal(sig)
    finally:
        server.stop()
    assert "Traceback" not in server.log.read_text(), server.tail()
    assert_no_postgres_left(home)


def test_a_stale_handle_never_keeps_postgres_running(home: Path):
    # A server killed outright stays listed in pgserver's handle file, its PostgreSQL running.
    killed = Server(home)
    killed.wait_ready()
    killed.kill()
    assert postgres_of(home) and handles(home) == [killed.proc.pid]

    # The next server forgets the dead user when it joins ...
    last = Server(home)
    try:
        last.wait_ready()
        assert handles(home) == [last.proc.pid]
        # ... and when it leaves: another user joins, then dies without leaving.
        other = Server(home)
        other.wait_ready()
        other.kill()
        assert sorted(handles(home)) == sorted([last.proc.pid, other.proc.pid])
        assert postgres_of(home)
        last.signal(signal.SIGTERM)
    finally:
        last.stop()
    assert_no_postgres_left(home)


async def test_database_url_to_an_unmigrated_database_is_refused_in_one_line(empty_db_url):
    home = new_home()
    try:
        done = run_ledger(
            "serve", "--port", str(free_port()),
            env=ledger_env(home, DATABASE_URL=empty_db_url), timeout=60,
        )  # fmt: skip
    finally:
        remove_home(home)
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("ledger: error: database schema is missing"), lines
    assert "run `ledger migrate`" in lines[0]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_busy_port_is_one_line_naming_port(workers: int):
    home = new_home()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        try:
            started = time.monotonic()
            command = ["serve", "--port", str(port), "--workers", str(workers)]
            done = run_ledger(*command, env=ledger_env(home), timeout=60)
            took = time.monotonic() - started
            assert not (home / "pg").exists()  # refused before starting anything
        finally:
            remove_home(home)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.strip().splitlines() == [
        f"ledger: error: port {port} is already in use on 127.0.0.1; choose another with --port"
    ]
    assert took < 20, took
