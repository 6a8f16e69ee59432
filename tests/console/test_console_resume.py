"""A form sent after the clerk's session ended is not lost (issue 16, "nothing is lost when a
form is refused"): the login page carries it in hidden fields (never a cookie or an address),
and after logging in again the clerk lands on the form with their input, under a fresh CSRF
token; nothing is recorded until they send it again, and only the person who typed it gets
it back."""

from __future__ import annotations

import re
from html import unescape

import asyncpg

from tests.consolekit import account, browser_like, csrf_of, log_in, post_form
from tests.logkit import assert_log_verifies

DONATION = {
    "fund": "senyum-2026",
    "amount": "Rp 250.000",
    "received_on": "2026-11-01",
    "channel": "qris",
    "reference": "QRIS-RESUME",
    "donor_name": "Siti Aminah",
    "donor_email": "siti@example.id",
    "donor_phone": "",
    "show_name": "1",
    "public_name": "Siti A.",
    "message": "semoga berkah",
}


async def end_sessions(db_url: str) -> None:
    """Every session idle for an hour (past the 30-minute limit), as a clerk's lunch break."""
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("UPDATE staff_sessions SET last_seen_at = now() - interval '1 hour'")
    finally:
        await conn.close()


def login_fields(html: str) -> dict[str, str]:
    form = re.search(r'<form method="post" action="/console/login".*?</form>', html, re.S)
    assert form
    return {
        n: unescape(v)
        for n, v in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)
        )
    }


async def test_an_expired_session_keeps_the_donation_form(client, store, charity, db_url) -> None:  # type: ignore[no-untyped-def]
    await charity.fund()
    org = await store.organization(charity.slug)
    await account(store, org, "rina@yayasan.id", "recorder")
    await account(store, org, "budi@yayasan.id", "recorder")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "rina@yayasan.id")
        page = (await c.get("/console/donations")).text
        review = await post_form(c, "/console/donations", page, step="review", **DONATION)
        assert review.status_code == 200
        old_csrf = csrf_of(review.text)
        size = (await store.head(org.id)).size
        await end_sessions(db_url)

        refused = await post_form(c, "/console/donations", review.text, step="confirm", **DONATION)
        assert refused.status_code == 401 and "/console/login" in refused.text
        assert "tidak ada yang dicatat" in refused.text.lower()
        kept = login_fields(refused.text)
        assert kept["keep:donor_email"] == "siti@example.id" and kept["keep:amount"] == "Rp 250.000"
        assert kept["next"] == "/console/donations"
        # personal data only in the page: not in a cookie, not in an address
        for name, value in refused.headers.multi_items():
            if name in ("set-cookie", "location"):
                assert "siti" not in value.lower() and "250" not in value
        assert (await store.head(org.id)).size == size

        # someone else logging in at this browser does not get the form
        async with browser_like(client) as other:
            other.cookies.update(c.cookies)
            r = await other.post(
                "/console/login",
                data={
                    **kept,
                    "org": org.slug,
                    "email": "budi@yayasan.id",
                    "password": "kopi-susu-pagi-hari",
                    "code": "",
                },
            )
            assert r.status_code == 303 and r.headers["location"] == "/console/donations"
            assert "siti" not in r.text.lower()

        # the clerk logs in again and lands on the form, filled in, with a new CSRF token
        back = await c.post(
            "/console/login",
            data={
                **kept,
                "org": org.slug,
                "email": "rina@yayasan.id",
                "password": "kopi-susu-pagi-hari",
                "code": "",
            },
        )
        assert back.status_code == 200, back.text
        assert 'id="donation-form"' in back.text
        for name in ("amount", "reference", "donor_name", "donor_email", "public_name", "message"):
            assert (
                f'value="{DONATION[name]}"' in unescape(back.text) or DONATION[name] in back.text
            ), name
        assert "Sesi Anda sudah berakhir" in back.text and "Isian Anda ada di bawah" in back.text
        new_csrf = csrf_of(back.text)
        assert new_csrf != old_csrf
        assert (await store.head(org.id)).size == size  # nothing recorded by logging in

        # the old token no longer works; the new one records, once
        r = await c.post(
            "/console/donations", data={**DONATION, "csrf": old_csrf, "step": "confirm"}
        )
        assert r.status_code == 403
        review = await post_form(c, "/console/donations", back.text, step="review", **DONATION)
        assert review.status_code == 200 and "Rp 250.000" in review.text
        done = await post_form(c, "/console/donations", review.text, step="confirm", **DONATION)
        assert done.status_code == 303 and "/console/entries/" in done.headers["location"]
        assert (await store.head(org.id)).size == size + 1
    await assert_log_verifies(store, charity.slug)


async def test_a_form_from_elsewhere_is_not_kept(client, store, charity, db_url) -> None:  # type: ignore[no-untyped-def]
    await charity.fund()
    org = await store.organization(charity.slug)
    await account(store, org, "rina@yayasan.id", "recorder")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "rina@yayasan.id")
        await end_sessions(db_url)
        # a form without the session's CSRF token (not sent by a console page): a plain redirect
        r = await c.post(
            "/console/donations", data={**DONATION, "csrf": "x" * 43, "step": "confirm"}
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    async with browser_like(client) as fresh:
        # no session cookie at all
        r = await fresh.post("/console/disbursements", data={"amount": "1", "step": "confirm"})
        assert r.status_code == 303
