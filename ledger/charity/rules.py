"""The charity domain's rules, checked atomically with the append.

``CharityPolicy`` plugs into the group-commit writer (``ledger.journal.appender.BatchPolicy``). Its
``admit`` runs while the log head is locked, so the state it reads (funds, beneficiaries,
balances, references, idempotency keys, corrections) cannot change under it: a disbursement
that would overdraw a fund is refused even when many race, and two identical retries never
both get in. It refuses single intents without failing the batch. ``after_insert`` writes
the projections, postings, donor records and idempotency records of the batch in the same
transaction as its entries; the database moves balances and fund totals from those rows
(migration 0012).

The rules dispatch on the type of each entry's body (``schemas.entries``: a Struct per
kind), never on the kind's name: ``_needs`` says what a body needs read, ``_check`` has a
case per kind and ``_rows_for`` one per kind with projection rows. A new kind is one Struct
and its case in ``_check`` (and in ``_rows_for`` if it has rows).
"""

from __future__ import annotations

from binascii import b2a_base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, assert_never

import asyncpg
import msgspec

from ledger.charity import compliance
from ledger.clock import Clock, system_clock
from ledger.errors import (
    AlreadyAcknowledgedError,
    AlreadyCorrectedError,
    AlreadyExistsError,
    AlreadyRecorded,
    AlreadyWithdrawnError,
    AmilCapError,
    ClassificationError,
    CurrencyMismatchError,
    DuplicateReferenceError,
    EarmarkError,
    EvidenceLinkError,
    FeeCapError,
    IdempotencyInFlightError,
    IdempotencyMismatchError,
    InvalidInputError,
    LedgerError,
    NotCorrectableError,
    NotEnrolledError,
    NotPublishedError,
    OverdraftError,
    PermitLapsedError,
    RecipientSignatureError,
    RuleError,
    UnknownBeneficiaryError,
    UnknownFundError,
)
from ledger.formats import acknowledgment, valuedates
from ledger.formats.canonical import format_time
from ledger.formats.postings import Line, fund_account, postings_for
from ledger.journal.appender import Appended, Intent, OneCall
from ledger.messages import Money, Term
from ledger.store import charity as P
from ledger.store import compliance as S
from ledger.store import gateways as G
from ledger.store import publication as PUB
from ledger.store import recipients as R
from ledger.store.log import Organization, insert_rows
from schemas import kinds
from schemas.charity import (
    BeneficiaryBody,
    BeneficiaryRegistered,
    BeneficiaryUpdated,
    CorrectionBody,
    DisbursementBody,
    DonationBody,
    DonorErasedBody,
    EvidenceBody,
    EvidencePublishedBody,
    EvidenceWithdrawnBody,
    FeeBody,
    FundBody,
    OrgSettingsBody,
    Recorded,
    TransferBody,
)
from schemas.compliance import (
    FundClassifiedBody,
    FundPermitBody,
    OrgProfileBody,
    permit_problem,
)
from schemas.entries import EntryBody, MoneyBody, decode_body, kind_and_builtins
from schemas.log import (
    ApiKeyIssued,
    ApiKeyRevoked,
    Event,
    KeyRetired,
    KeyRotated,
    LogCreated,
    StaffAdded,
    StaffChanged,
)
from schemas.money import recorded_minor_units
from schemas.recipients import (
    AcknowledgedBody,
    BeneficiaryKeyBody,
    DisputedBody,
    RecipientStatementBody,
)
from schemas.statements import StatementIssuedBody
from schemas.targets import FundTargetBody, target_problem

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class DonorPrivate:
    """Donor personal data for ``donor_records`` (never in the log)."""

    email_lookup: bytes | None
    """Hash of the normalized email, for erasure requests."""
    phone_lookup: bytes | None
    """Hash of the normalized phone number, for erasure requests."""
    salt: bytes
    """Commitment salt."""
    personal: dict[str, str]
    """The personal data committed to."""


@dataclass
class Command:
    """One write, as the policy sees it (the Intent's context).

    The write handlers make it from a body Struct (:meth:`of`). Made from a kind and
    builtins (a restore, a tool; an ``org.settings`` change, which the calendar's rule
    completes first), its Struct is decoded when the rules first need it (:meth:`typed`)."""

    kind: str
    """Entry kind: the tag of the body's Struct."""
    body: dict[str, Any]
    """Entry body as builtins, without the tag: what the log hashes. The rules may complete
    it under the head lock (a beneficiary's version, a correction's value date, the
    calendar members an ``org.settings`` change leaves out)."""
    idem_key: str | None = None
    """Idempotency-Key, recorded atomically with the entry."""
    request_hash: bytes | None = None
    """Hash of the request, stored with the key."""
    donor: DonorPrivate | None = None
    """Donor record to store with a donation."""
    status: int = 201
    """Status of the response."""
    evidence: bytes | None = field(default=None, repr=False)
    """An evidence file stored in the same transaction as its ``evidence.attached`` entry."""
    entry: EntryBody | None = field(default=None, repr=False)
    """``body`` as its Struct (``schemas.entries``), which the rules dispatch on; None until
    :meth:`typed` decodes it."""
    value_time: datetime | None = None
    """When the money moved, for an entry whose value date is that moment's local date (a
    gateway's settlement time): the calendar's rule sets the value date from it under the
    head lock, in the organization's time zone in force there."""
    inbox: G.NotificationRow | None = field(default=None, repr=False)
    """A gateway notification to keep in ``gateway_notifications`` in the same transaction
    as this entry (``ledger.ingest.payments``)."""
    refunds_known: bool = False
    """Set under the head lock when ``inbox`` is kept: whether a refund of the same payment
    was kept already (its caller then reconciles the payment)."""

    @classmethod
    def of(
        cls,
        entry: EntryBody,
        idem_key: str | None = None,
        request_hash: bytes | None = None,
        *,
        donor: DonorPrivate | None = None,
        evidence: bytes | None = None,
    ) -> Command:
        """The command that appends ``entry``: its kind is the Struct's tag. (The fields
        are passed by position: the write path makes one per donation.)"""
        kind, body = kind_and_builtins(entry)
        return cls(kind, body, idem_key, request_hash, donor, 201, evidence, entry)

    @classmethod
    def decoded(cls, kind: str, body: dict[str, Any], **context: Any) -> Command:
        """The command that appends ``body`` (builtins, whole) as an entry of ``kind``,
        decoded now: ``InvalidInputError`` when it is not a body of that kind."""
        command = cls(kind, body, **context)
        command.typed()
        return command

    def typed(self) -> EntryBody:
        """The body's Struct, decoded from ``body`` the first time it is needed. A body that
        is not one of its kind, or a kind the log does not know, is refused with
        ``InvalidInputError`` carrying msgspec's message (the member at fault, or
        ``Invalid value '<kind>' - at `$.kind```)."""
        entry = self.entry
        if entry is None:
            try:
                entry = self.entry = decode_body(self.kind, self.body)
            except msgspec.ValidationError as exc:
                raise InvalidInputError(
                    f"expected a body of an entry of kind {self.kind!r}: {exc}"
                ) from exc
        return entry

    def complete(self, **members: Any) -> None:
        """Set body members the rules fill in, in ``body`` and in the Struct alike (values
        that are the same in both forms: integers, strings)."""
        self.body.update(members)
        if self.entry is not None:
            self.entry = msgspec.structs.replace(self.entry, **members)


