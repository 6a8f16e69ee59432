"""The ``ledger`` command: serve, migrate, verify, keys, org, staff, checkpoint, report, demo.

Every subcommand builds ``Settings`` from the environment plus its flags and passes them
down; nothing reads configuration at import time. With no ``DATABASE_URL`` each command
starts (or joins) the embedded PostgreSQL in the data directory and stops it on exit, the
last of its users to leave stopping it (``ledger.store.database``). Every command exits through
Python on SIGINT, SIGTERM and SIGHUP alike (``exit_on``), so that this happens whichever of
them stops it; ``ledger serve`` first finishes its in-flight requests.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from ledger import recipient
from ledger.errors import LedgerError
from ledger.settings import Settings
from schemas.money import decimal_amount

Command = Callable[[argparse.Namespace, Settings], Awaitable[int]]


async def _store(settings: Settings, role: str | None):  # type: ignore[no-untyped-def]
    from ledger.store.database import create_pool, resolve_url
    from ledger.store.log import Store

    url = await resolve_url(settings)
    return Store(await create_pool(url, role=role, size=4))


async def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.store.database import connect, resolve_url
    from ledger.store.migrate import migrate

    conn = await connect(await resolve_url(settings))
    try:
        applied = await migrate(conn)
    finally:
        await conn.close()
    print(
        f"applied {len(applied)} migration(s): {', '.join(applied)}"
        if applied
        else "schema is up to date"
    )
    return 0


async def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.store.database import READER_ROLE, create_pool, resolve_url
    from ledger.store.log import Store
    from ledger.verify.stored import verify_all

    url = await resolve_url(settings)
    store = Store(await create_pool(url, role=READER_ROLE, size=4))
    try:
        reports = await verify_all(store, args.org, url=url, role=READER_ROLE, workers=args.workers)
    finally:
        await store.pool.close()
    ok = all(r.ok for r in reports)
    if args.json:
        print(json.dumps({"ok": ok, "logs": [r.as_dict() for r in reports]}, indent=2))
    else:
        for r in reports:
            rate = r.size / r.seconds if r.seconds else 0
            if r.ok:
                print(
                    f"ok   {r.slug}: {r.size} entries, {r.checkpoints} checkpoints "
                    f"({r.seconds:.2f}s, {rate:,.0f} entries/s)"
                )
            else:
                where = "" if r.first_bad_index is None else f" at index {r.first_bad_index}"
                print(f"FAIL {r.slug}{where}: {r.reason}")
        if not reports:
            print("no organizations")
    return 0 if ok else 1


async def cmd_org_create(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.charity.staff import issue_api_key
    from ledger.journal.keys import load_kek
    from ledger.journal.organizations import create_organization

    store = await _store(settings, "ledger_writer")
    try:
        org = await create_organization(store, settings, load_kek(settings), args.slug, args.name)
        # logged as api_key.issued by "server", like `ledger keys issue`
        _, key = await issue_api_key(store, org, "admin", "first admin key", None)
    finally:
        await store.pool.close()
    print(f"created organization {org.slug} (log origin {org.origin})")
    print(f"admin API key (shown once, store it safely): {key}")
    return 0


async def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.charity.staff import issue_api_key
    from ledger.formats.note import format_vkey
    from ledger.journal.keys import load_kek
    from ledger.journal.organizations import retire_key, rotate_key

    store = await _store(settings, "ledger_writer")
    try:
        org = await store.organization(args.org)
        if args.keys_command == "issue":  # recovery: an API key, logged as api_key.issued
            key_id, text = await issue_api_key(store, org, args.role, args.label, None)
            print(f"{args.role} API key {key_id} (shown once, store it safely): {text}")
            return 0
        if args.keys_command == "rotate":
            vkey = await rotate_key(store, load_kek(settings), org, keep_old=args.keep_old)
            print(f"new key: {vkey}")
        elif args.keys_command == "retire":
            await retire_key(store, load_kek(settings), org, args.key_id)
            print(f"retired key {args.key_id}")
        for key in await store.public_keys(org.id):
            state = "retired" if key.retired_at else "active "
            print(f"{state} {key.key_id.hex()} {format_vkey(key.name, key.public_key)}")
    finally:
        await store.pool.close()
    return 0


async def cmd_staff(args: argparse.Namespace, settings: Settings) -> int:
    """Console accounts from the server host: the way in when nobody can log in."""
    from ledger.charity import staff

    store = await _store(settings, "ledger_writer")
    try:
        org = await store.organization(args.org)
        if args.staff_command == "create":
            password = staff.temporary_password()
            row = await staff.create_staff(
                store, org, args.email, args.name, args.role, password, None
            )
            print(f"created {row.role} {row.email} ({row.id})")
            print(f"temporary password (shown once; changed at first login): {password}")
        elif args.staff_command == "reset":
            row = await staff.find_staff(store, org, args.email)
            password = await staff.reset_password(store, org, row.id, None)
            print(f"reset {row.email}: unlocked, every session ended")
            print(f"temporary password (shown once; changed at first login): {password}")
        else:
            for row in await staff.list_staff(store, org):
                state = (
                    "disabled" if row.disabled_at else "locked" if row.locked_at else "active"
                )
                totp = " 2fa" if row.totp_secret else ""
                print(f"{state:8} {row.role:8} {row.email} {row.id}{totp}")
    finally:
        await store.pool.close()
    return 0


async def cmd_checkpoint(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.journal.keys import load_kek
    from ledger.journal.publisher import publish
    from ledger.journal.witnessing import cosigned_note, witness_checkpoint

    store = await _store(settings, "ledger_writer")
    try:
        org = await store.organization(args.org)
        cp = await publish(store, org, load_kek(settings))
        for outcome in await witness_checkpoint(store, org, cp):
            print(f"witness {outcome.witness}: {outcome.detail}", file=sys.stderr)
        note = await cosigned_note(store, org.id, cp)
    finally:
        await store.pool.close()
    sys.stdout.write(note)
    return 0


async def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """ISAK 35 or PSAK 109 statements: a signed PDF (``--lang``) or, with ``--json``, the
    JSON document; to ``--out`` or standard output."""
    import datetime as dt

    from ledger.charity import financial
    from ledger.journal.keys import load_kek
    from schemas.financial import FinancialRequest

    request = FinancialRequest(
        standard=args.standard,
        from_=dt.date.fromisoformat(args.from_),
        to=dt.date.fromisoformat(args.to),
        currency=args.currency,
        as_of=args.as_of,
    )
    now = dt.datetime.now(dt.UTC)
    store = await _store(settings, "ledger_writer")
    try:
        org = await store.organization(args.org)
        if args.json:
            content = financial.document_json(await financial.gather(store, org, request, now=now))
        else:
            content = await financial.signed_pdf(
                store, load_kek(settings), org, request, args.lang, now=now
            )
    finally:
        await store.pool.close()
    if args.out is None:
        sys.stdout.buffer.write(content)
    else:
        Path(args.out).write_bytes(content)
        print(f"wrote {args.out} ({len(content)} bytes)", file=sys.stderr)
    return 0


async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.charity.receipts import export_lines
    from ledger.store.database import READER_ROLE

    if args.what == "open-data":
        return await cmd_export_open_data(args, settings)
    given = [flag for flag in OPEN_DATA_FLAGS if getattr(args, flag.strip("-"), None)]
    if given:
        print(f"ledger: error: {', '.join(given)}: only for `ledger export open-data`",
              file=sys.stderr)
        return 2

    store = await _store(settings, READER_ROLE)
    try:
        org = await store.organization(args.org)
        out = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115
        try:
            async for chunk in export_lines(store, org):
                out.write(chunk)
        finally:
            if args.output:
                out.close()
    finally:
        await store.pool.close()
    return 0


OPEN_DATA_FLAGS = ("--fund", "--from", "--to", "--out", "--size")
"""The flags of ``ledger export open-data``."""


def _day(text: str) -> date:
    """An argparse type: a date as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


