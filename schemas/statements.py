"""Public statements: the issue request, the ``statement.issued`` entry body, the
metadata the API lists, and the statement's machine-readable forms (JSON and CSV).

The JSON document (``donation-ledger-statement/v1``, built by ``reports.statement.json_document``)
is stored as issued and served
byte for byte; the log commits to its SHA-256 in the ``statement.issued`` entry. The
CSV is derived from that JSON, one row per fact, so both always carry the same
numbers as the signed PDFs.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import msgspec

from schemas import kinds
from schemas.base import Body, Document
from schemas.charity import Code
from schemas.money import decimal_amount, recorded_minor_units

Sha256Hex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
Index = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]


# --- request and entry body ---------------------------------------------------------------


class StatementRequest(Document, frozen=True):
    """Issue a statement for the local dates [from, to) of the organization's time zone
    (``org.settings``; default Asia/Jakarta), optionally for one fund or one beneficiary
    (not both). It lists the money entries whose value date is in the period."""

    from_: datetime.date = msgspec.field(name="from")
    """First day of the period (a local date of the organization)."""
    to: datetime.date
    """First day after the period: a month is from the 1st to the next 1st."""
    fund: Code | None = None
    """Only this fund's money entries and balance."""
    beneficiary: Code | None = None
    """Only the disbursements to this beneficiary."""


class StatementScope(Document, frozen=True):
    """What a statement covers; both None means the whole organization."""

    fund: Code | None
    beneficiary: Code | None


class StatementHashes(Document, frozen=True):
    """SHA-256 (hex) of each stored document of a statement, exactly as served."""

    json: Sha256Hex
    """The JSON document."""
    pdf_en: Sha256Hex
    """The signed English PDF."""
    pdf_id: Sha256Hex
    """The signed Indonesian PDF."""


class StatementIssuedBody(Body, frozen=True, tag=kinds.STATEMENT_ISSUED):
    """``statement.issued``: a statement was published. Commits to its documents' hashes,
    to the index range it covers and to the checkpoint it printed."""

    statement: Annotated[int, msgspec.Meta(ge=1)]
    """Statement number within the organization (1, 2, …)."""
    scope: StatementScope
    from_: datetime.date = msgspec.field(name="from")
    """First day of the period: a local date of the organization's time zone (statements
    issued before value dates existed: a UTC date)."""
    to: datetime.date
    """First day after the period (same zone as ``from``)."""
    start: Index
    """The previous statement of the same scope's ``end`` (0 for the first): entries
    recorded in [start, end) are new since it (the late entries come from there)."""
    end: Index
    """The tree size when the statement was gathered: every entry it lists, and every
    entry its balances sum, has an index below it."""
    checkpoint_size: Index
    """Size of the signed checkpoint printed in the statement (>= end)."""
    checkpoint_root: str
    """Its root hash, base64."""
    previous: Annotated[int, msgspec.Meta(ge=1)] | None
    """Number of the statement issued before this one (None for the first)."""
    provisional: bool
    """Issued before the period ended."""
    sha256: StatementHashes


# --- metadata served by the API -----------------------------------------------------------


class StatementView(Document, frozen=True):
    """A statement as listed: what it covers and where its documents are."""

    id: int
    """Statement number within the organization; the path segment of its URLs."""
    entry_index: int
    """Index of its ``statement.issued`` entry."""
    issued_at: datetime.datetime
    """When it was issued (also printed on it)."""
    from_: datetime.date = msgspec.field(name="from")
    to: datetime.date
    scope: StatementScope
    start: int
    end: int
    checkpoint_size: int
    checkpoint_root: str
    previous: int | None
    provisional: bool
    """Issued before ``to``: later entries of the period are not in it."""
    sha256: StatementHashes
    pdf_id_url: str
    pdf_en_url: str
    json_url: str
    csv_url: str


# --- the JSON document --------------------------------------------------------------------


class StatementOrganization(Document, frozen=True):
    slug: str
    name: str
    origin: str
    """Log origin."""


