"""End-to-end HTTP load test: ``python -m bench.http_load [--clients 64] [--seconds 20]``.

What it measures is the whole write path a charity's client sees: HTTP parsing, routing,
auth, validation, idempotency, group commit, PostgreSQL and the response, with the server,
the database and the load generator sharing this machine.

1. Starts an embedded PostgreSQL (pgserver, temporary directory) unless ``--database-url``
   gives the admin URL of another server; creates a fresh database and migrates it.
2. Creates an organization, an admin and a recorder API key (``issue_key``).
3. Starts the real server in a SEPARATE process: ``python -m ledger serve --workers N``
   (default one process), configured from the environment as in production (JSON access
   logs, ``LEDGER_RATE_LIMIT``). Waits for ``/readyz``, creates a fund over HTTP.
4. Seeds the log like a service that has run a while (``--seed`` donations in batches and
   ``--seed-singles`` single requests), then VACUUM ANALYZE, as autovacuum would have done:
   a never-analyzed, freshly grown table gets sequential-scan plans that stay cached
   (``--seed 0 --seed-singles 0 --no-analyze`` shows that case). Waits (``--wait-quiet``)
   until other processes leave the machine alone.
5. Drives ``POST /v1/orgs/{slug}/donations`` from ``--clients`` concurrent keep-alive
   connections (closed loop: each client sends its next request when the previous answer
   arrived), every request with a unique ``Idempotency-Key`` and ``reference``. The load
   generator is a small asyncio HTTP/1.1 client in this process, on uvloop when installed,
   cheap enough (well under 0.1 ms of CPU per request; its share is printed) to leave the
   cores to the server.
   The first ``--warmup`` seconds are not measured.
6. Stops the server, runs the full verifier (``ledger.verify.stored.verify_all``) and checks that
   the log holds exactly one ``donation`` entry per 201 answer, at the indexes answered.

Printed besides: CPU cores used by the server, our PostgreSQL, the load generator and
everything else on the machine (a figure taken while others were busy says so), tables
read by sequential scans during the load, and group-commit transaction sizes.
``--profile`` samples the server with py-spy (``pip install py-spy``) during the measured
window and prints where its time goes.

Target (issue): >= 3,000 donations/s with p99 < 50 ms on the 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from bench.database import migrated_database, postgres

REPO = Path(__file__).resolve().parent.parent
TARGET_RATE = 3000.0
TARGET_P99_MS = 50.0
FUND = "bench-fund"


# --------------------------------------------------------------------------- a tiny client


class HttpError(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection; one request at a time (no pipelining)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, limit=1 << 22
        )
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: bytes = b"", body: bytes = b""
    ) -> tuple[int, dict[bytes, bytes], bytes]:
        """Send one request; return (status, lower-cased headers, body)."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Length: {len(body)}\r\n"
        ).encode()
        self.writer.write(head + headers + b"\r\n" + body)
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            await self.close()
            raise HttpError(f"connection closed by server: {exc!r}") from exc
        lines = raw[:-4].split(b"\r\n")
        status = int(lines[0][9:12])
        hdrs: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            hdrs[name.strip().lower()] = value.strip()
        if b"content-length" in hdrs:
            data = await self.reader.readexactly(int(hdrs[b"content-length"]))
        elif b"chunked" in hdrs.get(b"transfer-encoding", b"").lower():
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            data = b"".join(parts)
        else:
            data = b""
        if hdrs.get(b"connection", b"").lower() == b"close":
            await self.close()
        return status, hdrs, data


def auth_header(key: str, idem: str | None = None) -> bytes:
    h = f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
    if idem is not None:
        h += f"Idempotency-Key: {idem}\r\n"
    return h.encode()


