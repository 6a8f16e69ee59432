"""The open-data export of the compliance month (issue 18, "Done when"): every collecting
fund's November package validates in frictionless against the Fiscal Data Package profile,
and its revenue and expenditure equal the month's donations and disbursements recomputed
from what the scenario recorded (reversals as reversing rows)."""

from __future__ import annotations

import io
import zipfile

from ledger.journal.publisher import publish
from tests.charity.test_open_data import frictionless_report, rows
from tests.compliance.scenario import DISASTER, GENERAL, MONTH, ZAKAT, record_month


async def test_each_funds_month_as_open_data(charity, store, kek, tmp_path):
    m = await record_month(charity, per_fund=400)
    await publish(store, await store.organization(charity.slug), kek)  # the export's cut
    for fund in (ZAKAT, DISASTER, GENERAL):
        r = await charity.client.get(charity.url(f"/open-data/{fund}"), params=MONTH)
        assert r.status_code == 200, r.text
        with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
            files = {n: archive.read(n) for n in archive.namelist()}
        (tmp_path / fund).mkdir()
        report = frictionless_report(files, tmp_path / fund)
        assert report.valid, report.flatten(["type", "note", "rowNumber", "fieldName"])
        lines = rows(files)
        revenue = sum(int(x["revenue_minor"] or 0) for x in lines)
        expenditure = sum(int(x["expenditure_minor"] or 0) for x in lines)
        donated = sum(
            d["amount"]
            for d in m.donations[fund]
            if d["received_on"].startswith("2026-11") and d["index"] not in m.corrected
        )
        paid = sum(
            d["amount"]
            for d in m.disbursements
            if d["fund"] == fund and d["index"] not in m.corrected
        )
        paid += sum(f["amount"] for f in m.fees if f["fund"] == fund)
        paid += sum(t["amount"] for t in m.transfers if t["from_fund"] == fund)
        assert revenue == donated, fund
        assert expenditure == paid, fund
        # Reversals are rows that point at what they reverse, never dropped.
        reversing = [x for x in lines if x.get("reverses_entry")]
        reversed_here = {
            i for i in m.corrected if any(x["entry_index"] == str(i) for x in lines)
        }
        assert {int(x["reverses_entry"]) for x in reversing} == reversed_here
