"""Open data: a fund's period as a Fiscal Data Package, over HTTP and the CLI, on a real
PostgreSQL with the app's clock seam.

The month of a charity: donations (one donor consented to a public name, one gave personal
data and no consent), a disbursement, a fee, a transfer to another fund, a correction dated
inside November, a correction recorded at 20:00 UTC on 30 November (already 1 December in
Jakarta, so December's), and a November gift recorded in December. The package validates
with the real ``frictionless`` library against the real Fiscal Data Package profile; every
row is recomputed from the postings and from the entries' canonical bytes, and proven in the
log under the checkpoint the package names; value dates, not recording times, place rows in
periods; no personal data is in any byte; bad parameters are precise problems.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import datetime as dt
import io
import json
import os
import subprocess
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from frictionless import system, validate

from ledger.clock import ManualClock
from ledger.formats.checkpoint import open_checkpoint
from ledger.formats.merkle import leaf_hash, verify_inclusion
from ledger.formats.postings import postings_for
from ledger.http.auth import issue_key
from ledger.journal.organizations import create_organization
from ledger.journal.publisher import publish
from ledger.settings import Settings
from ledger.store.log import Store
from tests.apikit import Org, assert_problem, serve_in_loop
from tests.conftest import VECTORS, run_ledger
from tests.logkit import assert_log_verifies

UTC = dt.UTC
FUND = "senyum-2026"
NOVEMBER = {"from": "2026-11-01", "to": "2026-12-01"}
DECEMBER = {"from": "2026-12-01", "to": "2027-01-01"}
FDP_PROFILE = "https://specs.frictionlessdata.io/schemas/fiscal-data-package.json"

PUBLIC_DONOR = {
    "name": "Siti Aminah Rahayu",
    "email": "siti.rahayu@example.id",
    "phone": "+62 812 1111 2222",
    "public_name": "Hamba Allah (Siti A.)",
}
PRIVATE_DONOR = {
    "name": "Budi Santoso Wibowo",
    "email": "budi.rahasia@example.id",
    "phone": "+62 813 9876 5432",
    "address": "Jl. Melati No. 7, Bandung",
}
SECRETS = [
    "Siti Aminah Rahayu",
    "siti.rahayu@example.id",
    "812 1111 2222",
    "Budi Santoso",
    "budi.rahasia",
    "9876 5432",
    "Jl. Melati",
    "PESAN-PRIBADI",  # in a donation's message: free text is left out
]


def at(day: str, hour: int = 3) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=UTC)


@dataclass
class Month:
    """The scenario: the organization, its clock and the indexes of its entries."""

    org: Org
    clock: ManualClock
    store: Store
    kek: bytes
    i: dict[str, int]


@pytest.fixture
async def month(settings: Settings, store: Store, kek: bytes) -> AsyncIterator[Month]:
    from ledger.http.app import create_app

    clock = ManualClock(at("2026-11-01"))
    created = await create_organization(
        store, settings, kek, "yayasan-data", "Yayasan Data Terbuka", clock=clock
    )
    keys = {
        role: (await issue_key(store, created.id, role))[1]
        for role in ("admin", "recorder", "auditor")
    }
    async with serve_in_loop(create_app(settings.with_(checkpoint_interval=0), clock=clock)) as c:
        org = Org(c, created.slug, keys)
        await org.fund(FUND)
        await org.fund("zakat-2026")
        await org.beneficiary("lksa-harapan", name="LKSA Harapan Bangsa")
        clock.set(at("2026-11-25"))
        i: dict[str, int] = {}

        async def money(name: str, path: str, body: dict[str, Any]) -> None:
            r = await org.post(path, body)
            assert r.status_code == 201, r.text
            i[name] = r.json()["index"]

        base = {"fund": FUND, "currency": "IDR", "channel": "qris"}
        await money("public", "/donations", {**base, "amount": 50_000_000,
                    "received_on": "2026-11-01", "reference": "Q-1", "donor": PUBLIC_DONOR})
        await money("private", "/donations", {**base, "amount": 20_000_050,
                    "received_on": "2026-11-05", "reference": "Q-2", "donor": PRIVATE_DONOR,
                    "message": "PESAN-PRIBADI untuk Budi Santoso"})
        await money("mistake", "/donations", {**base, "amount": 7_500_000,
                    "received_on": "2026-11-08", "reference": "Q-3"})
        await money("disbursed", "/disbursements", {"fund": FUND, "currency": "IDR",
                    "beneficiary": "lksa-harapan", "amount": 30_000_000, "purpose": "education",
                    "paid_on": "2026-11-10", "reference": "OUT-1"})
        await money("fee", "/fees", {"fund": FUND, "currency": "IDR", "amount": 1_000_000,
                    "charged_on": "2026-11-12", "description": "biaya payment gateway"})
        await money("transfer", "/transfers", {"from_fund": FUND, "to_fund": "zakat-2026",
                    "currency": "IDR", "amount": 5_000_000, "transferred_on": "2026-11-14",
                    "reason": "pindah ke zakat"})
        await money("reversal", "/corrections", {"corrects": i["mistake"],
                    "reason": "dicatat dua kali", "effective_on": "2026-11-20"})
        # 20:00 UTC on 30 November is 03:00 on 1 December in Jakarta: effective_on defaults
        # to the organization's today, so this reversal belongs to December.
        clock.set(at("2026-11-30", 20))
        await money("late_reversal", "/corrections", {"corrects": i["private"],
                    "reason": "dana dikembalikan"})
        clock.set(at("2026-12-02"))
        await money("late_gift", "/donations", {**base, "amount": 3_000_000,
                    "received_on": "2026-11-30", "reference": "Q-4"})
        await money("december", "/donations", {**base, "amount": 4_000_000,
                    "received_on": "2026-12-02", "reference": "Q-5"})
        await publish(store, await store.organization(org.slug), kek)
        yield Month(org, clock, store, kek, i)


async def package(m: Month, period: dict[str, str], **extra: str) -> dict[str, bytes]:
    r = await m.org.client.get(m.org.url(f"/open-data/{FUND}"), params={**period, **extra})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].endswith('.zip"')
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        assert archive.namelist() == [
            "datapackage.json", "data/entries.csv", "data/balances.csv", "checkpoint.txt"
        ]
        files = {n: archive.read(n) for n in archive.namelist()}
    files["zip"] = r.content
    return files


def rows(files: dict[str, bytes], name: str = "data/entries.csv") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files[name].decode("utf-8"))))


class _ProfileOffline(requests.adapters.BaseAdapter):
    """Serves the vendored Fiscal Data Package profile (tests/vectors) to frictionless in
    place of the network; any other URL is an error."""

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        assert request.url == FDP_PROFILE, request.url
        response = requests.Response()
        response.status_code = 200
        response.url = request.url
        response.raw = io.BytesIO((VECTORS / "fiscal-data-package.json").read_bytes())
        return response

    def close(self) -> None:
        pass


def frictionless_report(files: dict[str, bytes], folder: Path) -> Any:
    """frictionless's validation of the unzipped package, profile included."""
    for name, content in files.items():
        if name != "zip":
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
    session = requests.Session()
    session.mount("https://", _ProfileOffline())
    cwd = os.getcwd()
    os.chdir(folder)  # frictionless trusts only paths inside the working directory
    try:
        with system.use_context(http_session=session):
            return validate("datapackage.json")
    finally:
        os.chdir(cwd)


