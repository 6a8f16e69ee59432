"""Projections re-derived from the log's canonical bytes, and compared with the stored ones.

Every table that a rule or a public number reads is a function of the log:

* per entry (inserted by the service, append-only): ``funds`` (fund.created),
  ``beneficiary_versions`` (beneficiary.*), ``money_entries`` (donation, disbursement,
  transfer, fee, correction), ``postings`` (``ledger.formats.postings.postings_for``) and
  ``corrections``;
* running totals (written only by the database's triggers, migration 0012): ``balances``
  (sum of postings per account and currency), ``fund_totals`` (money rows per fund and kind,
  net of corrections, transfers also as ``transfer_in`` of the destination) and
  ``money_entries.corrected_by``;
* the calendar (written only by the database's trigger, migration 0014): ``value_dates``
  (each money entry's value date: received_on, paid_on, transferred_on, charged_on, or a
  correction's effective_on, for a correction without one its recording date in
  Asia/Jakarta) and ``org_settings`` (the newest org.settings entry's values).

``RangeDerivation`` takes the entries of one verification range (``ledger.verify.stored``) and
``check_range`` compares the range's stored per-entry rows with the rows the bytes give,
naming the first entry whose rows differ. A correction's rows copy the stored rows of the
entry it corrects, which its own range checks against that entry's bytes. The totals are
summed per range and compared once for the whole log by ``check_totals``, which names the
first differing row with the expected and the found value. The stored rows are read through
``ledger.store.audit`` (verification executes no SQL of its own).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from ledger.formats.postings import Line, postings_for
from ledger.formats.valuedates import DEFAULT_TIME_ZONE
from ledger.store import audit
from ledger.verify import native, recipients
from schemas import kinds

PROJECTED_KINDS = frozenset(
    {
        kinds.FUND_CREATED,
        *kinds.BENEFICIARY,
        *kinds.MONEY,
        kinds.ORG_SETTINGS,
        kinds.BENEFICIARY_KEY,
        *kinds.RECIPIENT_STATEMENTS,
    }
)
"""Entry kinds that add rows to projections (every other kind adds none)."""

_decode = msgspec.json.decode


class _MoneyBody(msgspec.Struct):
    """The members of a donation, disbursement, transfer or fee that its rows use."""

    amount: int
    currency: str
    fund: str | None = None
    from_fund: str | None = None
    to_fund: str | None = None
    beneficiary: str | None = None
    reference: str | None = None
    received_on: dt.date | None = None
    paid_on: dt.date | None = None
    transferred_on: dt.date | None = None
    charged_on: dt.date | None = None


_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""What a binary COPY's timestamptz counts microseconds from."""
_JAKARTA = ZoneInfo(DEFAULT_TIME_ZONE)
"""The zone of a correction's value date when it records no effective_on (migration 0014)."""

