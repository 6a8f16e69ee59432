"""Projections re-derived from the log's canonical bytes, and compared with the stored ones.

Every table that a rule or a public number reads is a function of the log:

* per entry (inserted by the service, append-only): ``funds`` (fund.created),
  ``beneficiary_versions`` (beneficiary.*), ``money_entries`` (donation, disbursement,
  transfer, fee, correction), ``postings`` (``ledger.accounts.postings_for``) and
  ``corrections``;
* running totals (written only by the database's triggers, migration 0012): ``balances``
  (sum of postings per account and currency), ``fund_totals`` (money rows per fund and kind,
  net of corrections, transfers also as ``transfer_in`` of the destination) and
  ``money_entries.corrected_by``.

``RangeDerivation`` takes the entries of one verification range (``ledger.verify``) and
``check_range`` compares the range's stored per-entry rows with the rows the bytes give,
naming the first entry whose rows differ. A correction's rows copy the stored rows of the
entry it corrects, which its own range checks against that entry's bytes. The totals are
summed per range and compared once for the whole log by ``check_totals``, which names the
first differing row with the expected and the found value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec

from ledger.accounts import Line, postings_for
from ledger.storage import Q

PROJECTED_KINDS = frozenset(
    {
        "fund.created",
        "beneficiary.registered",
        "beneficiary.updated",
        "donation",
        "disbursement",
        "transfer",
        "fee",
        "correction",
    }
)
"""Entry kinds that add rows to projections (every other kind adds none)."""

_decode = msgspec.json.decode

MoneyTuple = tuple[str, str, str | None, str, int, str | None]
"""A money row without its index: kind, fund, counterparty, currency, amount, reference."""


class ProjectionMismatch(Exception):
    """A stored projection row differs from the one the log gives."""

    def __init__(self, index: int | None, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        """The entry whose rows differ (None for a running total)."""
        self.reason = reason
        """Which table and row, expected and found."""


@dataclass
class RangeDerivation:
    """What one range of entries says its projection rows must be."""

    money: dict[int, MoneyTuple] = field(default_factory=dict)
    """Money rows of non-correction entries, by index."""
    lines: dict[int, list[Line]] = field(default_factory=dict)
    """Posting lines of non-correction entries, by index."""
    corrections: dict[int, int] = field(default_factory=dict)
    """Correction entry index -> the index it corrects."""
    funds: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    """``funds`` rows by entry index."""
    beneficiaries: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    """``beneficiary_versions`` rows by entry index."""
    balances: dict[tuple[str, str], int] = field(default_factory=dict)
    """The range's postings summed per (account, currency)."""
    totals: dict[tuple[str, str], int] = field(default_factory=dict)
    """The range's fund-total movements per (fund, kind)."""
    corrected_expected: dict[int, int] = field(default_factory=dict)
    """Corrected entry -> correction, from the corrections in this range."""
    corrected_stored: dict[int, int] = field(default_factory=dict)
    """Corrected entry -> stored corrected_by, for money rows in this range."""
    bad_entry: tuple[int, str] | None = None
    """An entry whose bytes do not give valid rows (first one)."""

    def add(self, index: int, kind: str, document: bytes) -> None:
        """Derive entry ``index``'s rows (``kind`` in ``PROJECTED_KINDS``)."""
        try:
            b = _decode(document)["body"]
            self._add(index, kind, b)
        except (msgspec.DecodeError, KeyError, TypeError) as exc:
            if self.bad_entry is None:
                self.bad_entry = (index, f"entry {index} ({kind}) has no valid body: {exc!r}")

    def _add(self, index: int, kind: str, b: dict[str, Any]) -> None:
        if kind == "fund.created":
            self.funds[index] = (
                b["code"],
                b["name"],
                b["currency"],
                b.get("earmark") or None,
                b["fee_cap_bps"],
                b.get("minor_units"),
            )
        elif kind.startswith("beneficiary."):
            self.beneficiaries[index] = (
                b["code"],
                b["version"],
                b["name"],
                b["city"],
                b["province"],
                b.get("registration"),
            )
        elif kind == "correction":
            self.corrections[index] = b["corrects"]
        else:
            fund = b.get("fund") or b["from_fund"]
            counterparty = b.get("beneficiary") or b.get("to_fund")
            amount, currency = b["amount"], b["currency"]
            self.money[index] = (kind, fund, counterparty, currency, amount, b.get("reference"))
            self._total(fund, kind, amount)
            if kind == "transfer":
                self._total(counterparty, "transfer_in", amount)
            lines = postings_for(kind, b)
            self.lines[index] = lines
            self._post(lines)

    def _total(self, fund: str, kind: str, amount: int) -> None:
        self.totals[(fund, kind)] = self.totals.get((fund, kind), 0) + amount

    def _post(self, lines: list[Line]) -> None:
        for line in lines:
            key = (line.account, line.currency)
            self.balances[key] = self.balances.get(key, 0) + line.amount


def _row_text(values: tuple[Any, ...]) -> str:
    return "(" + ", ".join("NULL" if v is None else repr(v) for v in values) + ")"


def _first_difference(
    table: str, expected: dict[int, Any], found: dict[int, Any]
) -> ProjectionMismatch | None:
    for index in sorted(expected.keys() | found.keys()):
        want, got = expected.get(index), found.get(index)
        if want != got:
            return ProjectionMismatch(
                index,
                f"{table}: entry {index} expected "
                f"{'no row' if want is None else _shown(want)}, found "
                f"{'no row' if got is None else _shown(got)}",
            )
    return None


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_row_text(tuple(v)) for v in value) + "]"
    return _row_text(tuple(value))