def command_of(intent: Intent) -> Command:
    """The intent's command. One made from the intent's own kind and body (a restore, a
    tool that gives no context) is kept on the intent: decoded once per batch."""
    command = intent.context
    if command is None:
        command = intent.context = Command(intent.kind, intent.body)
    return command


def _decodable(c: Command) -> EntryBody | None:
    """``c``'s Struct, or None while its body is not whole yet (an ``org.settings``
    change: the calendar's rule completes it) or not valid (``_check`` refuses it)."""
    try:
        return c.typed()
    except InvalidInputError:
        return None


def recorded(appended: Appended, time_text: str | None = None) -> Recorded:
    """What a write answers for one entry (``time_text``: its time, already formatted)."""
    return Recorded(
        index=appended.index,
        kind=appended.kind,
        time=time_text or format_time(appended.created_at),
        entry_hash=b2a_base64(appended.entry_hash, newline=False).decode(),
        leaf_hash=b2a_base64(appended.leaf_hash, newline=False).decode(),
    )


def join_recorded(responses: Sequence[bytes]) -> bytes:
    """``BatchRecorded(recorded=[...])`` as JSON, from the entries' encoded ``Recorded``
    (the bytes msgspec would write for the whole struct, without encoding each twice)."""
    return b'{"recorded":[' + b",".join(responses) + b"]}"


@dataclass
class _State:
    """What admit knows, updated as it walks the batch in order."""

    funds: dict[str, P.FundRow]
    beneficiaries: dict[str, P.BeneficiaryRow]
    balances: dict[tuple[str, str], int]
    references: set[str]
    keys: dict[str, P.IdempotencyRow]
    targets: dict[int, P.MoneyRow]
    target_lines: dict[int, list[Line]]
    totals: dict[str, dict[str, int]]
    calendar: valuedates.Calendar | None = None
    """The organization's calendar, read with the lookups (migration 0015)."""
    corrected: set[int] = field(default_factory=set)
    new_funds: set[str] = field(default_factory=set)
    disbursed: dict[int, R.DisbursementFacts] = field(default_factory=dict)
    """The disbursements the batch's acknowledgments and disputes are about."""
    recipient_keys: dict[str, R.BeneficiaryKey] = field(default_factory=dict)
    """Each enrolled beneficiary's current key (those the batch needs)."""
    acknowledged: set[int] = field(default_factory=set)
    """Disbursements acknowledged or disputed in this batch."""
    org: Organization | None = None
    """The organization (its origin and slug are in every acknowledgment message)."""
    standings: dict[str, compliance.Standing] = field(default_factory=dict)
    """The classes and permits of the funds the batch touches (``fund.classified``,
    ``fund.permit``; migration 0023)."""
    amil: dict[str, int] = field(default_factory=dict)
    """What each zakat fund that the batch moves to an amil fund gave amil funds so far."""
    amil_cap_bps: int = compliance.DEFAULT_AMIL_CAP_BPS
    """The organization's amil cap (``org.profile``), read when the batch needs it."""
    evidence: PUB.EvidenceLinks = field(default_factory=PUB.EvidenceLinks)
    """The evidence entries of the disbursements whose evidence the batch publishes, and
    those naming the files it would publish (read only for such batches)."""
    named_kinds: dict[int, str] = field(default_factory=dict)
    """The kind of each entry the batch's withdrawals name (read only for such batches)."""
    withdrawn: dict[int, int] = field(default_factory=dict)
    """Published entry → the index of its withdrawal (-1: withdrawn by this batch)."""

    def standing(self, code: str) -> compliance.Standing:
        found = self.standings.get(code)
        if found is None:
            fund = self.funds.get(code)
            found = self.standings[code] = compliance.Standing(
                code, earmarked=bool(fund is not None and fund.earmark)
            )
        return found

    def is_amil_transfer(self, entry: TransferBody) -> bool:
        """A transfer of the amil share: from a zakat fund into an amil fund (PSAK 109)."""
        return (
            self.standing(entry.from_fund).zakat_class == "zakat"
            and self.standing(entry.to_fund).zakat_class == "amil"
        )

    def balance(self, code: str, currency: str) -> int:
        return self.balances.get((fund_account(code), currency), 0)

    def count(self, fund: str, kind: str, delta: int) -> None:
        """Keep the fee-cap totals of this batch current (only funds that have them loaded)."""
        if fund in self.totals:
            totals = self.totals[fund]
            totals[kind] = totals.get(kind, 0) + delta

    def post(self, lines: list[Line]) -> None:
        for line in lines:
            key = (line.account, line.currency)
            self.balances[key] = self.balances.get(key, 0) + line.amount