_decode_money = msgspec.json.Decoder(_MoneyBody).decode
_decode_money_list = msgspec.json.Decoder(list[_MoneyBody]).decode
_VALUE_DATE = {
    kinds.DONATION: "received_on",
    kinds.DISBURSEMENT: "paid_on",
    kinds.TRANSFER: "transferred_on",
    kinds.FEE: "charged_on",
}
"""The member that holds each money kind's value date."""
_MONEY = kinds.MOVEMENTS
MONEY_KINDS = frozenset(_MONEY)
"""Kinds whose body is a money body (``_MoneyBody``): decoded together, per chunk."""


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

    money: list[tuple[Any, ...]] = field(default_factory=list)
    """Money rows of non-correction entries in index order, as ``verify_money_rows`` gives
    them: (index, kind, fund, counterparty, currency, amount, reference)."""
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    """Posting lines of non-correction entries in order, as ``verify_postings`` gives them:
    (index, account, currency, amount)."""
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
    value_dates: list[tuple[int, dt.date | None]] = field(default_factory=list)
    """(index, value date) of each money entry in index order (``value_dates`` rows)."""
    settings: tuple[int, str, dt.date] | None = None
    """The range's newest org.settings entry: (index, time_zone, books_open)."""
    bad_entry: tuple[int, str] | None = None
    """An entry whose bytes do not give valid rows (first one)."""
    pending_from: int = 0
    """First entry whose rows are derived but not yet compared with the stored ones."""
    moved: dict[tuple[str, str, str | None, str], int] = field(default_factory=dict)
    """Amounts per (kind, fund, counterparty, currency) not yet added to the sums."""
    shapes: dict[tuple[str, str, str | None, str], list[Line]] = field(default_factory=dict)
    """The posting lines of one minor unit per (kind, fund, counterparty, currency)."""
    recipients: recipients.RecipientRows = field(default_factory=recipients.RecipientRows)
    """The recipients' keys and statements of the range (``ledger.verify.recipients``)."""
    origin: str = ""
    """The log's origin (in every acknowledgment message)."""

    def add(self, index: int, kind: str, body: bytes, created_at: dt.datetime) -> None:
        """Derive entry ``index``'s rows (``kind`` in ``PROJECTED_KINDS``) from the bytes
        of its ``body`` member; ``created_at`` is its recording time (the entry's ``time``)."""
        self.add_all([(index, kind, body, created_at)])

    def add_all(self, entries: list[tuple[int, str, bytes, dt.datetime]]) -> None:
        """``add`` for entries in index order: (index, kind, body bytes, recording time).

        The money bodies are decoded in one call (each ``body`` is the span of one JSON value
        that the entry's own decode delimited, so joining them makes one JSON array); when
        that fails they are decoded one by one, to name the first bad entry. The loop is the
        hot path of ``ledger verify``: one pass, no call per money entry."""
        try:
            decoded: list[_MoneyBody] | None = _decode_money_list(
                b"[" + b",".join([e[2] for e in entries if e[1] in _MONEY]) + b"]"
            )
        except (msgspec.ValidationError, msgspec.DecodeError):
            decoded = None
        self._absorb(entries, decoded)

    def add_walked(
        self,
        money_json: bytes,
        indexes: list[int],
        money_kinds: list[str],
        others: list[tuple[int, str, bytes, int]],
    ) -> bool:
        """``add_all`` for what ``ledger.verify._entrywalk`` hands back for a chunk: the
        money bodies as one JSON array with their indexes and kinds, and the other projected
        entries as (index, kind, body bytes, recording time in microseconds since
        2000-01-01 UTC). False when a body does not give valid rows: the caller then
        verifies the range with the Python loop, which names the entry."""
        try:
            decoded = _decode_money_list(money_json)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return False
        if len(decoded) != len(indexes):
            return False
        entries: Iterable[tuple[int, str, bytes | None, dt.datetime | None]]
        if not others:
            entries = zip(indexes, money_kinds, repeat(None), repeat(None))
        else:  # rare: a fund, a beneficiary, a correction... merged in index order
            entries = sorted([
                *zip(indexes, money_kinds, repeat(None), repeat(None)),
                *((i, kind, body, _PG_EPOCH + dt.timedelta(microseconds=us))
                  for i, kind, body, us in others),
            ])  # fmt: skip
        self._absorb(entries, decoded)
        return self.bad_entry is None

    def _absorb(self, entries: Iterable[tuple[Any, ...]], decoded: list[_MoneyBody] | None) -> None:
        """The rows of ``entries`` (index, kind, body bytes, recording time) in index order,
        the money bodies taken from ``decoded`` in order when given."""
        k = 0
        money, dates, line = self.money.append, self.value_dates.append, self.lines.append
        shapes, moved = self.shapes, self.moved
        for index, kind, body, created_at in entries:
            try:
                if kind not in _MONEY:
                    self._add(index, kind, _decode(body), created_at)
                    continue
                if decoded is not None:
                    b = decoded[k]
                    k += 1
                else:
                    b = _decode_money(body)
                fund = b.fund or b.from_fund
                if fund is None:
                    raise KeyError("fund")
                counterparty = b.beneficiary or b.to_fund
                amount, currency = b.amount, b.currency
                money((index, kind, fund, counterparty, currency, amount, b.reference))
                dates((index, getattr(b, _VALUE_DATE[kind])))
                key = (kind, fund, counterparty, currency)
                shape = shapes.get(key)
                if shape is None:  # postings_for's lines are (−amount, +amount): one per key
                    one = msgspec.structs.asdict(msgspec.structs.replace(b, amount=1))
                    shape = shapes[key] = postings_for(kind, one)
                for account, c, sign in shape:
                    line((index, account, c, sign * amount))
                moved[key] = moved.get(key, 0) + amount
            except (msgspec.ValidationError, msgspec.DecodeError, KeyError, TypeError,
                    ValueError) as exc:  # fmt: skip
                if self.bad_entry is None:
                    self.bad_entry = (index, f"entry {index} ({kind}) has no valid body: {exc!r}")

    def _add(self, index: int, kind: str, b: dict[str, Any], created_at: dt.datetime) -> None:
        if kind == kinds.ORG_SETTINGS:
            self.settings = (
                index, b["time_zone"], dt.date.fromisoformat(b["books_open"])
            )  # fmt: skip
        elif kind == kinds.FUND_CREATED:
            self.funds[index] = (
                b["code"],
                b["name"],
                b["currency"],
                b.get("earmark") or None,
                b["fee_cap_bps"],
                b.get("minor_units"),
            )
        elif kind == kinds.BENEFICIARY_KEY or kind in kinds.RECIPIENT_STATEMENTS:
            self.recipients.add(index, kind, b)
        elif kind in kinds.BENEFICIARY:
            self.beneficiaries[index] = (
                b["code"],
                b["version"],
                b["name"],
                b["city"],
                b["province"],
                b.get("registration"),
            )
        else:  # correction
            self.corrections[index] = b["corrects"]
            effective = b.get("effective_on")
            self.value_dates.append((
                index,
                dt.date.fromisoformat(effective)
                if effective is not None
                else created_at.astimezone(_JAKARTA).date(),
            ))  # fmt: skip

    def settle(self) -> None:
        """Add the amounts moved since the last call to the balances and fund totals."""
        for key, amount in self.moved.items():
            kind, fund, counterparty, _ = key
            self._total(fund, kind, amount)
            if kind == kinds.TRANSFER:
                self._total(counterparty or "", "transfer_in", amount)
            for account, currency, sign in self.shapes[key]:
                self.balances[(account, currency)] = (
                    self.balances.get((account, currency), 0) + sign * amount
                )
        self.moved = {}

    def _total(self, fund: str, kind: str, amount: int) -> None:
        self.totals[(fund, kind)] = self.totals.get((fund, kind), 0) + amount

    def _post(self, index: int, lines: list[Line]) -> None:
        balances, out = self.balances, self.lines
        for account, currency, amount in lines:
            out.append((index, account, currency, amount))
            key = (account, currency)
            balances[key] = balances.get(key, 0) + amount


