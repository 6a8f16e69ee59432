"""Financial statements for Indonesian non-profits, as documents: the ISAK 35 statements
(financial position, comprehensive income, changes in net assets) and the PSAK 109
statement of changes in funds of a zakat body.

A document is a list of sections, each a list of lines with a stable machine ``key``
(``net_assets.with``, ``zakat.distributions`` …) and the amount *as printed*: integer minor
units of the document's currency, positive in the direction the line's label reads
(revenue and expenses both positive; a surplus negative when it is a deficit). The keys,
their meaning and their mapping from the double-entry postings are in README, "ISAK 35
and PSAK 109 statements". The same request on the same log size gives the same bytes: the
document holds no clock.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from typing import Annotated, Literal

import msgspec

from schemas.base import MAX_INDEX, Document
from schemas.charity import Code
from schemas.compliance import Restriction, ZakatClass
from schemas.money import decimal_amount

Standard = Literal["isak35", "psak109"]
"""``isak35``: the three ISAK 35 statements; ``psak109``: the PSAK 109 statement of changes
in funds."""
FORMAT = "donation-ledger-financial/v1"
"""The ``format`` member of every financial statement document."""


class FinancialRequest(Document, frozen=True):
    """Which statements, for the local dates [from, to) of the organization (value dates)."""

    standard: Standard
    from_: datetime.date = msgspec.field(name="from")
    """First day of the period (a local date of the organization)."""
    to: datetime.date
    """First day after the period: a month is from the 1st to the next 1st."""
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")] | None = None
    """The currency reported (None: the only currency of the organization's funds)."""
    as_of: Annotated[int, msgspec.Meta(ge=1, le=MAX_INDEX)] | None = None
    """Count the first ``as_of`` entries of the log (None: all of them now). The same
    request with the same ``as_of`` always gives the same figures."""


class FinancialLine(Document, frozen=True):
    key: str
    """Stable machine name of the line (README, "ISAK 35 and PSAK 109 statements")."""
    amount: int
    """Minor units as printed: positive in the direction the line's label reads."""


class FinancialSection(Document, frozen=True):
    name: str
    """``financial_position``, ``comprehensive_income``, ``changes_in_net_assets``
    (ISAK 35) or ``changes_in_funds`` (PSAK 109)."""
    lines: list[FinancialLine]


class FundClassLine(Document, frozen=True):
    """A fund as the statement classified it, with its balances by value date."""

    code: Code
    name: str
    restriction: Restriction
    """ISAK 35 class at the statement's log size."""
    zakat_class: ZakatClass | None
    """PSAK 109 fund (None: outside PSAK 109's four funds)."""
    opening: int
    """Balance of the fund's account: postings with a value date before ``from``."""
    closing: int
    """Balance of the fund's account: postings with a value date before ``to``."""


class AmilShare(Document, frozen=True):
    """The amil share (PSAK 109) taken from zakat against the organization's cap."""

    period_zakat: int
    """Zakat received in the period (donations to zakat funds, net of corrections)."""
    period_amil: int
    """Transferred from zakat funds to amil funds in the period."""
    period_bps: int | None
    """``period_amil`` in basis points of ``period_zakat``, rounded down (None: no zakat)."""
    cumulative_zakat: int
    """Zakat received with a value date before ``to``."""
    cumulative_amil: int
    """Amil share from zakat with a value date before ``to``."""
    cumulative_bps: int | None
    cap_bps: int
    """The organization's cap (``org.profile``; 1250 = 1/8 by default)."""
    allowed: int
    """Most the cap allows on ``cumulative_zakat``, rounded down."""
    within_cap: bool
    """``cumulative_amil <= allowed`` (what the transfer rule enforces)."""


class FinancialDocument(Document, frozen=True, kw_only=True):
    """ISAK 35 or PSAK 109 statements of one organization, period and currency."""

    format: Literal["donation-ledger-financial/v1"] = FORMAT
    standard: Standard
    org: str
    """The organization's slug."""
    org_name: str
    legal_name: str | None
    """From its newest ``org.profile`` (None: none recorded)."""
    npwp: str | None
    origin: str
    """The log's origin line (c2sp.org/tlog-checkpoint)."""
    from_: datetime.date = msgspec.field(name="from")
    to: datetime.date
    time_zone: str
    """The organization's zone: value dates are its local dates."""
    currency: str
    minor_units: int
    """The exponent the currency's funds recorded."""
    tree_size: int
    """The figures count the log's first ``tree_size`` entries."""
    checkpoint_size: int | None
    """The smallest signed checkpoint that covers them (None: none signed yet)."""
    checkpoint_root: str | None
    """Its root hash, base64."""
    funds: list[FundClassLine]
    sections: list[FinancialSection]
    amil_share: AmilShare | None = None
    """PSAK 109 only."""

    def section(self, name: str) -> dict[str, int]:
        """The lines of section ``name`` by key."""
        for s in self.sections:
            if s.name == name:
                return {line.key: line.amount for line in s.lines}
        raise KeyError(name)


CSV_COLUMNS = ("section", "key", "amount", "minor_units", "amount_decimal", "currency")


def csv_text(doc: FinancialDocument) -> str:
    """The document's lines as CSV (RFC 4180, CRLF line ends), one row per line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for section in doc.sections:
        for line in section.lines:
            writer.writerow(
                [
                    section.name,
                    line.key,
                    line.amount,
                    doc.minor_units,
                    decimal_amount(line.amount, doc.minor_units),
                    doc.currency,
                ]
            )
    for fund in doc.funds:
        for name, amount in (("opening", fund.opening), ("closing", fund.closing)):
            writer.writerow(
                [
                    "funds",
                    f"fund:{fund.code}.{name}",
                    amount,
                    doc.minor_units,
                    decimal_amount(amount, doc.minor_units),
                    doc.currency,
                ]
            )
    return buffer.getvalue()


def csv_pieces(doc: FinancialDocument) -> Iterator[bytes]:
    yield csv_text(doc).encode()