# --------------------------------------------------------------------------- setup


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Bench:
    """A fresh migrated database with one organization, and its keys."""

    db_url: str
    slug: str
    org_id: int
    kek_b64: str
    admin_key: str
    recorder_key: str
    tmp: Path
    proc: subprocess.Popen | None = None
    port: int = 0
    server_log: Path | None = None
    notes: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def bench_database(database_url: str | None, slug: str) -> AsyncIterator[Bench]:
    """Embedded or given PostgreSQL; fresh database, migrated; one organization with keys."""
    from ledger.http.auth import issue_key
    from ledger.journal.organizations import create_organization
    from ledger.settings import Settings
    from ledger.store.database import WRITER_ROLE, create_pool
    from ledger.store.log import Store

    tmp = Path(tempfile.mkdtemp(prefix="ldg-http-"))
    try:
        with postgres(database_url, "ldg-http-pg-") as admin_url:
            async with migrated_database(admin_url, "ledger_http_") as db_url:
                kek = secrets.token_bytes(32)
                kek_b64 = base64.b64encode(kek).decode()
                settings = Settings(database_url=db_url, data_dir=tmp, kek=kek_b64)
                pool = await create_pool(db_url, role=WRITER_ROLE, size=2)
                try:
                    store = Store(pool)
                    org = await create_organization(
                        store, settings, kek, slug, "Benchmark Foundation"
                    )
                    _, admin_key = await issue_key(store, org.id, "admin", "bench")
                    _, recorder_key = await issue_key(store, org.id, "recorder", "bench")
                finally:
                    await pool.close()
                bench = Bench(db_url, slug, org.id, kek_b64, admin_key, recorder_key, tmp)
                try:
                    yield bench
                finally:
                    stop_server(bench)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def table_scans(bench: Bench) -> dict[str, tuple[int, int, int]]:
    """Per table: (sequential scans, rows they read, index scans) so far."""
    conn = await asyncpg.connect(bench.db_url)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        rows = await conn.fetch(
            "SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0) AS idx_scan "
            "FROM pg_stat_user_tables"
        )
    finally:
        await conn.close()
    return {r["relname"]: (r["seq_scan"], r["seq_tup_read"], r["idx_scan"]) for r in rows}


def scan_report(before: dict, after: dict, writes: int) -> str:  # type: ignore[type-arg]
    """Tables read by sequential scans during the load (a plan that does not scale)."""
    worst = []
    for name, (seq, read, idx) in after.items():
        s0, r0, i0 = before.get(name, (0, 0, 0))
        if read - r0 > 10 * max(writes, 1):
            worst.append((read - r0, name, seq - s0, idx - i0))
    if not worst:
        return "sequential scans during the load: none of note"
    worst.sort(reverse=True)
    return "sequential scans during the load: " + "; ".join(
        f"{name} {n:,} scans read {rows:,} rows ({rows / max(writes, 1):,.0f} per write; "
        f"{i:,} index scans)"
        for rows, name, n, i in worst[:4]
    )


async def analyze(bench: Bench) -> None:
    """VACUUM ANALYZE: what autovacuum does within a minute on a running service."""
    conn = await asyncpg.connect(bench.db_url)
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def start_server(
    bench: Bench,
    workers: int = 1,
    prefix: Sequence[str] = (),
    module: Sequence[str] = ("ledger", "serve"),
) -> None:
    """The real server in its own process (or processes), on a free loopback port; ``prefix``
    runs it under another program (``bench.http_instructions``: valgrind), ``module`` is what
    ``python -m`` runs (``bench.http_instructions --floor``: ``bench._floor_server``)."""
    bench.port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": bench.db_url,
        "LEDGER_KEK": bench.kek_b64,
        "LEDGER_HOST": "127.0.0.1",
        "LEDGER_PORT": str(bench.port),
        "LEDGER_DATA_DIR": str(bench.tmp),
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    cmd = [*prefix, sys.executable, "-m", *module]
    if module[0] == "ledger":
        cmd += ["--workers", str(max(1, workers))]
    bench.server_log = bench.tmp / "server.log"
    with open(bench.server_log, "wb") as out:
        bench.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def server_log_tail(bench: Bench, lines: int = 30) -> str:
    if bench.server_log is None or not bench.server_log.exists():
        return ""
    return "\n".join(bench.server_log.read_text(errors="replace").splitlines()[-lines:])


