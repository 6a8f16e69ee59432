"""The content of a public statement, and the totals computed from it.

A statement covers the log index range ``[start, end)``: the entries recorded in a
period of server time (entry times never go backwards, so a period is one
contiguous range). Its balances are sums of postings as of tree sizes ``start``
and ``end``; its totals are sums over its entries, net of corrections (a
correction counts against the kind of the entry it reverses). Both are computed
here, once, and every form of the statement (PDF, JSON, CSV) prints these same
numbers.

The classes take plain values (no ledger types), like the receipt data, so the
``reports`` package stays importable on its own. Balances and totals are the document types
of ``schemas.statements``, so the JSON document writes them as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from reports.errors import ReportDataError
from schemas import kinds
from schemas.statements import (
    StatementBalance,
    StatementCurrencyTotal,
    StatementFundTotal,
    StatementGroupTotal,
    StatementPermit,
    StatementRecipientTotal,
    StatementTotals,
)

MONEY_KINDS = kinds.MONEY
"""Kinds that move money (they post double-entry lines)."""

FUND_ACCOUNT_PREFIX = "fund:"
BENEFICIARY_ACCOUNT_PREFIX = "beneficiary:"

ACKNOWLEDGED = "acknowledged"
"""Recipient status: the beneficiary signed that the whole amount arrived."""
DISPUTED = "disputed"
"""Recipient status: the beneficiary signed that another amount arrived (0: nothing)."""
AWAITING = "awaiting"
"""Recipient status: the beneficiary had signed nothing about it at the statement's end."""


@dataclass(frozen=True, slots=True)
class RecipientWord:
    """What a beneficiary signed about one disbursement (a ``disbursement.acknowledged`` or
    ``disbursement.disputed`` entry, docs/FORMAT.md section 8), as a statement reads it:
    only such entries recorded below the statement's ``end`` count, so an issued statement
    never changes meaning."""

    entry: int
    """The acknowledgment or dispute entry."""
    verdict: str
    """:data:`ACKNOWLEDGED` or :data:`DISPUTED`."""
    on: dt.date
    """The local date (organization's time zone) the log recorded it."""
    received: int | None
    """Disputed: minor units the beneficiary says arrived (0: nothing); None otherwise."""


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    """A disbursement's status as its recipient left it at the statement's end."""

    status: str
    """:data:`ACKNOWLEDGED`, :data:`DISPUTED` or :data:`AWAITING`."""
    entry: int | None = None
    """The acknowledgment or dispute entry (None while awaiting)."""
    on: dt.date | None = None
    """The local date that entry was recorded (None while awaiting)."""
    received: int | None = None
    """Minor units the recipient says arrived: the amount when acknowledged, what it
    stated when disputed; None while awaiting."""
    awaiting_days: int | None = None
    """Awaiting: days from the value date to the statement's ``recipients_as_of``."""


@dataclass(frozen=True, slots=True)
class StatementEntry:
    """One log entry as a statement shows it (public fields only)."""

    index: int
    """Log index."""
    time: dt.datetime
    """When the log recorded it (the entry's ``time``, UTC)."""
    kind: str
    """Entry kind."""
    fund: str | None = None
    """Fund code: the fund of a donation, disbursement or fee, the source of a transfer, the
    corrected entry's fund for a correction, the new fund of ``fund.created``."""
    counterparty: str | None = None
    """Public label: the beneficiary's name, the donor's chosen display (None for an
    anonymous donation), the destination fund's name, a fee's description, or the subject of
    a non-money entry."""
    reference: str | None = None
    """External reference (of the corrected entry, for a correction)."""
    currency: str | None = None
    """ISO 4217 code of a money entry."""
    amount: int | None = None
    """Positive minor units of a money entry; for a correction, the amount it reverses."""
    value_date: dt.date | None = None
    """The business date in the body (received_on, paid_on, …)."""
    beneficiary: str | None = None
    """Beneficiary code of a disbursement (or of the disbursement a correction reverses)."""
    to_fund: str | None = None
    """Destination fund code of a transfer (or of the transfer a correction reverses)."""
    purpose: str | None = None
    """Purpose category of a disbursement (or of the one a correction reverses)."""
    corrects: int | None = None
    """For a correction: the index of the entry it reverses."""
    corrected_kind: str | None = None
    """For a correction: the kind of the entry it reverses."""
    corrected_by: int | None = None
    """The correction in this statement that reverses this entry, if any."""
    detail: str | None = None
    """Free text: a correction's reason; a statement number; a count of erased records."""
    recipient: RecipientStatus | None = None
    """A disbursement's recipient status at the statement's end (None for other kinds, and
    where the statement did not gather it)."""