class StatementPeriod(Document, frozen=True):
    from_: datetime.date = msgspec.field(name="from")
    to: datetime.date


class StatementRange(Document, frozen=True):
    """The log index range [start, end) the statement covers."""

    start: int
    end: int


class StatementCheckpoint(Document, frozen=True):
    """A signed checkpoint (c2sp.org/tlog-checkpoint as c2sp.org/signed-note)."""

    size: int
    root: str
    """Base64 root hash."""
    note: str
    """The signed note, verbatim."""


class StatementPrevious(Document, frozen=True):
    statement: int
    checkpoint: StatementCheckpoint


class StatementConsistency(Document, frozen=True):
    """RFC 9162 consistency proof between the previous statement's checkpoint and this
    one's, from the smaller size to the larger."""

    old_size: int
    new_size: int
    proof: list[str]
    """Base64 hashes."""


class StatementBalance(Document, frozen=True):
    """An account's balance at a tree size: the sum of its postings."""

    account: str
    """``donors``, ``fees``, ``fund:<code>`` or ``beneficiary:<code>``."""
    currency: str
    """ISO 4217 code."""
    amount: int
    """Signed minor units."""


class StatementRecipient(Document, frozen=True):
    """A disbursement's status as its recipient left it at the statement's end: only the
    ``disbursement.acknowledged`` / ``disbursement.disputed`` entries below ``range.end``
    count (docs/FORMAT.md section 8), so an issued statement never changes meaning."""

    status: Literal["acknowledged", "disputed", "awaiting"]
    entry: int | None
    """The acknowledgment or dispute entry (None while awaiting)."""
    on: datetime.date | None
    """The local date the log recorded that entry (None while awaiting)."""
    received: int | None
    """Minor units the recipient signed that it received: the amount when acknowledged,
    what it stated when disputed (0: nothing); None while awaiting."""
    awaiting_days: int | None
    """Awaiting: days from the value date to ``recipients_as_of.date``; None otherwise."""


class StatementRecipientsAsOf(Document, frozen=True):
    """What the recipient statuses of a statement are counted against."""

    tree_size: int
    """Only the recipients' entries below this index count (the statement's ``end``)."""
    date: datetime.date
    """"Awaiting since N days" is counted to this local date: the period's last day, or the
    issue date when the statement was issued before it."""


class StatementLine(Document, frozen=True):
    """One entry. ``amount`` is positive; a correction carries the amount it reverses."""

    index: int
    time: str
    """RFC 3339 time the log recorded it."""
    kind: str
    fund: str | None
    counterparty: str | None
    """Public label; None for an anonymous donor."""
    reference: str | None
    currency: str | None
    amount: int | None
    value_date: datetime.date | None
    """When the money moved (a local date of the organization); None for other entries."""
    beneficiary: str | None
    to_fund: str | None
    purpose: str | None
    corrects: int | None
    corrected_kind: str | None
    corrected_by: int | None
    detail: str | None
    recipient: StatementRecipient | None = None
    """A disbursement's recipient status (None for other kinds, and in statements issued
    before it existed)."""


# The totals: computed once by ``reports.statement.data.compute_totals`` from a statement's
# data, printed by the PDFs and written into the JSON document as they are.


class StatementPermit(Document, frozen=True):
    """The fundraising permit (PUB) a fund collected under in the period, or its exemption
    (``fund.permit`` entries below the statement's end; docs/FORMAT.md section 6)."""

    entry: int
    """The fund.permit entry."""
    number: str | None
    issuer: str | None
    valid_from: datetime.date | None
    valid_until: datetime.date | None
    exemption: str | None
    """``zakat`` or ``place_of_worship`` instead of a permit."""
    covers: Literal["period", "part", "none"]
    """How much of the period the permit covers (an exemption covers the period)."""


