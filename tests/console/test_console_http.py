"""The staff console over HTTP on the real app and database: sessions, CSRF, roles,
organizations kept apart, and donations recorded exactly once with their amounts as typed."""

from __future__ import annotations

import re
import time

import pytest

from ledger.charity import staff
from ledger.formats import totp
from ledger.journal.organizations import create_organization
from ledger.verify.stored import verify_all
from tests.consolekit import account, browser_like, csrf_of, form_id_of, log_in, post_form

pytestmark = pytest.mark.usefixtures("charity")


@pytest.fixture
async def org(store, charity):  # type: ignore[no-untyped-def]
    await charity.fund()
    await charity.beneficiary()
    return await store.organization(charity.slug)


async def test_login_sets_a_fresh_secure_session(client, store, org) -> None:  # type: ignore[no-untyped-def]
    await account(store, org, "rina@yayasan.id", "recorder")
    async with browser_like(client) as c:
        c.cookies.set(
            "ledger_console", "planted-by-an-attacker", domain="testserver", path="/console"
        )
        r = await log_in(c, org.slug, "rina@yayasan.id")
        assert r.status_code == 303 and r.headers["location"] == "/console"
        set_cookie = [v for k, v in r.headers.multi_items() if k == "set-cookie"]
        session = next(v for v in set_cookie if v.startswith("ledger_console="))
        for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/console"):
            assert flag.lower() in session.lower()
        token = session.split(";")[0].split("=", 1)[1]
        assert token != "planted-by-an-attacker" and len(token) >= 40
        page = await c.get("/console")
        assert page.status_code == 200 and "Dasbor" in page.text
        assert page.headers["cache-control"] == "no-store"
        # the planted value opens nothing
        async with browser_like(client) as other:
            other.cookies.set(
                "ledger_console", "planted-by-an-attacker", domain="testserver", path="/console"
            )
            assert (await other.get("/console")).status_code == 303


async def test_wrong_password_and_lockout(client, store, org) -> None:  # type: ignore[no-untyped-def]
    await account(store, org, "budi@yayasan.id", "recorder")
    async with browser_like(client) as c:
        for _ in range(staff.LOCK_AFTER):
            r = await log_in(c, org.slug, "budi@yayasan.id", "salah-salah-salah")
            assert r.status_code == 401
        assert "terkunci" in r.text
        r = await log_in(c, org.slug, "budi@yayasan.id")  # the right password, too late
        assert r.status_code == 401 and "terkunci" in r.text


async def test_csrf_is_refused(client, store, org) -> None:  # type: ignore[no-untyped-def]
    await account(store, org, "rina@yayasan.id", "recorder")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "rina@yayasan.id")
        page = (await c.get("/console/donations")).text
        fields = {
            "fund": "senyum-2026",
            "amount": "250.000",
            "received_on": "2026-11-01",
            "channel": "qris",
            "reference": "QRIS-1",
            "step": "confirm",
            "form_id": form_id_of(page),
        }
        for token in ("", "x" * 43):
            r = await c.post("/console/donations", data={**fields, "csrf": token})
            assert r.status_code == 403
        r = await c.post(
            "/console/donations",
            data={**fields, "csrf": csrf_of(page)},
            headers={"Origin": "https://evil.example"},
        )
        assert r.status_code == 403
        # the login form too
        r = await c.post(
            "/console/login",
            data={"org": org.slug, "email": "rina@yayasan.id", "password": "x", "csrf": "nope"},
        )
        assert r.status_code == 403


