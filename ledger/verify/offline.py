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
     "org_proof": "<tlog-proof of entry 0, the log.created entry naming the organization>",
     "donor_opening": {"salt": "<base64>", "personal": {...}} | null}

``fund_proof`` proves the exponent the fund recorded (what the integer amount means); a
receipt without it (issued before it existed, or a bare tlog-proof) is read with the
docs/FORMAT.md rule for v1 fund entries: ISO 4217 as of 2026-01-01. ``reversal_proof``
proves that a later correction reversed the donation: the receipt still verifies (the gift
is in the log), and the result says it was reversed, by which entry, when and why, so the
gift no longer counts.

``org_proof`` (receipts since issue 17) proves the organization's name, as the log's own
entry 0 recorded it, under the same checkpoint; the fund proof's entry names the fund. The
result can then say whose gift it is in words a donor knows.

A bare ``.tlog-proof`` file is accepted too, and so is the signed receipt PDF a donor holds:
its attached receipt (or proof) is read with the standard library (``ledger.formats.pdffiles``)
and verified as above; the PDF's own signature is checked too (``ledger.formats.pdfsignature``:
it covers the whole file and verifies, under a pinned certificate when one is given).
Exported log (``donation-ledger-export/v1``):
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
from ledger.formats.pdffiles import embedded_files, is_pdf
from ledger.formats.pdfsignature import (
    PdfSignature,
    check_pdf_signature,
    is_signed,
    load_certificate,
)
from ledger.formats.policy import Policy, check_checkpoint, parse_policy
from ledger.formats.tlogproof import parse_proof
from ledger.formats.valuedates import correction_effective_on
from schemas import kinds
from schemas.iso4217 import MINOR_UNITS

VERSION = "1.1.0"
"""Version of ``ledger-verify`` (``--version``); 1.1 reads receipt PDFs and org proofs."""
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
    org_name: str | None = None
    """The organization's name as the log's entry 0 records it (None: no org proof given)."""
    fund_name: str | None = None
    """The fund's name as its ``fund.created`` entry records it (None: no fund proof given)."""
    pdf_signature: PdfSignature | None = None
    """The receipt PDF's own signature, verified (None: not a PDF, or an unsigned one)."""


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


def receipts_in_pdf(pdf: bytes) -> list[bytes]:
    """The receipts a PDF carries, one per donation in the order of their file names: each
    donation's attached JSON receipt (``receipt-N.json``), else its ``receipt-N.tlog-proof``.
    An annual receipt carries several; a PDF without any is ``MalformedError``."""
    files = embedded_files(pdf)
    chosen: dict[str, bytes] = {}
    for name in sorted(files):
        stem, _, suffix = name.rpartition(".")
        if suffix == "json" or (suffix == "tlog-proof" and stem not in chosen):
            chosen[stem] = files[name]
    if not chosen:
        raise MalformedError(
            "expected a receipt PDF with an attached receipt (.json) or .tlog-proof file; "
            f"this PDF has {len(files)} attached files ({', '.join(sorted(files)) or 'none'})"
        )
    return list(chosen.values())


def pdf_signature_of(pdf: bytes, certificate: bytes | None = None) -> PdfSignature | None:
    """The PDF's signature, verified: it covers the whole file and verifies under the
    certificate it carries (the organization's, when ``certificate`` pins it); None when the
    PDF is not signed. ``SignatureError`` when it does not verify."""
    return check_pdf_signature(pdf, certificate) if is_signed(pdf) else None


def verify_receipt(
    receipt: str | bytes,
    verifiers: Sequence[Verifier],
    policy: Policy | None = None,
    *,
    certificate: bytes | None = None,
) -> EntryProven:
    """A receipt (JSON), a bare tlog-proof, or a receipt PDF carrying one of them (the one
    donation's receipt: use ``receipts_in_pdf`` for an annual receipt): proven inclusion, the
    names of organization and fund when proven, and the donor opening if any."""
    if isinstance(receipt, bytes) and is_pdf(receipt):
        signature = pdf_signature_of(receipt, certificate)
        found = receipts_in_pdf(receipt)
        if len(found) != 1:
            raise MalformedError(
                f"expected one receipt in the PDF, found {len(found)} (an annual receipt): "
                "verify each with receipts_in_pdf"
            )
        return replace(verify_receipt(found[0], verifiers, policy), pdf_signature=signature)
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
    if data.get("org_proof") is not None:
        proven = _with_org(proven, data["org_proof"], verifiers, policy)
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
    name = fund_body.get("name")
    return replace(
        proven,
        fund_index=fund.index,
        minor_units=recorded if recorded is not None else _v1_minor_units(body),
        fund_name=name if isinstance(name, str) else None,
    )


