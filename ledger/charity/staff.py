"""The charity's staff: console accounts, their passwords, sessions and access changes.

What is guaranteed:

- **Passwords** are hashed with argon2id (``argon2-cffi``'s RFC 9106 defaults: 64 MiB, 3
  passes), off the event loop. A login for an unknown e-mail spends the same hashing time,
  and every refusal says the same thing until the password was right.
- **Sessions** are 256-bit random tokens sent only in a cookie; the database keeps their
  SHA-256 (``staff_sessions``), so a copy of it opens no session. Every login makes a new
  token (a token planted before login is never promoted: no fixation); logout, a password
  reset, a role change and disabling revoke sessions. Idle sessions end after
  ``IDLE_SECONDS``, every session after ``SESSION_SECONDS``.
- **CSRF**: every console form carries ``form_token(session token)``, an HMAC keyed by the
  session token, which a page of another site can neither read nor compute.
- **Guessing** is limited per account (``LOCK_AFTER`` failures lock it until an admin, or
  ``ledger staff reset`` on the server, unlocks it) and per client address
  (``ADDRESS_LIMIT`` failures in ``ADDRESS_WINDOW`` refuse that address for a while).
- **Access changes are logged**: creating an account, changing its role, disabling,
  re-enabling, unlocking, resetting its password, adding or removing its second factor,
  issuing and revoking API keys (from the console, through the API's ``…/api-keys`` routes,
  by ``ledger org create`` or by recovery) each append an entry (``staff.added``,
  ``staff.changed``, ``api_key.issued``, ``api_key.revoked``) in the same transaction as the
  change, the way
  ``ledger.journal.organizations`` logs signing-key changes. Entries name accounts by
  their random id only: e-mail addresses and names are personal data and stay out of the log.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.clock import Clock, system_clock
from ledger.errors import (
    ForbiddenError,
    InvalidInputError,
    LedgerError,
    LoginError,
    LoginThrottledError,
    NotFoundError,
)
from ledger.formats import totp
from ledger.journal.appender import Intent, append_batch
from ledger.store import staff as S
from ledger.store.log import Organization, Store
from schemas.entries import EntryBody, body_builtins, kind_of
from schemas.log import ApiKeyIssued, ApiKeyRevoked, StaffAdded, StaffChanged

ROLES = ("admin", "recorder", "auditor")
"""The roles of staff accounts and API keys (``ledger.http.auth``)."""
LOCK_AFTER = 5
"""Failed logins in a row that lock an account until an admin unlocks it."""
ADDRESS_LIMIT = 20
"""Failed logins from one address within ``ADDRESS_WINDOW`` before it is refused."""
ADDRESS_WINDOW = timedelta(minutes=15)
SESSION_SECONDS = 8 * 3600
"""A session ends 8 hours after login (a working day), whatever happens."""
IDLE_SECONDS = 30 * 60
"""A session unused for 30 minutes ends."""
TOUCH_SECONDS = 60
"""``last_seen_at`` is written at most once a minute per session."""
MIN_PASSWORD = 10
"""Shortest password accepted (NIST SP 800-63B asks at least 8; no composition rules)."""
SERVER = "server"
"""Who a change logged by the ``ledger`` command on the server host is by."""

_hasher = PasswordHasher()  # argon2id, RFC 9106 "second recommended option"
_DUMMY_HASH = _hasher.hash("not a password of anyone")
_FORM_CONTEXT = b"ledger console form token v1"
_TOTP_AAD = b"ledger console totp v1\x00"


@dataclass(frozen=True)
class Staff:
    """The person behind a console session (what every console handler is given)."""

    id: uuid.UUID
    """Account id (the log names the person by it)."""
    org_id: int
    """The only organization whose data they see."""
    email: str
    """Login name."""
    name: str
    """Display name."""
    role: str
    """admin, recorder or auditor."""
    must_change: bool
    """Their password was set by someone else: they must change it first."""
    totp: bool
    """Whether a second factor is set up."""
    org_slug: str = ""
    """Its organization's slug (known from a session or a login)."""

    @classmethod
    def of(cls, row: S.StaffRow, org_slug: str = "") -> Staff:
        return cls(
            row.id,
            row.org_id,
            row.email,
            row.name,
            row.role,
            row.must_change,
            row.totp_secret is not None,
            org_slug,
        )


