"""View models of the public site: what each page shows, built from the same read use cases
as the JSON API (``ledger.charity.reads``, the store, ``ledger.charity.receipts``), so a figure on a page
always equals the API's figure for it.

Nothing here formats for a language; templates do, with ``ledger.http.site.i18n``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from litestar import Litestar

from ledger.charity import acknowledgments, reads, receipts
from ledger.charity.reversals import Reversal, reversal_of, reversals
from ledger.errors import NotFoundError
from ledger.formats.note import SIGNATURE_LINE_PREFIX, format_vkey
from ledger.http.services import Services
from ledger.http.site.display import Money, currency_table
from ledger.journal import witnessing
from ledger.journal.publisher import publish
from ledger.store import documents as D
from ledger.store import publication as PUB
from ledger.store.log import Organization, StoredEntry
from schemas import kinds
from schemas.charity import BeneficiaryView, FundView

ENTRIES_PER_PAGE = 20
"""Entries on one page of an organization's log."""
ORGS_PER_PAGE = 50
"""Organizations on one page of the home page."""
_BATCH = 1000
"""Funds or beneficiaries read per query while gathering all of an organization's."""
STATEMENTS_ROUTE = "/v1/orgs/{slug:str}/statements"
"""The statements API; the site links statements only when the app serves this route."""

T = TypeVar("T")


# --- shared pieces ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgHeader:
    """Who the page is about."""

    slug: str
    name: str
    origin: str
    """Log origin: the first line of its checkpoints and the name of its keys."""
    size: int
    """Entries in the log now."""


@dataclass(frozen=True)
class CurrencyTotals:
    """One currency's totals over all funds of an organization."""

    currency: str
    raised: Money
    disbursed: Money
    fees: Money
    balance: Money


@dataclass(frozen=True)
class Exponents:
    """The exponent each fund's entry recorded, to write an amount the way the log means it."""

    by_fund: dict[str, int]
    by_currency: dict[str, int]
    """A currency's exponent as its funds recorded it (they agree unless ISO 4217 changed one
    between two funds' creations; the first fund by code then speaks for account totals)."""

    @classmethod
    def of(cls, funds: Sequence[FundView]) -> Exponents:
        by_currency: dict[str, int] = {}
        for f in funds:
            by_currency.setdefault(f.currency, f.minor_units)
        return cls({f.code: f.minor_units for f in funds}, by_currency)

    def money(self, amount: int, currency: str, fund: str | None = None) -> Money:
        exponent = self.by_fund.get(fund) if fund else None
        if exponent is None:
            exponent = self.by_currency[currency]
        return Money(amount, currency, exponent)


def currency_totals(funds: Sequence[FundView]) -> list[CurrencyTotals]:
    """Sum the funds' raised, disbursed, fees and balance per currency (codes sorted)."""
    sums: dict[str, list[int]] = {}
    exponents = Exponents.of(funds)
    for f in funds:
        row = sums.setdefault(f.currency, [0, 0, 0, 0])
        for i, value in enumerate((f.raised, f.disbursed, f.fees, f.balance)):
            row[i] += value
    return [
        CurrencyTotals(c, *(exponents.money(v, c) for v in values))
        for c, values in sorted(sums.items())
    ]


async def _all(read: Callable[[str, int], Awaitable[list[T]]], code: Callable[[T], str]) -> list[T]:
    """Every item of a list that ``read(after, limit)`` pages by code."""
    found: list[T] = []
    after = ""
    while page := await read(after, _BATCH):
        found.extend(page)
        if len(page) < _BATCH:
            break
        after = code(page[-1])
    return found


async def all_funds(services: Services, org: Organization) -> list[FundView]:
    return await _all(
        lambda after, limit: reads.fund_views(services.reader, org, after, limit), lambda f: f.code
    )


async def all_beneficiaries(services: Services, org: Organization) -> list[BeneficiaryView]:
    return await _all(
        lambda after, limit: reads.beneficiary_views(services.reader, org, after, limit),
        lambda b: b.code,
    )


async def _header(services: Services, org: Organization) -> OrgHeader:
    head = await services.reader.head(org.id)
    return OrgHeader(org.slug, org.name, org.origin, head.size)


# --- home ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgSummary:
    """An organization on the home page."""

    org: OrgHeader
    funds: int
    """How many funds it has."""
    totals: list[CurrencyTotals]


@dataclass(frozen=True)
class HomePage:
    orgs: list[OrgSummary]
    next_after: int | None
    """Cursor of the next page of organizations (None on the last page)."""