async def wait_ready(bench: Bench, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bench.proc is not None and bench.proc.poll() is not None:
            raise RuntimeError(
                f"server exited ({bench.proc.returncode}):\n{server_log_tail(bench)}"
            )
        conn = Connection("127.0.0.1", bench.port)
        try:
            status, _, _ = await conn.request("GET", "/readyz")
            if status == 200:
                return
        except (OSError, HttpError):
            pass
        finally:
            await conn.close()
        await asyncio.sleep(0.1)
    raise RuntimeError(f"server not ready after {timeout}s:\n{server_log_tail(bench)}")


def stop_server(bench: Bench) -> None:
    proc = bench.proc
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)  # uvicorn: graceful shutdown (lifespan runs)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


async def create_fund(bench: Bench) -> None:
    conn = Connection("127.0.0.1", bench.port)
    try:
        body = msgspec.json.encode({"code": FUND, "name": "Benchmark fund", "currency": "IDR"})
        status, _, data = await conn.request(
            "POST",
            f"/v1/orgs/{bench.slug}/funds",
            auth_header(bench.admin_key, f"fund-{uuid.uuid4().hex}"),
            body,
        )
    finally:
        await conn.close()
    if status != 201:
        raise RuntimeError(f"creating the fund failed: {status} {data[:300]!r}")


# --------------------------------------------------------------------------- verification


@dataclass
class Verification:
    ok: bool
    size: int
    checkpoints: int
    donations_in_log: int
    answered_201: int
    indexes_match: bool
    seconds: float
    reason: str | None
    batches: int = 0

    def lines(self) -> list[str]:
        return [
            f"verify_all: {'ok' if self.ok else 'FAIL'}  {self.size:,} entries, "
            f"{self.checkpoints} checkpoints, {self.seconds:.2f} s"
            + (f"  reason: {self.reason}" if self.reason else ""),
            f"donation entries in log: {self.donations_in_log:,}   201 answers: "
            f"{self.answered_201:,}   "
            + ("equal" if self.donations_in_log == self.answered_201 else "DIFFERENT")
            + f"; answered indexes == logged indexes: {self.indexes_match}",
            f"group commit: {self.batches:,} transactions held the donations "
            f"(mean {self.donations_in_log / max(1, self.batches):.1f} per transaction; "
            "entries of one transaction share a timestamp)",
        ]


async def verify(bench: Bench, answered: Sequence[int]) -> Verification:
    """Full verifier, then: one donation entry per 201 answer, at exactly the answered index."""
    from ledger.store.database import READER_ROLE, create_pool
    from ledger.store.log import Store
    from ledger.verify.stored import verify_all

    pool = await create_pool(bench.db_url, role=READER_ROLE, size=4)
    try:
        reports = await verify_all(Store(pool))
    finally:
        await pool.close()
    [report] = [r for r in reports if r.slug == bench.slug]
    conn = await asyncpg.connect(bench.db_url)
    try:
        logged = await conn.fetch(
            "SELECT idx FROM entries WHERE org_id = $1 AND kind = 'donation' ORDER BY idx",
            bench.org_id,
        )
        batches = await conn.fetchval(
            "SELECT count(DISTINCT created_at) FROM entries WHERE org_id = $1 AND kind = 'donation'",
            bench.org_id,
        )
    finally:
        await conn.close()
    logged_idx = [r["idx"] for r in logged]
    return Verification(
        ok=all(r.ok for r in reports),
        size=report.size,
        checkpoints=report.checkpoints,
        donations_in_log=len(logged_idx),
        answered_201=len(answered),
        indexes_match=sorted(answered) == logged_idx,
        seconds=report.seconds,
        reason=report.reason,
        batches=batches,
    )


# --------------------------------------------------------------------------- machine, CPU


def machine_info(admin_url: str | None = None) -> list[str]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 2**20:.1f} GiB"
    versions = []
    for mod in ("litestar", "uvicorn", "asyncpg", "msgspec", "uvloop", "httptools", "h11"):
        try:
            from importlib.metadata import version

            versions.append(f"{mod} {version(mod)}")
        except Exception:
            versions.append(f"{mod} -")
    return [
        f"machine: {platform.node()}  {platform.machine()}  {os.cpu_count()} CPUs ({cpu}), "
        f"{mem} RAM, kernel {platform.release()}",
        f"python {platform.python_version()} ({sys.executable})",
        "packages: " + ", ".join(versions),
    ]


