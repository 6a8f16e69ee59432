"""Bank statement (*mutasi rekening*) CSV exports read into lines, or into reasons they fail.

Built-in layouts, as documented in the README ("Bank statement imports"), with their
uncertainty stated there too: the banks publish no specification of these exports, and
each changes them between app versions, so every layout is a ``schemas.bankstatements.
BankLayout`` that a charity can copy and adjust in a mapping file.

* **BCA** (KlikBCA, *Mutasi Rekening* → CSV): a few lines of account data (``Periode :
  01/11/2026 - 30/11/2026``), then ``Tanggal Transaksi, Keterangan, Cabang, Jumlah, , Saldo``;
  dates ``DD/MM`` without a year (``PEND`` for lines not booked yet), the amount followed by
  ``CR`` or ``DB``; summary lines (``Saldo Awal``, ``Mutasi Kredit``, ...) at the end.
* **Mandiri** (Livin'/internet banking CSV): ``Tgl., Tgl. Val., Rincian Transaksi, No.
  Referensi, Debit, Kredit, Saldo``; dates ``DD/MM/YYYY``; amounts ``1,250,000.00``.
* **BRI** (internet banking CSV): ``Tanggal, Uraian Transaksi, Teller, Debet, Kredit,
  Saldo``; dates ``DD/MM/YY``; amounts ``1,250,000.00``.

Amounts are read exactly with the fund's recorded exponent (``ledger.formats.decimals``).
Lines without a bank reference get a derived one that is the same in every export of the
same line (``derived_reference``), which is what makes a re-import skip what is recorded.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ledger.errors import AmountFormatError, InvalidInputError, LedgerError
from ledger.formats.decimals import minor_units_of
from schemas.bankstatements import BankLayout, layout_problem


def _bca() -> BankLayout:
    return BankLayout(
        name="bca",
        header_starts="Tanggal Transaksi",
        date="Tanggal Transaksi",
        date_format="%d/%m",
        description="Keterangan",
        amount="Jumlah",
        direction="#5",  # the fifth column has no header in BCA's export: named by position
        balance="Saldo",
        skip_markers=["PEND"],
        stop_markers=["Saldo Awal", "Mutasi Kredit", "Mutasi Debet", "Saldo Akhir"],
        period_pattern=r"Periode\s*:\s*\d{2}/\d{2}/(?P<year>\d{4})",
    )


LAYOUTS: dict[str, BankLayout] = {
    "bca": _bca(),
    "mandiri": BankLayout(
        name="mandiri",
        header_starts="Tgl.",
        date="Tgl.",
        date_format="%d/%m/%Y",
        description="Rincian Transaksi",
        reference="No. Referensi",
        debit="Debit",
        credit="Kredit",
        balance="Saldo",
    ),
    "bri": BankLayout(
        name="bri",
        header_starts="Tanggal",
        date="Tanggal",
        date_format="%d/%m/%y",
        description="Uraian Transaksi",
        debit="Debet",
        credit="Kredit",
        balance="Saldo",
    ),
}
"""The built-in layouts by name (``--layout``); ``generic`` takes a mapping file."""


@dataclass(frozen=True)
class StatementLine:
    """A transaction line of a statement."""

    line: int
    """Its line number in the file (1-based), for people."""
    value_date: dt.date
    """When the money moved."""
    description: str
    """The bank's free text (never written to the log: it holds names)."""
    reference: str
    """The bank's reference, or one derived from the line."""
    amount: int
    """Minor units, positive."""
    credit: bool
    """Money in (a donation) or out (a disbursement candidate)."""


@dataclass(frozen=True)
class BadLine:
    """A line that cannot be read, and why."""

    line: int
    """Its line number in the file."""
    reason: str
    """What was expected and what was found (English)."""
    problem: LedgerError | None = None
    """The same as an error with its catalog template (``LedgerError.of``), so that the
    console can say it in the clerk's language; None for a reason without a template."""

    @classmethod
    def of(cls, line: int, problem: LedgerError) -> BadLine:
        return cls(line, str(problem), problem)


@dataclass(frozen=True)
class Statement:
    """A statement file read with a layout."""

    layout: str
    """The layout's name."""
    sha256: bytes
    """SHA-256 of the file's bytes."""
    lines: list[StatementLine]
    """The transaction lines that were read."""
    bad: list[BadLine]
    """The lines that were not."""


