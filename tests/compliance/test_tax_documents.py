"""Tax receipts and the reports for the tax office (issue 18, item 1), against the month of
tests/compliance/scenario.py with donors who gave an NPWP or a NIK and their full name.

Every report line is recomputed from the entries and postings; the signed PDFs validate in
pyHanko and poppler's pdfsig; the donors' personal data is in none of the log's bytes and no
public answer; erasure takes it out of later receipts and reports; refusals say what is
missing, in English and Indonesian."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from reports.pdf.attachments import read_attachments
from tests.apikit import Org, assert_problem, auth, pdf_text, validate
from tests.compliance.scenario import DISASTER, GENERAL, PROFILE, ZAKAT, Month, record_month
from tests.conftest import run_ledger
from tests.logkit import assert_log_verifies

ORG_NPWP_PRINTED = "01.234.567.8-901.000"
ID_LANG = {"Accept-Language": "id"}
NAMES = ("Satu", "Dua", "Tiga", "Empat", "Lima", "Enam", "Tujuh")


def donor_of(fund: str, i: int) -> dict[str, Any]:
    """Every third donor gives an NPWP, every third a NIK, the rest nothing of tax; 7 donors
    per kind give several gifts (i % 7), so per-donor sums have something to add."""
    if i % 3 == 2:
        return {"public_name": "Hamba Allah"} if i % 2 else {}
    k = i % 7
    donor: dict[str, Any] = {
        "full_name": f"Wajib Pajak {NAMES[k]} {i % 3}",
        "email": f"wp{k}-{i % 3}@{fund}.example.id",
    }
    if i % 3 == 0:
        donor["npwp"] = f"09.876.543.{k}-210.00{k}"  # dots and dashes: kept as digits
    else:
        donor["nik"] = f"32730123456700{k:02d}"
    return donor


def tax_id(d: dict[str, Any]) -> str:
    donor = d["donor"]
    if "npwp" in donor:
        return "".join(ch for ch in donor["npwp"] if ch.isdigit())
    return donor.get("nik", "")


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def pdfsig(pdf: bytes, folder: Path) -> str:
    path = folder / "signed.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


async def check_signed(charity: Org, pdf: bytes, folder: Path) -> None:
    """Trustworthy in pyHanko; valid and covering the whole file in poppler's pdfsig."""
    result = await validate(pdf, await charity.cert_der())
    assert result.trustworthy, result
    out = pdfsig(pdf, folder)
    assert "Signature is Valid." in out and "Total document signed" in out, out


async def get(charity: Org, path: str, role: str = "auditor", **headers: str):  # type: ignore[no-untyped-def]
    return await charity.client.get(charity.url(path), headers=auth(charity.keys[role], **headers))


async def correct(charity: Org, index: int, reason: str = "transfer gagal") -> int:
    body = {"corrects": index, "reason": reason, "effective_on": "2026-11-30"}
    return (await charity.ok("/corrections", body))["index"]


@pytest.fixture
async def month(charity: Org) -> Month:
    return await record_month(charity, per_fund=1000, donor=donor_of)


