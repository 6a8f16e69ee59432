"""Signed notes (c2sp.org/signed-note) with Ed25519, and Ed25519 checkpoint cosignatures
(c2sp.org/tlog-cosignature, ``cosignature/v1``), as the Go checksum database writes them.

`parse_note` accepts only notes in the documented format, else `MalformedError`. `open_note`
returns only if a known key verified the text and no known key's signature failed, else
`SignatureError`; unknown keys are ignored (spec), so witnesses can cosign, keys can rotate.
"""

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import MalformedError, SignatureError

ALG_ED25519 = 0x01
"""Signature type byte of plain Ed25519 note signatures (signed-note, "Ed25519 signatures")."""
ALG_COSIGNATURE_V1 = 0x04
"""Signature type byte of timestamped Ed25519 checkpoint cosignatures (tlog-cosignature)."""
SIGNATURE_LINE_PREFIX = "\u2014 "  # em dash (U+2014) and space start every signature line
COSIGNATURE_V1_HEADER = b"cosignature/v1\n"  # domain separation of cosigned messages
KEY_ID_SIZE = 4
ED25519_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64
TIMESTAMP_SIZE = 8
MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature: timestamps MUST NOT exceed 2^63 - 1
MAX_SIGNATURES = 100  # more signature lines are rejected; the spec requires accepting 16
_CONTROL_CHARACTER = re.compile("[\x00-\x09\x0b-\x1f]")  # all below U+0020 but newline


def decode_canonical_base64(text: str, what: str) -> bytes:
    """Decode standard padded base64 (RFC 4648 section 4) in its one canonical encoding only."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise MalformedError(f"expected standard base64 for {what}, got {text!r}") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise MalformedError(f"expected canonical padded base64 for {what}, got {text!r}")
    return raw


def _require_size(data: bytes, size: int, what: str) -> None:
    if len(data) != size:
        raise MalformedError(f"expected a {size}-byte {what}, got {len(data)} bytes")


def check_key_name(name: str) -> None:
    """Raise `MalformedError` unless `name` is non-empty, without spaces, '+' or controls."""
    if not isinstance(name, str) or not name:
        raise MalformedError(f"expected a non-empty key name, got {name!r}")
    if any(ch == "+" or ch.isspace() or ord(ch) < 0x20 for ch in name):
        raise MalformedError(f"expected a key name without spaces, '+' or controls, got {name!r}")
    _utf8(name, "a key name")


def _utf8(text: str | bytes, what: str) -> bytes:
    if not isinstance(text, str):
        return bytes(text)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedError(f"expected {what} encodable as UTF-8, got {exc.reason}") from exc


def key_id(name: str, alg: int, public_key: bytes) -> bytes:
    """The 4-byte key id: SHA-256(name || 0x0A || signature type || public key)[:4]."""
    check_key_name(name)
    if not 0 <= alg <= 0xFF:
        raise MalformedError(f"expected a signature type byte 0..255, got {alg}")
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()
    return digest[:KEY_ID_SIZE]


def cosignature_message(body: str | bytes, timestamp: int) -> bytes:
    """The bytes an Ed25519 cosigner signs (tlog-cosignature, "Ed25519 signed message"):
    ``cosignature/v1\\n``, ``time <decimal timestamp>\\n``, then the whole checkpoint body."""
    if not isinstance(timestamp, int) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise MalformedError(f"expected an integer timestamp in 0..2^63-1, got {timestamp!r}")
    raw = _utf8(body, "a checkpoint body")
    return COSIGNATURE_V1_HEADER + b"time %d\n" % timestamp + raw


def cosignature_timestamp(signature: bytes) -> int:
    """The POSIX timestamp of a cosignature/v1 signature: its first 8 bytes, big-endian."""
    _require_size(signature, TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE, "timestamped signature")
    return int.from_bytes(signature[:TIMESTAMP_SIZE], "big")


@dataclass(frozen=True)
class Verifier:
    """A trusted public key, as configured from a vkey; verifies one signature type."""

    name: str
    """Key name, as it appears in signature lines."""
    key_id: bytes
    """4-byte key id; always equal to `key_id(name, alg, public_key)`."""
    public_key: bytes
    """Raw 32-byte Ed25519 public key (RFC 8032 encoding)."""
    alg: int
    """Signature type: `ALG_ED25519` or `ALG_COSIGNATURE_V1`."""
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.alg not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise MalformedError(f"expected signature type 0x01 or 0x04, got {self.alg!r}")
        _require_size(self.public_key, ED25519_KEY_SIZE, "Ed25519 public key")
        expected = key_id(self.name, self.alg, self.public_key)
        if self.key_id != expected:
            raise MalformedError(f"expected key id {expected.hex()}, got {self.key_id.hex()}")
        key = Ed25519PublicKey.from_public_bytes(bytes(self.public_key))  # any 32 bytes load
        object.__setattr__(self, "_key", key)

    @property
    def label(self) -> str:
        """``name+hexkeyid``, how error messages name this key."""
        return f"{self.name}+{self.key_id.hex()}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether `signature` (after the key id) is valid over `message`, the note text. For
        cosignatures it is timestamp || Ed25519 signature over `cosignature_message`."""
        if self.alg == ALG_COSIGNATURE_V1:
            timestamp = int.from_bytes(signature[:TIMESTAMP_SIZE], "big")
            if (
                len(signature) != TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE
                or timestamp > MAX_TIMESTAMP
            ):
                return False
            message, signature = cosignature_message(message, timestamp), signature[TIMESTAMP_SIZE:]
        if len(signature) != ED25519_SIGNATURE_SIZE:
            return False
        try:
            self._key.verify(bytes(signature), bytes(message))
        except InvalidSignature:
            return False
        return True


