"""Entry filters EXPLAINed on a 1,000,000-entry log: ``python -m bench.entry_filters
[--entries 1000000] [--database-url URL] [--keep DIR]``.

Issue 15 asks that ``GET …/entries?kind=&fund=&from=&to=&reference=`` be index-backed:
EXPLAIN shows no sequential scan on a 1 M-entry log. This builds such a log (or reuses one:
``--keep DIR`` keeps the embedded PostgreSQL in DIR, and a later run with the same DIR skips
the build), then, for every combination of the five filters the route can send (31), asks
PostgreSQL for ``EXPLAIN (ANALYZE, BUFFERS)`` of exactly what the route runs, through
``ledger.store.filters.explain`` (the store's own named queries and arguments, never a copy
of their text): the filter's driving query and the ``entries_at`` read after it, each once
with the plan for the given values (custom) and once with the plan PostgreSQL may cache for
the prepared statement (generic). It prints per combination the driving query, the plan's
node types, the execution time and the buffers touched, and exits 1 if any plan has a
``Seq Scan`` on a log-sized table (more than ``LOG_SIZED`` rows).

The log: entry 0, two funds (``umum``; ``zakat``, one donation in ten), then donations with
value dates spread over January-November 2026 and their own references, and a ``note``
every 25th entry, appended with ``append_batch`` in transactions of 5,000 as a charity's log
(money rows, two posting lines each, value dates), then ``VACUUM (ANALYZE)`` as the owner:
the statistics a log written over months has.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg

LOG_SIZED = 10_000
"""A sequential scan on a table of more rows than this fails the benchmark."""
BUILD_BATCH = 5_000
NOTE_EVERY = 25
SLUG = "filters-bench"
DATABASE = "ledger_filters"
FIRST_DAY = dt.date(2026, 1, 1)
DAYS = 330

FILTERS = {
    "kind": "donation",
    "fund": "zakat",
    "from": dt.date(2026, 3, 1),
    "to": dt.date(2026, 4, 1),
    "reference": None,  # a reference of the middle of the log, set once it is built
}


def donation(i: int) -> dict[str, Any]:
    return {
        "fund": "zakat" if i % 10 == 0 else "umum",
        "amount": 25_000_00 + i % 1000,
        "currency": "IDR",
        "received_on": (FIRST_DAY + dt.timedelta(days=i * 7 % DAYS)).isoformat(),
        "channel": "bank_transfer",
        "reference": f"TRX-{i:08d}",
        "donor": {"commitment": None, "display": None},
    }


@contextlib.contextmanager
def server(admin_url: str | None, keep: Path | None) -> Iterator[str]:
    """The PostgreSQL to use: ``admin_url``, an embedded one kept in ``keep``, or a
    temporary embedded one."""
    if admin_url or keep is None:
        from bench.database import postgres

        with postgres(admin_url, "ldg-filters-pg-") as url:
            yield url
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        keep.mkdir(parents=True, exist_ok=True)
        kept = pgserver.get_server(keep, cleanup_mode="stop")
    try:
        yield kept.get_uri()
    finally:
        kept.cleanup()


@contextlib.asynccontextmanager
async def database(admin_url: str, keep: bool) -> AsyncIterator[str]:
    """The benchmark's database on that server: kept (created and migrated once) or fresh."""
    from bench.database import migrated_database
    from ledger.store.database import with_database
    from ledger.store.migrate import migrate

    if not keep:
        async with migrated_database(admin_url, "ledger_filters_") as url:
            yield url
        return
    admin = await asyncpg.connect(admin_url)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    url = with_database(admin_url, DATABASE)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)  # a kept database gets the migrations added since
    finally:
        await conn.close()
    yield url


async def build(db_url: str, entries: int) -> None:
    """A log of at least ``entries`` entries for organization ``SLUG`` (kept ones grow)."""
    from ledger.charity.rules import CharityPolicy
    from ledger.errors import NotFoundError
    from ledger.journal.appender import Intent, append_batch
    from ledger.journal.organizations import create_organization
    from ledger.settings import Settings
    from ledger.store.database import WRITER_ROLE, create_pool
    from ledger.store.log import Store

    pool = await create_pool(db_url, role=WRITER_ROLE, size=2)
    try:
        store = Store(pool)
        try:
            org = await store.organization(SLUG)
        except NotFoundError:  # not kept from an earlier run
            org = None
        if org is None:
            settings = Settings(database_url=db_url, data_dir=Path(tempfile.mkdtemp()))
            org = await create_organization(store, settings, b"k" * 32, SLUG, "Filters")
        size = (await store.head(org.id)).size
        if size >= entries:
            print(f"log: {size:,} entries (kept)", file=sys.stderr)
            return
        policy = CharityPolicy()
        started = time.perf_counter()
        while size < entries:
            count = min(BUILD_BATCH, entries - size)
            intents = []
            for i in range(size, size + count):
                if i == 1:
                    intents.append(Intent("fund.created", _fund("umum")))
                elif i == 2:
                    intents.append(Intent("fund.created", _fund("zakat")))
                elif i % NOTE_EVERY == 0:
                    intents.append(Intent("note", {"text": f"catatan {i}"}))
                else:
                    intents.append(Intent("donation", donation(i)))
            async with store.connection() as conn, conn.transaction():
                outcomes = await append_batch(store, conn, org, intents, policy=policy)
            refused = [o for o in outcomes if isinstance(o, Exception)]
            if refused:
                raise RuntimeError(f"building the log: {refused[0]}")
            size += count
            if size % 100_000 < BUILD_BATCH or size == entries:
                took = time.perf_counter() - started
                print(f"build: {size:>9,} entries ({took:.0f} s)", file=sys.stderr)
    finally:
        await pool.close()
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


