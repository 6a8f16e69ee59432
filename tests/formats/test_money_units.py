"""What an amount's integer means comes from ISO 4217 and is frozen in the log.

CLDR (through Babel) says how people write money, and it changes: CLDR gave IDR 0 digits,
which once turned Rp 128.000 into "Rp 12.800.000" in signed PDFs. These tests change what
Babel says about every currency's digits and show that no amount anywhere changes: API,
site, receipt PDF, statement PDF and CSV, and ``ledger-verify``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import babel.core
import babel.numbers
import iso4217
import pytest

from ledger.verify.offline import amount_text
from ledger.verify.offline import main as verify_main
from schemas.iso4217 import MINOR_UNITS, PUBLISHED
from schemas.money import decimal_amount, minor_units, recorded_minor_units
from tests.apikit import Org, auth, pdf_text
from tests.logkit import assert_log_verifies

RUPIAH = re.compile(r"Rp\s?[0-9.]+(?:,[0-9]+)?")
PERIOD = {
    "from": "2026-11-01",
    "to": (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)).isoformat(),
}
"""From the gifts' value date to past today: the gift is in it by value date or by recording."""


def test_the_vendored_table_is_iso_4217_list_one_of_its_date():
    """Cross-check against the ``iso4217`` package (it ships SIX's list-one.xml)."""
    assert iso4217.__published__ == PUBLISHED
    published = {c.code: c.exponent for c in iso4217.Currency if c.exponent is not None}
    assert published == MINOR_UNITS
    assert (MINOR_UNITS["IDR"], MINOR_UNITS["JPY"], MINOR_UNITS["KWD"]) == (2, 0, 3)


def test_exponents_and_decimal_form():
    assert minor_units("IDR") == 2
    with pytest.raises(ValueError, match="active ISO 4217"):
        minor_units("XAU")  # gold has no minor unit: not money a charity records
    assert recorded_minor_units(None, "IDR") == 2  # the v1 rule
    assert recorded_minor_units(0, "IDR") == 0  # what the fund recorded wins
    assert decimal_amount(125_000_050, 2) == "1250000.50"
    assert decimal_amount(-5, 2) == "-0.05"
    assert decimal_amount(7, 0) == "7"
    assert decimal_amount(1, 3) == "0.001"
    assert amount_text(125_000_000, "IDR", 2) == "Rp 1.250.000"
    assert amount_text(125_000_050, "IDR", 2) == "Rp 1.250.000,50"
    assert amount_text(1_250, "USD", 2) == "USD 12.50"


@pytest.fixture(params=[0, 3], ids=["cldr-0-digits", "cldr-3-digits"])
def cldr_changes(request, monkeypatch) -> int:  # type: ignore[no-untyped-def]
    """Make Babel's CLDR data give every currency ``digits`` decimals (Babel 2.19 gives IDR
    0; this goes further, for every currency and both ways)."""
    digits: int = request.param
    fractions = babel.core.get_global("currency_fractions")
    monkeypatch.setitem(
        babel.core._global_data,  # type: ignore[attr-defined]
        "currency_fractions",
        {code: (digits, 0, digits, 0) for code in fractions},
    )
    assert babel.numbers.get_currency_precision("IDR") == digits
    return digits


async def _vkeys(charity: Org) -> list[str]:
    """``--vkey K`` for each of the log's published keys (ledger-verify's arguments)."""
    keys = (await charity.client.get(charity.url("/log/keys"))).text.split()
    return [arg for k in keys for arg in ("--vkey", k)]


async def _surfaces(charity: Org, index: int, statement: int, tmp_path: Path, capsys) -> dict:  # type: ignore[no-untyped-def]
    """Every amount a person or a program reads about the gift, by surface."""
    auditor = auth(charity.keys["auditor"])
    fund = (await charity.client.get(charity.url("/funds/senyum-2026"))).json()
    site = (await charity.client.get(f"/orgs/{charity.slug}")).text
    entry_page = (await charity.client.get(f"/orgs/{charity.slug}/entries/{index}")).text
    receipt = await charity.client.get(charity.url(f"/donations/{index}/receipt"), headers=auditor)
    pdf = await charity.client.get(
        charity.url(f"/donations/{index}/receipt.pdf?lang=id"), headers=auditor
    )
    assert receipt.status_code == 200 and pdf.status_code == 200, receipt.text
    statement_pdf = await charity.client.get(charity.url(f"/statements/{statement}/pdf?lang=id"))
    csv = (await charity.client.get(charity.url(f"/statements/{statement}/csv"))).text
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(receipt.text)
    capsys.readouterr()
    assert verify_main(["receipt", str(receipt_file), *await _vkeys(charity)]) == 0
    verified = capsys.readouterr().out
    csv_rows = [line.split(",") for line in csv.splitlines()]
    return {
        "api": {k: fund[k] for k in ("minor_units", "raised", "balance")},
        "site": RUPIAH.findall(site),
        "entry_page": RUPIAH.findall(entry_page),
        "receipt_pdf": RUPIAH.findall(pdf_text(pdf.content, tmp_path, "r.pdf")),
        "statement_pdf": RUPIAH.findall(pdf_text(statement_pdf.content, tmp_path, "s.pdf")),
        "statement_csv": [r[9:12] for r in csv_rows if r[0] in ("entry", "closing_balance")],
        "ledger_verify": RUPIAH.findall(verified),
    }


