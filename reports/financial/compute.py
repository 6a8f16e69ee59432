"""From postings to the lines of the ISAK 35 and PSAK 109 statements (pure, no I/O).

The input is what the double-entry postings say about each fund account (ledger/formats/
postings.py), summed by the account each fund line was paired with:

* ``donors``: a donation (revenue; a reversed donation is negative);
* ``beneficiary``: a disbursement to an orphanage (a program expense; PSAK 109: a
  distribution to mustahik);
* ``fees``: a fee (fundraising and operating expense);
* ``fund:<code>``: a transfer between two funds.

A correction posts the negation of the lines it reverses, so it lands on the same line as
what it corrects, in the period of its own value date (``effective_on``).

Each fund is classed as the log records at the statement's log size (its newest
``fund.classified``, or the default: earmarked funds are restricted). The mapping is
documented in README, "ISAK 35 and PSAK 109 statements". Every statement is checked here:
the balance sheet balances and each class's closing equals its opening plus its surplus,
or :class:`reports.errors.ReportDataError` is raised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from reports.errors import ReportDataError
from schemas.financial import (
    AmilShare,
    FinancialDocument,
    FinancialLine,
    FinancialSection,
    FundClassLine,
    Standard,
)

ZAKAT_CLASSES = ("zakat", "infak", "amil", "non_halal")
"""PSAK 109's four funds, in the order the statement shows them."""
SHARE_SOURCES = ("zakat", "infak")
"""The funds the amil share is taken from (PSAK 109: a share of zakat and of infak/sedekah)."""
DONORS, FEES, BENEFICIARY = "donors", "fees", "beneficiary"


@dataclass(frozen=True)
class FundInput:
    """A fund and its classes at the statement's log size."""

    code: str
    name: str
    restriction: str
    """``with`` or ``without`` (ISAK 35)."""
    zakat_class: str | None
    """``zakat``, ``infak``, ``amil``, ``non_halal`` or None (PSAK 109)."""


@dataclass(frozen=True)
class Move:
    """Sum of a fund account's lines against one counter account (one currency)."""

    fund: str
    """Fund code."""
    counter: str
    """``donors``, ``fees``, ``beneficiary`` or ``fund:<code>``."""
    amount: int
    """Signed minor units added to the fund's account."""


@dataclass(frozen=True)
class FinancialInput:
    """Everything the statements are made of (read in one snapshot of the log)."""

    standard: Standard
    org: str
    org_name: str
    legal_name: str | None
    npwp: str | None
    origin: str
    period_from: dt.date
    period_to: dt.date
    time_zone: str
    currency: str
    minor_units: int
    tree_size: int
    checkpoint_size: int | None
    checkpoint_root: str | None
    funds: Sequence[FundInput]
    period: Sequence[Move]
    """Movements with a value date in [from, to)."""
    to_date: Sequence[Move]
    """Movements with a value date before ``to`` (the amil share's cumulative figures)."""
    opening: dict[str, int]
    """Fund code → balance of postings with a value date before ``from``."""
    closing: dict[str, int]
    """Fund code → balance of postings with a value date before ``to``."""
    amil_cap_bps: int


def _counter_fund(counter: str) -> str | None:
    return counter.removeprefix("fund:") if counter.startswith("fund:") else None


class _Lines:
    def __init__(self) -> None:
        self.lines: list[FinancialLine] = []

    def add(self, key: str, amount: int) -> int:
        self.lines.append(FinancialLine(key=key, amount=amount))
        return amount


def _check(what: str, expected: int, got: int) -> None:
    if expected != got:
        raise ReportDataError(f"{what}: expected {expected}, got {got}")


# --- ISAK 35 ---------------------------------------------------------------------------------


