"""The public verify page reads what a recipient or donor holds about an acknowledgment
(issue 20), in a real headless Chromium at phone width (390 px): the file the recipient's
page offers after signing is checked in the browser (every proof, the key's enrolment, the
orphanage's own Ed25519 signature) without asking the server anything, and said in plain
words: "LKSA … menandatangani bahwa telah menerima Rp … pada tanggal …", or the dispute.

Needs Debian's chromium and playwright, like ``tests/http/test_site_browser.py``; set
``LEDGER_SCREENSHOTS`` to keep the screenshots."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from ledger.recipient import signed_request
from tests.charity.test_acknowledgments import _books, enrol, sign, view
from tests.http.test_site_browser import (  # noqa: F401  (fixtures)
    Tab,
    browser,
    open_tab,
    pytestmark,
    site,
)
from tests.logkit import assert_log_verifies

PHONE = 390


async def _check(tab: Tab, keys: list[str], *, text: str | None = None, file: Path | None = None) -> dict:
    """Give the page the file (or pasted text) and the keys, press the button, read the verdict."""
    page = tab.page
    if file is not None:
        await page.set_input_files("#receipt-file", str(file))
        await page.locator("#proof-source", has_text=file.name).wait_for()
    if text is not None:
        await page.fill("#receipt", text)
    await page.fill("#keys", "\n".join(keys))
    before = len(tab.requests)
    await page.click("#verify-button")
    verdict = page.locator("#result [data-verdict]")
    await verdict.wait_for()
    assert tab.requests[before:] == [], "the verifier must not ask the server"
    said = page.locator('#result [data-field="said"]')
    return {
        "verdict": await verdict.get_attribute("data-verdict"),
        "kind": await verdict.get_attribute("data-kind"),
        "status": await verdict.get_attribute("data-status"),
        "reason": await verdict.get_attribute("data-reason"),
        "said": await said.inner_text() if await said.count() else None,
        "text": await verdict.inner_text(),
    }


async def test_verify_page_reads_acknowledgment_files_at_phone_width(  # type: ignore[no-untyped-def]
    browser,  # noqa: F811
    site,  # noqa: F811
    charity,
    store,
    tmp_path,
):
    first, second = await _books(charity)
    seed = secrets.token_bytes(32)
    await enrol(charity, seed)
    r = await sign(charity, first, signed_request(await view(charity, first), seed))
    assert r.status_code == 201, r.text
    r = await sign(charity, second, signed_request(await view(charity, second), seed, received=0))
    assert r.status_code == 201, r.text
    keys = await charity.vkeys()

    # The orphanage's page offers the file of what it signed.
    phone = await open_tab(browser, site, PHONE)
    page = phone.page
    await phone.goto(f"/orgs/{charity.slug}/beneficiaries/lksa-harapan/acknowledge")
    async with page.expect_download() as info:
        await page.click(f'#d{first} [data-field="proof"]')
    download = await info.value
    assert download.suggested_filename == f"acknowledgment-{first}.json"
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    assert json.loads(saved.read_text())["format"] == "donation-ledger-acknowledgment/v1"

    # The verify page, in Bahasa Indonesia, reads that file.
    await phone.goto(f"/verify?org={charity.slug}")
    assert "berkas konfirmasi dari penerima" in await page.locator("#ack-hint").inner_text()
    found = await _check(phone, keys, file=saved)
    assert (found["verdict"], found["kind"], found["status"]) == ("pass", "acknowledgment", "acknowledged")
    assert found["said"] == (
        "LKSA lksa-harapan menandatangani bahwa telah menerima Rp 1.500.000 pada tanggal "
        "2 November 2026."
    )
    assert "Sah: penerima menandatangani bahwa dananya sudah sampai" in found["text"]
    result = page.locator("#result")
    assert "Tanda tangan penerima: Ya" in await result.locator('[data-answer="signature"]').inner_text()
    assert await result.locator('dd[data-field="org"]').inner_text() == "Yayasan Senyum Anak"
    assert await result.locator('dd[data-field="received"]').inner_text() == "Rp 1.500.000"
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE, f"the page scrolls sideways at {PHONE} px ({width} px wide)"
    await phone.shot("verify-acknowledgment")
    await page.screenshot(path=str(tmp_path / "verify-acknowledgment-390.png"), full_page=True)

    # A dispute, pasted, in English: marked as disputed, with what arrived.
    r = await charity.client.get(charity.url(f"/disbursements/{second}/acknowledgment/proof"))
    english = await open_tab(browser, site, PHONE)
    await english.goto("/verify?lang=en")
    found = await _check(english, keys, text=r.text)
    assert (found["verdict"], found["status"]) == ("pass", "disputed")
    assert found["said"] == (
        "LKSA lksa-harapan signed a dispute: of Rp 1.500.000,01 recorded as disbursed on "
        "2 November 2026, it received Rp 0."
    )
    assert "DISPUTED" in found["text"]
    assert await english.page.locator("#result .result-disputed").count() == 1
    await english.shot("verify-dispute")
    await english.page.screenshot(path=str(tmp_path / "verify-dispute-390.png"), full_page=True)

    # A file that does not prove the signing key: refused, in plain words.
    bad = dict(json.loads(saved.read_text()), key_proofs=[])
    found = await _check(phone, keys, text=json.dumps(bad))
    assert (found["verdict"], found["reason"]) == ("fail", "recipient")
    assert "Tanda tangan penerima tidak cocok" in await page.locator("#result").inner_text()
    # The dispute's entry with the acknowledged disbursement's proofs: not about it, refused.
    other = json.loads(r.text)
    swapped = dict(json.loads(saved.read_text()), acknowledgment_proof=other["acknowledgment_proof"])
    found = await _check(phone, keys, text=json.dumps(swapped))
    assert (found["verdict"], found["reason"]) == ("fail", "header")
    assert phone.errors == [] and english.errors == []
    await assert_log_verifies(store)
