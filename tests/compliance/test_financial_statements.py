"""ISAK 35 and PSAK 109 statements of the compliance month, checked line by line.

Every line is recomputed here from the public log itself (``GET …/log/export``: each
entry's canonical bytes), entry by entry and by entry kind: a donation is revenue, a
disbursement a program expense or distribution, a fee an expense, a transfer moves money
between two funds, and a correction counts as the negation of what it reverses, on its own
``effective_on``. The classes of each fund are the ones the scenario recorded. The service
computes the same statements another way (SQL over the postings, paired by counter
account); the two must agree on every line. Then: the balance sheet balances, net assets
close at opening plus surplus, PSAK 109 closing balances equal the funds' balances, the
signed PDFs validate in pyHanko and poppler's ``pdfsig``, and say what they say in
Bahasa Indonesia and English.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

from schemas import kinds
from tests.apikit import Org, auth, pdf_text, publish_now, validate
from tests.compliance.scenario import AMIL, DISASTER, GENERAL, MONTH, ZAKAT, record_month
from tests.logkit import assert_log_verifies
from tests.system.test_cli import ledger

RESTRICTION = {ZAKAT: "with", DISASTER: "with", GENERAL: "with", AMIL: "without"}
ZAKAT_CLASS = {ZAKAT: "zakat", DISASTER: "infak", GENERAL: "infak", AMIL: "amil"}
"""What tests/compliance/scenario.py classified each fund as."""
VALUE_DATE = {
    kinds.DONATION: "received_on",
    kinds.DISBURSEMENT: "paid_on",
    kinds.TRANSFER: "transferred_on",
    kinds.FEE: "charged_on",
}
FROM, TO = dt.date.fromisoformat(MONTH["from"]), dt.date.fromisoformat(MONTH["to"])


# --- the independent recomputation ------------------------------------------------------------


class Fact:
    """One money movement as its entry kind says: ``kind`` of the entry it stands for
    (a correction stands for the entry it reverses, with ``sign`` -1)."""

    def __init__(self, day: dt.date, kind: str, body: dict[str, Any], sign: int) -> None:
        self.day, self.kind, self.body, self.sign = day, kind, body, sign
        self.amount = sign * body["amount"]


async def facts_of(charity: Org) -> tuple[list[Fact], int]:
    """Every money movement of the log (from its export), and the log size."""
    r = await charity.client.get(charity.url("/log/export"))
    assert r.status_code == 200, r.text[:300]
    entries: dict[int, dict[str, Any]] = {}
    for line in r.text.splitlines():
        item = json.loads(line)
        if "canonical" in item:
            entries[item["index"]] = json.loads(base64.b64decode(item["canonical"]))
    facts = []
    for e in entries.values():
        kind, body = e["kind"], e["body"]
        if kind in VALUE_DATE:
            facts.append(Fact(dt.date.fromisoformat(body[VALUE_DATE[kind]]), kind, body, 1))
        elif kind == kinds.CORRECTION:
            target = entries[body["corrects"]]
            day = dt.date.fromisoformat(body["effective_on"])
            facts.append(Fact(day, target["kind"], target["body"], -1))
    return facts, len(entries)


def fund_balances(facts: list[Fact], before: dt.date) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for f in facts:
        if f.day >= before:
            continue
        if f.kind == kinds.DONATION:
            found[f.body["fund"]] += f.amount
        elif f.kind in (kinds.DISBURSEMENT, kinds.FEE):
            found[f.body["fund"]] -= f.amount
        else:
            found[f.body["from_fund"]] -= f.amount
            found[f.body["to_fund"]] += f.amount
    return {code: found.get(code, 0) for code in RESTRICTION}


def in_period(facts: list[Fact]) -> list[Fact]:
    return [f for f in facts if FROM <= f.day < TO]


def expected_isak35(facts: list[Fact]) -> dict[str, dict[str, int]]:
    period = in_period(facts)
    opening, closing = fund_balances(facts, FROM), fund_balances(facts, TO)

    def total(kind: str, cls: str | None = None, fund: str | None = None) -> int:
        return sum(
            f.amount
            for f in period
            if f.kind == kind
            and (cls is None or RESTRICTION[f.body["fund"]] == cls)
            and (fund is None or f.body["fund"] == fund)
        )

    cls_of = {c: [code for code, r in RESTRICTION.items() if r == c] for c in ("with", "without")}
    released = total(kinds.DISBURSEMENT, "with") + total(kinds.FEE, "with")
    reclassified = 0
    for f in period:
        if f.kind == kinds.TRANSFER:
            src, dst = RESTRICTION[f.body["from_fund"]], RESTRICTION[f.body["to_fund"]]
            if (src, dst) == ("with", "without"):
                reclassified += f.amount
            elif (src, dst) == ("without", "with"):
                reclassified -= f.amount
    program = {code: total(kinds.DISBURSEMENT, fund=code) for code in RESTRICTION}
    fees = total(kinds.FEE)
    revenue_without = total(kinds.DONATION, "without") + released + reclassified
    surplus_without = revenue_without - sum(program.values()) - fees
    surplus_with = total(kinds.DONATION, "with") - released - reclassified
    net = {c: sum(closing[code] for code in cls_of[c]) for c in cls_of}
    start = {c: sum(opening[code] for code in cls_of[c]) for c in cls_of}
    return {
        "financial_position": {
            "assets.cash": sum(closing.values()),
            "assets.total": sum(closing.values()),
            "liabilities.total": 0,
            "net_assets.without": net["without"],
            "net_assets.with": net["with"],
            "net_assets.total": net["without"] + net["with"],
            "liabilities_and_net_assets.total": net["without"] + net["with"],
        },
        "comprehensive_income": {
            "without.revenue.donations": total(kinds.DONATION, "without"),
            "without.revenue.released": released,
            "without.revenue.reclassified": reclassified,
            "without.revenue.total": revenue_without,
            **{f"without.expenses.program.{c}": v for c, v in program.items()},
            "without.expenses.program": sum(program.values()),
            "without.expenses.fees": fees,
            "without.expenses.total": sum(program.values()) + fees,
            "without.surplus": surplus_without,
            "with.revenue.donations": total(kinds.DONATION, "with"),
            "with.released": -released,
            "with.reclassified": -reclassified,
            "with.surplus": surplus_with,
            "total.surplus": surplus_without + surplus_with,
            "other_comprehensive_income": 0,
            "total.comprehensive_income": surplus_without + surplus_with,
        },
        "changes_in_net_assets": {
            "without.opening": start["without"],
            "without.surplus": surplus_without,
            "without.closing": net["without"],
            "with.opening": start["with"],
            "with.surplus": surplus_with,
            "with.closing": net["with"],
            "total.opening": start["without"] + start["with"],
            "total.surplus": surplus_without + surplus_with,
            "total.closing": net["without"] + net["with"],
        },
    }


def expected_psak109(facts: list[Fact]) -> dict[str, int]:
    period = in_period(facts)
    opening, closing = fund_balances(facts, FROM), fund_balances(facts, TO)
    lines: dict[str, int] = {}
    for cls in ("zakat", "infak", "amil", "non_halal"):
        funds = [code for code, c in ZAKAT_CLASS.items() if c == cls]

        def total(kind: str, funds: list[str] = funds) -> int:
            return sum(f.amount for f in period if f.kind == kind and f.body["fund"] in funds)

        def moved(src: str, dst: str) -> int:
            return sum(
                f.amount
                for f in period
                if f.kind == kinds.TRANSFER
                and ZAKAT_CLASS[f.body["from_fund"]] == src
                and ZAKAT_CLASS[f.body["to_fund"]] == dst
            )

        receipts = lines[f"{cls}.receipts"] = total(kinds.DONATION)
        if cls in ("zakat", "infak"):
            share = lines[f"{cls}.amil_share"] = moved(cls, "amil") - moved("amil", cls)
            receipts = lines[f"{cls}.receipts_after_amil"] = receipts - share
        elif cls == "amil":
            for source in ("zakat", "infak"):
                got = moved(source, "amil") - moved("amil", source)
                lines[f"amil.share_from_{source}"] = got
                receipts += got
            lines["amil.receipts_total"] = receipts
        transfers = 0
        for f in period:
            if f.kind != kinds.TRANSFER:
                continue
            src, dst = ZAKAT_CLASS[f.body["from_fund"]], ZAKAT_CLASS[f.body["to_fund"]]
            if (src in ("zakat", "infak") and dst == "amil") or (
                src == "amil" and dst in ("zakat", "infak")
            ):
                continue  # the amil share
            transfers += f.amount * ((dst == cls) - (src == cls))
        lines[f"{cls}.transfers"] = transfers
        paid = lines[f"{cls}.distributions"] = total(kinds.DISBURSEMENT)
        paid += (fees := total(kinds.FEE))
        lines[f"{cls}.fees"] = fees
        lines[f"{cls}.distributions_total"] = paid
        lines[f"{cls}.surplus"] = receipts + transfers - paid
        lines[f"{cls}.opening"] = sum(opening[c] for c in funds)
        lines[f"{cls}.closing"] = sum(closing[c] for c in funds)
    lines["total.opening"] = sum(opening.values())
    lines["total.closing"] = sum(closing.values())
    lines["outside.opening"] = lines["outside.closing"] = 0
    return lines


# --- helpers -----------------------------------------------------------------------------------


def query(standard: str, **extra: Any) -> str:
    params = {"standard": standard, **MONTH, **extra}
    return "?" + "&".join(f"{k}={v}" for k, v in params.items())


async def statements_json(charity: Org, standard: str, **extra: Any) -> dict[str, Any]:
    r = await charity.client.get(charity.url(f"/financial-statements{query(standard, **extra)}"))
    assert r.status_code == 200, r.text[:500]
    return r.json()


def sections(doc: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {s["name"]: {x["key"]: x["amount"] for x in s["lines"]} for s in doc["sections"]}


def pdfsig(pdf: bytes, path: Path) -> str:
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


# --- the tests ---------------------------------------------------------------------------------


async def test_every_line_of_the_month_equals_the_postings_recomputed(
    charity, store, kek, tmp_path
):
    m = await record_month(charity, per_fund=1000)
    await publish_now(charity, store, kek)
    facts, size = await facts_of(charity)

    isak = await statements_json(charity, "isak35")
    assert isak["format"] == "donation-ledger-financial/v1" and isak["tree_size"] == size
    assert isak["legal_name"] == "Yayasan Senyum Anak Nusantara"
    assert isak["checkpoint_size"] is not None and isak["checkpoint_size"] >= size
    got, want = sections(isak), expected_isak35(facts)
    assert got.keys() == want.keys()
    for name in want:
        assert got[name] == want[name], name  # every line, by key

    pos, inc, chg = (
        got["financial_position"],
        got["comprehensive_income"],
        got["changes_in_net_assets"],
    )
    assert pos["assets.total"] == pos["liabilities.total"] + pos["net_assets.total"]
    for cls in ("without", "with", "total"):
        assert chg[f"{cls}.closing"] == chg[f"{cls}.opening"] + chg[f"{cls}.surplus"]
    assert chg["total.closing"] == pos["net_assets.total"]
    # The month as the scenario recorded it: the October gifts are in the opening balance,
    # the reversed donation and disbursement are out, the amil share moved net assets from
    # "with" to "without", every expense is released from restriction except none (the amil
    # fund paid nothing).
    october = sum(
        d["amount"] for f in m.donations.values() for d in f if d["received_on"] < "2026-11"
    )
    assert chg["total.opening"] == october
    reversed_gift = m.donations[GENERAL][7]["amount"]
    donated = sum(d["amount"] for f in m.donations.values() for d in f) - october - reversed_gift
    assert inc["with.revenue.donations"] == donated and inc["without.revenue.donations"] == 0
    zakat = sum(d["amount"] for d in m.donations[ZAKAT])
    assert inc["without.revenue.reclassified"] == zakat // 8
    paid = sum(d["amount"] for d in m.disbursements) - m.disbursements[5]["amount"]
    assert inc["without.expenses.program"] == paid
    assert inc["without.revenue.released"] == paid + 1_500_000_00

    psak = await statements_json(charity, "psak109")
    lines = sections(psak)["changes_in_funds"]
    assert lines == expected_psak109(facts)
    balances = await charity.balances()
    for cls in ("zakat", "infak", "amil"):
        funds = [c for c, z in ZAKAT_CLASS.items() if z == cls]
        assert lines[f"{cls}.closing"] == sum(balances[(f"fund:{c}", "IDR")] for c in funds)
        assert lines[f"{cls}.closing"] == lines[f"{cls}.opening"] + lines[f"{cls}.surplus"]
    assert lines["amil.share_from_zakat"] == lines["zakat.amil_share"] == zakat // 8
    share = psak["amil_share"]
    assert share["cumulative_zakat"] == zakat and share["cumulative_amil"] == zakat // 8
    assert share["cap_bps"] == 1250 and share["cumulative_bps"] == 1250 and share["within_cap"]
    # In November alone the share exceeds 1/8: part of the zakat it was taken from was
    # received in October. The cap is judged on what was collected, as the rule does.
    assert share["period_bps"] > 1250
    assert {f["code"]: f["closing"] for f in psak["funds"]} == {
        c: balances[(f"fund:{c}", "IDR")] for c in RESTRICTION
    }

    # CSV: the same lines.
    r = await charity.client.get(charity.url(f"/financial-statements/csv{query('isak35')}"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = [row.split(",") for row in r.text.strip().split("\r\n")[1:]]
    for section, key, amount, *_ in rows:
        if section != "funds":
            assert got[section][key] == int(amount)

    # Signed PDFs, in both languages, for both standards.
    cert = await charity.cert_der()
    texts = {}
    for standard in ("isak35", "psak109"):
        for lang in ("id", "en"):
            r = await charity.client.get(
                charity.url(f"/financial-statements/pdf{query(standard, lang=lang)}"),
                headers=auth(charity.keys["auditor"]),
            )
            assert r.status_code == 200, r.text[:300]
            pdf = r.content
            result = await validate(pdf, cert)
            assert result.trustworthy and result.signer_common_name == "Yayasan Senyum Anak"
            if shutil.which("pdfsig"):
                out = pdfsig(pdf, tmp_path / f"{standard}-{lang}.pdf")
                assert "Signature is Valid." in out and "Total document signed" in out, out
            texts[standard, lang] = pdf_text(pdf, tmp_path, f"{standard}-{lang}.pdf")
            if shutil.which("pdftoppm"):
                subprocess.run(
                    [
                        "pdftoppm",
                        "-r",
                        "60",
                        "-png",
                        str(tmp_path / f"{standard}-{lang}.pdf"),
                        str(tmp_path / f"{standard}-{lang}"),
                    ],
                    check=True,
                )
    id_isak, en_isak = texts["isak35", "id"], texts["isak35", "en"]
    for needle in (
        "LAPORAN POSISI KEUANGAN",
        "LAPORAN PENGHASILAN KOMPREHENSIF",
        "LAPORAN PERUBAHAN ASET NETO",
        "Tanpa pembatasan dari pemberi sumber daya",
        "Dengan pembatasan dari pemberi sumber daya",
        "Aset neto yang berakhir pembatasannya",
        "(Dinyatakan dalam Rupiah)",
    ):
        assert needle in id_isak, needle
    for needle in (
        "STATEMENT OF FINANCIAL POSITION",
        "STATEMENT OF COMPREHENSIVE INCOME",
        "STATEMENT OF CHANGES IN NET ASSETS",
        "Net assets released from restrictions",
    ):
        assert needle in en_isak, needle
    total = pos["assets.total"] // 100
    printed = f"{total:,}".replace(",", ".")
    assert printed in id_isak and printed in en_isak
    assert "LAPORAN PERUBAHAN DANA" in texts["psak109", "id"]
    assert "DANA ZAKAT" in texts["psak109", "id"] and "AMIL FUND" in texts["psak109", "en"]
    assert "Dalam batas" in texts["psak109", "id"] and "12,50%" in texts["psak109", "id"]
    (Path("/tmp") / "isak-pngs").mkdir(exist_ok=True)
    for png in tmp_path.glob("*.png"):
        shutil.copy(png, Path("/tmp") / "isak-pngs" / png.name)
    await assert_log_verifies(store)


async def test_as_of_makes_the_figures_reproducible_and_errors_say_why(
    charity, store, db_url, kek, tmp_path
):
    await charity.fund()
    await charity.fund("zakat-x", fee_cap_bps=0)
    await charity.ok(
        "/funds/zakat-x/classification", {"restriction": "with", "zakat_class": "zakat"}, "admin"
    )
    await charity.beneficiary()
    for day in ("2026-10-30", "2026-11-02", "2026-11-20"):
        body = {
            "fund": "senyum-2026",
            "amount": 500_000_00,
            "currency": "IDR",
            "received_on": day,
            "channel": "cash",
            "reference": f"R-{day}",
        }
        await charity.ok("/donations", body)
    size = (await statements_json(charity, "isak35"))["tree_size"]
    before = await charity.client.get(
        charity.url(f"/financial-statements{query('isak35', as_of=size)}")
    )
    # A gift received in November, recorded later: the statement as of the old size does not
    # change, byte for byte; the statement of the whole log now counts it.
    late = {
        "fund": "senyum-2026",
        "amount": 100_000_00,
        "currency": "IDR",
        "received_on": "2026-11-25",
        "channel": "cash",
        "reference": "LATE",
    }
    await charity.ok("/donations", late)
    again = await charity.client.get(
        charity.url(f"/financial-statements{query('isak35', as_of=size)}")
    )
    assert again.content == before.content
    now = sections(await statements_json(charity, "isak35"))
    old = sections(before.json())
    assert (
        now["comprehensive_income"]["without.revenue.donations"]
        == old["comprehensive_income"]["without.revenue.donations"] + 100_000_00
        == 1_100_000_00
    )
    assert now["changes_in_net_assets"]["total.opening"] == 500_000_00  # October

    # The command line gives the same JSON bytes, and a PDF signed like the API's.
    args = ["--org", charity.slug, "--from", MONTH["from"], "--to", MONTH["to"]]
    out = ledger(["report", "isak35", *args, "--as-of", str(size), "--json"], db_url, kek, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.encode() == before.content
    target = tmp_path / "psak109-en.pdf"
    out = ledger(
        ["report", "psak109", *args, "--lang", "en", "--out", str(target)], db_url, kek, tmp_path
    )
    assert out.returncode == 0, out.stderr
    result = await validate(target.read_bytes(), await charity.cert_der())
    assert result.trustworthy
    assert "STATEMENT OF CHANGES IN FUNDS" in pdf_text(target.read_bytes(), tmp_path)

    for params, needle in (
        ({"as_of": 10**6}, "as_of"),
        ({"currency": "USD"}, "currency"),
    ):
        r = await charity.client.get(
            charity.url(f"/financial-statements{query('isak35', **params)}")
        )
        assert r.status_code == 422 and needle in r.json()["detail"], r.text
    r = await charity.client.get(
        charity.url("/financial-statements?standard=isak35&from=2026-12-01&to=2026-11-01")
    )
    assert r.status_code == 422 and "before" in r.json()["detail"], r.text
    r = await charity.client.get(charity.url(f"/financial-statements/pdf{query('psak109')}"))
    assert r.status_code == 401
    await assert_log_verifies(store)