async def pg_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        v = await conn.fetchval("SHOW server_version")
        sync = await conn.fetchval("SHOW synchronous_commit")
        fsync = await conn.fetchval("SHOW fsync")
    finally:
        await conn.close()
    return f"PostgreSQL {v} (fsync={fsync}, synchronous_commit={sync})"


_TICK = os.sysconf("SC_CLK_TCK")
NOISY_CORES = 0.25
"""Other processes using more than this many cores make a figure suspect (shown as a warning)."""


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (ppid, CPU seconds used so far)."""
    table = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                f = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()
                table[int(d)] = (int(f[1]), (int(f[11]) + int(f[12])) / _TICK)
    return table


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores)."""
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    idle = cpu[3] + (cpu[4] if len(cpu) > 4 else 0)
    return (sum(cpu[:8]) - idle) / _TICK


async def local_postmaster(db_url: str) -> int | None:
    """The postmaster of our database server when it runs on this machine."""
    conn = await asyncpg.connect(db_url)
    try:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        with contextlib.suppress(OSError, ValueError, IndexError, KeyError):
            if b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return _proc_table()[pid][0]  # read while the backend still exists
    finally:
        await conn.close()
    return None


class CpuMeter:
    """Cores busy: the server (and its workers), our PostgreSQL (its postmaster and
    backends), the load generator (this process), and everything else on the machine."""

    def __init__(self, server_pid: int | None, postmaster: int | None) -> None:
        self.roots = {"server": server_pid, "postgres": postmaster, "load generator": os.getpid()}

    def sample(self) -> tuple[float, float, dict[str, dict[int, float]]]:
        table = _proc_table()
        children: dict[int, list[int]] = collections.defaultdict(list)
        for pid, (ppid, _) in table.items():
            children[ppid].append(pid)
        groups: dict[str, dict[int, float]] = {}
        for name, root in self.roots.items():
            found: dict[int, float] = {}
            todo = [root] if root in table else []
            if name == "load generator":  # not our children: the server is measured apart
                found = {root: table[root][1]} if root in table else {}
                todo = []
            while todo:
                pid = todo.pop()
                if pid not in found and pid in table:
                    found[pid] = table[pid][1]
                    todo.extend(children.get(pid, ()))
            groups[name] = found
        return time.perf_counter(), _machine_busy(), groups

    @staticmethod
    def cores(before, after) -> dict[str, float]:  # type: ignore[no-untyped-def]
        wall = max(after[0] - before[0], 1e-9)
        out = {}
        for name, now in after[2].items():
            then = before[2].get(name, {})
            used = sum(t - then.get(pid, 0.0) for pid, t in now.items())
            out[name] = max(used, 0.0) / wall
        ours = sum(out.values())
        out["others"] = max((after[1] - before[1]) / wall - ours, 0.0)
        out["machine"] = (after[1] - before[1]) / wall
        return out

    @staticmethod
    def report(c: dict[str, float]) -> str:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in c.items() if k not in ("machine",))
        line = f"CPU cores busy (of {os.cpu_count()}): {parts}; whole machine {c['machine']:.2f}"
        if c["others"] > NOISY_CORES:
            line += f"\nWARNING: other processes used {c['others']:.2f} cores during the run"
        return line


async def wait_quiet(seconds: float, meter: CpuMeter | None = None) -> dict[str, float]:
    """Wait (up to ``seconds``) until other processes use at most NOISY_CORES cores."""
    meter = meter or CpuMeter(None, None)
    give_up = time.monotonic() + seconds
    while True:
        before = meter.sample()
        await asyncio.sleep(1.0)
        c = CpuMeter.cores(before, meter.sample())
        if c["others"] <= NOISY_CORES or time.monotonic() >= give_up:
            return c
        print(f"waiting for a quiet machine: others use {c['others']:.2f} cores", flush=True)


# --------------------------------------------------------------------------- profiling


