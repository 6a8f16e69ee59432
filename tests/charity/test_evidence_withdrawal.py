"""A published copy of evidence withdrawn (``evidence.withdrawn``): an admin names the
``evidence.published`` entry and a reason; the file then answers 410 Gone (problem+json, in
English and Indonesian), the pages say "Ditarik pada D: alasan" instead of showing it, both
entries stay in the log and ``ledger verify`` passes. Withdrawing twice is a 409, withdrawing
something that is not a published copy a 422, both naming ``/published``; the log is
unchanged by refusals."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from tests.apikit import Org, assert_problem, auth, head_size, idem
from tests.charity.test_public_evidence import REDACTED, attached_disbursement, publish
from tests.http.test_fund_share import WIDER
from tests.http.test_site_browser import (  # noqa: F401  (fixtures, used by name)
    SCREENSHOTS,
    browser,
    open_tab,
    site,
)
from tests.logkit import assert_log_verifies

REASON = "nama anak masih terbaca di halaman 2"


async def withdraw(  # type: ignore[no-untyped-def]
    charity: Org, published: int, reason: Any = REASON, *, role: str = "admin",
    key: str | None = None,
):  # fmt: skip
    headers = auth(charity.keys[role], **({"Idempotency-Key": key} if key else idem()))
    return await charity.client.post(
        charity.url(f"/public-evidence/{published}/withdraw"),
        json={"reason": reason},
        headers=headers,
    )


async def withdrawn(charity: Org, published: int) -> int:
    """Withdraw ``published`` as the admin; the withdrawal's entry index."""
    r = await withdraw(charity, published)
    assert r.status_code == 201, r.text
    return r.json()["index"]


async def published_copy(charity: Org) -> tuple[int, int, str]:
    """A disbursement with a public, redacted copy: (disbursement, published entry, hex)."""
    index, original = await attached_disbursement(charity)
    r = await publish(charity.client, charity, index, original, REDACTED)
    assert r.status_code == 201, r.text
    return index, r.json()["index"], hashlib.sha256(REDACTED).hexdigest()


async def test_a_withdrawn_copy_answers_410_and_both_entries_stay(charity, store):
    _, published, digest = await published_copy(charity)
    entry_before = (await charity.client.get(charity.url(f"/log/entries/{published}"))).json()
    assert (await charity.client.get(charity.url(f"/public-evidence/{digest}"))).status_code == 200

    r = await withdraw(charity, published, key="withdraw-1")
    assert r.status_code == 201, r.text
    recorded = r.json()
    assert recorded["kind"] == "evidence.withdrawn"
    again = await withdraw(charity, published, key="withdraw-1")  # a retry: replayed
    assert again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == recorded
    entry = (await charity.client.get(charity.url(f"/log/entries/{recorded['index']}"))).json()
    assert entry["document"]["body"] == {"published": published, "reason": REASON}

    gone = await charity.client.get(charity.url(f"/public-evidence/{digest}"))
    body = assert_problem(gone, 410, digest, REASON, f"entry {recorded['index']}")
    assert body["type"] == "/problems/withdrawn" and body["title"] == "Gone"
    assert REDACTED not in gone.content
    gone_id = await charity.client.get(
        charity.url(f"/public-evidence/{digest}"), headers={"Accept-Language": "id-ID,id;q=0.9"}
    )
    body = assert_problem(gone_id, 410, "ditarik pada", REASON)
    assert body["title"] == "Sudah ditarik"
    # The log is append-only: the published entry is still there, byte for byte.
    assert (
        await charity.client.get(charity.url(f"/log/entries/{published}"))
    ).json() == entry_before
    await assert_log_verifies(store)


