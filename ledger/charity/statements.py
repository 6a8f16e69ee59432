"""Public statements: gather a period from the log, render and sign it, issue it with its
``statement.issued`` entry in one transaction, and serve the stored bytes again.

A statement covers a period [from, to) of the organization's local dates (its time zone,
``org.settings``; default Asia/Jakarta) and selects money entries by value date: it lists
every money entry whose value date is in the period and that was recorded before it was
gathered (index below ``end``, the tree size then). An entry recorded after an earlier
statement of the same scope that covered its value date was issued is listed once, by the
next statement of that scope, as a late entry for an earlier period; issued statements are
never rewritten. Opening and closing balances are sums of the postings of entries below
``end`` whose value date is before ``from`` and ``to``, so opening plus the period's entries
is the closing balance, and the late entries dated before the period are in the opening.
Everything is read in one repeatable-read snapshot. The statement prints the smallest
signed checkpoint whose size is at least ``end`` (signing one if none exists) and the
RFC 9162 consistency proof between that checkpoint and the previous statement's, so a
reader can check that nothing was removed or rewritten between two statements.

Issuing stores the exact PDF (id, en) and JSON bytes and appends ``statement.issued`` with
their SHA-256 in the same transaction: either both exist or neither does, and asking again
returns identical bytes. Rendering and signing take a core for seconds; they run in a
worker thread (pyHanko also runs its own event loop there).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
import msgspec

from ledger.charity import compliance, documents
from ledger.charity.receipts import consistency_proof
from ledger.charity.recording import Reply, replay
from ledger.charity.rules import CharityPolicy, Command
from ledger.clock import Clock
from ledger.errors import ConflictError, LedgerError, NotFoundError, RuleError
from ledger.formats.valuedates import Calendar
from ledger.journal.appender import Intent, append_batch
from ledger.journal.publisher import publish
from ledger.journal.witnessing import cosigned_note
from ledger.store import charity as P
from ledger.store import statements as S
from ledger.store.log import Organization, Store
from reports.errors import ReportDataError
from reports.pdf.signing import sign_pdf
from reports.statement.data import (
    BeneficiaryInfo,
    CheckpointInfo,
    ConsistencyInfo,
    FundInfo,
    PreviousStatement,
    RecipientWord,
    StatementData,
    StatementEntry,
    compute_totals,
    in_scope,
    link_corrections,
    with_recipients,
)
from reports.statement.entries import EntryNames, statement_entry
from reports.statement.json_document import statement_document
from reports.statement.pdf import render_statement
from schemas import kinds
from schemas.money import recorded_minor_units
from schemas.statements import (
    StatementBalance,
    StatementDocument,
    StatementHashes,
    StatementIssuedBody,
    StatementRequest,
    StatementScope,
    StatementTotals,
    StatementView,
    csv_lines,
)

DOCUMENTS = {"pdf-id": "application/pdf", "pdf-en": "application/pdf", "json": "application/json"}
"""The stored documents of a statement and their media types."""

CHUNK = 5000
"""Entries read per round trip while gathering a period."""

_decode = msgspec.json.Decoder().decode
_decode_document = msgspec.json.Decoder(StatementDocument).decode


@dataclass(frozen=True)
class Gathered:
    """A statement ready to render: its content, totals and JSON document."""

    data: StatementData
    """What the PDFs print (with the JSON and checkpoints attached)."""
    totals: StatementTotals
    """Totals printed in every form."""
    json: bytes
    """The JSON document, exactly as it will be stored."""


# --- value-dated selection ---------------------------------------------------------------------


def _missed(index: int, value_on: dt.date, stated: Sequence[S.StatedPeriod]) -> bool:
    """Whether an earlier statement covering ``value_on`` was issued before entry ``index``
    was recorded: the entry is late, and the next statement lists it."""
    return any(s.period_from <= value_on < s.period_to and s.end <= index for s in stated)


async def _statement_entries(
    conn: asyncpg.Connection,
    org_id: int,
    rows: Sequence[S.EntryRow],
    names: EntryNames,
    targets: dict[int, StatementEntry],
) -> list[StatementEntry]:
    """Entries as the statement shows them; the entries that corrections among them reverse
    are read once, into ``targets``."""
    decoded = [(r.index, r.kind, r.created_at, _decode(r.body)["body"]) for r in rows]
    corrected = {b["corrects"] for _, kind, _, b in decoded if kind == kinds.CORRECTION}
    missing = sorted(
        corrected.difference(targets, (i for i, k, _, _ in decoded if k in kinds.MOVEMENTS))
    )
    for first in range(0, len(missing), CHUNK):
        for r in await S.entries_at(conn, org_id, missing[first : first + CHUNK]):
            body = _decode(r.body)["body"]
            targets[r.index] = statement_entry(r.index, r.kind, r.created_at, body, names, {})
    found = []
    for index, kind, time, body in decoded:
        entry = statement_entry(index, kind, time, body, names, targets)
        if kind in kinds.MOVEMENTS:
            targets[index] = entry
        found.append(entry)
    return found


async def _value_dated(
    conn: asyncpg.Connection,
    org_id: int,
    request: StatementRequest,
    start: int,
    end: int,
    stated: Sequence[S.StatedPeriod],
    names: EntryNames,
) -> tuple[list[StatementEntry], list[StatementEntry]]:
    """The statement's entries and its late entries (see ``StatementData``)."""
    fund, beneficiary = request.fund, request.beneficiary
    targets: dict[int, StatementEntry] = {}
    entries: list[StatementEntry] = []
    async for rows in S.entries_by_value(conn, org_id, request.from_, request.to, end, CHUNK):
        for entry in await _statement_entries(conn, org_id, rows, names, targets):
            if in_scope(entry, fund, beneficiary):
                entries.append(entry)
    late_rows = [
        r
        for r in await S.entries_recorded_outside(
            conn, org_id, start, end, request.from_, request.to
        )
        if r.value_on is not None and _missed(r.index, r.value_on, stated)
    ]
    late = [
        e
        for e in await _statement_entries(conn, org_id, late_rows, names, targets)
        if in_scope(e, fund, beneficiary)
    ]
    if fund is None and beneficiary is None:  # log events recorded since the last statement
        events = await S.events_range(conn, org_id, start, end)
        entries += await _statement_entries(conn, org_id, events, names, targets)
    return link_corrections(entries), link_corrections(late)


