"""Request examples of the writes, shown in the OpenAPI description (``ledger.http.api.contract``).

Each one is a valid request for the demo organization once the funds and beneficiary it
names exist; ``tests/http/test_openapi.py`` decodes every example with its schema type.
"""

from __future__ import annotations

from typing import Any

FUND: dict[str, Any] = {
    "code": "beasiswa-2026",
    "name": "Beasiswa Anak Yatim 2026",
    "currency": "IDR",
    "earmark": {"purpose": "education"},
    "fee_cap_bps": 500,
}
BENEFICIARY: dict[str, Any] = {
    "code": "lksa-harapan",
    "name": "LKSA Harapan Bangsa",
    "city": "Bandung",
    "province": "Jawa Barat",
    "registration": "AHU-0012345.AH.01.04.2019",
}
BENEFICIARY_CHANGE: dict[str, Any] = {
    "name": "LKSA Harapan Bangsa",
    "city": "Cimahi",
    "province": "Jawa Barat",
}
DONATION: dict[str, Any] = {
    "fund": "beasiswa-2026",
    "amount": 250000,
    "currency": "IDR",
    "received_on": "2026-11-01",
    "channel": "qris",
    "reference": "QRIS-20261101-000123",
    "donor": {"name": "Siti Aminah", "email": "siti@example.org", "public_name": "Siti A."},
    "message": "Semoga bermanfaat",
}
DONATION_BATCH: dict[str, Any] = {
    "donations": [
        DONATION,
        {**DONATION, "amount": 100000, "reference": "QRIS-20261101-000124", "donor": {}},
    ]
}
DISBURSEMENT: dict[str, Any] = {
    "fund": "beasiswa-2026",
    "beneficiary": "lksa-harapan",
    "amount": 150000,
    "currency": "IDR",
    "purpose": "education",
    "paid_on": "2026-11-05",
    "reference": "TRF-20261105-01",
}
TRANSFER: dict[str, Any] = {
    "from_fund": "umum",
    "to_fund": "beasiswa-2026",
    "amount": 50000,
    "currency": "IDR",
    "transferred_on": "2026-11-06",
    "reason": "Board decision 2026/11: top up the scholarship fund",
}
FEE: dict[str, Any] = {
    "fund": "beasiswa-2026",
    "amount": 6500,
    "currency": "IDR",
    "charged_on": "2026-11-30",
    "description": "Bank transfer fees, November",
}
CORRECTION: dict[str, Any] = {"corrects": 12, "reason": "Recorded twice by mistake"}
STATEMENT: dict[str, Any] = {"from": "2026-11-01", "to": "2026-12-01"}
DONOR_ERASE: dict[str, Any] = {"email": "siti@example.org"}
ORG_SETTINGS: dict[str, Any] = {"time_zone": "Asia/Makassar", "books_open": "2024-01-01"}
API_KEY: dict[str, Any] = {"role": "recorder", "label": "cashier laptop"}
ANNUAL_RECEIPT: dict[str, Any] = {"year": 2026, "email": "siti@example.org", "lang": "id"}
VERIFY: dict[str, Any] = {
    "receipt": "c2sp.org/tlog-proof@v1\n...",
    "org": "yayasan-demo",
}
EVIDENCE = "%PDF-1.7 (the bytes of a PDF, JPEG or PNG file)"
GATEWAY_CONNECT: dict[str, Any] = {
    "secret": "SB-Mid-server-abcdefghijklmnop",
    "fund_rule": {
        "by": "order_prefix",
        "funds": {"BEA-": "beasiswa-2026", "ZKT-": "zakat-2026"},
        "default": "umum",
    },
}
MIDTRANS_NOTIFICATION: dict[str, Any] = {
    "transaction_time": "2026-11-01 10:15:02",
    "transaction_status": "settlement",
    "transaction_id": "513f1f01-c9da-474c-9fc9-d5c64364b709",
    "status_message": "midtrans payment notification",
    "status_code": "200",
    "signature_key": "f4e1e8cf"
    "b7c8b3c9a7d7e9f5c8b9a1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3"
    "a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7",
    "settlement_time": "2026-11-01 10:15:09",
    "payment_type": "qris",
    "order_id": "BEA-20261101-000123",
    "merchant_id": "G141532850",
    "gross_amount": "250000.00",
    "fraud_status": "accept",
    "currency": "IDR",
}
XENDIT_CALLBACK: dict[str, Any] = {
    "event": "qr.payment",
    "business_id": "5f27a14a9bf05c73dd040bc8",
    "created": "2026-11-01T03:15:09.000Z",
    "data": {
        "id": "qrpy_8182837te-87st-49ing-8696-1239bd4d759c",
        "qr_id": "qr_8182837te-87st-49ing-8696-1239bd4d759c",
        "reference_id": "BEA-20261101-000124",
        "amount": 250000,
        "currency": "IDR",
        "status": "SUCCEEDED",
        "created": "2026-11-01T03:15:09.000Z",
        "channel_code": "ID_DANA",
    },
}
BANK_STATEMENT = (
    "Tanggal Transaksi,Keterangan,Cabang,Jumlah,,Saldo\n"
    "'01/11,TRSF E-BANKING CR 0111/FTSCY/WS95031,'0000,250000.00,CR,1250000.00\n"
)