async def cmd_export_open_data(args: argparse.Namespace, settings: Settings) -> int:
    """A fund's period as a Fiscal Data Package in a directory (``reports.opendata``)."""
    from ledger.charity import opendata
    from ledger.journal.keys import load_kek
    from reports.opendata import package

    missing = [f for f in ("--fund", "--from", "--to", "--out") if getattr(args, f[2:]) is None]
    if missing:
        print(f"ledger: error: export open-data needs {', '.join(missing)}", file=sys.stderr)
        return 2
    request = opendata.OpenDataRequest(args.fund, getattr(args, "from"), args.to, args.size)
    opendata.check_request(request)
    tty = sys.stderr.isatty() and not args.json
    days = max((request.period_to - request.period_from).days, 1)

    def progress(day: date, rows: int) -> None:
        if tty:
            width = 40
            filled = width * min((day - request.period_from).days + 1, days) // days
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {day.isoformat()} {rows} rows",
                  end="", file=sys.stderr, flush=True)

    # The writer role: without --size the export is cut at a checkpoint of the head, signed
    # now if the newest one is older (what `ledger checkpoint` does).
    store = await _store(settings, "ledger_writer")
    try:
        org = await store.organization(args.org)
        period = await opendata.gather(
            store, org, load_kek(settings), request, sign_head=args.size is None,
            progress=progress,
        )
    finally:
        await store.pool.close()
    if tty:
        print(file=sys.stderr)
    files = package.package_files(period)
    out = Path(args.out)
    for name, content in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(content)
    e = period.fund.minor_units
    summary = {
        "org": org.slug,
        "fund": period.fund.code,
        "from": period.period_from.isoformat(),
        "to": period.period_to.isoformat(),
        "time_zone": period.time_zone,
        "checkpoint": {"size": period.checkpoint.size,
                       "root_hash": base64.b64encode(period.checkpoint.root).decode()},
        "rows": len(period.rows),
        "currency": period.fund.currency,
        "minor_units": e,
        "opening_minor": period.opening,
        "revenue_minor": period.revenue,
        "expenditure_minor": period.expenditure,
        "closing_minor": period.closing,
        "directory": str(out),
        "files": {name: len(content) for name, content in files.items()},
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0

    def money(v: int) -> str:
        return f"{period.fund.currency} {decimal_amount(v, e)}"

    print(f"fund {period.fund.code} of {org.slug}, value dates {summary['from']} to "
          f"{summary['to']} (exclusive, {period.time_zone})")
    print(f"cut at checkpoint size {period.checkpoint.size}, root {summary['checkpoint']['root_hash']}")
    print(f"{len(period.rows)} rows: opening {money(period.opening)} + revenue "
          f"{money(period.revenue)} - expenditure {money(period.expenditure)} = closing "
          f"{money(period.closing)}")
    for name, content in files.items():
        print(f"  {out / name} ({len(content)} bytes)")
    return 0


async def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from ledger.backup import import_log
    from ledger.formats.note import parse_vkey

    store = await _store(settings, "ledger_writer")
    try:
        pinned = [parse_vkey(v) for v in args.vkey] or None
        org, report = await import_log(store, Path(args.file), pinned)
    finally:
        await store.pool.close()
    if not report.ok:
        print(f"imported {org.slug} but it does not verify: {report.reason}", file=sys.stderr)
        return 1
    print(f"imported {org.slug}: {report.size} entries, {report.checkpoints} checkpoints, verified")
    print(
        "its keys are public only here: run `ledger keys rotate --org "
        f"{org.slug}` before it signs again"
    )
    return 0


async def cmd_import_bank(args: argparse.Namespace, settings: Settings) -> int:
    import msgspec

    from ledger.clock import system_clock
    from ledger.ingest import bankimports
    from ledger.ingest.bankstatements import LAYOUTS
    from schemas.bankstatements import BankLayout, layout_problem
    from schemas.money import decimal_amount

    if args.mapping:
        try:
            layout = msgspec.json.decode(Path(args.mapping).read_bytes(), type=BankLayout)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            print(f"ledger: error: mapping file {args.mapping}: {exc}", file=sys.stderr)
            return 2
        problem = layout_problem(layout)
        if problem is not None:
            print(f"ledger: error: mapping file {args.mapping}: {problem}", file=sys.stderr)
            return 2
    else:
        layout = LAYOUTS[args.layout]
    data = Path(args.file).read_bytes()
    store = await _store(settings, "ledger_writer")
    try:
        org = await store.organization(args.org)
        checked = await bankimports.check(
            store, system_clock, org, args.fund, data, layout, args.year, args.exclude
        )
        preview = await bankimports.preview(store, org, checked)
        e, cur = checked.fund.minor_units, checked.fund.currency

        def money(amount: int) -> str:
            return f"{cur} {decimal_amount(amount, e)}"

        print(f"file {args.file} ({preview.layout}), sha256 {preview.sha256}")
        if preview.imported_before:
            print("this file was imported before: a commit records nothing new")
        print(f"{preview.lines} lines, {preview.first_date} to {preview.last_date}")
        print(f"credits: {preview.credits}, {money(preview.credit_total)}; new: "
              f"{preview.new_credits}, {money(preview.new_total)} (the rest is in the ledger)")
        print(f"debits (disbursement candidates, not booked): {preview.debits}, "
              f"{money(preview.debit_total)}")
        for row in preview.first_rows:
            mark = "in ledger" if row.recorded else ""
            print(f"  line {row.line:>6}  {row.value_date}  {row.direction:<6} "
                  f"{money(row.amount):>22}  {row.reference}  {mark}")
        for bad in preview.bad_lines:
            print(f"  bad line {bad.line}: {bad.reason}", file=sys.stderr)
        if preview.bad_lines:
            print(f"{len(preview.bad_lines)} bad line(s): nothing recorded; fix the file or "
                  "pass --exclude N for each", file=sys.stderr)
            return 1
        if args.dry_run:
            print("dry run: nothing recorded")
            return 0

        def bar(done: int, total: int) -> None:
            width = 40
            filled = width * done // total if total else width
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="",
                  file=sys.stderr, flush=True)

        result = await bankimports.commit(store, system_clock, org, checked, bar)
        print(file=sys.stderr)
    finally:
        await store.pool.close()
    if result.replayed:
        print("already imported: nothing new recorded")
    else:
        print(f"recorded {result.recorded} donation(s) (entries {result.first_index} to "
              f"{result.last_index}); {result.already_recorded} already in the ledger")
    return 0