async def test_reports_equal_what_the_entries_and_postings_say(
    charity: Org, month: Month, store, owner, tmp_path
):
    m = month
    reversed_zakat = m.donations[ZAKAT][3]  # an NPWP donor's gift, reversed now
    correction = await correct(charity, reversed_zakat["index"])

    # --- the zakat report of 2026 (value dates in October and November) -------------------
    r = await get(charity, "/tax-reports/zakat/2026/csv")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "private, no-store"
    rows = rows_of(r.text)
    counted = [d for d in m.donations[ZAKAT] if d["index"] != reversed_zakat["index"]]
    assert [int(x["entry_index"]) for x in rows] == [
        d["index"] for d in sorted(counted, key=lambda d: (d["received_on"], d["index"]))
    ]
    by_index = {d["index"]: d for d in counted}
    for n, row in enumerate(rows, start=1):
        d = by_index[int(row["entry_index"])]
        assert row["no"] == str(n)
        assert row["receipt_number"] == f"BSZ/2026/{d['index']}"
        assert row["value_date"] == d["received_on"]
        assert int(row["amount"]) == d["amount"] and row["currency"] == "IDR"
        assert row["amount_decimal"] == f"{d['amount'] // 100}.{d['amount'] % 100:02d}"
        assert row["fund"] == ZAKAT
        assert row["donor_id"] == tax_id(d)
        assert row["donor_id_type"] == ("NPWP" if "npwp" in d["donor"] else "NIK" if tax_id(d) else "")
        assert row["donor_name"] == d["donor"].get("full_name", "")
    # Per donor: the sum of their rows is the sum of their unreversed donations.
    per_donor: dict[str, int] = defaultdict(int)
    for row in rows:
        per_donor[row["donor_id"]] += int(row["amount"])
    expected: dict[str, int] = defaultdict(int)
    for d in counted:
        expected[tax_id(d)] += d["amount"]
    assert per_donor == expected and len(expected) == 15  # 14 tax ids and "" (none given)
    # The total is the fund's raised, and the sum of the donation lines the postings hold.
    total = sum(int(x["amount"]) for x in rows)
    assert total == (await charity.fund_view(ZAKAT))["raised"]
    org = await store.organization(charity.slug)
    posted = await owner.fetchval(
        "SELECT sum(p.amount) FROM postings p JOIN entries e ON e.org_id = p.org_id "
        "AND e.idx = p.entry_idx WHERE p.org_id = $1 AND p.account = $2 "
        "AND (e.kind = 'donation' OR (e.kind = 'correction' AND e.idx = $3))",
        org.id,
        f"fund:{ZAKAT}",
        correction,
    )
    assert total == posted

    # The signed PDF: valid, its attached CSV is the CSV route's, its text the same figures.
    for lang, title, total_text in (
        ("id", "Laporan Penerimaan Zakat Tahun 2026", "JUMLAH DITERIMA"),
        ("en", "Zakat Receipts Report 2026", "TOTAL RECEIVED"),
    ):
        r = await get(charity, f"/tax-reports/zakat/2026/pdf?lang={lang}")
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        await check_signed(charity, r.content, tmp_path)
        files = read_attachments(r.content)
        assert files["zakat-2026.csv"].decode() == (await get(charity, "/tax-reports/zakat/2026/csv")).text
        text = pdf_text(r.content, tmp_path, f"zakat-{lang}.pdf")
        assert title in text and total_text in text
        assert f"Rp {total // 100:,}".replace(",", ".") in text
        assert ORG_NPWP_PRINTED in text and PROFILE["legal_name"] in text
        assert f"BSZ/2026/{rows[0]['entry_index']}" in text
        assert "09.876.543.0-210.000" in text  # a donor's NPWP, as printed
        reversed_line = next(x for x in text.splitlines() if f"#{correction}" in x)
        assert reversed_line  # the reversed gift is listed apart, with its correction
        if lang == "id":
            assert "14 Januari 2027" in text  # due 14 days after the year ends
            assert "dibatalkan" in text
    # --- the disaster report of the fourth quarter ----------------------------------------
    r = await get(charity, "/tax-reports/disaster/2026/4/csv")
    assert r.status_code == 200, r.text
    rows = rows_of(r.text)
    assert sum(int(x["amount"]) for x in rows) == (await charity.fund_view(DISASTER))["raised"]
    assert {x["fund"] for x in rows} == {DISASTER}
    assert all(x["receipt_number"].startswith("BSP/2026/") for x in rows)
    assert len(rows) == len(m.donations[DISASTER])
    # The third quarter has none of them; its report is empty but still valid.
    r = await get(charity, "/tax-reports/disaster/2026/3/csv")
    assert r.status_code == 200 and rows_of(r.text) == []
    r = await get(charity, "/tax-reports/disaster/2026/4/pdf?lang=en")
    await check_signed(charity, r.content, tmp_path)
    text = pdf_text(r.content, tmp_path, "disaster-en.pdf")
    assert "Quarter 4 of 2026" in text and "1 October 2026" in text
    await assert_log_verifies(store)