class StatementFundTotal(Document, frozen=True):
    """One fund's movements in the period, net of corrections."""

    code: str
    name: str
    currency: str
    opening: int | None
    """Balance as of ``start``; None in a beneficiary-scoped statement."""
    donations: int
    disbursements: int
    fees: int
    transfers_in: int
    transfers_out: int
    closing: int | None
    """Balance as of ``end``; equals opening plus the movements (checked)."""
    overhead_bps: int
    """Period fees / period donations, basis points (0 without donations)."""
    cumulative_overhead_bps: int
    """Fees / donations since the fund began, as of ``end``: what the cap applies to."""
    fee_cap_bps: int
    over_cap: bool
    """The cumulative ratio exceeds the cap."""
    permit: StatementPermit | None = None
    """Its fundraising permit or exemption (None: none recorded; statements before
    December 2026 have no such member)."""


class StatementGroupTotal(Document, frozen=True):
    """Disbursements of the period to one beneficiary or one purpose, in one currency."""

    key: str
    """Beneficiary code or purpose."""
    name: str
    """Beneficiary name (the purpose again for purposes)."""
    currency: str
    amount: int
    """Net of corrections."""
    cumulative: int | None = None
    """For a beneficiary: everything it received up to ``end``."""
    share_bps: int | None = None
    """For a purpose: its share of the period's disbursements in that currency."""


class StatementCurrencyTotal(Document, frozen=True):
    """The period's headline figures in one currency."""

    currency: str
    donations: int
    disbursements: int
    fees: int
    closing_funds: int | None
    """Sum of the closing balances of the funds in scope (None for a beneficiary scope)."""


class StatementRecipientTotal(Document, frozen=True):
    """Of the period's disbursements in one currency that no correction in the statement
    reverses: what their recipients had signed at the statement's end. Counts and amounts
    (minor units) of each status; ``disbursed`` is the sum of the three amounts."""

    currency: str
    disbursements: int
    disbursed: int
    acknowledged: int
    acknowledged_amount: int
    disputed: int
    disputed_amount: int
    """What the charity recorded as disbursed, for the disputed ones."""
    disputed_received: int
    """What their recipients signed that they received instead."""
    awaiting: int
    awaiting_amount: int


class StatementTotals(Document, frozen=True):
    """Totals per fund, per beneficiary, per purpose and per currency, and the recipients'
    word on the period's disbursements."""

    funds: tuple[StatementFundTotal, ...]
    beneficiaries: tuple[StatementGroupTotal, ...]
    purposes: tuple[StatementGroupTotal, ...]
    currencies: tuple[StatementCurrencyTotal, ...]
    recipients: tuple[StatementRecipientTotal, ...] = ()
    """Per currency (absent from statements issued before it existed)."""


class StatementDocument(Document, frozen=True):
    """The statement as JSON: everything the PDFs print, in machine-readable form."""

    format: str
    statement: int
    organization: StatementOrganization
    scope: StatementScope
    period: StatementPeriod
    issued_at: str
    provisional: bool
    range: StatementRange
    checkpoint: StatementCheckpoint
    previous: StatementPrevious | None
    consistency: StatementConsistency | None
    opening_balances: list[StatementBalance]
    closing_balances: list[StatementBalance]
    totals: StatementTotals
    entries: list[StatementLine]
    minor_units: dict[str, int] | None = None
    late_entries: list[StatementLine] = msgspec.field(default_factory=list)
    """Money entries recorded after an earlier statement of this scope covering their value
    date was issued, and since the previous statement: listed here once, never in their
    own period's statement again (it is never rewritten). Their value date is before the
    period, so the opening balances include them; they are not in the period's totals."""
    """Currency → the exponent its funds' entries recorded: what every integer amount of
    that currency in this document means (IDR 2: 125000000 is Rp 1.250.000). Absent from
    statements issued before it existed; their amounts follow the v1 rule, ISO 4217 as of
    2026-01-01 (docs/FORMAT.md §6)."""
    recipients_as_of: StatementRecipientsAsOf | None = None
    """What each disbursement's ``recipient`` status is counted against (absent from
    statements issued before statuses existed)."""

    def exponent(self, currency: str) -> int:
        """The exponent of ``currency`` in this document."""
        if self.minor_units is not None and currency in self.minor_units:
            return self.minor_units[currency]
        return recorded_minor_units(None, currency)


