"""Signed public statements, through the HTTP API on a real PostgreSQL.

What an auditor relies on: the figures printed in the PDF are the ledger's (the balances
API, the JSON and the CSV agree); the PDF's PAdES signature validates in pyHanko and in
poppler's pdfsig and breaks when a byte changes or an update is appended; two successive
statements are linked by a consistency proof; the log's ``statement.issued`` entry commits
to the SHA-256 of the exact bytes served, which never change.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import datetime as dt
import hashlib
import io
import re
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from ledger.charity import statements
from ledger.errors import ConsistencyProofError
from ledger.formats import merkle
from ledger.formats.note import parse_vkey
from ledger.store.statements import beneficiary_versions, entries_at
from ledger.verify import offline
from reports.pdf.attachments import read_attachments
from reports.statement.entries import EntryNames
from reports.statement.pdf import render_statement
from schemas.statements import StatementRequest
from tests.apikit import Org, auth, idem, pdf_text, validate
from tests.logkit import assert_log_verifies

TODAY = dt.datetime.now(ZoneInfo("Asia/Jakarta")).date()
"""Today in the organization's time zone (the default, Asia/Jakarta)."""
DAY = dt.timedelta(days=1)
CURRENT = {"from": "2026-11-01", "to": (TODAY + DAY).isoformat()}
"""From the value dates tests.apikit writes to today: it contains every entry the test
writes (statements select by value date), and is provisional."""
AMOUNT = re.compile(r"(−?)Rp ([0-9.]+)(?:,([0-9]{2}))?")

pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils missing")


# --- helpers ------------------------------------------------------------------------------


async def issue(charity: Org, body: dict, role: str = "admin", key: str | None = None):  # type: ignore[no-untyped-def]
    return await charity.post("/statements", body, role, key)