def derived_reference(layout: str, day: dt.date, cells: list[str]) -> str:
    """A reference for a line without one: the layout, the date and a hash of the line's
    cells (date, text, amounts, running balance), the same in every export of that line.
    Two identical transactions on one day differ in their running balance."""
    digest = hashlib.sha256("\x1f".join(c.strip() for c in cells).encode()).hexdigest()
    return f"{layout}-{day:%Y%m%d}-{digest[:16]}"


def _plain(text: str, layout: BankLayout) -> str:
    """An amount cell as a plain decimal (``1,250,000.00`` → ``1250000.00``)."""
    text = text.strip()
    if layout.thousands:
        text = text.replace(layout.thousands, "")
    if layout.decimal != ".":
        text = text.replace(layout.decimal, ".")
    return text


def _rows(text: str, layout: BankLayout) -> Iterator[tuple[int, list[str]]]:
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=layout.delimiter), 1):
        yield number, [cell.strip().strip("'") for cell in row]


_DIRECTIVES = {"%d": r"(?P<d>\d{2})", "%m": r"(?P<m>\d{2})", "%Y": r"(?P<Y>\d{4})", "%y": r"(?P<y>\d{2})"}


def _date_pattern(date_format: str) -> re.Pattern[str] | None:
    """A regular expression for the two-digit day and month, four- or two-digit year forms of
    ``date_format`` (``%d/%m/%Y``, ``%d/%m/%y``, ``%d/%m``, ``%Y-%m-%d``, ...), or None for any
    other directive. A match is only a fast path: ``_date`` gives every text it does not match
    or cannot build a date from to ``strptime``, so what is accepted and the reason a line is
    refused stay strptime's (issue 15: ``strptime`` was 40% of reading a 100,000-line file)."""
    parts = re.split(r"(%.)", date_format)
    if any(p.startswith("%") and p not in _DIRECTIVES for p in parts) or any(
        p.isspace() or "%" in p for p in parts if not p.startswith("%") and p
    ):
        return None
    if len({p for p in parts if p in _DIRECTIVES}) != sum(p in _DIRECTIVES for p in parts):
        return None
    return re.compile("".join(_DIRECTIVES.get(p, re.escape(p)) for p in parts))


def _date(text: str, date_format: str, pattern: re.Pattern[str] | None) -> dt.datetime:
    """``strptime(text, date_format)``, through ``pattern`` when it matches (the same date)."""
    found = pattern.fullmatch(text) if pattern is not None else None
    if found is not None:
        values = found.groupdict()
        if values.get("Y") is not None:
            year = int(values["Y"])
        elif values.get("y") is not None:  # strptime's pivot (POSIX): 69-99 are 1900s
            short = int(values["y"])
            year = short + (1900 if short >= 69 else 2000)
        else:
            year = 1900
        try:
            return dt.datetime(year, int(values.get("m") or 0), int(values.get("d") or 1))
        except (TypeError, ValueError):
            pass  # not a date: strptime says why
    return dt.datetime.strptime(text, date_format)


def _norm(cell: str) -> str:
    return re.sub(r"\s+", " ", cell).strip().casefold()