@dataclass(frozen=True)
class FundInfo:
    """A fund that exists at the end of the range."""

    code: str
    """Public code."""
    name: str
    """Display name."""
    currency: str
    """ISO 4217 code of every amount of the fund."""
    fee_cap_bps: int
    """Overhead cap in basis points of donations (1000 = 10%, PP 29/1980)."""
    cumulative_donations: int
    """Donations since the fund was created, net of corrections, up to the end of the range."""
    cumulative_fees: int
    """Fees since the fund was created, net of corrections, up to the end of the range."""
    permit: StatementPermit | None = None
    """Its fundraising permit or exemption as the statement shows it (issue 18)."""


@dataclass(frozen=True)
class BeneficiaryInfo:
    """A beneficiary as registered at the end of the range (latest version)."""

    code: str
    """Public code."""
    name: str
    """Name (e.g. of an LKSA)."""
    city: str
    """City or regency."""


@dataclass(frozen=True)
class CheckpointInfo:
    """A signed checkpoint (c2sp.org/tlog-checkpoint) of the log."""

    size: int
    """Tree size."""
    root_b64: str
    """Base64 RFC 9162 root hash."""
    note: str
    """The signed note, verbatim."""


@dataclass(frozen=True)
class PreviousStatement:
    """The statement issued just before this one, and its checkpoint."""

    number: int
    """Its number."""
    checkpoint: CheckpointInfo
    """The checkpoint it printed."""


@dataclass(frozen=True)
class ConsistencyInfo:
    """An RFC 9162 consistency proof between the previous statement's checkpoint and this
    one's, from the smaller tree size to the larger."""

    old_size: int
    """Smaller tree size."""
    new_size: int
    """Larger tree size."""
    proof: tuple[str, ...]
    """Base64 hashes, in RFC 9162 order."""