def _row_text(values: tuple[Any, ...]) -> str:
    return "(" + ", ".join(_value_text(v) for v in values) + ")"


def _value_text(value: Any) -> str:
    if value is None:
        return "NULL"
    return value.isoformat() if isinstance(value, dt.date) else repr(value)


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
    """Compare the stored per-entry rows of entries [start, end) with what ``d`` derived
    from them; raise ``ProjectionMismatch`` naming the first entry whose rows differ. Adds
    the corrections' movements and the stored corrected_by values to ``d``'s sums, then
    forgets the per-entry rows (verify calls this once per chunk of entries it read, so
    memory stays bounded whatever the log's size)."""
    if d.bad_entry is not None:
        raise ProjectionMismatch(*d.bad_entry)
    d.settle()
    money_expected, lines_expected = d.money, d.lines
    if d.corrections:
        money_expected, lines_expected = await _with_corrections(conn, org_id, d)
    # The C comparison (binary COPY bytes against the expected tuples) when it is built: it
    # says "surely the same" or "look closer"; otherwise, and to look closer, the stored rows
    # as records, which compare equal to tuples (one comparison in C when all is well, a
    # row-by-row search only when something differs).
    mismatches = []
    if not await _surely_same(conn, "verify_money_rows", org_id, start, end, money_expected):
        money_found = await audit.money_rows(conn, org_id, start, end)
        if money_found != money_expected:
            mismatches.append(_first_difference("money_entries", _by_index(money_expected),
                                                _by_index(money_found)))  # fmt: skip
    if not await _surely_same(conn, "verify_postings", org_id, start, end, lines_expected):
        lines_found = await audit.posting_rows(conn, org_id, start, end)
        if lines_found != lines_expected:
            mismatches.append(_first_difference("postings", _by_index(lines_expected, many=True),
                                                _by_index(lines_found, many=True)))  # fmt: skip
    corrections_found = {r[1]: r[0] for r in await audit.correction_rows(conn, org_id, start, end)}
    funds_found = {
        r[0]: (r[1], r[2], r[3].strip(), json.loads(r[4]) if r[4] else None, r[5], r[6])
        for r in await audit.fund_rows(conn, org_id, start, end)
    }
    beneficiaries_found = {
        r[0]: tuple(r[1:]) for r in await audit.beneficiary_rows(conn, org_id, start, end)
    }
    mismatches += [
        _first_difference(
            "corrections",
            {i: (c,) for i, c in d.corrections.items()},
            {i: (c,) for i, c in corrections_found.items()},
        ),
        _first_difference("funds", d.funds, funds_found),
        _first_difference("beneficiary_versions", d.beneficiaries, beneficiaries_found),
    ]
    if not await _surely_same(conn, "verify_value_dates", org_id, start, end, d.value_dates):
        value_dates_found = await audit.value_date_rows(conn, org_id, start, end)
        if value_dates_found != d.value_dates:
            mismatches.append(_first_difference("value_dates", _by_index(d.value_dates),
                                                _by_index(value_dates_found)))  # fmt: skip
    try:
        await recipients.check(conn, org_id, d.origin, start, end, d.recipients)
    except recipients.RecipientMismatch as bad:
        mismatches.append(ProjectionMismatch(bad.index, bad.reason))
    d.money, d.lines, d.corrections, d.funds, d.beneficiaries = [], [], {}, {}, {}
    d.value_dates = []
    d.recipients.clear()
    found = [m for m in mismatches if m is not None]
    if found:
        raise min(found, key=lambda m: m.index if m.index is not None else -1)