async def test_donation_typed_confirmed_recorded_once(client, store, org, db_url) -> None:  # type: ignore[no-untyped-def]
    await account(store, org, "rina@yayasan.id", "recorder")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "rina@yayasan.id")
        page = (await c.get("/console/donations")).text
        fields = {
            "fund": "senyum-2026",
            "amount": "Rp 250.000",
            "received_on": "2026-11-01",
            "channel": "qris",
            "reference": "QRIS-0001",
            "donor_name": "Siti Aminah",
            "donor_email": "siti@example.id",
            "show_name": "1",
            "public_name": "Siti A.",
            "message": "",
            "donor_phone": "",
        }
        review = await post_form(c, "/console/donations", page, step="review", **fields)
        assert review.status_code == 200
        assert 'value="25000000"' in review.text and "Rp 250.000" in review.text
        before = (await store.head(org.id)).size
        assert before == (await store.head(org.id)).size  # nothing recorded by the review
        done = await post_form(c, "/console/donations", review.text, step="confirm", **fields)
        assert done.status_code == 303
        index = int(re.search(r"/entries/(\d+)", done.headers["location"]).group(1))
        again = await post_form(c, "/console/donations", review.text, step="confirm", **fields)
        assert again.headers["location"] == done.headers["location"]  # a double click: once
        assert (await store.head(org.id)).size == before + 1
        entry = await client.get(f"/v1/orgs/{org.slug}/log/entries/{index}")
        assert entry.status_code == 200, entry.text
        assert '"amount":25000000' in entry.text.replace(" ", "")
        assert "siti@example.id" not in entry.text and "Siti A." in entry.text
        shown = await c.get(f"/console/entries/{index}?recorded=1")
        assert "Rp 250.000" in shown.text and "entri" in shown.text
    reports = await verify_all(store, org.slug, url=db_url)
    assert all(r.ok for r in reports)


async def test_refused_form_keeps_input(client, store, org) -> None:  # type: ignore[no-untyped-def]
    await account(store, org, "rina@yayasan.id", "recorder")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "rina@yayasan.id")
        page = (await c.get("/console/donations")).text
        r = await post_form(
            c,
            "/console/donations",
            page,
            step="review",
            fund="senyum-2026",
            amount="250.5",
            received_on="2026-11-01",
            channel="qris",
            reference="REF 1",
            donor_name="Siti",
        )
        assert r.status_code == 422
        assert 'value="250.5"' in r.text and 'value="Siti"' in r.text
        assert "titik" in r.text  # says how to write the amount, in Indonesian


async def test_roles_on_every_route(client, store, org) -> None:  # type: ignore[no-untyped-def]
    from ledger.http.console.pages import ConsolePages
    from ledger.http.console.session import PUBLIC_OPT, ROLES_OPT

    await account(store, org, "ani@yayasan.id", "auditor")
    async with browser_like(client) as c:
        for route in client.app.routes:  # type: ignore[attr-defined]
            if not route.path.startswith("/console") or route.path.startswith("/console-assets"):
                continue
            for handler in route.route_handlers:  # type: ignore[attr-defined]
                if handler.http_methods == {"OPTIONS"}:
                    continue  # Litestar's own answer to OPTIONS
                assert handler.opt.get(PUBLIC_OPT) or handler.opt.get(ROLES_OPT), route.path
        # not logged in: every page sends to the login page
        for path in ("/console", "/console/donations", "/console/staff", "/console/keys"):
            r = await c.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
        await log_in(c, org.slug, "ani@yayasan.id")
        for path in (
            "/console/donations",
            "/console/disbursements",
            "/console/corrections",
            "/console/staff",
        ):
            assert (await c.get(path)).status_code == 403, path
        assert (await c.get("/console")).status_code == 200
    assert ConsolePages.guards


async def test_organizations_apart(client, store, settings, kek, org) -> None:  # type: ignore[no-untyped-def]
    other = await create_organization(store, settings, kek, "panti-kasih", "Panti Kasih")
    await account(store, other, "boss@kasih.id", "admin")
    await account(store, org, "rina@yayasan.id", "recorder")
    async with browser_like(client) as c:
        await log_in(c, other.slug, "boss@kasih.id")
        staff_page = await c.get("/console/staff")
        assert "rina@yayasan.id" not in staff_page.text and "boss@kasih.id" in staff_page.text
        dash = await c.get("/console")
        assert "senyum-2026" not in dash.text
        # the recorder of the other organization cannot log in here with their e-mail
        async with browser_like(client) as d:
            r = await log_in(d, other.slug, "rina@yayasan.id")
            assert r.status_code == 401


