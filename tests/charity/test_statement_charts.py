"""Statement PDFs carry the fund page's charts (issue 17): money in and out per month of
value date, disbursements by category and by beneficiary; every bar is labelled with the
same amount as the statement's JSON totals, in both languages."""

from __future__ import annotations

import json
import re

from reports.pdf.localization import format_amount
from tests.apikit import pdf_text
from tests.compliance.scenario import MONTH, record_month


def section(text: str, title: str, lines: int) -> list[str]:
    rows = text.splitlines()
    start = next(i for i, row in enumerate(rows) if title in row)
    return [r.strip() for r in rows[start + 1 : start + 1 + lines] if r.strip()]


async def test_statement_charts_say_the_totals(charity, tmp_path):
    month = await record_month(charity, per_fund=40)
    number = (await charity.statement(MONTH))["id"]
    doc = json.loads(await charity.statement_file(number, "json"))
    text = pdf_text(await charity.statement_file(number, "pdf?lang=id"), tmp_path, "id.pdf")

    purposes = section(text, "Grafik: penyaluran per kategori", 6)
    labels = {"food": "Pangan", "education": "Pendidikan", "shelter": "Tempat tinggal"}
    for p in doc["totals"]["purposes"]:
        row = next(r for r in purposes if r.startswith(labels[p["key"]]))
        assert format_amount(p["amount"], "IDR", 2, "id") in row, row
    people = section(text, "Grafik: penyaluran per penerima manfaat", 14)
    biggest = max(doc["totals"]["beneficiaries"], key=lambda b: b["amount"])
    assert format_amount(biggest["amount"], "IDR", 2, "id") in people[0]
    assert len(doc["totals"]["beneficiaries"]) == 12 and len(people) >= 12

    monthly = section(text, "Grafik: donasi masuk dan penyaluran per bulan", 3)
    donated = sum(
        d["amount"]
        for fund in month.donations.values()
        for d in fund
        if d["received_on"].startswith("2026-11") and d["index"] not in month.corrected
    )
    assert re.search(r"November 2026 · masuk", monthly[0]), monthly
    assert format_amount(donated, "IDR", 2, "id") in monthly[0]
    paid = sum(
        d["amount"] for d in month.disbursements if d["index"] not in month.corrected
    )
    assert format_amount(paid, "IDR", 2, "id") in monthly[1]
    en = pdf_text(await charity.statement_file(number, "pdf?lang=en"), tmp_path, "en.pdf")
    assert "Chart: disbursements by category" in en and "November 2026 · in" in en
