"""``ledger-verify acknowledgment``: a recipient's signed word on a disbursement, offline.

Like ``ledger.verify.offline``, this needs only the standard library, ``cryptography`` and
the formats. The file (``donation-ledger-acknowledgment/v1``, docs/FORMAT.md section 8)::

    {"format": "donation-ledger-acknowledgment/v1",
     "acknowledgment_proof": "<tlog-proof of the disbursement.acknowledged/disputed entry>",
     "disbursement_proof": "<tlog-proof of the disbursement entry>",
     "fund_proof": "<tlog-proof of the disbursement's fund.created entry>",
     "key_proofs": ["<tlog-proof of each beneficiary.key entry of the beneficiary>", ...],
     "beneficiary_proof": "<tlog-proof of the beneficiary's record in force at the disbursement>",
     "org_proof": "<tlog-proof of entry 0 (log.created)>"}

``beneficiary_proof`` and ``org_proof`` are optional (files made before they existed have
neither): they let the verifier name the orphanage and the organization in words.

All proofs are under one signed checkpoint. The verifier checks that the statement is about
that disbursement and by its beneficiary, that the key that signed was enrolled by that same
beneficiary before the statement and not replaced by a later key of the file before it, and
that the Ed25519 signature verifies over the message ``ledger.formats.acknowledgment``
rebuilds from the proven entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.errors import MalformedError, VerificationError
from ledger.formats import acknowledgment, merkle
from ledger.formats.canonical import canonical_json
from ledger.formats.note import Verifier
from ledger.verify.offline import (
    EntryProven,
    _with_fund,
    _with_org,
    amount_text,
    load_json,
    verify_tlog_proof,
)
from schemas import kinds

ACK_FORMAT = "donation-ledger-acknowledgment/v1"


@dataclass(frozen=True)
class AcknowledgmentProven:
    """A recipient's statement, proven and its signature checked."""

    statement: EntryProven
    """The disbursement.acknowledged or disbursement.disputed entry."""
    disbursement: EntryProven
    """The disbursement it is about (with the fund's exponent)."""
    key_index: int
    """The beneficiary.key entry whose key signed."""
    verdict: str
    """``acknowledged`` or ``disputed``."""
    received: int
    """What the beneficiary says arrived, in minor units."""
    beneficiary_name: str | None = None
    """The beneficiary's name as the proven ``beneficiary.registered``/``updated`` entry in
    force at the disbursement records it (None: the file has no beneficiary proof)."""
    org_name: str | None = None
    """The organization's name from entry 0 (None: the file has no org proof)."""

    @property
    def beneficiary(self) -> str:
        """The beneficiary's code."""
        return str(self.disbursement.document["body"]["beneficiary"])

    def text(self) -> str:
        """What a donor reads (one line)."""
        body = self.disbursement.document["body"]
        e = self.disbursement.minor_units or 0
        amount = amount_text(body["amount"], body["currency"], e)
        named = f"{self.beneficiary_name}, " if self.beneficiary_name else ""
        who = f"beneficiary {body['beneficiary']} ({named}key entry {self.key_index})"
        if self.verdict == acknowledgment.ACKNOWLEDGED:
            return (
                f"disbursement {self.disbursement.index} of {amount} ACKNOWLEDGED by {who} "
                f"in entry {self.statement.index}"
            )
        received = amount_text(self.received, body["currency"], e)
        return (
            f"disbursement {self.disbursement.index} of {amount} DISPUTED by {who} in entry "
            f"{self.statement.index}: received {received}"
        )