# --- gathering a statement ---------------------------------------------------------------------


async def _recipient_words(
    conn: asyncpg.Connection,
    org_id: int,
    entries: Sequence[StatementEntry],
    end: int,
    calendar: Calendar,
) -> dict[int, RecipientWord]:
    """What the recipients of the listed disbursements signed in entries below ``end``, by
    disbursement index; each dated by the local day the log recorded it."""
    disbursed = [e.index for e in entries if e.kind == kinds.DISBURSEMENT]
    words = {}
    for first in range(0, len(disbursed), CHUNK):
        for w in await S.recipient_words(conn, org_id, disbursed[first : first + CHUNK], end):
            words[w.disbursement] = RecipientWord(
                w.entry_idx, w.verdict, calendar.today(w.recorded_at), w.received
            )
    return words


def check_request(request: StatementRequest, now: dt.datetime, calendar: Calendar) -> None:
    if request.from_ >= request.to:
        raise RuleError(
            f"expected 'from' before 'to', got {request.from_.isoformat()} and "
            f"{request.to.isoformat()}: 'to' is the first day after the period"
        )
    if request.from_ > calendar.today(now):
        raise RuleError(
            f"the period starting {request.from_.isoformat()} has not begun yet in "
            f"{calendar.time_zone}"
        )
    if request.to <= calendar.books_open:
        raise RuleError(
            f"the period ending {request.to.isoformat()} is over before the books open "
            f"({calendar.books_open.isoformat()}): no entry can have a value date in it; "
            f"expected 'to' after {calendar.books_open.isoformat()}"
        )
    if request.fund is not None and request.beneficiary is not None:
        raise RuleError("a statement covers one fund or one beneficiary, not both")


def _balances(rows: list[tuple[str, str, int]], accounts: set[str] | None) -> tuple:
    return tuple(
        StatementBalance(account=a, currency=c, amount=v)
        for a, c, v in rows
        if accounts is None or a in accounts
    )