# --- CSV ------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "section",
    "name",
    "index",
    "time",
    "kind",
    "fund",
    "counterparty",
    "reference",
    "currency",
    "amount",
    "minor_units",
    "amount_decimal",
    "note",
    "value_date",
    "recipient_status",
    "recipient_entry",
    "recipient_date",
    "recipient_received",
    "awaiting_days",
)
"""One row per fact; ``section`` says which: statement, opening_balance, closing_balance,
fund_total, beneficiary_total, purpose_total, currency_total, recipient_total, entry,
late_entry (an entry recorded after the statement of its period was issued). ``time`` is an
entry's recording time, ``value_date`` when the money moved. A disbursement's row carries its
recipient status (``recipient_status``: acknowledged, disputed or awaiting; the entry that
said so, the local date it was recorded, the minor units the recipient signed it received,
or the days it has been awaiting)."""

RECIPIENT_METRICS = (
    "disbursed",
    "acknowledged",
    "disputed",
    "disputed_received",
    "awaiting",
)
"""The ``kind`` of each recipient_total row (one per metric and currency): the amount, and
the number of disbursements in ``note`` (``count=N``; none for disputed_received)."""

FUND_METRICS = (
    "opening",
    "donations",
    "disbursements",
    "fees",
    "transfers_in",
    "transfers_out",
    "closing",
    "overhead_bps",
    "cumulative_overhead_bps",
    "fee_cap_bps",
)
"""The ``kind`` of each fund_total row, one row per metric and fund."""


CSV_CHUNK_CHARACTERS = 64 * 1024
"""The CSV is streamed in pieces of about this many characters."""


