"""The public website over HTTP: pages show the API's numbers, speak Indonesian and English,
link nothing outside the site, and answer 404 pages in the page's language.

Amounts on pages carry their integer minor units in ``<data value>``; the tests compare
those with the JSON API (``/funds``, ``/balances``), never parse formatted text.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from ledger.formats.note import parse_vkey
from ledger.verify.offline import verify_tlog_proof
from tests.apikit import DONOR, Org, auth

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "poster", "srcset", "data")


# --- helpers ------------------------------------------------------------------------------


async def seed(charity: Org) -> dict[str, Any]:
    """Funds in two currencies (one with a 0% cap), beneficiaries, donations, a fee and
    disbursements. Returns the index of the donation with personal data."""
    await charity.fund("senyum-2026", name="#SenyumAnak 2026")
    await charity.fund("zakat-2026", name="Zakat 2026", fee_cap_bps=0)
    await charity.fund("usd-relief", currency="USD", name="Relief (USD)")
    await charity.beneficiary("lksa-harapan", name="LKSA Harapan Bunda")
    await charity.beneficiary("lksa-kasih", name="LKSA Kasih Ibu", city="Surabaya")
    siti = await charity.donate(125_000_000, donor=DONOR, channel="qris", reference="QRIS-0001")
    await charity.donate(75_000_050)
    await charity.donate(20_000_000, fund="zakat-2026")
    await charity.donate(1_250, fund="usd-relief", currency="USD")
    await charity.ok(
        "/fees",
        {
            "fund": "senyum-2026",
            "amount": 10_000_000,
            "currency": "IDR",
            "charged_on": "2026-11-03",
            "description": "platform fee 5%",
        },
    )
    for amount, fund, to in (
        (50_000_000, "senyum-2026", "lksa-harapan"),
        (5_000_000, "zakat-2026", "lksa-kasih"),
    ):
        r = await charity.disburse(amount, fund=fund, to=to)
        assert r.status_code == 201, r.text
    return {"donation": siti["index"]}


@dataclass
class Amount:
    value: int
    currency: str
    field: str | None
    context: dict[str, str]


@dataclass
class Page(HTMLParser):
    """A page's amounts (with the data-* context around each), URLs and ids."""

    html: str
    amounts: list[Amount] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    ids: dict[str, dict[str, str | None]] = field(default_factory=dict)
    lang: str | None = None
    _stack: list[dict[str, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self.feed(self.html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.urls.extend(str(a[n]) for n in URL_ATTRIBUTES if a.get(n) is not None)
        if tag == "html":
            self.lang = a.get("lang")
        if "id" in a:
            self.ids[str(a["id"])] = a
        if tag == "data":
            context: dict[str, str] = {}
            for outer in self._stack:
                context.update({k: str(v) for k, v in outer.items() if k.startswith("data-")})
            self.amounts.append(
                Amount(int(str(a["value"])), str(a["data-currency"]), a.get("data-field"), context)
            )
        if tag not in VOID:
            self._stack.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self._stack:
            self._stack.pop()

    def amount(self, field: str, **context: str) -> int:
        """The one amount with this data-field inside elements with these data-* values."""
        found = [
            a.value
            for a in self.amounts
            if a.field == field and all(a.context.get(f"data-{k}") == v for k, v in context.items())
        ]
        assert len(found) == 1, (field, context, found)
        return found[0]


async def page(charity: Org, url: str, status: int = 200) -> Page:
    r = await charity.client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("text/html")
    return Page(r.text)


async def api(charity: Org, path: str) -> Any:
    r = await charity.client.get(charity.url(path))
    assert r.status_code == 200, r.text
    return r.json()


# --- pages and numbers --------------------------------------------------------------------


async def test_home_and_organization_pages_show_the_api_totals(charity):
    await seed(charity)
    funds = (await api(charity, "/funds"))["items"]
    balances = {
        (b["account"], b["currency"]): b["amount"]
        for b in (await api(charity, "/balances"))["balances"]
    }
    per_currency: dict[str, dict[str, int]] = {}
    for f in funds:
        sums = per_currency.setdefault(f["currency"], {"raised": 0, "disbursed": 0, "balance": 0})
        for k in sums:
            sums[k] += f[k]
    assert set(per_currency) == {"IDR", "USD"}

    home = await page(charity, "/")
    for currency, sums in per_currency.items():
        for k, v in sums.items():
            assert home.amount(k, org=charity.slug, currency=currency) == v
    assert "Rp 2.200.000,50" in home.html  # raised in IDR: 1.250.000 + 750.000,50 + 200.000

    org = await page(charity, f"/orgs/{charity.slug}")
    for f in funds:
        for k in ("raised", "disbursed", "fees", "balance"):
            assert org.amount(k, fund=f["code"]) == f[k], (f["code"], k)
        assert (
            org.amount("balance", fund=f["code"]) == balances[(f"fund:{f['code']}", f["currency"])]
        )
    for code in ("lksa-harapan", "lksa-kasih"):
        assert org.amount("received", beneficiary=code) == balances[(f"beneficiary:{code}", "IDR")]
    idr = per_currency["IDR"]
    assert org.amount("raised", currency="IDR") == idr["raised"]
    assert org.amount("balance", currency="IDR") == idr["balance"]
    assert "Rp 1.250.000" in org.html and "US$ 12,50" in org.html

    # overhead vs cap: 10,000,000 of 200,000,050 raised is 4.99%, within the 10% cap
    senyum = next(f for f in funds if f["code"] == "senyum-2026")
    assert f'data-overhead-bps="{senyum["overhead_bps"]}" data-cap-bps="1000"' in org.html
    assert "4,99% dari batas 10%" in org.html
    assert "batas 0% (zakat/bencana)" in org.html

    # the latest entries, the checkpoint, the keys to pin, the certificate
    head = (await charity.client.get(charity.url("/log/checkpoint"))).text.split("\n")
    assert (
        org.ids["checkpoint-note"] is not None
        and f'<span data-field="checkpoint-size">{head[1]}<' in org.html
    )
    keys = (await charity.client.get(charity.url("/log/keys"))).text.strip()
    assert f'<pre class="code-block" id="vkeys">{keys}</pre>' in org.html
    assert f"/v1/orgs/{charity.slug}/certificate" in org.urls
    size = int(head[1])
    for index in range(size):
        assert f"/orgs/{charity.slug}/entries/{index}" in org.urls
    assert (
        "Siti A." in org.html
        and "siti@example.id" not in org.html
        and "Siti Aminah" not in org.html
    )


async def test_overhead_above_the_cap_is_flagged(charity):
    """A correction that takes back a donation can leave fees above the cap: the page says so."""
    await charity.fund()
    first = await charity.donate(1_000_000)
    await charity.donate(1_000_000)
    await charity.ok(
        "/fees",
        {
            "fund": "senyum-2026",
            "amount": 200_000,
            "currency": "IDR",
            "charged_on": "2026-11-03",
            "description": "10%",
        },
    )
    await charity.ok("/corrections", {"corrects": first["index"], "reason": "bounced transfer"})
    fund = await api(charity, "/funds/senyum-2026")
    assert fund["over_cap"] and fund["overhead_bps"] == 2000
    org = await page(charity, f"/orgs/{charity.slug}?lang=en")
    assert "20% of a 10% cap" in org.html and "Over the cap" in org.html
    assert "reverses entry" in org.html


async def test_entries_are_paginated_newest_first(charity):
    await charity.fund()
    for _ in range(23):
        await charity.donate(10_000)
    size = 25  # log.created, fund.created, 23 donations
    first = await page(charity, f"/orgs/{charity.slug}")
    rows = [int(i) for i in re.findall(r'<tr data-index="(\d+)"', first.html)]
    assert rows == list(range(size - 1, size - 21, -1))
    assert f"/orgs/{charity.slug}?before=5#entries" in first.urls
    older = await page(charity, f"/orgs/{charity.slug}?before=5&lang=en")
    assert [int(i) for i in re.findall(r'<tr data-index="(\d+)"', older.html)] == [4, 3, 2, 1, 0]
    assert f"/orgs/{charity.slug}?before=25&lang=en#entries" in older.urls  # newer, in English
    assert "Entries 0–4 of 25" in older.html


async def test_entry_page_shows_the_proof_data_of_the_api(charity):
    seeded = await seed(charity)
    index = seeded["donation"]
    view = await api(charity, f"/log/entries/{index}")
    entry = await page(charity, f"/orgs/{charity.slug}/entries/{index}")
    canonical = base64.b64decode(view["canonical"]).decode()
    assert _text(entry.html, "canonical") == canonical
    for name in ("leaf_hash", "entry_hash", "prev_hash"):
        assert f'data-field="{name}">{view[name]}<' in entry.html
    proof = (await charity.client.get(charity.url(f"/log/entries/{index}/proof"))).text
    assert _text(entry.html, "tlog-proof") == proof
    keys = (await charity.client.get(charity.url("/log/keys"))).text.split()
    assert verify_tlog_proof(proof, [parse_vkey(k) for k in keys]).index == index
    assert f"/v1/orgs/{charity.slug}/log/entries/{index}/proof" in entry.urls
    assert "Rp 1.250.000" in entry.html and "QRIS-0001" in entry.html and "Siti A." in entry.html
    assert "Siti Aminah" not in entry.html
    assert f"/orgs/{charity.slug}/entries/{index - 1}" in entry.urls


def _text(html: str, element_id: str) -> str:
    """The text of the element with this id (unescaped)."""
    import html as html_module

    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</pre>', html, re.S)
    assert match, element_id
    return html_module.unescape(match.group(1))


async def test_text_from_the_log_is_escaped(charity):
    await charity.fund()
    await charity.donate(
        1_000, donor={"public_name": "<script>alert(1)</script>"}, message="<b>hi</b>"
    )
    for url in (f"/orgs/{charity.slug}", f"/orgs/{charity.slug}/entries/2"):
        html = (await page(charity, url)).html
        assert "<script>alert(1)</script>" not in html and "<b>hi</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- languages ----------------------------------------------------------------------------


async def test_language_switch_keeps_the_page(charity):
    await seed(charity)
    path = f"/orgs/{charity.slug}"
    indonesian = await page(charity, path + "?before=5")
    assert indonesian.lang == "id"
    assert "Dana dan kampanye" in indonesian.html and "Penerima manfaat" in indonesian.html
    assert f"{path}?before=5&lang=en" in indonesian.urls  # the switch keeps path and query
    english = await page(charity, path + "?before=5&lang=en")
    assert english.lang == "en"
    assert "Funds and campaigns" in english.html and "Beneficiaries" in english.html
    assert "Dana dan kampanye" not in english.html
    assert f"{path}?before=5&lang=id" in english.urls
    assert f"/orgs/{charity.slug}/entries/0?lang=en" in english.urls  # links stay in English
    assert english.amount("raised", fund="senyum-2026") == indonesian.amount(
        "raised", fund="senyum-2026"
    )

    for url, words_id, words_en in (
        ("/", "Organisasi yang tercatat", "Organizations on the ledger"),
        ("/verify", "Periksa tanda terima donasi", "Check a donation receipt"),
        (f"/orgs/{charity.slug}/entries/3", "Data pembuktian", "Proof data"),
    ):
        sep = "&" if "?" in url else "?"
        assert words_id in (await page(charity, url)).html
        en = await page(charity, url + sep + "lang=en")
        assert words_en in en.html and en.lang == "en"
    assert (await page(charity, "/?lang=xx")).lang == "id"  # anything else: Indonesian


# --- nothing from elsewhere ---------------------------------------------------------------


async def test_no_page_links_or_loads_anything_from_another_host(charity):
    seeded = await seed(charity)
    urls = [
        "/",
        f"/orgs/{charity.slug}",
        f"/orgs/{charity.slug}/entries/0",
        f"/orgs/{charity.slug}/entries/{seeded['donation']}",
        "/verify",
        f"/verify?org={charity.slug}",
        "/orgs/nope",
    ]
    for url in urls:
        for lang in ("id", "en"):
            r = await charity.client.get(f"{url}{'&' if '?' in url else '?'}lang={lang}")
            assert r.status_code in (200, 404)
            csp = r.headers["content-security-policy"]
            assert "connect-src 'none'" in csp and "default-src 'none'" in csp
            found = Page(r.text)
            assert found.urls
            for link in found.urls:
                parts = urlsplit(link)
                assert not parts.scheme and not parts.netloc, (url, link)
            assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", r.text)
    for asset in ("site.css", "site.js", "tlog-verify.js", "verify-page.js"):
        r = await charity.client.get(f"/site-assets/{asset}")
        assert r.status_code == 200
        assert not re.search(r"https?://|@import|url\(", r.text), asset


# --- errors -------------------------------------------------------------------------------


async def test_not_found_pages_speak_the_page_language(charity):
    await charity.fund()
    for url in (
        "/orgs/nope",
        f"/orgs/{charity.slug}/entries/999",
        f"/orgs/{charity.slug}/entries/abc",
        f"/orgs/{charity.slug}/entries/-1",
        f"/orgs/{charity.slug}/statements/999",
        "/orgs/nope/entries/0",
    ):
        found = await page(charity, url, 404)
        assert found.lang == "id" and "Halaman tidak ditemukan" in found.html
        english = await page(charity, url + "?lang=en", 404)
        assert english.lang == "en" and "Page not found" in english.html
    api_error = await charity.client.get("/v1/orgs/nope")
    assert api_error.status_code == 404
    assert api_error.headers["content-type"].startswith("application/problem+json")


# --- statements and verify ----------------------------------------------------------------


async def test_statements_are_listed_with_their_pdfs_or_none_yet(charity):
    await seed(charity)
    org = await page(charity, f"/orgs/{charity.slug}")
    assert "Belum ada laporan." in org.html
    served = any(r.path == "/v1/orgs/{slug:str}/statements" for r in charity.client.app.routes)
    if not served:
        return
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    body = {"from": today.isoformat(), "to": (today + dt.timedelta(days=1)).isoformat()}
    r = await charity.client.post(
        charity.url("/statements"),
        json=body,
        headers=auth(charity.keys["admin"], **{"Idempotency-Key": "s1"}),
    )
    assert r.status_code == 201, r.text
    statement = r.json()
    org = await page(charity, f"/orgs/{charity.slug}?lang=en")
    assert statement["pdf_id_url"] in org.urls and statement["pdf_en_url"] in org.urls
    assert "No statements yet." not in org.html
    one = await page(charity, f"/orgs/{charity.slug}/statements/{statement['id']}")
    assert statement["sha256"]["pdf_id"] in one.html and statement["csv_url"] in one.urls
    pdf = await charity.client.get(statement["pdf_en_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_verify_page_runs_in_the_browser_only(charity):
    await charity.fund()
    verify = await page(charity, f"/verify?org={charity.slug}")
    assert verify.ids["verify-form"]["data-org"] == charity.slug
    for script in ("/site-assets/tlog-verify.js", "/site-assets/verify-page.js"):
        assert script in verify.urls
    assert verify.ids["verify-form"].get("action") is None  # nothing is ever posted
    assert '"IDR": [2, "Rp"]' in verify.html or '"IDR":[2,"Rp"]' in verify.html
    labels = re.findall(r'<label[^>]* for="([^"]+)"', verify.html)
    assert set(labels) >= {"receipt", "keys", "receipt-file"}
    unknown = await page(charity, "/verify?org=nope")  # a hint that does not apply: no 404
    assert unknown.ids["verify-form"]["data-org"] == ""