def _needs(commands: Sequence[Command]) -> dict[str, set]:
    need: dict[str, set] = {
        k: set() for k in ("funds", "bens", "refs", "keys", "targets", "acks", "recipients")
    }
    for c in commands:
        if c.idem_key:
            need["keys"].add(c.idem_key)
        entry = _decodable(c)
        match entry:
            case DonationBody():
                need["funds"].add(entry.fund)
                need["refs"].add(entry.reference)
            case FundBody():
                need["funds"].add(entry.code)
                if entry.earmark is not None and entry.earmark.beneficiary:
                    need["bens"].add(entry.earmark.beneficiary)
            case BeneficiaryBody():
                need["bens"].add(entry.code)
            case DisbursementBody():
                need["funds"].add(entry.fund)
                need["bens"].add(entry.beneficiary)
            case TransferBody():
                need["funds"].update((entry.from_fund, entry.to_fund))
            case FeeBody():
                need["funds"].add(entry.fund)
            case CorrectionBody():
                need["targets"].add(entry.corrects)
            case EvidenceBody() | EvidencePublishedBody():
                need["targets"].add(entry.disbursement)
            case FundClassifiedBody() | FundPermitBody() | FundTargetBody():
                need["funds"].add(entry.fund)
            case BeneficiaryKeyBody():
                need["bens"].add(entry.beneficiary)
                need["recipients"].add(entry.beneficiary)
            case RecipientStatementBody():
                need["acks"].add(entry.disbursement)
                need["recipients"].add(entry.beneficiary)
    return need


def _lookup_args(need: dict[str, set], extra_funds: Iterable[str] = ()) -> tuple[list[str], ...]:
    fund_codes = sorted(need["funds"] | set(extra_funds))
    return P.lookup_args(
        funds=fund_codes,
        beneficiaries=sorted(need["bens"]),
        accounts=[fund_account(f) for f in fund_codes],
        references=sorted(need["refs"]),
        keys=sorted(need["keys"]),
    )


async def _load(
    conn: asyncpg.Connection,
    org: Organization,
    commands: Sequence[Command],
    read: str | None = None,
) -> _State:
    """What admitting ``commands`` needs; ``read`` is ``admit_lookups``'s answer when the
    writer already read it with the head lock (``CharityPolicy.reads``, which asks for it
    only when the batch corrects nothing)."""
    org_id = org.id
    targets: dict[int, P.MoneyRow] = {}
    lines: dict[int, list[Line]] = {}
    disbursed: dict[int, R.DisbursementFacts] = {}
    recipient_keys: dict[str, R.BeneficiaryKey] = {}
    if read is not None:
        found = P.decode_lookups(read)
    else:  # the entries a batch corrects decide which funds it touches: look them up first
        need = _needs(commands)
        if need["targets"]:
            targets = await P.money_entries(conn, org_id, need["targets"])
            lines = await P.postings_of(conn, org_id, need["targets"])
        extra = {t.fund for t in targets.values()}
        extra |= {
            t.counterparty for t in targets.values() if t.kind == kinds.TRANSFER and t.counterparty
        }
        found = await P.admit_lookups(conn, org_id, _lookup_args(need, extra))
        if need["acks"]:
            disbursed = await R.disbursements(conn, org_id, need["acks"])
        if need["recipients"]:
            recipient_keys = await R.current_keys(conn, org_id, need["recipients"])
    standings = compliance.standings(
        {code: f.earmark for code, f in found.funds.items()}, found.compliance
    )
    fee_funds = {e.fund for e in map(_decodable, commands) if isinstance(e, FeeBody)}
    zakat_funds = {
        e.from_fund
        for e in map(_decodable, commands)
        if isinstance(e, TransferBody)
        and e.from_fund in standings
        and standings[e.from_fund].zakat_class == "zakat"
        and e.to_fund in standings
        and standings[e.to_fund].zakat_class == "amil"
    }
    amil: dict[str, int] = {}
    amil_cap_bps = compliance.DEFAULT_AMIL_CAP_BPS
    if zakat_funds:  # the amil share (PSAK 109): what the zakat funds gave and raised
        every = await S.compliance_entries(conn, org_id)
        amil_cap_bps = compliance.amil_cap_bps(every.profile)
        amil_funds = sorted(
            code
            for code, st in compliance.standings({}, every.funds).items()
            if st.zakat_class == "amil"
        )
        for code in sorted(zakat_funds):
            amil[code] = await S.amil_taken(conn, org_id, code, amil_funds)
    published = [e for e in map(_decodable, commands) if isinstance(e, EvidencePublishedBody)]
    evidence = PUB.EvidenceLinks()
    if published:  # what is attached to those disbursements, and what names those files
        evidence = await PUB.evidence_links(
            conn,
            org_id,
            sorted({e.disbursement for e in published}),
            sorted({e.sha256 for e in published}),
        )
    named_kinds: dict[int, str] = {}
    withdrawn: dict[int, int] = {}
    taken = {e.published for e in map(_decodable, commands) if isinstance(e, EvidenceWithdrawnBody)}
    if taken:  # what the withdrawals name, and whether it was withdrawn already
        named_kinds = await PUB.entry_kinds(conn, org_id, sorted(taken))
        found_withdrawals = await PUB.withdrawals(conn, org_id, sorted(taken))
        withdrawn = {i: w.index for i, w in found_withdrawals.items()}
    totals: dict[str, dict[str, int]] = {}
    if fee_funds | zakat_funds:  # what else the batch does to those funds counts too
        totals = await P.fund_totals(conn, org_id, fee_funds | zakat_funds)
        totals.update({f: totals.get(f, {}) for f in fee_funds | zakat_funds})
    return _State(
        funds=found.funds,
        beneficiaries=found.beneficiaries,
        balances=found.balances,
        references=found.references,
        keys=found.keys,
        targets=targets,
        target_lines=lines,
        totals=totals,
        calendar=found.calendar,
        disbursed=disbursed,
        recipient_keys=recipient_keys,
        org=org,
        standings=standings,
        amil=amil,
        amil_cap_bps=amil_cap_bps,
        evidence=evidence,
        named_kinds=named_kinds,
        withdrawn=withdrawn,
    )


def _fund(state: _State, code: str, currency: str | None = None) -> P.FundRow:
    fund = state.funds.get(code)
    if fund is None:
        raise UnknownFundError(f"no fund {code!r} in this organization: create it first")
    if currency is not None and currency != fund.currency:
        raise CurrencyMismatchError(
            f"fund {code!r} is in {fund.currency}, got an amount in {currency}"
        )
    return fund


def _beneficiary(state: _State, code: str) -> P.BeneficiaryRow:
    found = state.beneficiaries.get(code)
    if found is None:
        raise UnknownBeneficiaryError(
            f"no beneficiary {code!r} in this organization: register it first"
        )
    return found