def start_profiler(
    pid: int, seconds: float, out: Path, subprocesses: bool
) -> subprocess.Popen | None:
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(exe).exists():
        print("profile: py-spy not installed (.venv/bin/pip install py-spy)")
        return None
    cmd = [exe, "record", "-p", str(pid), "-d", str(max(1, int(seconds))), "-r", "200",
           "-f", "raw", "-o", str(out), "--nonblocking"]  # fmt: skip
    if subprocesses:
        cmd.append("--subprocesses")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def summarize_profile(path: Path, seconds: float, top: int = 25) -> list[str]:
    """Collapsed stacks → self and inclusive share per function (of busy samples)."""
    if not path.exists():
        return [f"profile: no output at {path}"]
    self_t: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = stack.split(";")
        # py-spy raw: "process;thread;frame;frame..." with frame = "func (file:line)"
        names = [_frame_name(f) for f in frames if "(" in f]
        if names:
            self_t[names[-1]] += count
        for name in set(names):
            incl[name] += count
    if not total:
        return ["profile: no samples"]
    busy = total / (200 * seconds)
    out = [
        f"profile: {total:,} samples at 200 Hz over {seconds:.0f} s: the server's Python "
        f"threads were on CPU (or in a syscall) {busy:.0%} of the time",
        "  self time (innermost frame)               %    | inclusive                                %",
    ]
    left = self_t.most_common(top)
    right = incl.most_common(top)
    for i in range(top):
        a = f"{left[i][0][:44]:44} {100 * left[i][1] / total:5.1f}" if i < len(left) else " " * 50
        b = f"{right[i][0][:52]:52} {100 * right[i][1] / total:5.1f}" if i < len(right) else ""
        out.append(f"  {a} | {b}")
    return out


def _frame_name(frame: str) -> str:
    func, _, where = frame.partition(" (")
    where = where.rstrip(")")
    file = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib/python3.11/", str(REPO) + "/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{func} ({file})"


# --------------------------------------------------------------------------- the load


@dataclass
class LoadResult:
    latencies: list[float]
    statuses: collections.Counter[int]
    errors: collections.Counter[str]
    samples: dict[int, bytes]
    answered: list[int]
    measured_201: int
    window: float
    timeline: list[int]


async def drive_donations(
    bench: Bench, clients: int, seconds: float, warmup: float, donor_every: int = 0
) -> LoadResult:
    """Closed loop: each client posts a donation as soon as its previous one was answered."""
    path = f"/v1/orgs/{bench.slug}/donations"
    run = uuid.uuid4().hex[:8]
    headers_base = (
        f"Authorization: Bearer {bench.recorder_key}\r\nContent-Type: application/json\r\n"
    )
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    samples: dict[int, bytes] = {}
    answered: list[int] = []
    t0 = time.perf_counter()
    measure_from = t0 + warmup
    stop_at = measure_from + seconds
    measured_201 = 0
    timeline = [0] * (int(warmup + seconds) + 2)
    decode = msgspec.json.decode

    async def client(c: int) -> None:
        nonlocal measured_201
        conn = Connection("127.0.0.1", bench.port)
        n = 0
        try:
            while True:
                start = time.perf_counter()
                if start >= stop_at:
                    return
                ref = f"L-{run}-{c}-{n}"
                n += 1
                body = donation_json(
                    FUND, 10_000 + n, ref, bool(donor_every and n % donor_every == 0)
                )
                hdrs = (headers_base + f"Idempotency-Key: {ref}\r\n").encode()
                try:
                    status, _, data = await conn.request("POST", path, hdrs, body)
                except (OSError, HttpError) as exc:
                    errors[type(exc).__name__] += 1
                    await asyncio.sleep(0.01)
                    continue
                end = time.perf_counter()
                statuses[status] += 1
                if status == 201:
                    answered.append(decode(data)["index"])
                    timeline[int(end - t0)] += 1
                elif status not in samples:
                    samples[status] = data[:400]
                if start >= measure_from:
                    latencies.append(end - start)
                    measured_201 += status == 201
        finally:
            await conn.close()

    await asyncio.gather(*(client(c) for c in range(clients)))
    window = min(time.perf_counter(), stop_at) - measure_from
    return LoadResult(
        latencies, statuses, errors, samples, answered, measured_201, window, timeline
    )


