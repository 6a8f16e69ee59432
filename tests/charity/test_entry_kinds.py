"""Entry kinds as a tagged union (schemas.entries): every kind decodes to its own Struct, the
hashed bytes of a body are what they were before the bodies were tagged, and what is not a
body of its kind is refused with the messages it was refused with before."""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ledger.charity import rules
from ledger.charity.rules import CharityPolicy, Command
from ledger.errors import InvalidInputError, LedgerError
from ledger.formats.canonical import canonical_json
from ledger.journal.appender import Appended, Intent, append_batch
from ledger.journal.organizations import create_organization
from ledger.store import charity as P
from ledger.verify.derivation import RangeDerivation
from schemas import kinds
from schemas.base import Body
from schemas.entries import BODY_TYPES, EntryBody, body_builtins, decode_body, kind_of

VECTORS = Path(__file__).resolve().parents[2] / "docs" / "vectors" / "log.json"

COMMITMENT = "q2wR0w8JtqRkQhZ2o7wH0G2k0JYt4Fv6n3m0pQ8E9xY="
VKEY = "ledger.example/orgs/yayasan-senyum+b6ef13e7+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"

STAFF = "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e"
"""A console account's id (the access-change entries name people by it alone)."""
KEY = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

SAMPLES: dict[str, dict[str, Any]] = {
    kinds.LOG_CREATED: {"slug": "yayasan-senyum", "name": "Yayasan Senyum", "vkey": VKEY},
    kinds.KEY_ROTATED: {"vkey": VKEY, "retired": ["b6ef13e7"]},
    kinds.KEY_RETIRED: {"key_id": "b6ef13e7"},
    kinds.NOTE: {"text": "halo"},
    kinds.FUND_CREATED: {
        "code": "zakat-2026",
        "name": "Zakat 2026",
        "currency": "IDR",
        "earmark": {"beneficiary": "lksa-harapan", "purpose": None},
        "fee_cap_bps": 0,
        "minor_units": 2,
    },
    kinds.BENEFICIARY_REGISTERED: {
        "code": "lksa-harapan",
        "version": 1,
        "name": "LKSA Harapan",
        "city": "Bandung",
        "province": "Jawa Barat",
        "registration": None,
    },
    kinds.BENEFICIARY_UPDATED: {
        "code": "lksa-harapan",
        "version": 2,
        "name": "LKSA Harapan Bunda",
        "city": "Bandung",
        "province": "Jawa Barat",
        "registration": "466/123-Dinsos",
    },
    kinds.DONATION: {
        "fund": "zakat-2026",
        "amount": 125_000_000,
        "currency": "IDR",
        "received_on": "2026-11-01",
        "channel": "qris",
        "reference": "QRIS-0001",
        "donor": {"commitment": COMMITMENT, "display": "Hamba Allah"},
        "message": "Semoga bermanfaat",
    },
    kinds.DISBURSEMENT: {
        "fund": "zakat-2026",
        "beneficiary": "lksa-harapan",
        "amount": 50_000_000,
        "currency": "IDR",
        "purpose": "food",
        "paid_on": "2026-11-02",
        "reference": "BCA-OUT-0001",
    },
    kinds.TRANSFER: {
        "from_fund": "zakat-2026",
        "to_fund": "infaq-2026",
        "amount": 1_000_000,
        "currency": "IDR",
        "transferred_on": "2026-11-03",
        "reason": "Rebalancing",
    },
    kinds.FEE: {
        "fund": "infaq-2026",
        "amount": 10_000,
        "currency": "IDR",
        "charged_on": "2026-11-04",
        "description": "Biaya bank",
    },
    kinds.CORRECTION: {"corrects": 3, "reason": "Double posting", "effective_on": "2026-11-05"},
    kinds.ORG_SETTINGS: {"time_zone": "Asia/Makassar", "books_open": "2021-01-01"},
    kinds.EVIDENCE_ATTACHED: {
        "disbursement": 4,
        "sha256": "ab" * 32,
        "content_type": "application/pdf",
        "size": 1234,
    },
    kinds.DONOR_ERASED: {"records": 2},
    kinds.STATEMENT_ISSUED: {
        "statement": 1,
        "scope": {"fund": None, "beneficiary": None},
        "from": "2026-11-01",
        "to": "2026-12-01",
        "start": 0,
        "end": 9,
        "checkpoint_size": 9,
        "checkpoint_root": "jRCyq7LkruNLMRnF6ajxsgZD33X6LJ1ePn437SYxcls=",
        "previous": None,
        "provisional": False,
        "sha256": {"json": "01" * 32, "pdf_en": "02" * 32, "pdf_id": "03" * 32},
    },
    kinds.STAFF_ADDED: {"staff": STAFF, "role": "recorder", "by": "server"},
    kinds.STAFF_CHANGED: {"staff": STAFF, "change": "password_reset", "role": "admin", "by": STAFF},
    kinds.API_KEY_ISSUED: {"key": KEY, "role": "recorder", "by": STAFF},
    kinds.API_KEY_REVOKED: {"key": KEY, "by": "server"},
    kinds.FUND_CLASSIFIED: {
        "fund": "zakat-2026",
        "restriction": "with",
        "zakat_class": "zakat",
        "tax_category": "zakat",
    },
    kinds.FUND_PERMIT: {
        "fund": "banjir-2026",
        "number": "460/77/PUB/2026",
        "issuer": "Dinas Sosial Kota Bandung",
        "valid_from": "2026-09-01",
        "valid_until": "2026-11-30",
        "exemption": None,
    },
    kinds.ORG_PROFILE: {
        "legal_name": "Yayasan Senyum Anak Nusantara",
        "npwp": "012345678901000",
        "address": None,
        "zakat_license": None,
        "amil_cap_bps": 1250,
    },
    kinds.FUND_TARGET: {
        "fund": "senyum-2026",
        "amount": 50_000_000_00,
        "currency": "IDR",
        "deadline": "2026-12-31",
        "note": "Renovasi asrama",
    },
    kinds.EVIDENCE_PUBLISHED: {
        "disbursement": 4,
        "original": "ab" * 32,
        "sha256": "cd" * 32,
        "content_type": "image/jpeg",
        "size": 48213,
        "redactions": "nomor rekening, tanda tangan",
    },
    kinds.EVIDENCE_WITHDRAWN: {
        "published": 7,
        "reason": "nama anak masih terbaca",
    },
    kinds.BENEFICIARY_KEY: {
        "beneficiary": "lksa-harapan",
        "public_key": "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
        "replaces": None,
    },
    kinds.ACKNOWLEDGED: {
        "disbursement": 4,
        "beneficiary": "lksa-harapan",
        "key": 5,
        "signature": "A" * 86 + "==",
    },
    kinds.DISPUTED: {
        "disbursement": 4,
        "beneficiary": "lksa-harapan",
        "key": 5,
        "signature": "A" * 86 + "==",
        "received": 0,
    },
}
"""A body of every kind, as builtins: what an entry's ``body`` member holds."""