async def test_tax_receipts_in_both_languages_and_the_refusals(charity: Org, store, tmp_path):
    m = await record_month(charity, per_fund=500, donor=donor_of)
    zakat = m.donations[ZAKAT][0]  # an NPWP donor, 25,000 IDR
    r = await get(charity, f"/donations/{zakat['index']}/tax-receipt.pdf?lang=id")
    assert r.status_code == 200, r.text
    await check_signed(charity, r.content, tmp_path)
    files = read_attachments(r.content)
    assert f"receipt-{zakat['index']}.tlog-proof" in files
    text = pdf_text(r.content, tmp_path, "bsz-id.pdf")
    for needed in (
        "Bukti Setor Zakat",
        f"BSZ/2026/{zakat['index']}",
        "Rp 25.000",
        "dua puluh lima ribu rupiah",
        zakat["donor"]["full_name"],
        "09.876.543.0-210.000",
        PROFILE["legal_name"],
        ORG_NPWP_PRINTED,
        PROFILE["zakat_license"],
        "PMK 114/2025",
        f"entri {zakat['index']}",
    ):
        assert needed in text, (needed, text)
    r = await get(charity, f"/donations/{zakat['index']}/tax-receipt.pdf?lang=en")
    text = pdf_text(r.content, tmp_path, "bsz-en.pdf")
    assert "Zakat Payment Receipt" in text and "twenty-five thousand rupiah" in text
    # A NIK donor's gift to the disaster fund: the PP 93/2010 receipt with the 5% cap.
    gift = m.donations[DISASTER][1]
    r = await get(charity, f"/donations/{gift['index']}/tax-receipt.pdf")
    assert r.status_code == 200, r.text
    await check_signed(charity, r.content, tmp_path)
    text = pdf_text(r.content, tmp_path, "bsp-id.pdf")
    assert f"BSP/2026/{gift['index']}" in text and gift["donor"]["nik"] in text
    assert "5% (lima persen)" in text and "penanggulangan bencana" in text
    assert "Rp 26.500" in text and "dua puluh enam ribu lima ratus rupiah" in text

    # The donor's own page (opened by their receipt code) offers it; an anonymous gift's
    # page does not, and a wrong code finds nothing.
    for gift_index, offered in ((zakat["index"], True), (m.donations[ZAKAT][2]["index"], False)):
        link = (await get(charity, f"/donations/{gift_index}/receipt-link")).json()
        path = link["url"].removeprefix("https://transparansi.example")
        page = await charity.client.get(path)
        assert page.status_code == 200 and ('id="download-tax-pdf"' in page.text) is offered
        if offered:
            assert "Unduh bukti untuk pajak" in page.text
            r = await charity.client.get(path + "/tax-receipt.pdf")
            assert r.status_code == 200 and r.headers["cache-control"].startswith("private")
            await check_signed(charity, r.content, tmp_path)
            assert zakat["donor"]["full_name"] in pdf_text(r.content, tmp_path, "mine.pdf")
            wrong = path.rsplit("/", 1)[0] + "/NOTTHECODE/tax-receipt.pdf"
            assert (await charity.client.get(wrong)).status_code == 404

    # Refusals, each naming what is missing, in English and in Indonesian.
    reversed_one = m.donations[ZAKAT][6]
    correction = await correct(charity, reversed_one["index"], "dicatat dua kali")
    r = await get(charity, f"/donations/{reversed_one['index']}/tax-receipt.pdf")
    body = assert_problem(r, 409, f"reversed by entry {correction}", "gets no tax receipt")
    assert body["type"] == "/problems/donation-reversed"
    r = await get(charity, f"/donations/{reversed_one['index']}/tax-receipt.pdf", **ID_LANG)
    assert_problem(r, 409, f"dibatalkan oleh entri {correction}", "dicatat dua kali")
    general = m.donations[GENERAL][0]
    r = await get(charity, f"/donations/{general['index']}/tax-receipt.pdf")
    body = assert_problem(r, 422, f"fund {GENERAL} had no tax category")
    assert body["type"] == "/problems/not-deductible"
    anonymous = m.donations[ZAKAT][2]
    r = await get(charity, f"/donations/{anonymous['index']}/tax-receipt.pdf")
    body = assert_problem(r, 422, "gave no NPWP or NIK, nor full name")
    assert body["type"] == "/problems/tax-identity-missing"
    r = await get(charity, f"/donations/{anonymous['index']}/tax-receipt.pdf", **ID_LANG)
    assert_problem(r, 422, "tidak memberikan NPWP atau NIK, maupun nama lengkap")
    r = await get(charity, f"/donations/{m.fees[0]['index']}/tax-receipt.pdf")
    assert_problem(r, 404, "not a donation")
    # A donation without a full name, and one with a name only.
    no_name = await charity.ok(
        "/donations",
        {**{k: zakat[k] for k in ("fund", "amount", "currency", "received_on", "channel")},
         "reference": "ZK-NO-NAME", "donor": {"npwp": "012345678901000"}},
    )  # fmt: skip
    r = await get(charity, f"/donations/{no_name['index']}/tax-receipt.pdf")
    assert_problem(r, 422, "gave no full name")
    # A recorder may not fetch it (personal data): 403.
    r = await get(charity, f"/donations/{zakat['index']}/tax-receipt.pdf", role="recorder")
    assert r.status_code == 403
    # An organization profile without an NPWP: no receipt, no report.
    await charity.ok("/profile", {"legal_name": PROFILE["legal_name"]}, "admin")
    r = await get(charity, f"/donations/{zakat['index']}/tax-receipt.pdf")
    assert_problem(r, 422, "profile has no NPWP")
    r = await get(charity, "/tax-reports/zakat/2026/csv", **ID_LANG)
    assert_problem(r, 422, "profil organisasi belum memuat NPWP")
    r = await get(charity, "/tax-reports/disaster/2026/5/csv")
    assert r.status_code == 400
    await assert_log_verifies(store)


