"""One fund's money entries as open-data rows: what each log entry becomes in ``entries.csv``.

The amounts come from the entry's double-entry lines on the fund's account (docs/FORMAT.md
"Double entry"), the words from its body:

| kind | direction | purpose (functional classification) | counterparty |
|---|---|---|---|
| donation | revenue | ``donation`` | ``donor``: the public name the donor consented to, else ``anonymous`` |
| disbursement | expenditure | its ``purpose`` (food, education, ...) | ``beneficiary``: code and name (an orphanage) |
| transfer | revenue in ``to_fund``, expenditure in ``from_fund`` | ``transfer`` | ``fund``: the other fund |
| fee | expenditure | ``fee`` | ``fees`` |
| correction | the direction of the entry it reverses | that entry's | that entry's |

A correction is a **reversing row**: its amount is the negation of the reversed entry's in
the same column (a reversed donation of Rp 100.000 gives ``revenue_minor`` −10000000), it
names the entry it reverses in ``reverses_entry``, and the reversed entry's own row names it
in ``reversed_by_entry``. Nothing is dropped: the sums of the columns are what the fund
really received and spent.

No personal data: a donor appears only by the ``display`` the donation recorded (the name
the donor consented to publish) or as ``anonymous``; a donation's ``message`` and
``reference`` and the donor commitment are left out (free text and payment ids are not
fiscal data and may name people). Beneficiaries are organizations and are named.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reports.errors import ReportDataError
from schemas import kinds

Direction = Literal["revenue", "expenditure"]

ANONYMOUS = "anonymous"
"""The counterparty name of a donor who consented to no public name."""

DIRECTIONS: tuple[Direction, ...] = ("revenue", "expenditure")
COUNTERPARTY_TYPES = ("donor", "beneficiary", "fund", "fees")


@dataclass(frozen=True)
class LoggedEntry:
    """A money entry of the log as the export reads it."""

    index: int
    """Log index."""
    kind: str
    """Entry kind."""
    recorded_at: dt.datetime
    """Recording time (the entry's ``time``, UTC)."""
    body: Mapping[str, Any]
    """The entry's ``body`` member, decoded from its canonical bytes."""
    leaf_hash: bytes
    """RFC 9162 leaf hash of its canonical bytes."""
    value_date: dt.date
    """Its value date: a local date of the organization."""
    fund_line: int
    """Signed sum of its posting lines on the fund's account, in minor units (positive:
    money into the fund)."""


@dataclass(frozen=True)
class ReversedEntry:
    """The entry a correction reverses: what the reversing row repeats."""

    index: int
    """Its log index."""
    kind: str
    """Its kind."""
    body: Mapping[str, Any]
    """Its body."""


@dataclass(frozen=True)
class OpenDataRow:
    """One row of ``entries.csv``."""

    entry_index: int
    """Log index: fetch the entry and its inclusion proof with it."""
    leaf_hash: bytes
    """RFC 9162 leaf hash of the entry's canonical bytes."""
    recorded_at: dt.datetime
    """When the log recorded it (UTC)."""
    value_date: dt.date
    """When the money moved (local date of the organization): what places it in a period."""
    kind: str
    """Entry kind."""
    direction: Direction
    """``revenue`` (money into the fund) or ``expenditure`` (out of it), of the entry or, for
    a correction, of the entry it reverses."""
    reverses_entry: int | None
    """A correction: the index of the entry it reverses."""
    reversed_by_entry: int | None
    """The index of the correction that reverses this entry (up to the checkpoint)."""
    purpose: str
    """Functional classification (see the module docstring)."""
    description: str
    """A fee's description, a transfer's reason, a correction's reason; else empty."""
    counterparty_type: str
    """``donor``, ``beneficiary``, ``fund`` or ``fees``."""
    counterparty_code: str
    """The beneficiary's or the other fund's code; empty for donors and fees."""
    counterparty_name: str
    """The donor's consented public name or ``anonymous``; the beneficiary's or fund's name."""
    channel: str
    """A donation's payment channel (``qris``, ``bank_transfer``, ...); else empty."""
    revenue_minor: int
    """Minor units received (negative on a row reversing a revenue); 0 on expenditure rows."""
    expenditure_minor: int
    """Minor units spent (negative on a row reversing an expenditure); 0 on revenue rows."""

    @property
    def fund_line(self) -> int:
        """What the row moved in the fund: revenue minus expenditure."""
        return self.revenue_minor - self.expenditure_minor

    @property
    def amount(self) -> int:
        """The row's amount in its direction's column."""
        return self.revenue_minor if self.direction == "revenue" else self.expenditure_minor


@dataclass(frozen=True)
class Names:
    """Display names as of the checkpoint."""

    funds: Mapping[str, str]
    """Fund code → name."""
    beneficiaries: Mapping[str, str]
    """Beneficiary code → name (its latest version before the checkpoint)."""


def _words(kind: str, body: Mapping[str, Any], fund: str, names: Names) -> tuple[str, ...]:
    """(purpose, description, counterparty type, code, name, channel) of an original entry."""
    if kind == kinds.DONATION:
        donor = body.get("donor") or {}
        display = donor.get("display") if isinstance(donor, Mapping) else None
        return ("donation", "", "donor", "", display or ANONYMOUS, str(body.get("channel", "")))
    if kind == kinds.DISBURSEMENT:
        code = body["beneficiary"]
        return (body["purpose"], "", "beneficiary", code, names.beneficiaries.get(code, ""), "")
    if kind == kinds.TRANSFER:
        other = body["from_fund"] if body["to_fund"] == fund else body["to_fund"]
        return ("transfer", body.get("reason", ""), "fund", other, names.funds.get(other, ""), "")
    if kind == kinds.FEE:
        return ("fee", body.get("description", ""), "fees", "", "", "")
    raise ReportDataError(f"expected a donation, disbursement, transfer or fee, got {kind!r}")


def open_data_row(
    entry: LoggedEntry,
    fund: str,
    names: Names,
    reversed_entry: ReversedEntry | None = None,
    reversed_by: int | None = None,
) -> OpenDataRow:
    """The row of ``entry`` in the export of ``fund``. A correction needs the entry it
    reverses (``reversed_entry``); ``reversed_by`` is the correction reversing ``entry``."""
    if entry.fund_line == 0:
        raise ReportDataError(
            f"entry {entry.index}: expected lines on fund {fund!r} that move money, got none"
        )
    original_kind, original_body = entry.kind, entry.body
    reverses = None
    if entry.kind == kinds.CORRECTION:
        if reversed_entry is None or reversed_entry.index != entry.body.get("corrects"):
            raise ReportDataError(
                f"entry {entry.index}: a correction needs the entry it reverses "
                f"({entry.body.get('corrects')}), got {reversed_entry and reversed_entry.index}"
            )
        original_kind, original_body = reversed_entry.kind, reversed_entry.body
        reverses = reversed_entry.index
    # The direction is the reversed entry's for a correction: its lines are the negation.
    original_line = -entry.fund_line if reverses is not None else entry.fund_line
    direction: Direction = "revenue" if original_line > 0 else "expenditure"
    purpose, description, ctype, code, name, channel = _words(
        original_kind, original_body, fund, names
    )
    if reverses is not None:
        description = str(entry.body.get("reason", ""))
    return OpenDataRow(
        entry_index=entry.index,
        leaf_hash=entry.leaf_hash,
        recorded_at=entry.recorded_at,
        value_date=entry.value_date,
        kind=entry.kind,
        direction=direction,
        reverses_entry=reverses,
        reversed_by_entry=reversed_by,
        purpose=purpose,
        description=description,
        counterparty_type=ctype,
        counterparty_code=code,
        counterparty_name=name,
        channel=channel,
        revenue_minor=entry.fund_line if direction == "revenue" else 0,
        expenditure_minor=-entry.fund_line if direction == "expenditure" else 0,
    )
