"""The console's administration screens for gateways and webhooks, over HTTP on the real app
and database: an admin connects Midtrans (the key never comes back), a refused form keeps its
rows, other roles and forged forms are refused, a webhook is created (its secret shown once),
listed, its delivery log read and the subscription stopped; and both screens in Chromium at
390 px without sideways scrolling."""

from __future__ import annotations

import asyncio
import re
import socket

import pytest

from ledger.journal import webhooks
from ledger.journal.organizations import create_organization
from ledger.journal.webhookhttp import Sender
from ledger.store import webhooks as W
from tests.apikit import auth
from tests.console.test_console_browser import checked
from tests.console.test_console_browser import log_in as browser_log_in
from tests.consolekit import account, browser_like, csrf_of, log_in, post_form
from tests.http.test_site_browser import (  # noqa: F401  (fixtures)
    browser,
    open_tab,
    site,
)

pytestmark = pytest.mark.usefixtures("charity")

SERVER_KEY = "SB-Mid-server-kunci-rahasia-123"


@pytest.fixture
async def org(store, charity):  # type: ignore[no-untyped-def]
    await charity.fund()
    await charity.fund("zakat-2026")
    return await store.organization(charity.slug)


def free_port() -> int:
    """A loopback port nothing listens on (a receiver that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_admin_connects_midtrans_and_never_sees_the_key(client, store, org, charity) -> None:  # type: ignore[no-untyped-def]
    await account(store, org, "kepala@yayasan.id", "admin")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "kepala@yayasan.id")
        page = await c.get("/console/gateways")
        assert page.status_code == 200
        assert 'data-not-connected="midtrans"' in page.text and "Belum terhubung" in page.text
        assert 'type="password"' in page.text
        done = await post_form(
            c, "/console/gateways/midtrans", page.text,
            secret=SERVER_KEY, prefix_0="ZKT-", fund_0="zakat-2026", prefix_1="", fund_1="",
            default="senyum-2026",
        )  # fmt: skip
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/console/gateways?saved=midtrans"
        shown = await c.get(done.headers["location"])
        assert shown.status_code == 200
        assert 'data-connected="midtrans"' in shown.text and 'id="saved"' in shown.text
        assert "/v1/orgs/yayasan-senyum/gateways/midtrans/notifications" in shown.text
        assert "ZKT-" in shown.text and 'data-not-connected="xendit"' in shown.text
        assert SERVER_KEY not in shown.text and SERVER_KEY not in done.text
        # the API's GET shows the same connection, from the same use case
        api = await client.get(charity.url("/gateways"), headers=auth(charity.keys["admin"]))
        assert api.status_code == 200, api.text
        [view] = api.json()
        assert view["gateway"] == "midtrans" and view["version"] == 1
        assert view["fund_rule"] == {
            "by": "order_prefix", "field": None, "funds": {"ZKT-": "zakat-2026"},
            "default": "senyum-2026",
        }  # fmt: skip
        assert SERVER_KEY not in api.text
        # replacing it stores version 2; the form starts from the rule in force
        assert 'value="ZKT-"' in shown.text
        again = await post_form(
            c, "/console/gateways/midtrans", shown.text,
            secret=SERVER_KEY + "-baru", prefix_0="ZKT-", fund_0="zakat-2026", default="",
        )  # fmt: skip
        assert again.status_code == 303
        api = await client.get(charity.url("/gateways"), headers=auth(charity.keys["admin"]))
        assert api.json()[0]["version"] == 2 and api.json()[0]["fund_rule"]["default"] is None


async def test_refused_gateway_form_keeps_the_rule_not_the_key(client, store, org, charity) -> None:  # type: ignore[no-untyped-def]
    await account(store, org, "kepala@yayasan.id", "admin")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "kepala@yayasan.id")
        page = (await c.get("/console/gateways")).text
        short = await post_form(
            c, "/console/gateways/xendit", page,
            secret="pendek", prefix_0="QR-", fund_0="zakat-2026", default="senyum-2026",
        )  # fmt: skip
        assert short.status_code == 422
        assert 'id="problem-xendit"' in short.text and 'value="QR-"' in short.text
        assert "pendek" not in short.text  # the secret is never sent back
        half = await post_form(
            c, "/console/gateways/xendit", page,
            secret=SERVER_KEY, prefix_0="QR-", fund_0="", default="senyum-2026",
        )  # fmt: skip
        assert half.status_code == 422 and "awalan" in half.text
        empty = await post_form(c, "/console/gateways/xendit", page, secret=SERVER_KEY, default="")
        assert empty.status_code == 422 and "pilih dana bawaan" in empty.text
        api = await client.get(charity.url("/gateways"), headers=auth(charity.keys["admin"]))
        assert api.json() == []


async def test_only_admins_and_only_with_the_form_token(client, store, org) -> None:  # type: ignore[no-untyped-def]
    await account(store, org, "kepala@yayasan.id", "admin")
    for role in ("recorder", "auditor"):
        await account(store, org, f"{role}@yayasan.id", role)
        async with browser_like(client) as c:
            await log_in(c, org.slug, f"{role}@yayasan.id")
            for path in ("/console/gateways", "/console/webhooks"):
                r = await c.get(path)
                assert r.status_code == 403 and "admin" in r.text, (role, path)
            home = (await c.get("/console")).text
            assert "/console/gateways" not in home and "/console/webhooks" not in home
            r = await post_form(
                c, "/console/gateways/midtrans", home, secret=SERVER_KEY, default="senyum-2026"
            )
            assert r.status_code == 403
            r = await post_form(c, "/console/webhooks", home, url="https://example.org/h")
            assert r.status_code == 403
    async with browser_like(client) as c:
        await log_in(c, org.slug, "kepala@yayasan.id")
        page = await c.get("/console/gateways")
        fields = {"secret": SERVER_KEY, "default": "senyum-2026"}
        for token in ("", "x" * 43):
            r = await c.post("/console/gateways/midtrans", data={**fields, "csrf": token})
            assert r.status_code == 403
        r = await c.post(
            "/console/webhooks",
            data={"url": "https://example.org/h", "events": "entry.appended",
                  "csrf": csrf_of(page.text)},
            headers={"Origin": "https://evil.example"},
        )  # fmt: skip
        assert r.status_code == 403
        r = await c.post("/console/webhooks", data={"url": "https://example.org/h", "csrf": ""})
        assert r.status_code == 403
        async with store.connection() as conn:
            assert await W.subscriptions(conn, org.id) == []
        listed = await c.get("/console/gateways")
        assert 'data-not-connected="midtrans"' in listed.text
        # an admin's menu links both screens
        assert "/console/gateways" in listed.text and "/console/webhooks" in listed.text


async def test_webhook_created_listed_delivered_and_stopped(
    client, store, org, charity, kek
) -> None:  # type: ignore[no-untyped-def]
    await account(store, org, "kepala@yayasan.id", "admin")
    receiver = f"http://127.0.0.1:{free_port()}/ledger-events"
    async with browser_like(client) as c:
        await log_in(c, org.slug, "kepala@yayasan.id")
        page = await c.get("/console/webhooks?lang=en")
        assert page.status_code == 200 and "No subscriptions yet." in page.text
        bad = await post_form(
            c, "/console/webhooks", page.text, url="ftp://x", events="entry.appended"
        )
        assert bad.status_code == 422 and 'value="ftp://x"' in bad.text
        assert "must be a web address starting with https://" in bad.text
        none = await post_form(c, "/console/webhooks", page.text, url=receiver)
        assert none.status_code == 422 and "tick at least one event" in none.text
        created = await c.post(
            "/console/webhooks",
            data={"csrf": csrf_of(page.text), "url": receiver,
                  "events": ["entry.appended", "statement.issued"]},
        )  # fmt: skip
        assert created.status_code == 200, created.text
        secret = re.search(r'id="new-secret">(whsec_[A-Za-z0-9+/=]+)<', created.text).group(1)
        assert "Copy this secret now" in created.text
        async with store.connection() as conn:
            [sub] = await W.subscriptions(conn, org.id)
        assert sub.url == receiver and sub.events == ["entry.appended", "statement.issued"]
        listed = await c.get("/console/webhooks")
        assert receiver in listed.text and f'data-subscription="{sub.id}"' in listed.text
        assert secret not in listed.text and "whsec_" not in listed.text
        assert "Salin rahasia ini sekarang" not in listed.text

        # an entry makes an event; the receiver is down, so the attempt is logged as failed
        await charity.donate(1000000)
        async with Sender(2) as http:
            for _ in range(100):
                await webhooks.deliver_due(store, kek, http)
                async with store.connection() as conn:
                    if await W.deliveries(conn, org.id, sub.id, 10):
                        break
                await asyncio.sleep(0.05)
        log = await c.get(f"/console/webhooks/{sub.id}?lang=en")
        assert log.status_code == 200
        assert 'id="deliveries"' in log.text and "ConnectError" in log.text
        assert "no answer" in log.text and receiver in log.text
        again = await c.get("/console/webhooks?lang=en")
        assert "failed attempts in a row" in again.text

        # stopping it (the API's DELETE): gone from the list, its log kept
        stopped = await post_form(c, f"/console/webhooks/{sub.id}/stop", again.text)
        assert stopped.status_code == 303
        after = await c.get(stopped.headers["location"])
        assert receiver not in after.text and 'id="notice"' in after.text
        kept = await c.get(f"/console/webhooks/{sub.id}")
        assert kept.status_code == 200 and 'id="stopped"' in kept.text
        twice = await post_form(c, f"/console/webhooks/{sub.id}/stop", again.text)
        assert twice.status_code == 404
        assert (await c.get("/console/webhooks/not-a-uuid")).status_code == 404
    async with store.connection() as conn:
        assert await W.subscriptions(conn, org.id) == []


async def test_another_organizations_subscription_is_not_found(
    client, store, org, settings, kek
) -> None:  # type: ignore[no-untyped-def]
    other = await create_organization(store, settings, kek, "lain", "Yayasan Lain")
    _, state = await webhooks.subscribe(
        store, kek, other, "https://lain.example/h", ["entry.appended"]
    )
    await account(store, org, "kepala@yayasan.id", "admin")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "kepala@yayasan.id")
        assert (await c.get(f"/console/webhooks/{state.id}")).status_code == 404
        page = (await c.get("/console/webhooks")).text
        assert (await post_form(c, f"/console/webhooks/{state.id}/stop", page)).status_code == 404
        assert "lain.example" not in page


async def test_admin_screens_at_phone_width(browser, site, charity, store) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    await charity.fund()
    await charity.fund("zakat-2026")
    org = await store.organization(charity.slug)
    await account(store, org, "kepala@yayasan.id", "admin")
    tab = await open_tab(browser, site, 390)
    page = tab.page
    await browser_log_in(tab, charity.slug, "kepala@yayasan.id")
    await tab.goto("/console/gateways")
    await checked(tab, "gateways")
    await page.fill("#f-midtrans-secret", SERVER_KEY)
    await page.fill("#f-midtrans-prefix-0", "ZKT-")
    await page.select_option("#f-midtrans-fund-0", "zakat-2026")
    await page.select_option("#f-midtrans-default", "senyum-2026")
    await page.click("#connect-midtrans button[type=submit]")
    await page.wait_for_selector("#saved")
    assert SERVER_KEY not in await page.content()
    await checked(tab, "gateways-connected")
    await tab.goto("/console/webhooks")
    await page.fill("#f-url", "https://dasbor.yayasan-senyum.example.org/ledger-events/masuk")
    await page.click("#new-webhook button[type=submit]")
    assert (await page.locator("#new-secret").inner_text()).startswith("whsec_")
    await checked(tab, "webhooks")
