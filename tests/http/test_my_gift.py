""""Cek donasi saya" over real HTTP (issue 17): the charity gets a donor's receipt code and
link (auditor key), the donor finds the gift with reference and code, sees its status and
nothing personal, downloads the signed PDF and the JSON receipt, and both verify offline.
A wrong code, an unknown reference and a guessed index all get the same "not found"; the
anonymous rate limit stops guessing."""

from __future__ import annotations

import json
import re

from ledger.charity.mygift import code_matches, normalize_code, receipt_code
from ledger.http.app import create_app
from ledger.http.ratelimit import RateLimit
from ledger.verify.offline import verify_receipt
from tests.apikit import DONOR, auth, serve_in_loop, validate
from tests.logkit import assert_log_verifies


async def receipt_link(charity, index: int) -> dict:  # type: ignore[no-untyped-def]
    r = await charity.client.get(
        charity.url(f"/donations/{index}/receipt-link"), headers=auth(charity.keys["auditor"])
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_receipt_codes_are_128_bit_and_tied_to_log_and_entry():
    kek = bytes(range(32))
    code = receipt_code(kek, "ledger.example/orgs/a", 7)
    assert re.fullmatch(r"[A-Z2-7]{5}(-[A-Z2-7]{1,5}){5}", code) and len(normalize_code(code)) == 26
    assert code_matches(kek, "ledger.example/orgs/a", 7, code.lower().replace("-", " "))
    assert not code_matches(kek, "ledger.example/orgs/a", 8, code)
    assert not code_matches(kek, "ledger.example/orgs/b", 7, code)
    assert not code_matches(bytes(32), "ledger.example/orgs/a", 7, code)
    assert not code_matches(kek, "ledger.example/orgs/a", 7, "")


async def test_a_donor_finds_their_gift_and_downloads_the_receipt(charity, store, settings):
    await charity.fund(name="#SenyumAnak 2026")
    gift = await charity.donate(125_000_000, ref="QRIS-0001", donor=DONOR)
    anonymous = await charity.client.get(charity.url(f"/donations/{gift['index']}/receipt-link"))
    assert anonymous.status_code == 401
    link = await receipt_link(charity, gift["index"])
    assert link["url"].startswith(settings.public_url + f"/orgs/{charity.slug}/my-gift/")
    assert link["code"] in link["url"].replace("-", "") or normalize_code(link["code"]) in link["url"]
    assert link["whatsapp_url"].startswith("https://wa.me/?text=")

    client = charity.client
    form = await client.get("/my-gift")
    assert form.status_code == 200 and 'name="reference"' in form.text
    found = await client.post(
        "/my-gift",
        data={"org": charity.slug, "reference": "QRIS-0001", "code": link["code"].lower()},
    )
    assert found.status_code == 303, found.text
    assert found.headers["cache-control"] == "private, no-store"
    page_path = found.headers["location"]
    assert link["url"].endswith(page_path)

    page = await client.get(page_path)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert 'data-gift-status="counts"' in page.text
    assert "#SenyumAnak 2026" in page.text and "Rp 1.250.000" in page.text
    for personal in (DONOR["name"], DONOR["email"]):
        assert personal not in page.text
    assert f"/verify?org={charity.slug}&amp;entry={gift['index']}" in page.text

    pdf = await client.get(page_path + "/receipt.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert (await validate(pdf.content, await charity.cert_der())).trustworthy
    proven = verify_receipt(pdf.content, await charity.verifiers())
    assert proven.index == gift["index"] and proven.donor_opened is True
    receipt = await client.get(page_path + "/receipt.json")
    assert receipt.status_code == 200
    assert verify_receipt(receipt.content, await charity.verifiers()).donor_opened is True
    await assert_log_verifies(store)


async def test_wrong_codes_references_and_indexes_all_look_alike(charity):
    await charity.fund()
    mine = await charity.donate(125_000_000, ref="QRIS-0001", donor=DONOR)
    other = await charity.donate(5_000_000, ref="QRIS-0002", donor=DONOR)
    mine_code = (await receipt_link(charity, mine["index"]))["code"]
    client = charity.client

    async def lookup(reference: str, code: str) -> str:
        r = await client.post(
            "/my-gift", data={"org": charity.slug, "reference": reference, "code": code}
        )
        assert r.status_code == 404, r.text
        assert 'data-lookup="not-found"' in r.text
        return re.sub(r"\s+", " ", r.text)

    answers = {
        await lookup("QRIS-0002", mine_code),  # someone else's reference with my code
        await lookup("QRIS-9999", mine_code),  # an unknown reference
        await lookup("QRIS-0001", "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-A"),  # a guessed code
    }
    assert len(answers) == 1  # the same page whatever failed
    guessed = await client.get(
        f"/orgs/{charity.slug}/my-gift/{other['index']}/{normalize_code(mine_code)}"
    )
    assert guessed.status_code == 404 and "Siti" not in guessed.text
    pdf = await client.get(
        f"/orgs/{charity.slug}/my-gift/{other['index']}/{normalize_code(mine_code)}/receipt.pdf"
    )
    assert pdf.status_code == 404


async def test_a_reversed_gift_reads_as_reversed(charity):
    await charity.fund()
    gift = await charity.donate(250_000, ref="BCA-0002", donor=DONOR)
    await charity.ok(
        "/corrections",
        {"corrects": gift["index"], "reason": "transfer ditolak bank", "effective_on": "2026-11-25"},
    )
    link = await receipt_link(charity, gift["index"])
    path = link["url"].removeprefix(link["url"].split("/orgs/")[0])
    page = await charity.client.get(path)
    assert 'data-gift-status="reversed"' in page.text and "DIBATALKAN" in page.text
    english = await charity.client.get(path + "?lang=en")
    assert "REVERSED" in english.text and "transfer ditolak bank" in english.text


async def test_guessing_is_rate_limited(charity, settings):
    await charity.fund()
    await charity.donate(125_000_000, ref="QRIS-0001", donor=DONOR)
    app = create_app(
        settings.with_(checkpoint_interval=0), rate_limit=RateLimit(anonymous_per_minute=5)
    )
    async with serve_in_loop(app) as client:
        statuses = [
            (
                await client.post(
                    "/my-gift",
                    data={"org": charity.slug, "reference": "QRIS-0001", "code": f"GUESS{i}"},
                )
            ).status_code
            for i in range(8)
        ]
    assert statuses[:5] == [404] * 5 and 429 in statuses[5:], statuses
    assert json.dumps(statuses)  # every answer came back (no hang, no 500)
