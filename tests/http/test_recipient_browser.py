"""The orphanage's pages in a real headless Chromium at phone width (390 px): enrolment on a
one-time link (WebCrypto Ed25519, key in IndexedDB, encrypted backup file), acknowledgment,
dispute, re-enrolment on a new phone (the old phone's key can no longer sign), a restored
backup, and a signature replayed for another disbursement (refused).

Each browser context is one phone (its own IndexedDB). Needs Debian's chromium and
playwright, like ``tests/http/test_site_browser.py``; set ``LEDGER_SCREENSHOTS`` to keep the
screenshots."""

from __future__ import annotations

from pathlib import Path

from tests.charity.test_acknowledgments import _books, link
from tests.http.test_site_browser import (  # noqa: F401  (fixtures)
    Tab,
    browser,
    open_tab,
    pytestmark,
    site,
)
from tests.logkit import assert_log_verifies

PHONE = 390


async def status(charity, index: int) -> dict:  # type: ignore[no-untyped-def]
    r = await charity.client.get(charity.url(f"/disbursements/{index}/acknowledgment"))
    assert r.status_code == 200, r.text
    return r.json()


async def enrol_in(tab: Tab, token: str, passphrase: str, downloads: Path) -> Path:
    page = tab.page
    await tab.goto(f"/daftar/{token}")
    await tab.shot("enrol")
    assert await page.locator("h1").inner_text() == "Daftarkan kunci panti Anda"
    await page.fill("#passphrase", passphrase)
    async with page.expect_download() as info:
        await page.click("#enrol-button")
    download = await info.value
    saved = downloads / f"{token[:8]}-{download.suggested_filename}"
    await download.save_as(saved)
    await page.locator('#enrol-status[data-state="enrolled"]').wait_for()
    await tab.shot("enrolled")
    return saved


async def acknowledge_in(tab: Tab, index: int) -> None:
    item = tab.page.locator(f"#d{index}")
    await item.locator('[data-action="acknowledge"]').click()
    await tab.page.locator(f'#d{index}[data-status="acknowledged"]').wait_for()


async def test_enrol_acknowledge_dispute_reenrol_restore(browser, site, charity, store, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    first, second, third, fourth = await _books(charity, 4)
    phone = await open_tab(browser, site, PHONE)
    backup_old = await enrol_in(phone, await link(charity), "rahasia-panti-1", tmp_path)
    page = phone.page
    await page.click("#next-link")
    await page.locator(f"#d{first}").wait_for()
    await phone.shot("acknowledge-list")
    sentence = await page.locator(f"#d{first} .ack-sentence").inner_text()
    assert sentence == "Kami telah menerima Rp 1.500.000 pada tanggal 2 November 2026."

    # acknowledgment
    await acknowledge_in(phone, first)
    assert (await status(charity, first))["status"] == "acknowledged"

    # dispute: Rp 1.000.000 arrived of Rp 1.500.001
    item = page.locator(f"#d{second}")
    await item.locator('[data-action="show-dispute"]').click()
    await item.locator("input").fill("1.000.000")
    await phone.shot("dispute-form")
    await item.locator('[data-action="dispute"]').click()
    await page.locator(f'#d{second}[data-status="disputed"]').wait_for()
    await phone.shot("disputed")
    s = await status(charity, second)
    assert (s["status"], s["received"]) == ("disputed", 1_000_000_00)
    assert "Disanggah penerima" in await page.locator(f"#d{second}").inner_text()

    # an acknowledgment replayed for another disbursement is refused by the server
    entry = (
        await charity.client.get(
            charity.url(f"/log/entries/{(await status(charity, first))['entry']}")
        )
    ).json()
    answer = await page.evaluate(
        """async ([org, to, key, signature]) => {
            const r = await fetch(`/v1/orgs/${org}/disbursements/${to}/acknowledgment`, {
                method: "POST",
                headers: {"Content-Type": "application/json", "Idempotency-Key": "replay-1",
                          "Accept-Language": "id"},
                body: JSON.stringify({verdict: "acknowledged", key: key, signature: signature}),
            });
            return [r.status, (await r.json()).detail];
        }""",
        [
            charity.slug,
            third,
            entry["document"]["body"]["key"],
            entry["document"]["body"]["signature"],
        ],
    )
    assert answer[0] == 422 and "tanda tangan tidak sah" in answer[1], answer
    phone.errors.clear()  # Chromium logs the refused request as a console error

    # a new phone enrols a new key: the old phone's key can no longer sign
    new_phone = await open_tab(browser, site, PHONE)
    backup_new = await enrol_in(new_phone, await link(charity), "rahasia-panti-2", tmp_path)
    await page.reload()
    await page.locator(f"#d{third}").wait_for()
    await page.locator(f"#d{third} [data-action='acknowledge']").click()
    retired = page.locator(f'#d{third} [data-field="message"][data-state="retired"]')
    await retired.wait_for()
    assert "sudah diganti" in await retired.inner_text()
    await phone.shot("retired")
    await new_phone.goto(f"/orgs/{charity.slug}/disbursements/{third}/acknowledge")
    await acknowledge_in(new_phone, third)

    # a third phone: the retired key's backup is refused, the current one's restored
    spare = await open_tab(browser, site, PHONE)
    await spare.goto(f"/orgs/{charity.slug}/beneficiaries/lksa-harapan/acknowledge")
    await spare.page.locator("#key-missing").wait_for(state="visible")  # after the script ran
    await spare.page.click(".restore summary")
    for backup, secret, expected in (
        (backup_old, "rahasia-panti-1", "Tidak bisa dipulihkan"),
        (backup_new, "salah-sandi", "Tidak bisa dipulihkan"),
        (backup_new, "rahasia-panti-2", "Kunci sudah dipulihkan"),
    ):
        await spare.page.set_input_files("#backup-file", str(backup))
        await spare.page.fill("#backup-passphrase", secret)
        await spare.page.click("#restore-button")
        await spare.page.locator("#restore-status", has_text=expected).wait_for()
    await acknowledge_in(spare, fourth)
    await spare.shot("restored-and-acknowledged")

    # what a donor sees on the public entry pages
    await spare.goto(f"/orgs/{charity.slug}/entries/{second}")
    section = spare.page.locator('#recipient[data-status="disputed"]')
    assert "yang diterima dari penyaluran ini Rp 1.000.000" in await section.inner_text()
    await spare.shot("entry-disputed")
    await spare.goto(f"/orgs/{charity.slug}/entries/{first}")
    assert "Dikonfirmasi penerima" in await spare.page.locator("#recipient").inner_text()

    # the organization page: the acknowledged share per fund and per beneficiary
    await spare.goto(f"/orgs/{charity.slug}")
    fund_share = await spare.page.locator('[data-fund="senyum-2026"] .ack-share').inner_text()
    assert (
        "Dikonfirmasi penerimanya: Rp 4.500.000,05 dari Rp 6.000.000,06 yang disalurkan (75%)"
        in fund_share
    )
    assert "disanggah: Rp 1.500.000,01" in fund_share
    row = await spare.page.locator('tr[data-beneficiary="lksa-harapan"]').inner_text()
    assert "75% dikonfirmasi penerima" in row
    await spare.shot("org-shares")

    for tab in (phone, new_phone, spare):
        assert tab.errors == [], tab.errors
        hosts = {url.split("/")[2] for url in tab.requests if url.startswith("http")}
        assert hosts == {site.split("/")[2]}, hosts  # nothing from any other host
    await assert_log_verifies(store)