async def test_the_tax_identity_stays_off_the_log_and_public_answers_and_is_erasable(
    charity: Org, store, tmp_path, db_url, kek
):
    m = await record_month(charity, per_fund=500, donor=donor_of)
    zakat = m.donations[ZAKAT][0]
    secrets = {zakat["donor"]["full_name"], "0987654300210000"[:15], "098765430210000"}
    nik_donor = m.donations[ZAKAT][1]
    secrets |= {nik_donor["donor"]["nik"], nik_donor["donor"]["full_name"]}
    # The log's bytes, as anyone exports them, and the public pages and lists.
    public = [
        await charity.client.get(charity.url("/log/export")),
        await charity.client.get(charity.url("/entries?limit=1000")),
        await charity.client.get(charity.url(f"/log/entries/{zakat['index']}")),
        await charity.client.get(charity.url(f"/funds/{ZAKAT}")),
        await charity.client.get(f"/orgs/{charity.slug}/entries/{zakat['index']}"),
        await charity.client.get(f"/orgs/{charity.slug}/funds/{ZAKAT}"),
        await charity.client.get(f"/orgs/{charity.slug}"),
    ]
    for r in public:
        assert r.status_code == 200, r.text
        for secret in secrets:
            assert secret not in r.text, (secret, str(r.url))
    async with store.connection() as conn:
        bodies = await conn.fetch(
            "SELECT body FROM entries WHERE org_id = (SELECT id FROM organizations "
            "WHERE slug = $1)",
            charity.slug,
        )
    log_bytes = b"".join(bytes(b["body"]) for b in bodies)
    for secret in secrets:
        assert secret.encode() not in log_bytes
    # The auditor's donor record has it (digits only), under the commitment the receipt opens.
    record = (await get(charity, f"/donations/{zakat['index']}/donor")).json()
    assert record["personal"]["npwp"] == "098765430210000"
    assert record["personal"]["full_name"] == zakat["donor"]["full_name"]
    from ledger.verify.offline import verify_receipt

    proven = verify_receipt(await charity.receipt(zakat["index"]), await charity.verifiers())
    assert proven.donor_opened is True

    # Erasure (by the e-mail the donor gave): every later receipt and report forgets them.
    r = await charity.post("/donors/erase", {"email": zakat["donor"]["email"]}, role="admin")
    assert r.status_code == 200, r.text
    r = await get(charity, f"/donations/{zakat['index']}/tax-receipt.pdf")
    assert_problem(r, 422, "was erased on")
    rows = rows_of((await get(charity, "/tax-reports/zakat/2026/csv")).text)
    row = next(x for x in rows if int(x["entry_index"]) == zakat["index"])
    assert row["donor_id"] == "" and row["donor_name"] == ""  # still counted, nobody named
    assert int(row["amount"]) == zakat["amount"]
    text = (await get(charity, "/tax-reports/zakat/2026/csv")).text
    assert zakat["donor"]["full_name"] not in text and "098765430210000" not in text

    # The command line writes the same reports: the CSV byte for byte, the PDF signed.
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "LEDGER_KEK": base64.b64encode(kek).decode(),
        "LEDGER_DATA_DIR": str(tmp_path),
        "LEDGER_PUBLIC_URL": "https://transparansi.example",
    }
    out = tmp_path / "zakat.csv"
    done = run_ledger(
        "report", "zakat", "--org", charity.slug, "--year", "2026", "--out", str(out), env=env
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == text.encode() and "wrote" in done.stdout and "donation(s)" in done.stderr
    out = tmp_path / "banjir.pdf"
    done = run_ledger(
        "report", "disaster", "--org", charity.slug, "--year", "2026", "--quarter", "4",
        "--out", str(out), "--lang", "en", "--json", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows"] == len(m.donations[DISASTER]) and summary["format"] == "pdf"
    assert summary["total"] == (await charity.fund_view(DISASTER))["raised"]
    assert summary["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    await check_signed(charity, out.read_bytes(), tmp_path)
    done = run_ledger(
        "report", "disaster", "--org", charity.slug, "--year", "2026", "--quarter", "4",
        "--out", str(out), env={**env, "LEDGER_KEK": ""},
    )  # fmt: skip
    assert done.returncode != 0
    await assert_log_verifies(store)


async def test_a_malformed_tax_identity_is_refused_with_its_form(charity: Org, store):
    await charity.fund()
    for donor, needle in (
        ({"npwp": "12.345"}, "npwp"),
        ({"nik": "3273 0123"}, "nik"),
        ({"npwp": "01-234-567-8901000x"}, "npwp"),
    ):
        r = await charity.post(
            "/donations",
            {"fund": "senyum-2026", "amount": 1000, "currency": "IDR",
             "received_on": "2026-11-01", "channel": "cash", "reference": f"X-{needle[:4]}",
             "donor": donor},
        )  # fmt: skip
        assert_problem(r, 400, needle)
    await assert_log_verifies(store)


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils missing")
async def test_pages_render(charity: Org, tmp_path):
    """Renders one receipt and one report page to PNG (kept in tmp_path for a look)."""
    m = await record_month(charity, per_fund=500, donor=donor_of)
    await correct(charity, m.donations[ZAKAT][-1]["index"])  # the last page lists it apart
    for name, path in (
        ("receipt", f"/donations/{m.donations[ZAKAT][0]['index']}/tax-receipt.pdf"),
        ("report", "/tax-reports/zakat/2026/pdf"),
    ):
        r = await get(charity, path)
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(r.content)
        subprocess.run(
            ["pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / name)],
            check=True,
        )
        assert any(p.name.startswith(name) and p.suffix == ".png" for p in tmp_path.iterdir())
