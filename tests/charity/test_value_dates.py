"""Value dates, through the HTTP API on a real PostgreSQL, with the app's own clock seam.

The month as a charity lives it: November gifts recorded on 2 December are in the
November statement issued on 3 December; a November gift recorded on 10 December is a late
entry of December's statement; the November statement's stored bytes never change. Value
dates outside the books are refused with a message that names the field and the range; the
time zone and books-open date are log entries an admin records; the site and the PDFs
print the same period label.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ledger.clock import ManualClock
from ledger.http.auth import issue_key
from ledger.journal.organizations import create_organization
from ledger.settings import Settings
from ledger.store.log import Store
from tests.apikit import Org, donation, pdf_text, serve_in_loop
from tests.logkit import assert_log_verifies

pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils missing")

UTC = dt.UTC


def at(day: str, hour: int = 3) -> dt.datetime:
    """A moment on ``day``, ``hour`` o'clock UTC (10:00 in Jakarta for hour 3)."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=UTC)


@pytest.fixture
async def clocked(  # type: ignore[no-untyped-def]
    settings: Settings, store: Store, kek: bytes
) -> AsyncIterator[tuple[Org, ManualClock]]:
    """The real app on a ManualClock; the organization was created on 1 November 2026."""
    from ledger.http.app import create_app

    clock = ManualClock(at("2026-11-01"))
    org = await create_organization(
        store, settings, kek, "yayasan-waktu", "Yayasan Waktu", clock=clock
    )
    keys = {
        role: (await issue_key(store, org.id, role))[1] for role in ("admin", "recorder", "auditor")
    }
    async with serve_in_loop(create_app(settings.with_(checkpoint_interval=0), clock=clock)) as c:
        yield Org(c, org.slug, keys), clock


async def donate(charity: Org, reference: str, received_on: str, amount: int = 10_000_000):  # type: ignore[no-untyped-def]
    return await charity.post(
        "/donations", donation(reference, amount=amount, received_on=received_on)
    )


def fund_balance(balances: list[dict], fund: str = "senyum-2026") -> int:
    return sum(b["amount"] for b in balances if b["account"] == f"fund:{fund}")


def csv_reconciles(text: str, fund: str = "senyum-2026") -> None:
    """The CSV's period entry rows sum to closing minus opening; late rows are apart."""
    rows = list(csv.DictReader(io.StringIO(text)))
    opening = sum(
        int(r["amount"])
        for r in rows
        if r["section"] == "opening_balance" and r["name"] == f"fund:{fund}"
    )
    closing = sum(
        int(r["amount"])
        for r in rows
        if r["section"] == "closing_balance" and r["name"] == f"fund:{fund}"
    )
    moved = sum(
        int(r["amount"])
        for r in rows
        if r["section"] == "entry" and r["fund"] == fund and r["kind"] in ("donation", "correction")
    )
    assert opening + moved == closing
    for r in rows:
        if r["section"] in ("entry", "late_entry") and r["kind"] == "donation":
            assert r["value_date"], r  # every money row says when the money moved
            assert r["time"], r  # and when the log recorded it


