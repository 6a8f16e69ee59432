"""The dashboard's warnings about the recipients' own word (issue 16, issue 20): disbursements
awaiting their recipient's acknowledgment for more than ``LEDGER_ACK_WARNING_DAYS`` (7) days
after their value date, and disputed ones, each linking to its entry, in both languages."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from zoneinfo import ZoneInfo

from ledger.recipient import signed_request
from tests.apikit import disbursement
from tests.charity.test_acknowledgments import enrol, sign, view
from tests.consolekit import account, browser_like, log_in
from tests.logkit import assert_log_verifies


def _listed(html: str, section: str) -> list[int]:
    found = re.search(rf'<ul class="warnings" id="{section}".*?</ul>', html, re.S)
    return [int(i) for i in re.findall(r'data-entry="(\d+)"', found.group(0))] if found else []


async def test_awaiting_and_disputed_disbursements_are_warned(client, store, charity) -> None:  # type: ignore[no-untyped-def]
    await charity.fund()
    await charity.beneficiary()
    await charity.donate(100_000_000_00)
    today = dt.datetime.now(ZoneInfo("Asia/Jakarta")).date()

    async def paid(days_ago: int) -> int:
        body = disbursement(
            1_000_000_00 + days_ago, paid_on=(today - dt.timedelta(days_ago)).isoformat()
        )
        r = await charity.post("/disbursements", body)
        assert r.status_code == 201, r.text
        return int(r.json()["index"])

    old = await paid(10)
    older = await paid(12)
    just_seven = await paid(7)  # not yet "more than 7 days"
    recent = await paid(1)
    acknowledged = await paid(15)
    disputed = await paid(20)
    reversed_ = await paid(30)
    assert (await charity.correct(reversed_)).status_code == 201
    seed = secrets.token_bytes(32)
    await enrol(charity, seed)
    r = await sign(charity, acknowledged, signed_request(await view(charity, acknowledged), seed))
    assert r.status_code == 201, r.text
    r = await sign(
        charity, disputed, signed_request(await view(charity, disputed), seed, received=250_000_00)
    )
    assert r.status_code == 201, r.text
    dispute_entry = r.json()["index"]

    org = await store.organization(charity.slug)
    await account(store, org, "ani@yayasan.id", "auditor")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "ani@yayasan.id")
        page = (await c.get("/console")).text
        assert _listed(page, "awaiting") == [older, old]  # oldest value date first
        assert just_seven not in _listed(page, "awaiting") and recent not in _listed(
            page, "awaiting"
        )
        assert _listed(page, "disputed") == [disputed]
        assert "Menunggu konfirmasi penerima lebih dari 7 hari" in page
        assert f'href="/console/entries/{older}"' in page
        assert f'href="/console/entries/{disputed}"' in page
        assert "Rp 250.000" in page and f"entri {dispute_entry}" in page
        english = (await c.get("/console?lang=en")).text
        assert "Awaiting the recipient&#39;s acknowledgment for more than 7 days" in english
        assert "Disputed by the recipient" in english
        # each link opens the disbursement's page
        entry = await c.get(f"/console/entries/{disputed}")
        assert entry.status_code == 200
    await assert_log_verifies(store, charity.slug)


async def test_no_warning_section_without_anything_to_follow_up(client, store, charity) -> None:  # type: ignore[no-untyped-def]
    await charity.fund()
    org = await store.organization(charity.slug)
    await account(store, org, "ani@yayasan.id", "auditor")
    async with browser_like(client) as c:
        await log_in(c, org.slug, "ani@yayasan.id")
        page = (await c.get("/console")).text
        assert 'id="warn-title"' not in page
        assert 'id="awaiting"' not in page and 'id="disputed"' not in page
