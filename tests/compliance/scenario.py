"""The month every compliance document is checked against (issue 18, "Done when").

November 2026 of one yayasan: a zakat fund (exempt from the PUB permit), a disaster fund
(with a permit, deductible under PP 93/2010), a general orphanage fund (earmarked for food,
so restricted), and the amil fund that takes the collector's share of zakat; 12 orphanages;
thousands of donations through the batch endpoint, some received in October and recorded in
November (value dates decide the period); disbursements to every orphanage, fees, the amil
share, and two corrections (a donation and a disbursement reversed). Every figure a
document shows can be recomputed from the postings these entries make.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.apikit import Org, auth

ZAKAT, DISASTER, GENERAL, AMIL = "zakat-2026", "banjir-2026", "panti-2026", "amil-2026"
MONTH = {"from": "2026-11-01", "to": "2026-12-01"}
PERMIT = {
    "number": "460/112/PUB/DINSOS/2026",
    "issuer": "Dinas Sosial Provinsi Jawa Barat",
    "valid_from": "2026-10-01",
    "valid_until": "2027-03-31",
}
PROFILE = {
    "legal_name": "Yayasan Senyum Anak Nusantara",
    "npwp": "012345678901000",
    "address": "Jl. Melati No. 5, Bandung",
    "zakat_license": "SK Ketua BAZNAS No. 12 Tahun 2025 (UPZ)",
}
ORPHANAGES = [f"lksa-{i:02d}" for i in range(1, 13)]
CITIES = ["Bandung", "Garut", "Tasikmalaya", "Cirebon", "Bogor", "Depok"]


@dataclass
class Month:
    """What the scenario recorded, for the tests to compare documents with."""

    donations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Per fund, each donation's request body with its entry ``index``."""
    disbursements: list[dict[str, Any]] = field(default_factory=list)
    fees: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    corrected: list[int] = field(default_factory=list)
    """Indexes of the entries the scenario reversed."""


def _day(i: int, month: int = 11) -> str:
    return dt.date(2026, month, 1 + i % 30 if month == 11 else 1 + i % 31).isoformat()


async def record_month(
    charity: Org,
    per_fund: int = 1000,
    donor: Callable[[str, int], dict[str, Any]] | None = None,
) -> Month:
    """Record the month on ``charity`` (``per_fund`` donations to each of the three funds
    that collect). ``donor(fund, i)`` gives the i-th donation's donor member (by default
    every 10th donor gives an e-mail address and a public name, the rest are anonymous)."""
    m = Month()
    await charity.ok("/profile", PROFILE, "admin")
    for i, code in enumerate(ORPHANAGES):
        await charity.beneficiary(code, city=CITIES[i % len(CITIES)], registration=f"LKSA-{i:04d}")
    await charity.fund(ZAKAT, name="Zakat Mal 2026", fee_cap_bps=0)
    await charity.fund(DISASTER, name="Tanggap Banjir Garut", fee_cap_bps=0)
    await charity.fund(GENERAL, name="Makan Sehat Panti", earmark={"purpose": "food"})
    await charity.fund(AMIL, name="Hak Amil", fee_cap_bps=0)
    classes = {
        ZAKAT: {"restriction": "with", "zakat_class": "zakat", "tax_category": "zakat"},
        DISASTER: {"restriction": "with", "zakat_class": "infak", "tax_category": "disaster"},
        GENERAL: {"restriction": "with", "zakat_class": "infak"},
        AMIL: {"restriction": "without", "zakat_class": "amil"},
    }
    for code, body in classes.items():
        await charity.ok(f"/funds/{code}/classification", body, "admin")
    await charity.ok(f"/funds/{ZAKAT}/permits", {"exemption": "zakat"}, "admin")
    await charity.ok(f"/funds/{DISASTER}/permits", PERMIT, "admin")

    def default_donor(fund: str, i: int) -> dict[str, Any]:
        if i % 10:
            return {}
        return {"email": f"donor{i}@{fund}.example.org", "public_name": f"Hamba Allah {i}"}

    make_donor = donor or default_donor
    for f, fund in enumerate((ZAKAT, DISASTER, GENERAL)):
        items = []
        for i in range(per_fund):
            # every 25th gift was received in late October and recorded now
            received = _day(i) if i % 25 else f"2026-10-{20 + i % 11}"
            items.append(
                {
                    "fund": fund,
                    "amount": (25_000 + 1_000 * (i % 97) + 500 * f) * 100,
                    "currency": "IDR",
                    "received_on": received,
                    "channel": ("bank_transfer", "qris", "e_wallet", "cash")[i % 4],
                    "reference": f"{fund}-{i:05d}",
                    "donor": make_donor(fund, i),
                }
            )
        recorded: list[dict[str, Any]] = []
        for start in range(0, len(items), 1000):
            chunk = items[start : start + 1000]
            r = await charity.client.post(
                charity.url("/donations/batch"),
                json={"donations": chunk},
                headers=auth(charity.keys["recorder"], **{"Idempotency-Key": f"{fund}-{start}"}),
            )
            assert r.status_code == 201, r.text[:500]
            for item, rec in zip(chunk, r.json()["recorded"], strict=True):
                recorded.append({**item, "index": rec["index"]})
        m.donations[fund] = recorded

    # The amil share: 1/8 of the zakat collected so far, in two transfers.
    zakat = sum(d["amount"] for d in m.donations[ZAKAT])
    for part in (zakat // 16, zakat // 8 - zakat // 16):
        body = {
            "from_fund": ZAKAT,
            "to_fund": AMIL,
            "amount": part,
            "currency": "IDR",
            "transferred_on": "2026-11-28",
            "reason": "bagian amil 1/8",
        }
        m.transfers.append({**body, "index": (await charity.ok("/transfers", body))["index"]})

    # Disbursements: every orphanage from every fund that may pay it.
    for i, code in enumerate(ORPHANAGES):
        for fund, purpose in ((ZAKAT, "education"), (DISASTER, "shelter"), (GENERAL, "food")):
            body = {
                "fund": fund,
                "beneficiary": code,
                "amount": (1_000_000 + 250_000 * i) * 100 * min(per_fund, 1000) // 1000,
                "currency": "IDR",
                "purpose": purpose,
                "paid_on": _day(3 * i + 2),
                "reference": f"TRF-{fund}-{code}",
            }
            m.disbursements.append(
                {**body, "index": (await charity.ok("/disbursements", body))["index"]}
            )
    fee = {
        "fund": GENERAL,
        "amount": 1_500_000_00 * min(per_fund, 1000) // 1000,
        "currency": "IDR",
        "charged_on": "2026-11-30",
        "description": "biaya operasional penggalangan November",
    }
    m.fees.append({**fee, "index": (await charity.ok("/fees", fee))["index"]})

    # Two reversals: a donation recorded twice by mistake, a disbursement paid to the wrong
    # account (both in the month).
    for index in (m.donations[GENERAL][7]["index"], m.disbursements[5]["index"]):
        body = {"corrects": index, "reason": "salah catat", "effective_on": "2026-11-29"}
        await charity.ok("/corrections", body)
        m.corrected.append(index)
    return m