def csv_lines(doc: StatementDocument) -> Iterator[str]:
    """The statement as CSV (RFC 4180, CRLF line ends), in pieces for streaming.

    ``amount`` is an integer of minor units, ``minor_units`` the exponent the currency's
    funds recorded and ``amount_decimal`` the same amount as an exact decimal
    (``125000000``, ``2``, ``1250000.00``). An entry row's amount is signed (a correction's
    is negative), so the entry rows of a fund sum to its net movement. Basis-point rows
    (``overhead_bps`` …) are not money and have no decimal form."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for values in _csv_rows(doc):
        writer.writerow(["" if v is None else v for v in values])
        if buffer.tell() >= CSV_CHUNK_CHARACTERS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _csv_rows(doc: StatementDocument) -> Iterator[list[object]]:
    def row(**values: Any) -> list[object]:
        currency, amount = values.get("currency"), values.get("amount")
        if currency and isinstance(amount, int) and not str(values.get("kind")).endswith("_bps"):
            exponent = doc.exponent(currency)
            values["minor_units"] = exponent
            values["amount_decimal"] = decimal_amount(amount, exponent)
        return [values.get(column) for column in CSV_COLUMNS]

    yield list(CSV_COLUMNS)
    facts: list[tuple[str, object]] = [
        ("format", doc.format),
        ("statement", doc.statement),
        ("organization", doc.organization.slug),
        ("origin", doc.organization.origin),
        ("period_from", doc.period.from_.isoformat()),
        ("period_to", doc.period.to.isoformat()),
        ("scope_fund", doc.scope.fund),
        ("scope_beneficiary", doc.scope.beneficiary),
        ("issued_at", doc.issued_at),
        ("provisional", str(doc.provisional).lower()),
        ("start", doc.range.start),
        ("end", doc.range.end),
        ("checkpoint_size", doc.checkpoint.size),
        ("checkpoint_root", doc.checkpoint.root),
        ("previous", doc.previous.statement if doc.previous else None),
    ]
    if doc.recipients_as_of is not None:
        facts.append(("recipients_tree_size", doc.recipients_as_of.tree_size))
        facts.append(("recipients_as_of", doc.recipients_as_of.date.isoformat()))
    for name, value in facts:
        yield row(section="statement", name=name, note=value)
    for section, balances in (
        ("opening_balance", doc.opening_balances),
        ("closing_balance", doc.closing_balances),
    ):
        for b in balances:
            yield row(section=section, name=b.account, currency=b.currency, amount=b.amount)
    for f in doc.totals.funds:
        for metric in FUND_METRICS:
            over = metric == "cumulative_overhead_bps" and f.over_cap
            yield row(
                section="fund_total",
                name=f.code,
                kind=metric,
                fund=f.code,
                currency=f.currency,
                amount=getattr(f, metric),
                note="over_cap" if over else None,
            )
    for b in doc.totals.beneficiaries:
        for metric, amount in (("period", b.amount), ("cumulative", b.cumulative)):
            yield row(
                section="beneficiary_total",
                name=b.key,
                kind=metric,
                counterparty=b.name,
                currency=b.currency,
                amount=amount,
            )
    for p in doc.totals.purposes:
        yield row(
            section="purpose_total",
            name=p.key,
            currency=p.currency,
            amount=p.amount,
            note=f"share_bps={p.share_bps}",
        )
    for c in doc.totals.currencies:
        for metric in ("donations", "disbursements", "fees", "closing_funds"):
            yield row(
                section="currency_total",
                name=c.currency,
                kind=metric,
                currency=c.currency,
                amount=getattr(c, metric),
            )
    for t in doc.totals.recipients:
        counts = {
            "disbursed": t.disbursements,
            "acknowledged": t.acknowledged,
            "disputed": t.disputed,
            "awaiting": t.awaiting,
        }
        amounts = {
            "disbursed": t.disbursed,
            "acknowledged": t.acknowledged_amount,
            "disputed": t.disputed_amount,
            "disputed_received": t.disputed_received,
            "awaiting": t.awaiting_amount,
        }
        for metric in RECIPIENT_METRICS:
            yield row(
                section="recipient_total",
                name=t.currency,
                kind=metric,
                currency=t.currency,
                amount=amounts[metric],
                note=f"count={counts[metric]}" if metric in counts else None,
            )
    for section, e in [("entry", e) for e in doc.entries] + [
        ("late_entry", e) for e in doc.late_entries
    ]:
        amount = e.amount
        if e.kind == kinds.CORRECTION and amount is not None:
            amount = -amount
        yield row(
            section=section,
            value_date=e.value_date.isoformat() if e.value_date else None,
            name=e.corrected_kind,
            index=e.index,
            time=e.time,
            kind=e.kind,
            fund=e.fund,
            counterparty=e.counterparty,
            reference=e.reference,
            currency=e.currency,
            amount=amount,
            note=_entry_note(e),
            **_recipient_cells(e.recipient),
        )


def _recipient_cells(r: StatementRecipient | None) -> dict[str, object]:
    if r is None:
        return {}
    return {
        "recipient_status": r.status,
        "recipient_entry": r.entry,
        "recipient_date": r.on.isoformat() if r.on else None,
        "recipient_received": r.received,
        "awaiting_days": r.awaiting_days,
    }


def _entry_note(e: StatementLine) -> str | None:
    if e.corrects is not None:
        return f"corrects #{e.corrects}" + (f": {e.detail}" if e.detail else "")
    if e.corrected_by is not None:
        return f"corrected by #{e.corrected_by}"
    return e.detail


__all__ = [
    "CSV_COLUMNS",
    "StatementBalance",
    "StatementCurrencyTotal",
    "StatementDocument",
    "StatementFundTotal",
    "StatementGroupTotal",
    "StatementHashes",
    "StatementIssuedBody",
    "StatementRecipient",
    "StatementRecipientTotal",
    "StatementRecipientsAsOf",
    "StatementRequest",
    "StatementScope",
    "StatementTotals",
    "StatementView",
    "csv_lines",
]
