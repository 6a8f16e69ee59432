"""Bank statement imports: BCA, Mandiri and BRI layouts and a mapping file, previewed and
committed over real HTTP and through `ledger import-bank`, into a real PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from ledger.http.auth import issue_key
from ledger.ingest.bankstatements import LAYOUTS, read_statement
from ledger.journal.organizations import create_organization
from schemas.bankstatements import BankLayout
from tests.apikit import Org, assert_problem, auth
from tests.ingest.gatewaykit import live_server
from tests.ingest.test_midtrans import Gateway
from tests.logkit import assert_log_verifies
from tests.system.test_cli import ledger

# A KlikBCA export as the README documents it (the layout is not specified by BCA).
BCA = """No. rekening : 1234567890
Nama : YAYASAN SENYUM ANAK
Periode : 01/11/2026 - 30/11/2026
Kode Mata Uang : Rp

Tanggal Transaksi,Keterangan,Cabang,Jumlah,,Saldo
'01/11,TRSF E-BANKING CR 0111/FTSCY/WS95031 250000.00 SITI AMINAH,'0000,250000.00,CR,1250000.00
'02/11,BIAYA ADM,'0000,10000.00,DB,1240000.00
'PEND,TRSF E-BANKING CR,'0000,5000.00,CR,0
'03/11,SETORAN TUNAI,'0998,100000.50,CR,1340000.50
'04/11,TRSF E-BANKING CR BUDI,'0000,1.001,CR,1340000.50
'05/11,TRSF E-BANKING CR ANI,'0000,75000.00,CR,1415000.50

