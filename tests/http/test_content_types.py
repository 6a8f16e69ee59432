"""Every route's Content-Type, parsed strictly, and exact where a spec says so.

Go's ``mime.ParseMediaType`` (used by tlog clients) refuses a duplicated parameter, so
``text/plain; charset=utf-8; charset=utf-8`` makes a standard tiles client refuse our
checkpoint. ``parse_media_type`` below is as strict: one ``type/subtype`` token, then
``; name=value`` parameters, each name at most once. Every route is called with a request
that succeeds (the authorization matrix's requests, ``tests/http/test_api_authz.py``) and with
one that fails, and both answers are parsed.
"""

from __future__ import annotations

import re

import pytest

from tests.http.test_api_authz import (
    ACCESS,
    ALLOWED,
    DOCS,
    OPEN,
    PUBLIC,
    app_routes,
    call,
    make_world,
    published_entry,
)

TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_TYPE = re.compile(rf"^({TOKEN})/({TOKEN})$")
_PARAM = re.compile(rf'^({TOKEN})=({TOKEN}|"(?:[^"\\]|\\.)*")$')

TEXT = "text/plain; charset=utf-8"
EXACT = {
    # c2sp.org/tlog-tiles: the checkpoint MUST be text/plain; charset=utf-8
    ("GET", "/v1/orgs/{slug:str}/tlog/checkpoint"): TEXT,
    ("GET", "/v1/orgs/{slug:str}/tlog/tile/{kind:str}/{rest:path}"): "application/octet-stream",
    ("GET", "/v1/orgs/{slug:str}/log/checkpoint"): TEXT,
    ("GET", "/v1/orgs/{slug:str}/log/checkpoints/{size:int}"): TEXT,
    ("GET", "/v1/orgs/{slug:str}/log/keys"): TEXT,
    ("GET", "/v1/orgs/{slug:str}/log/entries/{index:int}/proof"): TEXT,
    ("GET", "/v1/orgs/{slug:str}/donations/{index:int}/receipt.tlog-proof"): TEXT,
    ("GET", "/v1/orgs/{slug:str}/statements/{number:int}/csv"): "text/csv; charset=utf-8",
    ("GET", "/v1/orgs/{slug:str}/statements/{number:int}/pdf"): "application/pdf",
    ("GET", "/v1/orgs/{slug:str}/log/export"): "application/x-ndjson",
    ("GET", "/metrics"): "text/plain; version=0.0.4; charset=utf-8",
    ("GET", "/problems/{name:str}"): TEXT,
}


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """``type/subtype`` (lowercase) and its parameters; ValueError on anything loose."""
    head, *params = value.split(";")
    found = _TYPE.match(head.strip())
    if not found:
        raise ValueError(f"not a media type: {value!r}")
    parsed: dict[str, str] = {}
    for param in params:
        match = _PARAM.match(param.strip())
        if not match:
            raise ValueError(f"malformed parameter {param!r} in {value!r}")
        name = match.group(1).lower()
        if name in parsed:
            raise ValueError(f"duplicate parameter {name!r} in {value!r}")
        parsed[name] = match.group(2)
    return f"{found.group(1)}/{found.group(2)}".lower(), parsed


@pytest.mark.parametrize(
    "bad",
    [
        "text/plain; charset=utf-8; charset=utf-8",
        "text/plain; charset=utf-8; CHARSET=utf-8",
        "text/plain;",
        "text",
        "text/plain; charset",
    ],
)
def test_the_parser_refuses_what_go_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_media_type(bad)


def test_the_parser_reads_what_go_reads() -> None:
    assert parse_media_type("text/plain; charset=utf-8") == ("text/plain", {"charset": "utf-8"})
    assert parse_media_type('text/plain;version=0.0.4; charset="utf-8"')[1] == {
        "version": "0.0.4",
        "charset": '"utf-8"',
    }


async def test_every_route_sends_one_well_formed_content_type(charity, store, settings, kek, owner):
    w = await make_world(charity, store, settings, kek, owner)
    routes = sorted(app_routes(w.a.client.app))
    seen: dict[tuple[str, str], str] = {}
    failures = []
    for method, path in routes:
        cls = ACCESS[(method, path)]
        if cls == DOCS or method == "HEAD":
            continue
        cred = None if cls in (PUBLIC, OPEN) else w.creds[sorted(ALLOWED[cls])[0]]
        if path.endswith("/withdraw"):
            target = await published_entry(w)
        else:
            target = (await w.a.donate(1))["index"]
        ok = await call(w, method, path, cred, target)
        if method == "DELETE" and "/api-keys/" in path:
            w.spare_keys.pop(0)
        if not 200 <= ok.status_code < 300 and cls != OPEN:  # OPEN: the body decides
            failures.append((method, path, "not ok", ok.status_code, ok.text[:200]))
            continue
        answers = [ok]
        if "{slug:str}" in path:  # the same route for an organization that does not exist
            url = path.replace("{slug:str}", "tidak-ada")
            answers.append(await w.a.client.request(method, re.sub(r"\{[^}]+\}", "1", url)))
        for r in answers:
            value = r.headers.get("content-type")
            if value is None:
                if r.status_code != 204:
                    failures.append((method, path, r.status_code, "no Content-Type"))
                continue
            try:
                media, params = parse_media_type(value)
            except ValueError as exc:
                failures.append((method, path, r.status_code, str(exc)))
                continue
            if media.startswith("text/") and params.get("charset") != "utf-8":
                failures.append((method, path, r.status_code, f"text without utf-8: {value}"))
            if r.status_code >= 400 and media != "application/problem+json":
                failures.append((method, path, r.status_code, f"error as {value}"))
            if r is ok:
                seen[(method, path)] = value
    assert not failures, "\n".join(map(str, failures))
    wrong = {k: (seen.get(k), want) for k, want in EXACT.items() if seen.get(k) != want}
    assert not wrong, wrong
    assert len(seen) >= 45, sorted(seen)