def donation_json(fund: str, amount: int, reference: str, donor: bool = False) -> bytes:
    d = (
        b'{"fund":"' + fund.encode() + b'","amount":' + str(amount).encode()
        + b',"currency":"IDR","received_on":"2026-11-01","channel":"bank_transfer",'
        b'"reference":"' + reference.encode() + b'"'
    )  # fmt: skip
    if donor:
        d += (
            b',"donor":{"name":"Donatur ' + reference.encode() + b'","email":"d'
            + reference.encode() + b'@example.org","public_name":"Hamba Allah"}'
        )  # fmt: skip
    return d + b"}"


@dataclass
class BatchResult:
    latencies: list[float]
    statuses: collections.Counter[int]
    errors: collections.Counter[str]
    samples: dict[int, bytes]
    answered: list[int]
    donations: int
    seconds: float


async def drive_batches(
    bench: Bench,
    *,
    batches: int,
    size: int,
    clients: int,
    donor_every: int = 0,
    tag: str = "B",
) -> BatchResult:
    """``batches`` POST /donations/batch of ``size`` donations each, from ``clients``
    concurrent connections (closed loop). Request bodies are built before the clock starts."""
    path = f"/v1/orgs/{bench.slug}/donations/batch"
    run = uuid.uuid4().hex[:8]
    bodies = []
    for b in range(batches):
        items = [
            donation_json(
                FUND, 10_000 + i, f"{tag}-{run}-{b}-{i}", bool(donor_every and i % donor_every == 0)
            )
            for i in range(size)
        ]
        bodies.append((f"{tag}-{run}-{b}", b'{"donations":[' + b",".join(items) + b"]}"))
    todo = collections.deque(bodies)
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    samples: dict[int, bytes] = {}
    answered: list[int] = []
    done = 0

    async def client() -> None:
        nonlocal done
        conn = Connection("127.0.0.1", bench.port)
        try:
            while todo:
                key, body = todo.popleft()
                start = time.perf_counter()
                try:
                    status, _, data = await conn.request(
                        "POST", path, auth_header(bench.recorder_key, key), body
                    )
                except (OSError, HttpError) as exc:
                    errors[type(exc).__name__] += 1
                    continue
                latencies.append(time.perf_counter() - start)
                statuses[status] += 1
                if status == 201:
                    recorded = msgspec.json.decode(data)["recorded"]
                    answered.extend(r["index"] for r in recorded)
                    done += len(recorded)
                elif status not in samples:
                    samples[status] = data[:400]
        finally:
            await conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return BatchResult(
        latencies, statuses, errors, samples, answered, done, time.perf_counter() - t0
    )


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def latency_line(values: Sequence[float], unit: str = "ms") -> str:
    s = sorted(values)
    f = 1000.0
    return (
        f"p50 {percentile(s, 0.50) * f:.1f} {unit}, p90 {percentile(s, 0.90) * f:.1f}, "
        f"p99 {percentile(s, 0.99) * f:.1f}, p99.9 {percentile(s, 0.999) * f:.1f}, "
        f"max {s[-1] * f if s else float('nan'):.1f}"
    )


async def prepare_server(args: argparse.Namespace, bench: Bench) -> None:
    """Server up, fund created, optional seed log, statistics as on a running service."""
    start_server(bench, args.workers)
    await wait_ready(bench)
    await create_fund(bench)
    how = (
        "`python -m ledger serve` (1 process)"
        if args.workers <= 1
        else f"`python -m ledger serve --workers {args.workers}`"
    )
    print(f"server: {how}, pid {bench.proc.pid}, http://127.0.0.1:{bench.port}")  # type: ignore[union-attr]


async def post_singles(bench: Bench, n: int, clients: int = 32) -> list[int]:
    """``n`` single-donation requests (as the load sends them); the indexes answered."""
    path = f"/v1/orgs/{bench.slug}/donations"
    run = uuid.uuid4().hex[:8]
    todo = iter(range(n))
    answered: list[int] = []

    async def client() -> None:
        conn = Connection("127.0.0.1", bench.port)
        try:
            for i in todo:
                ref = f"W-{run}-{i}"
                status, _, data = await conn.request(
                    "POST",
                    path,
                    auth_header(bench.recorder_key, ref),
                    donation_json(FUND, 500, ref),
                )
                if status != 201:
                    raise RuntimeError(f"seeding failed: {status} {data[:300]!r}")
                answered.append(msgspec.json.decode(data)["index"])
        finally:
            await conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return answered