def format_vkey(name: str, public_key: bytes, alg: int = ALG_ED25519) -> str:
    """The vkey ``<name>+<hex key id>+<base64(alg || key)>`` of an Ed25519 key."""
    _require_size(public_key, ED25519_KEY_SIZE, "Ed25519 public key")
    kid = key_id(name, alg, public_key)
    return f"{name}+{kid.hex()}+{base64.b64encode(bytes([alg]) + public_key).decode('ascii')}"


def format_cosignature_vkey(name: str, public_key: bytes) -> str:
    """The vkey of an Ed25519 cosigner: signature type 0x04 (tlog-cosignature)."""
    return format_vkey(name, public_key, ALG_COSIGNATURE_V1)


def parse_vkey(vkey: str, alg: int = ALG_ED25519) -> Verifier:
    """Parse a vkey strictly: name rules, 8 lowercase hex digits of key id matching the name
    and key, canonical base64 of signature type `alg` (0x01 unless told) and a 32-byte key."""
    parts = vkey.split("+", 2)  # names hold no '+'; base64 may
    if len(parts) != 3:
        raise MalformedError(f"expected a vkey <name>+<hex key id>+<base64 key>, got {vkey!r}")
    name, id_hex, key_b64 = parts
    check_key_name(name)
    if len(id_hex) != 2 * KEY_ID_SIZE or any(c not in "0123456789abcdef" for c in id_hex):
        raise MalformedError(f"expected 8 lowercase hex digits of key id, got {id_hex!r}")
    raw = decode_canonical_base64(key_b64, "the vkey's key")
    if not raw or raw[0] != alg:
        found = f"0x{raw[0]:02x}" if raw else "nothing"
        raise MalformedError(f"expected signature type 0x{alg:02x} in the vkey, got {found}")
    return Verifier(name=name, key_id=bytes.fromhex(id_hex), public_key=raw[1:], alg=alg)


def parse_cosignature_vkey(vkey: str) -> Verifier:
    """Parse an Ed25519 cosigner (type 0x04) vkey, as strictly as `parse_vkey`."""
    return parse_vkey(vkey, ALG_COSIGNATURE_V1)


class NoteSigner(Protocol):
    """What `sign_note` needs: a signature line's name and key id, and the signature."""

    @property
    def name(self) -> str: ...
    @property
    def key_id(self) -> bytes: ...
    def sign_text(self, text: str) -> bytes: ...