async def test_package_validates_with_frictionless_against_the_fiscal_profile(month, tmp_path):
    files = await package(month, NOVEMBER)
    report = frictionless_report(files, tmp_path)
    assert report.valid, report.flatten(["type", "note", "rowNumber", "fieldName"])
    assert [t.name for t in report.tasks] == ["entries", "balances"]
    assert report.tasks[0].stats["rows"] == 8
    descriptor = json.loads(files["datapackage.json"])
    assert descriptor["profile"] == "fiscal-data-package"
    assert descriptor["countryCode"] == "ID" and descriptor["granularity"] == "transactional"
    assert descriptor["fiscalPeriod"] == {"start": "2026-11-01", "end": "2026-11-30"}
    measures = descriptor["model"]["measures"]
    assert measures["revenue"] == {
        "source": "revenue_minor", "resource": "entries", "currency": "IDR", "factor": 0.01,
        "direction": "revenue", "phase": "executed",
    }
    assert measures["expenditure"]["direction"] == "expenditure"
    dims = descriptor["model"]["dimensions"]
    assert dims["administrative-classification"]["classificationType"] == "administrative"
    assert dims["functional-classification"]["attributes"]["purpose"]["source"] == "purpose"
    assert dims["date"]["attributes"]["value_date"]["source"] == "value_date"
    fields = {f["name"] for f in descriptor["resources"][0]["schema"]["fields"]}
    for dim in dims.values():  # every attribute names a column that exists
        assert {a["source"] for a in dim["attributes"].values()} <= fields
    assert descriptor["ledger"]["fund"] == {
        "code": FUND, "name": f"Fund {FUND}", "currency": "IDR", "minor_units": 2,
        "entry_index": 1,
    }
    assert descriptor["ledger"]["period"]["time_zone"] == "Asia/Jakarta"

    # A package that breaks the profile is refused by the same validation: the test can fail.
    broken = json.loads(files["datapackage.json"])
    broken["model"]["measures"]["revenue"]["direction"] = "income"
    files["datapackage.json"] = json.dumps(broken).encode()
    (tmp_path / "bad").mkdir()
    assert not frictionless_report(files, tmp_path / "bad").valid


