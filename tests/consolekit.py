"""Helpers for console tests: the real app over HTTPS-looking URLs (the console's cookies are
``Secure``), staff accounts made through the domain, and logging in through the login form."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from ledger.charity import staff
from ledger.store.log import Organization, Store

PASSWORD = "kopi-susu-pagi-hari"
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')
_FORM_ID = re.compile(r'name="form_id" value="([^"]*)"')


@asynccontextmanager
async def browser_like(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """Another client on the running app of ``client`` (conftest's fixture), at https:// so
    that Secure cookies are kept and sent, and without following redirects."""
    transport = httpx.ASGITransport(app=client.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        yield c


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf field on the page"
    return found.group(1)


def form_id_of(html: str) -> str:
    found = _FORM_ID.search(html)
    assert found, "no form_id field on the page"
    return found.group(1)


async def account(
    store: Store, org: Organization, email: str, role: str, *, must_change: bool = False
) -> staff.StaffRow:
    return await staff.create_staff(
        store,
        org,
        email,
        email.split("@")[0].title(),
        role,
        PASSWORD,
        None,
        must_change=must_change,
    )


async def log_in(
    c: httpx.AsyncClient, slug: str, email: str, password: str = PASSWORD, code: str = ""
) -> httpx.Response:
    page = await c.get("/console/login")
    assert page.status_code == 200, page.text
    return await c.post(
        "/console/login",
        data={
            "csrf": csrf_of(page.text),
            "org": slug,
            "email": email,
            "password": password,
            "code": code,
            "next": "",
        },
    )


async def post_form(c: httpx.AsyncClient, path: str, page: str, **fields: Any) -> httpx.Response:
    """Submit a console form as a browser would, with the page's csrf (and form_id, if any)."""
    data = {"csrf": csrf_of(page), **fields}
    found = _FORM_ID.search(page)
    if found and "form_id" not in fields:
        data["form_id"] = found.group(1)
    return await c.post(path, data={k: str(v) for k, v in data.items()})