def read_statement(
    data: bytes, layout: BankLayout, exponent: int, year: int | None = None
) -> Statement:
    """Every line of ``data`` (a CSV export) read with ``layout`` and the fund's ``exponent``.

    Raises :class:`InvalidInputError` when the file is not text or has no header row;
    a bad transaction line is listed in ``Statement.bad``, never skipped silently."""
    problem = layout_problem(layout)
    if problem is not None:
        raise InvalidInputError(f"layout {layout.name!r}: {problem}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="strict") if _is_cp1252(data) else ""
        if not text:
            raise InvalidInputError.of(
                "the file is not text in UTF-8 or Windows-1252: export the statement as CSV"
            ) from None
    rows = _rows(text, layout)
    before: list[str] = []
    header: list[str] | None = None
    for _, row in rows:
        if row and _norm(row[0]) == _norm(layout.header_starts):
            header = row
            break
        before.append(",".join(row))
    if header is None:
        raise InvalidInputError.of(
            "no header row starting with {header} was found: is this a {layout} export? "
            "(choose another --layout, or describe it in a mapping file)",
            header=repr(layout.header_starts),
            layout=layout.name,
        )
    if year is None and layout.period_pattern:
        found = re.search(layout.period_pattern, "\n".join(before))
        year = int(found["year"]) if found else None
    columns = {_norm(name): i for i, name in enumerate(header) if name}
    columns.update({f"#{i + 1}": i for i in range(len(header))})

    def at(name: str | None) -> int | None:
        if name is None:
            return None
        index = columns.get(name if name.startswith("#") else _norm(name))
        if index is None:
            raise InvalidInputError.of(
                "the header has no column {name} (it has {columns})",
                name=repr(name),
                columns=", ".join(h for h in header if h),
            )
        return index

    pattern = _date_pattern(layout.date_format)
    cols = {
        key: at(getattr(layout, key))
        for key in ("date", "description", "reference", "credit", "debit", "amount", "direction")
    }
    lines: list[StatementLine] = []
    bad: list[BadLine] = []
    days: dict[str, dt.date] = {}
    for number, row in rows:
        if not any(row):
            continue
        first = row[0]
        if any(first.startswith(m) for m in layout.stop_markers):
            break
        if first in layout.skip_markers:
            continue
        try:
            lines.append(_line(number, row, layout, cols, exponent, year, pattern, days))
        except (InvalidInputError, AmountFormatError) as exc:
            bad.append(BadLine.of(number, exc))
        except (ValueError, IndexError) as exc:
            bad.append(BadLine(number, str(exc)))
    return Statement(layout.name, hashlib.sha256(data).digest(), lines, bad)


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


_REFERENCE = re.compile(r"[\x21-\x7e]{1,100}")
"""A bank reference kept as it is: printable ASCII without spaces."""


def _cell(row: list[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def _day(
    text: str, layout: BankLayout, year: int | None, pattern: re.Pattern[str] | None
) -> dt.date:
    """The date ``text`` of a line, or the reason it is not one."""
    try:
        parsed = _date(text, layout.date_format, pattern)
    except ValueError:
        raise InvalidInputError.of(
            "date: expected the form {format} (e.g. {example}), got {found}",
            format=layout.date_format,
            example=dt.date(2026, 11, 20).strftime(layout.date_format),
            found=repr(text),
        ) from None
    if "%Y" not in layout.date_format and "%y" not in layout.date_format:
        if year is None:
            raise InvalidInputError.of(
                "date: the export gives no year and none was given (--year)"
            )
        parsed = parsed.replace(year=year)
    return parsed.date()


def _line(
    number: int,
    row: list[str],
    layout: BankLayout,
    cols: dict[str, int | None],
    exponent: int,
    year: int | None,
    pattern: re.Pattern[str] | None = None,
    days: dict[str, dt.date] | None = None,
) -> StatementLine:
    """One transaction line. ``days``: the dates of this file's lines read so far, by their
    text (a statement has a few dozen dates for its many lines; a text is read once)."""
    date_text = _cell(row, cols["date"])
    day = days.get(date_text) if days is not None else None
    if day is None:
        day = _day(date_text, layout, year, pattern)
        if days is not None:
            days[date_text] = day
    if cols["amount"] is not None:
        amount_text = _plain(_cell(row, cols["amount"]), layout)
        credit = _cell(row, cols["direction"]).upper() == layout.credit_marker.upper()
        field = layout.amount or "amount"
    else:
        credit_text = _plain(_cell(row, cols["credit"]), layout)
        debit_text = _plain(_cell(row, cols["debit"]), layout)
        zero = {"", "0", "0.00", "-"}
        if (credit_text in zero) == (debit_text in zero):
            raise InvalidInputError.of(
                "expected an amount in exactly one of the credit and debit columns, got "
                "credit {credit} and debit {debit}",
                credit=repr(credit_text),
                debit=repr(debit_text),
            )
        credit = credit_text not in zero
        amount_text = credit_text if credit else debit_text
        field = (layout.credit if credit else layout.debit) or "amount"
    amount = minor_units_of(amount_text, exponent, field)
    reference = _cell(row, cols["reference"])
    if not reference or not _REFERENCE.fullmatch(reference):
        reference = derived_reference(layout.name, day, row)
    return StatementLine(number, day, _cell(row, cols["description"]), reference, amount, credit)