async def test_every_row_is_recomputed_from_the_postings_and_proven_in_the_log(
    month, owner
):
    m = month
    files = await package(m, NOVEMBER)
    # The package's checkpoint is signed by the log's published key.
    checkpoint = open_checkpoint(
        files["checkpoint.txt"].decode(), await m.org.verifiers(), origin="ledger.example/orgs/yayasan-data"
    )
    descriptor = json.loads(files["datapackage.json"])
    assert descriptor["ledger"]["checkpoint"] == {
        "size": checkpoint.size,
        "root_hash": base64.b64encode(checkpoint.root).decode(),
        "note": "checkpoint.txt",
    }
    org_id = (await m.store.organization(m.org.slug)).id
    for row in rows(files):
        index = int(row["entry_index"])
        assert index < checkpoint.size
        # From the postings table, independently of the export's query.
        lines = await owner.fetch(
            "SELECT account, amount FROM postings WHERE org_id = $1 AND entry_idx = $2",
            org_id,
            index,
        )
        on_fund = sum(x["amount"] for x in lines if x["account"] == f"fund:{FUND}")
        assert int(row["revenue_minor"]) - int(row["expenditure_minor"]) == on_fund, row
        # From the entry's canonical bytes (the public log), with the documented rules.
        entry = (await m.org.client.get(m.org.url(f"/log/entries/{index}"))).json()
        canonical = base64.b64decode(entry["canonical"])
        assert base64.b64encode(leaf_hash(canonical)).decode() == row["leaf_hash"]
        document = json.loads(canonical)
        reversed_lines = None
        if document["kind"] == "correction":  # the negated lines of the entry it reverses
            target = (
                await m.org.client.get(m.org.url(f"/log/entries/{document['body']['corrects']}"))
            ).json()["document"]
            reversed_lines = postings_for(target["kind"], target["body"])
        recomputed = sum(
            line.amount
            for line in postings_for(document["kind"], document["body"], reversed_lines)
            if line.account == f"fund:{FUND}"
        )
        assert recomputed == on_fund
        assert row["kind"] == document["kind"]
        # The row is in the log under the package's checkpoint: RFC 9162 inclusion proof.
        proof = (
            await m.org.client.get(
                m.org.url("/log/proof/inclusion"),
                params={"index": index, "size": checkpoint.size},
            )
        ).json()
        verify_inclusion(
            base64.b64decode(row["leaf_hash"]),
            index,
            checkpoint.size,
            [base64.b64decode(h) for h in proof["proof"]],
            checkpoint.root,
        )
        # Decimal column for people, with the fund's recorded exponent.
        amount = int(row["revenue_minor"]) or int(row["expenditure_minor"])
        assert row["amount"] == f"{amount / 100:.2f}" and row["minor_units"] == "2"
    # The balances reconcile: opening + revenue - expenditure = closing, and the closing of
    # November is the opening of December.
    nov = {r["line"]: int(r["amount_minor"]) for r in rows(files, "data/balances.csv")}
    entries = rows(files)
    assert nov["revenue"] == sum(int(r["revenue_minor"]) for r in entries)
    assert nov["expenditure"] == sum(int(r["expenditure_minor"]) for r in entries)
    assert nov["opening_balance"] == 0
    assert nov["closing_balance"] == nov["revenue"] - nov["expenditure"]
    assert nov["revenue"] == 50_000_000 + 20_000_050 + 7_500_000 - 7_500_000 + 3_000_000
    assert nov["expenditure"] == 30_000_000 + 1_000_000 + 5_000_000
    dec = {r["line"]: int(r["amount_minor"]) for r in rows(await package(m, DECEMBER), "data/balances.csv")}
    assert dec["opening_balance"] == nov["closing_balance"]
    assert dec["closing_balance"] == dec["opening_balance"] + dec["revenue"] - dec["expenditure"]
    await assert_log_verifies(m.store, m.org.slug)


