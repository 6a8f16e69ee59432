"""A fund's period as a Fiscal Data Package: ``datapackage.json``, two CSV files and the
checkpoint they were cut at, alone or zipped.

Layout of the zip (and of ``ledger export open-data --out DIR``)::

    datapackage.json     Frictionless descriptor, profile "fiscal-data-package" (FDP 0.3)
    data/entries.csv     one row per money entry of the fund with its value date in the period
    data/balances.csv    opening balance, revenue, expenditure, closing balance
    checkpoint.txt       the signed checkpoint (c2sp.org/tlog-checkpoint note) of the cut

The descriptor's ``model`` maps the columns to the fiscal concepts: two measures,
``revenue`` and ``expenditure`` (integer minor units with ``factor`` 10^-e, e the exponent the
fund recorded), and the dimensions ``date`` (value date), ``administrative-classification``
(the fund), ``functional-classification`` (purpose), ``counterparty`` (donor's public name,
beneficiary, other fund or fees), ``direction`` and ``entry`` (log index, leaf hash, kind,
reversal links). Its member ``ledger`` says which log, checkpoint and calendar the data
come from. The same data give the same bytes (fixed zip timestamps, no creation time).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from base64 import b64encode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reports.errors import ReportDataError
from reports.opendata.rows import COUNTERPARTY_TYPES, DIRECTIONS, OpenDataRow
from schemas import kinds
from schemas.money import decimal_amount

FORMAT = "donation-ledger-open-data/v1"
"""The value of the descriptor's ``ledger.format``."""

DESCRIPTOR = "datapackage.json"
ENTRIES = "entries"
BALANCES = "balances"
CHECKPOINT = "checkpoint.txt"
LOCAL_PATHS = {ENTRIES: "data/entries.csv", BALANCES: "data/balances.csv"}
"""Where the CSV files are, relative to ``datapackage.json``, in the zip and on disk."""
FILES = (DESCRIPTOR, LOCAL_PATHS[ENTRIES], LOCAL_PATHS[BALANCES], CHECKPOINT)
"""Every file of the package, in the order of the zip."""

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""Timestamp of every zip member (the earliest a zip can hold): same data, same bytes."""


@dataclass(frozen=True)
class FundInfo:
    """The fund, as its ``fund.created`` entry recorded it."""

    code: str
    """Fund code."""
    name: str
    """Display name."""
    currency: str
    """ISO 4217 code of every amount."""
    minor_units: int
    """The exponent the fund recorded: an amount ``a`` is ``a × 10^-minor_units`` units."""
    entry_index: int
    """Index of its ``fund.created`` entry (prove it to prove the exponent)."""


@dataclass(frozen=True)
class CheckpointInfo:
    """The signed checkpoint the export was cut at: every row's entry is below ``size``."""

    size: int
    """Tree size."""
    root: bytes
    """RFC 9162 root hash of the first ``size`` entries."""
    note: str
    """The checkpoint as a signed note (with any witness cosignatures), as served."""


@dataclass(frozen=True)
class FundPeriod:
    """Everything the package holds."""

    org_slug: str
    """Organization slug."""
    org_name: str
    """Organization name."""
    origin: str
    """The log's origin (first line of its checkpoints)."""
    fund: FundInfo
    """The fund."""
    period_from: dt.date
    """First value date of the period."""
    period_to: dt.date
    """First value date after the period: the period is [from, to)."""
    time_zone: str
    """The organization's IANA time zone: value dates are its local dates."""
    checkpoint: CheckpointInfo
    """Where the export was cut."""
    rows: Sequence[OpenDataRow]
    """The entries, by value date then index."""
    opening: int
    """The fund's balance by value date before ``period_from`` (minor units)."""
    closing: int
    """The fund's balance by value date before ``period_to``."""

    @property
    def revenue(self) -> int:
        return sum(r.revenue_minor for r in self.rows)

    @property
    def expenditure(self) -> int:
        return sum(r.expenditure_minor for r in self.rows)

    @property
    def name(self) -> str:
        """The package name (lower case, as Data Package names must be)."""
        return (
            f"{self.org_slug}-{self.fund.code}-{self.period_from.isoformat()}-"
            f"{self.period_to.isoformat()}"
        )

    def check(self) -> None:
        """Opening plus the rows is the closing balance; every row is in the period."""
        if self.opening + self.revenue - self.expenditure != self.closing:
            raise ReportDataError(
                f"expected opening {self.opening} + revenue {self.revenue} - expenditure "
                f"{self.expenditure} to equal closing {self.closing} for fund "
                f"{self.fund.code!r}; the postings and value dates disagree (run ledger verify)"
            )
        for r in self.rows:
            if not self.period_from <= r.value_date < self.period_to:
                raise ReportDataError(
                    f"entry {r.entry_index}: value date {r.value_date} outside "
                    f"[{self.period_from}, {self.period_to})"
                )
            if r.entry_index >= self.checkpoint.size:
                raise ReportDataError(
                    f"entry {r.entry_index} is not below the checkpoint size "
                    f"{self.checkpoint.size}"
                )