def is_acknowledgment_file(data: bytes | str) -> bool:
    """Whether ``data`` claims to be an acknowledgment file (a JSON object whose ``format``
    is :data:`ACK_FORMAT`); nothing is verified."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if not text.lstrip().startswith("{") or ACK_FORMAT not in text:
        return False
    try:
        doc = load_json(text, "the file")
    except MalformedError:
        return False
    return isinstance(doc, dict) and doc.get("format") == ACK_FORMAT


def _same_checkpoint(a: EntryProven, b: EntryProven, what: str) -> None:
    ca, cb = a.checkpoint, b.checkpoint
    if (ca.origin, ca.size, ca.root) != (cb.origin, cb.size, cb.root):
        raise VerificationError(
            f"expected the {what} under the acknowledgment's checkpoint ({ca.origin} at size "
            f"{ca.size}); got {cb.origin} at size {cb.size}"
        )


def _int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedError(f"expected the entry's {name} as an integer, got {value!r}")
    return value


def verify_acknowledgment(data: bytes | str, verifiers: list[Verifier]) -> AcknowledgmentProven:
    """Check a ``donation-ledger-acknowledgment/v1`` file against trusted log keys."""
    doc = load_json(data, "the acknowledgment file")
    if not isinstance(doc, dict) or doc.get("format") != ACK_FORMAT:
        raise MalformedError(f"expected a file with format {ACK_FORMAT!r}")
    keys = doc.get("key_proofs")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise MalformedError("expected key_proofs as a list of tlog-proof texts")
    statement = verify_tlog_proof(str(doc.get("acknowledgment_proof", "")), verifiers)
    disbursed = verify_tlog_proof(str(doc.get("disbursement_proof", "")), verifiers)
    _same_checkpoint(statement, disbursed, "disbursement proof")
    disbursed = _with_fund(disbursed, str(doc.get("fund_proof", "")), verifiers, None)
    kind, body = statement.document.get("kind"), statement.document.get("body") or {}
    d_body = disbursed.document.get("body") or {}
    if kind not in kinds.RECIPIENT_STATEMENTS:
        raise VerificationError(
            f"expected a disbursement.acknowledged or disbursement.disputed entry; entry "
            f"{statement.index} is {kind!r}"
        )
    if (
        disbursed.document.get("kind") != kinds.DISBURSEMENT
        or _int(body, "disbursement") != disbursed.index
    ):
        raise VerificationError(
            f"expected the disbursement proof to be entry {body.get('disbursement')} (a "
            f"disbursement); got entry {disbursed.index} ({disbursed.document.get('kind')})"
        )
    if body.get("beneficiary") != d_body.get("beneficiary"):
        raise VerificationError(
            f"the statement is by beneficiary {body.get('beneficiary')!r}, the disbursement "
            f"went to {d_body.get('beneficiary')!r}"
        )
    key_index = _int(body, "key")
    proven_keys = []
    for text in keys:
        k = verify_tlog_proof(text, verifiers)
        _same_checkpoint(statement, k, "key proof")
        if k.document.get("kind") != kinds.BENEFICIARY_KEY:
            raise VerificationError(
                f"expected beneficiary.key entries in key_proofs; entry {k.index} is {k.document.get('kind')!r}"
            )
        proven_keys.append(k)
    signer = next((k for k in proven_keys if k.index == key_index), None)
    if signer is None:
        raise VerificationError(
            f"the file does not prove key entry {key_index}, the key that signed"
        )
    k_body = signer.document.get("body") or {}
    if k_body.get("beneficiary") != d_body.get("beneficiary"):
        raise VerificationError(
            f"key entry {key_index} belongs to beneficiary {k_body.get('beneficiary')!r}, not to "
            f"{d_body.get('beneficiary')!r}, the recipient of disbursement {disbursed.index}"
        )
    if key_index >= statement.index:
        raise VerificationError(
            f"key entry {key_index} is not earlier than the statement {statement.index}"
        )
    later = [
        k.index
        for k in proven_keys
        if key_index < k.index < statement.index
        and (k.document.get("body") or {}).get("beneficiary") == d_body.get("beneficiary")
    ]
    if later:
        raise VerificationError(
            f"key entry {key_index} was retired: beneficiary {d_body.get('beneficiary')!r} "
            f"enrolled a new key in entry {min(later)}, before this statement (entry "
            f"{statement.index}); a retired key signs nothing after its replacement"
        )
    if kind == kinds.DISPUTED:
        verdict, received = acknowledgment.DISPUTED, _int(body, "received")
    else:
        verdict, received = acknowledgment.ACKNOWLEDGED, _int(d_body, "amount")
    if disbursed.minor_units is None:
        raise MalformedError("expected the disbursement's fund to record its exponent")
    facts = acknowledgment.Disbursed(
        origin=disbursed.checkpoint.origin,
        org=disbursed.checkpoint.origin.rsplit("/", 1)[-1],
        beneficiary=str(d_body.get("beneficiary")),
        index=disbursed.index,
        leaf_hash=merkle.leaf_hash(_canonical(disbursed)),
        amount=_int(d_body, "amount"),
        currency=str(d_body.get("currency")),
        minor_units=disbursed.minor_units,
        paid_on=str(d_body.get("paid_on")),
    )
    acknowledgment.verify_signature(
        acknowledgment.decode_public_key(str(k_body.get("public_key"))),
        acknowledgment.message(facts, verdict, received),
        acknowledgment.decode_signature(str(body.get("signature"))),
    )
    org_name = None
    if doc.get("org_proof") is not None:
        org_name = _with_org(statement, doc["org_proof"], verifiers, None).org_name
    name = None
    if doc.get("beneficiary_proof") is not None:
        name = _beneficiary_name(doc["beneficiary_proof"], statement, disbursed, verifiers)
    return AcknowledgmentProven(
        statement, disbursed, key_index, verdict, received, name, org_name
    )


def _beneficiary_name(
    text: Any, statement: EntryProven, disbursed: EntryProven, verifiers: list[Verifier]
) -> str:
    """The name the beneficiary's proven record gives: a ``beneficiary.registered`` or
    ``beneficiary.updated`` entry of the disbursement's beneficiary, before it, under the
    same checkpoint."""
    if not isinstance(text, str):
        raise MalformedError("expected the file's beneficiary_proof as tlog-proof text")
    record = verify_tlog_proof(text, verifiers)
    _same_checkpoint(statement, record, "beneficiary proof")
    r_body = record.document.get("body") or {}
    code = (disbursed.document.get("body") or {}).get("beneficiary")
    name = r_body.get("name")
    if (
        record.document.get("kind") not in kinds.BENEFICIARY
        or r_body.get("code") != code
        or record.index >= disbursed.index
        or not isinstance(name, str)
    ):
        raise VerificationError(
            f"expected the beneficiary proof to be a record of beneficiary {code!r} before "
            f"the disbursement (entry {disbursed.index}); got entry {record.index} "
            f"({record.document.get('kind')}, code {r_body.get('code')!r})"
        )
    return name


def _canonical(proven: EntryProven) -> bytes:
    return canonical_json(proven.document)