@dataclass(frozen=True)
class StatementData:
    """Everything a statement prints. The PDF signature covers all of it; the log
    commits to its SHA-256 in the ``statement.issued`` entry."""

    number: int
    """Statement number within the organization (1, 2, …)."""
    org_name: str
    """Organization's name; also the signing certificate's CN."""
    org_slug: str
    """Organization's URL name."""
    origin: str
    """Log origin."""
    period_from: dt.date
    """First day of the period (a local date of ``time_zone``)."""
    period_to: dt.date
    """First day after the period (a local date of ``time_zone``)."""
    fund_scope: str | None
    """Fund code when the statement covers one fund only."""
    beneficiary_scope: str | None
    """Beneficiary code when the statement covers one beneficiary only."""
    provisional: bool
    """Issued before the period ended."""
    start: int
    """End of the previous statement of this scope (0 for the first): late entries and
    other log events come from [start, end)."""
    end: int
    """Tree size when the statement was gathered: every entry listed or summed is below."""
    checkpoint: CheckpointInfo
    """The smallest checkpoint whose size is at least ``end``."""
    previous: PreviousStatement | None
    """The previous statement of the organization, if any."""
    consistency: ConsistencyInfo | None
    """Proof linking the previous statement's checkpoint and this one's."""
    opening: tuple[StatementBalance, ...]
    """Balances of the scope's accounts by value date: postings of the entries below
    ``end`` whose value date is before ``period_from``."""
    closing: tuple[StatementBalance, ...]
    """The same with value dates before ``period_to``: opening plus ``entries``' movements."""
    entries: Sequence[StatementEntry]
    """The money entries below ``end`` whose value date is in the period, in the scope, by
    value date then index; then (unscoped only) the other entries of [start, end)."""
    funds: tuple[FundInfo, ...]
    """Every fund at the end of the range, sorted by code."""
    beneficiaries: tuple[BeneficiaryInfo, ...]
    """Every beneficiary at the end of the range, sorted by code."""
    minor_units: Mapping[str, int]
    """Decimal exponent of each currency that appears."""
    verify_url: str
    """Public page of the statement; encoded in the QR code."""
    attachments: tuple[tuple[str, bytes, str], ...] = field(default=())
    """Files embedded in the PDF: (name, bytes, kind), kind one of ``json``,
    ``checkpoint``, ``proof``."""
    late_entries: Sequence[StatementEntry] = ()
    """Money entries of [start, end) recorded after an earlier statement of this scope that
    covered their value date was issued: shown once, here. Not in the period's totals; those
    dated before the period are in ``opening``."""
    time_zone: str = "Asia/Jakarta"
    """The organization's IANA time zone: the zone of the period's dates."""
    recipients_as_of: dt.date | None = None
    """The day "awaiting acknowledgment since N days" is counted to: the period's last day,
    or the issue date for a statement issued before that (a local date of ``time_zone``).
    The statuses themselves count the recipients' entries below ``end``. None: statuses
    were not gathered (the recipients' section is left out)."""

    def __post_init__(self) -> None:
        if not self.period_from < self.period_to:
            raise ReportDataError(
                f"expected period_from before period_to, got {self.period_from} and "
                f"{self.period_to}"
            )
        if not 0 <= self.start <= self.end <= self.checkpoint.size:
            raise ReportDataError(
                f"expected 0 <= start <= end <= checkpoint size, got {self.start}, {self.end}, "
                f"{self.checkpoint.size}"
            )
        if self.fund_scope is not None and self.beneficiary_scope is not None:
            raise ReportDataError("expected at most one of fund_scope and beneficiary_scope")


def in_scope(entry: StatementEntry, fund: str | None, beneficiary: str | None) -> bool:
    """Whether a statement with this scope lists ``entry``. Unscoped statements list
    every entry of the range; scoped ones only the money entries that touch the scope."""
    if fund is None and beneficiary is None:
        return True
    if entry.kind not in MONEY_KINDS:
        return False
    if fund is not None:
        return fund in (entry.fund, entry.to_fund)
    return entry.beneficiary == beneficiary


def link_corrections(entries: Sequence[StatementEntry]) -> list[StatementEntry]:
    """``entries`` with ``corrected_by`` set on each entry whose correction is also listed."""
    by_target = {e.corrects: e.index for e in entries if e.corrects is not None}
    if not by_target:
        return list(entries)
    return [
        replace(e, corrected_by=by_target[e.index]) if e.index in by_target else e for e in entries
    ]


def display_order(entries: Sequence[StatementEntry]) -> Iterator[StatementEntry]:
    """Index order, except that a correction follows the entry it corrects when both are
    listed, so a reader sees them side by side. Every entry is yielded exactly once."""
    moved = {e.corrects: e for e in entries if e.corrects is not None}
    listed = {e.index for e in entries if e.index in moved}
    for entry in entries:
        if entry.corrects is not None and entry.corrects in listed:
            continue
        yield entry
        follower = moved.get(entry.index)
        if follower is not None:
            yield follower


def recipient_status(
    entry: StatementEntry, word: RecipientWord | None, as_of: dt.date
) -> RecipientStatus:
    """A disbursement's status from what its recipient signed before the statement's end
    (``word``; None: nothing yet), and the days it has been awaiting up to ``as_of``."""
    if word is None:
        since = entry.value_date or as_of
        return RecipientStatus(AWAITING, awaiting_days=max(0, (as_of - since).days))
    if word.verdict == ACKNOWLEDGED:
        return RecipientStatus(ACKNOWLEDGED, word.entry, word.on, entry.amount)
    return RecipientStatus(DISPUTED, word.entry, word.on, word.received)