async def test_corrections_are_reversing_rows_linked_to_what_they_reverse(month):
    i = month.i
    nov = {int(r["entry_index"]): r for r in rows(await package(month, NOVEMBER))}
    mistake, reversal = nov[i["mistake"]], nov[i["reversal"]]
    assert mistake["revenue_minor"] == "7500000" and mistake["reversed_by_entry"] == str(i["reversal"])
    assert reversal["kind"] == "correction" and reversal["direction"] == "revenue"
    assert reversal["revenue_minor"] == "-7500000" and reversal["amount"] == "-75000.00"
    assert reversal["reverses_entry"] == str(i["mistake"]) and reversal["value_date"] == "2026-11-20"
    assert reversal["description"] == "dicatat dua kali"
    assert reversal["counterparty_type"] == "donor" and reversal["purpose"] == "donation"
    # The disbursement, fee and transfer are expenditure with their classification.
    out = nov[i["disbursed"]]
    assert (out["direction"], out["purpose"], out["counterparty_code"], out["counterparty_name"]) == (
        "expenditure", "education", "lksa-harapan", "LKSA Harapan Bangsa"
    )
    assert out["expenditure_minor"] == "30000000" and out["revenue_minor"] == "0"
    assert (nov[i["fee"]]["purpose"], nov[i["fee"]]["counterparty_type"]) == ("fee", "fees")
    moved = nov[i["transfer"]]
    assert (moved["direction"], moved["counterparty_code"]) == ("expenditure", "zakat-2026")
    # The same transfer is revenue in the fund it went to.
    r = await month.org.client.get(month.org.url("/open-data/zakat-2026"), params=NOVEMBER)
    zakat = list(csv.DictReader(io.StringIO(zipfile.ZipFile(io.BytesIO(r.content)).read("data/entries.csv").decode())))
    assert [(z["entry_index"], z["direction"], z["revenue_minor"], z["counterparty_code"]) for z in zakat] == [
        (str(i["transfer"]), "revenue", "5000000", FUND)
    ]
    # The donation reversed in December: its November row names the correction, whose
    # reversing row is December's. Nothing is dropped from either.
    assert nov[i["private"]]["reversed_by_entry"] == str(i["late_reversal"])
    dec = {int(r["entry_index"]): r for r in rows(await package(month, DECEMBER))}
    assert dec[i["late_reversal"]]["reverses_entry"] == str(i["private"])
    assert dec[i["late_reversal"]]["revenue_minor"] == "-20000050"
    assert dec[i["late_reversal"]]["counterparty_name"] == "anonymous"


async def test_value_dates_not_recording_time_place_entries_in_periods(month):
    i = month.i
    nov = {int(r["entry_index"]): r for r in rows(await package(month, NOVEMBER))}
    dec = {int(r["entry_index"]): r for r in rows(await package(month, DECEMBER))}
    # Recorded on 2 December, received on 30 November: November's.
    assert nov[i["late_gift"]]["value_date"] == "2026-11-30"
    assert nov[i["late_gift"]]["recorded_at"].startswith("2026-12-02T03:00:00")
    # Recorded at 2026-11-30T20:00Z, which is 1 December in Jakarta: December's.
    late = dec[i["late_reversal"]]
    assert late["recorded_at"].startswith("2026-11-30T20:00:00") and late["value_date"] == "2026-12-01"
    assert i["late_reversal"] not in nov
    assert set(nov) == {i[k] for k in ("public", "private", "mistake", "disbursed", "fee",
                                        "transfer", "reversal", "late_gift")}
    assert set(dec) == {i["late_reversal"], i["december"]}
    assert [r["value_date"] for r in nov.values()] == sorted(r["value_date"] for r in nov.values())
    # A one-day period: only that day's value date.
    day = rows(await package(month, {"from": "2026-11-30", "to": "2026-12-01"}))
    assert [int(r["entry_index"]) for r in day] == [i["late_gift"]]


