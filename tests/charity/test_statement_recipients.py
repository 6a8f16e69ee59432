"""Recipient statuses in signed statements (issue 20): each disbursement carries what its
recipient had signed at the statement's end (acknowledged, disputed, or awaiting since N
days), in the PDF (both languages), the JSON and the CSV; disputes are listed in a red box;
a summary line counts the three. Only the recipients' entries below the statement's end
count, so a signature recorded later changes the next statement, never an issued one.

Real PostgreSQL, the real app, real Ed25519 signatures, poppler's pdftotext."""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from zoneinfo import ZoneInfo

from ledger.charity import statements
from ledger.recipient import signed_request
from ledger.store import charity as P
from reports.statement.data import StatementEntry
from tests.apikit import Org, pdf_text
from tests.charity.test_acknowledgments import enrol, sign, view
from tests.logkit import assert_log_verifies

TODAY = dt.datetime.now(ZoneInfo("Asia/Jakarta")).date()
PAID_ON = dt.date(2026, 11, 2)
"""The value date tests.apikit gives disbursements."""
CURRENT = {"from": "2026-11-01", "to": (TODAY + dt.timedelta(days=1)).isoformat()}


async def _books(charity: Org) -> list[int]:
    """Four disbursements: three to lksa-harapan (which enrols a key), one to lksa-kasih."""
    await charity.fund()
    await charity.beneficiary()
    await charity.beneficiary("lksa-kasih")
    await charity.donate(20_000_000_00)
    out = []
    for amount, to in (
        (1_500_000_00, "lksa-harapan"),
        (2_000_000_00, "lksa-harapan"),
        (700_000_00, "lksa-harapan"),
        (300_000_00, "lksa-kasih"),
    ):
        r = await charity.disburse(amount, to=to)
        assert r.status_code == 201, r.text
        out.append(r.json()["index"])
    return out


