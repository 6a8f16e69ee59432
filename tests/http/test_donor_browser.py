"""A donor's path in a real headless Chromium (issue 17), at phone (390 px) and desktop width:
the receipt PDF they hold dropped on the verify page and read in plain words ("tercatat ·
tidak diubah · masih dihitung"), a reversed gift read as reversed, the QR code decoded from a
real receipt PDF opening the right verification, and the verifier working in a browser whose
WebCrypto has no Ed25519 (the vendored @noble/ed25519 takes over).

Uses the browser and served-app fixtures of ``tests/http/test_site_browser.py`` (Debian's
chromium); the QR test also needs ``zbarimg`` (Debian's zbar-tools) and ``pdftoppm``.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.apikit import DONOR, auth
from tests.http.test_site_browser import (  # noqa: F401  (fixtures, used by name)
    Tab,
    browser,
    open_tab,
    site,
)
from tests.logkit import assert_log_verifies

NO_WEBCRYPTO_ED25519 = """
(() => {
  const subtle = crypto.subtle;
  const named = (a) => (typeof a === "string" ? a : a && a.name) === "Ed25519";
  const importKey = subtle.importKey.bind(subtle);
  const verify = subtle.verify.bind(subtle);
  subtle.importKey = (format, key, algorithm, ...rest) => named(algorithm)
    ? Promise.reject(new DOMException("Ed25519 is not supported", "NotSupportedError"))
    : importKey(format, key, algorithm, ...rest);
  subtle.verify = (algorithm, ...rest) => named(algorithm)
    ? Promise.reject(new DOMException("Ed25519 is not supported", "NotSupportedError"))
    : verify(algorithm, ...rest);
})();
"""
"""An older Chrome or Android WebView: WebCrypto without Ed25519 (what the page then sees)."""


async def receipt_pdf(charity, index: int, lang: str = "id") -> bytes:  # type: ignore[no-untyped-def]
    r = await charity.client.get(
        charity.url(f"/donations/{index}/receipt.pdf?lang={lang}"),
        headers=auth(charity.keys["auditor"]),
    )
    assert r.status_code == 200, r.text
    return r.content


async def pin_keys(tab: Tab, slug: str) -> None:
    """Pin the log's keys on the organization page, as a careful donor does first."""
    await tab.goto(f"/orgs/{slug}")
    await tab.page.click("#pin-keys")


async def drop_pdf(tab: Tab, pdf: Path) -> dict[str, Any]:
    """Choose the PDF on the verify page, press Verify, read the plain answers and facts."""
    page = tab.page
    await page.set_input_files("#receipt-file", str(pdf))
    for _ in range(200):  # the page reads the file asynchronously
        if await page.input_value("#receipt"):
            break
        await asyncio.sleep(0.05)
    before = len(tab.requests)
    await page.click("#verify-button")
    return await read_result(tab, before)


async def read_result(tab: Tab, before: int | None = None) -> dict[str, Any]:
    page = tab.page
    verdict = page.locator("#result [data-verdict]")
    await verdict.wait_for()
    if before is not None:
        assert tab.requests[before:] == [], "the verifier must not ask the server"
    result: dict[str, Any] = {
        "verdict": await verdict.get_attribute("data-verdict"),
        "state": await verdict.get_attribute("data-status"),
        "headline": await page.locator("#result .verdict").inner_text(),
    }
    for li in await page.locator("#result [data-answer]").all():
        result["answer_" + str(await li.get_attribute("data-answer"))] = (
            await li.get_attribute("class"),
            await li.inner_text(),
        )
    for dd in await page.locator("#result dd[data-field]").all():
        result[str(await dd.get_attribute("data-field"))] = await dd.text_content()
    return result