async def check_range(
    conn: asyncpg.Connection, org_id: int, start: int, end: int, d: RangeDerivation
) -> None:
    """Compare the stored per-entry rows of entries [start, end) with ``d``; raise
    ``ProjectionMismatch`` naming the first entry whose rows differ. Completes ``d`` with the
    corrections' rows and the stored corrected_by values of the range."""
    if d.bad_entry is not None:
        raise ProjectionMismatch(*d.bad_entry)
    money_found: dict[int, MoneyTuple] = {}
    for r in await conn.fetch(Q["verify_money_rows"], org_id, start, end):
        money_found[r[0]] = (r[1], r[2], r[3], r[4].strip(), r[5], r[6])
        if r[7] is not None:
            d.corrected_stored[r[0]] = r[7]
    lines_found: dict[int, list[Line]] = {}
    for r in await conn.fetch(Q["verify_postings"], org_id, start, end):
        lines_found.setdefault(r[0], []).append(Line(r[1], r[2].strip(), r[3]))
    money_expected = dict(d.money)
    lines_expected = dict(d.lines)
    if d.corrections:
        targets = sorted(set(d.corrections.values()))
        stored_targets = {
            r["entry_idx"]: r for r in await conn.fetch(Q["money_entries_at"], org_id, targets)
        }
        target_lines: dict[int, list[Line]] = {}
        for r in await conn.fetch(Q["postings_of"], org_id, targets):
            target_lines.setdefault(r["entry_idx"], []).append(
                Line(r["account"], r["currency"].strip(), r["amount"])
            )
        for index, corrected in sorted(d.corrections.items()):
            t = stored_targets.get(corrected)
            if t is None or t["kind"] == "correction" or corrected >= index:
                raise ProjectionMismatch(
                    index, f"entry {index} corrects entry {corrected}, which is not a money entry"
                )
            if corrected in d.corrected_expected:
                raise ProjectionMismatch(index, f"entry {corrected} is corrected twice")
            d.corrected_expected[corrected] = index
            currency, amount = t["currency"].strip(), t["amount"]
            money_expected[index] = ("correction", t["fund"], None, currency, amount, None)
            d._total(t["fund"], t["kind"], -amount)
            if t["kind"] == "transfer":
                d._total(t["counterparty"], "transfer_in", -amount)
            lines = postings_for("correction", {}, target_lines.get(corrected, []))
            lines_expected[index] = lines
            d._post(lines)
    corrections_found = {
        r[1]: r[0] for r in await conn.fetch(Q["verify_corrections"], org_id, start, end)
    }
    funds_found = {
        r[0]: (r[1], r[2], r[3].strip(), json.loads(r[4]) if r[4] else None, r[5], r[6])
        for r in await conn.fetch(Q["verify_funds"], org_id, start, end)
    }
    beneficiaries_found = {
        r[0]: tuple(r[1:]) for r in await conn.fetch(Q["verify_beneficiaries"], org_id, start, end)
    }
    mismatches = [
        _first_difference("money_entries", money_expected, money_found),
        _first_difference("postings", lines_expected, lines_found),
        _first_difference(
            "corrections",
            {i: (c,) for i, c in d.corrections.items()},
            {i: (c,) for i, c in corrections_found.items()},
        ),
        _first_difference("funds", d.funds, funds_found),
        _first_difference("beneficiary_versions", d.beneficiaries, beneficiaries_found),
    ]
    found = [m for m in mismatches if m is not None]
    if found:
        raise min(found, key=lambda m: m.index if m.index is not None else -1)


def merge_sums(into: dict[tuple[str, str], int], part: dict[tuple[str, str], int]) -> None:
    for key, amount in part.items():
        into[key] = into.get(key, 0) + amount


async def check_totals(
    conn: asyncpg.Connection,
    org_id: int,
    size: int,
    balances: dict[tuple[str, str], int],
    totals: dict[tuple[str, str], int],
    corrected_expected: dict[int, int],
    corrected_stored: dict[int, int],
) -> None:
    """Compare the running totals with the sums over the whole log; raise
    ``ProjectionMismatch`` for the first row (in key order) that differs."""
    beyond = await conn.fetchval(Q["projection_max_index"], org_id)
    if beyond is not None and beyond >= size:
        raise ProjectionMismatch(
            size, f"projection rows name entry {beyond}, beyond the log's {size} entries"
        )
    first = _first_corrected(corrected_expected, corrected_stored)
    if first is not None:
        raise first
    stored_balances = {
        (r["account"], r["currency"].strip()): r["amount"]
        for r in await conn.fetch(Q["all_balances"], org_id)
    }
    _compare_sums("balances", "account", balances, stored_balances)
    stored_totals = {
        (r["fund"], r["kind"]): r["amount"] for r in await conn.fetch(Q["all_fund_totals"], org_id)
    }
    _compare_sums("fund_totals", "fund", totals, stored_totals)


def _first_corrected(expected: dict[int, int], stored: dict[int, int]) -> ProjectionMismatch | None:
    for index in sorted(expected.keys() | stored.keys()):
        want, got = expected.get(index), stored.get(index)
        if want != got:
            return ProjectionMismatch(
                index,
                f"money_entries: entry {index} corrected_by expected "
                f"{'NULL' if want is None else want}, found {'NULL' if got is None else got}",
            )
    return None


def _compare_sums(
    table: str,
    what: str,
    expected: dict[tuple[str, str], int],
    stored: dict[tuple[str, str], int],
) -> None:
    for key in sorted(expected.keys() | stored.keys()):
        want, got = expected.get(key, 0), stored.get(key)
        if got is None and want == 0:
            continue  # never touched, or moved and moved back: no row is as good as 0
        if want != got:
            raise ProjectionMismatch(
                None,
                f"{table}: {what} {key[0]} {key[1]} expected {want} found "
                f"{'no row' if got is None else got}",
            )