@dataclass(frozen=True)
class ApiCaller:
    """An admin API key acting through the API's ``…/api-keys`` routes (the log names it
    ``key:<id>``)."""

    key_id: uuid.UUID
    """The calling key's public id."""


Issuer = Staff | ApiCaller | None
"""Who changes API keys: a console account, an admin API key, or ``None`` for the ``ledger``
command on the server host."""


# --- passwords -------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """argon2id PHC string of ``password``."""
    return _hasher.hash(password)


async def password_matches(password_hash: str, password: str) -> bool:
    """Verify off the event loop (about 0.1-0.2 s of one core and 64 MiB)."""

    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def check_new_password(password: str, email: str) -> None:
    """Refuse a password that is too short or is the e-mail address."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInputError.of(
            "the password needs at least {n} characters; a few words in a row are easy to remember",
            n=MIN_PASSWORD,
        )
    if password.strip().lower() == email.lower():
        raise InvalidInputError.of("the password must not be the e-mail address")


def temporary_password() -> str:
    """A password to hand over once (16 letters and digits without look-alikes, in groups of
    four: about 82 bits); its owner must change it at the next login."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    letters = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(letters[i : i + 4] for i in range(0, 16, 4))


def normalize_email(email: str) -> str:
    text = email.strip().lower()
    if not (0 < len(text) <= 254) or text.count("@") != 1 or " " in text:
        raise InvalidInputError.of(
            "expected an e-mail address such as {example}", example="siti@yayasan.id"
        )
    local, domain = text.split("@")
    if not local or not domain:
        raise InvalidInputError.of(
            "expected an e-mail address such as {example}", example="siti@yayasan.id"
        )
    return text


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInputError.of(
            "expected a role among {roles}, got {role}", roles=", ".join(ROLES), role=role
        )
    return role


# --- logged access changes -------------------------------------------------------------


async def _log(
    store: Store, conn: asyncpg.Connection, org: Organization, body: EntryBody, clock: Clock
) -> None:
    """Append one access-change entry inside the caller's transaction."""
    intent = Intent(kind_of(body), body_builtins(body))
    [outcome] = await append_batch(store, conn, org, [intent], clock=clock)
    if isinstance(outcome, LedgerError):
        raise outcome


def _actor(by: Issuer) -> str:
    """The ``by`` of an access-change entry (``schemas.log.Actor``)."""
    if by is None:
        return SERVER
    if isinstance(by, ApiCaller):
        return f"key:{by.key_id}"
    return str(by.id)


async def create_staff(
    store: Store,
    org: Organization,
    email: str,
    name: str,
    role: str,
    password: str,
    by: Staff | None,
    *,
    must_change: bool = True,
    clock: Clock = system_clock,
) -> S.StaffRow:
    """Create an account and log ``staff.added``, together. ``by`` None: the server host."""
    email = normalize_email(email)
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInputError.of("type the person's name (at most 200 characters)")
    check_role(role)
    check_new_password(password, email)
    password_hash = await asyncio.to_thread(hash_password, password)
    staff_id = uuid.uuid4()
    async with store.connection() as conn, conn.transaction():
        await S.insert_staff(conn, staff_id, org.id, email, name, role, password_hash, must_change)
        await _log(
            store,
            conn,
            org,
            StaffAdded(staff=str(staff_id), role=role, by=_actor(by)),
            clock,
        )  # type: ignore[arg-type]
        row = await S.staff_by_id(conn, staff_id)
        # Commit point: the account and its log entry appear together.
    assert row is not None
    return row


async def _account(conn: asyncpg.Connection, org: Organization, staff_id: uuid.UUID) -> S.StaffRow:
    row = await S.staff_by_id(conn, staff_id)
    if row is None or row.org_id != org.id:
        raise NotFoundError.of("no staff account {id} in this organization", id=str(staff_id))
    return row


async def find_staff(store: Store, org: Organization, email: str) -> S.StaffRow:
    async with store.connection() as conn:
        row = await S.staff_by_email(conn, org.id, normalize_email(email))
    if row is None:
        raise NotFoundError.of("no staff account {email} in this organization", email=email)
    return row


