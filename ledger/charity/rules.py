"""The charity domain's rules, checked atomically with the append.

``CharityPolicy`` plugs into the group-commit writer (``ledger.journal.appender.BatchPolicy``). Its
``admit`` runs while the log head is locked, so the state it reads (funds, beneficiaries,
balances, references, idempotency keys, corrections) cannot change under it: a disbursement
that would overdraw a fund is refused even when many race, and two identical retries never
both get in. It refuses single intents without failing the batch. ``after_insert`` writes
the projections, postings, donor records and idempotency records of the batch in the same
transaction as its entries; the database moves balances and fund totals from those rows
(migration 0012).
"""

from __future__ import annotations

from binascii import b2a_base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec

from ledger.clock import Clock, system_clock
from ledger.errors import (
    AlreadyCorrectedError,
    AlreadyExistsError,
    AlreadyRecorded,
    CurrencyMismatchError,
    DuplicateReferenceError,
    EarmarkError,
    FeeCapError,
    IdempotencyInFlightError,
    IdempotencyMismatchError,
    LedgerError,
    NotCorrectableError,
    OverdraftError,
    RuleError,
    UnknownBeneficiaryError,
    UnknownFundError,
)
from ledger.formats import valuedates
from ledger.formats.canonical import format_time
from ledger.formats.postings import Line, fund_account, postings_for
from ledger.journal.appender import PIPELINE_CHUNK, Appended, Intent, chunked, pipeline
from ledger.messages import Money, Term
from ledger.store import charity as P
from ledger.store.log import Organization, insert_rows
from schemas.charity import Recorded
from schemas.money import recorded_minor_units

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
    """One write, as the policy sees it (the Intent's context)."""

    kind: str
    """Entry kind."""
    body: dict[str, Any]
    """Entry body as builtins (the policy may complete it, e.g. a beneficiary's version)."""
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
    need: dict[str, set] = {k: set() for k in ("funds", "bens", "refs", "keys", "targets")}
    for c in commands:
        b = c.body
        if c.idem_key:
            need["keys"].add(c.idem_key)
        if c.kind == "fund.created":
            need["funds"].add(b["code"])
            if b.get("earmark") and b["earmark"].get("beneficiary"):
                need["bens"].add(b["earmark"]["beneficiary"])
        elif c.kind.startswith("beneficiary."):
            need["bens"].add(b["code"])
        elif c.kind == "donation":
            need["funds"].add(b["fund"])
            need["refs"].add(b["reference"])
        elif c.kind == "disbursement":
            need["funds"].add(b["fund"])
            need["bens"].add(b["beneficiary"])
        elif c.kind == "transfer":
            need["funds"].update((b["from_fund"], b["to_fund"]))
        elif c.kind == "fee":
            need["funds"].add(b["fund"])
        elif c.kind == "correction":
            need["targets"].add(b["corrects"])
        elif c.kind == "evidence.attached":
            need["targets"].add(b["disbursement"])
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
    org_id: int,
    commands: Sequence[Command],
    read: str | None = None,
) -> _State:
    """What admitting ``commands`` needs; ``read`` is ``admit_lookups``'s answer when the
    writer already read it with the head lock (``CharityPolicy.reads``, which asks for it
    only when the batch corrects nothing)."""
    targets: dict[int, P.MoneyRow] = {}
    lines: dict[int, list[Line]] = {}
    if read is not None:
        found = P.decode_lookups(read)
    else:  # the entries a batch corrects decide which funds it touches: look them up first
        need = _needs(commands)
        if need["targets"]:
            targets = await P.money_entries(conn, org_id, need["targets"])
            lines = await P.postings_of(conn, org_id, need["targets"])
        extra = {t.fund for t in targets.values()}
        extra |= {t.counterparty for t in targets.values() if t.kind == "transfer" and t.counterparty}
        found = await P.admit_lookups(conn, org_id, _lookup_args(need, extra))
    fee_funds = {c.body["fund"] for c in commands if c.kind == "fee"}
    totals: dict[str, dict[str, int]] = {}
    if fee_funds:  # what else the batch does to those funds counts too
        totals = await P.fund_totals(conn, org_id, fee_funds)
        totals.update({f: totals.get(f, {}) for f in fee_funds})
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
    """Raise the reason ``c`` is refused, or update ``state`` as if it were appended."""
    b = c.body
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
    kind = c.kind
    if kind == "fund.created":
        if b["code"] in state.funds:
            raise AlreadyExistsError(f"fund {b['code']!r} already exists")
        earmark = b.get("earmark") or {}
        if earmark.get("beneficiary"):
            _beneficiary(state, earmark["beneficiary"])
        state.funds[b["code"]] = P.FundRow(
            b["code"],
            -1,
            b["name"],
            b["currency"],
            earmark or None,
            b["fee_cap_bps"],
            recorded_minor_units(b.get("minor_units"), b["currency"]),
        )
    elif kind == "beneficiary.registered":
        if b["code"] in state.beneficiaries:
            raise AlreadyExistsError(f"beneficiary {b['code']!r} already exists")
        state.beneficiaries[b["code"]] = P.BeneficiaryRow(
            b["code"], 1, -1, b["name"], b["city"], b["province"], b.get("registration")
        )
    elif kind == "beneficiary.updated":
        current = _beneficiary(state, b["code"])
        b["version"] = current.version + 1
        state.beneficiaries[b["code"]] = P.BeneficiaryRow(
            b["code"], b["version"], -1, b["name"], b["city"], b["province"], b.get("registration")
        )
    elif kind == "donation":
        _fund(state, b["fund"], b["currency"])
        if b["reference"] in state.references:
            raise DuplicateReferenceError(
                f"a donation with reference {b['reference']!r} is already recorded and not "
                "reversed; to record it again with another amount, first reverse it "
                '(POST …/corrections {"corrects": <its index>, "reason": "…"})'
            )
        state.references.add(b["reference"])
        state.count(b["fund"], "donation", b["amount"])
    elif kind == "disbursement":
        fund = _fund(state, b["fund"], b["currency"])
        _beneficiary(state, b["beneficiary"])
        earmark = fund.earmark or {}
        if earmark.get("beneficiary") and earmark["beneficiary"] != b["beneficiary"]:
            raise EarmarkError(
                f"fund {fund.code!r} is earmarked for beneficiary {earmark['beneficiary']!r}, "
                f"not {b['beneficiary']!r}"
            )
        if earmark.get("purpose") and earmark["purpose"] != b["purpose"]:
            raise EarmarkError(
                f"fund {fund.code!r} is earmarked for {earmark['purpose']!r}, not {b['purpose']!r}"
            )
        _require_funds(state, b["fund"], b["currency"], b["amount"], "a disbursement")
    elif kind == "transfer":
        if b["from_fund"] == b["to_fund"]:
            raise RuleError("a transfer needs two different funds")
        _fund(state, b["from_fund"], b["currency"])
        _fund(state, b["to_fund"], b["currency"])
        _require_funds(state, b["from_fund"], b["currency"], b["amount"], "a transfer")
    elif kind == "fee":
        fund = _fund(state, b["fund"], b["currency"])
        _require_funds(state, b["fund"], b["currency"], b["amount"], "a fee")
        totals = state.totals.setdefault(b["fund"], {})
        raised, fees = totals.get("donation", 0), totals.get("fee", 0) + b["amount"]
        if fees * 10_000 > fund.fee_cap_bps * raised:
            raise FeeCapError.of(
                FEE_CAP,
                fees=_money(state, fund.code, fees, b["currency"]),
                fees_minor=fees,
                cap=f"{fund.fee_cap_bps / 100:g}",
                raised=_money(state, fund.code, raised, b["currency"]),
                raised_minor=raised,
                fund=repr(fund.code),
            )
        totals["fee"] = fees
    elif kind == "correction":
        target = state.targets.get(b["corrects"])
        if target is None or target.kind == "correction":
            raise NotCorrectableError(
                f"entry {b['corrects']} is not a donation, disbursement, transfer or fee: "
                "only money entries can be corrected"
            )
        if target.corrected_by is not None or b["corrects"] in state.corrected:
            raise AlreadyCorrectedError(f"entry {b['corrects']} is already corrected")
        reversal = postings_for("correction", b, state.target_lines.get(b["corrects"], []))
        for line in reversal:
            if line.account.startswith("fund:") and line.amount < 0:
                code = line.account.removeprefix("fund:")
                _require_funds(state, code, line.currency, -line.amount, "this correction")
        state.corrected.add(b["corrects"])
        if target.kind == "donation" and target.reference is not None:
            state.references.discard(target.reference)  # free again (migration 0013)
        state.count(target.fund, target.kind, -target.amount)
        state.post(reversal)
        return
    elif kind == "evidence.attached":
        target = state.targets.get(b["disbursement"])
        if target is None or target.kind != "disbursement":
            raise NotCorrectableError(f"entry {b['disbursement']} is not a disbursement")
    state.post(postings_for(kind, b))
    if c.idem_key is not None:
        state.keys[c.idem_key] = None  # type: ignore[assignment]  # taken in this batch