def _with_org(
    proven: EntryProven, text: Any, verifiers: Sequence[Verifier], policy: Policy | None
) -> EntryProven:
    """The receipt's org proof is entry 0 of the same log (``log.created``), proven under the
    donation's checkpoint: the name it records is the organization's own."""
    if not isinstance(text, str):
        raise MalformedError("expected the receipt's org_proof as tlog-proof text")
    org = verify_tlog_proof(text, verifiers, policy)
    name = (org.document.get("body") or {}).get("name")
    if (
        org.checkpoint != proven.checkpoint
        or org.index != 0
        or org.document.get("kind") != kinds.LOG_CREATED
        or not isinstance(name, str)
    ):
        raise VerificationError(
            f"expected the org proof to be entry 0 ({kinds.LOG_CREATED}) of "
            f"{proven.checkpoint.origin!r} under the donation's checkpoint; got entry "
            f"{org.index} ({org.document.get('kind')}) of {org.checkpoint.origin!r} at size "
            f"{org.checkpoint.size}"
        )
    return replace(proven, org_name=name)


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


NOT_PROVEN = (
    "what this does not prove: that the money reached a beneficiary. It proves the gift is "
    "recorded in the organization's public log, unchanged since, and whether it still counts "
    "in the published totals"
)
"""What a valid receipt does not say ("Sah" is not "delivered"), printed with every result."""


def receipt_report(proven: EntryProven, policy: Policy | None = None) -> dict[str, Any]:
    """A verified receipt in plain words first (``summary``: who, which fund, how much, and the
    three answers: recorded, unaltered, still counts), then the technical facts."""
    doc = proven.document
    body = doc.get("body") if isinstance(doc.get("body"), dict) else {}
    amount = None
    if isinstance(body.get("amount"), int) and proven.minor_units is not None:
        amount = amount_text(body["amount"], str(body.get("currency")), proven.minor_units)
    if proven.reversal is not None:
        counts: str | bool = False
        status = "reversed"
    elif proven.reversal_checked:
        counts, status = True, "counts"
    else:
        counts, status = "not stated by this file", "unknown"
    return {
        "verified": True,
        "status": status,
        "organization": proven.org_name,
        "fund": body.get("fund"),
        "fund_name": proven.fund_name,
        "amount": amount,
        "recorded": True,
        "unaltered": True,
        "still_counts": counts,
        "reversal": None
        if proven.reversal is None
        else {
            "index": proven.reversal.index,
            "effective_on": proven.reversal.day,
            "reason": proven.reversal.reason,
        },
        "not_proven": NOT_PROVEN,
        "entry": {
            "index": proven.index,
            "kind": doc.get("kind"),
            "log": proven.checkpoint.origin,
            "reference": body.get("reference"),
            "amount_minor_units": body.get("amount"),
            "currency": body.get("currency"),
            "minor_units": proven.minor_units,
            "fund_entry": proven.fund_index,
        },
        "checkpoint": {
            "size": proven.checkpoint.size,
            "root": _b64(proven.checkpoint.root),
            "signed_by": list(proven.signed_by),
            "witnesses": list(proven.witnesses) if policy is not None else None,
        },
        "donor_opened": proven.donor_opened,
        "pdf_signature": None
        if proven.pdf_signature is None
        else {"signer": proven.pdf_signature.signer, "pinned": proven.pdf_signature.pinned},
    }