@pdftotext
async def test_a_month_as_a_charity_lives_it(clocked, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    charity, clock = clocked
    clock.set(at("2026-11-01", 4))
    await charity.fund()

    # 2 December: the November gifts are entered from the bank statement.
    clock.set(at("2026-12-02"))
    for n, day in enumerate(("2026-11-20", "2026-11-28")):
        r = await donate(charity, f"NOV-{n}", day)
        assert r.status_code == 201, r.text
    r = await donate(charity, "DEC-0", "2026-12-01", 5_000_000)
    assert r.status_code == 201, r.text

    # 3 December: the November statement.
    clock.set(at("2026-12-03"))
    november = await charity.statement({"from": "2026-11-01", "to": "2026-12-01"})
    assert november["provisional"] is False
    doc = (await charity.client.get(charity.url("/statements/1/json"))).json()
    refs = [e["reference"] for e in doc["entries"] if e["kind"] == "donation"]
    assert refs == ["NOV-0", "NOV-1"]
    assert [e["value_date"] for e in doc["entries"] if e["kind"] == "donation"] == [
        "2026-11-20",
        "2026-11-28",
    ]
    assert all(
        e["time"].startswith("2026-12-02T03:00") for e in doc["entries"] if e["kind"] == "donation"
    )
    assert doc["late_entries"] == []
    assert fund_balance(doc["opening_balances"]) == 0
    assert fund_balance(doc["closing_balances"]) == 20_000_000  # the December gift is not in
    [fund_total] = doc["totals"]["funds"]
    assert fund_total["donations"] == 20_000_000
    stored = {w: await charity.statement_file(1, w) for w in ("json", "pdf/?lang=id", "pdf/?lang=en")}
    hashes = {w: hashlib.sha256(b).hexdigest() for w, b in stored.items()}
    assert hashes["json"] == november["sha256"]["json"]
    csv_reconciles((await charity.statement_file(1, "csv")).decode())

    # 10 December: one more November gift turns up; a November gift is reversed.
    clock.set(at("2026-12-10"))
    r = await donate(charity, "NOV-LATE", "2026-11-25", 2_500_000)
    assert r.status_code == 201, r.text
    late_index = r.json()["index"]
    first = doc["entries"][[e["reference"] for e in doc["entries"]].index("NOV-0")]["index"]
    r = await charity.post("/corrections", {"corrects": first, "reason": "bounced transfer"})
    assert r.status_code == 201, r.text
    correction = r.json()["index"]

    # 2 January: the December statement.
    clock.set(at("2027-01-02"))
    await charity.statement({"from": "2026-12-01", "to": "2027-01-01"})
    dec = (await charity.client.get(charity.url("/statements/2/json"))).json()
    listed = {e["index"]: e for e in dec["entries"] if e["value_date"]}
    assert [e["reference"] for e in listed.values() if e["kind"] == "donation"] == ["DEC-0"]
    assert listed[correction]["value_date"] == "2026-12-10"  # the reversal's effective date
    assert [e["index"] for e in dec["late_entries"]] == [late_index]
    assert dec["late_entries"][0]["value_date"] == "2026-11-25"
    assert dec["late_entries"][0]["time"].startswith("2026-12-10T03:00")
    # Opening = November's closing + the late November gift; closing = opening + December.
    assert fund_balance(dec["opening_balances"]) == 20_000_000 + 2_500_000
    assert fund_balance(dec["closing_balances"]) == 22_500_000 + 5_000_000 - 10_000_000
    [fund_total] = dec["totals"]["funds"]
    assert fund_total["donations"] == 5_000_000 - 10_000_000  # late gift not in the period
    csv_reconciles((await charity.statement_file(2, "csv")).decode())

    text_id = pdf_text(await charity.statement_file(2, "pdf/?lang=id"), tmp_path)
    text_en = pdf_text(await charity.statement_file(2, "pdf/?lang=en"), tmp_path)
    assert "Entri terlambat untuk periode sebelumnya" in text_id
    assert "Late entries for earlier periods" in text_en
    assert "25/11/26" in text_id and "10/12/26" in text_id  # value date and recording date

    # The site shows both dates: in the entry list and on the entry's page.
    listing = (await charity.client.get(f"/orgs/{charity.slug}?lang=en")).text
    assert (
        "Value date" in listing and '<time datetime="2026-11-25">25 November 2026</time>' in listing
    )
    page = (await charity.client.get(f"/orgs/{charity.slug}/entries/{late_index}?lang=id")).text
    assert "25 November 2026" in page and "received_on" in page
    assert "2026-12-10T03:00:00" in page  # the recording time, as the entry holds it

    # The November statement is never rewritten.
    for what, content in stored.items():
        again = await charity.statement_file(1, what)
        assert again == content
        assert hashlib.sha256(again).hexdigest() == hashes[what]
    nov_again = (await charity.client.get(charity.url("/statements/1/json"))).json()
    assert [e["index"] for e in nov_again["entries"]] == [e["index"] for e in doc["entries"]]

    # 3 January: a statement issued after December's lists no late entry twice.
    clock.set(at("2027-01-03"))
    await charity.statement({"from": "2027-01-01", "to": "2027-01-03"})
    third = (await charity.client.get(charity.url("/statements/3/json"))).json()
    assert third["late_entries"] == []
    await assert_log_verifies(store)


async def test_value_dates_outside_the_books_are_refused(clocked, store: Store) -> None:  # type: ignore[no-untyped-def]
    charity, clock = clocked
    await charity.fund()
    clock.set(at("2026-12-02"))  # 10:00 on 2 December in Jakarta
    r = await donate(charity, "FUTURE", "9999-12-31")
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (
        "received_on: expected a date from 2021-11-01 to 2026-12-03 (books open 2021-11-01; "
        "at most one day ahead), got 9999-12-31"
    )
    r = await donate(charity, "ANCIENT", "0001-01-01")
    assert r.status_code == 422 and "received_on" in r.json()["detail"], r.text
    assert (await donate(charity, "TOMORROW", "2026-12-03")).status_code == 201
    assert (await donate(charity, "TWO-DAYS", "2026-12-04")).status_code == 422
    r = await charity.post(
        "/donations/batch",
        {
            "donations": [
                {
                    "fund": "senyum-2026",
                    "amount": 1000,
                    "currency": "IDR",
                    "received_on": "2031-01-01",
                    "channel": "cash",
                    "reference": "BATCH-FUTURE",
                }
            ]
        },
    )
    assert r.status_code == 422 and "received_on: expected a date" in r.text, r.text
    await charity.beneficiary()
    r = await charity.post(
        "/disbursements",
        {
            "fund": "senyum-2026",
            "beneficiary": "lksa-harapan",
            "amount": 1000,
            "currency": "IDR",
            "purpose": "food",
            "paid_on": "2020-01-01",
            "reference": "OLD-PAY",
        },
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("paid_on: expected a date from")
    r = await charity.post(
        "/corrections", {"corrects": 2, "reason": "typo", "effective_on": "2027-06-01"}
    )
    assert r.status_code == 422 and "effective_on" in r.json()["detail"], r.text
    # A statement of a period over before the books open could only ever be empty.
    org = await store.organization(charity.slug)
    head = await store.head(org.id)
    r = await charity.post("/statements", {"from": "0759-02-17", "to": "1797-10-19"}, "admin")
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (
        "the period ending 1797-10-19 is over before the books open (2021-11-01): no entry "
        "can have a value date in it; expected 'to' after 2021-11-01"
    )
    assert (await store.head(org.id)).size == head.size  # nothing recorded
    await assert_log_verifies(store)


async def test_time_zone_and_books_open_are_log_entries(clocked, store: Store) -> None:  # type: ignore[no-untyped-def]
    charity, clock = clocked
    await charity.fund()
    clock.set(
        at("2026-12-02", 16)
    )  # 23:00 on 2 December in Jakarta, 01:00 on 3 December in Jayapura
    assert (await donate(charity, "WIT-EARLY", "2026-12-04")).status_code == 422
    r = await charity.post("/settings", {"time_zone": "Asia/Jayapura"}, role="recorder")
    assert r.status_code == 403, r.text
    r = await charity.post("/settings", {"time_zone": "Mars/Olympus"}, role="admin")
    assert r.status_code == 422 and "time_zone" in r.json()["detail"], r.text
    r = await charity.post(
        "/settings", {"time_zone": "Asia/Jayapura", "books_open": "2026-01-01"}, role="admin"
    )
    assert r.status_code == 201, r.text
    settings_index = r.json()["index"]
    assert (await donate(charity, "WIT", "2026-12-04")).status_code == 201
    r = await donate(charity, "BEFORE-BOOKS", "2025-12-31")
    assert r.status_code == 422, r.text
    assert "books open 2026-01-01" in r.json()["detail"]
    # Only the time zone changes: books-open keeps its value, as the entry records.
    r = await charity.post("/settings", {"time_zone": "Asia/Jakarta"}, role="admin")
    assert r.status_code == 201, r.text
    entry = await charity.client.get(f"/v1/orgs/{charity.slug}/log/entries/{r.json()['index']}")
    assert entry.status_code == 200, entry.text
    body = entry.json()["document"]["body"]
    assert body == {"books_open": "2026-01-01", "time_zone": "Asia/Jakarta"}
    assert r.json()["index"] == settings_index + 2
    await assert_log_verifies(store)


@pdftotext
async def test_site_and_pdf_print_the_same_period(clocked, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    charity, clock = clocked
    await charity.fund()
    clock.set(at("2027-01-02"))
    await charity.statement({"from": "2026-12-01", "to": "2027-01-01"})
    for lang, label in (("id", "1–31 Desember 2026"), ("en", "1–31 December 2026")):
        page = await charity.client.get(f"/orgs/{charity.slug}/statements/1?lang={lang}")
        assert page.status_code == 200
        assert label in page.text
        assert "s.d." not in page.text.split("<main", 1)[-1].split("</header>", 1)[0]
        listing = await charity.client.get(f"/orgs/{charity.slug}?lang={lang}")
        assert label in listing.text
        text = pdf_text(await charity.statement_file(1, f"pdf/?lang={lang}"), tmp_path)
        assert label in text, text[:2000]
        assert "Asia/Jakarta" in text
    await assert_log_verifies(store)


async def test_only_the_database_writes_calendar_projections(clocked, store: Store) -> None:  # type: ignore[no-untyped-def]
    """value_dates and org_settings are written by the trigger on entries, never by the
    service role: a tampered value date cannot move an entry between statements."""
    import asyncpg

    charity, clock = clocked
    await charity.fund()
    clock.set(at("2026-12-02"))
    index = (await donate(charity, "V-1", "2026-11-20")).json()["index"]
    async with store.connection() as conn:
        assert await conn.fetchval(
            "SELECT value_on FROM value_dates WHERE entry_idx = $1", index
        ) == dt.date(2026, 11, 20)
        for sql in (
            "UPDATE value_dates SET value_on = '2026-12-01'",
            "INSERT INTO org_settings (org_id, time_zone, books_open, entry_idx) "
            "VALUES (1, 'UTC', '2000-01-01', 0)",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql)
    await assert_log_verifies(store)


async def test_the_calendar_is_read_with_the_admit_lookups(clocked, store: Store) -> None:  # type: ignore[no-untyped-def]
    """The value-date rule reads the calendar in the head lock's round trip (admit_lookups,
    migration 0015): the default one, then what the newest org.settings entry records."""
    from ledger.formats.valuedates import Calendar
    from ledger.store import charity as P

    charity, _clock = clocked
    org = await store.organization(charity.slug)
    async with store.connection() as conn:
        found = await P.admit_lookups(conn, org.id, P.lookup_args())
        assert found.calendar == await P.org_calendar(conn, org)
    assert found.calendar == Calendar("Asia/Jakarta", dt.date(2021, 11, 1))
    r = await charity.post(
        "/settings", {"time_zone": "Asia/Makassar", "books_open": "2026-01-01"}, role="admin"
    )
    assert r.status_code == 201, r.text
    async with store.connection() as conn:
        found = await P.admit_lookups(conn, org.id, P.lookup_args())
        assert found.calendar == await P.org_calendar(conn, org)
    assert found.calendar == Calendar("Asia/Makassar", dt.date(2026, 1, 1))
    await assert_log_verifies(store)