async def home_page(services: Services, after: int) -> HomePage:
    orgs = await services.reader.organizations(after, ORGS_PER_PAGE + 1)
    summaries = []
    for org in orgs[:ORGS_PER_PAGE]:
        funds = await all_funds(services, org)
        summaries.append(
            OrgSummary(await _header(services, org), len(funds), currency_totals(funds))
        )
    more = len(orgs) > ORGS_PER_PAGE
    return HomePage(summaries, orgs[ORGS_PER_PAGE - 1].id if more else None)


# --- organization ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FundRow:
    """A fund as the organization page shows it."""

    view: FundView
    """The API's view of the fund (same numbers)."""
    raised: Money
    disbursed: Money
    fees: Money
    transferred_in: Money
    transferred_out: Money
    balance: Money

    @property
    def cap_used_percent(self) -> int:
        """How much of its overhead cap the fund used, 0–100, for the bar's width."""
        cap = self.view.fee_cap_bps
        if cap == 0:
            return 100 if self.view.fees else 0
        return min(100, self.view.overhead_bps * 100 // cap)

    @classmethod
    def of(cls, f: FundView) -> FundRow:
        c, e = f.currency, f.minor_units
        return cls(
            f,
            Money(f.raised, c, e),
            Money(f.disbursed, c, e),
            Money(f.fees, c, e),
            Money(f.transferred_in, c, e),
            Money(f.transferred_out, c, e),
            Money(f.balance, c, e),
        )


@dataclass(frozen=True)
class BeneficiaryRow:
    view: BeneficiaryView
    received: list[Money]


@dataclass(frozen=True)
class EntryRow:
    """One entry of the public projection: its document, nothing more."""

    index: int
    kind: str
    time: dt.datetime
    body: dict[str, Any]
    """The entry document's ``body`` (never personal data)."""
    amount: Money | None
    """The money it moves, if any."""
    reversed_by: Reversal | None = None
    """The correction that reversed it, if one did (the entry then no longer counts)."""


@dataclass(frozen=True)
class EntriesPage:
    rows: list[EntryRow]
    """Newest first."""
    before: int
    """The page shows entries with an index below this."""
    newer: int | None
    """``before`` of the newer page, None on the newest."""
    older: int | None
    """``before`` of the older page, None on the oldest."""


@dataclass(frozen=True)
class CheckpointInfo:
    """The latest signed checkpoint."""

    size: int
    root: str
    """Base64 root hash."""
    note: str
    """The signed note as served by ``/log/checkpoint`` (with witness cosignatures)."""
    cosignatures: int
    """Witness cosignature lines on it."""


@dataclass(frozen=True)
class StatementLink:
    """A statement, with its documents' URLs as the statements API gives them."""

    number: int
    start: dt.date
    end: dt.date
    provisional: bool
    pdf_id_url: str
    pdf_en_url: str


@dataclass(frozen=True)
class OrgPage:
    org: OrgHeader
    totals: list[CurrencyTotals]
    funds: list[FundRow]
    beneficiaries: list[BeneficiaryRow]
    entries: EntriesPage
    checkpoint: CheckpointInfo
    vkeys: list[str]
    """The log's public keys, current and retired (old checkpoints stay verifiable)."""
    statements: list[StatementLink] | None
    """None when this app serves no statements."""
    fund_names: dict[str, str] = field(default_factory=dict)
    beneficiary_names: dict[str, str] = field(default_factory=dict)
    fund_shares: dict[str, list[AckShare]] = field(default_factory=dict)
    """Per fund: of its unreversed disbursements, what their recipients acknowledged."""
    beneficiary_shares: dict[str, list[AckShare]] = field(default_factory=dict)
    """Per beneficiary: the same."""


@dataclass(frozen=True)
class AckShare:
    """The acknowledged share in one currency, as the site shows it."""

    disbursed: Money
    acknowledged: Money
    disputed: Money
    percent: int
    """Acknowledged rupiah per 100 disbursed, rounded down."""


def ack_shares(shares: dict[str, list[Any]], exponents: Exponents) -> dict[str, list[AckShare]]:
    return {
        code: [
            AckShare(
                exponents.money(s.disbursed, s.currency),
                exponents.money(s.acknowledged, s.currency),
                exponents.money(s.disputed, s.currency),
                s.acknowledged * 100 // s.disbursed if s.disbursed else 0,
            )
            for s in items
        ]
        for code, items in shares.items()
    }


def entry_row(
    e: StoredEntry, exponents: Exponents, reversal: Reversal | None = None
) -> EntryRow:
    document = json.loads(e.body)
    body = document.get("body") or {}
    amount = None
    if isinstance(body.get("amount"), int) and isinstance(body.get("currency"), str):
        fund = body.get("fund") or body.get("from_fund")
        amount = exponents.money(body["amount"], body["currency"], fund)
    return EntryRow(e.index, e.kind, e.created_at, body, amount, reversal)


async def entries_page(
    services: Services, org: Organization, size: int, before: int | None, exponents: Exponents
) -> EntriesPage:
    """The page of entries below ``before`` (the newest page when None), newest first."""
    end = size if before is None else max(0, min(before, size))
    start = max(0, end - ENTRIES_PER_PAGE)
    rows = await services.reader.entries(org.id, start, end) if end else []
    found = await reversals(services.reader, org.id, [e.index for e in rows])
    return EntriesPage(
        [entry_row(e, exponents, found.get(e.index)) for e in reversed(rows)],
        end,
        newer=min(end + ENTRIES_PER_PAGE, size) if end < size else None,
        older=start if start > 0 else None,
    )


async def latest_checkpoint(services: Services, org: Organization) -> CheckpointInfo:
    """The latest checkpoint, as ``GET /log/checkpoint`` serves it (signing one if none yet)."""
    cp = await services.reader.latest_checkpoint(org.id)
    if cp is None:
        cp = await publish(services.store, org, services.kek)
    note = await witnessing.cosigned_note(services.reader, org.id, cp)
    signatures = note.count("\n" + SIGNATURE_LINE_PREFIX)
    own = cp.note.count("\n" + SIGNATURE_LINE_PREFIX)
    return CheckpointInfo(cp.size, base64.b64encode(cp.root).decode(), note, signatures - own)


def statements_served(app: Litestar) -> bool:
    """Whether the app serves the statements API (built separately; it may be absent)."""
    return any(route.path == STATEMENTS_ROUTE for route in app.routes)


async def statement_links(
    app: Litestar, services: Services, org: Organization
) -> list[StatementLink] | None:
    """The organization's statements, newest first; None when the app serves none."""
    if not statements_served(app):
        return None
    from ledger.charity import statements

    found = await statements.list_statements(services.reader, org, 0, 1000)
    return [
        StatementLink(s.id, s.from_, s.to, s.provisional, s.pdf_id_url, s.pdf_en_url)
        for s in reversed(found)
    ]


async def org_page(app: Litestar, services: Services, slug: str, before: int | None) -> OrgPage:
    org = await services.organization(slug)
    header = await _header(services, org)
    funds = await all_funds(services, org)
    beneficiaries = await all_beneficiaries(services, org)
    keys = await services.reader.public_keys(org.id)
    exponents = Exponents.of(funds)
    fund_shares, beneficiary_shares = await acknowledgments.shares(services.reader, org)
    return OrgPage(
        org=header,
        totals=currency_totals(funds),
        funds=[FundRow.of(f) for f in funds],
        beneficiaries=[
            BeneficiaryRow(
                b, [exponents.money(r.amount, r.currency) for r in b.received if r.amount]
            )
            for b in beneficiaries
        ],
        entries=await entries_page(services, org, header.size, before, exponents),
        checkpoint=await latest_checkpoint(services, org),
        vkeys=[format_vkey(k.name, k.public_key) for k in keys],
        statements=await statement_links(app, services, org),
        fund_names={f.code: f.name for f in funds},
        beneficiary_names={b.code: b.name for b in beneficiaries},
        fund_shares=ack_shares(fund_shares, exponents),
        beneficiary_shares=ack_shares(beneficiary_shares, exponents),
    )


# --- entry -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryPage:
    org: OrgHeader
    entry: EntryRow
    document: dict[str, Any]
    """The whole entry document."""
    canonical: str
    """The canonical bytes as text (they are UTF-8 JSON)."""
    leaf_hash: str
    entry_hash: str
    prev_hash: str
    """Base64 hashes, as the API's entry view gives them."""
    tlog_proof: str
    """The c2sp.org/tlog-proof text served by ``/log/entries/{index}/proof``."""
    fund_names: dict[str, str]
    beneficiary_names: dict[str, str]
    recipient: Any = None
    """A disbursement's recipient status (``schemas.recipients.AcknowledgmentView``), or
    None for other kinds."""
    evidence: PUB.EvidenceLinks | None = None
    """A disbursement's evidence entries: its private originals and public copies, with
    their withdrawals (None for other kinds)."""
    withdrawal: PUB.Withdrawal | None = None
    """For an ``evidence.published`` entry: its withdrawal, if the copy was withdrawn."""


def parse_index(text: str) -> int:
    """An entry index from a URL segment: decimal digits only, else not found."""
    if not text.isascii() or not text.isdigit() or len(text) > 16:
        raise NotFoundError(f"expected an entry index, got {text!r}")
    return int(text)


async def entry_page(services: Services, slug: str, index: int) -> EntryPage:
    org = await services.organization(slug)
    stored = await services.reader.entry(org.id, index)
    proof = await receipts.tlog_proof(services.store, org, services.kek, index)
    funds = await all_funds(services, org)
    beneficiaries = await all_beneficiaries(services, org)

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return EntryPage(
        org=await _header(services, org),
        entry=entry_row(
            stored, Exponents.of(funds), await reversal_of(services.reader, org.id, index)
        ),
        document=json.loads(stored.body),
        canonical=stored.body.decode("utf-8"),
        leaf_hash=b64(stored.leaf_hash),
        entry_hash=b64(stored.entry_hash),
        prev_hash=b64(stored.prev_hash),
        tlog_proof=proof,
        fund_names={f.code: f.name for f in funds},
        beneficiary_names={b.code: b.name for b in beneficiaries},
        recipient=await _recipient(services, org, stored),
        evidence=await _evidence(services, org, stored),
        withdrawal=await _withdrawal(services, org, stored),
    )


async def _evidence(services: Services, org: Organization, stored: Any) -> PUB.EvidenceLinks | None:
    """A disbursement's evidence entries (None for other kinds)."""
    if stored.kind != kinds.DISBURSEMENT:
        return None
    async with services.reader.connection() as conn:
        return await PUB.evidence_links(conn, org.id, [stored.index])


async def _withdrawal(services: Services, org: Organization, stored: Any) -> PUB.Withdrawal | None:
    """How a published copy of evidence was withdrawn (None: not withdrawn, or another kind)."""
    if stored.kind != kinds.EVIDENCE_PUBLISHED:
        return None
    async with services.reader.connection() as conn:
        return (await PUB.withdrawals(conn, org.id, [stored.index])).get(stored.index)


async def _recipient(services: Services, org: Organization, stored: Any) -> Any:
    """What the disbursement's recipient signed about it (None for other kinds)."""
    if stored.kind != kinds.DISBURSEMENT:
        return None
    today = acknowledgments.local_today(services.clock())
    return await acknowledgments.acknowledgment_view(services.reader, org, stored.index, today)


# --- statement -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementPage:
    org: OrgHeader
    statement: Any
    """The statements API's view of it (``schemas.statements.StatementView``)."""


async def statement_page(
    app: Litestar, services: Services, slug: str, number: int
) -> StatementPage:
    if not statements_served(app):
        raise NotFoundError("this ledger serves no statements")
    from ledger.charity import statements

    org = await services.organization(slug)
    view = await statements.statement(services.reader, org, number)
    return StatementPage(await _header(services, org), view)


# --- verify ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyPage:
    org: OrgHeader | None
    """The organization named by ``?org=``, if it exists: only to say whose keys to pin."""
    currencies: dict[str, tuple[int, str]]
    """Minor units and symbol of every currency, so the script formats amounts as we do."""
    entry: int | None = None
    """The entry named by ``?entry=`` (a receipt's QR code), when it exists."""
    prefill: str = ""
    """That entry's public receipt (JSON: every proof, the donor commitment left closed), or
    its tlog-proof when it is not a donation; checked in the browser as soon as the page
    opens."""
    served_vkeys: tuple[str, ...] = ()
    """The organization's keys as this server publishes them: used only when the visitor
    pinned none, and then said so."""
    certificates: dict[str, dict[str, str]] = field(default_factory=dict)
    """Every organization's document certificate by log origin (``name``, ``slug``, ``der``
    in base64): a dropped receipt PDF's signer is compared with the one of the log its
    attached proof names (pdf-signature.js; ``ledger-verify --certificate`` pins the same)."""


async def document_certificates(services: Services) -> dict[str, dict[str, str]]:
    """The organizations' document certificates by log origin, for the verify page."""
    async with services.reader.connection() as conn:
        found = await D.published_certificates(conn)
    return {
        c.origin: {"name": c.name, "slug": c.slug, "der": base64.b64encode(c.cert_der).decode()}
        for c in found
    }


async def verify_page(services: Services, slug: str | None, entry: int | None = None) -> VerifyPage:
    certificates = await document_certificates(services)
    if not slug:
        return VerifyPage(None, currency_table(), certificates=certificates)
    try:
        org = await services.organization(slug)
    except NotFoundError:  # an unknown ?org= is only a hint that does not apply
        return VerifyPage(None, currency_table(), certificates=certificates)
    header = await _header(services, org)
    if entry is None or not 0 <= entry < header.size:
        return VerifyPage(header, currency_table(), certificates=certificates)
    try:
        prefill = json.dumps(
            await receipts.public_receipt(services.store, org, services.kek, entry),
            ensure_ascii=False,
        )
    except NotFoundError:  # not a donation: its bare proof
        prefill = await receipts.tlog_proof(services.store, org, services.kek, entry)
    keys = await services.reader.public_keys(org.id)
    return VerifyPage(
        header,
        currency_table(),
        entry,
        prefill,
        tuple(format_vkey(k.name, k.public_key) for k in keys),
        certificates,
    )