def _receipt_lines(proven: EntryProven, policy: Policy | None) -> list[str]:
    """The report as text: the plain answers first, then "technical details"."""
    report = receipt_report(proven, policy)
    doc = proven.document
    body = doc.get("body", {})
    who = report["organization"] or "(organization not named: this file has no org proof)"
    fund = body.get("fund")
    fund_text = f"{report['fund_name']} ({fund})" if report["fund_name"] else str(fund)
    lines = [f"this receipt checks out for {who}"]
    if fund is not None:
        lines.append(f"  fund:         {fund_text}")
    if report["amount"] is not None:
        lines.append(f"  amount:       {report['amount']}")
    lines += [
        f"  recorded:     yes, entry {proven.index} of the organization's public log",
        "  unaltered:    yes, its bytes are the ones the signed checkpoint covers",
    ]
    if proven.reversal is not None:
        lines.append(f"  still counts: NO, {reversal_text(proven.reversal)}")
    elif proven.reversal_checked:
        lines.append(f"  still counts: yes (up to checkpoint size {proven.checkpoint.size})")
    else:
        lines.append("  still counts: not stated by this file (fetch a newer receipt)")
    if proven.pdf_signature is not None:
        pinned = (
            "the organization's pinned certificate"
            if proven.pdf_signature.pinned
            else "certificate not pinned: compare it with GET …/certificate, or pass --certificate"
        )
        lines.append(
            f"  PDF signature: intact, by {proven.pdf_signature.signer} ({pinned})"
        )
    lines += [f"  {NOT_PROVEN}", "technical details:"]
    lines += [
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
    return lines


def _receipts_of(data: bytes) -> list[bytes]:
    """The receipts in a file: the one receipt or proof, or every one a PDF carries."""
    return receipts_in_pdf(data) if is_pdf(data) else [data]


def run(args: argparse.Namespace) -> str:
    """Run the command; the text printed after PASS (JSON with ``--json``)."""
    policy = parse_policy(Path(args.policy).read_text()) if args.policy else None
    verifiers = _verifiers(args.vkey, allow_none=policy is not None)
    if policy is not None:
        verifiers = [*verifiers, *policy.logs]
    if args.what == "receipt":
        data = Path(args.file).read_bytes()
        certificate = load_certificate(Path(args.certificate).read_bytes()) if args.certificate else None
        signature = pdf_signature_of(data, certificate) if is_pdf(data) else None
        texts, reports = [], []
        for one in _receipts_of(data):
            proven = replace(verify_receipt(one, verifiers, policy), pdf_signature=signature)
            lines = _receipt_lines(proven, policy)
            report = receipt_report(proven, policy)
            if args.checkpoint:
                newer = Path(args.checkpoint).read_text()
                proof = _proof_lines(args.consistency) if args.consistency else []
                old_note = _checkpoint_text(one)
                _, new = verify_consistency(old_note, newer, proof, verifiers)
                lines.append(
                    f"and the log at size {new.size} still contains it (consistency proven)"
                )
                report["consistent_with_size"] = new.size
            texts.append("\n".join(lines))
            reports.append(report)
        if args.json:
            return json.dumps(reports[0] if len(reports) == 1 else reports, ensure_ascii=False)
        return "\n\n".join(texts)
    if args.what == "acknowledgment":
        # imported here: that module builds on this one's proof checks
        from ledger.verify.acknowledgments import verify_acknowledgment

        ack = verify_acknowledgment(Path(args.file).read_bytes(), verifiers)
        by = [f"organization: {ack.org_name}"] if ack.org_name else []
        return "\n".join(
            [
                ack.text(),
                *by,
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
        if args.json:
            return json.dumps(
                {"verified": True, "log": old.origin, "old_size": old.size, "new_size": new.size}
            )
        return f"log {old.origin} at size {new.size} extends its checkpoint at size {old.size}"
    with open(args.file, "rb") as f:
        summary = verify_export(f, verifiers)
    if args.json:
        return json.dumps(
            {
                "verified": True,
                "log": summary.origin,
                "size": summary.size,
                "checkpoints": summary.checkpoints,
                "root": _b64(summary.root),
                "kinds": summary.kinds,
            }
        )
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(summary.kinds.items()))
    return (
        f"log {summary.origin}: {summary.size} entries ({kinds}), {summary.checkpoints} "
        f"checkpoints verified, root {_b64(summary.root)}"
    )


def _checkpoint_text(receipt: bytes) -> str:
    if is_pdf(receipt):
        receipt = receipts_in_pdf(receipt)[0]
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
    parser.add_argument("--version", action="version", version=f"ledger-verify {VERSION}")
    sub = parser.add_subparsers(dest="what", required=True, metavar="WHAT")
    p = sub.add_parser(
        "receipt", help="a receipt PDF (the proof attached to it), a receipt .json or .tlog-proof"
    )
    p.add_argument("file")
    p.add_argument("--checkpoint", help="a newer checkpoint to check the receipt against")
    p.add_argument("--consistency", help="file of base64 consistency-proof hashes (one a line)")
    p.add_argument(
        "--certificate",
        help="the organization's document certificate (DER or PEM, GET …/certificate): a "
        "receipt PDF must be signed with it",
    )
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
        q.add_argument(
            "--json", action="store_true", help="print the result as one JSON document"
        )
        q.set_defaults(what=name)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def fail(kind: str, message: str, code: int) -> int:
        if args.json:
            print(json.dumps({"verified": False, "failure": kind, "detail": message}))
        else:
            print(f"FAIL ({kind}): {message}")
        return code

    try:
        message = run(args)
    except VerificationError as exc:
        if isinstance(exc, MalformedError):
            return fail("unusable input", str(exc), 2)
        return fail("does not verify", str(exc), 1)
    except (OSError, ValueError, KeyError, TypeError, LedgerError) as exc:
        return fail("unusable input", str(exc), 2)
    except (RecursionError, MemoryError) as exc:  # input no receipt or log could be
        return fail(
            "unusable input", f"too deeply nested or too large ({type(exc).__name__})", 2
        )
    print(message if args.json else "PASS: " + message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