@dataclass(frozen=True)
class _Ed25519Key:
    """An Ed25519 private key under a key name; subclasses fix the signature type."""

    name: str
    """Key name written in signature lines."""
    private_key: Ed25519PrivateKey = field(repr=False)
    """The private key; never printed."""
    _public_key: bytes = field(init=False, repr=False, compare=False)
    alg: ClassVar[int]

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if not isinstance(self.private_key, Ed25519PrivateKey):
            raise MalformedError(f"expected an Ed25519 private key, got {self.private_key!r}")
        object.__setattr__(self, "_public_key", self.private_key.public_key().public_bytes_raw())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Self:
        """A key from a 32-byte RFC 8032 seed (cosigners get the system clock; `replace` it)."""
        _require_size(seed, ED25519_KEY_SIZE, "Ed25519 seed")
        return cls(name, Ed25519PrivateKey.from_private_bytes(bytes(seed)))

    @property
    def public_key(self) -> bytes:
        """Raw 32-byte Ed25519 public key."""
        return self._public_key

    @property
    def key_id(self) -> bytes:
        """4-byte key id for this name, signature type and key."""
        return key_id(self.name, self.alg, self._public_key)

    def verifier(self) -> Verifier:
        """The `Verifier` that checks this key's signatures."""
        return Verifier(self.name, self.key_id, self._public_key, self.alg)

    def vkey(self) -> str:
        """The vkey to publish for this key."""
        return format_vkey(self.name, self._public_key, self.alg)


@dataclass(frozen=True)
class Signer(_Ed25519Key):
    """An Ed25519 note signer (signature type 0x01), e.g. a log's checkpoint key."""

    alg: ClassVar[int] = ALG_ED25519

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of `message` (deterministic)."""
        return self.private_key.sign(bytes(message))

    def sign_text(self, text: str) -> bytes:
        """The signature of a note text, as written after the key id."""
        return self.sign(text.encode("utf-8"))


@dataclass(frozen=True)
class CosignatureSigner(_Ed25519Key):
    """An Ed25519 cosigner (type 0x04, cosignature/v1), e.g. a witness. The signed message does
    not commit to the cosigner name, so one key must not serve two cosigners."""

    clock: Callable[[], int] = field(default=lambda: int(time.time()), repr=False, compare=False)
    """POSIX time source used by `sign_text`; inject a fixed one for reproducible notes."""
    alg: ClassVar[int] = ALG_COSIGNATURE_V1

    def sign(self, body: str | bytes, timestamp: int) -> bytes:
        """The 72-byte timestamped signature (big-endian timestamp || Ed25519 signature)
        over `cosignature_message(body, timestamp)`; `body` is the checkpoint note text."""
        raw = _utf8(body, "a checkpoint body")
        if not raw.endswith(b"\n"):
            raise MalformedError("expected a checkpoint body ending in a newline, got none")
        message = cosignature_message(raw, timestamp)
        return timestamp.to_bytes(TIMESTAMP_SIZE, "big") + self.private_key.sign(message)

    def sign_text(self, text: str) -> bytes:
        """A cosignature of a checkpoint body at the clock's current time."""
        return self.sign(text, self.clock())


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note, not yet verified."""

    name: str
    """Key name of the line."""
    key_id: bytes
    """The 4-byte key id that starts the decoded signature."""
    signature: bytes
    """The signature bytes after the key id (for cosignatures: timestamp || signature)."""

    def line(self) -> str:
        """The signature line, newline included."""
        encoded = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{SIGNATURE_LINE_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True)
class Note:
    """A parsed signed note. Its text must be ignored unless `open_note` verified it."""

    text: str
    """The signed text, final newline included, separating blank line excluded."""
    signatures: tuple[NoteSignature, ...]
    """Signature lines in note order, by known and unknown keys alike."""

    def render(self) -> str:
        """The note in its textual form; parsing it gives back this `Note`."""
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)


def _check_characters(text: str, what: str) -> None:
    if found := _CONTROL_CHARACTER.search(text):
        char, at = ord(found.group()), found.start()
        raise MalformedError(f"expected no control characters in {what}, got U+{char:04X} at {at}")
    _utf8(text, what)


def _parse_signature_line(line: str, number: int) -> NoteSignature:
    where = f"signature line {number}"
    if not line.startswith(SIGNATURE_LINE_PREFIX):
        raise MalformedError(f"expected {where} to start with '— ', got {line[:24]!r}")
    name, space, encoded = line[len(SIGNATURE_LINE_PREFIX) :].partition(" ")
    if not space:
        raise MalformedError(f"expected '— <name> <base64>' in {where}, got {line!r}")
    check_key_name(name)
    raw = decode_canonical_base64(encoded, where)
    if len(raw) <= KEY_ID_SIZE:
        raise MalformedError(f"expected at least 5 bytes in {where}, got {len(raw)}")
    return NoteSignature(name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])


def parse_note(note: str | bytes) -> Note:
    """Parse a signed note strictly, verifying nothing."""
    if isinstance(note, bytes | bytearray):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedError(f"expected UTF-8, got an invalid byte at {exc.start}") from exc
    _check_characters(note, "a note")
    separator = note.rfind("\n\n")
    if separator < 0:
        raise MalformedError("expected a blank line between text and signatures, found none")
    text, block = note[: separator + 1], note[separator + 2 :]
    if not block:
        raise MalformedError("expected signature lines after the last blank line, found none")
    if not block.endswith("\n"):
        tail = block.rsplit("\n", 1)[-1]
        raise MalformedError(f"expected the note to end with a newline, got {tail[:24]!r}")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedError(f"expected at most {MAX_SIGNATURES} signatures, got {len(lines)}")
    return Note(text, tuple(_parse_signature_line(ln, n) for n, ln in enumerate(lines, 1)))


def _render(text: str, kept: Sequence[NoteSignature], signers: Iterable[NoteSigner]) -> str:
    """Sign `text` with `signers` after the `kept` lines, one line per (name, key id)."""
    if not text.endswith("\n"):
        raise MalformedError("expected a note text ending in a newline, got none")
    _check_characters(text, "the note text")
    fresh: dict[tuple[str, bytes], NoteSignature] = {}
    for signer in signers:
        identity = (signer.name, signer.key_id)
        if identity in fresh:
            raise MalformedError(f"expected each signer once, got {signer.name} twice")
        fresh[identity] = NoteSignature(signer.name, signer.key_id, signer.sign_text(text))
    if not fresh:
        raise MalformedError("expected at least one signer, got none")
    signatures = (*(s for s in kept if (s.name, s.key_id) not in fresh), *fresh.values())
    if len(signatures) > MAX_SIGNATURES:
        raise MalformedError(f"expected at most {MAX_SIGNATURES} signatures, got {len(signatures)}")
    return Note(text, signatures).render()


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Sign `text` (which must end in a newline) with every signer, in order."""
    return _render(text, (), signers)


