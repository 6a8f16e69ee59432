"""The demo ledger that ``make run`` (``ledger serve --demo``) starts with.

A charity with two funds (one a zakat fund with a 0% fee cap), three orphanages, donations
(anonymous, named, with and without donor contact data), disbursements, a platform fee, a
correction, a signed checkpoint, a (provisional) statement for the current month and two console
accounts (an admin and a recorder, with temporary passwords printed once): enough
to browse every page, download a statement and verify a receipt in the browser.

Idempotent: an existing demo organization is left as it is. Its value dates and the
statement period are local dates of the organization's calendar (today in Asia/Jakarta, the
default zone of a log that recorded no ``org.settings``), not the server's UTC date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from ledger.charity.donors import split_donor
from ledger.charity.recording import request_hash
from ledger.charity.rules import CharityPolicy, Command
from ledger.charity.staff import create_staff, issue_api_key, temporary_password
from ledger.clock import Clock, system_clock
from ledger.errors import NotFoundError
from ledger.formats.valuedates import Calendar
from ledger.http.services import Services
from ledger.journal.appender import Appender
from ledger.journal.keys import load_kek
from ledger.journal.organizations import create_organization
from ledger.journal.publisher import publish
from ledger.settings import Settings
from ledger.store.database import WRITER_ROLE, create_pool, resolve_url
from ledger.store.log import Store
from schemas import kinds
from schemas.charity import DonorIn
from schemas.money import minor_units
from schemas.statements import StatementRequest

DEMO_SLUG = "yayasan-senyum"
DEMO_NAME = "Yayasan Senyum Anak Nusantara"

FUNDS = [
    {
        "code": "senyum-2026",
        "name": "#SenyumAnak 2026",
        "currency": "IDR",
        "earmark": None,
        "fee_cap_bps": 1000,
        "minor_units": minor_units("IDR"),
    },
    {
        "code": "zakat-2026",
        "name": "Zakat untuk Panti 2026",
        "currency": "IDR",
        "earmark": None,
        "fee_cap_bps": 0,
        "minor_units": minor_units("IDR"),
    },
]
ORPHANAGES = [
    ("lksa-harapan-bunda", "LKSA Harapan Bunda", "Bandung", "Jawa Barat", "LKSA-32.73-0142"),
    ("lksa-kasih-ibu", "LKSA Kasih Ibu", "Medan", "Sumatera Utara", None),
    (
        "panti-al-ikhlas",
        "Panti Asuhan Al-Ikhlas",
        "Makassar",
        "Sulawesi Selatan",
        "LKSA-73.71-0088",
    ),
]
DONATIONS = [  # fund, rupiah, channel, donor
    (
        "senyum-2026",
        1_250_000,
        "qris",
        {"name": "Siti Aminah", "email": "siti@example.id", "public_name": "Siti A."},
    ),
    ("senyum-2026", 500_000, "bank_transfer", {}),
    ("senyum-2026", 2_000_000, "e_wallet", {"name": "Budi Santoso", "phone": "+62 812 5550 1234"}),
    ("zakat-2026", 3_500_000, "bank_transfer", {"public_name": "Hamba Allah"}),
    ("senyum-2026", 750_000, "qris", {"email": "rina@example.id", "public_name": "Rina"}),
    ("zakat-2026", 1_000_000, "cash", {}),
    ("senyum-2026", 100_000, "qris", {}),
]


def _donation(
    today: dt.date, n: int, fund: str, rupiah: int, channel: str, donor: dict[str, str]
) -> Command:
    public, private = split_donor(DonorIn(**donor))
    body = {
        "fund": fund,
        "amount": rupiah * 100,
        "currency": "IDR",
        "received_on": today.isoformat(),
        "channel": channel,
        "reference": f"DEMO-{n:04d}",
        "donor": {"commitment": public.commitment, "display": public.display},
        "message": "Semoga bermanfaat untuk adik-adik" if n % 3 == 0 else None,
    }
    return Command.decoded(kinds.DONATION, body, donor=private)


DEMO_PROFILE = {
    "legal_name": "Yayasan Senyum Anak Nusantara",
    "npwp": "012345678901000",
    "address": "Jl. Melati No. 5, Jakarta Selatan",
    "zakat_license": None,
    "amil_cap_bps": 1250,
}
"""The demo organization's legal identity (an example NPWP, not a real one)."""

DEMO_STAFF = (
    ("admin@yayasan-senyum.example", "Ibu Kepala", "admin"),
    ("pencatat@yayasan-senyum.example", "Rina Pencatat", "recorder"),
)
"""The demo's console accounts (``/console``, organization ``yayasan-senyum``)."""


