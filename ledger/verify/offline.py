"""``ledger-verify``: check receipts, checkpoints and exported logs without the server.

This module and everything it imports depend only on the standard library and
``cryptography``: a donor or auditor can verify with nothing but a file and the
organization's published public key (vkey). Every check raises a ``VerificationError``
subclass saying what was expected and what was found; the command prints PASS or FAIL and
exits 0 (verified), 1 (does not verify) or 2 (unusable input).

Receipt (``donation-ledger-receipt/v1``, JSON)::

    {"format": "donation-ledger-receipt/v1",
     "tlog_proof": "<c2sp.org/tlog-proof@v1 text; extra = entry canonical bytes>",
     "fund_proof": "<tlog-proof of the donation's fund.created entry, same checkpoint>",
     "reversal_proof": "<tlog-proof of the correction that reversed it, same checkpoint>" | null,
     "donor_opening": {"salt": "<base64>", "personal": {...}} | null}

``fund_proof`` proves the exponent the fund recorded (what the integer amount means); a
receipt without it (issued before it existed, or a bare tlog-proof) is read with the
docs/FORMAT.md rule for v1 fund entries: ISO 4217 as of 2026-01-01. ``reversal_proof``
proves that a later correction reversed the donation: the receipt still verifies (the gift
is in the log), and the result says it was reversed, by which entry, when and why, so the
gift no longer counts.

A bare ``.tlog-proof`` file is accepted too. Exported log (``donation-ledger-export/v1``):
JSON Lines, a header ``{"format", "origin", "size"}``, then ``{"checkpoint": note}`` lines,
then ``{"index": i, "canonical": "<base64>"}`` lines in index order.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ledger.errors import LedgerError, MalformedError, UnusableInputError, VerificationError
from ledger.formats import merkle
from ledger.formats.canonical import canonical_json
from ledger.formats.chain import CHAIN_PREFIX, GENESIS_PREV_HASH
from ledger.formats.checkpoint import Checkpoint, open_checkpoint, open_checkpoint_signed
from ledger.formats.note import Verifier, parse_vkey
from ledger.formats.policy import Policy, check_checkpoint, parse_policy
from ledger.formats.tlogproof import parse_proof
from ledger.formats.valuedates import correction_effective_on
from schemas import kinds
from schemas.iso4217 import MINOR_UNITS

RECEIPT_FORMAT = "donation-ledger-receipt/v1"
EXPORT_FORMAT = "donation-ledger-export/v1"
COMMITMENT_DOMAIN = b"donation-ledger donor v1\x00"
MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects read from any JSON input (receipts, entries, export
lines); ours need at most 5. Deeper input is unusable (exit 2, HTTP 400), not a crash."""


