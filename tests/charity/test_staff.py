"""Staff accounts against the real database: argon2 hashes, sessions stored as hashes,
lockout, throttling per address, TOTP, logged access changes, least privilege."""

from __future__ import annotations

import asyncpg
import pytest

from ledger.charity import staff
from ledger.errors import (
    AlreadyExistsError,
    ForbiddenError,
    InvalidInputError,
    LoginError,
    LoginThrottledError,
)
from ledger.formats import totp
from ledger.journal.organizations import create_organization
from ledger.store.log import Organization, Store
from ledger.verify.stored import verify_all

PASSWORD = "kopi-susu-pagi-hari"


@pytest.fixture
async def org(store: Store, settings, kek: bytes) -> Organization:  # type: ignore[no-untyped-def]
    return await create_organization(store, settings, kek, "yayasan-senyum", "Yayasan Senyum")


async def entries(owner: asyncpg.Connection, org: Organization) -> list[tuple[str, bytes]]:
    rows = await owner.fetch(
        "SELECT kind, body FROM entries WHERE org_id = $1 ORDER BY idx", org.id
    )
    return [(r["kind"], bytes(r["body"])) for r in rows]


async def test_accounts_sessions_and_the_log(store, org, owner, kek, db_url) -> None:  # type: ignore[no-untyped-def]
    row = await staff.create_staff(store, org, " Siti@Yayasan.ID ", "Siti", "admin", PASSWORD, None)
    assert row.email == "siti@yayasan.id" and row.password_hash.startswith("$argon2id$")
    with pytest.raises(AlreadyExistsError):
        await staff.create_staff(store, org, "siti@yayasan.id", "Siti", "admin", PASSWORD, None)
    token, who = await staff.login(store, org, "SITI@yayasan.id", PASSWORD, "", "10.0.0.1", kek)
    assert who.id == row.id and who.must_change
    stored = await owner.fetchval("SELECT token_hash FROM staff_sessions")
    assert stored == staff.token_hash(token) and token.encode() not in stored
    found = await staff.session(store, token)
    assert found is not None and found[0].id == row.id
    # a second login makes another token; logout ends only that one
    token2, _ = await staff.login(store, org, "siti@yayasan.id", PASSWORD, "", "10.0.0.1", kek)
    assert token2 != token
    await staff.logout(store, token)
    assert await staff.session(store, token) is None
    assert await staff.session(store, token2) is not None
    # logged with the random id only: no e-mail, no name
    log = await entries(owner, org)
    assert [k for k, _ in log] == ["log.created", "staff.added"]
    assert b"siti" not in log[1][1].lower() and str(row.id).encode() in log[1][1]
    reports = await verify_all(store, org.slug, url=db_url)
    assert all(r.ok for r in reports)


async def test_lockout_and_reset(store, org, owner, kek) -> None:  # type: ignore[no-untyped-def]
    row = await staff.create_staff(
        store, org, "budi@yayasan.id", "Budi", "recorder", PASSWORD, None
    )
    for _ in range(staff.LOCK_AFTER - 1):
        with pytest.raises(LoginError, match="wrong"):
            await staff.login(store, org, "budi@yayasan.id", "tebakan-salah", "", "10.0.0.2", kek)
    with pytest.raises(LoginError, match="locked"):
        await staff.login(store, org, "budi@yayasan.id", "tebakan-salah", "", "10.0.0.2", kek)
    with pytest.raises(LoginError, match="locked"):  # even the right password now
        await staff.login(store, org, "budi@yayasan.id", PASSWORD, "", "10.0.0.2", kek)
    temporary = await staff.reset_password(store, org, row.id, None)
    _, who = await staff.login(store, org, "budi@yayasan.id", temporary, "", "10.0.0.2", kek)
    assert who.must_change
    kinds = [k for k, _ in await entries(owner, org)]
    assert kinds[-1] == "staff.changed"


async def test_address_throttle(store, org, kek) -> None:  # type: ignore[no-untyped-def]
    for n in range(staff.ADDRESS_LIMIT):
        with pytest.raises(LoginError):
            await staff.login(store, org, f"nobody{n}@x.id", "x" * 12, "", "10.9.9.9", kek)
    with pytest.raises(LoginThrottledError):
        await staff.login(store, org, "nobody@x.id", "x" * 12, "", "10.9.9.9", kek)


async def test_totp_second_factor(store, org, kek) -> None:  # type: ignore[no-untyped-def]
    await staff.create_staff(store, org, "ani@yayasan.id", "Ani", "auditor", PASSWORD, None)
    _, who = await staff.login(store, org, "ani@yayasan.id", PASSWORD, "", "10.0.0.3", kek)
    secret = staff.new_totp_secret()
    now = 1_800_000_000.0
    with pytest.raises(InvalidInputError):
        await staff.enable_totp(store, org, who, kek, secret, "000000", now=now - 3600)
    await staff.enable_totp(
        store, org, who, kek, secret, totp.hotp(secret, totp.step_at(now)), now=now
    )
    with pytest.raises(LoginError):  # no code
        await staff.login(store, org, "ani@yayasan.id", PASSWORD, "", "10.0.0.3", kek, now=now + 30)
    code = totp.hotp(secret, totp.step_at(now + 30))
    await staff.login(store, org, "ani@yayasan.id", PASSWORD, code, "10.0.0.3", kek, now=now + 30)
    with pytest.raises(LoginError):  # the same code twice
        await staff.login(
            store, org, "ani@yayasan.id", PASSWORD, code, "10.0.0.3", kek, now=now + 30
        )


async def test_api_keys_by_role(store, org, owner) -> None:  # type: ignore[no-untyped-def]
    row = await staff.create_staff(
        store, org, "rina@yayasan.id", "Rina", "recorder", PASSWORD, None
    )
    rina = staff.Staff.of(row)
    with pytest.raises(ForbiddenError):
        await staff.issue_api_key(store, org, "admin", "x", rina)
    key_id, text = await staff.issue_api_key(store, org, "recorder", "bank", rina)
    assert text.startswith("ldg_")
    await staff.revoke_api_key(store, org, key_id, rina)
    kinds = [k for k, _ in await entries(owner, org)]
    assert kinds[-2:] == ["api_key.issued", "api_key.revoked"]
    assert text.encode() not in b"".join(b for _, b in await entries(owner, org))


async def test_service_role_cannot_delete_or_rewrite(store, org) -> None:  # type: ignore[no-untyped-def]
    await staff.create_staff(store, org, "x@yayasan.id", "X", "admin", PASSWORD, None)
    async with store.connection() as conn:
        for sql in (
            "DELETE FROM staff_accounts",
            "DELETE FROM staff_sessions",
            "UPDATE staff_accounts SET email = 'y@yayasan.id'",
            "UPDATE staff_accounts SET org_id = 2",
            "UPDATE staff_sessions SET staff_id = staff_id",
            "UPDATE staff_sessions SET expires_at = now() + interval '1 year'",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql)