def kind_names() -> set[str]:
    return {v for k, v in vars(kinds).items() if k.isupper() and isinstance(v, str)}


def test_one_struct_per_kind_name() -> None:
    assert set(BODY_TYPES) == kind_names() == set(SAMPLES)
    assert len(set(BODY_TYPES.values())) == len(BODY_TYPES)
    for kind, cls in BODY_TYPES.items():
        assert issubclass(cls, Body)
        assert cls.__struct_config__.tag_field == "kind" and cls.__struct_config__.tag == kind


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_the_union_decodes_every_kind_and_the_hashed_bytes_stay(kind: str) -> None:
    body = SAMPLES[kind]
    tagged = msgspec.convert({"kind": kind, **body}, EntryBody)
    assert type(tagged) is BODY_TYPES[kind] and kind_of(tagged) == kind
    from_bytes = msgspec.json.decode(json.dumps({"kind": kind, **body}).encode(), type=EntryBody)
    assert from_bytes == tagged == decode_body(kind, body)
    builtins = body_builtins(tagged)
    assert "kind" not in builtins
    assert canonical_json(builtins) == canonical_json(body)


def test_golden_bodies_decode_and_keep_their_bytes() -> None:
    """The bodies of docs/vectors/log.json decode to their Structs. A Struct's builtins add
    the optional members an old entry lacks, as null (the v1 fund entry has no
    ``minor_units``): so a command keeps the builtins it was made from, which are what the
    log hashes, and nothing is re-encoded from a decoded Struct."""
    entries = json.loads(VECTORS.read_text())["entries"]
    assert entries
    for e in entries:
        canonical = e["canonical"].encode()
        body = json.loads(canonical)["body"]
        entry = decode_body(e["kind"], body)
        again = body_builtins(entry)
        assert {k: v for k, v in again.items() if k in body} == body, e["kind"]
        assert all(again[k] is None for k in again.keys() - body.keys()), e["kind"]
        command = Command.decoded(e["kind"], body)
        assert b'{"body":' + canonical_json(command.body) + b',"index"' in canonical