def with_recipients(
    entries: Sequence[StatementEntry], words: Mapping[int, RecipientWord], as_of: dt.date
) -> list[StatementEntry]:
    """``entries`` with each disbursement's recipient status set (``words``: by disbursement
    index, only the recipients' entries below the statement's end)."""
    return [
        replace(e, recipient=recipient_status(e, words.get(e.index), as_of))
        if e.kind == kinds.DISBURSEMENT
        else e
        for e in entries
    ]


def recipient_totals(entries: Sequence[StatementEntry]) -> tuple[StatementRecipientTotal, ...]:
    """Per currency, of the period's disbursements that no correction in the statement
    reverses: how many (and how much) their recipients acknowledged, disputed, or had not
    answered yet at the statement's end."""
    found: dict[str, list[int]] = {}
    for e in entries:
        r = e.recipient
        if r is None or e.corrected_by is not None or e.currency is None or e.amount is None:
            continue
        row = found.setdefault(e.currency, [0] * 9)
        row[0] += 1
        row[1] += e.amount
        column = {ACKNOWLEDGED: 2, DISPUTED: 4, AWAITING: 7}[r.status]
        row[column] += 1
        row[column + 1] += e.amount
        if r.status == DISPUTED:
            row[6] += r.received or 0
    return tuple(
        StatementRecipientTotal(
            currency=currency,
            disbursements=row[0],
            disbursed=row[1],
            acknowledged=row[2],
            acknowledged_amount=row[3],
            disputed=row[4],
            disputed_amount=row[5],
            disputed_received=row[6],
            awaiting=row[7],
            awaiting_amount=row[8],
        )
        for currency, row in sorted(found.items())
    )


def _ratio(part: int, whole: int) -> int:
    return part * 10_000 // whole if whole > 0 else 0


def compute_totals(data: StatementData) -> StatementTotals:
    """The statement's totals. Raises :class:`ReportDataError` when a fund's opening balance
    plus its movements is not its closing balance (the projections disagree with the log)."""
    movements: dict[str, dict[str, int]] = {}
    to_beneficiary: dict[tuple[str, str], int] = {}
    to_purpose: dict[tuple[str, str], int] = {}
    per_fund_paid: dict[str, int] = {}

    def add(fund: str, what: str, amount: int) -> None:
        bucket = movements.setdefault(fund, {})
        bucket[what] = bucket.get(what, 0) + amount

    for e in data.entries:
        if e.kind not in MONEY_KINDS or e.amount is None or e.currency is None:
            continue
        kind = e.corrected_kind if e.kind == kinds.CORRECTION else e.kind
        amount = -e.amount if e.kind == kinds.CORRECTION else e.amount
        fund = e.fund or ""
        if kind == kinds.DONATION:
            add(fund, "donations", amount)
        elif kind == kinds.FEE:
            add(fund, "fees", amount)
        elif kind == kinds.TRANSFER:
            add(fund, "transfers_out", amount)
            add(e.to_fund or "", "transfers_in", amount)
        elif kind == kinds.DISBURSEMENT:
            add(fund, "disbursements", amount)
            per_fund_paid[fund] = per_fund_paid.get(fund, 0) + amount
            key = (e.beneficiary or "", e.currency)
            to_beneficiary[key] = to_beneficiary.get(key, 0) + amount
            key = (e.purpose or "other", e.currency)
            to_purpose[key] = to_purpose.get(key, 0) + amount

    opening = {(b.account, b.currency): b.amount for b in data.opening}
    closing = {(b.account, b.currency): b.amount for b in data.closing}
    if data.beneficiary_scope is not None:
        shown = [f for f in data.funds if f.code in per_fund_paid]
    elif data.fund_scope is not None:
        shown = [f for f in data.funds if f.code == data.fund_scope]
    else:
        shown = list(data.funds)
    funds = tuple(_fund_totals(data, f, movements.get(f.code, {}), opening, closing) for f in shown)

    names = {b.code: b.name for b in data.beneficiaries}
    beneficiaries = tuple(
        StatementGroupTotal(
            key=code,
            name=names.get(code, code),
            currency=currency,
            amount=amount,
            cumulative=closing.get((BENEFICIARY_ACCOUNT_PREFIX + code, currency), 0),
        )
        for (code, currency), amount in sorted(to_beneficiary.items())
    )
    paid: dict[str, int] = {}
    for (_, currency), amount in to_purpose.items():
        paid[currency] = paid.get(currency, 0) + amount
    purposes = tuple(
        StatementGroupTotal(
            key=purpose,
            name=purpose,
            currency=currency,
            amount=amount,
            share_bps=_ratio(amount, paid[currency]),
        )
        for (purpose, currency), amount in sorted(to_purpose.items())
    )
    return StatementTotals(
        funds=funds,
        beneficiaries=beneficiaries,
        purposes=purposes,
        currencies=_currency_totals(data, funds),
        recipients=recipient_totals(data.entries),
    )


