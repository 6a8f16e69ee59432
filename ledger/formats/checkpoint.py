"""Checkpoints (c2sp.org/tlog-checkpoint): a log's signed tree head, as a signed note.

The note text is the origin line, the tree size in ASCII decimal without leading zeros, the
standard base64 of the 32-byte RFC 6962 / RFC 9162 root hash, and optional non-empty
extension lines, each ending in a newline. `parse_checkpoint` accepts exactly that, so a
checkpoint has one text: `Checkpoint.body()` of a parsed checkpoint gives back its input.

Stricter than the spec on one point: the origin may not start or end with whitespace, so two
origins that look the same are the same.
"""

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import MalformedError, VerificationError
from ledger.formats.note import NoteSigner, Verifier, decode_canonical_base64, open_note, sign_note

ROOT_HASH_SIZE = 32
"""Bytes of a SHA-256 Merkle root."""
MAX_TREE_SIZE = 2**64 - 1
"""Tree sizes are unsigned 64-bit integers (RFC 6962 / RFC 9162 `tree_size`)."""
_TREE_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")  # ASCII decimal, no leading zeros
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f]")  # lines carry no control characters


def _check_line(line: str, number: int, what: str) -> None:
    if not line:
        raise MalformedError(f"line {number}: expected a non-empty {what}, got an empty line")
    if found := _CONTROL_CHARACTER.search(line):
        char = ord(found.group())
        raise MalformedError(f"line {number}: expected no control characters, got U+{char:04X}")


def _check_origin(origin: str) -> None:
    _check_line(origin, 1, "origin")
    if origin != origin.strip():
        raise MalformedError(f"line 1: expected an origin without outer spaces, got {origin!r}")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head; every field is part of the signed note text."""

    origin: str
    """Identity of the log that issued the checkpoint (line 1); signed."""
    size: int
    """Number of leaves in the tree (line 2); signed."""
    root: bytes
    """The 32-byte Merkle tree hash of those leaves (line 3); signed."""
    extensions: tuple[str, ...] = ()
    """Opaque extension lines (lines 4 on, usually none); signed by the log, though
    Ed25519 cosigners make no statement about them."""

    def __post_init__(self) -> None:
        _check_origin(self.origin)
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise MalformedError(f"expected an integer tree size, got {self.size!r}")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise MalformedError(f"expected a tree size in 0..2^64-1, got {self.size}")
        if len(self.root) != ROOT_HASH_SIZE:
            raise MalformedError(
                f"expected a {ROOT_HASH_SIZE}-byte root hash, got {len(self.root)} bytes"
            )
        for number, line in enumerate(self.extensions, 4):
            _check_line(line, number, "extension line")  # also rejects newlines

    def body(self) -> str:
        """The note text: the exact bytes (UTF-8) that the log and cosigners sign."""
        root = base64.b64encode(self.root).decode("ascii")
        lines = (self.origin, str(self.size), root, *self.extensions)
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text strictly; `MalformedError` names the offending line."""
    if not text.endswith("\n"):
        raise MalformedError("expected a checkpoint text ending in a newline, got none")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedError(f"expected at least 3 lines (origin, size, root), got {len(lines)}")
    origin, size, root, *extensions = lines
    _check_origin(origin)
    for number, line in enumerate(lines[1:], 2):
        _check_line(line, number, "line")
    if not _TREE_SIZE.fullmatch(size):
        raise MalformedError(
            f"line 2: expected a tree size in ASCII decimal without leading zeros, got {size!r}"
        )
    if int(size) > MAX_TREE_SIZE:
        raise MalformedError(f"line 2: expected a tree size below 2^64, got {size}")
    root_hash = decode_canonical_base64(root, "the root hash (line 3)")
    if len(root_hash) != ROOT_HASH_SIZE:
        raise MalformedError(
            f"line 3: expected a {ROOT_HASH_SIZE}-byte root hash, got {len(root_hash)} bytes"
        )
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> str:
    """The signed note of `checkpoint`, signed by every signer in order."""
    return sign_note(checkpoint.body(), signers)


def open_checkpoint(
    note: str | bytes, verifiers: Sequence[Verifier], *, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint (see `ledger.formats.note.open_note`) and parse its text.

    With `origin`, the checkpoint must also be of that log; a mismatch raises
    `VerificationError`, since a valid signature over another log's tree head proves nothing
    about this one.
    """
    return open_checkpoint_signed(note, verifiers, origin=origin)[0]


def open_checkpoint_signed(
    note: str | bytes, verifiers: Sequence[Verifier], *, origin: str | None = None
) -> tuple[Checkpoint, list[Verifier]]:
    """`open_checkpoint`, also returning which of the verifiers signed it."""
    opened, used = open_note(note, verifiers)
    checkpoint = parse_checkpoint(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(f"expected origin {origin!r}, got {checkpoint.origin!r}")
    return checkpoint, used
