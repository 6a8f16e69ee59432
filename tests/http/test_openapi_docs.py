"""The API docs page at ``/schema`` in a real headless Chromium: Swagger UI 5 (vendored,
served by the app) renders the OpenAPI 3.1 document, lists every operation, and loads
nothing from anywhere but the app itself.

Same browser set-up as ``tests/http/test_site_browser.py`` (Debian's chromium, Playwright);
skipped with the reason when either is missing. ``LEDGER_SCREENSHOTS=/some/dir`` keeps a
screenshot of the page.
"""

from __future__ import annotations

from tests.http.test_site_browser import browser, open_tab, pytestmark, site  # noqa: F401

UNRENDERABLE = "Unable to render this definition"


async def test_schema_page_renders_every_operation_offline(browser, site, charity):  # noqa: F811
    spec = (await charity.client.get("/schema/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    operations = {
        (method.upper(), path, op["operationId"])
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if isinstance(op, dict) and "operationId" in op
    }

    tab = await open_tab(browser, site)
    await tab.goto("/schema")
    page = tab.page
    await page.locator(".opblock").first.wait_for(timeout=20_000)
    assert UNRENDERABLE not in await page.content()
    shown = set()
    for block in await page.locator(".opblock").all():
        method = (await block.locator(".opblock-summary-method").inner_text()).strip()
        path = await block.locator(".opblock-summary-path").get_attribute("data-path")
        shown.add((method.upper(), path))
    assert shown == {(m, p) for m, p, _ in operations}
    # The operation ids are shown too (displayOperationId), e.g. createDonation.
    ids = {t.strip() for t in await page.locator(".opblock-summary-operation-id").all_inner_texts()}
    assert {"createDonation", "getReceiptPdf", "listFunds"} <= ids
    assert ids == {op for _, _, op in operations}

    # Offline: every request went to the app (no CDN), and nothing failed.
    assert tab.requests and all(url.startswith(site) for url in tab.requests), tab.requests
    assert not tab.errors, tab.errors
    await tab.shot("schema")