async def test_a_donor_drops_the_receipt_pdf_and_reads_it_in_plain_words(
    browser,  # noqa: F811
    site,  # noqa: F811
    charity,
    tmp_path: Path,
):
    await charity.fund(name="#SenyumAnak 2026")
    gift = await charity.donate(125_000_000, donor=DONOR)
    pdf = tmp_path / "tanda-terima.pdf"
    pdf.write_bytes(await receipt_pdf(charity, gift["index"]))
    for width in (390, 1280):
        tab = await open_tab(browser, site, width)
        await pin_keys(tab, charity.slug)
        await tab.goto(f"/verify?org={charity.slug}")
        result = await drop_pdf(tab, pdf)
        assert result["verdict"] == "pass" and result["state"] == "counts", result
        assert "Sah: tercatat · tidak diubah · masih dihitung" in result["headline"]
        for answer in ("recorded", "unaltered", "counts"):
            assert "answer-yes" in result[f"answer_{answer}"][0], result
        assert "Yayasan Senyum Anak" in result["answer_recorded"][1]
        assert result["org"] == "Yayasan Senyum Anak"
        assert result["fund"] == "#SenyumAnak 2026 (senyum-2026)"
        assert result["amount"] == "Rp 1.250.000"
        assert result["index"] == f"#{gift['index']}"  # under "Detail teknis"
        meaning = tab.page.locator('#result [data-field="meaning"]')
        assert "tidak membuktikan bahwa uangnya sudah sampai" in await meaning.inner_text()
        technical = tab.page.locator('#result details[data-field="technical"]')
        assert await technical.get_attribute("open") is None  # jargon stays folded
        source = await tab.page.locator("#proof-source").inner_text()
        assert f"receipt-{gift['index']}.json" in source
        await tab.shot("verify-pdf")
        assert tab.errors == []
        await tab.page.context.close()


async def test_a_reversed_gifts_pdf_reads_as_reversed_in_the_browser(
    browser,  # noqa: F811
    site,  # noqa: F811
    charity,
    store,
    tmp_path: Path,
):
    await charity.fund()
    gift = await charity.donate(250_000, ref="BCA-0002", donor=DONOR)
    correction = await charity.ok(
        "/corrections",
        {"corrects": gift["index"], "reason": "transfer ditolak bank", "effective_on": "2026-11-25"},
    )
    for lang, width in (("id", 390), ("en", 1280)):
        pdf = tmp_path / f"reversed-{lang}.pdf"
        pdf.write_bytes(await receipt_pdf(charity, gift["index"], lang))
        tab = await open_tab(browser, site, width)
        await pin_keys(tab, charity.slug)
        await tab.goto("/verify" + ("?lang=en" if lang == "en" else ""))
        result = await drop_pdf(tab, pdf)
        assert result["verdict"] == "pass" and result["state"] == "reversed", result
        assert ("DIBATALKAN" if lang == "id" else "REVERSED") in result["headline"]
        kind, text = result["answer_counts"]
        assert "answer-no" in kind and str(correction["index"]) in text
        assert "transfer ditolak bank" in text and "25 November 2026" in text
        await tab.shot(f"verify-pdf-reversed-{lang}")
        assert tab.errors == []
        await tab.page.context.close()
    await assert_log_verifies(store)


@pytest.mark.skipif(
    not (shutil.which("zbarimg") and shutil.which("pdftoppm")),
    reason="decoding the QR code needs zbarimg (apt-get install zbar-tools) and pdftoppm",
)
async def test_the_qr_code_of_a_real_receipt_opens_its_verification(
    browser,  # noqa: F811
    site,  # noqa: F811
    charity,
    settings,
    tmp_path: Path,
):
    await charity.fund(name="#SenyumAnak 2026")
    gift = await charity.donate(125_000_000, donor=DONOR)
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(await receipt_pdf(charity, gift["index"]))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "200", "-f", "1", "-l", "1", "-singlefile", str(pdf),
         str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "page.png")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    url = f"{settings.public_url}/verify?org={charity.slug}&entry={gift['index']}"
    assert decoded == [url]
    parts = urlsplit(url)
    for width in (390, 1280):
        tab = await open_tab(browser, site, width)  # a phone that scanned it, no pin yet
        await tab.goto(f"{parts.path}?{parts.query}")
        result = await read_result(tab)
        assert result["verdict"] == "pass" and result["state"] == "counts", result
        assert result["org"] == "Yayasan Senyum Anak" and result["amount"] == "Rp 1.250.000"
        assert "dari tautan" in await tab.page.locator("#proof-source").inner_text()
        pin = await tab.page.locator("#pin-source").inner_text()
        assert "diterbitkan server ini" in pin  # said plainly where the keys came from
        receipt_text = await tab.page.input_value("#receipt")
        assert DONOR["email"] not in receipt_text and '"donor_opening": null' in receipt_text
        await tab.shot("verify-qr")
        assert tab.errors == []
        await tab.page.context.close()