_COLUMNS = {"verify_money_rows": "qttttqt", "verify_postings": "qttq", "verify_value_dates": "qd"}
"""The column types of each query, for ``same_rows``: q bigint, t text, d date."""


async def _surely_same(
    conn: asyncpg.Connection,
    query: str,
    org_id: int,
    start: int,
    end: int,
    expected: list[tuple[Any, ...]],
) -> bool:
    """True when the C comparison finds the stored rows of ``query`` equal to ``expected``;
    False when it is not built or switched off, or when the rows may differ."""
    if not native.enabled():
        return False
    assert native.module is not None
    data = await audit.copied_rows(conn, query, org_id, start, end)
    return bool(native.module.same_rows(data, expected, _COLUMNS[query]))


async def _with_corrections(
    conn: asyncpg.Connection, org_id: int, d: RangeDerivation
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The expected rows with the corrections' own: a correction's money row and lines
    copy the stored rows of the entry it corrects (checked against that entry's bytes where
    that entry was read), negated for the lines; its movements join ``d``'s sums."""
    targets = sorted(set(d.corrections.values()))
    stored = {r["entry_idx"]: r for r in await audit.money_entries_at(conn, org_id, targets)}
    target_lines: dict[int, list[Line]] = {}
    for r in await audit.postings_at(conn, org_id, targets):
        target_lines.setdefault(r["entry_idx"], []).append(
            Line(r["account"], r["currency"].strip(), r["amount"])
        )
    money, lines = list(d.money), d.lines
    d.lines = []
    for index, corrected in sorted(d.corrections.items()):
        t = stored.get(corrected)
        if t is None or t["kind"] == kinds.CORRECTION or corrected >= index:
            raise ProjectionMismatch(
                index, f"entry {index} corrects entry {corrected}, which is not a money entry"
            )
        if corrected in d.corrected_expected:
            raise ProjectionMismatch(index, f"entry {corrected} is corrected twice")
        d.corrected_expected[corrected] = index
        currency, amount = t["currency"].strip(), t["amount"]
        money.append((index, kinds.CORRECTION, t["fund"], None, currency, amount, None))
        d._total(t["fund"], t["kind"], -amount)
        if t["kind"] == kinds.TRANSFER:
            d._total(t["counterparty"], "transfer_in", -amount)
        d._post(index, postings_for(kinds.CORRECTION, {}, target_lines.get(corrected, [])))
    # Sorting is stable: an entry's lines keep their order.
    return sorted(money, key=_index), sorted(lines + d.lines, key=_index)


def _index(row: tuple[Any, ...]) -> int:
    return row[0]


def _by_index(rows: Any, many: bool = False) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for r in rows:
        if many:
            found.setdefault(r[0], []).append(tuple(r[1:]))
        else:
            found[r[0]] = tuple(r[1:])
    return found


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
    settings: tuple[int, str, dt.date] | None = None,
) -> None:
    """Compare the running totals with the sums over the whole log, and ``org_settings``
    with the newest org.settings entry (``settings``: index, time zone, books-open); raise
    ``ProjectionMismatch`` for the first row (in key order) that differs."""
    beyond = await audit.projection_max_index(conn, org_id)
    if beyond is not None and beyond >= size:
        raise ProjectionMismatch(
            size, f"projection rows name entry {beyond}, beyond the log's {size} entries"
        )
    corrected_stored = {
        r["entry_idx"]: r["corrected_by"] for r in await audit.corrected_rows(conn, org_id)
    }
    first = _first_corrected(corrected_expected, corrected_stored)
    if first is not None:
        raise first
    _compare_settings(settings, await audit.org_settings_row(conn, org_id))
    stored_balances = {
        (r["account"], r["currency"].strip()): r["amount"]
        for r in await audit.all_balances(conn, org_id)
    }
    _compare_sums("balances", "account", balances, stored_balances)
    stored_totals = {
        (r["fund"], r["kind"]): r["amount"] for r in await audit.all_fund_totals(conn, org_id)
    }
    _compare_sums("fund_totals", "fund", totals, stored_totals)


def _compare_settings(expected: tuple[int, str, dt.date] | None, stored: Any) -> None:
    """org_settings against the newest org.settings entry (none: no row)."""
    found = None if stored is None else (stored["entry_idx"], stored["time_zone"],
                                         stored["books_open"])  # fmt: skip
    if found == expected:
        return

    def shown(row: tuple[int, str, dt.date] | None) -> str:
        if row is None:
            return "no row"
        return f"(time_zone {row[1]!r}, books_open {row[2].isoformat()}, entry_idx {row[0]})"

    raise ProjectionMismatch(
        (expected or found or (None,))[0],
        f"org_settings: expected {shown(expected)}, found {shown(found)}",
    )


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