OVERDRAFT = (
    "{what} of {amount} ({amount_minor} minor units) would overdraw fund {fund}, "
    "whose balance is {balance} ({balance_minor} minor units)"
)
FEE_CAP = (
    "fees of {fees} ({fees_minor} minor units) would be more than {cap}% of the {raised} "
    "({raised_minor} minor units) raised by fund {fund} (its overhead cap)"
)
AMIL_CAP = (
    "the amil share taken from zakat fund {fund} would be {taken} ({taken_minor} minor "
    "units), more than {cap}% of the {raised} ({raised_minor} minor units) of zakat it "
    "collected (PSAK 109; the organization's amil cap)"
)
PERMIT_LAPSED = (
    "fund {fund} collects under fundraising permit {number} from {issuer}, valid "
    "{valid_from} to {valid_until}; a donation received on {day} is outside it (UU 9/1961, "
    "PP 29/1980): record the renewed permit first (POST …/funds/{code}/permits)"
)
EARMARKED_UNRESTRICTED = (
    "fund {fund} is earmarked, so its donors restricted it: its restriction must be "
    '"with" (ISAK 35)'
)
ZAKAT_RECEIPTS = (
    'a fund gives zakat tax receipts (tax_category "zakat") exactly when it is a zakat fund '
    '(zakat_class "zakat"); got zakat_class {zakat_class} and tax_category {tax_category}'
)
COMPLIANCE_TEMPLATES = (AMIL_CAP, PERMIT_LAPSED, EARMARKED_UNRESTRICTED, ZAKAT_RECEIPTS)
"""The compliance refusals, each with its Indonesian text in the catalog."""
EVIDENCE_NOT_ATTACHED = (
    "original: no evidence with SHA-256 {original} is attached to disbursement "
    "{disbursement}; attach the original first (POST …/disbursements/{disbursement}/evidence), "
    "then publish its redacted copy"
)
EVIDENCE_UNREDACTED = (
    "sha256: the public copy is the original file itself ({sha256}); upload the redacted "
    "copy (account numbers, signatures and faces blacked out), not the original"
)
EVIDENCE_PRIVATE = (
    "sha256: the file {sha256} is private evidence attached to disbursement {disbursement} "
    "(entry {index}); a public copy must be a redacted file of its own"
)
NOT_PUBLISHED = (
    "published: entry {index} is a {kind} entry, not a published copy of evidence "
    "(evidence.published); name the index of the evidence.published entry to withdraw"
)
NOT_IN_LOG = (
    "published: the log has no entry {index}; name the index of the evidence.published "
    "entry to withdraw"
)
ALREADY_WITHDRAWN = (
    "published: the copy published by entry {index} was already withdrawn by entry "
    "{withdrawal}; a copy is withdrawn once (publish a new redacted copy to show it again)"
)
ALREADY_WITHDRAWN_TOGETHER = (
    "published: the copy published by entry {index} is withdrawn by another request "
    "recorded together with this one; a copy is withdrawn once"
)
PUBLICATION_TEMPLATES = (
    EVIDENCE_NOT_ATTACHED,
    EVIDENCE_UNREDACTED,
    EVIDENCE_PRIVATE,
    NOT_PUBLISHED,
    NOT_IN_LOG,
    ALREADY_WITHDRAWN,
    ALREADY_WITHDRAWN_TOGETHER,
)
"""The refusals of a public copy of evidence, each with its Indonesian text in the catalog."""


def _money(state: _State, code: str, amount: int, currency: str) -> Money:
    """``amount`` for people, with the exponent fund ``code`` recorded."""
    fund = state.funds.get(code)
    return Money(amount, currency, fund.minor_units if fund is not None else 0)


def _require_funds(state: _State, code: str, currency: str, amount: int, what: str) -> None:
    have = state.balance(code, currency)
    if have < amount:
        raise OverdraftError.of(
            OVERDRAFT,
            what=Term(what),
            amount=_money(state, code, amount, currency),
            amount_minor=amount,
            fund=repr(code),
            balance=_money(state, code, have, currency),
            balance_minor=have,
        )