def pdfsig(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


def amounts(line: str) -> list[int]:
    """The IDR amounts printed on a line, in minor units ("−Rp 1.250.000,50" → -125000050)."""
    found = []
    for sign, whole, cents in AMOUNT.findall(line):
        value = int(whole.replace(".", "")) * 100 + int(cents or 0)
        found.append(-value if sign else value)
    return found


def line_with(text: str, needle: str) -> str:
    matches = [line for line in text.splitlines() if needle in line]
    assert matches, f"no line with {needle!r} in the PDF text"
    return matches[0]


async def populate(charity: Org) -> dict[str, int]:
    """Two funds, two beneficiaries, money of every kind, a correction; returns indexes."""
    await charity.fund()
    await charity.fund("zakat-2026", fee_cap_bps=0)
    await charity.beneficiary()
    await charity.beneficiary("lksa-kasih")
    first = await charity.donate(125_000_000, donor={"public_name": "Siti A."})
    await charity.donate(80_000_000, fund="zakat-2026")
    wrong = await charity.donate(7_000_000)
    r = await charity.disburse(50_000_000)
    assert r.status_code == 201, r.text
    r = await charity.disburse(20_000_000, fund="zakat-2026", to="lksa-kasih")
    assert r.status_code == 201, r.text
    fee = {
        "fund": "senyum-2026",
        "amount": 5_000_000,
        "currency": "IDR",
        "charged_on": TODAY.isoformat(),
        "description": "Biaya payment gateway",
    }
    await charity.ok("/fees", fee)
    transfer = {
        "from_fund": "senyum-2026",
        "to_fund": "zakat-2026",
        "amount": 10_000_000,
        "currency": "IDR",
        "transferred_on": TODAY.isoformat(),
        "reason": "Realokasi",
    }
    await charity.ok("/transfers", transfer)
    correction = await charity.ok(
        "/corrections", {"corrects": wrong["index"], "reason": "Nominal salah ketik"}
    )
    return {"first": first["index"], "wrong": wrong["index"], "correction": correction["index"]}


# --- the figures ---------------------------------------------------------------------------


@pdftotext
async def test_pdf_totals_equal_balances_json_and_csv(charity, store, tmp_path):
    await populate(charity)
    meta = await charity.statement(CURRENT)
    assert meta["id"] == 1 and meta["previous"] is None and meta["provisional"] is True
    assert meta["start"] == 0 and meta["checkpoint_size"] >= meta["end"] == meta["entry_index"]
    end = meta["end"]

    api = (await charity.client.get(charity.url(f"/balances?as_of={end}"))).json()
    api_closing = {(b["account"], b["currency"]): b["amount"] for b in api["balances"]}
    doc = statements._decode_document(await charity.statement_file(1, "json"))
    json_closing = {(b.account, b.currency): b.amount for b in doc.closing_balances}
    assert json_closing == api_closing

    # The PDF prints every account's closing balance in the trial balance, and each
    # fund's movements; both equal the API and the JSON.
    for lang in ("id", "en"):
        text = pdf_text(await charity.statement_file(1, f"pdf?lang={lang}"), tmp_path)
        for (account, _), amount in api_closing.items():
            opening, movement, closing = amounts(line_with(text, f"{account} · "))
            assert (opening, closing) == (0, amount) and movement == amount
        funds = doc.totals.funds
        labels = {"id": ("+ Donasi", "− Penyaluran", "− Biaya"), "en": ("+ Donations",)}
        for label, field in zip(labels[lang], ("donations", "disbursements", "fees"), strict=False):
            assert amounts(line_with(text, label)) == [getattr(f, field) for f in funds]
        closing_label = "= Saldo akhir" if lang == "id" else "= Closing balance"
        assert amounts(line_with(text, closing_label)) == [
            api_closing[(f"fund:{f.code}", "IDR")] for f in funds
        ]
    assert [(f.code, f.donations, f.fees, f.over_cap) for f in doc.totals.funds] == [
        ("senyum-2026", 125_000_000, 5_000_000, False),
        ("zakat-2026", 80_000_000, 0, False),
    ]
    assert {(b.key, b.amount) for b in doc.totals.beneficiaries} == {
        ("lksa-harapan", 50_000_000),
        ("lksa-kasih", 20_000_000),
    }
    assert [(p.key, p.amount, p.share_bps) for p in doc.totals.purposes] == [
        ("food", 70_000_000, 10_000)
    ]
    assert doc.totals.funds[0].overhead_bps == 400  # 5,000,000 / 125,000,000

    # The CSV carries the same facts: balances, totals, and entries that add up to them.
    rows = list(csv.DictReader(io.StringIO((await charity.statement_file(1, "csv")).decode())))
    csv_closing = {
        (r["name"], r["currency"]): int(r["amount"])
        for r in rows
        if r["section"] == "closing_balance"
    }
    assert csv_closing == api_closing
    for f in doc.totals.funds:
        metric = {
            r["kind"]: int(r["amount"])
            for r in rows
            if r["section"] == "fund_total" and r["name"] == f.code
        }
        assert metric["donations"] == f.donations and metric["closing"] == f.closing
        donated = sum(
            int(r["amount"])
            for r in rows
            if r["section"] == "entry"
            and r["fund"] == f.code
            and "donation" in (r["kind"], r["name"])
        )
        assert donated == f.donations
    entry_indexes = sorted(int(r["index"]) for r in rows if r["section"] == "entry")
    assert entry_indexes == list(range(meta["start"], end))  # every index, exactly once
    last = (await charity.client.get(charity.url(f"/log/entries/{end - 1}"))).json()
    [newest] = [e for e in doc.entries if e.index == end - 1]
    assert newest.time == last["document"]["time"]  # the log's own time text
    await assert_log_verifies(store)


async def test_signature_validates_and_tampering_is_detected(charity, store, tmp_path):
    await populate(charity)
    meta = await charity.statement(CURRENT)
    cert = await charity.cert_der()
    pdf = await charity.statement_file(meta["id"], "pdf?lang=en")
    result = await validate(pdf, cert)
    assert result.trustworthy and result.signer_common_name == "Yayasan Senyum Anak"
    if shutil.which("pdfsig"):
        out = pdfsig(pdf, tmp_path)
        assert "Signature is Valid." in out and "Total document signed" in out

    tampered = bytearray(pdf)
    tampered[len(pdf) // 3] ^= 1
    broken = await validate(bytes(tampered), cert)
    assert not broken.intact and not broken.trustworthy

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.root["/Lang"] = generic.TextStringObject("fr-FR")
    writer.update_root()
    appended = io.BytesIO()
    writer.write(appended)
    updated = appended.getvalue()
    assert updated.startswith(pdf)
    after = await validate(updated, cert)
    assert after.intact and not after.covers_whole_file and not after.trustworthy
    if shutil.which("pdfsig"):
        assert "Total document signed" not in pdfsig(updated, tmp_path)
    await assert_log_verifies(store)


async def test_entry_commits_to_the_bytes_served_and_they_never_change(charity, store):
    await populate(charity)
    meta = await charity.statement(CURRENT)
    entry = (await charity.client.get(charity.url(f"/log/entries/{meta['entry_index']}"))).json()
    assert entry["kind"] == "statement.issued"
    body = entry["document"]["body"]
    assert body["statement"] == 1 and body["previous"] is None
    assert (body["start"], body["end"]) == (meta["start"], meta["end"])
    assert body["scope"] == {"fund": None, "beneficiary": None}
    assert (body["from"], body["to"]) == (CURRENT["from"], CURRENT["to"])
    assert body["checkpoint_size"] == meta["checkpoint_size"]
    cp = (await charity.client.get(charity.url(f"/log/checkpoints/{body['checkpoint_size']}"))).text
    assert cp.split("\n")[2] == body["checkpoint_root"] == meta["checkpoint_root"]
    served = {
        "pdf_id": await charity.statement_file(1, "pdf?lang=id"),
        "pdf_en": await charity.statement_file(1, "pdf"),  # default language: id
        "json": await charity.statement_file(1, "json"),
    }
    served["pdf_en"] = await charity.statement_file(1, "pdf?lang=en")
    for name, content in served.items():
        assert body["sha256"][name] == hashlib.sha256(content).hexdigest() == meta["sha256"][name]

    # Later requests return the same bytes, with a strong ETag and immutable caching.
    r = await charity.client.get(charity.url("/statements/1/pdf?lang=id"))
    assert r.content == served["pdf_id"]
    assert "immutable" in r.headers["cache-control"]
    again = await charity.client.get(
        charity.url("/statements/1/pdf?lang=id"), headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304
    r = await charity.client.get(charity.url("/statements/1/csv"))
    assert (
        r.headers["content-type"].startswith("text/csv")
        and "immutable" in r.headers["cache-control"]
    )
    assert (await charity.client.get(charity.url("/statements/1/csv"))).content == r.content
    assert (await charity.client.get(charity.url("/statements/1"))).json() == meta
    await assert_log_verifies(store)


async def test_rendering_is_deterministic(charity, store):
    await populate(charity)
    services = charity.client.app.state.services
    org = await services.organization(charity.slug)
    request = StatementRequest(from_=TODAY, to=TODAY + DAY)
    now = dt.datetime.now(dt.UTC)
    first = await statements.gather(store, org, services.kek, request, now=now, public_url="x")
    second = await statements.gather(store, org, services.kek, request, now=now, public_url="x")
    assert first.json == second.json
    for lang in ("id", "en"):
        a = await asyncio.to_thread(render_statement, first.data, lang, now=now)
        b = await asyncio.to_thread(render_statement, second.data, lang, now=now)
        assert a == b
        later = now + dt.timedelta(minutes=1)
        assert await asyncio.to_thread(render_statement, first.data, lang, now=later) != a


async def test_successive_statements_are_linked_by_a_consistency_proof(charity, store):
    await populate(charity)
    one = await charity.statement(CURRENT)
    await charity.donate(3_000_000)
    two = await charity.statement(CURRENT)
    assert (two["id"], two["previous"]) == (2, 1)
    # It starts where statement 1 (same scope) ended and lists statement 1's entry.
    assert two["start"] == one["end"] and two["end"] > one["entry_index"]
    doc = statements._decode_document(await charity.statement_file(2, "json"))
    assert doc.previous is not None and doc.consistency is not None
    old, new = doc.previous.checkpoint, doc.checkpoint
    assert (doc.consistency.old_size, doc.consistency.new_size) == (old.size, new.size)
    proof = [base64.b64decode(h) for h in doc.consistency.proof]
    merkle.verify_consistency(
        old.size, new.size, base64.b64decode(old.root), base64.b64decode(new.root), proof
    )
    keys = [
        parse_vkey(v) for v in (await charity.client.get(charity.url("/log/keys"))).text.split()
    ]
    offline.verify_consistency(old.note, new.note, proof, keys)

    # The same proof travels inside the signed PDF, ready for `ledger-verify consistency`.
    files = read_attachments(await charity.statement_file(2, "pdf?lang=en"))
    name = f"consistency-{old.size}-{new.size}.txt"
    attached = [base64.b64decode(x) for x in files[name].split()]
    checked = offline.verify_consistency(
        files[f"checkpoint-{old.size}.txt"].decode(),
        files[f"checkpoint-{new.size}.txt"].decode(),
        attached,
        keys,
    )
    assert checked[1].size == new.size
    assert files["statement-2.json"] == await charity.statement_file(2, "json")
    bad = [*proof[:-1], bytes(32)] if proof else [bytes(32)]
    with pytest.raises(ConsistencyProofError):
        merkle.verify_consistency(
            old.size, new.size, base64.b64decode(old.root), base64.b64decode(new.root), bad
        )
    await assert_log_verifies(store)


@pdftotext
async def test_provisional_flag(charity, store, tmp_path):
    await populate(charity)
    current = await charity.statement(CURRENT)
    assert current["provisional"] is True
    text = pdf_text(await charity.statement_file(1, "pdf?lang=id"), tmp_path)
    pages = text.count("\f")
    assert "SEMENTARA · PROVISIONAL" in text and pages > 1
    for page in range(1, pages + 1):
        assert f"Halaman {page} dari {pages}" in text

    past = await charity.statement({"from": (TODAY - DAY).isoformat(), "to": TODAY.isoformat()})
    assert past["provisional"] is False and past["start"] == current["end"]
    doc = statements._decode_document(await charity.statement_file(2, "json"))
    assert [e.kind for e in doc.entries] == ["statement.issued"]  # no money moved yesterday
    text = pdf_text(await charity.statement_file(2, "pdf?lang=en"), tmp_path)
    assert "PROVISIONAL" not in text

    # The same period seen from tomorrow (injected clock) is final and has every entry.
    services = charity.client.app.state.services
    org = await services.organization(charity.slug)
    request = StatementRequest(from_=TODAY, to=TODAY + DAY)
    tomorrow = dt.datetime.combine(TODAY + DAY, dt.time(1), tzinfo=dt.UTC)
    reply = await statements.issue(services, org, request, "final", b"\0" * 32, now=tomorrow)
    final = statements._decode_document(await charity.statement_file(3, "json"))
    assert reply.status == 201 and final.provisional is False
    assert final.range.end == (await store.head(org.id)).size - 1  # all but its own entry
    text = pdf_text(await charity.statement_file(3, "pdf?lang=id"), tmp_path)
    assert "SEMENTARA" not in text
    await assert_log_verifies(store)


async def test_scope_by_fund_and_by_beneficiary(charity, store):
    await populate(charity)
    by_fund = await charity.statement({**CURRENT, "fund": "zakat-2026"})
    assert by_fund["scope"] == {"fund": "zakat-2026", "beneficiary": None}
    doc = statements._decode_document(await charity.statement_file(by_fund["id"], "json"))
    assert doc.entries and all("zakat-2026" in (e.fund, e.to_fund) for e in doc.entries)
    assert [b.account for b in doc.closing_balances] == ["fund:zakat-2026"]
    [zakat] = doc.totals.funds
    assert (zakat.donations, zakat.disbursements, zakat.transfers_in) == (
        80_000_000,
        20_000_000,
        10_000_000,
    )
    assert zakat.closing == 70_000_000 == doc.closing_balances[0].amount

    by_beneficiary = await charity.statement({**CURRENT, "beneficiary": "lksa-harapan"})
    doc = statements._decode_document(await charity.statement_file(by_beneficiary["id"], "json"))
    assert [(e.kind, e.beneficiary, e.amount) for e in doc.entries] == [
        ("disbursement", "lksa-harapan", 50_000_000)
    ]
    assert [b.account for b in doc.closing_balances] == ["beneficiary:lksa-harapan"]
    assert [(f.code, f.disbursements, f.opening) for f in doc.totals.funds] == [
        ("senyum-2026", 50_000_000, None)
    ]
    both = await issue(charity, {**CURRENT, "fund": "zakat-2026", "beneficiary": "lksa-kasih"})
    assert both.status_code == 422
    unknown = await issue(charity, {**CURRENT, "fund": "nope"})
    assert unknown.status_code == 422 and "nope" in unknown.json()["detail"]
    await assert_log_verifies(store)


@pdftotext
async def test_corrections_are_listed_next_to_what_they_correct(charity, store, tmp_path):
    ix = await populate(charity)
    await charity.statement(CURRENT)
    doc = statements._decode_document(await charity.statement_file(1, "json"))
    by_index = {e.index: e for e in doc.entries}
    assert by_index[ix["wrong"]].corrected_by == ix["correction"]
    correction = by_index[ix["correction"]]
    assert (correction.corrects, correction.corrected_kind, correction.amount) == (
        ix["wrong"],
        "donation",
        7_000_000,
    )
    lines = pdf_text(await charity.statement_file(1, "pdf?lang=id"), tmp_path).splitlines()
    row = next(n for n, line in enumerate(lines) if re.match(rf"\s*{ix['wrong']}\s+\d\d/", line))
    assert f"dikoreksi oleh #{ix['correction']}" in lines[row + 1]
    assert re.match(rf"\s*{ix['correction']}\s+\d\d/.*Koreksi", lines[row + 2])
    assert "−Rp 70.000" in lines[row + 2]
    assert f"koreksi atas #{ix['wrong']}" in lines[row + 3]

    # A correction of an entry from before its range shows what it reverses.
    r = await charity.disburse(30_000_000)
    late = await charity.ok(
        "/corrections", {"corrects": r.json()["index"], "reason": "Transfer ditolak bank"}
    )
    org = await store.organization(charity.slug)
    async with store.connection() as conn, conn.transaction(readonly=True):
        versions = await beneficiary_versions(conn, org.id, late["index"])
        names = EntryNames([], [(v.code, v.entry_idx, v.name) for v in versions])
        rows = await entries_at(conn, org.id, [late["index"]])
        [entry] = await statements._statement_entries(conn, org.id, rows, names, {})
    assert (entry.kind, entry.corrects, entry.corrected_kind) == (
        "correction",
        r.json()["index"],
        "disbursement",
    )
    assert (entry.counterparty, entry.beneficiary, entry.purpose, entry.amount) == (
        "LKSA lksa-harapan",
        "lksa-harapan",
        "food",
        30_000_000,
    )
    await assert_log_verifies(store)


async def test_roles_idempotency_and_listing(charity, store):
    await charity.fund()
    await charity.donate(1_000_000)
    for role in ("recorder", "auditor"):
        assert (await issue(charity, CURRENT, role)).status_code == 403
    r = await charity.client.post(charity.url("/statements"), json=CURRENT, headers=idem())
    assert r.status_code == 401
    first = await issue(charity, CURRENT, key="stmt-1")
    assert first.status_code == 201
    replay = await issue(charity, CURRENT, key="stmt-1")
    assert replay.status_code == 201 and replay.headers["idempotency-replayed"] == "true"
    assert replay.json() == first.json()
    other = {**CURRENT, "fund": "senyum-2026"}
    assert (await issue(charity, other, key="stmt-1")).status_code == 422
    no_key = await charity.client.post(
        charity.url("/statements"), json=CURRENT, headers=auth(charity.keys["admin"])
    )
    assert no_key.status_code == 422
    backwards = {"from": CURRENT["to"], "to": CURRENT["from"]}
    assert (await issue(charity, backwards)).status_code == 422
    future = {"from": (TODAY + 2 * DAY).isoformat(), "to": (TODAY + 3 * DAY).isoformat()}
    assert (await issue(charity, future)).status_code == 422
    assert (await issue(charity, {**CURRENT, "extra": 1})).status_code == 400
    await charity.statement(CURRENT)
    await charity.statement({**CURRENT, "fund": "senyum-2026"})

    # Anyone lists (cursor pagination) and downloads; no key is needed.
    page = (await charity.client.get(charity.url("/statements?limit=2"))).json()
    assert [s["id"] for s in page["items"]] == [1, 2] and page["has_more"]
    cursor = page["next_cursor"]
    rest = (await charity.client.get(charity.url(f"/statements?cursor={cursor}"))).json()
    assert [s["id"] for s in rest["items"]] == [3] and not rest["has_more"]
    assert rest["items"][0]["previous"] == 2
    for path in ("/statements/3", "/statements/3/pdf?lang=en", "/statements/3/json"):
        assert (await charity.client.get(charity.url(path))).status_code == 200
        with_key = await charity.client.get(
            charity.url(path), headers=auth(charity.keys["auditor"])
        )
        assert with_key.status_code == 200
    assert (await charity.client.get(charity.url("/statements/9/pdf"))).status_code == 404
    assert (await charity.client.get(charity.url("/statements/9/csv"))).status_code == 404
    assert (await charity.client.get(charity.url("/statements/1/pdf?lang=fr"))).status_code == 400
    await assert_log_verifies(store)


async def test_two_statements_at_once_cannot_take_the_same_number(charity, store):
    await charity.fund()
    await charity.donate(1_000_000)
    results = await asyncio.gather(issue(charity, CURRENT), issue(charity, CURRENT))
    codes = sorted(r.status_code for r in results)
    assert codes in ([201, 201], [201, 409]), [r.text for r in results]
    listed = (await charity.client.get(charity.url("/statements"))).json()["items"]
    assert [(s["id"], s["previous"]) for s in listed] == [(1, None), (2, 1)][: codes.count(201)]
    await assert_log_verifies(store)