async def test_withdrawing_twice_or_something_not_published_is_refused(charity, store):
    disbursement, published, _ = await published_copy(charity)
    withdrawal = await withdrawn(charity, published)
    before = await head_size(store, charity)

    def pointer(body: dict) -> str:
        return body["errors"][0]["pointer"]

    body = assert_problem(await withdraw(charity, published), 409, f"entry {withdrawal}")
    assert body["type"] == "/problems/already-withdrawn" and pointer(body) == "/published"
    body = assert_problem(await withdraw(charity, disbursement), 422, "disbursement entry")
    assert body["type"] == "/problems/not-published" and pointer(body) == "/published"
    body = assert_problem(await withdraw(charity, withdrawal), 422, "evidence.withdrawn entry")
    assert pointer(body) == "/published"
    body = assert_problem(await withdraw(charity, 10_000), 422, "no entry 10000")
    assert body["type"] == "/problems/not-published"
    r = await withdraw(charity, published, role="recorder")
    assert r.status_code == 403
    r = await withdraw(charity, published, reason="")
    assert pointer(assert_problem(r, 400)) == "/reason"
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)


async def test_pages_say_withdrawn_on_the_day_with_the_reason(charity, store):
    disbursement, published, digest = await published_copy(charity)
    withdrawal = await withdrawn(charity, published)
    client = charity.client
    said = re.compile(r"Ditarik pada \d{1,2} \w+ \d{4}: " + re.escape(REASON))

    page = (await client.get(f"/orgs/{charity.slug}/entries/{disbursement}")).text
    assert 'data-evidence="withdrawn"' in page and f'data-withdrawn="{withdrawal}"' in page
    assert said.search(page), page
    assert f"public-evidence/{digest}" not in page  # the file is no longer linked
    english = (await client.get(f"/orgs/{charity.slug}/entries/{disbursement}?lang=en")).text
    assert re.search(r"Withdrawn on \d{1,2} \w+ \d{4}: " + re.escape(REASON), english)

    copy = (await client.get(f"/orgs/{charity.slug}/entries/{published}")).text
    assert 'data-evidence="withdrawn"' in copy and said.search(copy)
    assert f"public-evidence/{digest}" not in copy

    taken = (await client.get(f"/orgs/{charity.slug}/entries/{withdrawal}")).text
    assert "Bukti publik ditarik" in taken
    assert f'/orgs/{charity.slug}/entries/{published}"' in taken and REASON in taken

    fund = (await client.get(f"/orgs/{charity.slug}/funds/senyum-2026")).text
    statuses = dict(re.findall(r'<li data-entry="(\d+)">.*?data-evidence="(\w+)"', fund, re.S))
    assert statuses[str(disbursement)] == "withdrawn"
    assert said.search(fund) and f"public-evidence/{digest}" not in fund
    await assert_log_verifies(store)


async def test_a_new_publication_of_the_file_is_served_again(charity, store):
    disbursement, published, digest = await published_copy(charity)
    withdrawal = await withdrawn(charity, published)
    entry = (await charity.client.get(charity.url(f"/log/entries/{published}"))).json()
    original = entry["document"]["body"]["original"]
    r = await publish(charity.client, charity, disbursement, original, REDACTED)
    assert r.status_code == 201, r.text
    served = await charity.client.get(charity.url(f"/public-evidence/{digest}"))
    assert served.status_code == 200 and served.content == REDACTED
    page = (await charity.client.get(f"/orgs/{charity.slug}/entries/{disbursement}")).text
    assert 'data-evidence="public"' in page  # one copy withdrawn, the new one served
    assert f'data-withdrawn="{withdrawal}"' in page
    assert f"public-evidence/{digest}" in page
    await assert_log_verifies(store)


async def test_the_withdrawn_notice_fits_a_phone(browser, site, charity, tmp_path):  # noqa: F811
    """In Chromium at 390 and 1280 px: the disbursement's evidence section says the copy was
    withdrawn, links no file, and nothing sticks out of the page."""
    disbursement, published, digest = await published_copy(charity)
    await withdrawn(charity, published)
    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    for width in (390, 1280):
        tab = await open_tab(browser, site, width)
        await tab.goto(f"/orgs/{charity.slug}/entries/{disbursement}")
        page = tab.page
        section = page.locator("#evidence")
        assert re.search(r"Ditarik pada \d{1,2} \w+ \d{4}: ", await section.inner_text())
        assert await page.locator(f'#evidence [href*="{digest}"]').count() == 0  # no link
        assert await page.evaluate(WIDER, width) == []
        await section.screenshot(path=str(shots / f"evidence-withdrawn-{width}.png"))
        assert tab.errors == []
        await page.context.close()