async def test_statement_issued_and_receipt_found(client, store, org, charity) -> None:  # type: ignore[no-untyped-def]
    await charity.donate(125000000, donor={"name": "Siti", "email": "siti@example.id"})
    await account(store, org, "kepala@yayasan.id", "admin")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "kepala@yayasan.id")
        page = (await c.get("/console/statements")).text
        fields = {"from": "2026-11-01", "to": "2026-12-01", "fund": ""}
        review = await post_form(c, "/console/statements", page, step="review", **fields)
        assert review.status_code == 200 and 'id="confirm"' in review.text
        before = (await store.head(org.id)).size
        done = await post_form(c, "/console/statements", review.text, step="confirm", **fields)
        assert done.status_code == 303, done.text
        again = await post_form(c, "/console/statements", review.text, step="confirm", **fields)
        assert again.status_code == 303
        assert (await store.head(org.id)).size == before + 1  # issued once
        listed = await c.get("/console/statements?issued=1")
        assert 'data-statement="1"' in listed.text
        found = await c.get("/console/receipts", params={"donor": "SITI@example.id"})
        assert "Rp 1.250.000" in found.text
        index = int(re.search(r"/console/receipts/(\d+)/pdf", found.text).group(1))
        pdf = await c.get(f"/console/receipts/{index}/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_other_organizations_accounts_and_keys_are_out_of_reach(
    client, store, settings, kek, org
) -> None:  # type: ignore[no-untyped-def]
    other = await create_organization(store, settings, kek, "panti-kasih", "Panti Kasih")
    theirs = await account(store, other, "boss@kasih.id", "admin")
    their_key, _ = await staff.issue_api_key(store, other, "recorder", "x", None)
    await account(store, org, "kepala@yayasan.id", "admin")
    size = (await store.head(other.id)).size
    async with browser_like(client) as c:
        await log_in(c, org.slug, "kepala@yayasan.id")
        page = (await c.get("/console/staff")).text
        r = await post_form(c, f"/console/staff/{theirs.id}", page, action="reset")
        assert r.status_code == 422 and "boss@kasih.id" not in r.text
        keys = (await c.get("/console/keys")).text
        r = await post_form(c, f"/console/keys/{their_key}/revoke", keys)
        assert r.status_code == 404
    assert (await store.head(other.id)).size == size
    row = await staff.find_staff(store, other, "boss@kasih.id")
    assert row.locked_at is None and not row.must_change


async def test_reset_and_role_change_end_sessions(client, store, org) -> None:  # type: ignore[no-untyped-def]
    rina = await account(store, org, "rina@yayasan.id", "recorder")
    await account(store, org, "kepala@yayasan.id", "admin")
    async with browser_like(client) as c, browser_like(client) as admin:
        await log_in(c, org.slug, "rina@yayasan.id")
        assert (await c.get("/console/donations")).status_code == 200
        await log_in(admin, org.slug, "kepala@yayasan.id")
        page = (await admin.get("/console/staff")).text
        r = await post_form(admin, f"/console/staff/{rina.id}", page, action="role", role="auditor")
        assert r.status_code == 200 and "tercatat di log" in r.text
        assert (await c.get("/console/donations")).status_code == 303  # logged out
        await log_in(c, org.slug, "rina@yayasan.id")
        assert (await c.get("/console/donations")).status_code == 403  # an auditor now
        r = await post_form(admin, f"/console/staff/{rina.id}", page, action="disabled")
        assert (await c.get("/console")).status_code == 303
        r = await log_in(c, org.slug, "rina@yayasan.id")
        assert r.status_code == 401 and "dinonaktifkan" in r.text


