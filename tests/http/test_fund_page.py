"""A fund's public page (issue 17): its figures and SVG charts equal the API's numbers
(reversed entries left out), the charts have text alternatives, the share tags carry the
headline, and the page is cacheable (ETag, Cache-Control, 304 on If-None-Match, a new tag
once the log grows). In Chromium at 390 px and desktop width, the charts' bars say the same.
"""

from __future__ import annotations

import re

from tests.apikit import DONOR
from tests.http.test_site_browser import browser, open_tab, site  # noqa: F401  (fixtures)


async def seed_fund(charity) -> dict:  # type: ignore[no-untyped-def]
    await charity.fund(name="#SenyumAnak 2026")
    await charity.beneficiary("lksa-harapan", name="LKSA Harapan Bunda")
    await charity.beneficiary("lksa-kasih", name="LKSA Kasih Ibu", city="Surabaya")
    await charity.donate(125_000_000, donor=DONOR, received_on="2026-10-20")
    await charity.donate(75_000_000, received_on="2026-11-02")
    wrong = await charity.donate(5_000_000, received_on="2026-11-03")
    await charity.ok("/corrections", {"corrects": wrong["index"], "reason": "salah catat"})
    for amount, to, purpose in (
        (40_000_000, "lksa-harapan", "food"),
        (20_000_000, "lksa-kasih", "education"),
        (10_000_000, "lksa-harapan", "education"),
    ):
        r = await charity.disburse(amount, to=to, purpose=purpose)
        assert r.status_code == 201, r.text
    return await charity.fund_view()


def amounts(html: str, chart: str, kind: str | None = None) -> list[int]:
    svg = re.search(rf'<svg class="chart" id="{chart}".*?</svg>', html, re.S)
    assert svg is not None, chart
    bars = re.findall(r"<rect class=\"bar[^\"]*\"[^>]*>", svg.group(0))
    return [
        int(re.search(r'data-amount="(\d+)"', b).group(1))  # type: ignore[union-attr]
        for b in bars
        if kind is None or f'data-kind="{kind}"' in b
    ]


async def test_fund_page_charts_equal_the_api(charity):
    api = await seed_fund(charity)
    r = await charity.client.get(f"/orgs/{charity.slug}/funds/senyum-2026")
    assert r.status_code == 200, r.text
    html = r.text
    for field in ("raised", "disbursed", "fees", "balance"):
        assert f'value="{api[field]}" data-currency="IDR" data-field="{field}"' in html, field
    assert sum(amounts(html, "monthly", "inflow")) == api["raised"] == 200_000_000
    assert sum(amounts(html, "monthly", "outflow")) == api["disbursed"] == 70_000_000
    assert sorted(amounts(html, "by-purpose")) == [30_000_000, 40_000_000]
    assert sorted(amounts(html, "by-beneficiary")) == [20_000_000, 50_000_000]
    assert "Okt 2026" in html and "Nov 2026" in html  # months in Bahasa Indonesia
    assert "57,14%" in html and "42,85%" in html  # shares, on integers, rounded down
    assert 'role="img"' in html and "<desc" in html and 'id="purpose-table"' in html
    card = "Rp 2.000.000 terkumpul · Rp 700.000 tersalurkan ke 2 panti asuhan · diperiksa"
    assert f'<meta property="og:description" content="{card}' in html
    assert DONOR["email"] not in html and DONOR["name"] not in html
    org_page = await charity.client.get(f"/orgs/{charity.slug}")
    assert f'href="/orgs/{charity.slug}/funds/senyum-2026"' in org_page.text
    missing = await charity.client.get(f"/orgs/{charity.slug}/funds/nope")
    assert missing.status_code == 404


async def test_public_pages_are_cacheable(charity):
    await seed_fund(charity)
    client = charity.client
    for path, max_age in (
        (f"/orgs/{charity.slug}/funds/senyum-2026", "max-age=30"),
        (f"/orgs/{charity.slug}", "max-age=30"),
        (f"/orgs/{charity.slug}/entries/1", "max-age=300"),
    ):
        first = await client.get(path)
        tag = first.headers["etag"]
        assert first.status_code == 200 and tag.startswith('"')
        assert first.headers["cache-control"].startswith("public, " + max_age)
        assert "stale-while-revalidate" in first.headers["cache-control"]
        again = await client.get(path, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
        english = await client.get(path + "?lang=en", headers={"If-None-Match": tag})
        assert english.status_code == 200  # another language, another tag
    fund_path = f"/orgs/{charity.slug}/funds/senyum-2026"
    tag = (await client.get(fund_path)).headers["etag"]
    await charity.donate(1_000_000)
    grown = await client.get(fund_path, headers={"If-None-Match": tag})
    assert grown.status_code == 200 and grown.headers["etag"] != tag


async def test_any_tag_is_fresh_only_for_what_exists(charity):
    """``If-None-Match: *`` (RFC 9110 section 13.1.2): 304 for a page that exists, and the
    page's 404 for a fund, card or entry that does not."""
    await seed_fund(charity)
    client, org = charity.client, f"/orgs/{charity.slug}"
    star = {"If-None-Match": "*"}
    for path in (f"{org}/funds/senyum-2026", f"{org}/funds/senyum-2026/card.png",
                 f"{org}/entries/1", org):  # fmt: skip
        r = await client.get(path, headers=star)
        assert r.status_code == 304 and r.content == b"", (path, r.status_code)
    for path in (f"{org}/funds/tidak-ada", f"{org}/funds/tidak-ada/card.png",
                 f"{org}/entries/999999", "/orgs/tidak-ada"):  # fmt: skip
        r = await client.get(path, headers=star)
        assert r.status_code == 404, (path, r.status_code)
        assert (await client.get(path)).status_code == 404


async def test_fund_page_in_the_browser(browser, site, charity):  # noqa: F811
    api = await seed_fund(charity)
    for width in (390, 1280):
        tab = await open_tab(browser, site, width)
        await tab.goto(f"/orgs/{charity.slug}")
        await tab.page.click('[data-fund="senyum-2026"] h3 a')
        await tab.page.wait_for_url("**/funds/senyum-2026")
        inflow = await tab.page.locator('#monthly rect[data-kind="inflow"]').evaluate_all(
            "bars => bars.map(b => Number(b.dataset.amount))"
        )
        assert sum(inflow) == api["raised"]
        svg = tab.page.locator("#by-beneficiary")
        box = await svg.bounding_box()
        assert box is not None and box["width"] <= width  # fits a phone
        await tab.page.click("#purpose-h ~ figure summary")
        assert await tab.page.locator("#purpose-table").is_visible()
        await tab.shot("fund")
        assert tab.errors == []
        await tab.page.context.close()
