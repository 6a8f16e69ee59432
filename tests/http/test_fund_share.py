"""A fund page's target, share card and evidence status (issue 17): the progress bar and
the card say the API's numbers (``GET …/funds/{code}`` and ``…/target``), in id and en; the
card is a 1200×630 PNG whose words equal the page's ``og:description``, cached by ETag;
the Open Graph and Twitter tags point to it under ``LEDGER_PUBLIC_URL``; the newest
disbursements say whether their evidence is missing, private or public, and the entry page
shows the public copy with what was redacted. At 390 px in Chromium nothing overflows."""

from __future__ import annotations

import datetime as dt
import hashlib
import html as htmllib
import io
import re
from pathlib import Path

from PIL import Image

from tests.apikit import DONOR, app_client
from tests.charity.test_evidence import TINY_JPEG, upload
from tests.charity.test_public_evidence import publish
from tests.http.test_fund_page import seed_fund
from tests.http.test_site_browser import (  # noqa: F401  (fixtures)
    SCREENSHOTS,
    browser,
    open_tab,
    site,
)
from tests.logkit import assert_log_verifies

PUBLIC = "https://transparansi.example"


WIDER = """width => [...document.querySelectorAll('#evidence *')]
  .filter(el => el.getBoundingClientRect().right > width)
  .map(el => el.tagName + '.' + el.className)"""
"""The elements of the evidence section that stick out of a ``width`` wide page."""


def meta(html: str, key: str) -> str:
    """The ``content`` of the page's ``<meta property|name=key>``, unescaped."""
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    assert found is not None, key
    return htmllib.unescape(found.group(1))


def redacted_png() -> bytes:
    """A real picture (a blacked-out transfer slip), as a redacted copy would be."""
    image = Image.new("RGB", (320, 200), (250, 250, 250))
    image.paste((20, 20, 20), (40, 60, 280, 90))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def seed_target(charity) -> dict:  # type: ignore[no-untyped-def]
    """The fund of test_fund_page (Rp 2.000.000 raised, Rp 700.000 to 2 orphanages) with a
    target of Rp 5.000.000 ten days from now; evidence: none, private, public."""
    api = await seed_fund(charity)
    deadline = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    target = await charity.ok(
        "/funds/senyum-2026/target",
        {"amount": 500_000_000, "currency": "IDR", "deadline": deadline, "note": "Asrama baru"},
        "admin",
    )
    latest = (await charity.client.get(charity.url("/entries?kind=disbursement"))).json()
    indexes = sorted(e["index"] for e in latest["items"])
    assert len(indexes) == 3
    private, public = indexes[0], indexes[1]
    for index in (private, public):
        r = await upload(charity.client, charity, index, TINY_JPEG, "image/jpeg")
        assert r.status_code == 201, r.text
    r = await publish(
        charity.client, charity, public, hashlib.sha256(TINY_JPEG).hexdigest(), redacted_png()
    )
    assert r.status_code == 201, r.text
    return {
        **api,
        "private": private,
        "public": public,
        "none": indexes[2],
        "published": r.json()["index"],
        "target": target["index"],
    }


