"""A fund's public page shows its fundraising permit (valid, expired, exempt, not recorded)
and its classes in plain words, in both languages, and never a donor's personal data; at
phone width in Chromium the section reads without overflow."""

from __future__ import annotations

import datetime as dt

from tests.http.test_site_browser import browser, open_tab, site  # noqa: F401  (fixtures)


async def test_permit_and_classes_on_the_fund_page(charity, client):
    today = dt.date.today()
    await charity.fund("banjir", name="Tanggap Banjir")
    await charity.fund("zakat", name="Zakat Mal")
    await charity.fund("lama", name="Kampanye Lama")
    await charity.fund("baru", name="Kampanye Baru")
    await charity.ok(
        "/funds/banjir/permits",
        {
            "number": "460/5/PUB/2026",
            "issuer": "Dinas Sosial Kota Bandung",
            "valid_from": (today - dt.timedelta(days=30)).isoformat(),
            "valid_until": (today + dt.timedelta(days=60)).isoformat(),
        },
        "admin",
    )
    await charity.ok(
        "/funds/banjir/classification",
        {"restriction": "with", "zakat_class": "infak", "tax_category": "disaster"},
        "admin",
    )
    exempt = await charity.ok("/funds/zakat/permits", {"exemption": "zakat"}, "admin")
    await charity.ok(
        "/funds/lama/permits",
        {
            "number": "460/1/PUB/2025",
            "issuer": "Gubernur Jawa Barat",
            "valid_from": "2025-01-01",
            "valid_until": "2025-06-30",
        },
        "admin",
    )
    await charity.donate(10_000_00, fund="banjir", received_on=today.isoformat(),
                         donor={"email": "siti@example.org", "name": "Siti Aminah"})

    async def page(code: str, lang: str = "id") -> str:
        r = await client.get(f"/orgs/{charity.slug}/funds/{code}?lang={lang}")
        assert r.status_code == 200, r.text[:300]
        return r.text

    html = await page("banjir")
    assert 'data-permit="valid"' in html and "460/5/PUB/2026" in html
    assert "Dinas Sosial Kota Bandung" in html and "Berlaku hari ini" in html
    assert "dengan pembatasan dari pemberi sumber daya" in html
    assert "bencana nasional (PP 93/2010)" in html and "Dana infak/sedekah" in html
    assert "siti@example.org" not in html and "Siti Aminah" not in html
    en = await page("banjir", "en")
    assert "Valid today" in en and "with donor restrictions" in en
    assert 'data-permit="exempt"' in await page("zakat")
    lama = await page("lama")
    assert 'data-permit="lapsed"' in lama and "Kedaluwarsa" in lama
    entry = await client.get(f"/orgs/{charity.slug}/entries/{exempt['index']}")
    assert entry.status_code == 200 and "fund.permit" in entry.text
    baru = await page("baru")
    assert 'data-permit="none"' in baru and "Belum ada izin" in baru
    assert "tanpa pembatasan" in baru


async def test_standing_section_fits_a_phone(charity, site, browser, tmp_path):  # noqa: F811
    await charity.fund("banjir", name="Tanggap Banjir Garut 2026")
    await charity.ok(
        "/funds/banjir/permits",
        {
            "number": "460/112/PUB/DINSOS/2026",
            "issuer": "Dinas Sosial Provinsi Jawa Barat",
            "valid_from": "2026-10-01",
            "valid_until": "2099-03-31",
        },
        "admin",
    )
    await charity.ok(
        "/funds/banjir/classification",
        {"restriction": "with", "zakat_class": "infak", "tax_category": "disaster"},
        "admin",
    )
    tab = await open_tab(browser, site, width=390)
    await tab.goto(f"/orgs/{charity.slug}/funds/banjir")
    page = tab.page
    section = page.locator("#standing")
    assert await section.is_visible()
    box = await section.bounding_box()
    assert box is not None and box["width"] <= 390
    wide = await page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, wide
    assert "460/112/PUB/DINSOS/2026" in await section.inner_text()
    assert tab.errors == []
    await section.screenshot(path=str(tmp_path / "standing.png"))
    assert (tmp_path / "standing.png").stat().st_size > 1000
