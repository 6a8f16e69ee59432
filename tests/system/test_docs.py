"""The API documentation is served by the app and works offline (no CDN)."""

from __future__ import annotations

import re


async def test_openapi_and_offline_docs_ui(client):
    spec = (await client.get("/schema/openapi.json")).json()
    assert "/v1/orgs/{slug}/donations" in spec["paths"]
    page = await client.get("/schema")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)=["\']([^"\']+)', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 100, source