def _check(state: _State, c: Command) -> None:
    """Raise the reason ``c`` is refused, or update ``state`` as if it were appended: one
    case per kind of body."""
    if c.idem_key is not None and c.idem_key in state.keys:
        stored = state.keys[c.idem_key]
        if stored is None:
            raise IdempotencyInFlightError(
                f"Idempotency-Key {c.idem_key!r} was just used by another request that is "
                "being recorded; retry to receive its response"
            )
        if stored.request_hash != c.request_hash:
            raise IdempotencyMismatchError(
                f"Idempotency-Key {c.idem_key!r} was already used for a different request; "
                "use a new key for a new request"
            )
        raise AlreadyRecorded(stored.status, stored.response)
    entry = c.typed()
    match entry:
        case DonationBody():
            _fund(state, entry.fund, entry.currency)
            lapsed = state.standing(entry.fund).lapsed(entry.received_on)
            if lapsed is not None:
                raise PermitLapsedError.of(
                    PERMIT_LAPSED,
                    pointer="/received_on",
                    fund=repr(entry.fund),
                    code=entry.fund,
                    number=lapsed.number,
                    issuer=lapsed.issuer,
                    valid_from=lapsed.valid_from,
                    valid_until=lapsed.valid_until,
                    day=entry.received_on,
                )
            if entry.reference in state.references:
                raise DuplicateReferenceError(
                    f"a donation with reference {entry.reference!r} is already recorded and "
                    "not reversed; to record it again with another amount, first reverse it "
                    '(POST …/corrections {"corrects": <its index>, "reason": "…"})'
                )
            state.references.add(entry.reference)
            state.count(entry.fund, kinds.DONATION, entry.amount)
        case FundBody():
            if entry.code in state.funds:
                raise AlreadyExistsError(f"fund {entry.code!r} already exists")
            earmark = c.body.get("earmark") or {}
            if earmark.get("beneficiary"):
                _beneficiary(state, earmark["beneficiary"])
            state.funds[entry.code] = P.FundRow(
                entry.code,
                -1,
                entry.name,
                entry.currency,
                earmark or None,
                entry.fee_cap_bps,
                recorded_minor_units(entry.minor_units, entry.currency),
            )
        case BeneficiaryRegistered():
            if entry.code in state.beneficiaries:
                raise AlreadyExistsError(f"beneficiary {entry.code!r} already exists")
            state.beneficiaries[entry.code] = _beneficiary_row(entry, 1)
        case BeneficiaryUpdated():
            version = _beneficiary(state, entry.code).version + 1
            c.complete(version=version)
            state.beneficiaries[entry.code] = _beneficiary_row(entry, version)
        case DisbursementBody():
            fund = _fund(state, entry.fund, entry.currency)
            _beneficiary(state, entry.beneficiary)
            earmark = fund.earmark or {}
            if earmark.get("beneficiary") and earmark["beneficiary"] != entry.beneficiary:
                raise EarmarkError(
                    f"fund {fund.code!r} is earmarked for beneficiary "
                    f"{earmark['beneficiary']!r}, not {entry.beneficiary!r}"
                )
            if earmark.get("purpose") and earmark["purpose"] != entry.purpose:
                raise EarmarkError(
                    f"fund {fund.code!r} is earmarked for {earmark['purpose']!r}, "
                    f"not {entry.purpose!r}"
                )
            _require_funds(state, entry.fund, entry.currency, entry.amount, "a disbursement")
        case TransferBody():
            if entry.from_fund == entry.to_fund:
                raise RuleError("a transfer needs two different funds")
            _fund(state, entry.from_fund, entry.currency)
            _fund(state, entry.to_fund, entry.currency)
            _require_funds(state, entry.from_fund, entry.currency, entry.amount, "a transfer")
            if state.is_amil_transfer(entry):
                _check_amil(state, entry)
        case FeeBody():
            fund = _fund(state, entry.fund, entry.currency)
            _require_funds(state, entry.fund, entry.currency, entry.amount, "a fee")
            totals = state.totals.setdefault(entry.fund, {})
            raised = totals.get(kinds.DONATION, 0)
            fees = totals.get(kinds.FEE, 0) + entry.amount
            if fees * 10_000 > fund.fee_cap_bps * raised:
                raise FeeCapError.of(
                    FEE_CAP,
                    fees=_money(state, fund.code, fees, entry.currency),
                    fees_minor=fees,
                    cap=f"{fund.fee_cap_bps / 100:g}",
                    raised=_money(state, fund.code, raised, entry.currency),
                    raised_minor=raised,
                    fund=repr(fund.code),
                )
            totals[kinds.FEE] = fees
        case CorrectionBody():
            _check_correction(state, c, entry)
            return
        case EvidenceBody():
            target = state.targets.get(entry.disbursement)
            if target is None or target.kind != kinds.DISBURSEMENT:
                raise NotCorrectableError(f"entry {entry.disbursement} is not a disbursement")
            state.evidence.attached.append((-1, entry))
        case EvidencePublishedBody():
            _check_publication(state, entry)
        case EvidenceWithdrawnBody():
            _check_withdrawal(state, entry)
        case FundTargetBody():
            _fund(state, entry.fund, entry.currency)
            problem = target_problem(entry.amount, entry.deadline)
            if problem is not None:
                raise RuleError.of(problem, pointer="/deadline")
        case BeneficiaryKeyBody():
            _beneficiary(state, entry.beneficiary)
            current = state.recipient_keys.get(entry.beneficiary)
            replaces = current.index if current is not None else None
            if current is not None and current.index < 0:
                raise RuleError(
                    f"beneficiary {entry.beneficiary!r} enrolled a key in this same batch; "
                    "enrol again once it is recorded"
                )
            c.complete(replaces=replaces)
            state.recipient_keys[entry.beneficiary] = R.BeneficiaryKey(
                -1, entry.beneficiary, acknowledgment.decode_public_key(entry.public_key)
            )
        case AcknowledgedBody() | DisputedBody():
            _check_recipient_statement(state, entry)
        case FundClassifiedBody():
            fund = _fund(state, entry.fund)
            if fund.earmark and entry.restriction != "with":
                raise ClassificationError.of(
                    EARMARKED_UNRESTRICTED, pointer="/restriction", fund=repr(entry.fund)
                )
            if compliance.zakat_mismatch(entry):
                raise ClassificationError.of(
                    ZAKAT_RECEIPTS,
                    pointer="/tax_category",
                    zakat_class=repr(entry.zakat_class),
                    tax_category=repr(entry.tax_category),
                )
            state.standing(entry.fund).add(-1, entry)
        case FundPermitBody():
            _fund(state, entry.fund)
            problem = permit_problem(entry)
            if problem is not None:
                template, pointer, values = problem
                raise ClassificationError.of(template, pointer=pointer, **values)
            state.standing(entry.fund).add(-1, entry)
        case OrgSettingsBody() | OrgProfileBody() | DonorErasedBody() | StatementIssuedBody():
            pass  # the calendar's rule ran before (valuedates.admit); the others have none
        case LogCreated() | KeyRotated() | KeyRetired() | Event():
            pass  # the log's own entries: no charity rule
        case StaffAdded() | StaffChanged() | ApiKeyIssued() | ApiKeyRevoked():
            pass  # access changes (ledger.charity.staff): logged, no charity rule
        case _:
            assert_never(entry)
    state.post(postings_for(c.kind, c.body))
    if c.idem_key is not None:
        state.keys[c.idem_key] = None  # type: ignore[assignment]  # taken in this batch


RECIPIENT_NOT_ENROLLED = (
    "beneficiary {beneficiary} has no key in this log yet: it enrols first (a one-time link "
    "from the charity, or the recipient CLI)"
)
RECIPIENT_OLD_KEY = (
    "key entry {key} is not the current key of beneficiary {beneficiary} (entry {current} "
    "replaced it): sign with the current key"
)
RECIPIENT_SIGNATURE = (
    "the signature does not verify with the current key of beneficiary {beneficiary} "
    "over the message of disbursement {disbursement} ({verdict}, received {received})"
)
RECIPIENT_ALREADY = (
    "disbursement {disbursement} was already acknowledged or disputed by its recipient; "
    "what a recipient signed is never replaced"
)
RECIPIENT_SAME_AMOUNT = (
    "a dispute says a different amount arrived than was disbursed; the same amount is an "
    "acknowledgment"
)
RECIPIENT_TEMPLATES = (
    RECIPIENT_NOT_ENROLLED,
    RECIPIENT_OLD_KEY,
    RECIPIENT_SIGNATURE,
    RECIPIENT_ALREADY,
    RECIPIENT_SAME_AMOUNT,
)
"""The recipients' refusals, each with its Indonesian text in the catalog."""