async def _statement(charity: Org) -> int:
    return int((await charity.statement(PERIOD))["id"])


async def test_no_amount_changes_when_cldr_changes(charity, store, tmp_path, capsys, cldr_changes):  # type: ignore[no-untyped-def]
    await charity.fund()
    gift = await charity.donate(
        125_000_000, donor={"name": "Siti Aminah", "public_name": "Siti A."}
    )
    before = await _surfaces(charity, gift["index"], await _statement(charity), tmp_path, capsys)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(
            babel.core._global_data,  # type: ignore[attr-defined]
            "currency_fractions",
            {"DEFAULT": (2, 0, 2, 0), "IDR": (2, 0, 2, 0)},
        )
        # the reference: what the same surfaces say with ISO's digits in CLDR too
        reference = await _surfaces(charity, gift["index"], 1, tmp_path, capsys)
    assert before == reference
    expected: dict[str, Any] = {"minor_units": 2, "raised": 125_000_000, "balance": 125_000_000}
    assert before["api"] == expected
    for surface in ("site", "entry_page", "receipt_pdf", "statement_pdf", "ledger_verify"):
        assert "Rp 1.250.000" in [a.replace("\u00a0", " ") for a in before[surface]], surface
        assert not any("125.000.000" in a or "12.500.000" in a for a in before[surface]), surface
    assert ["125000000", "2", "1250000.00"] in before["statement_csv"]

    # A fund created while CLDR disagrees still records ISO 4217's exponent.
    created = await charity.fund("zakat-2026")
    view = (await charity.client.get(charity.url(f"/log/entries/{created['index']}"))).json()
    entry = json.loads(base64.b64decode(view["canonical"]))
    assert entry["body"]["minor_units"] == 2
    await assert_log_verifies(store)


async def test_the_recorded_exponent_wins_over_any_table(charity, store, tmp_path, capsys):  # type: ignore[no-untyped-def]
    """A fund whose entry recorded another exponent (as a later ISO edition might) is read
    with that one everywhere, and a receipt proves it with the fund entry's own proof."""
    from ledger.charity.rules import CharityPolicy, Command
    from ledger.journal.appender import Appender

    org = await store.organization(charity.slug)
    body = {
        "code": "lama",
        "name": "Dana Lama",
        "currency": "IDR",
        "earmark": None,
        "fee_cap_bps": 1000,
        "minor_units": 0,
    }
    await Appender(store, policy=CharityPolicy()).append(
        org, "fund.created", body, Command.decoded("fund.created", body)
    )
    gift = await charity.donate(250_000, fund="lama")
    fund = (await charity.client.get(charity.url("/funds/lama"))).json()
    assert fund["minor_units"] == 0
    site = (await charity.client.get(f"/orgs/{charity.slug}")).text
    assert "Rp 250.000" in site.replace("\u00a0", " ")
    receipt = await charity.client.get(
        charity.url(f"/donations/{gift['index']}/receipt"), headers=auth(charity.keys["auditor"])
    )
    path = tmp_path / "receipt.json"
    path.write_text(receipt.text)
    vkeys = await _vkeys(charity)
    capsys.readouterr()
    assert verify_main(["receipt", str(path), *vkeys]) == 0
    out = capsys.readouterr().out
    assert "amount Rp 250.000 (250000 minor units of IDR, exponent 0 recorded by fund entry" in out

    # A fund proof for another fund is refused: the exponent must be the donation's fund's.
    other = await charity.fund("lain")
    forged = json.loads(receipt.text)
    proof = await charity.client.get(charity.url(f"/log/entries/{other['index']}/proof"))
    forged["fund_proof"] = proof.text
    path.write_text(json.dumps(forged))
    assert verify_main(["receipt", str(path), *vkeys]) == 1
    assert "expected the fund proof to be the fund.created entry of fund 'lama'" in (
        capsys.readouterr().out
    )
    await assert_log_verifies(store)