async def test_no_personal_data_in_any_byte_of_the_export(month, tmp_path):
    files = await package(month, NOVEMBER)
    nov = {int(r["entry_index"]): r for r in rows(files)}
    assert nov[month.i["public"]]["counterparty_name"] == "Hamba Allah (Siti A.)"
    assert nov[month.i["private"]]["counterparty_name"] == "anonymous"
    # The zip (deflated) and every file in it, and each file served alone.
    everything = list(files.values())
    for name in ("datapackage.json", "entries.csv", "balances.csv", "checkpoint.txt"):
        r = await month.org.client.get(month.org.url(f"/open-data/{FUND}/{name}"), params=NOVEMBER)
        assert r.status_code == 200, r.text
        everything.append(r.content)
    for content in everything:
        for secret in SECRETS:
            assert secret.encode() not in content, secret
            assert secret.lower().encode() not in content.lower(), secret
    # The donors' data is in the database (off the log): the test would see it if it leaked.
    record = await month.org.client.get(
        month.org.url(f"/donations/{month.i['private']}/donor"),
        headers={"Authorization": f"Bearer {month.org.keys['auditor']}"},
    )
    assert record.status_code == 200 and "budi.rahasia@example.id" in record.text


async def test_descriptor_served_alone_links_csv_cut_at_the_same_checkpoint(month):
    files = await package(month, NOVEMBER)
    size = json.loads(files["datapackage.json"])["ledger"]["checkpoint"]["size"]
    r = await month.org.client.get(month.org.url(f"/open-data/{FUND}/datapackage.json"), params=NOVEMBER)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    served = r.json()
    paths = [res["path"] for res in served["resources"]]
    assert paths == [
        f"https://transparansi.example/v1/orgs/{month.org.slug}/open-data/{FUND}/{n}.csv"
        f"?from=2026-11-01&to=2026-12-01&size={size}"
        for n in ("entries", "balances")
    ]
    # The log grows and a new checkpoint is signed: the links still give the old cut.
    month.clock.set(at("2026-12-03"))
    more = await month.org.post("/donations", {"fund": FUND, "currency": "IDR", "channel": "qris",
                                "amount": 1_000, "received_on": "2026-11-29", "reference": "Q-6"})
    assert more.status_code == 201
    await publish(month.store, await month.store.organization(month.org.slug), month.kek)
    for path, name in zip(paths, ("data/entries.csv", "data/balances.csv"), strict=True):
        linked = await month.org.client.get(path.removeprefix("https://transparansi.example"))
        assert linked.status_code == 200 and linked.content == files[name]
        assert linked.headers["cache-control"] == "public, max-age=86400"
    newer = await package(month, NOVEMBER)
    assert len(rows(newer)) == len(rows(files)) + 1
    # The same request cut at the same checkpoint: the same bytes; ETag revalidation.
    again = await package(month, NOVEMBER, size=str(size))
    assert again["zip"] == files["zip"]
    first = await month.org.client.get(month.org.url(f"/open-data/{FUND}"), params={**NOVEMBER, "size": size})
    cached = await month.org.client.get(
        month.org.url(f"/open-data/{FUND}"),
        params={**NOVEMBER, "size": size},
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert cached.status_code == 304 and cached.content == b""


@pytest.mark.parametrize(
    ("query", "status", "field", "text"),
    [
        ({"from": "2026-11-01"}, 400, "to", "to"),
        ({"to": "2026-12-01"}, 400, "from", "from"),
        ({"from": "2026-13-01", "to": "2026-12-01"}, 400, "from", "from"),
        ({"from": "2026-12-01", "to": "2026-12-01"}, 422, None, "to: expected a date after 'from' (2026-12-01), got 2026-12-01"),
        ({"from": "2026-12-01", "to": "2026-11-01"}, 422, None, "to: expected a date after"),
        ({"from": "2026-01-01", "to": "2027-01-03"}, 422, None, "to: expected a period of at most 366 days, got 367 days"),
        ({**NOVEMBER, "size": "0"}, 400, "size", "size"),
        ({**NOVEMBER, "size": "3"}, 404, None, "size: no signed checkpoint of size 3 in yayasan-data"),
    ],
)
async def test_bad_parameters_are_precise_problems(month, query, status, field, text):
    r = await month.org.client.get(month.org.url(f"/open-data/{FUND}"), params=query)
    body = assert_problem(r, status)
    assert text in body["detail"], body
    if field is not None:
        assert {"pointer": f"/{field}"}.items() <= body["errors"][0].items(), json.dumps(body)


async def test_unknown_fund_file_and_language(month):
    r = await month.org.client.get(month.org.url("/open-data/no-such-fund"), params=NOVEMBER)
    assert_problem(r, 404, "fund: no fund 'no-such-fund' in yayasan-data up to checkpoint size")
    r = await month.org.client.get(month.org.url(f"/open-data/{FUND}/secrets.csv"), params=NOVEMBER)
    assert_problem(r, 404, "file: expected one of balances.csv, checkpoint.txt, datapackage.json, entries.csv, got 'secrets.csv'")
    r = await month.org.client.get(
        month.org.url(f"/open-data/{FUND}"),
        params={"from": "2026-12-01", "to": "2026-11-01"},
        headers={"Accept-Language": "id"},
    )
    body = assert_problem(r, 422, "to: diharapkan tanggal sesudah 'from' (2026-12-01)")
    assert body["type"] == "/problems/rule-violated" and r.headers["content-language"] == "id"


async def test_fund_page_links_the_years_package(month):
    r = await month.org.client.get(f"/orgs/{month.org.slug}/funds/{FUND}?lang=en")
    assert r.status_code == 200, r.text
    year = dt.datetime.now(UTC).year
    link = f"/v1/orgs/{month.org.slug}/open-data/{FUND}?from={year}-01-01&amp;to={year + 1}-01-01"
    assert link in r.text and "Open data" in r.text
    answer = await month.org.client.get(link.replace("&amp;", "&"))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"


async def test_cli_writes_the_package_with_a_json_summary(month, db_url, kek, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "LEDGER_KEK": base64.b64encode(kek).decode(),
        "LEDGER_DATA_DIR": str(tmp_path),
    }
    slug, tmp = month.org.slug, tmp_path

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_ledger(*args, env=env)

    out = tmp / "paket"
    done = await asyncio.to_thread(
        run, "export", "open-data", "--org", slug, "--fund", FUND, "--from", "2026-11-01",
        "--to", "2026-12-01", "--out", str(out), "--json",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows"] == 8 and summary["minor_units"] == 2 and summary["currency"] == "IDR"
    assert summary["closing_minor"] == (
        summary["opening_minor"] + summary["revenue_minor"] - summary["expenditure_minor"]
    )
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["checkpoint.txt", "data/balances.csv", "data/entries.csv", "datapackage.json"]
    descriptor = json.loads((out / "datapackage.json").read_text())
    assert descriptor["ledger"]["checkpoint"]["size"] == summary["checkpoint"]["size"]
    assert descriptor["ledger"]["rows"] == 8
    bad = await asyncio.to_thread(
        run, "export", "open-data", "--org", slug, "--fund", FUND, "--from", "2026-12-01",
        "--to", "2026-11-01", "--out", str(tmp / "x"),
    )
    assert bad.returncode == 2 and "to: expected a date after 'from' (2026-12-01)" in bad.stderr
    missing = await asyncio.to_thread(
        run, "export", "open-data", "--org", slug, "--from", "2026-11-01"
    )
    assert missing.returncode == 2 and "needs --fund, --to, --out" in missing.stderr
    wrong = await asyncio.to_thread(run, "export", "--org", slug, "--fund", FUND)
    assert wrong.returncode == 2 and "--fund: only for `ledger export open-data`" in wrong.stderr