async def test_the_verifier_works_without_webcrypto_ed25519(
    browser,  # noqa: F811
    site,  # noqa: F811
    charity,
    tmp_path: Path,
):
    await charity.fund()
    gift = await charity.donate(125_000_000, donor=DONOR)
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(await receipt_pdf(charity, gift["index"]))
    tab = await open_tab(browser, site, 390)
    await tab.page.add_init_script(NO_WEBCRYPTO_ED25519)
    await pin_keys(tab, charity.slug)
    await tab.goto(f"/verify?org={charity.slug}")
    supported = await tab.page.evaluate("TlogVerify.ed25519Supported()")
    assert supported is False
    assert await tab.page.evaluate("typeof window.NobleEd25519.verifyAsync") == "function"
    result = await drop_pdf(tab, pdf)
    assert result["verdict"] == "pass" and result["state"] == "counts", result

    # A signature by another key still fails with the fallback.
    from ledger.formats.note import Signer

    keys = await tab.page.input_value("#keys")
    stranger = Signer.from_seed(keys.split("+")[0], bytes(32)).vkey()
    await tab.page.fill("#keys", stranger)
    await tab.page.click("#verify-button")
    await tab.page.locator('#result [data-verdict="fail"]').wait_for()
    assert await tab.page.get_attribute("#result [data-verdict]", "data-reason") == "signature"
    await tab.shot("verify-no-webcrypto-ed25519")
    assert tab.errors == []
    await tab.page.context.close()


async def test_a_donor_finds_the_gift_downloads_the_pdf_and_verifies_it(
    browser,  # noqa: F811
    site,  # noqa: F811
    charity,
    tmp_path: Path,
):
    """The whole path of issue 17: "Cek donasi saya" with reference and receipt code, the PDF
    downloaded from the gift's page, dropped on the verify page, read in plain words."""
    await charity.fund(name="#SenyumAnak 2026")
    gift = await charity.donate(125_000_000, ref="QRIS-0001", donor=DONOR)
    r = await charity.client.get(
        charity.url(f"/donations/{gift['index']}/receipt-link"), headers=auth(charity.keys["auditor"])
    )
    code = r.json()["code"]
    for width in (390, 1280):
        tab = await open_tab(browser, site, width)
        page = tab.page
        await pin_keys(tab, charity.slug)
        await page.click('.site-nav a[href="/my-gift"]')
        await page.select_option("#org", charity.slug)
        await page.fill("#reference", "QRIS-0001")
        await page.fill("#code", code)
        await tab.shot("my-gift-form")
        await page.click("#find-button")
        await page.wait_for_url(f"**/my-gift/{gift['index']}/*")
        assert await page.get_attribute("[data-gift-status]", "data-gift-status") == "counts"
        assert DONOR["email"] not in await page.content()
        await tab.shot("my-gift")
        async with page.expect_download() as download_info:
            await page.click("#download-pdf")
        pdf = tmp_path / f"downloaded-{width}.pdf"
        await (await download_info.value).save_as(pdf)
        await page.click("#verify-link")
        await page.wait_for_url("**/verify?*")
        await read_result(tab)  # the link checks the public receipt at once
        result = await drop_pdf(tab, pdf)
        assert result["verdict"] == "pass" and result["state"] == "counts", result
        assert "tercatat · tidak diubah · masih dihitung" in result["headline"]
        assert result["org"] == "Yayasan Senyum Anak" and result["amount"] == "Rp 1.250.000"
        assert result["donor"] == "cocok dengan komitmen di entri"  # the donor's own opening
        assert tab.errors == []
        await page.context.close()