class CharityPolicy:
    """The domain's BatchPolicy. ``clock`` says what "today" is for the value-date rule
    (``ledger.formats.valuedates``); give it the appender's clock."""

    def __init__(self, clock: Clock = system_clock) -> None:
        self.clock = clock

    def reads(self, org: Organization, intents: Sequence[Intent]) -> tuple[list[str], ...] | None:
        """``admit_lookups``'s arguments, for the writer to read with the head lock; None when
        the batch corrects entries (their funds are known only once they are read)."""
        need = _needs([i.context or Command(i.kind, i.body) for i in intents])
        return None if need["targets"] else _lookup_args(need)

    async def admit(
        self,
        conn: asyncpg.Connection,
        org: Organization,
        intents: Sequence[Intent],
        read: str | None = None,
    ) -> list[LedgerError | None]:
        commands = [i.context or Command(i.kind, i.body) for i in intents]
        state = await _load(conn, org.id, commands, read)
        calendar = None
        if valuedates.needs_calendar(c.kind for c in commands):
            # Read with the lookups (one round trip); a log without entry 0 has none yet.
            calendar = state.calendar or await P.org_calendar(conn, org)
        now = self.clock()
        verdicts: list[LedgerError | None] = []
        for command in commands:
            try:
                if calendar is not None and command.idem_key not in state.keys:
                    calendar = valuedates.admit(command.kind, command.body, calendar, now)
                _check(state, command)
            except LedgerError as exc:
                verdicts.append(exc)
            else:
                verdicts.append(None)
        return verdicts

    async def after_insert(
        self,
        conn: asyncpg.Connection,
        org: Organization,
        appended: Sequence[tuple[Intent, Appended]],
    ) -> list[bytes]:
        corrections = [i.body["corrects"] for i, _ in appended if i.kind == "correction"]
        evidence = any(getattr(i.context, "evidence", None) for i, _ in appended)
        if len(appended) >= 2 * PIPELINE_CHUNK and not corrections and not evidence:
            return await self._project_pipelined(conn, org, appended)
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

    async def _project_pipelined(
        self,
        conn: asyncpg.Connection,
        org: Organization,
        appended: Sequence[tuple[Intent, Appended]],
    ) -> list[bytes]:
        """``after_insert`` of a large batch without corrections or evidence: the money rows
        and posting lines of chunk k+1 are made while chunk k's are inserted (the database
        moves balances and fund totals from each chunk); the rest is written at the end."""
        total = P.BatchRows.empty()
        responses: list[bytes] = []
        times: dict[Any, str] = {}

        def make(chunk: Sequence[tuple[Intent, Appended]]) -> P.BatchRows:
            part = P.BatchRows.empty()
            for intent, entry in chunk:
                responses.append(_project(part, intent, entry, times, {}, {}, False))
            total.merge_sums(part)
            return part

        async def insert(part: P.BatchRows) -> None:
            await insert_rows(conn, "insert_money_entries", org.id, part.money)
            await insert_rows(conn, "insert_postings", org.id, part.postings)

        await pipeline(chunked(appended, PIPELINE_CHUNK), make, insert)
        await P.write_batch(conn, org.id, total)
        return responses


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
    command: Command = intent.context or Command(intent.kind, intent.body)
    _rows_for(rows, entry.index, intent.kind, intent.body, lines_of, targets, track)
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


