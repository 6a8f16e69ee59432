"""``ledger verify`` for the recipients' entries (docs/FORMAT.md section 8).

``beneficiary_keys`` and ``acknowledgments`` are written only by the database (migration
0022); their rows are re-derived here from the entries' bytes and compared. Each
acknowledgment or dispute is also checked as ``ledger-verify acknowledgment`` checks it
offline: about a disbursement to the signing beneficiary, at most one per disbursement,
signed by that beneficiary's key entry that no later key of it had replaced yet, and the
Ed25519 signature verifies over the message ``ledger.formats.acknowledgment`` rebuilds from
the stored disbursement. A charity that writes such an entry past the rules (its own
database, its own code) is named here.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from ledger.errors import LedgerError
from ledger.formats import acknowledgment
from ledger.store import charity as P
from ledger.store import recipients as R
from schemas import kinds
from schemas.money import recorded_minor_units


class RecipientMismatch(Exception):
    """An entry whose recipient rows or signature are wrong (index, reason)."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


@dataclass
class RecipientRows:
    """The rows the recipients' entries of one range give."""

    keys: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    """``beneficiary_keys`` rows by entry: (beneficiary, public key bytes, replaces)."""
    statements: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    """``acknowledgments`` rows by entry: (disbursement, beneficiary, verdict, received, key)."""
    signatures: dict[int, bytes] = field(default_factory=dict)
    """Each statement's signature."""

    def add(self, index: int, kind: str, b: dict[str, Any]) -> None:
        if kind == kinds.BENEFICIARY_KEY:
            self.keys[index] = (
                b["beneficiary"],
                base64.b64decode(b["public_key"], validate=True),
                b.get("replaces"),
            )
            return
        disputed = kind == kinds.DISPUTED
        self.statements[index] = (
            b["disbursement"],
            b["beneficiary"],
            acknowledgment.DISPUTED if disputed else acknowledgment.ACKNOWLEDGED,
            b["received"] if disputed else None,
            b["key"],
        )
        self.signatures[index] = acknowledgment.decode_signature(b["signature"])

    def clear(self) -> None:
        self.keys, self.statements, self.signatures = {}, {}, {}


def _first(table: str, expected: dict[int, Any], found: dict[int, Any]) -> RecipientMismatch | None:
    for index in sorted(expected.keys() | found.keys()):
        if expected.get(index) != found.get(index):
            return RecipientMismatch(
                index,
                f"{table}: entry {index} expected {expected.get(index, 'no row')!r}, found "
                f"{found.get(index, 'no row')!r}",
            )
    return None


async def check(
    conn: asyncpg.Connection, org_id: int, origin: str, start: int, end: int, rows: RecipientRows
) -> None:
    """Compare the range's stored rows with ``rows`` and check every statement's signature;
    raise ``RecipientMismatch`` for the first entry that is wrong."""
    found_keys = {
        r["entry_idx"]: (r["beneficiary"], bytes(r["public_key"]), r["replaces"])
        for r in await R.key_rows(conn, org_id, start, end)
    }
    found_statements = {
        r["entry_idx"]: (
            r["disbursement_idx"], r["beneficiary"], r["verdict"], r["received"], r["key_idx"]
        )
        for r in await R.acknowledgment_rows(conn, org_id, start, end)
    }  # fmt: skip
    bad = [
        _first("beneficiary_keys", rows.keys, found_keys),
        _first("acknowledgments", rows.statements, found_statements),
    ]
    for index in sorted(rows.statements):
        bad.append(await _check_statement(conn, org_id, origin, index, rows))
    problems = [b for b in bad if b is not None]
    if problems:
        raise min(problems, key=lambda b: b.index)


async def _check_statement(
    conn: asyncpg.Connection, org_id: int, origin: str, index: int, rows: RecipientRows
) -> RecipientMismatch | None:
    disbursement, beneficiary, verdict, received, key = rows.statements[index]
    entries = await R.entries_at(conn, org_id, [disbursement, key])
    d, k = entries.get(disbursement), entries.get(key)
    if d is None or d.kind != kinds.DISBURSEMENT or disbursement >= index:
        return RecipientMismatch(
            index, f"entry {index} is about entry {disbursement}, not an earlier disbursement"
        )
    body = json.loads(d.body)["body"]
    if body["beneficiary"] != beneficiary:
        return RecipientMismatch(
            index,
            f"entry {index} is signed for {beneficiary!r}; disbursement {disbursement} went to {body['beneficiary']!r}",
        )
    if k is None or k.kind != kinds.BENEFICIARY_KEY or key >= index:
        return RecipientMismatch(
            index, f"entry {index} names key entry {key}, not an earlier beneficiary.key"
        )
    k_body = json.loads(k.body)["body"]
    if k_body["beneficiary"] != beneficiary:
        return RecipientMismatch(
            index,
            f"entry {index} is signed with key entry {key} of beneficiary {k_body['beneficiary']!r}, not {beneficiary!r}",
        )
    later = [
        h.index for h in await R.key_history(conn, org_id, beneficiary) if key < h.index < index
    ]
    if later:
        return RecipientMismatch(
            index,
            f"entry {index} is signed with key entry {key}, which was retired by entry {later[0]} before it",
        )
    fund = (await P.funds(conn, org_id, [body["fund"]])).get(body["fund"])
    minor_units = fund.minor_units if fund else recorded_minor_units(None, body["currency"])
    facts = acknowledgment.Disbursed(
        origin=origin,
        org=origin.rsplit("/", 1)[-1],
        beneficiary=beneficiary,
        index=disbursement,
        leaf_hash=d.leaf_hash,
        amount=body["amount"],
        currency=body["currency"],
        minor_units=minor_units,
        paid_on=body["paid_on"],
    )
    amount = received if received is not None else body["amount"]
    try:
        acknowledgment.verify_signature(
            base64.b64decode(k_body["public_key"]),
            acknowledgment.message(facts, verdict, amount),
            rows.signatures[index],
        )
    except LedgerError as exc:
        return RecipientMismatch(index, f"entry {index} ({verdict}): {exc}")
    return None