def isak35_sections(i: FinancialInput) -> list[FinancialSection]:
    """Statement of financial position, of comprehensive income, of changes in net assets.

    Presentation (README): every expense is presented under *tanpa pembatasan*; what
    restricted funds spent is released to it (*aset neto yang berakhir pembatasannya*), and
    transfers between funds of different classes are reclassified between the classes."""
    restriction = {f.code: f.restriction for f in i.funds}

    def sums(cls: str, counters: tuple[str, ...]) -> int:
        return sum(
            m.amount for m in i.period if restriction[m.fund] == cls and m.counter in counters
        )

    donations = {c: sums(c, (DONORS,)) for c in ("without", "with")}
    released = -sums("with", (BENEFICIARY, FEES))
    reclassified = sum(
        m.amount
        for m in i.period
        if restriction[m.fund] == "without"
        and (g := _counter_fund(m.counter)) is not None
        and restriction.get(g, "without") == "with"
    )
    opening = {
        c: sum(i.opening.get(f.code, 0) for f in i.funds if f.restriction == c)
        for c in ("without", "with")
    }
    closing = {
        c: sum(i.closing.get(f.code, 0) for f in i.funds if f.restriction == c)
        for c in ("without", "with")
    }

    position = _Lines()
    cash = position.add("assets.cash", sum(i.closing.get(f.code, 0) for f in i.funds))
    position.add("assets.total", cash)
    liabilities = position.add("liabilities.total", 0)
    position.add("net_assets.without", closing["without"])
    position.add("net_assets.with", closing["with"])
    net = position.add("net_assets.total", closing["without"] + closing["with"])
    total = position.add("liabilities_and_net_assets.total", liabilities + net)
    _check("assets = liabilities + net assets", cash, total)

    income = _Lines()
    revenue = income.add("without.revenue.donations", donations["without"])
    revenue += income.add("without.revenue.released", released)
    revenue += income.add("without.revenue.reclassified", reclassified)
    income.add("without.revenue.total", revenue)
    program = 0
    for f in i.funds:
        program += income.add(
            f"without.expenses.program.{f.code}",
            -sum(m.amount for m in i.period if m.fund == f.code and m.counter == BENEFICIARY),
        )
    income.add("without.expenses.program", program)
    fees = income.add(
        "without.expenses.fees", -sum(m.amount for m in i.period if m.counter == FEES)
    )
    expenses = income.add("without.expenses.total", program + fees)
    surplus_without = income.add("without.surplus", revenue - expenses)
    restricted = income.add("with.revenue.donations", donations["with"])
    restricted += income.add("with.released", -released)
    restricted += income.add("with.reclassified", -reclassified)
    surplus_with = income.add("with.surplus", restricted)
    surplus = income.add("total.surplus", surplus_without + surplus_with)
    other = income.add("other_comprehensive_income", 0)
    income.add("total.comprehensive_income", surplus + other)

    changes = _Lines()
    for cls, gained in (("without", surplus_without), ("with", surplus_with)):
        changes.add(f"{cls}.opening", opening[cls])
        changes.add(f"{cls}.surplus", gained)
        end = changes.add(f"{cls}.closing", opening[cls] + gained)
        _check(f"net assets {cls} restriction: opening + surplus = closing", closing[cls], end)
    changes.add("total.opening", opening["without"] + opening["with"])
    changes.add("total.surplus", surplus)
    end = changes.add("total.closing", opening["without"] + opening["with"] + surplus)
    _check("net assets: closing = net assets in the statement of financial position", net, end)
    return [
        FinancialSection(name="financial_position", lines=position.lines),
        FinancialSection(name="comprehensive_income", lines=income.lines),
        FinancialSection(name="changes_in_net_assets", lines=changes.lines),
    ]


# --- PSAK 109 --------------------------------------------------------------------------------


def _share_and_transfers(
    moves: Sequence[Move], zakat_class: dict[str, str | None]
) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """Amil shares ((source class, 'amil') → amount, signed as the source fund's line) and
    every other transfer's net effect per class."""
    shares: dict[tuple[str, str], int] = {}
    other: dict[str, int] = {}
    for m in moves:
        g = _counter_fund(m.counter)
        c = zakat_class.get(m.fund)
        if g is None or c is None:
            continue
        d = zakat_class.get(g)
        if c in SHARE_SOURCES and d == "amil":
            shares[(c, "source")] = shares.get((c, "source"), 0) + m.amount
        elif c == "amil" and d in SHARE_SOURCES:
            shares[(d, "amil")] = shares.get((d, "amil"), 0) + m.amount
        else:
            other[c] = other.get(c, 0) + m.amount
    return shares, other


