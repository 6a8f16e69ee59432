"""The public website in a real headless Chromium (Playwright), against the app served by
uvicorn on a loopback port in the test's event loop.

Covers what only a browser can show: the pages render the API's totals, the language switch,
a receipt verified by the in-browser verifier (WebCrypto SHA-256 and Ed25519) with a key
pinned from the organization page, a tampered receipt refused, keyboard-only use, and the
JavaScript verifier agreeing with the Python reference (``ledger.verify.offline``) on the golden
vectors and on every tampering the Python tests try.

Needs Debian's ``chromium`` (``apt-get install chromium``) and the ``playwright`` package;
skipped with the reason otherwise. Set ``LEDGER_SCREENSHOTS=/some/dir`` to keep screenshots
of every page at phone (390 px) and desktop (1280 px) width.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import tests.http.test_site as site_tests
from ledger.errors import VerificationError
from ledger.formats.note import CosignatureSigner, add_signatures, parse_vkey
from ledger.formats.policy import parse_policy
from ledger.formats.tlogproof import TlogProof, format_proof, parse_proof
from ledger.verify.offline import verify_receipt
from tests.apikit import serve_on_port
from tests.conftest import GO_SUMDB, REPO

try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # pragma: no cover - depends on the machine
    async_playwright = None

CHROMIUM = next(
    (
        p
        for p in (os.environ.get("LEDGER_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"))
        if p and os.path.exists(p)
    ),
    None,
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = os.environ.get("LEDGER_SCREENSHOTS")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or async_playwright is None,
    reason="browser tests need Debian's chromium (apt-get install chromium) and the "
    "playwright package (pip install playwright); "
    + ("chromium not found" if CHROMIUM is None else "playwright not installed"),
)


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def site(settings, charity) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """Base URL of the app served by uvicorn on loopback, on the test's database."""
    from ledger.http.app import create_app

    async with serve_on_port(create_app(settings.with_(checkpoint_interval=0))) as base:
        yield base