def _check_recipient_statement(state: _State, entry: AcknowledgedBody | DisputedBody) -> None:
    """A beneficiary's acknowledgment or dispute: about a disbursement to it that nobody
    acknowledged or disputed yet, signed by its current key over the documented message
    (``ledger.formats.acknowledgment``) with the disbursement's own facts."""
    facts = state.disbursed.get(entry.disbursement)
    if facts is None:
        raise NotCorrectableError(f"entry {entry.disbursement} is not a disbursement")
    if facts.beneficiary != entry.beneficiary:
        raise RuleError(
            f"disbursement {entry.disbursement} went to beneficiary {facts.beneficiary!r}, "
            f"not {entry.beneficiary!r}"
        )
    if facts.ack_index is not None or entry.disbursement in state.acknowledged:
        raise AlreadyAcknowledgedError.of(RECIPIENT_ALREADY, disbursement=entry.disbursement)
    key = state.recipient_keys.get(entry.beneficiary)
    if key is None or key.index < 0:
        raise NotEnrolledError.of(
            RECIPIENT_NOT_ENROLLED, pointer="/key", beneficiary=repr(entry.beneficiary)
        )
    if key.index != entry.key:
        raise NotEnrolledError.of(
            RECIPIENT_OLD_KEY,
            pointer="/key",
            key=entry.key,
            beneficiary=repr(entry.beneficiary),
            current=key.index,
        )
    if isinstance(entry, DisputedBody):
        if entry.received == facts.amount:
            raise RuleError.of(RECIPIENT_SAME_AMOUNT, pointer="/received")
        verdict, received = acknowledgment.DISPUTED, entry.received
    else:
        verdict, received = acknowledgment.ACKNOWLEDGED, facts.amount
    assert state.org is not None  # set by _load
    signed = acknowledgment.message(disbursed_of(state.org, facts), verdict, received)
    try:
        acknowledgment.verify_signature(
            key.public_key, signed, acknowledgment.decode_signature(entry.signature)
        )
    except LedgerError as exc:
        raise RecipientSignatureError.of(
            RECIPIENT_SIGNATURE,
            pointer="/signature",
            beneficiary=repr(entry.beneficiary),
            disbursement=entry.disbursement,
            verdict=verdict,
            received=received,
        ) from exc
    state.acknowledged.add(entry.disbursement)


def disbursed_of(org: Organization, facts: R.DisbursementFacts) -> acknowledgment.Disbursed:
    """The facts of the acknowledgment message of a stored disbursement."""
    return acknowledgment.Disbursed(
        origin=org.origin,
        org=org.slug,
        beneficiary=facts.beneficiary,
        index=facts.index,
        leaf_hash=facts.leaf_hash,
        amount=facts.amount,
        currency=facts.currency,
        minor_units=facts.minor_units,
        paid_on=facts.paid_on.isoformat(),
    )


def _check_publication(state: _State, entry: EvidencePublishedBody) -> None:
    """A public copy of evidence: about a disbursement, linked to an original attached to it,
    and never a private original itself (that one or any other)."""
    target = state.targets.get(entry.disbursement)
    if target is None or target.kind != kinds.DISBURSEMENT:
        raise NotCorrectableError(f"entry {entry.disbursement} is not a disbursement")
    if entry.original not in state.evidence.attached_to(entry.disbursement):
        raise EvidenceLinkError.of(
            EVIDENCE_NOT_ATTACHED,
            pointer="/original",
            original=entry.original,
            disbursement=entry.disbursement,
        )
    if entry.sha256 == entry.original:
        raise EvidenceLinkError.of(EVIDENCE_UNREDACTED, pointer="/sha256", sha256=entry.sha256)
    for index, attached in state.evidence.attached:
        if attached.sha256 == entry.sha256:
            raise EvidenceLinkError.of(
                EVIDENCE_PRIVATE,
                pointer="/sha256",
                sha256=entry.sha256,
                disbursement=attached.disbursement,
                index=index,
            )
    state.evidence.published.append((-1, entry))


def _check_withdrawal(state: _State, entry: EvidenceWithdrawnBody) -> None:
    """A withdrawal names an ``evidence.published`` entry not withdrawn yet (in the log or
    earlier in the batch)."""
    kind = state.named_kinds.get(entry.published)
    if kind is None:
        raise NotPublishedError.of(NOT_IN_LOG, pointer="/published", index=entry.published)
    if kind != kinds.EVIDENCE_PUBLISHED:
        raise NotPublishedError.of(
            NOT_PUBLISHED, pointer="/published", index=entry.published, kind=kind
        )
    earlier = state.withdrawn.get(entry.published)
    if earlier == -1:
        raise AlreadyWithdrawnError.of(
            ALREADY_WITHDRAWN_TOGETHER, pointer="/published", index=entry.published
        )
    if earlier is not None:
        raise AlreadyWithdrawnError.of(
            ALREADY_WITHDRAWN, pointer="/published", index=entry.published, withdrawal=earlier
        )
    state.withdrawn[entry.published] = -1


def _check_amil(state: _State, entry: TransferBody) -> None:
    """The amil share stays within the cap of the zakat the fund collected (PSAK 109)."""
    raised = state.totals.get(entry.from_fund, {}).get(kinds.DONATION, 0)
    taken = state.amil.get(entry.from_fund, 0) + entry.amount
    if taken * 10_000 > state.amil_cap_bps * raised:
        raise AmilCapError.of(
            AMIL_CAP,
            fund=repr(entry.from_fund),
            taken=_money(state, entry.from_fund, taken, entry.currency),
            taken_minor=taken,
            cap=f"{state.amil_cap_bps / 100:g}",
            raised=_money(state, entry.from_fund, raised, entry.currency),
            raised_minor=raised,
        )
    state.amil[entry.from_fund] = taken


def _beneficiary_row(entry: BeneficiaryBody, version: int) -> P.BeneficiaryRow:
    return P.BeneficiaryRow(
        entry.code, version, -1, entry.name, entry.city, entry.province, entry.registration
    )