async def test_second_factor_through_the_pages(client, store, org) -> None:  # type: ignore[no-untyped-def]
    await account(store, org, "ani@yayasan.id", "auditor")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "ani@yayasan.id")
        page = (await c.get("/console/security")).text
        secret = bytes.fromhex(re.search(r'name="secret" value="([0-9a-f]+)"', page).group(1))
        wrong = await post_form(c, "/console/security", page, secret=secret.hex(), code="000000")
        assert wrong.status_code in (303, 422)
        code = totp.hotp(secret, totp.step_at(time.time()))
        if wrong.status_code == 303:  # 000000 happened to be the code: try the next step
            code = totp.hotp(secret, totp.step_at(time.time()) + 1)
        ok = await post_form(c, "/console/security", page, secret=secret.hex(), code=code)
        assert ok.status_code == 303
    async with browser_like(client) as d:
        assert (await log_in(d, org.slug, "ani@yayasan.id")).status_code == 401  # no code
        later = totp.hotp(secret, totp.step_at(time.time()) + 1)
        r = await log_in(d, org.slug, "ani@yayasan.id", code=later)
        assert r.status_code == 303


async def test_idle_session_ends(client, store, org, owner) -> None:  # type: ignore[no-untyped-def]
    await account(store, org, "rina@yayasan.id", "recorder")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "rina@yayasan.id")
        assert (await c.get("/console")).status_code == 200
        await owner.execute(
            "UPDATE staff_sessions SET last_seen_at = now() - make_interval(secs => $1)",
            float(staff.IDLE_SECONDS + 1),
        )
        assert (await c.get("/console")).status_code == 303


async def test_back_after_recording_and_changing_records_a_second_entry_knowingly(
    client, store, org
) -> None:  # type: ignore[no-untyped-def]
    await account(store, org, "rina@yayasan.id", "recorder")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "rina@yayasan.id")
        page = (await c.get("/console/donations")).text
        fields = {
            "fund": "senyum-2026",
            "amount": "250.000",
            "received_on": "2026-11-01",
            "channel": "qris",
            "reference": "QRIS-A",
        }
        review = await post_form(c, "/console/donations", page, step="review", **fields)
        first = await post_form(c, "/console/donations", review.text, step="confirm", **fields)
        assert first.status_code == 303
        changed = {**fields, "amount": "300.000", "reference": "QRIS-B"}
        again = await post_form(c, "/console/donations", review.text, step="confirm", **changed)
        assert again.status_code == 409 and "sudah mencatat" in again.text
        assert form_id_of(again.text) != form_id_of(review.text)
        second = await post_form(c, "/console/donations", again.text, step="confirm", **changed)
        assert second.status_code == 303 and second.headers["location"] != first.headers["location"]


async def test_evidence_refused_then_attached(client, store, org, charity, db_url) -> None:  # type: ignore[no-untyped-def]
    await charity.donate(500000000)
    index = (await charity.disburse(100000000)).json()["index"]
    await account(store, org, "rina@yayasan.id", "recorder")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "rina@yayasan.id")
        page = (await c.get(f"/console/entries/{index}")).text
        assert "LKSA lksa-harapan" in page  # the beneficiary's name, not only its code
        data = {"csrf": csrf_of(page), "form_id": form_id_of(page)}
        bad = await c.post(
            f"/console/entries/{index}/evidence",
            data=data,
            files={"evidence": ("notes.txt", b"just text", "text/plain")},
        )
        assert bad.status_code == 422
        png = b"\x89PNG\r\n\x1a\n" + bytes(64)
        ok = await c.post(
            f"/console/entries/{index}/evidence",
            data={"csrf": csrf_of(bad.text), "form_id": form_id_of(bad.text)},
            files={"evidence": ("slip.png", png, "image/png")},
        )
        assert ok.status_code == 303 and ok.headers["location"].endswith("?attached=1")
    reports = await verify_all(store, org.slug, url=db_url)
    assert all(r.ok for r in reports)