def load_json(text: str | bytes, what: str) -> Any:
    """``text`` parsed as JSON, or ``MalformedError`` naming ``what``; nesting deeper than
    ``MAX_JSON_DEPTH`` (or deep enough to exhaust the parser's recursion) is
    ``UnusableInputError``."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep(what) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedError(f"{what} is not JSON: {exc}") from exc
    level: list[Any] = [value]
    for _ in range(MAX_JSON_DEPTH):
        level = [
            item
            for container in level
            if isinstance(container, dict | list)
            for item in (container.values() if isinstance(container, dict) else container)
            if isinstance(item, dict | list)
        ]
        if not level:
            return value
    raise _too_deep(what)


def _too_deep(what: str) -> UnusableInputError:
    return UnusableInputError(
        f"{what} is nested more than {MAX_JSON_DEPTH} levels deep: expected a receipt, entry "
        "or export line as this ledger writes them"
    )


@dataclass(frozen=True)
class ReversalProven:
    """A correction entry proven in the same log, at the same checkpoint, reversing the entry:
    the entry is still in the log, but it no longer counts."""

    index: int
    """Index of the correction entry (later than the reversed one)."""
    time: str
    """When the log recorded the correction (the entry's ``time``, RFC 3339 UTC)."""
    reason: str
    """The reason the correction gives."""
    effective_on: str = ""
    """The correction's value date, ``YYYY-MM-DD`` (``correction_effective_on``)."""

    @property
    def day(self) -> str:
        """The day the reversal is shown with: the correction's value date."""
        return self.effective_on or self.time[:10]


@dataclass(frozen=True)
class EntryProven:
    """An entry proven to be in the log at a signed checkpoint."""

    checkpoint: Checkpoint
    """The signed checkpoint that includes it."""
    index: int
    """Entry index."""
    document: dict[str, Any]
    """The entry document (decoded canonical bytes)."""
    signed_by: tuple[str, ...]
    """Labels (name+keyid) of the pinned keys that signed the checkpoint."""
    donor_opened: bool | None = None
    """True when the receipt's donor opening matches the entry's commitment; None if absent."""
    witnesses: tuple[str, ...] = ()
    """Witnesses (policy names) whose cosignatures on the checkpoint verified."""
    fund_index: int | None = None
    """Index of the fund.created entry the receipt proved (None: no fund proof given)."""
    minor_units: int | None = None
    """Exponent of the amount: what the proven fund entry recorded, else the v1 rule (ISO
    4217 as of 2026-01-01); None for an entry without an amount or an unknown currency."""
    reversal: ReversalProven | None = None
    """The correction that reversed this entry, proven under the same checkpoint (None: the
    receipt proves no reversal; a receipt fetched before one was recorded cannot)."""
    reversal_checked: bool = False
    """True when the receipt says whether the entry was reversed up to its checkpoint (it has
    the ``reversal_proof`` member, null when not reversed)."""


@dataclass
class LogSummary:
    """Result of verifying an exported log."""

    origin: str
    size: int = 0
    checkpoints: int = 0
    root: bytes = merkle.EMPTY_ROOT
    kinds: dict[str, int] = field(default_factory=dict)


def _decode_document(data: bytes) -> dict[str, Any]:
    document = load_json(data, "the entry bytes")
    if not isinstance(document, dict) or canonical_json(document) != data:
        raise MalformedError("entry bytes are not in canonical form (RFC 8785)")
    return document


def commitment_of(salt: bytes, personal: dict[str, Any]) -> str:
    digest = hashlib.sha256(COMMITMENT_DOMAIN + salt + canonical_json(personal)).digest()
    return base64.b64encode(digest).decode()


def verify_tlog_proof(
    text: str | bytes, verifiers: Sequence[Verifier], policy: Policy | None = None
) -> EntryProven:
    """The proof's checkpoint is signed by a pinned key (and, with a policy, cosigned by a
    quorum of its witnesses) and includes the entry it carries."""
    proof = parse_proof(text)
    witnesses: tuple[str, ...] = ()
    if policy is not None:
        witnesses = tuple(check_checkpoint(proof.checkpoint, policy))
        verifiers = [*verifiers, *policy.logs]
    checkpoint, used = open_checkpoint_signed(proof.checkpoint, verifiers)
    signed = tuple(v.label for v in used)
    if proof.extra is None:
        raise MalformedError("expected the entry's canonical bytes in the proof's extra line")
    if proof.index >= checkpoint.size:
        raise VerificationError(
            f"expected an index below the checkpoint size {checkpoint.size}, got {proof.index}"
        )
    merkle.verify_inclusion(
        merkle.leaf_hash(proof.extra), proof.index, checkpoint.size, proof.proof, checkpoint.root
    )
    document = _decode_document(proof.extra)
    if document.get("index") != proof.index or document.get("log") != checkpoint.origin:
        raise VerificationError(
            f"entry says index {document.get('index')} of log {document.get('log')!r}; "
            f"the proof is for index {proof.index} of {checkpoint.origin!r}"
        )
    return EntryProven(
        checkpoint,
        proof.index,
        document,
        signed,
        None,
        witnesses,
        None,
        _v1_minor_units(document.get("body") or {}),
    )


def verify_receipt(
    receipt: str | bytes, verifiers: Sequence[Verifier], policy: Policy | None = None
) -> EntryProven:
    """A receipt (JSON) or bare tlog-proof: proven inclusion, and the donor opening if any."""
    text = receipt.decode("utf-8", "replace") if isinstance(receipt, bytes) else receipt
    if not text.lstrip().startswith("{"):
        return verify_tlog_proof(text, verifiers, policy)
    data = load_json(text, "the receipt")
    if not isinstance(data, dict) or data.get("format") != RECEIPT_FORMAT:
        raise MalformedError(f"expected a receipt with format {RECEIPT_FORMAT!r}")
    proven = verify_tlog_proof(str(data.get("tlog_proof", "")), verifiers, policy)
    if data.get("fund_proof") is not None:
        proven = _with_fund(proven, str(data["fund_proof"]), verifiers, policy)
    if data.get("reversal_proof") is not None:
        proven = _with_reversal(proven, data["reversal_proof"], verifiers, policy)
    elif "reversal_proof" in data:
        proven = replace(proven, reversal_checked=True)
    opening = data.get("donor_opening")
    if opening is None:
        return proven
    try:
        salt = base64.b64decode(opening["salt"], validate=True)
        personal = opening["personal"]
    except (KeyError, TypeError, binascii.Error) as exc:
        raise MalformedError("donor_opening needs base64 'salt' and object 'personal'") from exc
    expected = (proven.document.get("body") or {}).get("donor", {}).get("commitment")
    found = commitment_of(salt, personal)
    if expected != found:
        raise VerificationError(
            f"the donor opening does not match the entry's commitment "
            f"(expected {expected}, computed {found})"
        )
    return replace(proven, donor_opened=True)


def _with_fund(
    proven: EntryProven, text: str, verifiers: Sequence[Verifier], policy: Policy | None
) -> EntryProven:
    """The receipt's fund proof is in the same log, is the fund.created entry of the
    donation's fund and currency, and comes before the donation: its exponent counts."""
    fund = verify_tlog_proof(text, verifiers, policy)
    body = proven.document.get("body") or {}
    fund_body = fund.document.get("body") or {}
    if (
        fund.checkpoint.origin != proven.checkpoint.origin
        or fund.document.get("kind") != kinds.FUND_CREATED
        or fund_body.get("code") != body.get("fund")
        or fund_body.get("currency") != body.get("currency")
        or fund.index >= proven.index
    ):
        raise VerificationError(
            f"expected the fund proof to be the fund.created entry of fund {body.get('fund')!r} "
            f"({body.get('currency')}) earlier in {proven.checkpoint.origin!r}; got entry "
            f"{fund.index} ({fund.document.get('kind')}) of {fund.checkpoint.origin!r}"
        )
    recorded = fund_body.get("minor_units")
    if recorded is not None and (
        isinstance(recorded, bool) or not isinstance(recorded, int) or not 0 <= recorded <= 4
    ):
        raise MalformedError(f"expected the fund's minor_units in 0..4, got {recorded!r}")
    return replace(
        proven,
        fund_index=fund.index,
        minor_units=recorded if recorded is not None else _v1_minor_units(body),
    )


def _with_reversal(
    proven: EntryProven, text: Any, verifiers: Sequence[Verifier], policy: Policy | None
) -> EntryProven:
    """The receipt's reversal proof is a ``correction`` entry of the same log, proven under
    the very checkpoint that proves the donation, later than it, whose ``corrects`` is the
    donation's index: the donation is in the log but no longer counts."""
    if not isinstance(text, str):
        raise MalformedError("expected the receipt's reversal_proof as tlog-proof text")
    reversal = verify_tlog_proof(text, verifiers, policy)
    body = reversal.document.get("body") or {}
    same = (
        reversal.checkpoint.origin == proven.checkpoint.origin
        and reversal.checkpoint.size == proven.checkpoint.size
        and reversal.checkpoint.root == proven.checkpoint.root
    )
    if not same:
        raise VerificationError(
            f"expected the reversal proof under the donation's checkpoint ({proven.checkpoint.origin} "
            f"at size {proven.checkpoint.size}); got {reversal.checkpoint.origin} at size "
            f"{reversal.checkpoint.size}"
        )
    corrects = body.get("corrects")
    if (
        reversal.document.get("kind") != kinds.CORRECTION
        or isinstance(corrects, bool)
        or corrects != proven.index
        or reversal.index <= proven.index
    ):
        raise VerificationError(
            f"expected the reversal proof to be a later correction entry with corrects "
            f"{proven.index}; got entry {reversal.index} ({reversal.document.get('kind')}, "
            f"corrects {corrects!r})"
        )
    reason, time = body.get("reason"), reversal.document.get("time")
    if not isinstance(reason, str) or not isinstance(time, str):
        raise MalformedError("expected the correction entry's reason and time as text")
    try:
        effective = correction_effective_on(body, time).isoformat()
    except ValueError as exc:
        raise MalformedError(
            f"expected the correction entry's effective_on as YYYY-MM-DD: {exc}"
        ) from exc
    return replace(
        proven,
        reversal=ReversalProven(reversal.index, time, reason, effective),
        reversal_checked=True,
    )


def reversal_text(reversal: ReversalProven) -> str:
    """What a donor reads about a reversed gift (one line, for people)."""
    return (
        f"REVERSED by entry {reversal.index} on {reversal.day} ({reversal.reason}): "
        "this gift no longer counts"
    )


def _v1_minor_units(body: dict[str, Any]) -> int | None:
    """docs/FORMAT.md §6: a fund entry without ``minor_units`` means ISO 4217 list one as
    published on 2026-01-01."""
    currency = body.get("currency")
    return MINOR_UNITS.get(currency) if isinstance(currency, str) else None


def amount_text(amount: int, currency: str, minor_units: int) -> str:
    """An amount the way a donor reads it: ``Rp 1.250.000`` (IDR, whole rupiah shown
    without sen), ``Rp 1.250.000,50``, else ``USD 12.50``. Plain rules rather than Babel so
    the verifier installs with ``cryptography`` alone; the server's documents use the
    same separators for IDR."""
    whole, fraction = divmod(amount, 10**minor_units)
    if currency == "IDR":
        text = "Rp " + f"{whole:,}".replace(",", ".")
        return text + (f",{fraction:0{minor_units}d}" if fraction else "")
    text = f"{currency} {whole:,}"
    return text + (f".{fraction:0{minor_units}d}" if minor_units else "")


def verify_consistency(
    old_note: str, new_note: str, proof: Sequence[bytes], verifiers: Sequence[Verifier]
) -> tuple[Checkpoint, Checkpoint]:
    """Both checkpoints are signed by pinned keys and the newer extends the older."""
    old = open_checkpoint(old_note, verifiers)
    new = open_checkpoint(new_note, verifiers, origin=old.origin)
    merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    return old, new


def verify_export(lines: Iterable[bytes | str], verifiers: Sequence[Verifier]) -> LogSummary:
    """Stream an exported log: chain, leaf hashes, every checkpoint's signature and root."""
    it = iter(lines)
    try:
        header = load_json(next(it), "the header line")
    except StopIteration as exc:
        raise MalformedError("expected a JSON header line") from exc
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
        raise MalformedError(f"expected format {EXPORT_FORMAT!r}")
    summary = LogSummary(origin=header["origin"])
    pending: dict[int, bytes] = {}
    tree = merkle.CompactRange()
    prev = GENESIS_PREV_HASH
    for n, raw in enumerate(it, start=2):
        if not raw.strip():
            continue
        item = load_json(raw, f"line {n}")
        if not isinstance(item, dict):
            raise MalformedError(f"line {n}: expected a JSON object")
        if "checkpoint" in item:
            cp = open_checkpoint(item["checkpoint"], verifiers, origin=summary.origin)
            if cp.size < tree.size:
                raise MalformedError(f"line {n}: checkpoints must come before the entries")
            pending[cp.size] = cp.root
            summary.checkpoints += 1
            continue
        index = item.get("index")
        if index != tree.size:
            raise VerificationError(f"line {n}: expected entry {tree.size}, found {index}")
        data = base64.b64decode(item["canonical"], validate=True)
        document = _decode_document(data)
        if document.get("index") != index or document.get("log") != summary.origin:
            raise VerificationError(f"entry {index}: header disagrees with its position")
        if document.get("prev") != base64.b64encode(prev).decode():
            raise VerificationError(f"entry {index}: prev does not link to entry {index - 1}")
        leaf = merkle.leaf_hash(data)
        prev = hashlib.sha256(CHAIN_PREFIX + prev + leaf).digest()
        tree.append(leaf)
        kind = str(document.get("kind"))
        summary.kinds[kind] = summary.kinds.get(kind, 0) + 1
        root = pending.pop(tree.size, None)
        if root is not None and root != tree.root():
            raise VerificationError(
                f"the log does not extend its checkpoint at size {tree.size} (first bad index "
                f"is below {tree.size})"
            )
    if pending.get(0) not in (None, merkle.EMPTY_ROOT):
        raise VerificationError("checkpoint at size 0 has a non-empty root")
    pending.pop(0, None)
    if pending:
        raise VerificationError(
            f"a checkpoint at size {min(pending)} exists but the export has only {tree.size} "
            "entries: entries were removed from the end"
        )
    summary.size = tree.size
    summary.root = tree.root()
    return summary


# --- the command ------------------------------------------------------------------------------


def _verifiers(vkeys: Sequence[str], allow_none: bool = False) -> list[Verifier]:
    found = []
    for v in vkeys:
        if Path(v).is_file():
            found.extend(
                parse_vkey(line.strip())
                for line in Path(v).read_text().splitlines()
                if line.strip()
            )
        else:
            found.append(parse_vkey(v))
    if not found and not allow_none:
        raise MalformedError("give at least one --vkey (the organization's published key)")
    return found


def _proof_lines(path: str) -> list[bytes]:
    hashes = []
    for line in Path(path).read_text().split():
        hashes.append(base64.b64decode(line, validate=True))
    return hashes


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def run(args: argparse.Namespace) -> str:
    policy = parse_policy(Path(args.policy).read_text()) if args.policy else None
    verifiers = _verifiers(args.vkey, allow_none=policy is not None)
    if policy is not None:
        verifiers = [*verifiers, *policy.logs]
    if args.what == "receipt":
        proven = verify_receipt(Path(args.file).read_bytes(), verifiers, policy)
        doc = proven.document
        body = doc.get("body", {})
        lines = [
            f"entry {proven.index} ({doc.get('kind')}) is in log {proven.checkpoint.origin}",
            f"checkpoint size {proven.checkpoint.size}, root {_b64(proven.checkpoint.root)}",
            f"signed by {', '.join(proven.signed_by)}",
        ]
        if isinstance(body.get("amount"), int) and proven.minor_units is not None:
            source = (
                f"exponent {proven.minor_units} recorded by fund entry {proven.fund_index}"
                if proven.fund_index is not None
                else f"exponent {proven.minor_units} by ISO 4217 of 2026-01-01: this file "
                "does not prove the fund's own"
            )
            lines.append(
                f"amount {amount_text(body['amount'], body['currency'], proven.minor_units)} "
                f"({body['amount']} minor units of {body['currency']}, {source}), "
                f"fund {body.get('fund')}, reference {body.get('reference')}"
            )
        if proven.donor_opened:
            lines.append("donor details match the entry's commitment")
        if proven.reversal is not None:
            lines.append("status: " + reversal_text(proven.reversal))
        elif proven.reversal_checked:
            lines.append(
                f"status: counts (no reversal recorded up to checkpoint size "
                f"{proven.checkpoint.size})"
            )
        if policy is not None:
            vouched = ", ".join(proven.witnesses) or "none (the policy needs none)"
            lines.append(f"witnesses that vouched for this checkpoint: {vouched}")
        if args.checkpoint:
            newer = Path(args.checkpoint).read_text()
            proof = _proof_lines(args.consistency) if args.consistency else []
            old_note = _checkpoint_text(Path(args.file).read_bytes())
            _, new = verify_consistency(old_note, newer, proof, verifiers)
            lines.append(f"and the log at size {new.size} still contains it (consistency proven)")
        return "\n".join(lines)
    if args.what == "acknowledgment":
        # imported here: that module builds on this one's proof checks
        from ledger.verify.acknowledgments import verify_acknowledgment

        ack = verify_acknowledgment(Path(args.file).read_bytes(), verifiers)
        return "\n".join(
            [
                ack.text(),
                f"checkpoint size {ack.statement.checkpoint.size}, root "
                f"{_b64(ack.statement.checkpoint.root)}",
                f"signed by {', '.join(ack.statement.signed_by)}",
                "the beneficiary's signature verifies over the documented message",
            ]
        )
    if args.what == "consistency":
        proof = _proof_lines(args.proof)
        old, new = verify_consistency(
            Path(args.old).read_text(), Path(args.new).read_text(), proof, verifiers
        )
        return f"log {old.origin} at size {new.size} extends its checkpoint at size {old.size}"
    with open(args.file, "rb") as f:
        summary = verify_export(f, verifiers)
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(summary.kinds.items()))
    return (
        f"log {summary.origin}: {summary.size} entries ({kinds}), {summary.checkpoints} "
        f"checkpoints verified, root {_b64(summary.root)}"
    )