def test_an_unknown_kind_is_refused_as_the_union_refuses_it() -> None:
    with pytest.raises(msgspec.ValidationError) as by_union:
        msgspec.convert({"kind": "pledge"}, EntryBody)
    with pytest.raises(msgspec.ValidationError) as by_kind:
        decode_body("pledge", {})
    assert str(by_kind.value) == str(by_union.value) == "Invalid value 'pledge' - at `$.kind`"
    with pytest.raises(InvalidInputError, match=r"Invalid value 'pledge' - at `\$.kind`"):
        Command.decoded("pledge", {})


def test_a_body_never_carries_its_kind() -> None:
    tagged = msgspec.to_builtins(msgspec.convert(SAMPLES[kinds.FEE], BODY_TYPES[kinds.FEE]))
    assert tagged["kind"] == kinds.FEE  # what plain to_builtins gives: not a hashable body
    with pytest.raises(msgspec.ValidationError, match="unknown field `kind`"):
        decode_body(kinds.FEE, tagged)


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        (kinds.DONATION, {"amount": 1}, "Object missing required field `fund`"),
        (kinds.DONATION, {**SAMPLES[kinds.DONATION], "amount": 0}, "Expected `int` >= 1"),
        (kinds.FEE, {**SAMPLES[kinds.FEE], "tip": 1}, "Object contains unknown field `tip`"),
        (kinds.CORRECTION, [], "Expected `object`, got `array`"),
    ],
)
def test_a_malformed_body_is_refused_naming_the_member(kind: str, body: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=f"kind {kind!r}: {message}"):
        Command.decoded(kind, body)


@pytest.mark.parametrize(
    ("kind", "body", "reason"),
    [
        (kinds.DONATION, b'{"amount":1,"currency":"IDR"}', "KeyError('fund')"),
        (
            kinds.DONATION,
            b'{"amount":"1","currency":"IDR","fund":"f"}',
            "ValidationError('Expected `int`, got `str` - at `$.amount`')",
        ),
        (kinds.FUND_CREATED, b'{"name":"x"}', "KeyError('code')"),
        (
            kinds.CORRECTION,
            b"[]",
            "TypeError('list indices must be integers or slices, not str')",
        ),
        (
            kinds.TRANSFER,
            b'{"amount":1,"currency":"IDR","from_fund":"a","to_fund":"b",'
            b'"transferred_on":"2026-13-01"}',
            "ValidationError('Invalid RFC3339 encoded date - at `$.transferred_on`')",
        ),
    ],
)
def test_verify_names_a_malformed_body_as_before(kind: str, body: bytes, reason: str) -> None:
    """``ledger verify``'s projection check reports these exactly as before the union."""
    derived = RangeDerivation()
    derived.add(7, kind, body, dt.datetime(2026, 11, 21, tzinfo=dt.UTC))
    assert derived.bad_entry == (7, f"entry 7 ({kind}) has no valid body: {reason}")


def _empty_state() -> rules._State:
    return rules._State(
        funds={}, beneficiaries={}, balances={}, references=set(), keys={}, targets={},
        target_lines={}, totals={},
    )  # fmt: skip


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_kind_has_a_rule(kind: str) -> None:
    """``_check`` has a case for every Struct of the union: a kind is admitted or refused by
    a rule (here: an empty organization), never by falling out of the ``match``."""
    command = Command.decoded(kind, json.loads(json.dumps(SAMPLES[kind])))
    with contextlib.suppress(LedgerError):  # a rule refused it: that is a rule too
        rules._check(_empty_state(), command)
    needs = rules._needs([command])
    assert set(needs) == {"funds", "bens", "refs", "keys", "targets", "acks", "recipients"}


def test_command_of_a_struct_is_the_command_of_its_builtins() -> None:
    for kind, body in SAMPLES.items():
        entry = decode_body(kind, body)
        made = Command.of(entry, "key", b"hash")  # type: ignore[arg-type]
        assert (made.kind, made.body, made.idem_key, made.request_hash) == (
            kind,
            body_builtins(entry),
            "key",
            b"hash",
        )
        assert made.typed() is entry


async def test_a_malformed_intent_is_refused_alone(settings, store, kek) -> None:  # type: ignore[no-untyped-def]
    """The policy refuses an intent whose body is not of its kind, and records the rest of
    its batch (it used to fail the whole batch with a KeyError)."""
    org = await create_organization(store, settings, kek, "yayasan-jenis", "Yayasan Jenis")
    fund = {**SAMPLES[kinds.FUND_CREATED], "earmark": None}
    today = dt.datetime.now(dt.UTC).date().isoformat()  # inside the value-date window
    intents = [
        Intent(kinds.FUND_CREATED, fund),
        Intent(kinds.DONATION, {"fund": "zakat-2026", "amount": 5, "received_on": today}),
        Intent(kinds.NOTE, {"text": "after the refusal"}),
    ]
    async with store.connection() as conn, conn.transaction():
        outcomes = await append_batch(store, conn, org, intents, policy=CharityPolicy())
    recorded, refused, note = outcomes
    assert isinstance(recorded, Appended) and recorded.kind == kinds.FUND_CREATED
    assert isinstance(refused, InvalidInputError)
    assert "kind 'donation': Object missing required field `currency`" in str(refused)
    assert isinstance(note, Appended) and note.index == recorded.index + 1
    async with store.connection() as conn:
        assert set(await P.funds(conn, org.id, ["zakat-2026"])) == {"zakat-2026"}


