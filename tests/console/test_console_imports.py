"""The console's bank-import screen over HTTP on the real app and database: a recorder uploads
a BCA statement, sees every line (amounts as "Rp 250.000", the fund, problems in Bahasa
Indonesia), confirms, and sees what was recorded; the same file again records nothing; roles,
CSRF and a tampered file are refused; the log verifies."""

from __future__ import annotations

import base64
import re
from html import unescape

import httpx

from tests.consolekit import account, browser_like, csrf_of, log_in
from tests.ingest.test_bankimports import BCA, MANDIRI
from tests.logkit import assert_log_verifies


async def upload(
    c: httpx.AsyncClient, content: bytes, layout: str = "bca", fund: str = "senyum-2026"
) -> httpx.Response:
    page = await c.get("/console/imports")
    assert page.status_code == 200, page.text
    return await c.post(
        "/console/imports",
        data={"csrf": csrf_of(page.text), "step": "preview", "fund": fund, "layout": layout},
        files={"statement_file": ("mutasi.csv", content, "text/csv")},
    )


def hidden(html: str) -> dict[str, str]:
    form = re.search(r'<form[^>]*id="confirm-form".*?</form>', html, re.S)
    assert form, "no confirmation form"
    return {
        name: unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)
        )
    }


def statuses(html: str) -> dict[int, str]:
    return {int(n): s for n, s in re.findall(r'data-line="(\d+)" data-status="(\w+)"', html)}


async def test_upload_preview_confirm_and_reupload(client, store, charity) -> None:  # type: ignore[no-untyped-def]
    await charity.fund()
    org = await store.organization(charity.slug)
    await account(store, org, "rina@yayasan.id", "recorder")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "rina@yayasan.id")
        size = (await store.head(org.id)).size
        preview = await upload(c, BCA.encode())
        assert preview.status_code == 200, preview.text
        html = preview.text
        assert statuses(html) == {7: "new", 8: "debit", 10: "new", 11: "bad", 12: "new"}
        assert "Rp 250.000" in html and "Rp 100.000,50" in html
        assert "TRSF E-BANKING CR 0111/FTSCY/WS95031 250000.00 SITI AMINAH" in html
        assert "Donasi baru" in html and "ke Fund senyum-2026" in html
        # the bad line's problem is said in Indonesian
        row = re.search(r'data-line="11".*?</tr>', html, re.S).group(0)
        assert "Jumlah" in row and "desimal" in row, row
        assert (await store.head(org.id)).size == size  # a preview records nothing

        # confirming while a bad line remains records nothing
        fields = hidden(html)
        refused = await c.post("/console/imports", data={**fields, "step": "confirm"})
        assert refused.status_code == 409
        assert "tidak ada yang dicatat" in refused.text.lower() or "baris" in refused.text
        assert (await store.head(org.id)).size == size

        # leave the bad line out: three donations, in file order
        done = await c.post(
            "/console/imports", data={**fields, "step": "confirm", "leave_out": "1"}
        )
        assert done.status_code == 200, done.text
        assert (await store.head(org.id)).size == size + 3
        assert statuses(done.text) == {7: "recorded", 8: "debit", 10: "recorded", 12: "recorded"}
        assert f"entri {size} sampai {size + 2}" in done.text
        for n, index in ((7, size), (10, size + 1), (12, size + 2)):
            row = re.search(rf'data-line="{n}".*?</tr>', done.text, re.S).group(0)
            assert f'href="/console/entries/{index}"' in row
        entry = await c.get(f"/console/entries/{size}")
        assert "Rp 250.000" in entry.text
        log = await client.get(f"/v1/orgs/{org.slug}/log/entries/{size}")
        assert "SITI" not in log.text  # the bank's description never enters the log

        # the same file again: shown as imported, and confirming records nothing twice
        again = await upload(c, BCA.encode())
        assert 'id="imported-before"' in again.text
        assert statuses(again.text)[7] == "already"
        replay = await c.post(
            "/console/imports", data={**hidden(again.text), "step": "confirm", "leave_out": "1"}
        )
        assert replay.status_code == 200
        assert "sudah pernah diimpor" in replay.text
        assert (await store.head(org.id)).size == size + 3

        # an overlapping export: only its new line is recorded
        longer = BCA.replace(
            "\nSaldo Awal",
            "'06/11,TRSF E-BANKING CR DEWI,'0000,50000.00,CR,1465000.50\n\nSaldo Awal",
        ).replace("'04/11,TRSF E-BANKING CR BUDI,'0000,1.001,CR,1340000.50\n", "")
        preview = await upload(c, longer.encode())
        lines = statuses(preview.text)
        assert [s for s in lines.values()].count("new") == 1
        assert [s for s in lines.values()].count("already") == 3
        done = await c.post("/console/imports", data={**hidden(preview.text), "step": "confirm"})
        assert done.status_code == 200
        assert "Dilewati karena sudah ada di buku besar: 3 baris" in done.text
        assert (await store.head(org.id)).size == size + 4

        # the dashboard lists the two files imported (the replay added none)
        dashboard = await c.get("/console")
        assert dashboard.text.count('<td data-label="Diimpor">') == 2
    await assert_log_verifies(store, charity.slug)


async def test_refusals(client, store, charity) -> None:  # type: ignore[no-untyped-def]
    await charity.fund()
    org = await store.organization(charity.slug)
    await account(store, org, "rina@yayasan.id", "recorder")
    await account(store, org, "kepala@yayasan.id", "admin")
    await account(store, org, "ani@yayasan.id", "auditor")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "kepala@yayasan.id")
        assert (await c.get("/console/imports")).status_code == 403
        assert 'href="/console/imports"' not in (await c.get("/console")).text
    async with browser_like(client) as c:
        await log_in(c, org.slug, "ani@yayasan.id")
        assert (await c.get("/console/imports")).status_code == 403
    async with browser_like(client) as c:
        await log_in(c, org.slug, "rina@yayasan.id")
        size = (await store.head(org.id)).size
        # no CSRF token, or another site's
        r = await c.post(
            "/console/imports",
            data={"step": "preview", "fund": "senyum-2026", "layout": "bca"},
            files={"statement_file": ("m.csv", BCA.encode(), "text/csv")},
        )
        assert r.status_code == 403
        # the wrong bank: said in Indonesian, the choices kept
        wrong = await upload(c, MANDIRI.encode(), layout="bca")
        assert wrong.status_code == 422
        assert "tidak ada baris judul" in wrong.text
        assert '<option value="senyum-2026" selected>' in wrong.text
        # no file
        page = await c.get("/console/imports")
        r = await c.post(
            "/console/imports",
            data={
                "csrf": csrf_of(page.text),
                "step": "preview",
                "fund": "senyum-2026",
                "layout": "bca",
            },
        )
        assert r.status_code == 422 and "pilih file mutasi" in r.text
        # a statement changed between the preview and the confirmation
        preview = await upload(c, MANDIRI.encode(), layout="mandiri")
        assert statuses(preview.text) == {2: "new", 3: "debit"}
        fields = hidden(preview.text)
        forged = MANDIRI.replace("1,250,000.00", "9,250,000.00").encode()
        fields["statement"] = base64.b64encode(forged).decode()
        r = await c.post("/console/imports", data={**fields, "step": "confirm"})
        assert r.status_code == 422 and "tidak kembali utuh" in r.text
        assert (await store.head(org.id)).size == size