def _checkpoint_text(receipt: bytes) -> str:
    text = receipt.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        text = load_json(text, "the receipt")["tlog_proof"]
    return parse_proof(text).checkpoint


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledger-verify",
        description="Verify donation-ledger receipts, checkpoints and exported logs offline, "
        "against the organization's published public key. Exit 0 = verified, 1 = does not "
        "verify, 2 = unusable input.",
    )
    sub = parser.add_subparsers(dest="what", required=True, metavar="WHAT")
    p = sub.add_parser("receipt", help="a receipt (.json) or .tlog-proof file")
    p.add_argument("file")
    p.add_argument("--checkpoint", help="a newer checkpoint to check the receipt against")
    p.add_argument("--consistency", help="file of base64 consistency-proof hashes (one a line)")
    p = sub.add_parser("consistency", help="a newer checkpoint extends an older one")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("proof", help="file of base64 consistency-proof hashes (one a line)")
    p = sub.add_parser(
        "acknowledgment",
        help="a recipient's signed acknowledgment or dispute of a disbursement "
        "(donation-ledger-acknowledgment/v1)",
    )
    p.add_argument("file")
    p = sub.add_parser("log", help="a whole exported log (donation-ledger-export/v1)")
    p.add_argument("file")
    for name, q in sub.choices.items():
        q.add_argument(
            "--vkey",
            action="append",
            default=[],
            help="trusted log key (vkey text or a file of vkey lines); repeatable",
        )
        q.add_argument(
            "--policy",
            help="a c2sp.org/tlog-policy file: log keys, witnesses and the quorum of witness "
            "cosignatures required",
        )
        q.set_defaults(what=name)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        message = run(args)
    except VerificationError as exc:
        kind = "unusable input" if isinstance(exc, MalformedError) else "does not verify"
        print(f"FAIL ({kind}): {exc}")
        return 2 if isinstance(exc, MalformedError) else 1
    except (OSError, ValueError, KeyError, TypeError, LedgerError) as exc:
        print(f"FAIL (unusable input): {exc}")
        return 2
    except (RecursionError, MemoryError) as exc:  # input no receipt or log could be
        print(f"FAIL (unusable input): too deeply nested or too large ({type(exc).__name__})")
        return 2
    print("PASS: " + message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
