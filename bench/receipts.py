"""Receipt benchmarks: ``.venv/bin/python -m bench.receipts [--donations N] [--seconds S]``.

1. ``receipt-generation``: donor receipts (tlog-proof + donor opening) built by the server's
   use case ``ledger.charity.receipts.receipt`` from a real PostgreSQL, 16 concurrent callers.
   Target (issue 4): at least 1,000 receipts/s.
2. ``offline-verification``: ``ledger.verify.offline.verify_receipt`` on those receipts, in-process,
   one core. Target: at least 2,000 receipts/s.

Starts its own embedded PostgreSQL unless ``--database-url`` (an admin URL) is given.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import secrets
import time

from bench.database import migrated_database, postgres
from ledger.charity.donors import split_donor
from ledger.charity.receipts import receipt
from ledger.charity.rules import CharityPolicy, Command
from ledger.formats.note import parse_vkey
from ledger.journal.appender import Intent, append_batch
from ledger.journal.organizations import create_organization
from ledger.journal.publisher import publish
from ledger.settings import Settings
from ledger.store.database import WRITER_ROLE, create_pool
from ledger.store.log import Store
from ledger.verify.offline import verify_receipt
from schemas.charity import DonationBody, DonorIn, FundBody


async def prepare(url: str, donations: int) -> tuple[Store, object, bytes, list[int]]:
    store = Store(await create_pool(url, role=WRITER_ROLE, size=20))
    kek = secrets.token_bytes(32)
    settings = Settings(
        database_url=url,
        kek=base64.b64encode(kek).decode(),
        public_url="https://bench.example",  # signed documents refuse a loopback link
    )
    org = await create_organization(store, settings, kek, "bench-receipts", "Bench Receipts")
    policy = CharityPolicy()
    fund = Command.of(FundBody(code="f", name="Fund", currency="IDR", minor_units=2))
    async with store.connection() as c, c.transaction():
        await append_batch(store, c, org, [Intent(fund.kind, fund.body, fund)], policy=policy)
    indexes: list[int] = []
    for start in range(0, donations, 1000):
        intents = []
        for i in range(start, min(start + 1000, donations)):
            public, private = split_donor(DonorIn(name=f"Donor {i}", email=f"d{i}@example.id"))
            gift = Command.of(
                DonationBody(
                    fund="f",
                    amount=100_000 + i,
                    currency="IDR",
                    received_on="2026-11-01",  # type: ignore[arg-type]
                    channel="qris",
                    reference=f"R{i}",
                    donor=public,
                ),
                donor=private,
            )
            intents.append(Intent(gift.kind, gift.body, gift))
        async with store.connection() as c, c.transaction():
            results = await append_batch(store, c, org, intents, policy=policy)
        indexes.extend(r.index for r in results)  # type: ignore[union-attr]
    await publish(store, org, kek)
    return store, org, kek, indexes


async def bench(admin_url: str, donations: int, seconds: float) -> dict:
    async with migrated_database(admin_url, "bench_receipts_") as url:
        return await measure(url, donations, seconds)


async def measure(url: str, donations: int, seconds: float) -> dict:
    store, org, kek, indexes = await prepare(url, donations)
    receipts: list[str] = []
    done = 0
    stop = time.perf_counter() + seconds

    async def caller() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            data = await receipt(store, org, kek, random.choice(indexes))  # type: ignore[arg-type]
            if len(receipts) < 5000:
                receipts.append(json.dumps(data))
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(16)))
    gen_rate = done / (time.perf_counter() - started)
    keys = [parse_vkey(line) for line in [(await _vkey(store, org))]]
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        verify_receipt(receipts[count % len(receipts)], keys)
        count += 1
    verify_rate = count / (time.perf_counter() - started)
    await store.pool.close()
    return {
        "receipt-generation": {"per_s": round(gen_rate), "target": 1000, "pass": gen_rate >= 1000},
        "offline-verification": {
            "per_s": round(verify_rate),
            "target": 2000,
            "pass": verify_rate >= 2000,
        },
        "log_size": donations + 2,
    }


async def _vkey(store: Store, org) -> str:  # type: ignore[no-untyped-def]
    from ledger.formats.note import format_vkey

    [key] = await store.public_keys(org.id)
    return format_vkey(key.name, key.public_key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--donations", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with postgres(args.database_url, "ldgr-") as admin_url:
        result = asyncio.run(bench(admin_url, args.donations, args.seconds))
    for name in ("receipt-generation", "offline-verification"):
        r = result[name]
        print(
            f"{name:22} {r['per_s']:>8,}/s   target {r['target']:,}/s   {'PASS' if r['pass'] else 'MISS'}"
        )
    print(f"(log of {result['log_size']:,} entries)")


if __name__ == "__main__":
    main()
