"""Donor receipts from the API: the JSON receipt verifies offline and opens the donor
commitment; the PDF receipt is signed with the organization's certificate and carries that proof;
the annual receipt gathers one donor's year.

How a PDF is laid out and signed is tested on the reports package alone
(tests/reports/test_receipt_pdf.py); who may fetch each route, in tests/http/test_api_authz.py."""

from __future__ import annotations

import json
import shutil

import pytest

from ledger.errors import SignatureError
from ledger.journal.organizations import rotate_key
from ledger.verify.offline import verify_receipt
from reports.pdf.attachments import read_attachments
from tests.apikit import DONOR, auth, pdf_text, setup_donations, validate
from tests.logkit import assert_log_verifies


async def test_receipt_verifies_offline_and_opens_the_donor_commitment(charity, store):
    donations = await setup_donations(charity)
    receipt = await charity.receipt(donations[0]["index"])
    proven = verify_receipt(receipt, await charity.verifiers())
    assert proven.index == donations[0]["index"] and proven.donor_opened is True
    assert proven.document["body"]["amount"] == 125_000_000
    assert proven.document["body"]["donor"]["display"] == "Siti A."
    assert "siti@example.id" not in json.loads(receipt)["tlog_proof"]
    anonymous = verify_receipt(
        await charity.receipt(donations[1]["index"]), await charity.verifiers()
    )
    assert anonymous.donor_opened is None
    await assert_log_verifies(store)


async def test_receipt_after_erasure_still_verifies_without_opening(charity, store):
    donations = await setup_donations(charity, n=1)
    r = await charity.post("/donors/erase", {"email": "siti@example.id"}, role="admin")
    assert r.status_code == 200, r.text
    receipt = await charity.receipt(donations[0]["index"])
    assert json.loads(receipt)["donor_opening"] is None
    assert verify_receipt(receipt, await charity.verifiers()).donor_opened is None
    await assert_log_verifies(store)


async def test_key_rotation_keeps_old_receipts_valid(charity, store, kek):
    donations = await setup_donations(charity, n=1)
    receipt = await charity.receipt(donations[0]["index"])
    old_keys = await charity.verifiers()
    org = await store.organization(charity.slug)
    await rotate_key(store, kek, org)
    for _ in range(3):
        await charity.donate(500)
    verify_receipt(receipt, old_keys)
    new_receipt = await charity.receipt((await charity.donate(700))["index"])
    all_keys = await charity.verifiers()
    assert len(all_keys) == 2
    new_key = [k for k in all_keys if k not in old_keys]
    verify_receipt(new_receipt, new_key)
    with pytest.raises(SignatureError):
        verify_receipt(new_receipt, old_keys)
    await assert_log_verifies(store)


async def test_receipt_pdf_is_signed_by_the_organization_and_carries_a_verifiable_proof(
    charity, tmp_path
):
    """The served PDF: signed with the organization's certificate, the tlog proof attached
    verifies against the log's keys, and the gift's own data is printed."""
    await charity.fund()
    d = await charity.donate(125_000_000, donor=DONOR)
    r = await charity.client.get(
        charity.url(f"/donations/{d['index']}/receipt.pdf?lang=id"),
        headers=auth(charity.keys["auditor"]),
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    result = await validate(r.content, await charity.cert_der())
    assert result.trustworthy and result.signer_common_name == "Yayasan Senyum Anak"
    files = read_attachments(r.content)
    proof = next(v for k, v in files.items() if k.endswith(".tlog-proof"))
    assert verify_receipt(proof, await charity.verifiers()).index == d["index"]
    if shutil.which("pdftotext"):
        text = pdf_text(r.content, tmp_path)
        assert "Rp 1.250.000" in text and "Siti A." in text and "Tanda Terima" in text


async def test_receipt_pdf_in_english_for_an_anonymous_gift(charity, tmp_path):
    await charity.fund()
    d = await charity.donate(5_000_000)
    url = charity.url(f"/donations/{d['index']}/receipt.pdf?lang=en")
    r = await charity.client.get(url, headers=auth(charity.keys["admin"]))
    assert r.status_code == 200
    assert (await validate(r.content, await charity.cert_der())).trustworthy
    if shutil.which("pdftotext"):
        text = pdf_text(r.content, tmp_path)
        assert "Donation Receipt" in text and "Anonymous" in text
    bad = await charity.client.get(
        charity.url(f"/donations/{d['index']}/receipt.pdf?lang=fr"),
        headers=auth(charity.keys["admin"]),
    )
    assert bad.status_code == 400


@pytest.mark.parametrize("lang", ["id", "en"])
async def test_annual_receipt_lists_the_year_and_attaches_every_proof(charity, lang):
    await charity.fund()
    donor = {**DONOR, "email": "Siti@Example.id"}  # asked for below in other case, with spaces
    mine = [await charity.donate(100_000 * (i + 1), donor=donor) for i in range(3)]
    await charity.donate(999_00, donor={"email": "other@example.id"})
    await charity.donate(777_00, donor=donor, received_on="2025-12-31")
    r = await charity.client.post(
        charity.url("/annual-receipts"),
        headers=auth(charity.keys["auditor"]),
        json={"year": 2026, "email": " siti@example.ID ", "lang": lang},
    )
    assert r.status_code == 200, r.text
    assert (await validate(r.content, await charity.cert_der())).trustworthy
    proofs = {k: v for k, v in read_attachments(r.content).items() if k.endswith(".tlog-proof")}
    assert sorted(proofs) == sorted(f"receipt-{d['index']}.tlog-proof" for d in mine)
    none = await charity.client.post(
        charity.url("/annual-receipts"),
        headers=auth(charity.keys["auditor"]),
        json={"year": 2024, "email": "siti@example.id"},
    )
    assert none.status_code == 404