async def gather(
    store: Store,
    org: Organization,
    kek: bytes,
    request: StatementRequest,
    *,
    now: dt.datetime,
    public_url: str,
) -> Gathered:
    """Everything the statement prints, read from one snapshot of the log, plus the
    checkpoint that covers it and the consistency proof to the previous statement."""
    fund, beneficiary = request.fund, request.beneficiary
    async with (
        store.connection() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        calendar = await P.org_calendar(conn, org)
        check_request(request, now, calendar)
        head = await store.read_head(conn, org.id)
        end = head.size
        stated = await S.statements_of_scope(conn, org.id, fund, beneficiary)
        start = stated[-1].end if stated else 0
        funds = await S.funds_as_of(conn, org.id, end)
        versions = await S.beneficiary_versions(conn, org.id, end)
        if fund is not None and fund not in {f.code for f in funds}:
            raise RuleError(f"no fund {fund!r} in {org.slug} at the end of the period")
        if beneficiary is not None and beneficiary not in {v.code for v in versions}:
            raise RuleError(
                f"no beneficiary {beneficiary!r} in {org.slug} at the end of the period"
            )
        totals = await S.fund_totals_as_of(conn, org.id, end)
        standing = await compliance.read(conn, org.id, end)
        opening = await P.balances_by_value_date(conn, org.id, end, request.from_)
        closing = await P.balances_by_value_date(conn, org.id, end, request.to)
        latest = await S.latest_statement(conn, org.id)
        names = EntryNames(
            [(f.code, f.name) for f in funds],
            [(v.code, v.entry_idx, v.name) for v in versions],
        )
        entries, late = await _value_dated(conn, org.id, request, start, end, stated, names)
        # The recipients' word as of ``end``: an acknowledgment recorded later is not in
        # this statement (the next one shows it), so an issued statement never changes.
        recipients_as_of = min(request.to - dt.timedelta(days=1), calendar.today(now))
        words = await _recipient_words(conn, org.id, [*entries, *late], end, calendar)
        entries = with_recipients(entries, words, recipients_as_of)
        late = with_recipients(late, words, recipients_as_of)

    accounts = None
    if fund is not None:
        accounts = {f"fund:{fund}"}
    elif beneficiary is not None:
        accounts = {f"beneficiary:{beneficiary}"}
    cumulative: dict[tuple[str, str], int] = {}
    for r in totals:
        key = (r.fund, r.kind)
        cumulative[key] = cumulative.get(key, 0) + r.amount
    latest_names: dict[str, BeneficiaryInfo] = {}
    for v in versions:
        latest_names[v.code] = BeneficiaryInfo(v.code, v.name, v.city)

    cp = await store.checkpoint_covering(org.id, end)
    if cp is None:
        cp = await publish(store, org, kek)
    # The checkpoint as served, with the witness cosignatures it has when the statement is issued.
    note = await cosigned_note(store, org.id, cp)
    checkpoint = CheckpointInfo(cp.size, base64.b64encode(cp.root).decode(), note)
    previous = consistency = None
    if latest is not None:
        previous = PreviousStatement(
            latest.id,
            CheckpointInfo(latest.tree_size, base64.b64encode(latest.root).decode(), latest.note),
        )
        old, new = sorted((latest.tree_size, cp.size))
        proof = await consistency_proof(store, org, old, new)
        consistency = ConsistencyInfo(old, new, tuple(base64.b64encode(h).decode() for h in proof))
    number = latest.id + 1 if latest is not None else 1
    exponents = _recorded_exponents(org, funds)
    currencies = {f.currency for f in funds} | {c for _, c, _ in opening + closing}
    currencies |= {e.currency for e in [*entries, *late] if e.currency}
    data = StatementData(
        number=number,
        org_name=org.name,
        org_slug=org.slug,
        origin=org.origin,
        period_from=request.from_,
        period_to=request.to,
        fund_scope=fund,
        beneficiary_scope=beneficiary,
        provisional=calendar.midnight(request.to) > now,
        start=start,
        end=end,
        checkpoint=checkpoint,
        previous=previous,
        consistency=consistency,
        opening=_balances(opening, accounts),
        closing=_balances(closing, accounts),
        entries=entries,
        funds=tuple(
            FundInfo(
                f.code,
                f.name,
                f.currency.strip(),
                f.fee_cap_bps,
                cumulative.get((f.code, kinds.DONATION), 0),
                cumulative.get((f.code, kinds.FEE), 0),
                compliance.period_permit(
                    standing.funds.get(f.code) or compliance.Standing(f.code),
                    request.from_,
                    request.to - dt.timedelta(days=1),
                ),
            )
            for f in funds
        ),
        beneficiaries=tuple(latest_names[c] for c in sorted(latest_names)),
        minor_units={c: exponents[c] for c in sorted(currencies)},
        verify_url=f"{public_url}/orgs/{org.slug}/statements/{number}",
        late_entries=late,
        time_zone=calendar.time_zone,
        recipients_as_of=recipients_as_of,
    )
    try:
        statement_totals = compute_totals(data)
    except ReportDataError as exc:
        raise LedgerError(f"statement of {org.slug} refused: {exc}") from exc
    document = statement_document(data, statement_totals, now)
    return Gathered(_with_attachments(data, document), statement_totals, document)


def _recorded_exponents(org: Organization, funds: Sequence[S.StatementFund]) -> dict[str, int]:
    """Currency → the exponent its funds' entries recorded. A statement writes each currency
    one way, so two funds of one currency that recorded different exponents (possible only
    if ISO 4217 changed one between their creations) make the statement refuse."""
    found: dict[str, int] = {}
    for f in funds:
        currency = f.currency.strip()
        exponent = recorded_minor_units(f.minor_units, currency)
        if found.setdefault(currency, exponent) != exponent:
            raise LedgerError(
                f"statement of {org.slug} refused: funds in {currency} recorded different "
                f"exponents ({found[currency]} and {exponent}); issue one statement per fund"
            )
    return found


def _with_attachments(data: StatementData, document: bytes) -> StatementData:
    files = [(f"statement-{data.number}.json", document, "json")]
    notes = {data.checkpoint.size: data.checkpoint.note}
    if data.previous is not None:
        notes[data.previous.checkpoint.size] = data.previous.checkpoint.note
    files += [
        (f"checkpoint-{size}.txt", note.encode(), "checkpoint") for size, note in notes.items()
    ]
    if data.consistency is not None:
        c = data.consistency
        text = "".join(line + "\n" for line in c.proof).encode()
        files.append((f"consistency-{c.old_size}-{c.new_size}.txt", text, "proof"))
    return replace(data, attachments=tuple(files))


# --- rendering, signing, issuing ---------------------------------------------------------------


def render_and_sign(
    gathered: Gathered, signer: documents.DocumentSigner, org: Organization, now: dt.datetime
) -> dict[str, bytes]:
    """Both languages, rendered and PAdES-signed (blocking: call in a worker thread)."""
    signed = {}
    for lang, reason in (("id", "Laporan keuangan publik"), ("en", "Public financial statement")):
        pdf = render_statement(gathered.data, lang, now=now, totals=gathered.totals)
        signed[f"pdf-{lang}"] = sign_pdf(
            pdf,
            signer.cert_der,
            signer.key_der,
            reason=f"{reason} {gathered.data.number}",
            location=org.origin,
            signing_time=now,
        )
    return signed


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def issued_body(gathered: Gathered, files: dict[str, bytes]) -> StatementIssuedBody:
    d = gathered.data
    return StatementIssuedBody(
        statement=d.number,
        scope=StatementScope(fund=d.fund_scope, beneficiary=d.beneficiary_scope),
        from_=d.period_from,
        to=d.period_to,
        start=d.start,
        end=d.end,
        checkpoint_size=d.checkpoint.size,
        checkpoint_root=d.checkpoint.root_b64,
        previous=d.previous.number if d.previous else None,
        provisional=d.provisional,
        sha256=StatementHashes(
            json=_sha(files["json"]), pdf_en=_sha(files["pdf-en"]), pdf_id=_sha(files["pdf-id"])
        ),
    )


async def issue(
    services: Any,
    org: Organization,
    request: StatementRequest,
    key: str,
    digest: bytes,
    *,
    now: dt.datetime | None = None,
) -> Reply:
    """Issue a statement once per Idempotency-Key: gather, render and sign, then append
    ``statement.issued`` and store the documents in one transaction."""
    previous = await replay(services, org, key, digest)
    if previous is not None:
        return previous
    now = now or services.clock()
    services.inflight.claim(org.id, key)
    try:
        store: Store = services.store
        gathered = await gather(
            store, org, services.kek, request, now=now, public_url=services.settings.signed_link_base()
        )
        signer = await documents.document_signer(store, org, services.kek)
        files = await asyncio.to_thread(render_and_sign, gathered, signer, org, now)
        files["json"] = gathered.json
        body = issued_body(gathered, files)
        response = await _commit(
            store, org, gathered.data, body, files, now, key, digest, services.clock
        )
    finally:
        services.inflight.release(org.id, key)
    return Reply(201, response)


async def _commit(
    store: Store,
    org: Organization,
    data: StatementData,
    body: StatementIssuedBody,
    files: dict[str, bytes],
    now: dt.datetime,
    key: str,
    digest: bytes,
    clock: Clock,
) -> bytes:
    names = sorted(files)
    command = Command.of(body)
    try:
        async with store.connection() as conn, conn.transaction():
            [outcome] = await append_batch(
                store,
                conn,
                org,
                [Intent(command.kind, command.body, command)],
                policy=CharityPolicy(clock),
                clock=clock,
            )
            if isinstance(outcome, LedgerError):
                raise outcome
            hashes = {n: hashlib.sha256(files[n]).digest() for n in names}
            row = _row_of(data, outcome.index, now, hashes)
            await S.insert_statement(
                conn,
                org.id,
                row,
                [S.StatementDocument(n, DOCUMENTS[n], hashes[n], files[n]) for n in names],
            )
            response = msgspec.json.encode(_view(org, row))
            await P.insert_idempotency(conn, org.id, key, digest, 201, response)
            # Commit point: the statement.issued entry, the statement row, its documents
            # and the Idempotency-Key become visible together. A crash before it leaves
            # nothing: no entry points at documents that are not stored.
    except asyncpg.UniqueViolationError as exc:
        raise ConflictError(
            f"statement {data.number} of {org.slug} (or this Idempotency-Key) was recorded by "
            "another request at the same time; nothing was recorded by this one, retry"
        ) from exc
    return response


# --- reading stored statements -----------------------------------------------------------------


def _row_of(
    data: StatementData, entry_idx: int, now: dt.datetime, hashes: dict[str, bytes]
) -> S.StatementRow:
    """The stored metadata of the statement ``data`` describes."""
    return S.StatementRow(
        data.number,
        entry_idx,
        data.previous.number if data.previous else None,
        data.period_from,
        data.period_to,
        data.fund_scope,
        data.beneficiary_scope,
        data.start,
        data.end,
        data.checkpoint.size,
        base64.b64decode(data.checkpoint.root_b64),
        data.provisional,
        now,
        hashes,
    )


def _view(org: Organization, row: S.StatementRow) -> StatementView:
    base = f"/v1/orgs/{org.slug}/statements/{row.id}"
    return StatementView(
        id=row.id,
        entry_index=row.entry_idx,
        issued_at=row.issued_at,
        from_=row.period_from,
        to=row.period_to,
        scope=StatementScope(fund=row.fund, beneficiary=row.beneficiary),
        start=row.start,
        end=row.end,
        checkpoint_size=row.checkpoint_size,
        checkpoint_root=base64.b64encode(row.checkpoint_root).decode(),
        previous=row.previous_id,
        provisional=row.provisional,
        sha256=StatementHashes(
            json=row.hashes["json"].hex(),
            pdf_en=row.hashes["pdf-en"].hex(),
            pdf_id=row.hashes["pdf-id"].hex(),
        ),
        pdf_id_url=f"{base}/pdf?lang=id",
        pdf_en_url=f"{base}/pdf?lang=en",
        json_url=f"{base}/json",
        csv_url=f"{base}/csv",
    )


async def list_statements(
    store: Store, org: Organization, after: int, limit: int
) -> list[StatementView]:
    """Statements numbered above ``after``, oldest first (at most ``limit``)."""
    async with store.connection() as conn:
        rows = await S.statements_after(conn, org.id, after, 2**62, limit)
    return [_view(org, r) for r in rows]


async def statement(store: Store, org: Organization, number: int) -> StatementView:
    async with store.connection() as conn:
        rows = await S.statements_after(conn, org.id, number - 1, number, 1)
    if not rows:
        raise NotFoundError(f"no statement {number} in {org.slug}")
    return _view(org, rows[0])


async def document(store: Store, org: Organization, number: int, name: str) -> tuple[str, bytes]:
    """A stored document (``pdf-id``, ``pdf-en`` or ``json``): media type and exact bytes."""
    async with store.connection() as conn:
        found = await S.statement_document(conn, org.id, number, name)
    if found is None:
        raise NotFoundError(f"no statement {number} in {org.slug}")
    return found.media_type, found.content


async def csv_source(store: Store, org: Organization, number: int) -> tuple[str, Iterator[bytes]]:
    """The statement as CSV, derived from its stored JSON: a strong ETag (the JSON never
    changes, so neither does the CSV) and the pieces to stream."""
    _, content = await document(store, org, number, "json")
    doc = await asyncio.to_thread(_decode_document, content)
    # "-csv2": the columns grew (recipient statuses); a cached older CSV is not this one.
    etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '-csv2"'
    return etag, (piece.encode() for piece in csv_lines(doc))