async def test_target_and_share_tags_equal_the_api(charity, store, settings):
    seeded = await seed_target(charity)
    target = (await charity.client.get(charity.url("/funds/senyum-2026/target"))).json()
    assert (target["raised"], target["amount"], target["percent"]) == (200_000_000, 500_000_000, 40)
    async with app_client(settings, public_url=PUBLIC) as client:
        r = await client.get(f"/orgs/{charity.slug}/funds/senyum-2026")
        assert r.status_code == 200, r.text
        html = r.text
        section = re.search(r'<section class="card target".*?</section>', html, re.S)
        assert section is not None
        text = section.group(0)
        assert f'data-percent="{target["percent"]}"' in text
        assert f'data-target="{target["amount"]}" data-raised="{seeded["raised"]}"' in text
        assert "Rp 2.000.000 dari target Rp 5.000.000" in text
        assert "40% dari target tercapai" in text
        assert f'data-days-left="{target["days_left"]}"' in text
        assert f"{target['days_left']} hari lagi" in text and "Asrama baru" in text
        assert 'width="40"' in text and 'role="img"' in text  # the bar, and its name
        card = meta(html, "og:description")
        assert card.startswith(
            "Rp 2.000.000 terkumpul · Rp 700.000 tersalurkan ke 2 panti asuhan · diperiksa "
        )
        assert card.endswith(" · 40% dari target Rp 5.000.000")
        assert meta(html, "twitter:description") == card == meta(html, "description")
        assert meta(html, "twitter:card") == "summary_large_image"
        image = f"{PUBLIC}/orgs/{charity.slug}/funds/senyum-2026/card.png"
        assert meta(html, "og:image") == meta(html, "twitter:image") == image
        assert meta(html, "og:url") == f"{PUBLIC}/orgs/{charity.slug}/funds/senyum-2026"
        assert (meta(html, "og:image:width"), meta(html, "og:image:height")) == ("1200", "630")
        assert DONOR["email"] not in html and DONOR["name"] not in html
        en = (await client.get(f"/orgs/{charity.slug}/funds/senyum-2026?lang=en")).text
        assert "Rp 2.000.000 of the Rp 5.000.000 target" in en
        assert f"{target['days_left']} days left" in en
        assert meta(en, "og:image") == image + "?lang=en"
        assert meta(en, "og:description").endswith(" · 40% of the Rp 5.000.000 target")
    # The evidence status of the newest disbursements.
    statuses = dict(
        re.findall(r'<li data-entry="(\d+)">.*?data-evidence="(\w+)"', html, re.S)
    )
    assert statuses == {
        str(seeded["private"]): "attached",
        str(seeded["public"]): "public",
        str(seeded["none"]): "none",
    }
    assert "Bukti terlampir (tidak publik)" in html and "Belum ada bukti" in html
    copy = hashlib.sha256(redacted_png()).hexdigest()
    assert f"/v1/orgs/{charity.slug}/public-evidence/{copy}" in html
    original = hashlib.sha256(TINY_JPEG).hexdigest()
    assert f"public-evidence/{original}" not in html
    # The entry page of the disbursement shows the public copy, what was redacted, its hash.
    entry = (await charity.client.get(f"/orgs/{charity.slug}/entries/{seeded['public']}")).text
    assert 'data-evidence="public"' in entry and f'data-sha256="{copy}"' in entry
    assert "disamarkan: nomor rekening, tanda tangan" in entry and copy in entry
    assert f'<img src="/v1/orgs/{charity.slug}/public-evidence/{copy}"' in entry
    assert "1 berkas bukti asli terlampir" in entry
    published = await charity.client.get(f"/orgs/{charity.slug}/entries/{seeded['published']}")
    assert "Bukti dipublikasikan (disamarkan)" in published.text
    assert f'data-sha256="{copy}"' in published.text and original in published.text
    goal = await charity.client.get(f"/orgs/{charity.slug}/entries/{seeded['target']}")
    assert "Target dana ditetapkan" in goal.text and "target #SenyumAnak 2026: Rp 5.000.000" in goal.text
    private = (await charity.client.get(f"/orgs/{charity.slug}/entries/{seeded['private']}")).text
    assert 'data-evidence="attached"' in private and "public-evidence/" not in private
    await assert_log_verifies(store)