async def list_staff(store: Store, org: Organization) -> list[S.StaffRow]:
    async with store.connection() as conn:
        return await S.list_staff(conn, org.id)


async def reset_password(
    store: Store,
    org: Organization,
    staff_id: uuid.UUID,
    by: Staff | None,
    *,
    clock: Clock = system_clock,
) -> str:
    """Give the account a temporary password (returned, shown once), unlock it, end its
    sessions and remove nothing else; logged as ``staff.changed`` ``password_reset``."""
    password = temporary_password()
    password_hash = await asyncio.to_thread(hash_password, password)
    async with store.connection() as conn, conn.transaction():
        row = await _account(conn, org, staff_id)
        await S.set_password(conn, row.id, password_hash, True)
        await S.revoke_sessions_of(conn, row.id)
        await _log(
            store,
            conn,
            org,
            StaffChanged(staff=str(row.id), change="password_reset", role=row.role, by=_actor(by)),
            clock,
        )  # type: ignore[arg-type]
        # Commit point: the new password, the ended sessions and the entry, together.
    return password


async def change_account(
    store: Store,
    org: Organization,
    staff_id: uuid.UUID,
    change: str,
    by: Staff | None,
    *,
    role: str | None = None,
    clock: Clock = system_clock,
) -> None:
    """``role`` (to ``role``), ``disabled``, ``enabled``, ``unlocked`` or ``totp_removed``;
    each logged as ``staff.changed``. Role changes and disabling end the account's sessions.
    An admin cannot disable or demote themselves (the organization would lose its last
    admin by accident; recovery is ``ledger keys issue`` / ``ledger staff reset``)."""
    async with store.connection() as conn, conn.transaction():
        row = await _account(conn, org, staff_id)
        if by is not None and by.id == row.id and change in ("role", "disabled"):
            raise ForbiddenError.of("you cannot disable your own account or change your own role")
        new_role = row.role
        if change == "role":
            new_role = check_role(role or "")
            await S.set_role(conn, row.id, new_role)
            await S.revoke_sessions_of(conn, row.id)
        elif change == "disabled":
            await S.set_disabled(conn, row.id, True)
            await S.revoke_sessions_of(conn, row.id)
        elif change == "enabled":
            await S.set_disabled(conn, row.id, False)
        elif change == "unlocked":
            await S.unlock_staff(conn, row.id)
        elif change == "totp_removed":
            await S.set_totp(conn, row.id, None)
        else:
            raise InvalidInputError(f"unknown account change {change!r}")
        await _log(
            store,
            conn,
            org,
            StaffChanged(staff=str(row.id), change=change, role=new_role, by=_actor(by)),
            clock,
        )  # type: ignore[arg-type]
        # Commit point: the change and its entry, together.