def _check_correction(state: _State, c: Command, entry: CorrectionBody) -> None:
    """A correction reverses one money entry that is not reversed yet, and may not overdraw
    the funds its reversal takes money from."""
    target = state.targets.get(entry.corrects)
    if target is None or target.kind == kinds.CORRECTION:
        raise NotCorrectableError(
            f"entry {entry.corrects} is not a donation, disbursement, transfer or fee: "
            "only money entries can be corrected"
        )
    if target.corrected_by is not None or entry.corrects in state.corrected:
        raise AlreadyCorrectedError(f"entry {entry.corrects} is already corrected")
    reversal = postings_for(c.kind, c.body, state.target_lines.get(entry.corrects, []))
    for line in reversal:
        if line.account.startswith("fund:") and line.amount < 0:
            code = line.account.removeprefix("fund:")
            _require_funds(state, code, line.currency, -line.amount, "this correction")
    state.corrected.add(entry.corrects)
    if target.kind == kinds.DONATION and target.reference is not None:
        state.references.discard(target.reference)  # free again (migration 0013)
    state.count(target.fund, target.kind, -target.amount)
    state.post(reversal)


class CharityPolicy:
    """The domain's BatchPolicy. ``clock`` says what "today" is for the value-date rule
    (``ledger.formats.valuedates``); give it the appender's clock."""

    def __init__(self, clock: Clock = system_clock) -> None:
        self.clock = clock

    def reads(self, org: Organization, intents: Sequence[Intent]) -> tuple[list[str], ...] | None:
        """``admit_lookups``'s arguments, for the writer to read with the head lock; None when
        the batch corrects entries (their funds are known only once they are read)."""
        need = _needs([command_of(i) for i in intents])
        if need["targets"] or need["acks"] or need["recipients"]:
            return None
        return _lookup_args(need)

    async def admit(
        self,
        conn: asyncpg.Connection,
        org: Organization,
        intents: Sequence[Intent],
        read: str | None = None,
    ) -> list[LedgerError | None]:
        admission = await self.admitter(conn, org, intents, read)
        return admission.admit(intents)

    async def admitter(
        self,
        conn: asyncpg.Connection,
        org: Organization,
        intents: Sequence[Intent],
        read: str | None = None,
    ) -> _Admission:
        """What admitting ``intents`` needs, read now; its ``admit`` then decides them in
        order, chunk by chunk (``ledger.journal.appender.Admitter``)."""
        commands = [command_of(i) for i in intents]
        state = await _load(conn, org, commands, read)
        calendar = None
        if valuedates.needs_calendar(c.kind for c in commands):
            # Read with the lookups (one round trip); a log without entry 0 has none yet.
            calendar = state.calendar or await P.org_calendar(conn, org)
        return _Admission(state, calendar, self.clock())

    async def after_insert(
        self,
        conn: asyncpg.Connection,
        org: Organization,
        appended: Sequence[tuple[Intent, Appended]],
    ) -> list[bytes]:
        await _keep_notifications(conn, org, appended)
        corrections = [
            entry.corrects
            for entry in (command_of(i).typed() for i, _ in appended)
            if isinstance(entry, CorrectionBody)
        ]
        rows = P.BatchRows.empty()
        lines_of = await P.postings_of(conn, org.id, corrections) if corrections else {}
        targets = await P.money_entries(conn, org.id, corrections) if corrections else {}
        track = bool(corrections)  # only then can an entry be the target of a later one
        responses = []
        times: dict[Any, str] = {}  # the entries of one batch share their timestamp
        for intent, entry in appended:
            responses.append(_project(rows, intent, entry, times, lines_of, targets, track))
            command = intent.context
            if command is not None and command.evidence is not None:
                b = intent.body
                await P.insert_evidence(
                    conn, org.id, bytes.fromhex(b["sha256"]), b["content_type"], command.evidence
                )
        await P.write_batch(conn, org.id, rows)
        return responses

    def in_one_call(
        self, org: Organization, appended: Sequence[tuple[Intent, Appended]]
    ) -> OneCall | None:
        """``after_insert``'s rows for ``append_batch_json`` (migration 0030), when it would
        read nothing and write only money rows, posting lines, keys, donor records and kept
        settlements: no corrections (their targets are read), no evidence files, no new
        funds or beneficiary versions."""
        commands = [command_of(i) for i, _ in appended]
        for command in commands:
            if command.evidence is not None or isinstance(command.typed(), CorrectionBody):
                return None
        rows = P.BatchRows.empty()
        times: dict[Any, str] = {}
        responses = [_project(rows, i, e, times, {}, {}, False) for i, e in appended]
        if not P.in_one_call(rows):
            return None
        inbox = [c for c in commands if c.inbox is not None]

        def extras(refunded: str) -> list[bytes]:
            # As _keep_notifications: which kept settlements' payments have a refund kept.
            with_refunds = {(g, p) for g, p in msgspec.json.decode(refunded)}
            for command in inbox:
                assert command.inbox is not None
                key = (command.inbox.gateway, command.inbox.payment_id)
                command.refunds_known = key in with_refunds
            return responses

        settlements = G.settlement_records([c.inbox for c in inbox])  # type: ignore[misc]
        return OneCall([*P.projection_rows(rows), settlements], extras)

    def projector(self, org: Organization, intents: Sequence[Intent]) -> _ChunkProjection | None:
        """A large batch without corrections or evidence (an import) is projected chunk by
        chunk with its entries (``ledger.journal.appender.ChunkProjector``); the others by
        ``after_insert``, which reads the corrected entries first."""
        for intent in intents:
            command = command_of(intent)
            if command.evidence is not None or isinstance(_decodable(command), CorrectionBody):
                return None
            if command.entry is None:  # not decodable: let after_insert say so
                return None
        return _ChunkProjection(org)


class _Admission:
    """The admission of one batch: the state its lookups read, walked in order."""

    def __init__(self, state: _State, calendar: valuedates.Calendar | None, now: datetime) -> None:
        self.state = state
        self.calendar = calendar
        self.now = now

    def admit(self, intents: Sequence[Intent]) -> list[LedgerError | None]:
        """Per intent: None to admit it, or the error that refuses it; each intent sees the
        ones before it, here and in earlier calls."""
        state, now = self.state, self.now
        verdicts: list[LedgerError | None] = []
        for command in map(command_of, intents):
            try:
                if self.calendar is not None and command.idem_key not in state.keys:
                    if command.value_time is not None:
                        _value_date_of(command, self.calendar)
                    self.calendar = valuedates.admit(command.kind, command.body, self.calendar, now)
                    match command.entry:
                        case CorrectionBody(effective_on=None) | OrgSettingsBody():
                            command.entry = None  # decoded again with what the rule set
                _check(state, command)
            except LedgerError as exc:
                verdicts.append(exc)
            else:
                verdicts.append(None)
        return verdicts