def _b64(data: bytes) -> str:
    return b64encode(data).decode("ascii")


def _time(t: dt.datetime) -> str:
    """RFC 3339 UTC with six fractional digits and ``Z``, as the log writes times."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue().encode("utf-8")


# --- entries.csv -------------------------------------------------------------------------------

MONEY_KINDS = (kinds.DONATION, kinds.DISBURSEMENT, kinds.TRANSFER, kinds.FEE, kinds.CORRECTION)


def _entry_fields(period: FundPeriod) -> list[dict[str, Any]]:
    """Table Schema fields of entries.csv, in column order."""
    e = period.fund.minor_units
    return [
        {"name": "entry_index", "type": "integer", "constraints": {"required": True, "minimum": 0},
         "description": "Index of the entry in the organization's public log: fetch it and its "
         "inclusion proof under the checkpoint (ledger.checkpoint) to check the row."},
        {"name": "leaf_hash", "type": "string",
         "constraints": {"required": True, "pattern": "[A-Za-z0-9+/]{43}="},
         "description": "Base64 RFC 9162 leaf hash SHA-256(0x00 || canonical bytes) of the entry."},
        {"name": "recorded_at", "type": "datetime", "format": "any",
         "description": "When the log recorded the entry (UTC). Not what places it in a period."},
        {"name": "value_date", "type": "date", "constraints": {"required": True},
         "description": "When the money moved, a local date of the organization "
         f"({period.time_zone}): received_on, paid_on, transferred_on, charged_on, or a "
         "correction's effective_on. Places the entry in the period."},
        {"name": "kind", "type": "string",
         "constraints": {"required": True, "enum": list(MONEY_KINDS)},
         "description": "Entry kind; a correction is a reversing row."},
        {"name": "direction", "type": "string",
         "constraints": {"required": True, "enum": list(DIRECTIONS)},
         "description": "revenue: money into the fund; expenditure: out of it. A correction "
         "keeps the direction of the entry it reverses."},
        {"name": "reverses_entry", "type": "integer", "constraints": {"minimum": 0},
         "description": "A correction: the index of the entry it reverses (its amount is that "
         "entry's, negated)."},
        {"name": "reversed_by_entry", "type": "integer", "constraints": {"minimum": 0},
         "description": "The index of the correction that reverses this entry, if any up to "
         "the checkpoint."},
        {"name": "fund", "type": "string", "constraints": {"required": True},
         "description": "Fund code (administrative classification)."},
        {"name": "fund_name", "type": "string", "description": "Fund name."},
        {"name": "purpose", "type": "string", "constraints": {"required": True},
         "description": "Functional classification: donation, a disbursement's purpose (food, "
         "education, health, shelter, clothing, operations, other), transfer, or fee."},
        {"name": "description", "type": "string",
         "description": "A fee's description, a transfer's reason or a correction's reason."},
        {"name": "counterparty_type", "type": "string",
         "constraints": {"required": True, "enum": list(COUNTERPARTY_TYPES)},
         "description": "Who the money came from or went to."},
        {"name": "counterparty_code", "type": "string",
         "description": "The beneficiary's or the other fund's code."},
        {"name": "counterparty_name", "type": "string",
         "description": "A donor's public name as the donor consented to it, else 'anonymous'; "
         "the beneficiary's name (an orphanage) or the other fund's name."},
        {"name": "channel", "type": "string", "description": "A donation's payment channel."},
        {"name": "currency", "type": "string",
         "constraints": {"required": True, "pattern": "[A-Z]{3}"},
         "description": "ISO 4217 currency."},
        {"name": "minor_units", "type": "integer",
         "constraints": {"required": True, "minimum": e, "maximum": e},
         "description": "The exponent the fund recorded when it was created: an amount of n "
         f"minor units is n × 10^-{e} {period.fund.currency}."},
        {"name": "revenue_minor", "type": "integer", "constraints": {"required": True},
         "description": "Minor units received (negative on a row reversing a revenue)."},
        {"name": "expenditure_minor", "type": "integer", "constraints": {"required": True},
         "description": "Minor units spent (negative on a row reversing an expenditure)."},
        {"name": "amount", "type": "number", "constraints": {"required": True},
         "description": "The row's amount in its direction, as a decimal number of currency "
         f"units with {e} decimals (for people; the _minor columns are exact)."},
    ]


def entries_csv(period: FundPeriod) -> bytes:
    """``data/entries.csv``."""
    f, e = period.fund, period.fund.minor_units
    header = [field["name"] for field in _entry_fields(period)]
    rows = [
        (
            r.entry_index,
            _b64(r.leaf_hash),
            _time(r.recorded_at),
            r.value_date.isoformat(),
            r.kind,
            r.direction,
            r.reverses_entry,
            r.reversed_by_entry,
            f.code,
            f.name,
            r.purpose,
            r.description,
            r.counterparty_type,
            r.counterparty_code,
            r.counterparty_name,
            r.channel,
            f.currency,
            e,
            r.revenue_minor,
            r.expenditure_minor,
            decimal_amount(r.amount, e),
        )
        for r in period.rows
    ]
    return _csv(header, rows)


# --- balances.csv ------------------------------------------------------------------------------

BALANCE_LINES = ("opening_balance", "revenue", "expenditure", "closing_balance")


def balances_csv(period: FundPeriod) -> bytes:
    """``data/balances.csv``: opening + revenue - expenditure = closing (by value date)."""
    f, e = period.fund, period.fund.minor_units
    values = (period.opening, period.revenue, period.expenditure, period.closing)
    rows = [
        (line, f.code, f.currency, e, v, decimal_amount(v, e))
        for line, v in zip(BALANCE_LINES, values, strict=True)
    ]
    return _csv(["line", "fund", "currency", "minor_units", "amount_minor", "amount"], rows)


def _balance_fields(period: FundPeriod) -> list[dict[str, Any]]:
    e = period.fund.minor_units
    return [
        {"name": "line", "type": "string",
         "constraints": {"required": True, "unique": True, "enum": list(BALANCE_LINES)},
         "description": "opening_balance: the fund's balance of the entries (below the "
         "checkpoint) valued before the period; revenue and expenditure: the sums of "
         "entries.csv; closing_balance = opening + revenue - expenditure."},
        {"name": "fund", "type": "string", "constraints": {"required": True}},
        {"name": "currency", "type": "string", "constraints": {"required": True}},
        {"name": "minor_units", "type": "integer",
         "constraints": {"required": True, "minimum": e, "maximum": e}},
        {"name": "amount_minor", "type": "integer", "constraints": {"required": True}},
        {"name": "amount", "type": "number", "constraints": {"required": True}},
    ]


# --- datapackage.json --------------------------------------------------------------------------


def _factor(exponent: int) -> float:
    """10^-exponent as a JSON number (0.01 for IDR): the FDP measure's ``factor``, by which
    the integer minor units are multiplied to give currency units. Metadata, not an amount."""
    return float(f"1e-{exponent}")


def _model(period: FundPeriod) -> dict[str, Any]:
    """The FDP ``model``: measures and dimensions over ``entries``."""
    currency, factor = period.fund.currency, _factor(period.fund.minor_units)

    def attrs(*names: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for n in names:
            found[n] = {"source": n, "resource": ENTRIES}
            if labels and n in labels:
                found[n]["labelfor"] = labels[n]
        return found

    measures = {
        direction: {
            "source": f"{direction}_minor",
            "resource": ENTRIES,
            "currency": currency,
            "factor": factor,
            "direction": direction,
            "phase": "executed",
        }
        for direction in DIRECTIONS
    }
    dimensions = {
        "date": {
            "dimensionType": "datetime",
            "primaryKey": ["value_date"],
            "attributes": attrs("value_date"),
        },
        "administrative-classification": {
            "dimensionType": "classification",
            "classificationType": "administrative",
            "primaryKey": ["fund"],
            "attributes": attrs("fund", "fund_name", labels={"fund_name": "fund"}),
        },
        "functional-classification": {
            "dimensionType": "classification",
            "classificationType": "functional",
            "primaryKey": ["purpose"],
            "attributes": attrs("purpose"),
        },
        "counterparty": {
            "dimensionType": "entity",
            "primaryKey": ["counterparty_type", "counterparty_code", "counterparty_name"],
            "attributes": attrs("counterparty_type", "counterparty_code", "counterparty_name"),
        },
        "direction": {
            "dimensionType": "other",
            "primaryKey": ["direction"],
            "attributes": attrs("direction"),
        },
        "entry": {
            "dimensionType": "fact",
            "primaryKey": ["entry_index"],
            "attributes": attrs(
                "entry_index",
                "leaf_hash",
                "kind",
                "recorded_at",
                "reverses_entry",
                "reversed_by_entry",
                "description",
                "channel",
            ),
        },
    }
    return {"measures": measures, "dimensions": dimensions}


def descriptor(period: FundPeriod, paths: Mapping[str, str] = LOCAL_PATHS) -> dict[str, Any]:
    """The ``datapackage.json`` object. ``paths``: where each CSV resource is (relative to the
    descriptor in the zip; absolute URLs when the descriptor is served alone)."""
    f, cp = period.fund, period.checkpoint
    last_day = period.period_to - dt.timedelta(days=1)
    title = (
        f"{f.name} ({period.org_name}): money in and out, value dates "
        f"{period.period_from.isoformat()} to {last_day.isoformat()}"
    )
    return {
        "profile": "fiscal-data-package",
        "name": period.name,
        "title": title,
        "description": (
            f"Every money entry of fund {f.code} of {period.org_name} whose value date "
            f"(a local date in {period.time_zone}) is in [{period.period_from.isoformat()}, "
            f"{period.period_to.isoformat()}), recorded in the organization's public "
            f"append-only log before tree size {cp.size}. Amounts are integer minor units of "
            f"{f.currency} (exponent {f.minor_units}, recorded by the fund); corrections are "
            "reversing rows linked to the entry they reverse. Each row's entry_index and "
            "leaf_hash can be checked against the log's inclusion proofs under the signed "
            "checkpoint in checkpoint.txt. Donors appear only by the public name they "
            "consented to, else as 'anonymous'."
        ),
        "countryCode": "ID",
        "granularity": "transactional",
        "fiscalPeriod": {"start": period.period_from.isoformat(), "end": last_day.isoformat()},
        "keywords": ["donations", "charity", "fiscal", "transparency", "open-data"],
        "resources": [
            {
                "name": ENTRIES,
                "title": "Money entries of the fund in the period",
                "path": paths[ENTRIES],
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": _entry_fields(period), "primaryKey": ["entry_index"]},
            },
            {
                "name": BALANCES,
                "title": "Opening balance, revenue, expenditure and closing balance",
                "path": paths[BALANCES],
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": _balance_fields(period), "primaryKey": ["line"]},
            },
        ],
        "model": _model(period),
        "ledger": {
            "format": FORMAT,
            "organization": {"slug": period.org_slug, "name": period.org_name},
            "origin": period.origin,
            "fund": {
                "code": f.code,
                "name": f.name,
                "currency": f.currency,
                "minor_units": f.minor_units,
                "entry_index": f.entry_index,
            },
            "period": {
                "from": period.period_from.isoformat(),
                "to": period.period_to.isoformat(),
                "time_zone": period.time_zone,
                "selection": "value dates in [from, to): local dates of the organization",
            },
            "checkpoint": {
                "size": cp.size,
                "root_hash": _b64(cp.root),
                "note": CHECKPOINT,
            },
            "rows": len(period.rows),
            "opening_balance_minor": period.opening,
            "closing_balance_minor": period.closing,
        },
    }


def descriptor_json(period: FundPeriod, paths: Mapping[str, str] = LOCAL_PATHS) -> bytes:
    """The descriptor as written: UTF-8 JSON, indented, members in a fixed order."""
    text = json.dumps(descriptor(period, paths), ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def package_files(period: FundPeriod) -> dict[str, bytes]:
    """Every file of the package by its path (``FILES``), checked first."""
    period.check()
    return {
        DESCRIPTOR: descriptor_json(period),
        LOCAL_PATHS[ENTRIES]: entries_csv(period),
        LOCAL_PATHS[BALANCES]: balances_csv(period),
        CHECKPOINT: period.checkpoint.note.encode("utf-8"),
    }


def zip_package(period: FundPeriod) -> bytes:
    """The package as one zip (deflated, fixed timestamps: same data, same bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path, content in package_files(period).items():
            info = zipfile.ZipInfo(path, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return out.getvalue()