async def cmd_witnesses(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.journal.witnessing import add_witness
    from ledger.store.witnessing import witnesses_of

    store = await _store(settings, "ledger_writer")
    try:
        org = await store.organization(args.org)
        if args.witnesses_command == "add":
            await add_witness(store, org, args.name, args.url, args.vkey)
        async with store.connection() as conn:
            for w in await witnesses_of(conn, org.id):
                print(f"{w.name} {w.url} {w.vkey}")
    finally:
        await store.pool.close()
    return 0


async def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.http.server import serve

    if args.workers < 1:
        print("ledger: error: --workers must be at least 1", file=sys.stderr)
        return 2
    await serve(settings, demo=args.demo, workers=args.workers)
    return 0


async def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.demo import seed_demo

    store = await _store(settings, "ledger_writer")
    try:
        print(await seed_demo(store, settings))
    finally:
        await store.pool.close()
    return 0


async def cmd_receipt_send(args: argparse.Namespace, settings: Settings) -> int:
    """E-mail a donation's signed receipt, link and receipt code to the donor."""
    from ledger.charity.mailing import SmtpSettings, send_receipt
    from ledger.journal.keys import load_kek

    smtp = SmtpSettings.from_env(os.environ)
    public_url = settings.signed_link_base()
    store = await _store(settings, "ledger_writer")
    try:
        org = await store.organization(args.org)
        sent = await send_receipt(
            store, org, load_kek(settings), args.index, args.to, smtp, public_url, args.lang
        )
    finally:
        await store.pool.close()
    print(f"sent receipt {args.index} to {sent.to} ({sent.url})")
    return 0


async def cmd_tax_report(args: argparse.Namespace, settings: Settings) -> int:
    """Write a report for the tax office (zakat yearly, disaster relief quarterly) as CSV or
    signed PDF; it holds donors' personal data, so it goes to a file, never to the log."""
    import hashlib

    from ledger.charity import taxreports
    from ledger.journal.keys import load_kek
    from schemas.money import decimal_amount

    out = Path(args.out)
    form = args.format or ("pdf" if out.suffix.lower() == ".pdf" else "csv")

    def say(text: str) -> None:
        if not args.json:
            print(text, file=sys.stderr, flush=True)

    store = await _store(settings, "ledger_writer")
    try:
        org = await store.organization(args.org)
        quarter = getattr(args, "quarter", None)
        say(f"gathering the {args.report_kind} report of {org.slug} …")
        data = await taxreports.gather(store, org, args.report_kind, args.year, quarter, say)
        if form == "pdf":
            say(f"rendering and signing {len(data.rows)} row(s) …")
            content = await taxreports.report_pdf(store, org, load_kek(settings), data, args.lang)
        else:
            content = taxreports.csv_bytes(data)
    finally:
        await store.pool.close()
    out.write_bytes(content)
    summary = {
        "report": data.slug,
        "org": org.slug,
        "from": data.start.isoformat(),
        "to": data.end.isoformat(),
        "due": data.due.isoformat() if data.due else None,
        "rows": len(data.rows),
        "total": data.total,
        "total_decimal": decimal_amount(data.total, data.minor_units),
        "currency": data.currency,
        "identified_rows": len(data.identified),
        "reversed_rows": len(data.reversed_rows),
        "tree_size": data.tree_size,
        "format": form,
        "file": str(out),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"wrote {out} ({form}, sha256 {summary['sha256'][:16]}…): {data.slug}, "
            f"{len(data.rows)} row(s), {data.currency} {summary['total_decimal']}, "
            f"{len(data.reversed_rows)} reversed left out"
            + (f"; due {summary['due']}" if data.due else "")
        )
    return 0


async def _witness_url(settings: Settings) -> str:
    """The witness's database: WITNESS_DATABASE_URL, else database "witness" of the embedded
    server (a witness run by another party would point at its own PostgreSQL)."""

    from ledger.store.database import ensure_database, start_embedded, with_database

    if os.environ.get("WITNESS_DATABASE_URL"):
        return os.environ["WITNESS_DATABASE_URL"]
    if settings.database_url:
        return with_database(settings.database_url, "witness")
    admin = start_embedded(settings.data_dir)
    await ensure_database(admin, "witness")
    return with_database(admin, "witness")


async def cmd_witness(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.journal.keys import load_kek
    from ledger.store.database import connect
    from ledger.store.migrate import WITNESS, migrate
    from ledger.witness.service import add_log, create_witness_app, init_key, load_signer

    url = await _witness_url(settings)
    kek = load_kek(settings)
    if args.witness_command == "serve":
        import uvicorn

        conn = await connect(url)
        try:
            await migrate(conn, WITNESS)
            signer = await load_signer(conn, kek)
        finally:
            await conn.close()
        print(f"witness {signer.name} serving on http://{args.host}:{args.port}/add-checkpoint")
        print(f"its key: {signer.vkey()}")
        config = uvicorn.Config(
            create_witness_app(url, kek), host=args.host, port=args.port, log_level="info"
        )
        await uvicorn.Server(config).serve()
        return 0
    conn = await connect(url)
    try:
        await migrate(conn, WITNESS)
        if args.witness_command == "init":
            signer = await init_key(conn, kek, args.name)
            print(f"witness key (publish this vkey): {signer.vkey()}")
        elif args.witness_command == "add-log":
            await add_log(conn, args.origin, args.vkey)
            print(f"following {args.origin}")
    finally:
        await conn.close()
    return 0


async def cmd_citus(args: argparse.Namespace, settings: Settings) -> int:
    """``ledger citus distribute``: shard a migrated database by organization (issue 21)."""
    from ledger.store.citus import distribute, placements
    from ledger.store.database import connect, resolve_url

    conn = await connect(await resolve_url(settings))
    try:
        if args.citus_command == "distribute":
            done = await distribute(conn, shard_count=args.shard_count)
            print(f"reference tables: {', '.join(done.reference) or '(none new)'}")
            print(f"distributed by org_id: {', '.join(done.distributed) or '(none new)'}")
            print(f"foreign keys kept: {len(done.foreign_keys_kept)}")
            if done.foreign_keys_dropped:
                print(
                    "foreign keys to reference tables dropped (checked by the writes instead): "
                    + ", ".join(done.foreign_keys_dropped)
                )
        for row in await placements(conn):
            print(f"{row['slug']}: {row['nodename']}:{row['nodeport']}")
    finally:
        await conn.close()
    return 0


async def cmd_recipient(args: argparse.Namespace, settings: Settings) -> int:
    """The orphanage's side (``ledger.recipient``): no database, only HTTP to the ledger."""
    try:
        print(recipient.run(args))
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"ledger recipient: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledger",
        description="Donation transparency ledger: append-only, hash-chained, Merkle-logged.",
        epilog="With no DATABASE_URL an embedded PostgreSQL is started in the data directory.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="embedded database and key-file home "
        "(default $LEDGER_DATA_DIR or ~/.local/share/donation-ledger)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "serve",
        help="run the HTTP API",
        description="Run the HTTP API. With the embedded database (no DATABASE_URL) pending "
        "migrations are applied first; with DATABASE_URL an unmigrated or newer schema is "
        "refused (run `ledger migrate`). SIGINT or SIGTERM stops it gracefully, and the "
        "embedded PostgreSQL with it.",
    )
    p.add_argument("--host", help="bind address (default 127.0.0.1, or $LEDGER_HOST)")
    p.add_argument("--port", type=int, help="port (default 8000, or $LEDGER_PORT)")
    p.add_argument(
        "--demo",
        action="store_true",
        help="migrate and seed the demo organization first (what `make run` does)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes sharing one database (default 1)",
    )
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser(
        "migrate",
        help="apply pending schema migrations",
        description="Apply every pending migration in one transaction.",
    )
    p.set_defaults(run=cmd_migrate)

    p = sub.add_parser(
        "citus",
        help="shard the database by organization on a Citus coordinator",
        description="On a migrated database on a Citus coordinator (DATABASE_URL: a "
        "superuser), make the global lookup tables reference tables, distribute every "
        "per-organization table by org_id co-located with entries, and let the service's "
        "roles log in to the workers (README: Scaling out). Idempotent: run it again after "
        "`ledger migrate` to place the tables a new migration added.",
    )
    citus_sub = p.add_subparsers(dest="citus_command", required=True, metavar="ACTION")
    q = citus_sub.add_parser("distribute", help="distribute the tables (one transaction)")
    q.add_argument(
        "--shard-count",
        type=int,
        default=32,
        help="shards per distributed table, for a first distribution (default 32)",
    )
    q.set_defaults(run=cmd_citus)
    q = citus_sub.add_parser("placements", help="the worker of each organization")
    q.set_defaults(run=cmd_citus)

    p = sub.add_parser(
        "verify",
        help="verify every log in the database",
        description="Recompute chains, leaf hashes, Merkle nodes and roots; check "
        "every checkpoint's signature and that the log extends it. Exit 0 when "
        "all logs verify, 1 otherwise.",
    )
    p.add_argument("--org", help="verify only this organization (slug)")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="worker processes for large logs (default: up to 2)",
    )
    p.set_defaults(run=cmd_verify)

    p = sub.add_parser("org", help="manage organizations")
    org_sub = p.add_subparsers(dest="org_command", required=True, metavar="ACTION")
    q = org_sub.add_parser("create", help="create an organization, its key and its log")
    q.add_argument("--slug", required=True, help="public URL name, e.g. yayasan-senyum")
    q.add_argument("--name", required=True, help="display name")
    q.set_defaults(run=cmd_org_create)

    p = sub.add_parser(
        "keys",
        help="manage checkpoint signing keys",
        description="Signing keys are sealed with the key-encryption key "
        "(LEDGER_KEK or LEDGER_KEK_FILE); public keys stay published forever.",
    )
    keys_sub = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    q = keys_sub.add_parser("list", help="list an organization's keys as vkeys")
    q.add_argument("--org", required=True)
    q.set_defaults(run=cmd_keys)
    q = keys_sub.add_parser(
        "rotate", help="generate a new key (retiring the old unless --keep-old)"
    )
    q.add_argument("--org", required=True)
    q.add_argument(
        "--keep-old",
        action="store_true",
        help="keep signing with the old key too until `keys retire`",
    )
    q.set_defaults(run=cmd_keys)
    q = keys_sub.add_parser("retire", help="stop signing with one key")
    q.add_argument("--org", required=True)
    q.add_argument("--key-id", required=True, help="hex key ID (8 digits)")
    q.set_defaults(run=cmd_keys)
    q = keys_sub.add_parser(
        "issue",
        help="issue an API key (recovery, on the server host; logged as api_key.issued)",
    )
    q.add_argument("--org", required=True)
    q.add_argument("--role", required=True, choices=("admin", "recorder", "auditor"))
    q.add_argument("--label", default="issued on the server host")
    q.set_defaults(run=cmd_keys)

    p = sub.add_parser(
        "staff",
        help="console accounts: create, reset a password, list",
        description="Run on the server host. Changes are logged (staff.added, staff.changed); "
        "passwords are printed once and must be changed at the first login.",
    )
    staff_sub = p.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    q = staff_sub.add_parser("create", help="create a console account with a temporary password")
    q.add_argument("--org", required=True)
    q.add_argument("--email", required=True)
    q.add_argument("--name", required=True)
    q.add_argument("--role", required=True, choices=("admin", "recorder", "auditor"))
    q.set_defaults(run=cmd_staff)
    q = staff_sub.add_parser(
        "reset", help="give an account a temporary password, unlock it, end its sessions"
    )
    q.add_argument("--org", required=True)
    q.add_argument("--email", required=True)
    q.set_defaults(run=cmd_staff)
    q = staff_sub.add_parser("list", help="list an organization's console accounts")
    q.add_argument("--org", required=True)
    q.set_defaults(run=cmd_staff)

    p = sub.add_parser("checkpoint", help="sign a checkpoint of the current log head and print it")
    p.add_argument("--org", required=True)
    p.set_defaults(run=cmd_checkpoint)

    p = sub.add_parser(
        "witnesses",
        help="the witnesses an organization's log submits its checkpoints to",
        description="Every new checkpoint is submitted to these witnesses with a consistency "
        "proof; their cosignatures are kept and served with the checkpoint, in receipts and "
        "statements.",
    )
    ws_sub = p.add_subparsers(dest="witnesses_command", required=True, metavar="ACTION")
    q = ws_sub.add_parser("list", help="list the log's witnesses")
    q.add_argument("--org", required=True, help="organization slug")
    q.set_defaults(run=cmd_witnesses)
    q = ws_sub.add_parser("add", help="submit every new checkpoint to this witness")
    q.add_argument("--org", required=True, help="organization slug")
    q.add_argument("--name", required=True, help="the witness's key name")
    q.add_argument("--url", required=True, help="its submission prefix, e.g. http://host:8100")
    q.add_argument("--vkey", required=True, help="its cosignature vkey (type 0x04)")
    q.set_defaults(run=cmd_witnesses)

    p = sub.add_parser(
        "witness",
        help="run a witness (c2sp.org/tlog-witness) for other logs",
        description="A witness cosigns a log's checkpoints only when they extend "
        "the last one it cosigned. Its state lives in WITNESS_DATABASE_URL (default: "
        "database 'witness' of the same server).",
    )
    w_sub = p.add_subparsers(dest="witness_command", required=True, metavar="ACTION")
    q = w_sub.add_parser("init", help="generate the witness key and print its vkey")
    q.add_argument("--name", required=True, help="witness name, e.g. witness.akuntan.example")
    q.set_defaults(run=cmd_witness)
    q = w_sub.add_parser("add-log", help="follow a log: its origin and the log keys to trust")
    q.add_argument("--origin", required=True)
    q.add_argument("--vkey", action="append", required=True, help="log vkey (repeatable)")
    q.set_defaults(run=cmd_witness)
    q = w_sub.add_parser(
        "serve",
        help="serve add-checkpoint over HTTP",
        description="Serve POST /add-checkpoint (c2sp.org/tlog-witness). Applies the witness "
        "schema's migrations first; needs a key (`ledger witness init`).",
    )
    q.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    q.add_argument("--port", type=int, default=8100, help="port (default 8100)")
    q.set_defaults(run=cmd_witness)

    p = sub.add_parser(
        "export",
        help="write one organization's whole log (verifiable) to a file, or a fund's "
        "period as open data",
        description="`ledger export --org S`: the public export, checkpoints and every "
        "entry's canonical bytes (donation-ledger-export/v1), verifiable with "
        "`ledger-verify log`. `ledger export open-data --org S --fund F --from D --to D "
        "--out DIR`: the fund's money entries with value dates in [from, to) as a Fiscal "
        "Data Package (datapackage.json, data/*.csv, checkpoint.txt; README \"Open data\").",
    )
    p.add_argument(
        "what", nargs="?", choices=("log", "open-data"), default="log",
        help="log (default) or open-data",
    )
    p.add_argument("--org", required=True, help="organization slug")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.add_argument("--fund", help="open-data: the fund's code")
    p.add_argument("--from", type=_day, help="open-data: first value date (YYYY-MM-DD)")
    p.add_argument(
        "--to", type=_day, help="open-data: first value date after the period (YYYY-MM-DD)"
    )
    p.add_argument("--out", help="open-data: the directory to write the package into")
    p.add_argument(
        "--size", type=int,
        help="open-data: cut at the signed checkpoint of this tree size (default: sign one "
        "of the current head)",
    )
    p.add_argument("--json", action="store_true", help="open-data: a JSON summary on stdout")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser(
        "import",
        help="restore an organization's log from an export, verified",
        description="Verifies the whole file first, then restores the log, its "
        "checkpoints and projections in one transaction, and verifies again.",
    )
    p.add_argument("file", help="a donation-ledger-export/v1 file")
    p.add_argument(
        "--vkey",
        action="append",
        default=[],
        help="pin the log's key (default: trust the keys in the file's header)",
    )
    p.set_defaults(run=cmd_import)

    p = sub.add_parser(
        "import-bank",
        help="import a bank statement CSV: credits become donations (preview, then commit)",
        description="Reads a BCA, Mandiri or BRI internet-banking CSV export (or any layout "
        "described by --mapping), prints a preview (lines, totals, date range, first rows, "
        "which lines the ledger already holds by reference, bad lines), then records every "
        "new credit as a donation in one transaction. Debits are listed, never booked.",
    )
    p.add_argument("file", help="the CSV export")
    p.add_argument("--org", required=True, help="organization slug")
    p.add_argument("--fund", required=True, help="the fund the credits go to")
    p.add_argument("--layout", choices=["bca", "mandiri", "bri"], default="bca")
    p.add_argument("--mapping", help="a JSON layout file (BankLayout) instead of --layout")
    p.add_argument("--year", type=int, help="the year, for exports whose dates have none")
    p.add_argument(
        "--exclude", type=int, action="append", default=[], help="leave out this line number"
    )
    p.add_argument("--dry-run", action="store_true", help="preview only; record nothing")
    p.set_defaults(run=cmd_import_bank)

    p = sub.add_parser("receipt", help="donor receipts")
    r_sub = p.add_subparsers(dest="receipt_command", required=True)
    q = r_sub.add_parser(
        "send",
        help="e-mail a donation's signed receipt PDF, its link and receipt code "
        "(SMTP: LEDGER_SMTP_HOST, _PORT, _FROM, _USER, _PASSWORD, _STARTTLS)",
    )
    q.add_argument("--org", required=True)
    q.add_argument("--index", type=int, required=True, help="the donation's entry index")
    q.add_argument("--to", required=True, help="the donor's e-mail address")
    q.add_argument("--lang", choices=("id", "en"), default="id")
    q.set_defaults(run=cmd_receipt_send)
    p = sub.add_parser(
        "report",
        help="reports: ISAK 35 or PSAK 109 financial statements (signed PDF, or --json); for "
        "the tax office, zakat yearly and disaster relief quarterly (CSV or signed PDF; they "
        "hold donors' personal data)",
    )
    rep_sub = p.add_subparsers(dest="report_kind", required=True)
    for standard, text in (
        ("isak35", "ISAK 35 financial statements (signed PDF, or --json)"),
        ("psak109", "the PSAK 109 statement of changes in funds (signed PDF, or --json)"),
    ):
        q = rep_sub.add_parser(standard, help=text, description=text)
        q.add_argument("--org", required=True)
        q.add_argument("--from", dest="from_", required=True, help="first day (YYYY-MM-DD)")
        q.add_argument("--to", required=True, help="first day after the period (YYYY-MM-DD)")
        q.add_argument("--lang", choices=("id", "en"), default="id")
        q.add_argument("--currency", default=None, help="default: the funds' only currency")
        q.add_argument("--as-of", type=int, default=None, help="count the first N entries")
        q.add_argument("--json", action="store_true", help="the JSON document instead of the PDF")
        q.add_argument("--out", default=None, help="file to write (default: standard output)")
        q.set_defaults(run=cmd_report, standard=standard)
    for kind, text in (
        ("zakat", "the year's zakat receipts (PMK 114/2025; due 14 January)"),
        ("disaster", "a quarter's disaster relief donations (PP 93/2010, PMK 76/2011)"),
    ):
        q = rep_sub.add_parser(kind, help=text, description=text)
        q.add_argument("--org", required=True, help="organization slug")
        q.add_argument("--year", type=int, required=True, help="calendar year of value dates")
        if kind == "disaster":
            q.add_argument("--quarter", type=int, required=True, choices=(1, 2, 3, 4))
        q.add_argument("--out", required=True, help="file to write (.pdf or .csv)")
        q.add_argument(
            "--format", choices=("csv", "pdf"), help="default: from --out's extension"
        )
        q.add_argument("--lang", choices=("id", "en"), default="id", help="PDF language")
        q.add_argument("--json", action="store_true", help="print a JSON summary")
        q.set_defaults(run=cmd_tax_report)
    p = sub.add_parser("demo", help="create the demo organization with sample entries")
    p.set_defaults(run=cmd_demo)

    recipient.add_parser(sub)
    sub.choices["recipient"].set_defaults(run=cmd_recipient)
    return parser


TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Signals that end a command through Python (SIGINT already does: KeyboardInterrupt)."""


@contextmanager
def exit_on(signals: tuple[signal.Signals, ...]) -> Iterator[None]:
    """Turn ``signals`` into ``SystemExit(128 + signal)`` while the block runs.

    Their default action kills the process on the spot, skipping the atexit handlers, among
    them pgserver's, which stops the embedded PostgreSQL when this process is its last user:
    a SIGTERM used to leave it running. uvicorn takes SIGTERM over while it serves, shuts
    down gracefully, restores this handler and raises the signal again, which lands here.
    Once one arrived, further ones (and SIGINT) are ignored so that nothing cuts the cleanup
    short; SIGKILL still works.
    """

    if threading.current_thread() is not threading.main_thread():  # only it may set handlers
        yield
        return
    received: list[int] = []

    def leave(signum: int, frame: object) -> None:
        received.append(signum)
        for sig in (*signals, signal.SIGINT):
            signal.signal(sig, _ignore)
        raise SystemExit(128 + signum)

    previous = {
        sig: signal.signal(sig, leave)
        for sig in signals
        # SIGHUP under nohup stays ignored; None: a handler not set from Python, left alone
        if signal.getsignal(sig) not in (signal.SIG_IGN, None)
    }
    try:
        yield
    finally:
        if not received:  # after a signal the process is leaving: keep ignoring them
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _ignore(signum: int, frame: object) -> None:
    """A handler that does nothing (unlike SIG_IGN, not inherited by programs we start)."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env(
        data_dir=args.data_dir,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )
    try:
        with exit_on(TERMINATING_SIGNALS):
            if args.command == "serve":
                try:  # uvloop when available: a faster event loop for the API
                    import uvloop
                except ImportError:
                    return asyncio.run(args.run(args, settings))
                return uvloop.run(args.run(args, settings))
            return asyncio.run(args.run(args, settings))
    except LedgerError as exc:
        print(f"ledger: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