def _fund(code: str) -> dict[str, Any]:
    return {"code": code, "name": f"Dana {code}", "currency": "IDR", "minor_units": 2}


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def shape(plan: dict[str, Any]) -> str:
    """The plan's scan nodes, e.g. ``Index Only Scan postings_by_account``."""
    out = []
    for node in nodes(plan):
        kind = node["Node Type"]
        if "Scan" in kind and kind != "Subquery Scan":
            out.append(f"{kind} {node.get('Index Name') or node.get('Relation Name', '')}")
    return ", ".join(dict.fromkeys(out))


def seq_scans(plan: dict[str, Any], sizes: dict[str, float]) -> list[str]:
    return [
        n["Relation Name"]
        for n in nodes(plan)
        if n["Node Type"] == "Seq Scan" and sizes.get(n.get("Relation Name", ""), 0) > LOG_SIZED
    ]


async def run(args: argparse.Namespace) -> int:
    from ledger.store import filters
    from ledger.store.database import READER_ROLE
    from ledger.store.filters import EntryFilter

    keep = Path(args.keep) if args.keep else None
    with server(args.database_url, keep) as admin_url:
        async with database(admin_url, keep is not None) as db_url:
            t0 = time.perf_counter()
            await build(db_url, args.entries)
            print(f"log ready in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
            owner = await asyncpg.connect(db_url)
            try:
                sizes = {
                    r["relname"]: r["reltuples"]
                    for r in await owner.fetch(
                        "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'"
                    )
                }
                org_id = await owner.fetchval("SELECT id FROM organizations WHERE slug = $1", SLUG)
            finally:
                await owner.close()
            conn = await asyncpg.connect(db_url, server_settings={"role": READER_ROLE})
            try:
                return await explain_all(conn, org_id, sizes, args.entries, filters, EntryFilter)
            finally:
                await conn.close()


async def explain_all(conn, org_id, sizes, entries, filters, EntryFilter) -> int:  # type: ignore[no-untyped-def]
    values = dict(FILTERS, reference=f"TRX-{entries // 2 + 1:08d}")
    names = list(values)
    print(
        f"entries log: {int(sizes.get('entries', 0)):,} rows, postings "
        f"{int(sizes.get('postings', 0)):,}, value_dates {int(sizes.get('value_dates', 0)):,}; "
        f"values {', '.join(f'{k}={v}' for k, v in values.items())}"
    )
    print(f"{'filters':<32} {'driver':<22} {'rows':>4} {'ms':>7} {'gen ms':>7} "
          f"{'buffers':>7}  plan (custom; generic when different)")  # fmt: skip
    failed = []
    for n in range(1, len(names) + 1):
        for combo in itertools.combinations(names, n):
            chosen = {k: values[k] for k in combo}
            where = EntryFilter(
                kind=chosen.get("kind"),
                fund=chosen.get("fund"),
                value_from=chosen.get("from"),
                value_to=chosen.get("to"),
                reference=chosen.get("reference"),
            )
            custom = await filters.explain(conn, org_id, where, 0, 101)
            generic = await filters.explain(conn, org_id, where, 0, 101, generic=True)
            driver, plan = custom[0]
            rows = plan["Plan"]["Actual Rows"]
            ms = sum(p["Execution Time"] for _, p in custom)
            gen_ms = sum(p["Execution Time"] for _, p in generic)
            hit = sum(
                p["Plan"].get("Shared Hit Blocks", 0) + p["Plan"].get("Shared Read Blocks", 0)
                for _, p in custom
            )
            text = shape(plan["Plan"])
            if shape(generic[0][1]["Plan"]) != text:
                text += f"; generic: {shape(generic[0][1]['Plan'])}"
            bad = [
                f"{name} ({mode}): Seq Scan on {rel}"
                for mode, plans in (("custom", custom), ("generic", generic))
                for name, p in plans
                for rel in seq_scans(p["Plan"], sizes)
            ]
            failed += [f"{'&'.join(combo)}: {b}" for b in bad]
            print(f"{'&'.join(combo):<32} {driver:<22} {rows:>4} {ms:>7.2f} {gen_ms:>7.2f} "
                  f"{hit:>7}  {text}{'  SEQ SCAN' if bad else ''}")  # fmt: skip
    if failed:
        print("FAILED: sequential scans on log-sized tables:\n  " + "\n  ".join(failed))
        return 1
    print("ok: no sequential scan on a log-sized table in any plan")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.entry_filters", description=__doc__)
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--database-url", help="admin URL of a PostgreSQL to use instead of embedded")
    p.add_argument(
        "--keep", metavar="DIR", help="keep the embedded PostgreSQL (and its log) in DIR"
    )
    return asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
