"""The compliance month records what it says: fund totals recomputed from its requests match
the ledger's, the amil share is exactly the cap, and the log verifies."""

from __future__ import annotations

from tests.compliance.scenario import AMIL, DISASTER, GENERAL, ZAKAT, record_month
from tests.logkit import assert_log_verifies


async def test_the_month_records_thousands_of_donations_and_verifies(charity, store):
    m = await record_month(charity, per_fund=1000)
    for fund in (ZAKAT, DISASTER, GENERAL):
        view = await charity.fund_view(fund)
        expected = sum(
            d["amount"] for d in m.donations[fund] if d["index"] not in m.corrected
        )
        assert view["raised"] == expected
        paid = sum(
            d["amount"]
            for d in m.disbursements
            if d["fund"] == fund and d["index"] not in m.corrected
        )
        assert view["disbursed"] == paid
    zakat = sum(d["amount"] for d in m.donations[ZAKAT])
    assert (await charity.fund_view(AMIL))["transferred_in"] == zakat // 8
    # The cap is reached: one more rupiah to amil is refused.
    r = await charity.transfer(ZAKAT, AMIL, 100)
    assert r.status_code == 409 and "amil" in r.json()["detail"], r.text
    await assert_log_verifies(store)