async def test_statuses_in_json_csv_and_both_pdfs(charity, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    acked, disputed, waiting, other = await _books(charity)
    seed = secrets.token_bytes(32)
    key = await enrol(charity, seed)
    r = await sign(charity, acked, signed_request(await view(charity, acked), seed))
    assert r.status_code == 201, r.text
    ack_entry = r.json()["index"]
    r = await sign(
        charity, disputed, signed_request(await view(charity, disputed), seed, received=500_000_00)
    )
    assert r.status_code == 201, r.text
    dispute_entry = r.json()["index"]

    meta = await charity.statement(CURRENT)
    doc = statements._decode_document(await charity.statement_file(1, "json"))
    assert doc.recipients_as_of is not None
    assert (doc.recipients_as_of.tree_size, doc.recipients_as_of.date) == (meta["end"], TODAY)
    lines = {e.index: e for e in doc.entries}
    days = (TODAY - PAID_ON).days
    a, d, w, o = (lines[i].recipient for i in (acked, disputed, waiting, other))
    assert a is not None and (a.status, a.entry, a.on, a.received) == (
        "acknowledged",
        ack_entry,
        TODAY,
        1_500_000_00,
    )
    assert d is not None and (d.status, d.entry, d.received, d.awaiting_days) == (
        "disputed",
        dispute_entry,
        500_000_00,
        None,
    )
    assert w is not None and (w.status, w.entry, w.awaiting_days) == ("awaiting", None, days)
    assert o is not None and o.status == "awaiting"
    # Only disbursements carry a status: not the donation, the key or the acknowledgments.
    assert all(e.recipient is None for e in doc.entries if e.kind != "disbursement")
    assert lines[key].kind == "beneficiary.key"
    [total] = doc.totals.recipients
    assert (total.currency, total.disbursements, total.disbursed) == ("IDR", 4, 4_500_000_00)
    assert (total.acknowledged, total.acknowledged_amount) == (1, 1_500_000_00)
    assert (total.disputed, total.disputed_amount, total.disputed_received) == (
        1,
        2_000_000_00,
        500_000_00,
    )
    assert (total.awaiting, total.awaiting_amount) == (2, 1_000_000_00)

    rows = list(csv.DictReader(io.StringIO((await charity.statement_file(1, "csv")).decode())))
    by_index = {int(r["index"]): r for r in rows if r["section"] == "entry"}
    assert by_index[acked]["recipient_status"] == "acknowledged"
    assert by_index[acked]["recipient_entry"] == str(ack_entry)
    assert by_index[acked]["recipient_date"] == TODAY.isoformat()
    assert (by_index[disputed]["recipient_status"], by_index[disputed]["recipient_received"]) == (
        "disputed",
        "50000000",
    )
    assert by_index[waiting]["awaiting_days"] == str(days)
    assert by_index[ack_entry]["recipient_status"] == ""  # the acknowledgment entry itself
    summary = {r["kind"]: r for r in rows if r["section"] == "recipient_total"}
    assert summary["disputed"]["amount"] == "200000000" and summary["disputed"]["note"] == "count=1"
    assert summary["awaiting"]["note"] == "count=2"
    assert summary["disputed_received"]["amount_decimal"] == "500000.00"
    facts = {r["name"]: r["note"] for r in rows if r["section"] == "statement"}
    assert facts["recipients_tree_size"] == str(meta["end"])

    text_id = " ".join(pdf_text(await charity.statement_file(1, "pdf?lang=id"), tmp_path).split())
    assert "Kata penerima sendiri" in text_id
    assert "IDR: 4 penyaluran, Rp 4.500.000. Dikonfirmasi penerima: 1 (Rp 1.500.000)" in text_id
    assert "Disanggah: 1 (Rp 2.000.000; menurut penerima diterima Rp 500.000)" in text_id
    assert "Menunggu konfirmasi: 2 (Rp 1.000.000)" in text_id
    assert "SANGGAHAN PENERIMA (1)" in text_id
    assert (
        f"#{disputed} · 2 November 2026 · LKSA lksa-harapan: dicatat disalurkan Rp 2.000.000; "
        "penerima menandatangani bahwa yang diterima Rp 500.000" in text_id
    )
    assert f"dikonfirmasi penerima (entri #{ack_entry}," in text_id
    assert f"DISANGGAH penerima (entri #{dispute_entry}," in text_id
    assert f"menunggu konfirmasi penerima selama {days} hari" in text_id
    text_en = " ".join(pdf_text(await charity.statement_file(1, "pdf?lang=en"), tmp_path).split())
    assert "The recipients' own word" in text_en
    assert "DISPUTED BY THE RECIPIENT (1)" in text_en
    assert "Awaiting acknowledgment: 2 (Rp 1.000.000)" in text_en
    assert f"awaiting acknowledgment by the recipient for {days} days" in text_en

    # Signed after statement 1: statement 2 shows it; statement 1 keeps saying "awaiting".
    r = await sign(charity, waiting, signed_request(await view(charity, waiting), seed))
    assert r.status_code == 201, r.text
    await charity.statement(CURRENT)
    second = statements._decode_document(await charity.statement_file(2, "json"))
    again = {e.index: e for e in second.entries}
    assert again[waiting].recipient is not None
    assert again[waiting].recipient.status == "acknowledged"
    assert second.totals.recipients[0].awaiting == 1
    first = statements._decode_document(await charity.statement_file(1, "json"))
    assert first == doc
    await assert_log_verifies(store)


async def test_only_the_recipients_entries_below_the_end_count(charity, store) -> None:  # type: ignore[no-untyped-def]
    acked, *_ = await _books(charity)
    seed = secrets.token_bytes(32)
    await enrol(charity, seed)
    r = await sign(charity, acked, signed_request(await view(charity, acked), seed))
    ack_entry = r.json()["index"]
    org = await store.organization(charity.slug)
    listed = [StatementEntry(acked, dt.datetime.now(dt.UTC), "disbursement")]
    async with store.connection() as conn:
        calendar = await P.org_calendar(conn, org)
        before = await statements._recipient_words(conn, org.id, listed, ack_entry, calendar)
        after = await statements._recipient_words(conn, org.id, listed, ack_entry + 1, calendar)
    assert before == {}
    assert after[acked].entry == ack_entry and after[acked].verdict == "acknowledged"
    await assert_log_verifies(store)