async def test_a_target_past_its_deadline_reads_ended(charity):
    await charity.fund(name="Kampanye Lama")
    await charity.donate(250_000_00)
    await charity.ok(
        "/funds/senyum-2026/target",
        {"amount": 200_000_00, "currency": "IDR", "deadline": "2025-06-30"},
        "admin",
    )
    html = (await charity.client.get(f"/orgs/{charity.slug}/funds/senyum-2026")).text
    assert "Berakhir pada 30 Juni 2025" in html and 'data-percent="125"' in html
    assert 'width="100"' in html  # the bar stops at full; the text says 125%
    assert "125% dari target tercapai" in html
    await charity.ok("/funds/senyum-2026/target", {"amount": None, "currency": "IDR"}, "admin")
    cleared = (await charity.client.get(f"/orgs/{charity.slug}/funds/senyum-2026")).text
    assert 'class="card target"' not in cleared and "dari target" not in cleared


async def test_the_share_card_is_a_png_with_the_page_words_cached_by_etag(charity):
    await seed_target(charity)
    client = charity.client
    page = (await client.get(f"/orgs/{charity.slug}/funds/senyum-2026")).text
    path = f"/orgs/{charity.slug}/funds/senyum-2026/card.png"
    r = await client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"].startswith("public, max-age=30")
    image = Image.open(io.BytesIO(r.content))
    image.load()
    assert image.format == "PNG" and image.size == (1200, 630)
    assert image.text["Description"] == meta(page, "og:description")  # type: ignore[attr-defined]
    org = (await client.get(charity.url())).json()
    assert image.text["Title"] == f"#SenyumAnak 2026 · {org['name']}"  # type: ignore[attr-defined]
    api = await charity.fund_view()
    assert api["raised"] == 200_000_000 and "Rp 2.000.000 terkumpul" in image.text["Description"]  # type: ignore[attr-defined]
    tag = r.headers["etag"]
    again = await client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert (await client.get(path)).content == r.content  # same words, same bytes
    english = await client.get(path + "?lang=en", headers={"If-None-Match": tag})
    assert english.status_code == 200 and english.headers["etag"] != tag
    en_text = Image.open(io.BytesIO(english.content)).text["Description"]  # type: ignore[attr-defined]
    assert en_text.startswith("Rp 2.000.000 raised · Rp 700.000 disbursed to 2 beneficiaries")
    await charity.donate(1_000_000)
    grown = await client.get(path, headers={"If-None-Match": tag})
    assert grown.status_code == 200 and grown.headers["etag"] != tag
    text = Image.open(io.BytesIO(grown.content)).text["Description"]  # type: ignore[attr-defined]
    assert text.startswith("Rp 2.010.000 terkumpul")
    assert (await client.get(f"/orgs/{charity.slug}/funds/nope/card.png")).status_code == 404


async def test_target_and_evidence_fit_a_phone(browser, site, charity, tmp_path):  # noqa: F811
    seeded = await seed_target(charity)
    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    for width in (390, 1280):
        tab = await open_tab(browser, site, width)
        await tab.goto(f"/orgs/{charity.slug}/funds/senyum-2026")
        page = tab.page
        section = page.locator("#target")
        assert await section.is_visible()
        box = await page.locator("#target svg.progress").bounding_box()
        assert box is not None and 0 < box["width"] <= width
        fill = await page.locator("#target .progress-fill").bounding_box()
        assert fill is not None and abs(fill["width"] / box["width"] - 0.40) < 0.02
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        assert "40% dari target tercapai" in await section.inner_text()
        await page.screenshot(path=str(shots / f"fund-target-{width}.png"), full_page=True)
        await tab.goto(f"/orgs/{charity.slug}/entries/{seeded['public']}")
        thumb = page.locator("#evidence img")
        await thumb.scroll_into_view_if_needed()
        await page.wait_for_function("document.querySelector('#evidence img').complete")
        assert await thumb.evaluate("img => img.naturalWidth") == 320  # served to anyone
        wide = await page.evaluate(WIDER, width)
        assert wide == [], wide
        await page.locator("#evidence").screenshot(path=str(shots / f"evidence-{width}.png"))
        assert tab.errors == []
        await page.context.close()
    card = await charity.client.get(f"/orgs/{charity.slug}/funds/senyum-2026/card.png")
    (shots / "card.png").write_bytes(card.content)
