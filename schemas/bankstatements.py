"""Bank statement imports: how a CSV export is laid out, and what an import answers.

``BankLayout`` describes a layout declaratively: the built-in layouts of BCA, Mandiri and BRI
internet banking (``ledger.ingest.bankstatements``) are instances of it, and a charity whose
bank exports something else writes the same thing as a small JSON mapping file
(``ledger import-bank --mapping layout.json``).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec

from schemas.base import Document

LATIN = r"^[\x20-\x7e\u00a0-\u024f]*$"
"""Printable Latin text: what a bank's CSV header or marker holds (no control characters)."""
Column = Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=LATIN)]


class BankLayout(Document, frozen=True):
    """Where each datum is in a CSV export (columns named as in its header row)."""

    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9-]{1,40}$")]
    """Short name, used in derived references (``bca-20261120-…``)."""
    header_starts: Column
    """The header row is the first row whose first cell is this (case and spaces ignored);
    rows before it (account number, period, ...) are read only for ``period_pattern``."""
    date: Column
    """The value date column."""
    date_format: Annotated[str, msgspec.Meta(min_length=2, max_length=20, pattern=LATIN)]
    """``strptime`` format of the date, e.g. ``%d/%m/%Y``; without a year (BCA's ``%d/%m``)
    the year comes from the period line or ``--year``."""
    description: Column
    """Free text (names, remarks): shown in the preview only, never written to the log."""
    reference: Column | None = None
    """The bank's own reference; none: a reference is derived from the line (see
    ``ledger.ingest.bankstatements.derived_reference``)."""
    credit: Column | None = None
    """Credit amount column (with ``debit``), for layouts with two amount columns."""
    debit: Column | None = None
    amount: Column | None = None
    """Single amount column (with ``direction``)."""
    direction: Column | None = None
    """The column saying credit or debit for ``amount``."""
    credit_marker: Annotated[str, msgspec.Meta(min_length=1, max_length=10, pattern=LATIN)] = "CR"
    """What ``direction`` says for a credit (anything else is a debit)."""
    balance: Column | None = None
    """Running balance, when the bank gives one (it makes derived references unique)."""
    thousands: Literal[",", ".", " ", ""] = ","
    """Thousands separator in amounts."""
    decimal: Literal[".", ","] = "."
    """Decimal mark in amounts."""
    delimiter: Literal[",", ";", "\t", "|"] = ","
    skip_markers: list[str] = []
    """Date cells that mark a line to leave out without error (BCA ``PEND``: not booked yet)."""
    stop_markers: list[str] = []
    """A row whose first cell starts with one of these ends the table (summary footers)."""
    period_pattern: Annotated[str, msgspec.Meta(max_length=200, pattern=LATIN)] | None = None
    """Regular expression with a group ``year``, searched in the rows before the header."""

    # Which amount columns go together is checked by ``layout_problem`` where a layout is
    # used or saved (a rule, 422 over the API), so a layout its schema accepts is never a 400.


LAYOUT_AMOUNTS = "a layout needs `credit` and `debit`, or `amount` and `direction`"
MARKERS = "{name}: expected at most 20 markers of 1 to 40 printable characters each"
_MARKER = re.compile(r"[\x20-\x7e\u00a0-\u024f]{1,40}")


def layout_problem(layout: BankLayout) -> str | None:
    """Why ``layout`` cannot read amounts (None: it can)."""
    if not ((layout.credit and layout.debit) or (layout.amount and layout.direction)):
        return LAYOUT_AMOUNTS
    for name in ("skip_markers", "stop_markers"):
        markers = getattr(layout, name)
        if len(markers) > 20 or not all(_MARKER.fullmatch(m) for m in markers):
            return MARKERS.format(name=name)
    return None


class StatementLineView(Document, frozen=True):
    """One line of a statement as the preview shows it."""

    line: int
    """Line number in the file (1 = its first line)."""
    value_date: str
    reference: str
    amount: int
    """Minor units with the fund's recorded exponent."""
    direction: Literal["credit", "debit"]
    description: str
    recorded: bool
    """True when a donation with this reference is already in the ledger (credits only)."""


class BadLineView(Document, frozen=True):
    line: int
    reason: str


class ImportPreview(Document, frozen=True):
    """What a file would import (nothing is recorded by a preview)."""

    layout: str
    sha256: str
    """Hex SHA-256 of the file: a file is imported at most once."""
    imported_before: bool
    lines: int
    """Transaction lines read (good ones)."""
    credits: int
    credit_total: int
    """Minor units of all credits."""
    new_credits: int
    """Credits whose reference the ledger does not hold yet: what a commit records."""
    new_total: int
    debits: int
    """Debit lines: offered as disbursement candidates, never booked automatically."""
    debit_total: int
    first_date: str | None
    last_date: str | None
    first_rows: list[StatementLineView]
    debit_candidates: list[StatementLineView]
    bad_lines: list[BadLineView]
    """Lines that cannot be read, with the reason: nothing is recorded until the file is
    clean or these lines are excluded."""


class ImportCommitted(Document, frozen=True):
    """What a commit recorded."""

    sha256: str
    recorded: int
    """Donations appended now."""
    already_recorded: int
    """Credit lines whose reference the ledger held already (skipped)."""
    first_index: int | None
    last_index: int | None
    replayed: bool = False
    """True when this file was imported before: the original answer, nothing new."""