async def seed(args: argparse.Namespace, bench: Bench) -> list[int]:
    """A log that is not empty, with statistics, as a service that has run a while has."""
    answered: list[int] = []
    t = time.perf_counter()
    if args.seed > 0:
        n = max(1, args.seed // 1000)
        r = await drive_batches(bench, batches=n, size=1000, clients=2, tag="S")
        if r.statuses.get(201) != n:
            raise RuntimeError(f"seeding failed: {dict(r.statuses)} {r.samples}")
        answered = r.answered
    if args.seed_singles > 0:
        answered += await post_singles(bench, args.seed_singles)
    if answered:
        print(
            f"seeded {len(answered):,} donations ({args.seed_singles:,} single requests, the "
            f"rest via /donations/batch) in {time.perf_counter() - t:.1f} s"
        )
    if not args.no_analyze:
        await analyze(bench)
        print(
            "ran VACUUM ANALYZE before the load (autovacuum does this within a minute on a "
            "running service; --no-analyze shows a fresh, never-analyzed database)"
        )
    return answered


async def seeded_and_quiet(args: argparse.Namespace, bench: Bench) -> tuple[list[int], CpuMeter]:
    """The server started on a seeded log (``prepare_server``, ``seed``), then a wait for the
    machine to go quiet; the seeded indexes and the meter of the server's CPU."""
    print(await pg_version(bench.db_url))
    await prepare_server(args, bench)
    seeded = await seed(args, bench)
    return seeded, await quiet_meter(args.wait_quiet, bench)


async def quiet_meter(wait: float, bench: Bench) -> CpuMeter:
    """A meter of the running server's CPU, once other processes went quiet (up to ``wait``
    seconds)."""
    meter = CpuMeter(bench.proc.pid, await local_postmaster(bench.db_url))  # type: ignore[union-attr]
    quiet = await wait_quiet(wait, meter)
    print(f"before the load: other processes used {quiet['others']:.2f} cores")
    return meter


def report_answers(result: LoadResult | BatchResult, head: str) -> int:
    """Print the status counts after ``head``, the errors and a sample of each non-201
    answer; returns the number of errors (non-201 answers and transport errors)."""
    non_201 = sum(v for k, v in result.statuses.items() if k != 201)
    errors = non_201 + sum(result.errors.values())
    print()
    print(f"{head}; status counts: {dict(sorted(result.statuses.items()))}")
    print(f"errors: {errors} (non-201 answers {non_201}, "
          f"transport {dict(result.errors) or 0})")  # fmt: skip
    for status, sample in result.samples.items():
        print(f"  sample {status}: {sample.decode(errors='replace')}")
    return errors


async def report_verified(bench: Bench, answered: Sequence[int]) -> bool:
    """Run the full verifier and print its report: whether the log verifies and holds
    exactly the answered donations, at the answered indexes."""
    v = await verify(bench, answered)
    for line in v.lines():
        print(line)
    return v.ok and v.donations_in_log == v.answered_201 and v.indexes_match


async def run(args: argparse.Namespace) -> int:
    for line in machine_info():
        print(line)
    slug = "bench-http"
    async with bench_database(args.database_url, slug) as bench:
        seeded, meter = await seeded_and_quiet(args, bench)
        print(
            f"load: POST /v1/orgs/{slug}/donations, {args.clients} clients (asyncio keep-alive "
            f"HTTP/1.1, closed loop), {args.warmup:.0f} s warm-up + {args.seconds:.0f} s measured"
        )
        prof_out = bench.tmp / "profile.txt"
        profiler = None

        async def measure_cpu():  # type: ignore[no-untyped-def]
            nonlocal profiler
            await asyncio.sleep(args.warmup)
            before = meter.sample()
            if args.profile:
                pid = bench.proc.pid  # type: ignore[union-attr]
                profiler = start_profiler(pid, args.seconds, prof_out, args.workers > 1)
            await asyncio.sleep(args.seconds)
            return before, meter.sample()

        scans0 = await table_scans(bench)
        cpu_task = asyncio.create_task(measure_cpu())
        result = await drive_donations(
            bench, args.clients, args.seconds, args.warmup, args.donor_every
        )
        before, after = await cpu_task
        if profiler is not None:
            try:
                _, err = profiler.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                profiler.kill()
                _, err = profiler.communicate()
            if profiler.returncode:
                print(f"profile: py-spy failed: {err.decode(errors='replace')[-500:]}")
        died = bench.proc is not None and bench.proc.poll() is not None
        stop_server(bench)  # its backends exit and flush their statistics
        if died:
            print(f"SERVER EXITED during the run ({bench.proc.returncode}); its log ends:")  # type: ignore[union-attr]
            print(server_log_tail(bench))
        scans1 = await table_scans(bench)
        rate = result.measured_201 / result.window if result.window > 0 else 0.0
        lat = sorted(result.latencies)
        p99 = percentile(lat, 0.99) * 1000
        answered = f"requests answered: {sum(result.statuses.values()):,} (incl. warm-up)"
        errors = report_answers(result, answered)
        print(f"throughput (measured window {result.window:.1f} s): {rate:,.0f} donations/s")
        print(f"latency per request: {latency_line(lat)}")
        per_second = result.timeline[: int(args.warmup + args.seconds)]
        print("201s per second of the run: " + " ".join(f"{n:,}" for n in per_second))
        print(CpuMeter.report(CpuMeter.cores(before, after)))
        print(scan_report(scans0, scans1, result.statuses[201]))
        met = rate >= TARGET_RATE and p99 < TARGET_P99_MS and errors == 0
        print(
            f"target >= {TARGET_RATE:,.0f}/s with p99 < {TARGET_P99_MS:.0f} ms and no errors: "
            + ("MET" if met else "NOT MET")
        )
        if args.profile:
            for line in summarize_profile(prof_out, args.seconds, args.top):
                print(line)
            if args.keep_profile:
                shutil.copy(prof_out, args.keep_profile)
                print(f"profile: collapsed stacks copied to {args.keep_profile}")
        print()
        good = await report_verified(bench, seeded + result.answered)
        if args.json:
            print(json.dumps({
                "bench": "http_load", "clients": args.clients, "workers": args.workers,
                "donations_per_s": rate, "p50_ms": percentile(lat, 0.5) * 1000, "p99_ms": p99,
                "errors": errors, "verified": good, "target_met": met,
            }))  # fmt: skip
        return 0 if good else 1


def common_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--database-url",
        default=os.environ.get("LEDGER_BENCH_DATABASE_URL"),
        help="admin URL of a PostgreSQL server (default: embedded pgserver in a temp dir)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes: `python -m ledger serve --workers N` (default 1)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=20_000,
        help="donations recorded (batches of 1,000) before the measured load (default 20000)",
    )
    p.add_argument(
        "--seed-singles",
        type=int,
        default=5_000,
        help="and this many single-donation requests, so per-request tables such as "
        "idempotency_keys are not tiny when analyzed (default 5000)",
    )
    p.add_argument(
        "--no-analyze",
        action="store_true",
        help="skip VACUUM ANALYZE after seeding (a fresh database's first minute)",
    )
    p.add_argument(
        "--donor-every",
        type=int,
        default=0,
        help="give every Nth donation donor personal data (default 0: all anonymous)",
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=300.0,
        help="wait up to this many seconds for other processes to go quiet first (default 300)",
    )
    p.add_argument("--json", action="store_true", help="also print a one-line JSON summary")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.http_load", description=(__doc__ or "").split("\n")[0]
    )
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of load not measured")
    common_args(p)
    p.add_argument("--profile", action="store_true", help="sample the server with py-spy")
    p.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    p.add_argument("--keep-profile", type=Path, help="copy py-spy's collapsed stacks here")
    args = p.parse_args(argv)
    return run_loop(run(args))


def run_loop(main: Coroutine[Any, Any, int]) -> int:
    """Run the load generator on uvloop when installed (a cheaper client leaves more CPU to
    the server it measures), else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


if __name__ == "__main__":
    sys.exit(main())