async def seed_demo(store: Store, settings: Settings, clock: Clock = system_clock) -> str:
    """Create the demo organization; ``clock`` is "now" for its entries and value dates."""
    kek = load_kek(settings)
    try:
        await store.organization(DEMO_SLUG)
        return f"demo organization {DEMO_SLUG} already exists"
    except NotFoundError:
        org = await create_organization(store, settings, kek, DEMO_SLUG, DEMO_NAME, clock=clock)
    appender = Appender(store, policy=CharityPolicy(clock), clock=clock)
    # The organization's calendar: the demo records no org.settings, so the default one.
    local_today = Calendar.default(org.created_at).today(clock())
    today = local_today.isoformat()
    commands: list[Command] = [Command.decoded(kinds.FUND_CREATED, dict(f)) for f in FUNDS]
    commands += [
        Command.decoded(
            kinds.BENEFICIARY_REGISTERED,
            {"code": c, "version": 1, "name": n, "city": city, "province": p, "registration": r},
        )
        for c, n, city, p, r in ORPHANAGES
    ]
    # Its standing under Indonesian rules (README, "Indonesian compliance").
    commands += [
        Command.decoded(kinds.ORG_PROFILE, dict(DEMO_PROFILE)),
        Command.decoded(
            kinds.FUND_CLASSIFIED,
            {"fund": "zakat-2026", "restriction": "with", "zakat_class": "zakat",
             "tax_category": "zakat"},
        ),
        Command.decoded(
            kinds.FUND_PERMIT,
            {"fund": "zakat-2026", "number": None, "issuer": None, "valid_from": None,
             "valid_until": None, "exemption": "zakat"},
        ),
        Command.decoded(
            kinds.FUND_PERMIT,
            {
                "fund": "senyum-2026",
                "number": "460/112/PUB/DINSOS/2026",
                "issuer": "Dinas Sosial Provinsi DKI Jakarta",
                "valid_from": (local_today - dt.timedelta(days=90)).isoformat(),
                "valid_until": (local_today + dt.timedelta(days=275)).isoformat(),
                "exemption": None,
            },
        ),
    ]
    commands += [_donation(local_today, i, *d) for i, d in enumerate(DONATIONS, start=1)]
    index_of: dict[str, int] = {}
    for command in commands:
        appended = await appender.append(org, command.kind, command.body, command)
        index_of[command.body.get("reference") or command.body.get("code")] = appended.index
    spending: list[tuple[str, dict[str, Any]]] = [
        (
            kinds.DISBURSEMENT,
            {
                "fund": "senyum-2026",
                "beneficiary": "lksa-harapan-bunda",
                "amount": 1_500_000_00,
                "currency": "IDR",
                "purpose": "food",
                "paid_on": today,
                "reference": "BCA-OUT-0001",
            },
        ),
        (
            kinds.DISBURSEMENT,
            {
                "fund": "zakat-2026",
                "beneficiary": "panti-al-ikhlas",
                "amount": 2_000_000_00,
                "currency": "IDR",
                "purpose": "education",
                "paid_on": today,
                "reference": "BCA-OUT-0002",
            },
        ),
        (
            kinds.DISBURSEMENT,
            {
                "fund": "senyum-2026",
                "beneficiary": "lksa-kasih-ibu",
                "amount": 800_000_00,
                "currency": "IDR",
                "purpose": "health",
                "paid_on": today,
                "reference": "BCA-OUT-0003",
            },
        ),
        (
            kinds.FEE,
            {
                "fund": "senyum-2026",
                "amount": 150_000_00,
                "currency": "IDR",
                "charged_on": today,
                "description": "Biaya platform penggalangan dana (5%)",
            },
        ),
        (
            kinds.CORRECTION,
            {
                "corrects": index_of["DEMO-0007"],
                "reason": "Transfer dibatalkan oleh bank (double posting)",
            },
        ),
    ]
    for kind, body in spending:
        await appender.append(org, kind, body, Command.decoded(kind, body))
    await publish(store, org, kek)
    services = Services(settings=settings.with_(demo=True), store=store, appender=appender, kek=kek)
    from ledger.charity.statements import issue

    first = local_today.replace(day=1)
    period = StatementRequest(from_=first, to=local_today + dt.timedelta(days=1))
    digest = request_hash("POST", "demo", hashlib.sha256(b"demo statement").digest())
    await issue(services, org, period, "demo-statement-1", digest)
    # Console accounts (logged as staff.added), with passwords to change at the first login.
    accounts = []
    for email, name, role in DEMO_STAFF:
        password = temporary_password()
        await create_staff(store, org, email, name, role, password, None, clock=clock)
        accounts.append(f"demo {role} at /console: {email} / {password} (change it at first login)")
    # API keys, logged as api_key.issued like every other key (issued by the server).
    _, admin = await issue_api_key(store, org, "admin", "demo admin", None, clock=clock)
    _, auditor = await issue_api_key(store, org, "auditor", "demo auditor", None, clock=clock)
    await publish(store, org, kek)
    return "\n".join(
        [
            f"created demo organization {DEMO_SLUG} ({org.origin})",
            f"demo admin API key (shown once): {admin}",
            f"demo auditor API key (shown once): {auditor}",
            *accounts,
        ]
    )


async def seed_demo_at(settings: Settings) -> str:
    url = await resolve_url(settings)
    pool = await create_pool(url, role=WRITER_ROLE, size=4)
    try:
        return await seed_demo(Store(pool), settings)
    finally:
        await pool.close()
