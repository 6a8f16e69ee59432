"""Statements show each fund's fundraising permit (PUB) for their period: the permit that
covers it, a partial or lapsed one as a warning, an exemption, or none recorded; in the JSON
document, the Indonesian and the English PDF."""

from __future__ import annotations

import json

from tests.apikit import pdf_text
from tests.compliance.scenario import AMIL, DISASTER, GENERAL, MONTH, ZAKAT, record_month


async def test_the_month_statement_names_each_funds_permit(charity, tmp_path):
    await record_month(charity, per_fund=30)
    # A second disaster-style campaign whose permit ended mid-month.
    await charity.fund("longsor", name="Tanggap Longsor")
    await charity.ok(
        "/funds/longsor/permits",
        {
            "number": "460/9/PUB/2026",
            "issuer": "Bupati Garut",
            "valid_from": "2026-08-01",
            "valid_until": "2026-11-15",
        },
        "admin",
    )
    number = (await charity.statement(MONTH))["id"]
    doc = json.loads(await charity.statement_file(number, "json"))
    permits = {f["code"]: f["permit"] for f in doc["totals"]["funds"]}
    assert permits[ZAKAT]["exemption"] == "zakat" and permits[ZAKAT]["covers"] == "period"
    assert permits[DISASTER]["number"] == "460/112/PUB/DINSOS/2026"
    assert permits[DISASTER]["covers"] == "period"
    assert permits["longsor"]["covers"] == "part"
    assert permits[GENERAL] is None and permits[AMIL] is None
    text_id = pdf_text(await charity.statement_file(number, "pdf?lang=id"), tmp_path, "id")
    flat = " ".join(text_id.split())
    assert "Izin PUB 460/112/PUB/DINSOS/2026" in flat
    assert "Tanpa izin PUB: zakat dikecualikan" in flat
    assert "(tidak seluruh periode)" in flat
    assert "Izin PUB: tidak tercatat" in flat
    text_en = pdf_text(await charity.statement_file(number, "pdf?lang=en"), tmp_path, "en")
    assert "PUB permit 460/112/PUB/DINSOS/2026" in " ".join(text_en.split())
