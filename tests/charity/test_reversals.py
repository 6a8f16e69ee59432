"""A reversed donation everywhere it is shown or proven (issue 13, "reversals everywhere").

One story runs through these tests: Siti gives Rp 250.000 (BCA-0001); a second transfer of
Rp 2.500 (BCA-0002) bounces and the charity reverses it with a correction. Every place that
shows or proves the Rp 2.500 gift must then say that it was reversed, by which entry, when
and why, and no total may count it: the API's entry views, the receipt JSON (with the
correction's proof), the receipt PDF, the public site (both ways), the annual receipt,
``ledger-verify``, ``POST /v1/verify`` and the browser verifier (tests/http/test_site_browser.py).
The bank reference of a reversed gift may then be recorded again; an unreversed one may not.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ledger.errors import VerificationError
from ledger.formats.note import parse_vkey
from ledger.verify.offline import verify_receipt
from reports.pdf.attachments import read_attachments
from tests.apikit import DONOR, auth, pdf_text
from tests.logkit import assert_log_verifies, offline_verify

REASON = "transfer ditolak bank"
EFFECTIVE = "2026-11-25"
"""The correction's value date, which every place shows as the reversal's day (it differs
from the day the correction is recorded, so a test cannot pass on the recording date)."""
EFFECTIVE_WORDS = "25 November 2026"  # the same words in Bahasa Indonesia and English
SCREENSHOTS = os.environ.get("LEDGER_SCREENSHOTS")


async def reversed_gift(charity) -> tuple[dict, dict, dict]:  # type: ignore[no-untyped-def]
    """The kept gift, the reversed gift and the correction (each as the API recorded it)."""
    await charity.fund()
    kept = await charity.donate(25_000_000, ref="BCA-0001", donor=DONOR)
    wrong = await charity.donate(250_000, ref="BCA-0002", donor=DONOR)
    correction = await charity.ok(
        "/corrections", {"corrects": wrong["index"], "reason": REASON, "effective_on": EFFECTIVE}
    )
    assert correction["time"][:10] != EFFECTIVE
    return kept, wrong, correction


def screenshot_pdf(path: Path, name: str) -> None:
    """Page 1 as PNG (pdftoppm -r 60), kept when LEDGER_SCREENSHOTS names a directory."""
    if SCREENSHOTS and shutil.which("pdftoppm"):
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        out = Path(SCREENSHOTS) / name
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(path), out],
            check=True,
        )


# --- API ------------------------------------------------------------------------------------


async def test_entry_views_say_reversed_by_which_entry_when_and_why(charity, store):
    kept, wrong, correction = await reversed_gift(charity)
    one = (await charity.client.get(charity.url(f"/log/entries/{wrong['index']}"))).json()
    assert one["reversed_by"]["index"] == correction["index"]
    assert one["reversed_by"]["reason"] == REASON
    assert one["reversed_by"]["time"].startswith(correction["time"][:10])
    assert one["reversed_by"]["effective_on"] == EFFECTIVE
    listed = (await charity.client.get(charity.url("/entries"))).json()["items"]
    by_index = {e["index"]: e for e in listed}
    assert by_index[wrong["index"]]["reversed_by"] == one["reversed_by"]
    assert by_index[kept["index"]]["reversed_by"] is None
    assert by_index[correction["index"]]["reversed_by"] is None
    assert by_index[correction["index"]]["document"]["body"]["corrects"] == wrong["index"]
    # The fund no longer counts it.
    fund = (await charity.client.get(charity.url("/funds/senyum-2026"))).json()
    assert fund["raised"] == 25_000_000
    await assert_log_verifies(store)


# --- receipt JSON, ledger-verify, POST /v1/verify -----------------------------------------


async def test_receipt_carries_the_reversal_proof_and_verifiers_report_it(
    charity, store, tmp_path
):
    kept, wrong, correction = await reversed_gift(charity)
    receipt = json.loads(await charity.receipt(wrong["index"]))
    assert receipt["reversal_proof"] is not None
    # The donation, its fund and its reversal are proven under one checkpoint, which covers
    # the correction.
    checkpoints = {receipt[k].split("\n\n", 1)[1] for k in ("tlog_proof", "fund_proof", "reversal_proof")}
    assert len(checkpoints) == 1
    keys = [parse_vkey((await charity.vkeys())[0])]
    proven = verify_receipt(json.dumps(receipt), keys)
    assert proven.reversal is not None and proven.reversal.index == correction["index"]
    assert proven.reversal.reason == REASON and proven.checkpoint.size > correction["index"]
    kept_receipt = json.loads(await charity.receipt(kept["index"]))
    assert kept_receipt["reversal_proof"] is None
    kept_proven = verify_receipt(json.dumps(kept_receipt), keys)
    assert kept_proven.reversal is None and kept_proven.reversal_checked

    def run(path: Path) -> subprocess.CompletedProcess:
        return offline_verify("receipt", str(path), "--vkey", vkey)

    vkey = (await charity.vkeys())[0]
    path = tmp_path / "reversed.json"
    path.write_text(json.dumps(receipt))
    out = run(path)
    assert out.returncode == 0, out.stdout
    assert out.stdout.startswith("PASS: ")
    assert (
        f"status: REVERSED by entry {correction['index']} on {EFFECTIVE} "
        f"({REASON}): this gift no longer counts" in out.stdout
    )
    assert "amount Rp 2.500 " in out.stdout
    path.write_text(json.dumps(kept_receipt))
    out = run(path)
    assert out.returncode == 0 and "status: counts" in out.stdout and "REVERSED" not in out.stdout

    # A reversal proof that is not this donation's reversal does not verify (exit 1).
    forged = dict(receipt, reversal_proof=receipt["fund_proof"])  # right checkpoint, wrong kind
    path.write_text(json.dumps(forged))
    out = run(path)
    assert out.returncode == 1 and "correction" in out.stdout, out.stdout
    with pytest.raises(VerificationError, match="corrects"):
        verify_receipt(json.dumps(dict(kept_receipt, reversal_proof=receipt["reversal_proof"])), keys)

    # POST /v1/verify: still ok (the gift is in the log), with the reversal as a status.
    result = (
        await charity.client.post(
            "/v1/verify", json={"receipt": json.dumps(receipt), "vkeys": [vkey]}
        )
    ).json()
    assert result["ok"] is True and result["status"] == "reversed"
    assert result["reversed_by"] == {
        "index": correction["index"],
        "time": proven.reversal.time,
        "effective_on": EFFECTIVE,
        "reason": REASON,
    }
    assert f"REVERSED by entry {correction['index']}" in result["detail"]
    counted = (
        await charity.client.post(
            "/v1/verify", json={"receipt": json.dumps(kept_receipt), "vkeys": [vkey]}
        )
    ).json()
    assert counted["ok"] is True and counted["status"] == "counts"
    assert counted["reversed_by"] is None
    bare = (
        await charity.client.post(
            "/v1/verify", json={"receipt": receipt["tlog_proof"], "vkeys": [vkey]}
        )
    ).json()
    assert bare["ok"] is True and bare["status"] == "unknown"
    forged_result = (
        await charity.client.post("/v1/verify", json={"receipt": json.dumps(forged), "vkeys": [vkey]})
    ).json()
    assert forged_result["ok"] is False and forged_result["status"] is None
    await assert_log_verifies(store)


# --- PDFs -----------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
@pytest.mark.parametrize(("lang", "banner", "words"), [("id", "DIBATALKAN", "Alasan"), ("en", "REVERSED", "Reason")])
async def test_receipt_pdf_of_a_reversed_gift_carries_the_banner(
    charity, store, tmp_path, lang, banner, words
):
    kept, wrong, correction = await reversed_gift(charity)
    url = charity.url(f"/donations/{wrong['index']}/receipt.pdf?lang={lang}")
    r = await charity.client.get(url, headers=auth(charity.keys["auditor"]))
    assert r.status_code == 200
    path = tmp_path / f"reversed-{lang}.pdf"
    text = pdf_text(r.content, tmp_path, path.name)
    screenshot_pdf(path, f"receipt-reversed-{lang}")
    flat = " ".join(text.split())
    assert banner in text and f"#{correction['index']}" in flat and REASON in flat
    assert EFFECTIVE_WORDS in flat, flat
    assert "Halaman 1 dari 1" in text or "Page 1 of 1" in text  # still one page
    assert words in text and "Rp 2.500" in text
    # The printed command names the attachment that proves the reversal as well.
    assert f"ledger-verify receipt receipt-{wrong['index']}.json" in flat
    attached = read_attachments(r.content)[f"receipt-{wrong['index']}.json"]
    assert json.loads(attached)["reversal_proof"] is not None
    kept_pdf = await charity.client.get(
        charity.url(f"/donations/{kept['index']}/receipt.pdf?lang={lang}"),
        headers=auth(charity.keys["auditor"]),
    )
    assert banner not in pdf_text(kept_pdf.content, tmp_path, "kept.pdf")
    await assert_log_verifies(store)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
@pytest.mark.parametrize("lang", ["id", "en"])
async def test_annual_receipt_leaves_the_reversed_gift_out_of_the_total(
    charity, store, tmp_path, lang
):
    _kept, wrong, correction = await reversed_gift(charity)
    r = await charity.client.post(
        charity.url("/annual-receipts"),
        headers=auth(charity.keys["auditor"]),
        json={"year": 2026, "email": DONOR["email"], "lang": lang},
    )
    assert r.status_code == 200, r.text
    path = tmp_path / f"annual-{lang}.pdf"
    text = pdf_text(r.content, tmp_path, path.name)
    screenshot_pdf(path, f"annual-reversed-{lang}")
    assert "Rp 250.000" in text and "Rp 252.500" not in text
    total_lines = [line for line in text.splitlines() if line.strip().startswith("Total")]
    assert total_lines and all("Rp 250.000" in line for line in total_lines), total_lines
    listed = "dibatalkan oleh" if lang == "id" else "reversed by"
    assert re.search(rf"{listed} #{correction['index']} .*{REASON}", text), text
    assert "25/11/2026" in text, text  # the correction's value date, not its recording date
    assert "Rp 2.500" in text  # listed, not counted
    # Each donation's proof is attached; the reversed one's receipt carries its reversal.
    files = read_attachments(r.content)
    assert json.loads(files[f"receipt-{wrong['index']}.json"])["reversal_proof"] is not None
    await assert_log_verifies(store)


# --- the public site ------------------------------------------------------------------------


async def test_site_marks_the_reversed_entry_and_links_both_ways(charity, store):
    kept, wrong, correction = await reversed_gift(charity)
    slug = charity.slug
    org = (await charity.client.get(f"/orgs/{slug}")).text
    row = re.search(rf'<tr data-index="{wrong["index"]}"[^>]*>.*?</tr>', org, re.S)
    assert row is not None
    assert f'data-reversed-by="{correction["index"]}"' in row.group(0)
    assert f'href="/orgs/{slug}/entries/{correction["index"]}"' in row.group(0)
    assert "Dibatalkan" in row.group(0) and REASON in row.group(0)
    back = re.search(rf'<tr data-index="{correction["index"]}"[^>]*>.*?</tr>', org, re.S)
    assert back is not None and f'href="/orgs/{slug}/entries/{wrong["index"]}"' in back.group(0)
    kept_row = re.search(rf'<tr data-index="{kept["index"]}"[^>]*>.*?</tr>', org, re.S)
    assert kept_row is not None and "data-reversed-by" not in kept_row.group(0)

    page = (await charity.client.get(f"/orgs/{slug}/entries/{wrong['index']}?lang=en")).text
    banner = re.search(r'<section class="block reversal-banner".*?</section>', page, re.S)
    assert banner is not None and "This entry was reversed" in banner.group(0)
    assert f'href="/orgs/{slug}/entries/{correction["index"]}?lang=en"' in banner.group(0)
    assert REASON in banner.group(0) and EFFECTIVE_WORDS in banner.group(0)
    assert EFFECTIVE_WORDS in row.group(0)
    corr_page = (await charity.client.get(f"/orgs/{slug}/entries/{correction['index']}")).text
    assert f'data-corrects="{wrong["index"]}"' in corr_page
    assert f'href="/orgs/{slug}/entries/{wrong["index"]}"' in corr_page
    kept_page = (await charity.client.get(f"/orgs/{slug}/entries/{kept['index']}")).text
    assert "reversal-banner" not in kept_page
    await assert_log_verifies(store)


# --- recording the reference again ----------------------------------------------------------


def gift(ref: str, amount: int = 250_000) -> dict:
    return {
        "fund": "senyum-2026",
        "amount": amount,
        "currency": "IDR",
        "received_on": "2026-11-01",
        "channel": "bank_transfer",
        "reference": ref,
    }


async def test_a_reversed_reference_may_be_recorded_again_an_unreversed_one_not(charity, store):
    await reversed_gift(charity)
    # The donation fast path (POST …/donations).
    again = await charity.post("/donations", gift("BCA-0002", 25_000))
    assert again.status_code == 201, again.text
    duplicate = await charity.post("/donations", gift("BCA-0001"))
    assert duplicate.status_code == 409 and "BCA-0001" in duplicate.json()["detail"]
    assert "reverse" in duplicate.json()["detail"]
    third = await charity.post("/donations", gift("BCA-0002"))  # the new one is not reversed
    assert third.status_code == 409, third.text

    # A small batch (one statement) and a large one (COPY), each reusing a reversed reference.
    for size, ref in ((3, "BCA-0003"), (150, "BCA-0004")):
        first = await charity.donate(100, ref=ref)
        await charity.ok("/corrections", {"corrects": first["index"], "reason": "salah nominal"})
        batch = [gift(ref, 5_000)] + [gift(f"{ref}-{i}", 100) for i in range(size - 1)]
        r = await charity.post("/donations/batch", {"donations": batch})
        assert r.status_code == 201, r.text[:300]
        refused = await charity.post("/donations/batch", {"donations": [gift(ref)]})
        assert refused.status_code == 409, refused.text[:300]

    # Reversing the re-recorded gift frees the reference once more.
    await charity.ok("/corrections", {"corrects": again.json()["index"], "reason": "dobel"})
    assert (await charity.post("/donations", gift("BCA-0002", 30_000))).status_code == 201
    fund = (await charity.client.get(charity.url("/funds/senyum-2026"))).json()
    assert fund["raised"] == 25_000_000 + 30_000 + 2 * 5_000 + 100 * 2 + 100 * 149
    await assert_log_verifies(store)


async def test_a_log_with_a_re_recorded_reference_restores_in_one_transaction(
    charity, store, kek, other_db_url, tmp_path
):
    """A restore projects the donation, its correction and the re-recorded donation in one
    batch: the new row is inserted before the old one is marked corrected, which only a
    constraint checked at commit (migration 0013) accepts."""
    from ledger.backup import import_log
    from ledger.journal.publisher import publish
    from ledger.store.database import WRITER_ROLE, create_pool
    from ledger.store.log import Store

    _kept, wrong, _correction = await reversed_gift(charity)
    again = await charity.post("/donations", gift("BCA-0002", 25_000))
    assert again.status_code == 201
    await publish(store, await store.organization(charity.slug), kek)
    path = tmp_path / "backup.jsonl"
    path.write_bytes((await charity.client.get(charity.url("/log/export"))).content)
    other = Store(await create_pool(other_db_url, role=WRITER_ROLE, size=4))
    try:
        org, report = await import_log(other, path)
        assert report.ok, report
        async with other.connection() as conn:
            from ledger.store import charity as P

            rows = await P.money_entries(conn, org.id, [wrong["index"], again.json()["index"]])
        assert rows[wrong["index"]].corrected_by is not None
        assert rows[again.json()["index"]].corrected_by is None
        await assert_log_verifies(other)
    finally:
        await other.pool.close()
    await assert_log_verifies(store)


async def test_verify_service_warns_about_a_reversal_an_old_receipt_does_not_prove(
    charity, store
):
    await charity.fund()
    gift_entry = await charity.donate(250_000, ref="BCA-0009", donor=DONOR)
    old = await charity.receipt(gift_entry["index"])  # issued before the reversal
    vkey = (await charity.vkeys())[0]
    before = (await charity.client.post("/v1/verify", json={"receipt": old, "vkeys": [vkey]})).json()
    assert before["status"] == "counts" and before["reversed_later"] is None
    correction = await charity.ok(
        "/corrections", {"corrects": gift_entry["index"], "reason": REASON}
    )
    after = (await charity.client.post("/v1/verify", json={"receipt": old, "vkeys": [vkey]})).json()
    assert after["ok"] is True and after["status"] == "counts"  # what the receipt proves
    assert after["reversed_later"]["index"] == correction["index"]
    assert after["reversed_later"]["reason"] == REASON
    assert "fetch a new receipt" in after["detail"]
    await assert_log_verifies(store)


def test_a_correction_without_effective_on_is_shown_with_its_jakarta_recording_date():
    """Corrections written before value dates existed carry no effective_on: their day is
    the day they were recorded in Asia/Jakarta (docs/FORMAT.md), which at 18:00 UTC is
    already the next day."""
    import datetime as dt

    from ledger.formats.valuedates import correction_effective_on

    assert correction_effective_on({}, "2026-11-30T18:00:00Z") == dt.date(2026, 12, 1)
    assert correction_effective_on({}, "2026-11-30T16:59:59Z") == dt.date(2026, 11, 30)
    at = dt.datetime(2026, 11, 30, 18, tzinfo=dt.UTC)
    assert correction_effective_on({}, at) == dt.date(2026, 12, 1)
    assert correction_effective_on({"effective_on": EFFECTIVE}, at) == dt.date(2026, 11, 25)