Saldo Awal,1000000.00
Mutasi Kredit,425000.50
Mutasi Debet,10000.00
Saldo Akhir,1415000.50
"""
MANDIRI = """Tgl.,Tgl. Val.,Rincian Transaksi,No. Referensi,Debit,Kredit,Saldo
01/11/2026,01/11/2026,TRANSFER DARI SITI,MDR-0001,,"1,250,000.00","11,250,000.00"
02/11/2026,02/11/2026,BIAYA ADMIN,MDR-0002,"12,500.00",,"11,237,500.00"
"""
BRI = """Tanggal,Uraian Transaksi,Teller,Debet,Kredit,Saldo
01/11/26,TRANSFER MASUK BUDI,8888,0.00,"500,000.00","5,500,000.00"
02/11/26,TRANSFER MASUK ANI,8888,0.00,"500,000.00","6,000,000.00"
"""


def test_mandiri_and_bri_layouts_read_exactly() -> None:
    mandiri = read_statement(MANDIRI.encode(), LAYOUTS["mandiri"], 2)
    assert mandiri.bad == []
    assert [(x.reference, x.amount, x.credit) for x in mandiri.lines] == [
        ("MDR-0001", 125000000, True),
        ("MDR-0002", 1250000, False),
    ]
    bri = read_statement(BRI.encode(), LAYOUTS["bri"], 2)
    assert [(str(x.value_date), x.amount) for x in bri.lines] == [
        ("2026-11-01", 50000000),
        ("2026-11-02", 50000000),
    ]
    # Same amount, same day pattern: derived references differ (by text and balance) and are
    # the same when the same line is read again.
    assert bri.lines[0].reference != bri.lines[1].reference
    again = read_statement(BRI.encode(), LAYOUTS["bri"], 2)
    assert [x.reference for x in again.lines] == [x.reference for x in bri.lines]
    with pytest.raises(Exception, match="no header row"):
        read_statement(MANDIRI.encode(), LAYOUTS["bri"], 2)


def test_each_line_gets_its_own_date_or_its_own_reason() -> None:
    """A date text is read once per file (issue 15: the 100,000-line benchmark has 30 of
    them): lines that share a text share its day, and every line with a bad date is listed
    with its own number, also when the same bad text comes again."""
    rows = [
        '01/11/2026,01/11/2026,A,MDR-1,,"1.00","1.00"',
        '31/11/2026,31/11/2026,B,MDR-2,,"1.00","2.00"',
        '02/11/2026,02/11/2026,C,MDR-3,,"1.00","3.00"',
        '01/11/2026,01/11/2026,D,MDR-4,,"1.00","4.00"',
        '31/11/2026,31/11/2026,E,MDR-5,,"1.00","5.00"',
        '2026-11-01,2026-11-01,F,MDR-6,,"1.00","6.00"',
    ]
    text = MANDIRI.splitlines()[0] + "\n" + "\n".join(rows) + "\n"
    read = read_statement(text.encode(), LAYOUTS["mandiri"], 2)
    assert [(x.line, str(x.value_date)) for x in read.lines] == [
        (2, "2026-11-01"),
        (4, "2026-11-02"),
        (5, "2026-11-01"),
    ]
    reason = "date: expected the form %d/%m/%Y (e.g. 20/11/2026), got {!r}"
    assert [(b.line, b.reason) for b in read.bad] == [
        (3, reason.format("31/11/2026")),
        (6, reason.format("31/11/2026")),
        (7, reason.format("2026-11-01")),
    ]
    no_year = BCA.replace("Periode : 01/11/2026 - 30/11/2026", "Periode : -")
    read = read_statement(no_year.encode(), LAYOUTS["bca"], 2)
    assert read.lines == []
    assert {b.reason for b in read.bad} == {
        "date: the export gives no year and none was given (--year)"
    }
    assert len(read.bad) == 5
    read = read_statement(no_year.encode(), LAYOUTS["bca"], 2, year=2025)
    assert [str(x.value_date) for x in read.lines][:2] == ["2025-11-01", "2025-11-02"]


@pytest.fixture
async def bank(store, settings, kek) -> AsyncIterator[Gateway]:  # type: ignore[no-untyped-def]
    async with live_server(settings) as client:
        record = await create_organization(
            store, settings, kek, "yayasan-senyum", "Yayasan Senyum Anak"
        )
        keys = {r: (await issue_key(store, record.id, r))[1] for r in ("admin", "recorder")}
        org = Org(client, record.slug, keys)  # type: ignore[arg-type]
        await org.fund("senyum-2026")
        yield Gateway(org, record, store)


async def _upload(bank: Gateway, path: str, text: str, key: str | None = None, **params):  # type: ignore[no-untyped-def]
    headers = auth(bank.org.keys["recorder"], **{"Content-Type": "text/csv"})
    if key:
        headers["Idempotency-Key"] = key
    query = {"fund": "senyum-2026", "layout": "bca", **params}
    return await bank.client.post(
        bank.org.url(path), content=text.encode(), headers=headers, params=query
    )


async def test_preview_then_commit_all_or_nothing_and_once(bank):
    start = await bank.size()
    r = await _upload(bank, "/bank-imports/preview", BCA)
    assert r.status_code == 200, r.text
    p = r.json()
    assert (p["lines"], p["credits"], p["debits"]) == (4, 3, 1)
    assert p["credit_total"] == 25000000 + 10000050 + 7500000
    assert (p["first_date"], p["last_date"]) == ("2026-11-01", "2026-11-05")
    assert p["debit_candidates"][0]["amount"] == 1000000
    assert [b["line"] for b in p["bad_lines"]] == [11]
    assert "1.001" in p["bad_lines"][0]["reason"]
    assert await bank.size() == start  # a preview records nothing
    # A commit with a bad line records nothing and names it.
    r = await _upload(bank, "/bank-imports", BCA, key="imp-1")
    assert r.status_code == 400 and "line 11" in r.json()["detail"]
    assert await bank.size() == start
    # Excluding it, the commit records the three credits, in one go.
    r = await _upload(bank, "/bank-imports", BCA, key="imp-2", exclude=[11])
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["recorded"] == 3 and done["already_recorded"] == 0
    entries = await bank.entries(start)
    assert [e["body"]["amount"] for e in entries] == [25000000, 10000050, 7500000]
    assert all(e["body"]["channel"] == "bank_transfer" for e in entries)
    assert "SITI" not in json.dumps(entries)  # the bank's text never enters the log
    # The same request again: replayed; the same file under another key: recorded once.
    assert (await _upload(bank, "/bank-imports", BCA, key="imp-2", exclude=[11])).headers.get(
        "Idempotency-Replayed"
    ) == "true"
    r = await _upload(bank, "/bank-imports", BCA, key="imp-3", exclude=[11])
    assert r.status_code == 200 and r.json()["replayed"] is True
    # A later export overlapping the first: only the new line is recorded.
    later = BCA.replace("Saldo Awal", "'06/11,TRSF E-BANKING CR DODI,'0000,20000.00,CR,1435000.50\n\nSaldo Awal")
    r = await _upload(bank, "/bank-imports/preview", later, exclude=[11])
    assert r.json()["new_credits"] == 1 and r.json()["first_rows"][0]["recorded"] is True
    r = await _upload(bank, "/bank-imports", later, key="imp-4", exclude=[11])
    assert r.status_code == 201 and r.json()["recorded"] == 1
    assert r.json()["already_recorded"] == 3
    assert await bank.balance() == 25000000 + 10000050 + 7500000 + 2000000
    await assert_log_verifies(bank.store)


async def test_dates_outside_the_books_and_repeated_references_are_bad_lines(bank):
    text = MANDIRI + "03/11/2026,03/11/2026,LAGI,MDR-0001,,\"5.00\",\"1.00\"\n"
    text += "01/01/2001,01/01/2001,LAMA,MDR-0009,,\"5.00\",\"1.00\"\n"
    r = await _upload(bank, "/bank-imports/preview", text, layout="mandiri")
    bad = r.json()["bad_lines"]
    assert [b["line"] for b in bad] == [4, 5]
    assert "also on line 2" in bad[0]["reason"] and "books open" in bad[1]["reason"]
    start = await bank.size()
    r = await _upload(bank, "/bank-imports", text, key="bad-1", layout="mandiri")
    assert r.status_code == 400 and await bank.size() == start
    await assert_log_verifies(bank.store)


async def test_cli_import_bank_with_a_mapping_file(bank, db_url, kek, tmp_path):
    layout = BankLayout(
        name="koperasi",
        header_starts="Date",
        date="Date",
        date_format="%Y-%m-%d",
        description="Memo",
        reference="Ref",
        amount="Amount",
        direction="Type",
        credit_marker="C",
        thousands=".",
        decimal=",",
        delimiter=";",
    )
    import msgspec

    mapping = tmp_path / "koperasi.json"
    mapping.write_bytes(msgspec.json.encode(layout))
    statement = tmp_path / "mutasi.csv"
    statement.write_text(
        "Date;Memo;Ref;Amount;Type\n"
        "2026-11-10;Infak Jumat;KOP-1;1.250.000,00;C\n"
        "2026-11-11;Listrik;KOP-2;300.000,00;D\n"
    )
    start = await bank.size()
    args = ["import-bank", str(statement), "--org", "yayasan-senyum", "--fund", "senyum-2026",
            "--mapping", str(mapping)]
    dry = ledger([*args, "--dry-run"], db_url, kek, tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "credits: 1, IDR 1250000.00" in dry.stdout and "dry run" in dry.stdout
    assert await bank.size() == start
    done = ledger(args, db_url, kek, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "recorded 1 donation(s)" in done.stdout and "1/1" in done.stderr
    again = ledger(args, db_url, kek, tmp_path)
    assert "already imported" in again.stdout
    [entry] = await bank.entries(start)
    assert entry["body"]["reference"] == "KOP-1" and entry["body"]["amount"] == 125000000
    await assert_log_verifies(bank.store)


KOPERASI = {
    "name": "koperasi",
    "header_starts": "Date",
    "date": "Date",
    "date_format": "%Y-%m-%d",
    "description": "Memo",
    "reference": "Ref",
    "amount": "Amount",
    "direction": "Type",
    "credit_marker": "C",
    "thousands": ".",
    "decimal": ",",
    "delimiter": ";",
}
KOPERASI_CSV = (
    "Date;Memo;Ref;Amount;Type\n"
    "2026-11-10;Infak Jumat;KOP-1;1.250.000,00;C\n"
    "2026-11-11;Listrik;KOP-2;300.000,00;D\n"
)


async def test_a_custom_layout_saved_over_the_api_reads_later_uploads(bank):
    org = bank.org

    async def put(name: str, body: dict, role: str = "admin"):  # type: ignore[no-untyped-def]
        return await bank.client.put(
            org.url(f"/bank-layouts/{name}"), json=body, headers=auth(org.keys[role])
        )

    start = await bank.size()
    # Unknown before it is saved: the answer names the built-in ones and how to save one.
    r = await _upload(bank, "/bank-imports/preview", KOPERASI_CSV, layout="koperasi")
    assert_problem(r, 422, "'koperasi'", "bca, mandiri and bri", "saved none", "PUT")
    assert (await put("koperasi", KOPERASI, role="recorder")).status_code == 403
    assert_problem(await put("bca", {**KOPERASI, "name": "bca"}), 422, "built-in")
    assert_problem(await put("koperasi", {**KOPERASI, "name": "other"}), 422, "'other'")
    assert_problem(await put("koperasi", {**KOPERASI, "amount": None}), 422, "credit")
    saved = await put("koperasi", KOPERASI)
    assert saved.status_code == 200, saved.text
    listed = await bank.client.get(org.url("/bank-layouts"), headers=auth(org.keys["recorder"]))
    assert [x["name"] for x in listed.json()] == ["koperasi"]
    r = await _upload(bank, "/bank-imports/preview", KOPERASI_CSV, layout="koperasi")
    assert r.status_code == 200, r.text
    assert (r.json()["layout"], r.json()["credits"], r.json()["credit_total"]) == (
        "koperasi",
        1,
        125000000,
    )
    assert await bank.size() == start
    done = await _upload(bank, "/bank-imports", KOPERASI_CSV, key="kop-1", layout="koperasi")
    assert done.status_code == 201, done.text
    [entry] = await bank.entries(start)
    assert entry["body"]["reference"] == "KOP-1" and entry["body"]["amount"] == 125000000
    # Saving again replaces it (the next upload reads with the new mapping).
    assert (await put("koperasi", {**KOPERASI, "credit_marker": "K"})).status_code == 200
    r = await _upload(bank, "/bank-imports/preview", KOPERASI_CSV, layout="koperasi")
    assert r.json()["credits"] == 0
    await assert_log_verifies(bank.store)