def psak109_sections(i: FinancialInput) -> tuple[list[FinancialSection], AmilShare]:
    """The statement of changes in funds: zakat, infak/sedekah, amil, non-halal."""
    zakat_class = {f.code: f.zakat_class for f in i.funds}

    def sums(moves: Sequence[Move], cls: str, counter: str) -> int:
        return sum(m.amount for m in moves if zakat_class[m.fund] == cls and m.counter == counter)

    shares, other = _share_and_transfers(i.period, zakat_class)
    lines = _Lines()
    opening_total = closing_total = 0
    for cls in ZAKAT_CLASSES:
        opening = sum(i.opening.get(f.code, 0) for f in i.funds if f.zakat_class == cls)
        closing = sum(i.closing.get(f.code, 0) for f in i.funds if f.zakat_class == cls)
        receipts = lines.add(f"{cls}.receipts", sums(i.period, cls, DONORS))
        if cls in SHARE_SOURCES:
            share = lines.add(f"{cls}.amil_share", -shares.get((cls, "source"), 0))
            net_receipts = lines.add(f"{cls}.receipts_after_amil", receipts - share)
        elif cls == "amil":
            net_receipts = receipts
            for source in SHARE_SOURCES:
                net_receipts += lines.add(
                    f"amil.share_from_{source}", shares.get((source, "amil"), 0)
                )
            lines.add("amil.receipts_total", net_receipts)
        else:
            net_receipts = receipts
        transfers = lines.add(f"{cls}.transfers", other.get(cls, 0))
        paid = lines.add(f"{cls}.distributions", -sums(i.period, cls, BENEFICIARY))
        paid += lines.add(f"{cls}.fees", -sums(i.period, cls, FEES))
        lines.add(f"{cls}.distributions_total", paid)
        surplus = lines.add(f"{cls}.surplus", net_receipts + transfers - paid)
        lines.add(f"{cls}.opening", opening)
        end = lines.add(f"{cls}.closing", opening + surplus)
        _check(f"{cls} fund: opening + surplus = closing balance", closing, end)
        opening_total += opening
        closing_total += closing
    lines.add("total.opening", opening_total)
    lines.add("total.closing", closing_total)
    outside = [f.code for f in i.funds if f.zakat_class is None]
    lines.add("outside.opening", sum(i.opening.get(c, 0) for c in outside))
    lines.add("outside.closing", sum(i.closing.get(c, 0) for c in outside))
    return [FinancialSection(name="changes_in_funds", lines=lines.lines)], amil_share(i)


def _bps(part: int, whole: int) -> int | None:
    return part * 10_000 // whole if whole > 0 else None


def amil_share(i: FinancialInput) -> AmilShare:
    """The amil share from zakat in the period and up to its end, against the cap."""
    zakat_class = {f.code: f.zakat_class for f in i.funds}

    def zakat_and_share(moves: Sequence[Move]) -> tuple[int, int]:
        received = sum(
            m.amount for m in moves if zakat_class.get(m.fund) == "zakat" and m.counter == DONORS
        )
        shares, _ = _share_and_transfers(moves, zakat_class)
        return received, -shares.get(("zakat", "source"), 0)

    period_zakat, period_amil = zakat_and_share(i.period)
    cumulative_zakat, cumulative_amil = zakat_and_share(i.to_date)
    allowed = max(cumulative_zakat, 0) * i.amil_cap_bps // 10_000
    return AmilShare(
        period_zakat=period_zakat,
        period_amil=period_amil,
        period_bps=_bps(period_amil, period_zakat),
        cumulative_zakat=cumulative_zakat,
        cumulative_amil=cumulative_amil,
        cumulative_bps=_bps(cumulative_amil, cumulative_zakat),
        cap_bps=i.amil_cap_bps,
        allowed=allowed,
        within_cap=cumulative_amil <= allowed,
    )


def financial_document(i: FinancialInput) -> FinancialDocument:
    """The document of ``i.standard`` (checked: see the module docstring)."""
    unknown = {m.fund for m in (*i.period, *i.to_date)} - {f.code for f in i.funds}
    if unknown:
        raise ReportDataError(f"postings of funds the statement does not know: {sorted(unknown)}")
    share = None
    if i.standard == "isak35":
        sections = isak35_sections(i)
    else:
        sections, share = psak109_sections(i)
    return FinancialDocument(
        standard=i.standard,
        org=i.org,
        org_name=i.org_name,
        legal_name=i.legal_name,
        npwp=i.npwp,
        origin=i.origin,
        from_=i.period_from,
        to=i.period_to,
        time_zone=i.time_zone,
        currency=i.currency,
        minor_units=i.minor_units,
        tree_size=i.tree_size,
        checkpoint_size=i.checkpoint_size,
        checkpoint_root=i.checkpoint_root,
        funds=[
            FundClassLine(
                code=f.code,
                name=f.name,
                restriction=f.restriction,  # type: ignore[arg-type]
                zakat_class=f.zakat_class,  # type: ignore[arg-type]
                opening=i.opening.get(f.code, 0),
                closing=i.closing.get(f.code, 0),
            )
            for f in i.funds
        ],
        sections=sections,
        amil_share=share,
    )