def add_signatures(note: str | bytes, signers: Sequence[NoteSigner]) -> str:
    """Append signatures (cosignatures, a new key's) to a signed note. Existing lines are kept
    unverified, except those of a new signer's name and key id, which are replaced."""
    parsed = parse_note(note)
    return _render(parsed.text, parsed.signatures, signers)


def open_note(note: str | bytes, verifiers: Sequence[Verifier]) -> tuple[Note, list[Verifier]]:
    """Parse `note` and verify it with the known `verifiers`: every signature whose name and key
    id match a known key must verify, unknown ones are ignored, at least one known key must
    have signed. Returns the note and the verifiers that verified it, once each, in order."""
    parsed = parse_note(note)
    known: dict[tuple[str, bytes], Verifier] = {}
    for verifier in verifiers:
        identity = (verifier.name, verifier.key_id)
        if known.setdefault(identity, verifier) != verifier:
            raise MalformedError(f"expected one key per name and id, got two for {verifier.label}")
    message = parsed.text.encode("utf-8")
    verified: list[Verifier] = []
    for sig in parsed.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(message, sig.signature):
            raise SignatureError(f"expected a valid signature by {verifier.label}, got a bad one")
        if verifier not in verified:
            verified.append(verifier)
    if not verified:
        expected = ", ".join(sorted(v.label for v in known.values())) or "no key (none given)"
        found = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in parsed.signatures)
        raise SignatureError(f"expected a signature by one of {expected}, found {found}")
    return parsed, verified