def _fund_totals(
    data: StatementData,
    fund: FundInfo,
    moved: dict[str, int],
    opening: dict[tuple[str, str], int],
    closing: dict[tuple[str, str], int],
) -> StatementFundTotal:
    account = (FUND_ACCOUNT_PREFIX + fund.code, fund.currency)
    start = end = None
    if data.beneficiary_scope is None:
        start, end = opening.get(account, 0), closing.get(account, 0)
        expected = (
            start
            + moved.get("donations", 0)
            - moved.get("disbursements", 0)
            - moved.get("fees", 0)
            + moved.get("transfers_in", 0)
            - moved.get("transfers_out", 0)
        )
        if expected != end:
            raise ReportDataError(
                f"fund {fund.code!r} does not reconcile: opening {start} plus the movements of "
                f"entries {data.start}..{data.end - 1} is {expected}, but the closing balance is "
                f"{end}; the projections disagree with the log"
            )
    cumulative = _ratio(fund.cumulative_fees, fund.cumulative_donations)
    return StatementFundTotal(
        code=fund.code,
        name=fund.name,
        currency=fund.currency,
        opening=start,
        donations=moved.get("donations", 0),
        disbursements=moved.get("disbursements", 0),
        fees=moved.get("fees", 0),
        transfers_in=moved.get("transfers_in", 0),
        transfers_out=moved.get("transfers_out", 0),
        closing=end,
        overhead_bps=_ratio(moved.get("fees", 0), moved.get("donations", 0)),
        cumulative_overhead_bps=cumulative,
        fee_cap_bps=fund.fee_cap_bps,
        over_cap=cumulative > fund.fee_cap_bps,
        permit=fund.permit,
    )


def _currency_totals(
    data: StatementData, funds: tuple[StatementFundTotal, ...]
) -> tuple[StatementCurrencyTotal, ...]:
    found: dict[str, list[int]] = {}
    for f in funds:
        row = found.setdefault(f.currency, [0, 0, 0, 0])
        row[0] += f.donations
        row[1] += f.disbursements
        row[2] += f.fees
        row[3] += f.closing or 0
    return tuple(
        StatementCurrencyTotal(
            currency=currency,
            donations=donations,
            disbursements=disbursed,
            fees=fees,
            closing_funds=None if data.beneficiary_scope is not None else closing_funds,
        )
        for currency, (donations, disbursed, fees, closing_funds) in sorted(found.items())
    )


__all__ = [
    "ACKNOWLEDGED",
    "AWAITING",
    "DISPUTED",
    "MONEY_KINDS",
    "BeneficiaryInfo",
    "CheckpointInfo",
    "ConsistencyInfo",
    "FundInfo",
    "PreviousStatement",
    "RecipientStatus",
    "RecipientWord",
    "StatementData",
    "StatementEntry",
    "compute_totals",
    "display_order",
    "in_scope",
    "link_corrections",
    "recipient_status",
    "recipient_totals",
    "with_recipients",
]
