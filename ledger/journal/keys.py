"""Checkpoint signing keys: generation, sealing at rest, rotation.

Choice (documented in the README): private keys live in PostgreSQL only **sealed** with
AES-256-GCM under a key-encryption key (KEK) that is never stored in the database. The KEK
comes from ``LEDGER_KEK`` (base64 of 32 bytes) or a file (``LEDGER_KEK_FILE``, default
``<data_dir>/kek``, created with mode 0600 on first use). The associated data binds each
sealed seed to its organization and key ID, so a sealed key copied to another row or another
organization does not open. Public keys stay in the table after rotation so that every old
checkpoint still verifies.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import ConfigurationError, SigningKeyError
from ledger.formats.note import Signer
from ledger.settings import Settings
from ledger.store.log import StoredKey

KEK_SIZE = 32
NONCE_SIZE = 12


def load_kek(settings: Settings) -> bytes:
    """The key-encryption key; creates the default key file (0600) if there is none yet."""
    if settings.kek:
        text = settings.kek
    else:
        path = settings.effective_kek_file
        if not path.exists():
            if settings.kek_file is not None:
                raise ConfigurationError(f"LEDGER_KEK_FILE {path} does not exist")
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(base64.b64encode(secrets.token_bytes(KEK_SIZE)).decode() + "\n")
        text = path.read_text().strip()
    try:
        kek = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ConfigurationError("the key-encryption key is not valid base64") from exc
    if len(kek) != KEK_SIZE:
        raise ConfigurationError(
            f"expected a {KEK_SIZE}-byte key-encryption key, got {len(kek)} bytes"
        )
    return kek


def _aad(org_id: int, key_id: bytes) -> bytes:
    return b"donation-ledger signing key\x00" + str(org_id).encode() + b"\x00" + key_id


def seal(kek: bytes, org_id: int, key_id: bytes, seed: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_SIZE)
    return nonce + AESGCM(kek).encrypt(nonce, seed, _aad(org_id, key_id))


def unseal(kek: bytes, org_id: int, key_id: bytes, sealed: bytes) -> bytes:
    try:
        return AESGCM(kek).decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], _aad(org_id, key_id))
    except InvalidTag as exc:
        raise SigningKeyError(
            f"signing key {key_id.hex()} of organization {org_id} does not open with this "
            "key-encryption key: check LEDGER_KEK / LEDGER_KEK_FILE"
        ) from exc


def generate(kek: bytes, org_id: int, name: str) -> tuple[Signer, StoredKey]:
    """A fresh Ed25519 key for ``name`` and its sealed form for the database."""
    signer = Signer.from_seed(name, secrets.token_bytes(32))
    sealed = seal(kek, org_id, signer.key_id, signer.private_key.private_bytes_raw())
    return signer, StoredKey(signer.key_id, name, signer.public_key, sealed, None, None)  # type: ignore[arg-type]


def open_signers(kek: bytes, org_id: int, keys: list[StoredKey]) -> list[Signer]:
    """Signers for every key that still signs (not retired)."""
    active = [k for k in keys if k.retired_at is None]
    if not active:
        raise SigningKeyError(
            f"organization {org_id} has no active signing key: run `ledger keys rotate`"
        )
    signers = []
    for key in active:
        if key.sealed_private is None:
            raise SigningKeyError(f"key {key.key_id.hex()} was read without its sealed part")
        seed = unseal(kek, org_id, key.key_id, key.sealed_private)
        signers.append(Signer.from_seed(key.name, seed))
    return signers


def seal_value(kek: bytes, aad: bytes, value: bytes) -> bytes:
    """Any other secret (a gateway's server key, a webhook signing secret) sealed like the
    signing keys; ``aad`` names what it is and whose, so it opens nowhere else."""
    nonce = secrets.token_bytes(NONCE_SIZE)
    return nonce + AESGCM(kek).encrypt(nonce, value, aad)


def open_value(kek: bytes, aad: bytes, sealed: bytes, what: str) -> bytes:
    """A value sealed by :func:`seal_value` with the same ``aad``; ``what`` names it in the
    error (never the value)."""
    try:
        return AESGCM(kek).decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], aad)
    except InvalidTag as exc:
        raise SigningKeyError(
            f"{what} does not open with this key-encryption key: check LEDGER_KEK / "
            "LEDGER_KEK_FILE"
        ) from exc