class Tab:
    """A page with its JavaScript errors and every request it made recorded."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: self.requests.append(r.url))

    async def goto(self, path: str) -> None:
        response = await self.page.goto(self.base + path)
        assert response is not None and response.ok, path

    async def shot(self, name: str) -> None:
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            width = self.page.viewport_size["width"] if self.page.viewport_size else 0
            await self.page.screenshot(path=f"{SCREENSHOTS}/{name}-{width}.png", full_page=True)


async def open_tab(browser: Browser, base: str, width: int = 1280) -> Tab:
    context = await browser.new_context(viewport={"width": width, "height": 900}, locale="id-ID")
    return Tab(await context.new_page(), base)


def flip_proof_character(receipt: str) -> str:
    """The receipt with one base64 character changed in its first audit-path line."""
    data = json.loads(receipt)
    lines = data["tlog_proof"].split("\n")
    line = next(i for i, text in enumerate(lines) if i >= 3 and text and " " not in text)
    first = lines[line][0]
    lines[line] = ("B" if first == "A" else "A") + lines[line][1:]
    data["tlog_proof"] = "\n".join(lines)
    return json.dumps(data)


async def verify_in_page(tab: Tab, receipt: str, keys: str | None = None) -> dict[str, Any]:
    """Paste the receipt (and keys), press Verify, and read the verdict."""
    page = tab.page
    await page.fill("#receipt", receipt)
    if keys is not None:
        await page.fill("#keys", keys)
    before = len(tab.requests)
    await page.click("#verify-button")
    verdict = page.locator("#result [data-verdict]")
    await verdict.wait_for()
    assert tab.requests[before:] == [], "the verifier must not ask the server"
    facts = {}
    for row in await page.locator("#result dd[data-field]").all():
        facts[await row.get_attribute("data-field")] = await row.inner_text()
    return {
        "verdict": await verdict.get_attribute("data-verdict"),
        "reason": await verdict.get_attribute("data-reason"),
        "text": await verdict.inner_text(),
        **facts,
    }


# --- pages --------------------------------------------------------------------------------


async def test_pages_render_the_api_totals_and_switch_language(browser, site, charity):
    seeded = await site_tests.seed(charity)
    funds = (await charity.client.get(charity.url("/funds"))).json()["items"]
    raised = sum(f["raised"] for f in funds if f["currency"] == "IDR")
    for width in (390, 1280):
        tab = await open_tab(browser, site, width)
        page = tab.page
        await tab.goto("/")
        card = page.locator(f'[data-org="{charity.slug}"] [data-currency="IDR"]')
        assert await card.locator('data[data-field="raised"]').get_attribute("value") == str(raised)
        assert await card.locator('data[data-field="raised"]').inner_text() == "Rp 2.200.000,50"
        await tab.shot("home")

        await page.click(f'[data-org="{charity.slug}"] h2 a')
        await page.wait_for_url(f"**/orgs/{charity.slug}")
        for f in funds:
            box = page.locator(f'[data-fund="{f["code"]}"]')
            for k in ("raised", "disbursed", "fees", "balance"):
                value = await box.locator(f'data[data-field="{k}"]').get_attribute("value")
                assert value == str(f[k]), (f["code"], k)
        assert await page.locator("#pin-keys").is_visible()
        await tab.shot("org")

        await page.click('.lang-switch a[hreflang="en"]')  # the same page, in English
        await page.wait_for_url(f"**/orgs/{charity.slug}?lang=en")
        assert await page.get_attribute("html", "lang") == "en"
        assert await page.locator("#funds-h").inner_text() == "Funds and campaigns"
        await page.click(f'a[href="/orgs/{charity.slug}/entries/{seeded["donation"]}?lang=en"]')
        await page.wait_for_url(f"**/entries/{seeded['donation']}?lang=en")
        assert await page.locator("#proof-h").inner_text() == "Proof data"
        await tab.shot("entry-en")
        await page.click('.lang-switch a[hreflang="id"]')
        assert await page.locator("#proof-h").inner_text() == "Data pembuktian"
        assert tab.errors == []
        await page.context.close()


# --- the verifier -------------------------------------------------------------------------


async def test_receipt_verifies_in_the_browser_and_tampering_fails(browser, site, charity):
    seeded = await site_tests.seed(charity)
    receipt = await charity.receipt(seeded["donation"])
    for width in (390, 1280):
        tab = await open_tab(browser, site, width)
        page = tab.page
        await tab.goto(f"/orgs/{charity.slug}")
        await page.click("#pin-keys")  # pin the log's keys as shown on the organization page
        assert "disematkan" in await page.locator("#pin-status").inner_text()
        await page.click(f'a[href="/verify?org={charity.slug}"]')
        await page.wait_for_url(f"**/verify?org={charity.slug}")
        keys = (await charity.client.get(charity.url("/log/keys"))).text.strip()
        assert (await page.input_value("#keys")).strip() == keys  # prefilled from the pin

        good = await verify_in_page(tab, receipt)
        assert good["verdict"] == "pass", good
        assert good["amount"] == "Rp 1.250.000"
        assert good["fund"] == "senyum-2026" and good["date"] == "1 November 2026"
        assert good["index"] == f"#{seeded['donation']}"
        assert good["donor"] == "cocok dengan komitmen di entri"
        assert await page.evaluate("document.activeElement.id") == "result"
        await tab.shot("verify-pass")

        tampered = await verify_in_page(tab, flip_proof_character(receipt))
        assert tampered["verdict"] == "fail" and tampered["reason"] == "inclusion", tampered
        await tab.shot("verify-fail")

        other = await verify_in_page(tab, receipt, keys=_stranger_vkey(keys))
        assert other["verdict"] == "fail" and other["reason"] == "signature", other
        assert tab.errors == []
        await page.context.close()


def _stranger_vkey(vkey: str) -> str:
    from ledger.formats.note import Signer

    return Signer.from_seed(vkey.split("+")[0], bytes(32)).vkey()


async def test_keyboard_alone_reaches_and_uses_the_verify_button(browser, site, charity):
    seeded = await site_tests.seed(charity)
    receipt = await charity.receipt(seeded["donation"])
    keys = (await charity.client.get(charity.url("/log/keys"))).text.strip()
    tab = await open_tab(browser, site)
    page = tab.page
    await tab.goto("/verify")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip-link"
    assert await page.locator(".skip-link").is_visible()
    reached: list[str] = []
    for _ in range(30):
        await page.keyboard.press("Tab")
        active = await page.evaluate("document.activeElement.id || document.activeElement.tagName")
        reached.append(active)
        if active == "receipt":
            await page.keyboard.insert_text(receipt)
        if active == "keys":
            await page.keyboard.insert_text(keys)
        if active == "verify-button":
            break
    assert reached[-1] == "verify-button", reached
    assert reached.index("receipt") < reached.index("keys") < reached.index("verify-button")
    style = await page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert style[0] == "solid" and style[1] == "3px", style  # a visible focus ring
    await tab.shot("verify-keyboard")
    await page.keyboard.press("Enter")
    await page.locator('#result [data-verdict="pass"]').wait_for()
    assert tab.errors == []
    await page.context.close()


async def test_a_tlog_proof_file_can_be_chosen_and_a_policy_names_the_witnesses(
    browser, site, charity, store, tmp_path
):
    """A bare .tlog-proof through the file input; a c2sp.org/tlog-policy instead of a vkey:
    cosignatures (cosignature/v1) checked, the quorum applied, the witnesses named."""
    seeded = await site_tests.seed(charity)
    proof_text = (
        await charity.client.get(charity.url(f"/log/entries/{seeded['donation']}/proof"))
    ).text
    keys = (await charity.client.get(charity.url("/log/keys"))).text.strip()
    witness_a = replace(
        CosignatureSigner.from_seed("witness.example/akuntan", bytes(range(32))),
        clock=lambda: 1_790_000_000,
    )
    witness_b = CosignatureSigner.from_seed("witness.example/zakat", bytes(range(1, 33)))
    parsed = parse_proof(proof_text)
    cosigned = format_proof(
        TlogProof(
            parsed.index, parsed.proof, add_signatures(parsed.checkpoint, [witness_a]), parsed.extra
        )
    )
    policy = (
        f"log {keys}\nwitness A {witness_a.vkey()}\nwitness B {witness_b.vkey()}\n"
        "group any-one any A B\nquorum any-one\n"
    )
    both = policy.replace("any A B", "all A B")
    assert verify_receipt(cosigned, [], parse_policy(policy)).witnesses == ("A",)

    tab = await open_tab(browser, site, 390)
    page = tab.page
    await tab.goto("/verify?lang=en")
    path = tmp_path / "receipt.tlog-proof"
    path.write_text(cosigned)
    await page.set_input_files("#receipt-file", str(path))
    await page.wait_for_function("document.querySelector('#receipt').value.length > 0")
    result = await verify_in_page(tab, await page.input_value("#receipt"), keys=policy)
    assert result["verdict"] == "pass" and result["witnesses"] == "A", result
    assert result["amount"] == "Rp 1.250.000" and result["date"] == "1 November 2026"
    await tab.shot("verify-policy")
    result = await verify_in_page(tab, cosigned, keys=both)
    assert result["verdict"] == "fail" and result["reason"] == "quorum", result
    assert "vouched by A" in await page.locator("#result code").text_content()
    assert tab.errors == []
    await page.context.close()


# --- the JavaScript verifier against the Python reference ----------------------------------


async def test_javascript_verifier_agrees_with_the_python_reference(browser, site, charity):
    """Golden vectors (docs/FORMAT.md, the Go checksum database's tlog) and every tampering of
    tests/verify/test_offline.py: the browser's verdict class equals ledger.verify.offline's."""
    seeded = await site_tests.seed(charity)
    tab = await open_tab(browser, site)
    await tab.goto("/verify")
    page = tab.page

    go = GO_SUMDB
    roots = {r["size"]: r["root"] for r in go["roots"]}
    checked = await page.evaluate(
        """async ([cases, roots]) => {
            const T = window.TlogVerify, enc = new TextEncoder();
            for (const c of cases) {
              const leaf = await T.leafHash(enc.encode("leaf " + c.index));
              const proof = c.proof.map((h) => T.b64decode(h, "proof"));
              const root = await T.rootFromInclusion(leaf, BigInt(c.index), BigInt(c.size), proof);
              if (T.b64encode(root) !== roots[c.size]) return "root mismatch at " + JSON.stringify(c);
            }
            return cases.length;
        }""",
        [go["inclusion"], roots],
    )
    assert checked == len(go["inclusion"]), checked

    log = json.loads((REPO / "docs" / "vectors" / "log.json").read_text())
    golden = await page.evaluate(
        """async ([log, goNote, goName]) => {
            const T = window.TlogVerify, enc = new TextEncoder();
            const key = await T.parseVkey(log.vkey);
            const opened = await T.openNote(log.checkpoint, [key]);
            const cp = T.parseCheckpoint(opened.note.text);
            const goKey = await T.parseVkey(log.vkey);
            await T.openNote(goNote, [goKey]);
            const canon = log.entries.map((e) => T.canonicalJson(JSON.parse(e.canonical)) === e.canonical);
            const d = log.donor_commitment;
            return {
              size: String(cp.size), root: T.b64encode(cp.root),
              canonical: canon.every(Boolean),
              commitment: await T.commitmentOf(T.b64decode(d.salt, "salt"), d.personal) === d.commitment,
              leaf: T.b64encode(await T.leafHash(enc.encode(log.entries[2].canonical))),
            };
        }""",
        [log, go["checkpoint"]["signed_note"], go["checkpoint"]["key_name"]],
    )
    assert golden == {
        "size": "3",
        "root": "Lih4Ou4ck5de50GpPUd2B15GJWJFBMsa0LlsnBOnrZY=",
        "canonical": True,
        "commitment": True,
        "leaf": log["entries"][2]["leaf_hash"],
    }

    # Every tampering: the same verdict class in the browser as in Python.
    receipt = await charity.receipt(seeded["donation"])
    keys = (await charity.client.get(charity.url("/log/keys"))).text.strip()
    text = json.loads(receipt)["tlog_proof"]
    p = parse_proof(text)
    lines = text.split("\n")
    extra = base64.b64encode(p.extra).decode()
    changed = bytearray(p.extra)
    changed[changed.index(b"125000000")] = ord("9")
    altered = base64.b64encode(bytes(changed)).decode()
    cp_lines = p.checkpoint.split("\n")
    cp_lines[1] = str(int(cp_lines[1]) + 1)
    opening = json.loads(receipt)
    opening["donor_opening"]["personal"]["name"] = "Someone Else"
    cases = {
        "good receipt": receipt,
        "good proof": text,
        "flipped proof": flip_proof_character(receipt),
        "wrong index": text.replace(f"index {p.index}\n", f"index {p.index + 1}\n"),
        "trailing garbage": text + "garbage\n",
        "no entry bytes": "\n".join(line for line in lines if not line.startswith("extra ")),
        "altered entry": text.replace(extra, altered),
        "checkpoint size": text.replace(p.checkpoint, "\n".join(cp_lines)),
        "donor opening": json.dumps(opening),
        "not a receipt": '{"format": "something else"}',
        "empty": " ",
    }
    assert altered != extra
    python = {name: _python_verdict(value, keys) for name, value in cases.items()}
    browser_verdicts = await page.evaluate(
        """async ([cases, keys]) => {
            const T = window.TlogVerify, out = {};
            const trusted = await T.parseTrusted(keys);
            for (const [name, text] of Object.entries(cases)) {
              try { await T.verifyReceipt(text, trusted.verifiers, null); out[name] = "pass"; }
              catch (err) { out[name] = err.name || String(err); }
            }
            return out;
        }""",
        [cases, keys],
    )
    assert browser_verdicts == python, (browser_verdicts, python)
    assert python["good receipt"] == "pass" and python["flipped proof"] == "InclusionProofError"
    assert tab.errors == []
    await page.context.close()


def _python_verdict(text: str, keys: str) -> str:
    try:
        verify_receipt(text, [parse_vkey(k) for k in keys.split()])
    except VerificationError as exc:
        return type(exc).__name__
    return "pass"


# --- reversals ----------------------------------------------------------------------------


async def test_a_reversed_gift_is_valid_but_reversed_in_the_browser(browser, site, charity, store):
    from tests.charity.test_reversals import EFFECTIVE, REASON, reversed_gift
    from tests.logkit import assert_log_verifies

    kept, wrong, correction = await reversed_gift(charity)
    keys = (await charity.client.get(charity.url("/log/keys"))).text.strip()
    for lang, width in (("id", 1280), ("en", 390)):
        tab = await open_tab(browser, site, width)
        page = tab.page
        suffix = "?lang=en" if lang == "en" else ""
        await tab.goto(f"/orgs/{charity.slug}/entries/{wrong['index']}{suffix}")
        banner = page.locator(".reversal-banner")
        assert await banner.is_visible()
        await banner.locator(f'a[href*="/entries/{correction["index"]}"]').click()
        await page.wait_for_url(f"**/entries/{correction['index']}{suffix}")
        await page.locator(f'a[data-corrects="{wrong["index"]}"]').first.click()
        await page.wait_for_url(f"**/entries/{wrong['index']}{suffix}")
        await tab.shot(f"entry-reversed-{lang}")

        await tab.goto(f"/verify{suffix}")
        reversed_result = await verify_in_page(tab, await charity.receipt(wrong["index"]), keys)
        assert reversed_result["verdict"] == "pass", reversed_result
        status = page.locator("#result [data-status]")
        assert await status.get_attribute("data-status") == "reversed"
        expected = "DIBATALKAN" if lang == "id" else "REVERSED"
        assert expected in reversed_result["text"]
        assert f"{correction['index']}" in reversed_result["status"]
        assert REASON in reversed_result["status"]
        # The correction's value date, in words (the same in both languages here).
        assert "25 November 2026" in reversed_result["status"], (EFFECTIVE, reversed_result)
        assert ("tidak lagi dihitung" if lang == "id" else "no longer counts") in reversed_result[
            "status"
        ]
        await tab.shot(f"verify-reversed-{lang}")

        kept_result = await verify_in_page(tab, await charity.receipt(kept["index"]), keys)
        assert kept_result["verdict"] == "pass"
        assert await status.get_attribute("data-status") == "counts"
        assert expected not in kept_result["text"]

        # A reversal proof of the wrong entry is refused, as by ledger-verify.
        receipt = json.loads(await charity.receipt(wrong["index"]))
        forged = json.dumps(dict(receipt, reversal_proof=receipt["fund_proof"]))
        refused = await verify_in_page(tab, forged, keys)
        assert refused["verdict"] == "fail", refused
        assert tab.errors == []
        await page.context.close()
    await assert_log_verifies(store)
