"""ISAK 35 and PSAK 109 financial statements of an organization, from its postings.

A statement covers the local dates [from, to) of the organization (value dates, its
``org.settings`` zone) and counts the log's first ``as_of`` entries (all of them when the
request names none): the same request with the same ``as_of`` gives the same figures, and
the same JSON bytes. Everything is read in one repeatable-read snapshot: each fund's
classes (``ledger.charity.compliance``, at that log size), the period's movements of each
fund account by counter account, and the fund balances by value date before ``from`` and
``to``. The lines are computed and checked by ``reports.financial.compute``.

These documents are not recorded in the log (unlike ``statement.issued``): a reader asks
for them, and the PDF is rendered and PAdES-signed on request with the organization's
document certificate. The figures are reproducible from the log; the signed bytes are not
(a new signing time and ECDSA nonce each time). README, "ISAK 35 and PSAK 109 statements".
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt

import msgspec

from ledger.charity import compliance, documents
from ledger.charity.statements import check_request
from ledger.errors import LedgerError, RuleError
from ledger.store import charity as P
from ledger.store import financial as F
from ledger.store import statements as S
from ledger.store.log import Organization, Store
from reports.errors import ReportDataError
from reports.financial.compute import FinancialInput, FundInput, Move, financial_document
from reports.financial.pdf import render_financial
from reports.pdf.localization import Language
from reports.pdf.signing import sign_pdf
from schemas.financial import FinancialDocument, FinancialRequest
from schemas.money import recorded_minor_units
from schemas.statements import StatementRequest

_encode = msgspec.json.Encoder(order="deterministic").encode


def _moves(rows: list[F.Movement], currency: str) -> list[Move]:
    return [
        Move(r.account.removeprefix("fund:"), r.counter, r.amount)
        for r in rows
        if r.currency == currency
    ]


def _fund_balances(rows: list[tuple[str, str, int]], currency: str) -> dict[str, int]:
    return {
        a.removeprefix("fund:"): v
        for a, c, v in rows
        if a.startswith("fund:") and c.strip() == currency
    }


async def gather(
    store: Store, org: Organization, request: FinancialRequest, *, now: dt.datetime
) -> FinancialDocument:
    """The statements ``request`` asks for, read from one snapshot of the log."""
    async with (
        store.connection() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        calendar = await P.org_calendar(conn, org)
        check_request(StatementRequest(from_=request.from_, to=request.to), now, calendar)
        head = await store.read_head(conn, org.id)
        size = head.size if request.as_of is None else request.as_of
        if size > head.size:
            raise RuleError.of(
                "as_of: expected a log size of at most {size} (the log's size now), got {as_of}",
                size=head.size,
                as_of=size,
            )
        standing = await compliance.read(conn, org.id, size)
        funds = await S.funds_as_of(conn, org.id, size)
        currencies = sorted({f.currency.strip() for f in funds})
        currency = request.currency or (currencies[0] if len(currencies) == 1 else None)
        if currency is None or currency not in currencies:
            raise RuleError.of(
                "currency: expected one of the currencies of the organization's funds "
                "({currencies}), got {currency}; a statement reports one currency",
                currencies=", ".join(currencies) or "none",
                currency=request.currency or "none",
            )
        period = await F.movements(conn, org.id, size, request.from_, request.to)
        to_date = await F.movements(conn, org.id, size, dt.date.min, request.to)
        opening = await P.balances_by_value_date(conn, org.id, size, request.from_)
        closing = await P.balances_by_value_date(conn, org.id, size, request.to)
        checkpoint = await store.checkpoint_covering(org.id, size, conn)
    chosen = [f for f in funds if f.currency.strip() == currency]
    exponents = {recorded_minor_units(f.minor_units, currency) for f in chosen}
    if len(exponents) != 1:
        raise LedgerError(
            f"financial statement of {org.slug} refused: funds in {currency} recorded "
            f"different exponents ({sorted(exponents)})"
        )
    profile = standing.profile
    data = FinancialInput(
        standard=request.standard,
        org=org.slug,
        org_name=org.name,
        legal_name=profile.legal_name if profile else None,
        npwp=profile.npwp if profile else None,
        origin=org.origin,
        period_from=request.from_,
        period_to=request.to,
        time_zone=calendar.time_zone,
        currency=currency,
        minor_units=exponents.pop(),
        tree_size=size,
        checkpoint_size=checkpoint.size if checkpoint else None,
        checkpoint_root=base64.b64encode(checkpoint.root).decode() if checkpoint else None,
        funds=[
            FundInput(
                f.code,
                f.name,
                standing.funds[f.code].restriction,
                standing.funds[f.code].zakat_class,
            )
            for f in chosen
        ],
        period=_moves(period, currency),
        to_date=_moves(to_date, currency),
        opening=_fund_balances(opening, currency),
        closing=_fund_balances(closing, currency),
        amil_cap_bps=compliance.amil_cap_bps(profile),
    )
    try:
        return financial_document(data)
    except ReportDataError as exc:
        raise LedgerError(f"financial statement of {org.slug} refused: {exc}") from exc


def document_json(doc: FinancialDocument) -> bytes:
    """The JSON document (sorted keys: equal documents give equal bytes)."""
    return _encode(doc)


REASONS = {
    "isak35": {"id": "Laporan keuangan ISAK 35", "en": "ISAK 35 financial statements"},
    "psak109": {
        "id": "Laporan perubahan dana PSAK 109",
        "en": "PSAK 109 statement of changes in funds",
    },
}


def render_and_sign(
    doc: FinancialDocument,
    lang: Language,
    signer: documents.DocumentSigner,
    org: Organization,
    now: dt.datetime,
) -> bytes:
    """The PDF in ``lang``, PAdES-signed (blocking: call in a worker thread)."""
    pdf = render_financial(doc, lang, now=now)
    period = f"{doc.from_.isoformat()}/{doc.to.isoformat()}"
    return sign_pdf(
        pdf,
        signer.cert_der,
        signer.key_der,
        reason=f"{REASONS[doc.standard][lang]} {period}",
        location=org.origin,
        signing_time=now,
    )


async def signed_pdf(
    store: Store,
    kek: bytes,
    org: Organization,
    request: FinancialRequest,
    lang: Language,
    *,
    now: dt.datetime,
) -> bytes:
    """Gather, render and sign (the rendering and signing off the event loop)."""
    doc = await gather(store, org, request, now=now)
    signer = await documents.document_signer(store, org, kek)
    return await asyncio.to_thread(render_and_sign, doc, lang, signer, org, now)