async def test_a_large_batch_is_admitted_chunk_by_chunk_as_one(settings, store, kek) -> None:  # type: ignore[no-untyped-def]
    """A batch of 1,200 is admitted chunk by chunk inside the pipeline (issue 15), with the
    verdicts one ``admit`` of the whole batch gives: a reference used in an earlier chunk is
    refused in a later one, a malformed or unknown-fund donation is refused alone, and the
    entries that are recorded keep contiguous indexes, rows and totals."""
    from ledger.errors import DuplicateReferenceError, UnknownFundError
    from ledger.journal.appender import PIPELINE_CHUNK
    from tests.logkit import assert_log_verifies

    org = await create_organization(store, settings, kek, "yayasan-besar", "Yayasan Besar")
    fund = {**SAMPLES[kinds.FUND_CREATED], "earmark": None}
    today = dt.datetime.now(dt.UTC).date().isoformat()

    def donation(n: int, reference: str, fund_code: str = "zakat-2026") -> Intent:
        body = {
            "fund": fund_code,
            "amount": 100 + n,
            "currency": "IDR",
            "received_on": today,
            "channel": "bank_transfer",
            "reference": reference,
            "donor": {"commitment": None, "display": None},
            "message": None,
        }
        return Intent(kinds.DONATION, body)

    intents = [Intent(kinds.FUND_CREATED, fund)]
    intents += [donation(n, f"REF-{n}") for n in range(1, 1200)]
    intents[700] = donation(700, "REF-10")  # chunk 3 repeats a reference of chunk 1
    intents[900] = Intent(kinds.DONATION, {"fund": "zakat-2026", "amount": 5, "received_on": today})
    intents[1100] = donation(1100, "REF-1100", "no-such-fund")
    assert len(intents) > 4 * PIPELINE_CHUNK
    async with store.connection() as conn, conn.transaction():
        outcomes = await append_batch(store, conn, org, intents, policy=CharityPolicy())
    refused = {n: o for n, o in enumerate(outcomes) if isinstance(o, LedgerError)}
    assert sorted(refused) == [700, 900, 1100]
    assert isinstance(refused[700], DuplicateReferenceError)
    assert isinstance(refused[900], InvalidInputError)
    assert isinstance(refused[1100], UnknownFundError)
    recorded = [o for o in outcomes if isinstance(o, Appended)]
    assert [o.index for o in recorded] == list(range(recorded[0].index, recorded[0].index + 1197))
    expected = sum(100 + n for n in range(1, 1200) if n not in refused)
    async with store.connection() as conn:
        total = await conn.fetchval(
            "SELECT amount FROM fund_totals WHERE org_id = $1 AND fund = 'zakat-2026'"
            " AND kind = 'donation'",
            org.id,
        )
        assert total == expected
    await assert_log_verifies(store)


REPO = Path(__file__).resolve().parents[2]


def _spelled_kinds(tree: ast.AST, names: set[str]) -> list[int]:
    """Lines where a kind's name is compared as a string literal (``kind == "fee"``,
    ``kind in ("fee", …)``, ``case "fee":``)."""

    def literal(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return node.value in names
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return any(literal(e) for e in node.elts)
        return False

    def spelled(node: ast.AST) -> bool:
        if isinstance(node, ast.Compare):
            return any(map(literal, [node.left, *node.comparators]))
        return isinstance(node, ast.MatchValue) and literal(node.value)

    return [node.lineno for node in ast.walk(tree) if spelled(node)]


def test_no_code_compares_kind_names_as_strings() -> None:
    """Kinds are compared by ``schemas.kinds`` names or dispatched on by type; the strings
    are spelled in schemas/kinds.py alone."""
    names = kind_names()
    offenders = []
    for package in ("ledger", "reports", "schemas"):
        for path in sorted((REPO / package).rglob("*.py")):
            lines = _spelled_kinds(ast.parse(path.read_text()), names)
            offenders += [f"{path.relative_to(REPO)}:{n}" for n in lines]
    assert offenders == []