def _rows_for(
    rows: P.BatchRows,
    index: int,
    kind: str,
    b: dict[str, Any],
    lines_of: dict[int, list[Line]],
    targets: dict[int, P.MoneyRow],
    track: bool,
) -> None:
    if kind == "fund.created":
        earmark = msgspec.json.encode(b["earmark"]).decode() if b.get("earmark") else None
        rows.funds.append(
            (
                b["code"],
                index,
                b["name"],
                b["currency"],
                earmark,
                b["fee_cap_bps"],
                b.get("minor_units"),
            )
        )
    elif kind.startswith("beneficiary."):
        rows.beneficiaries.append(
            (
                b["code"],
                b["version"],
                index,
                b["name"],
                b["city"],
                b["province"],
                b.get("registration"),
            )
        )
    elif kind in ("donation", "disbursement", "transfer", "fee"):
        fund = b.get("fund") or b["from_fund"]
        counterparty = b.get("beneficiary") or b.get("to_fund")
        rows.money.append(
            (index, kind, fund, counterparty, b["currency"], b["amount"], b.get("reference"))
        )
        if track:  # known to a correction later in the same batch (a restore may do that)
            targets[index] = P.MoneyRow(
                index, kind, fund, counterparty, b["currency"], b["amount"], b.get("reference"), None
            )
    elif kind == "correction":
        target = targets[b["corrects"]]
        rows.money.append((index, kind, target.fund, None, target.currency, target.amount, None))
        rows.corrections.append((b["corrects"], index))
    lines = postings_for(
        kind, b, lines_of.get(b.get("corrects", -1)) if kind == "correction" else None
    )
    if lines and track:
        lines_of[index] = lines
    for n, line in enumerate(lines):
        rows.postings.append((index, n, line.account, line.currency, line.amount))
