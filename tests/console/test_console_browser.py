"""The staff console in a real Chromium (Playwright, Debian's ``chromium``), at phone (390 px)
and desktop (1280 px) width, against the app served by uvicorn on loopback: log in, record a
donation typed as "Rp 250.000" and confirmed, a disbursement with evidence, a correction,
staff and API keys; every page checked for labels, contrast (4.5:1) and no sideways scrolling;
the log verifies afterwards.

``make screenshots`` runs this file with ``LEDGER_SCREENSHOTS=docs/console``: the pictures of
the staff guide (docs/PANDUAN-STAF.md) are made here.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import urlsplit

import pytest

from ledger.verify.stored import verify_all
from tests.console.test_console_resume import end_sessions
from tests.consolekit import PASSWORD, account
from tests.http.test_site_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    Tab,
    async_playwright,
    browser,
    open_tab,
    site,
)
from tests.ingest.test_bankimports import BCA

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or async_playwright is None,
    reason="browser tests need Debian's chromium and the playwright package",
)

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

A11Y = """() => {
  const problems = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const id = el.id;
    const label = id && document.querySelector(`label[for="${id}"]`);
    if (!label && !el.getAttribute('aria-label')) problems.push('no label: ' + (el.name || el.outerHTML.slice(0, 60)));
  }
  function rgb(text) { const m = text.match(/[\\d.]+/g).map(Number); return m.length > 3 ? m : [...m, 1]; }
  function lum([r, g, b]) {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  }
  function background(el) {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c[3] > 0.5) return c;
    }
    return [255, 255, 255, 1];
  }
  for (const el of document.querySelectorAll('body *')) {
    if (!el.offsetParent && el.tagName !== 'BODY') continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const fg = rgb(getComputedStyle(el).color), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)}: ${el.tagName} ${el.textContent.trim().slice(0, 40)}`);
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1)
    problems.push(`scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
  return problems;
}"""


async def checked(tab: Tab, name: str) -> None:
    """The page has labels on every field, readable contrast, no sideways scroll, no script
    error; then its screenshot (with ``LEDGER_SCREENSHOTS``)."""
    problems = await tab.page.evaluate(A11Y)
    assert problems == [], (tab.page.url, problems)
    # A refused form is answered 422 on purpose, the login page that keeps a form sent after
    # the session ended 401; Chromium logs every 4xx page load.
    errors = [e for e in tab.errors if "status of 422" not in e and "status of 401" not in e]
    assert errors == [], errors
    await tab.shot(f"console-{name}")


async def log_in(tab: Tab, slug: str, email: str) -> None:
    await tab.goto("/console")  # sends to the login page
    page = tab.page
    assert "/console/login" in page.url
    await checked(tab, "login")
    await page.fill("#f-org", slug)
    await page.fill("#f-email", email)
    await page.fill("#f-password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/console$"))


@pytest.mark.parametrize("width", [390, 1280])
async def test_recorder_flows(browser, site, charity, store, db_url, width) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    await charity.fund()
    await charity.beneficiary()
    org = await store.organization(charity.slug)
    await account(store, org, "rina@yayasan.id", "recorder")
    tab = await open_tab(browser, site, width)
    page = tab.page
    await log_in(tab, charity.slug, "rina@yayasan.id")
    await checked(tab, "dashboard-empty")

    # a donation, typed as people write it, shown back, confirmed
    await page.click("text=Catat donasi")
    await page.select_option("#f-fund", "senyum-2026")
    await page.fill("#f-amount", "Rp 250.000")
    await page.select_option("#f-channel", "qris")
    await page.fill("#f-reference", f"QRIS-{width}")
    await page.fill("#f-donor_name", "Siti Aminah")
    await page.fill("#f-donor_email", "siti@example.id")
    await page.check("#f-show_name")
    await page.fill("#f-public_name", "Siti A.")
    await checked(tab, "donation-form")
    await page.click("#review-button")
    amount = page.locator("#review-amount data")
    assert await amount.inner_text() == "Rp 250.000"
    assert await amount.get_attribute("value") == "25000000"
    await checked(tab, "donation-review")
    await page.click("#confirm")
    await page.wait_for_selector("#recorded")
    assert await page.locator("#entry-amount").inner_text() == "Rp 250.000"
    await checked(tab, "donation-recorded")

    # a refused form keeps what was typed
    await tab.goto("/console/donations")
    await page.select_option("#f-fund", "senyum-2026")
    await page.fill("#f-amount", "250.5")
    await page.fill("#f-reference", "REF-X")
    await page.click("#review-button")
    await page.wait_for_selector("#e-amount")
    assert await page.input_value("#f-amount") == "250.5"
    assert await page.input_value("#f-reference") == "REF-X"
    await checked(tab, "donation-refused")

    # a disbursement, then its evidence
    await tab.goto("/console/disbursements")
    await page.select_option("#f-fund", "senyum-2026")
    await page.select_option("#f-beneficiary", "lksa-harapan")
    await page.fill("#f-amount", "100.000")
    await page.select_option("#f-purpose", "food")
    await page.fill("#f-reference", f"BCA-{width}")
    await checked(tab, "disbursement-form")
    await page.click("#review-button")
    assert await page.locator("#review-amount data").inner_text() == "Rp 100.000"
    await page.click("#confirm")
    await page.wait_for_selector("#recorded")
    await checked(tab, "disbursement-recorded")
    await page.set_input_files(
        "#f-evidence", files=[{"name": "slip.png", "mimeType": "image/png", "buffer": PNG}]
    )
    await page.click("#evidence-form button[type=submit]")
    await page.wait_for_selector("#attached")
    disbursement = int(re.search(r"/entries/(\d+)", page.url).group(1))

    # correct the disbursement
    await page.click("text=Koreksi entri ini")
    await page.fill("#f-reason", "jumlah salah ketik")
    await checked(tab, "correction-form")
    await page.click("#review-button")
    assert await page.locator("#review-amount data").inner_text() == "Rp 100.000"
    await checked(tab, "correction-review")
    await page.click("#confirm")
    await page.wait_for_selector("#recorded")
    await tab.goto(f"/console/entries/{disbursement}")
    assert await page.locator("text=Dibatalkan oleh").count() == 1

    await tab.goto("/console")
    sums = page.locator('#donation-sums [data-fund="senyum-2026"] [data-field="month"] data')
    assert await sums.get_attribute("value") == "25000000"
    await checked(tab, "dashboard")
    await tab.goto("/console?lang=en")
    assert await page.locator("h1").inner_text() == "Dashboard"
    await tab.goto("/console/keys")
    await checked(tab, "keys")
    await page.click("footer button[type=submit]")
    await page.wait_for_url(re.compile(r".*/console/login$"))
    reports = await verify_all(store, charity.slug, url=db_url)
    assert all(r.ok for r in reports)


@pytest.mark.parametrize("width", [390, 1280])
async def test_admin_flows(browser, site, charity, store, width) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    await charity.fund()
    await charity.donate(125000000, donor={"name": "Siti", "email": "siti@example.id"})
    org = await store.organization(charity.slug)
    await account(store, org, "kepala@yayasan.id", "admin")
    tab = await open_tab(browser, site, width)
    page = tab.page
    await log_in(tab, charity.slug, "kepala@yayasan.id")
    await tab.goto("/console/staff")
    await page.fill("#f-name", "Rina")
    await page.fill("#f-email", "rina@yayasan.id")
    await page.select_option("#f-role", "recorder")
    await page.click("#new-account button[type=submit]")
    notice = await page.locator("#notice").inner_text()
    temporary = re.search(r"([a-z2-9]{4}-){3}[a-z2-9]{4}", notice).group(0)
    await checked(tab, "staff")
    await tab.goto("/console/keys")
    await page.fill("#f-label", "bank import")
    await page.click("#new-key-form button[type=submit]")
    assert (await page.locator("#new-key").inner_text()).startswith("ldg_")
    await checked(tab, "keys-issued")
    await tab.goto("/console/security")
    await checked(tab, "second-factor")
    await tab.goto("/console/statements")
    await checked(tab, "statements")
    await page.click("#review-button")
    await checked(tab, "statement-review")
    await page.click("#confirm")
    await page.wait_for_selector('[data-statement="1"]')
    await checked(tab, "statement-issued")
    await tab.goto("/console/receipts?donor=siti%40example.id")
    await checked(tab, "receipts")

    # the new person logs in with the temporary password and must change it first
    other = await open_tab(browser, site, width)
    await other.goto("/console/login")
    await other.page.fill("#f-org", charity.slug)
    await other.page.fill("#f-email", "rina@yayasan.id")
    await other.page.fill("#f-password", temporary)
    await other.page.click("button[type=submit]")
    await other.page.wait_for_url(re.compile(r".*/console/password$"))
    await checked(other, "password")
    await other.page.fill("#f-current", temporary)
    await other.page.fill("#f-new", "teh-manis-sore-hari")
    await other.page.fill("#f-again", "teh-manis-sore-hari")
    await other.page.click("main button[type=submit]")
    await other.page.wait_for_url(re.compile(r".*/console\?changed=1$"))


async def test_keyboard_only_login(browser, site, charity, store) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    org = await store.organization(charity.slug)
    await account(store, org, "rina@yayasan.id", "recorder")
    tab = await open_tab(browser, site, 390)
    page = tab.page
    await tab.goto("/console/login")
    await page.focus("#f-org")
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    await page.keyboard.type(charity.slug)
    await page.keyboard.press("Tab")
    await page.keyboard.type("rina@yayasan.id")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/console$"))


@pytest.mark.parametrize("width", [390, 1280])
async def test_bank_import_and_a_form_kept_across_login(  # type: ignore[no-untyped-def]
    browser, site, charity, store, db_url, width  # noqa: F811
) -> None:
    await charity.fund()
    org = await store.organization(charity.slug)
    await account(store, org, "rina@yayasan.id", "recorder")
    tab = await open_tab(browser, site, width)
    page = tab.page
    await log_in(tab, charity.slug, "rina@yayasan.id")
    statement = [{"name": "mutasi-november.csv", "mimeType": "text/csv", "buffer": BCA.encode()}]

    # a BCA statement: every line shown, the bad one left out, three donations recorded
    await page.click("text=Impor mutasi bank")
    await page.select_option("#f-fund", "senyum-2026")
    await page.select_option("#f-layout", "bca")
    await page.set_input_files("#f-statement_file", files=statement)
    await checked(tab, "import-upload")
    await page.click("#preview-button")
    await page.wait_for_selector("#confirm-form")
    assert await page.locator('[data-line="7"] data').inner_text() == "Rp 250.000"
    assert await page.locator('[data-line="8"]').get_attribute("data-status") == "debit"
    assert "desimal" in await page.locator('[data-line="11"] .line-problem').inner_text()
    await checked(tab, "import-preview")
    size = (await store.head(org.id)).size
    await page.check("#f-leave_out")
    await page.click("#confirm")
    await page.wait_for_selector("#imported")
    assert await page.locator('[data-status="recorded"]').count() == 3
    assert (await store.head(org.id)).size == size + 3
    await checked(tab, "import-done")

    # the same file again records nothing twice
    await tab.goto("/console/imports")
    await page.select_option("#f-fund", "senyum-2026")
    await page.set_input_files("#f-statement_file", files=statement)
    await page.click("#preview-button")
    await page.wait_for_selector("#imported-before")
    await page.check("#f-leave_out")
    await page.click("#confirm")
    await page.wait_for_selector("#imported")
    assert "sudah pernah diimpor" in await page.locator("#imported").inner_text()
    assert (await store.head(org.id)).size == size + 3

    # the session ends while the clerk checks a donation: after logging in, it is all there
    await tab.goto("/console/donations")
    await page.select_option("#f-fund", "senyum-2026")
    await page.fill("#f-amount", "Rp 75.500")
    await page.select_option("#f-channel", "cash")
    await page.fill("#f-reference", f"KAS-{width}")
    await page.fill("#f-donor_name", "Budi Santoso")
    await page.fill("#f-donor_email", "budi@example.id")
    await page.fill("#f-message", "untuk makan siang anak-anak")
    await page.click("#review-button")
    await page.wait_for_selector("#confirm")
    await end_sessions(db_url)
    await page.click("#confirm")
    await page.wait_for_selector("#login-error")
    assert "Sesi Anda sudah berakhir" in await page.locator("#login-error").inner_text()
    # nothing typed travels in the address (its path and query: the port is random, 42753)
    address = urlsplit(page.url)
    assert "budi" not in f"{address.path}?{address.query}".lower()
    assert "75" not in f"{address.path}?{address.query}"
    cookies = await page.context.cookies()
    assert all("budi" not in c["value"].lower() for c in cookies)
    await checked(tab, "session-ended")
    await page.fill("#f-org", charity.slug)
    await page.fill("#f-email", "rina@yayasan.id")
    await page.fill("#f-password", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_selector("#donation-form")
    assert await page.input_value("#f-amount") == "Rp 75.500"
    assert await page.input_value("#f-reference") == f"KAS-{width}"
    assert await page.input_value("#f-donor_name") == "Budi Santoso"
    assert await page.input_value("#f-donor_email") == "budi@example.id"
    assert await page.input_value("#f-message") == "untuk makan siang anak-anak"
    assert await page.input_value("#f-channel") == "cash"
    assert (await store.head(org.id)).size == size + 3  # nothing recorded yet
    await checked(tab, "form-kept")
    await page.click("#review-button")
    assert await page.locator("#review-amount data").inner_text() == "Rp 75.500"
    await page.click("#confirm")
    await page.wait_for_selector("#recorded")
    assert (await store.head(org.id)).size == size + 4
    reports = await verify_all(store, charity.slug, url=db_url)
    assert all(r.ok for r in reports)