class _ChunkProjection:
    """``after_insert`` of a large batch without corrections or evidence, chunk by chunk:
    the money rows and posting lines of chunk k+1 are made while chunk k's entries and rows
    are inserted (the database moves balances and fund totals from each chunk's rows); the
    rest (keys, donors, funds, beneficiary versions) is written once at the end."""

    def __init__(self, org: Organization) -> None:
        self.org = org
        self.total = P.BatchRows.empty()
        self.responses: list[bytes] = []
        self.times: dict[Any, str] = {}

    def make(self, appended: Sequence[tuple[Intent, Appended]]) -> P.BatchRows:
        part = P.BatchRows.empty()
        for intent, entry in appended:
            self.responses.append(_project(part, intent, entry, self.times, {}, {}, False))
        self.total.merge_sums(part)
        return part

    async def write(self, conn: asyncpg.Connection, part: P.BatchRows) -> None:
        await insert_rows(conn, "insert_money_entries", self.org.id, part.money)
        await insert_rows(conn, "insert_postings", self.org.id, part.postings)

    async def finish(self, conn: asyncpg.Connection) -> list[bytes]:
        await P.write_batch(conn, self.org.id, self.total)
        return self.responses


def _value_date_of(command: Command, calendar: valuedates.Calendar) -> None:
    """Set the value date of ``command`` to the local date of its ``value_time``."""
    assert command.value_time is not None
    field_name = valuedates.VALUE_DATE_FIELDS[command.kind]
    day = calendar.today(command.value_time)
    command.body[field_name] = day.isoformat()
    if command.entry is not None:
        command.entry = msgspec.structs.replace(command.entry, **{field_name: day})


async def _keep_notifications(
    conn: asyncpg.Connection, org: Organization, appended: Sequence[tuple[Intent, Appended]]
) -> None:
    """Keep the gateway notifications the batch's entries were made from (one statement, under
    the head lock) and mark the commands whose payment has a refund kept already: a refund
    kept before this statement is seen here, and one kept after it is reconciled by its own
    request, which reads the log under the head lock, so after this batch commits."""
    commands = [c for c in (command_of(i) for i, _ in appended) if c.inbox is not None]
    if not commands:
        return
    refunded = await G.keep_settlements(conn, org.id, [c.inbox for c in commands])  # type: ignore[misc]
    for command in commands:
        assert command.inbox is not None
        command.refunds_known = (command.inbox.gateway, command.inbox.payment_id) in refunded


def _project(
    rows: P.BatchRows,
    intent: Intent,
    entry: Appended,
    times: dict[Any, str],
    lines_of: dict[int, list[Line]],
    targets: dict[int, P.MoneyRow],
    track: bool,
) -> bytes:
    """Add one appended entry's rows to ``rows``; return its encoded answer."""
    command = command_of(intent)
    _rows_for(rows, entry.index, command, lines_of, targets, track)
    time_text = times.get(entry.created_at)
    if time_text is None:
        time_text = times[entry.created_at] = format_time(entry.created_at)
    response = _encode(recorded(entry, time_text))
    if command.idem_key is not None and command.request_hash is not None:
        rows.idempotency.append((command.idem_key, command.request_hash, command.status, response))
    if command.donor is not None:
        d = command.donor
        rows.donors.append(
            (
                entry.index,
                d.email_lookup,
                d.phone_lookup,
                d.salt,
                msgspec.json.encode(d.personal).decode(),
            )
        )
    return response


def _money_parties(entry: MoneyBody) -> tuple[str, str | None, str | None]:
    """A money body's (fund, counterparty, reference), as its ``money_entries`` row has them."""
    match entry:
        case DonationBody():
            return entry.fund, None, entry.reference
        case DisbursementBody():
            return entry.fund, entry.beneficiary, entry.reference
        case TransferBody():
            return entry.from_fund, entry.to_fund, None
        case FeeBody():
            return entry.fund, None, None
        case _:
            assert_never(entry)


def _rows_for(
    rows: P.BatchRows,
    index: int,
    c: Command,
    lines_of: dict[int, list[Line]],
    targets: dict[int, P.MoneyRow],
    track: bool,
) -> None:
    """Add the projection rows of entry ``index`` (command ``c``) to ``rows``: one case per
    kind that has rows; the others have none."""
    kind, b, entry = c.kind, c.body, c.typed()
    reversed_lines = None
    match entry:
        case DonationBody() | DisbursementBody() | TransferBody() | FeeBody():
            fund, counterparty, reference = _money_parties(entry)
            currency, amount = entry.currency, entry.amount
            rows.money.append((index, kind, fund, counterparty, currency, amount, reference))
            if track:  # known to a correction later in the same batch (a restore may do that)
                targets[index] = P.MoneyRow(
                    index, kind, fund, counterparty, currency, amount, reference, None
                )
        case FundBody():
            earmark = msgspec.json.encode(b["earmark"]).decode() if b.get("earmark") else None
            rows.funds.append(
                (
                    entry.code,
                    index,
                    entry.name,
                    entry.currency,
                    earmark,
                    entry.fee_cap_bps,
                    entry.minor_units,
                )
            )
        case BeneficiaryBody():
            rows.beneficiaries.append(
                (
                    entry.code,
                    entry.version,
                    index,
                    entry.name,
                    entry.city,
                    entry.province,
                    entry.registration,
                )
            )
        case CorrectionBody():
            target = targets[entry.corrects]
            rows.money.append(
                (index, kind, target.fund, None, target.currency, target.amount, None)
            )
            rows.corrections.append((entry.corrects, index))
            reversed_lines = lines_of.get(entry.corrects)
    lines = postings_for(kind, b, reversed_lines)
    if lines and track:
        lines_of[index] = lines
    for n, line in enumerate(lines):
        rows.postings.append((index, n, line.account, line.currency, line.amount))
