"""Statement benchmarks: ``.venv/bin/python -m bench.statements [--quick] [--database-url URL]``.

1. ``render-sign-10k``: one language of a 10,000-entry statement, built directly in memory
   (no database): totals, JSON document, PDF rendering with the JSON attached, PAdES
   signature. Target: under 3 s. Both languages (what issuing does) are reported too.
2. ``render-sign-100k``: the same with 100,000 entries, in a fresh subprocess so its peak
   memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is its own. Targets: under 30 s,
   under 300 MB.
3. ``issue-10k``: the full path once, on a real PostgreSQL log of 10,000 money entries:
   ``ledger.charity.statements.issue`` reads the period from a snapshot, renders and signs both
   languages, then appends ``statement.issued`` and stores the documents in one transaction.

Starts its own embedded PostgreSQL for (3) unless ``--database-url`` (an admin URL) is given.
``--quick`` runs (1) and (3) with 2,000 entries and skips (2). ``--issue-entries 100000``
runs (3) on a log of 100,000 money entries (the value-dated statement target: under 30 s).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import hashlib
import json
import random
import re
import resource
import secrets
import subprocess
import sys
import time
from dataclasses import replace

NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
FUNDS = (("senyum-2026", "#SenyumAnak 2026", 1000), ("zakat-2026", "Zakat Fitrah 1447 H", 0))
BENEFICIARIES = (
    ("lksa-harapan", "LKSA Harapan Bunda", "Bandung"),
    ("lksa-kasih", "Panti Asuhan Kasih Ibu", "Yogyakarta"),
    ("lksa-melati", "LKSA Melati Putih", "Surabaya"),
)
DONORS = (None, "Siti A.", "Hamba Allah", "Budi Santoso", "Keluarga Wijaya")


def synthetic(entries: int, seed: int = 7):  # type: ignore[no-untyped-def]
    """A consistent November statement of ``entries`` money entries: donations,
    disbursements, fees within the cap and a few corrections, with matching balances."""
    from reports.statement.data import (
        BeneficiaryInfo,
        CheckpointInfo,
        FundInfo,
        StatementData,
        StatementEntry,
        link_corrections,
    )
    from schemas.statements import StatementBalance

    rnd = random.Random(seed)
    start = 10
    t0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    step = dt.timedelta(days=30) / max(entries, 1)
    balance = {code: 0 for code, _, _ in FUNDS}
    raised = dict.fromkeys(balance, 0)
    fees = dict.fromkeys(balance, 0)
    received: dict[str, int] = {}
    rows: list[StatementEntry] = []
    for n in range(entries):
        index, time = start + n, t0 + step * n
        fund = FUNDS[n % 2][0]
        roll = rnd.random()
        if (
            n % 997 == 996
            and rows[-1].kind == "donation"
            and balance[rows[-1].fund] >= rows[-1].amount
        ):
            target = rows[-1]
            balance[target.fund] -= target.amount  # type: ignore[operator]
            raised[target.fund] -= target.amount  # type: ignore[index,operator]
            rows.append(
                replace(
                    target,
                    index=index,
                    time=time,
                    kind="correction",
                    value_date=None,
                    corrects=target.index,
                    corrected_kind="donation",
                    detail="Nominal salah ketik",
                )
            )
        elif roll < 0.6 or balance[fund] < 5_000_000_00:
            amount = rnd.randrange(10_000, 5_000_000) * 100
            balance[fund] += amount
            raised[fund] += amount
            rows.append(
                StatementEntry(
                    index,
                    time,
                    "donation",
                    fund=fund,
                    counterparty=rnd.choice(DONORS),
                    reference=f"QRIS-{index:07d}",
                    currency="IDR",
                    amount=amount,
                    value_date=time.date(),
                )
            )
        elif roll < 0.95 or fund == "zakat-2026" or (fees[fund] + 25_000_00) * 10 > raised[fund]:
            code, name, _ = rnd.choice(BENEFICIARIES)
            amount = rnd.randrange(10_000, min(balance[fund] // 100, 2_000_000)) * 100
            balance[fund] -= amount
            received[code] = received.get(code, 0) + amount
            rows.append(
                StatementEntry(
                    index,
                    time,
                    "disbursement",
                    fund=fund,
                    counterparty=name,
                    reference=f"BCA-{index:07d}",
                    currency="IDR",
                    amount=amount,
                    value_date=time.date(),
                    beneficiary=code,
                    purpose=rnd.choice(("food", "education", "health", "shelter")),
                )
            )
        else:
            balance[fund] -= 25_000_00
            fees[fund] += 25_000_00
            rows.append(
                StatementEntry(
                    index,
                    time,
                    "fee",
                    fund=fund,
                    counterparty="Biaya payment gateway",
                    currency="IDR",
                    amount=25_000_00,
                    value_date=time.date(),
                )
            )
    end = start + entries
    closing = [
        StatementBalance(account=f"beneficiary:{code}", currency="IDR", amount=amount)
        for code, amount in sorted(received.items())
    ]
    closing.append(StatementBalance(account="donors", currency="IDR", amount=-sum(raised.values())))
    closing.append(StatementBalance(account="fees", currency="IDR", amount=sum(fees.values())))
    closing += [
        StatementBalance(account=f"fund:{code}", currency="IDR", amount=amount)
        for code, amount in balance.items()
    ]
    root = base64.b64encode(hashlib.sha256(b"bench").digest()).decode()
    origin = "ledger.example/orgs/bench"
    note = f"{origin}\n{end}\n{root}\n\n— {origin} {base64.b64encode(bytes(68)).decode()}\n"
    return StatementData(
        number=1,
        org_name="Yayasan Bench Sejahtera",
        org_slug="bench",
        origin=origin,
        period_from=dt.date(2026, 11, 1),
        period_to=dt.date(2026, 12, 1),
        fund_scope=None,
        beneficiary_scope=None,
        provisional=False,
        start=start,
        end=end,
        checkpoint=CheckpointInfo(end, root, note),
        previous=None,
        consistency=None,
        opening=(),
        closing=tuple(closing),
        entries=link_corrections(rows),
        funds=tuple(
            FundInfo(code, name, "IDR", cap, raised[code], fees[code]) for code, name, cap in FUNDS
        ),
        beneficiaries=tuple(BeneficiaryInfo(*b) for b in BENEFICIARIES),
        minor_units={"IDR": 2},
        verify_url="https://ledger.example/orgs/bench/statements/1",
    )


def render_and_sign(entries: int, languages: tuple[str, ...]) -> dict[str, float]:
    """Time each stage of producing signed statements from in-memory data."""
    from reports.pdf.certificates import generate_signing_certificate
    from reports.pdf.signing import sign_pdf
    from reports.statement.data import compute_totals
    from reports.statement.json_document import statement_document
    from reports.statement.pdf import render_statement

    cert = generate_signing_certificate("Yayasan Bench Sejahtera", now=NOW)
    data = synthetic(entries)
    times: dict[str, float] = {}
    started = time.perf_counter()
    totals = compute_totals(data)
    document = statement_document(data, totals, NOW)
    data = replace(data, attachments=((f"statement-{data.number}.json", document, "json"),))
    times["totals_json_s"] = time.perf_counter() - started
    pages = 0
    for lang in languages:
        mark = time.perf_counter()
        pdf = render_statement(data, lang, now=NOW, totals=totals)  # type: ignore[arg-type]
        times[f"render_{lang}_s"] = time.perf_counter() - mark
        mark = time.perf_counter()
        signed = sign_pdf(
            pdf,
            cert.cert_der,
            cert.key_pkcs8_der,
            reason="bench",
            location="bench",
            signing_time=NOW,
        )
        times[f"sign_{lang}_s"] = time.perf_counter() - mark
        pages = max(int(n) for n in re.findall(rb"/Count (\d+)", signed))
        times[f"pdf_{lang}_mb"] = len(signed) / 2**20
    times["total_s"] = time.perf_counter() - started
    times["json_mb"] = len(document) / 2**20
    times["pages"] = pages
    return times


def child(entries: int, languages: tuple[str, ...]) -> None:
    """Run in a fresh interpreter: the figures and this process's peak memory, as JSON."""
    result = render_and_sign(entries, languages)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def in_subprocess(entries: int, languages: tuple[str, ...]) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.statements", "--child", str(entries)]
    command += ["--languages", ",".join(languages)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


async def issue_path(admin_url: str, entries: int) -> dict[str, float]:
    """The full path once: a real log of ``entries`` money entries, then one issue."""
    from bench.database import migrated_database

    async with migrated_database(admin_url, "bench_statements_") as url:
        return await _issue_path(url, entries)


async def _issue_path(url: str, entries: int) -> dict[str, float]:
    import msgspec

    from ledger.charity.rules import CharityPolicy, Command
    from ledger.charity.statements import document as statement_document
    from ledger.charity.statements import gather, issue
    from ledger.http.services import Services
    from ledger.journal.appender import Appender, Intent, append_batch
    from ledger.journal.organizations import create_organization
    from ledger.settings import Settings
    from ledger.store.database import WRITER_ROLE, create_pool
    from ledger.store.log import Store
    from schemas.statements import StatementRequest

    store = Store(await create_pool(url, role=WRITER_ROLE, size=4))
    kek = secrets.token_bytes(32)
    settings = Settings(
        database_url=url,
        kek=base64.b64encode(kek).decode(),
        public_url="https://bench.example",  # signed documents refuse a loopback link
    )
    try:
        org = await create_organization(store, settings, kek, "bench", "Yayasan Bench Sejahtera")
        policy = CharityPolicy()
        setup = [
            (
                "fund.created",
                {
                    "code": code,
                    "name": n,
                    "currency": "IDR",
                    "earmark": None,
                    "fee_cap_bps": cap,
                    "minor_units": 2,
                },
            )
            for code, n, cap in FUNDS
        ] + [
            (
                "beneficiary.registered",
                {
                    "code": c,
                    "version": 1,
                    "name": n,
                    "city": city,
                    "province": "Jawa Barat",
                    "registration": None,
                },
            )
            for c, n, city in BENEFICIARIES
        ]
        data = synthetic(entries)
        bodies = list(setup)
        for e in data.entries:
            day = e.time.date().isoformat()
            if e.kind == "donation":
                b = {
                    "fund": e.fund,
                    "amount": e.amount,
                    "currency": "IDR",
                    "received_on": day,
                    "channel": "qris",
                    "reference": e.reference,
                    "donor": {"commitment": None, "display": e.counterparty},
                    "message": None,
                }
            elif e.kind == "disbursement":
                b = {
                    "fund": e.fund,
                    "beneficiary": e.beneficiary,
                    "amount": e.amount,
                    "currency": "IDR",
                    "purpose": e.purpose,
                    "paid_on": day,
                    "reference": e.reference,
                }
            elif e.kind == "fee":
                b = {
                    "fund": e.fund,
                    "amount": e.amount,
                    "currency": "IDR",
                    "charged_on": day,
                    "description": e.counterparty,
                }
            else:
                b = {"corrects": e.corrects - data.start + len(setup) + 1, "reason": e.detail}
            bodies.append((e.kind, b))
        batches: list[list[tuple[str, dict]]] = [[]]
        for kind, b in bodies:  # a correction's target must be committed before it
            if len(batches[-1]) == 1000 or kind == "correction":
                batches.append([])
            batches[-1].append((kind, b))
        for batch in batches:
            intents = [Intent(k, b, Command.decoded(k, b)) for k, b in batch]
            async with store.connection() as c, c.transaction():
                for outcome in await append_batch(store, c, org, intents, policy=policy):
                    if not hasattr(outcome, "index"):
                        raise RuntimeError(f"bench data refused: {outcome}")
        services = Services(settings, store, Appender(store, policy=policy), kek)
        # The value-dated November statement of those entries (value dates in November,
        # recorded today): the period is selected by value date, not by recording time.
        request = StatementRequest(from_=data.period_from, to=data.period_to)
        started = time.perf_counter()
        await gather(store, org, kek, request, now=dt.datetime.now(dt.UTC), public_url="")
        gather_s = time.perf_counter() - started  # reading and totals alone, for comparison
        started = time.perf_counter()
        reply = await issue(services, org, request, "bench-1", bytes(32))
        seconds = time.perf_counter() - started
        view = msgspec.json.decode(reply.body)
        _, content = await statement_document(store, org, view["id"], "json")
        listed = msgspec.json.decode(content)["entries"]
        money = sum(1 for e in listed if e["value_date"] is not None)
        return {"issue_s": seconds, "entries_listed": money, "gather_s": gather_s}
    finally:
        await store.pool.close()


def _with_database(url: str | None, entries: int) -> dict[str, float]:
    from bench.database import postgres

    with postgres(url, "ldgs-") as admin_url:
        return asyncio.run(issue_path(admin_url, entries))


def _line(name: str, seconds: float, target: float | None, extra: str = "") -> str:
    verdict = "" if target is None else ("PASS" if seconds < target else "MISS")
    goal = "" if target is None else f"target < {target:g} s"
    return f"{name:24} {seconds:8.2f} s   {goal:16} {verdict:5} {extra}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url")
    parser.add_argument(
        "--issue-entries",
        type=int,
        help="money entries of the full-path (value-dated) issue; default 10,000 (2,000 quick)",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--languages", default="id", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, tuple(args.languages.split(",")))
        return
    small = 2_000 if args.quick else 10_000
    one = in_subprocess(small, ("id",))
    print(
        _line(
            f"render-sign-{small // 1000}k",
            one["total_s"],
            3.0,
            f"render {one['render_id_s']:.2f} s, sign {one['sign_id_s']:.2f} s, "
            f"{one['pages']} pages, {one['pdf_id_mb']:.1f} MB, peak {one['peak_rss_mb']:.0f} MB",
        )
    )
    both = in_subprocess(small, ("id", "en"))
    print(_line("  both languages", both["total_s"], None))
    if not args.quick:
        big = in_subprocess(100_000, ("id",))
        print(
            _line(
                "render-sign-100k",
                big["total_s"],
                30.0,
                f"render {big['render_id_s']:.2f} s, sign {big['sign_id_s']:.2f} s, "
                f"{big['pages']} pages, {big['pdf_id_mb']:.1f} MB",
            )
        )
        verdict = "PASS" if big["peak_rss_mb"] < 300 else "MISS"
        print(f"{'  peak memory':24} {big['peak_rss_mb']:8.0f} MB  target < 300 MB  {verdict}")
    count = args.issue_entries or small
    full = _with_database(args.database_url, count)
    print(
        _line(
            f"issue-{count // 1000}k (full path)",
            full["issue_s"],
            30.0 if count >= 100_000 else None,
            f"{full['entries_listed']} entries, of which gathering {full['gather_s']:.2f} s",
        )
    )


if __name__ == "__main__":
    main()