# --- login, sessions, form tokens ------------------------------------------------------


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def form_token(session_token: str) -> str:
    """The CSRF token of every form of a session: HMAC-SHA-256 keyed by the session token."""
    mac = hmac.new(session_token.encode(), _FORM_CONTEXT, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def form_token_ok(session_token: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(form_token(session_token), sent or "")


async def login(
    store: Store,
    org: Organization,
    email: str,
    password: str,
    code: str,
    address: str,
    kek: bytes,
    *,
    now: float | None = None,
) -> tuple[str, Staff]:
    """Check the credentials; on success return a new session token (a fresh one at every
    login) and who logged in. Refusals: ``LoginThrottledError`` for an address with too many
    recent failures, else ``LoginError`` with one message for every wrong e-mail, password
    or code; a locked or disabled account is named only once the password was right."""
    address = address[:64]
    async with store.connection() as conn:
        window = ADDRESS_WINDOW.total_seconds()  # by the database's clock
        if await S.address_failures(conn, address, window) >= ADDRESS_LIMIT:
            raise LoginThrottledError.of(
                "too many failed logins from this address: wait {minutes} minutes, or ask an "
                "admin to reset your password",
                minutes=int(ADDRESS_WINDOW.total_seconds() // 60),
            )
        try:
            email = normalize_email(email)
        except InvalidInputError:
            email = ""
        row = await S.staff_by_email(conn, org.id, email) if email else None
    wrong = LoginError.of("the e-mail, the password or the code is wrong")
    if row is None:
        await password_matches(_DUMMY_HASH, password)  # the same time as a real account
        await _failed(store, None, address)
        raise wrong
    if not await password_matches(row.password_hash, password):
        locked = await _failed(store, row, address)
        if locked:
            raise LoginError.of(
                "this account is locked after {n} failed logins: ask an admin to unlock it",
                n=LOCK_AFTER,
            )
        raise wrong
    if row.locked_at is not None:
        raise LoginError.of(
            "this account is locked after {n} failed logins: ask an admin to unlock it",
            n=LOCK_AFTER,
        )
    if row.disabled_at is not None:
        raise LoginError.of("this account was disabled by an admin")
    async with store.connection() as conn:
        if row.totp_secret is not None:
            secret = open_totp(kek, row.id, row.totp_secret)
            step = totp.matching_step(secret, code, time.time() if now is None else now)
            if step is None or not await S.use_totp_step(conn, row.id, step):
                await _failed(store, row, address)
                raise wrong
        token = secrets.token_urlsafe(32)
        async with conn.transaction():
            await S.login_succeeded(conn, row.id)
            await S.insert_session(conn, token_hash(token), row.id, SESSION_SECONDS)
    return token, Staff.of(row, org.slug)


async def _failed(store: Store, row: S.StaffRow | None, address: str) -> bool:
    """Count a failed login against the address and the account; True if it is now locked."""
    async with store.connection() as conn:
        await S.insert_address_failure(conn, address)
        # Failures older than a day count for nothing: forget them (a small table).
        await S.prune_address_failures(conn, 24 * 3600)
        if row is None:
            return False
        _, locked_at = await S.login_failed(conn, row.id, LOCK_AFTER)
    return locked_at is not None


async def session(store: Store, token: str) -> tuple[Staff, bool] | None:
    """Who a session token belongs to, if it is valid, and whether it was just touched."""
    if not token or len(token) > 100:
        return None
    digest = token_hash(token)
    async with store.connection() as conn:
        found = await S.session_staff(conn, digest, IDLE_SECONDS, TOUCH_SECONDS)
        if found is None:
            return None
        row, fresh, slug = found
        if not fresh:
            await S.touch_session(conn, digest)
    return Staff.of(row, slug), not fresh


async def was_session_of(store: Store, token: str, who: Staff) -> bool:
    """Whether ``token`` is, or was, a session of ``who`` (ended or not): the console gives a
    form typed in a session that ended back only to the person who typed it."""
    if not token or len(token) > 100:
        return False
    async with store.connection() as conn:
        return await S.session_owner(conn, token_hash(token)) == who.id


async def logout(store: Store, token: str) -> None:
    async with store.connection() as conn:
        await S.revoke_session(conn, token_hash(token))


async def change_own_password(
    store: Store, staff: Staff, current: str, new: str, keep_token: str
) -> None:
    """Change one's own password (not a change of access: not logged); every other session
    of the account ends, the one making the change (``keep_token``) stays."""
    async with store.connection() as conn:
        row = await S.staff_by_id(conn, staff.id)
    assert row is not None
    if not await password_matches(row.password_hash, current):
        raise InvalidInputError.of("the current password is wrong")
    check_new_password(new, row.email)
    if new == current:
        raise InvalidInputError.of("choose a password different from the current one")
    password_hash = await asyncio.to_thread(hash_password, new)
    async with store.connection() as conn, conn.transaction():
        await S.set_password(conn, row.id, password_hash, False)
        await S.revoke_other_sessions(conn, row.id, token_hash(keep_token))


# --- the second factor (TOTP, RFC 6238) --------------------------------------------------


def new_totp_secret() -> bytes:
    return secrets.token_bytes(totp.SECRET_BYTES)


def _totp_aad(staff_id: uuid.UUID) -> bytes:
    return _TOTP_AAD + staff_id.bytes


def seal_totp(kek: bytes, staff_id: uuid.UUID, secret: bytes) -> bytes:
    """AES-256-GCM under the key-encryption key, bound to the account (a sealed secret
    copied to another account does not open)."""
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(kek).encrypt(nonce, secret, _totp_aad(staff_id))


def open_totp(kek: bytes, staff_id: uuid.UUID, sealed: bytes) -> bytes:
    try:
        return AESGCM(kek).decrypt(sealed[:12], sealed[12:], _totp_aad(staff_id))
    except InvalidTag as exc:
        raise LoginError(
            "this account's second factor does not open with this key-encryption key"
        ) from exc


async def enable_totp(
    store: Store,
    org: Organization,
    staff: Staff,
    kek: bytes,
    secret: bytes,
    code: str,
    *,
    now: float | None = None,
    clock: Clock = system_clock,
) -> None:
    """Turn the second factor on once the person typed a code of ``secret`` (proving their
    app has it); logged as ``staff.changed`` ``totp_enabled``."""
    step = totp.matching_step(secret, code, time.time() if now is None else now)
    if step is None:
        raise InvalidInputError.of(
            "that code does not match: type the 6 digits your authenticator app shows now"
        )
    async with store.connection() as conn, conn.transaction():
        await S.set_totp(conn, staff.id, seal_totp(kek, staff.id, secret))
        await S.use_totp_step(conn, staff.id, step)
        await _log(
            store,
            conn,
            org,
            StaffChanged(
                staff=str(staff.id), change="totp_enabled", role=staff.role, by=str(staff.id)
            ),
            clock,
        )  # type: ignore[arg-type]
        # Commit point: the second factor is required from the next login, and logged.


# --- API keys for machines --------------------------------------------------------------

API_KEY_PREFIX = "ldg_"
"""The text of a key, as ``ledger.http.auth`` reads it: ``ldg_<8-char prefix>_<secret>``."""
_KEY_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def may_issue(staff_role: str, key_role: str) -> bool:
    """Who may issue which key: an admin any; a recorder or an auditor only a key of their
    own role (a key never gives a machine more than its issuer has)."""
    return staff_role == "admin" or staff_role == key_role


async def issue_api_key(
    store: Store,
    org: Organization,
    role: str,
    label: str,
    by: Issuer,
    *,
    clock: Clock = system_clock,
) -> tuple[uuid.UUID, str]:
    """Issue a key (its text returned, the only time it exists; SHA-256 stored, as
    ``ledger.http.auth.issue_key`` does) and log ``api_key.issued``, together. The entry
    names the key by its id, with its role and issuer: never its secret."""
    check_role(role)
    if isinstance(by, Staff) and not may_issue(by.role, role):
        raise ForbiddenError.of("your role ({mine}) may issue only {mine} keys", mine=by.role)
    if len(label) > 200:
        raise InvalidInputError.of("the label has at most 200 characters")
    prefix = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(8))
    text = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key_id = uuid.uuid4()
    async with store.connection() as conn, conn.transaction():
        await S.insert_api_key_by(
            conn,
            key_id,
            org.id,
            prefix,
            hashlib.sha256(text.encode()).digest(),
            role,
            label,
            by.id if isinstance(by, Staff) else None,
        )
        await _log(
            store,
            conn,
            org,
            ApiKeyIssued(key=str(key_id), role=role, by=_actor(by)),
            clock,
        )  # type: ignore[arg-type]
        # Commit point: the key works from here on, and the log says who issued it.
    return key_id, text


async def revoke_api_key(
    store: Store,
    org: Organization,
    key_id: uuid.UUID,
    by: Staff | ApiCaller,
    *,
    clock: Clock = system_clock,
) -> None:
    """Revoke a key (an admin, or an admin API key: any of the organization's; others: the
    keys they issued) and log ``api_key.revoked``, together; every process forgets it at
    commit (``ledger.http.auth.KeyCache``)."""
    async with store.connection() as conn, conn.transaction():
        issuer = by.id if isinstance(by, Staff) and by.role != "admin" else None
        if not await S.revoke_api_key_of(conn, org.id, key_id, issuer):
            raise NotFoundError.of("no active API key {id} that you may revoke", id=str(key_id))
        await _log(
            store,
            conn,
            org,
            ApiKeyRevoked(key=str(key_id), by=_actor(by)),
            clock,
        )
        # Commit point: the key stops working and the log says so, together.


async def api_keys(store: Store, org: Organization) -> list[S.ApiKeyListed]:
    async with store.connection() as conn:
        return await S.api_keys_of_org(conn, org.id)
