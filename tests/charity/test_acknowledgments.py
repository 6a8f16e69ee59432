"""The recipients' own word (issue 20): a beneficiary enrols its key on a one-time link,
signs acknowledgments and disputes of its disbursements, and anyone checks them offline.

Real PostgreSQL, the real app over HTTP, and the offline verifier as a donor runs it. Every
write test ends with the whole log verifying."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ledger.charity.receipts import _tlog_proof
from ledger.formats import acknowledgment as F
from ledger.journal.appender import Appender
from ledger.recipient import public_key_text, signed_request
from ledger.store import recipients as R
from ledger.verify.stored import verify_all
from tests.apikit import Org, assert_problem, idem
from tests.logkit import assert_log_verifies, offline_verify

pytestmark = pytest.mark.usefixtures("verify_loop")  # both loops of ledger verify


async def _books(charity: Org, disbursements: int = 2) -> list[int]:
    await charity.fund()
    await charity.beneficiary()
    await charity.beneficiary("lksa-kasih")
    await charity.donate(10_000_000_00)
    out = []
    for n in range(disbursements):
        r = await charity.disburse(1_500_000_00 + n)
        assert r.status_code == 201, r.text
        out.append(r.json()["index"])
    return out


async def link(charity: Org, beneficiary: str = "lksa-harapan") -> str:
    r = await charity.post(
        f"/beneficiaries/{beneficiary}/enrolment-links", {"valid_days": 7}, "admin"
    )
    assert r.status_code == 201, r.text
    assert r.json()["path"] == "/daftar/" + r.json()["token"]
    return r.json()["token"]


async def enrol(charity: Org, seed: bytes, beneficiary: str = "lksa-harapan") -> int:
    token = await link(charity, beneficiary)
    r = await charity.client.post(
        f"/v1/enrolments/{token}", json={"public_key": public_key_text(seed)}
    )
    assert r.status_code == 201, r.text
    return r.json()["index"]


async def view(charity: Org, index: int) -> dict[str, Any]:
    r = await charity.client.get(charity.url(f"/disbursements/{index}/acknowledgment"))
    assert r.status_code == 200, r.text
    return r.json()


async def sign(charity: Org, index: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    return await charity.client.post(
        charity.url(f"/disbursements/{index}/acknowledgment"), json=body, headers=idem()
    )


async def offline(charity: Org, index: int, tmp_path: Path, bundle: Any = None):  # type: ignore[no-untyped-def]
    if bundle is None:
        r = await charity.client.get(charity.url(f"/disbursements/{index}/acknowledgment/proof"))
        assert r.status_code == 200, r.text
        bundle = r.json()
    path = tmp_path / f"ack-{secrets.token_hex(4)}.json"
    path.write_text(json.dumps(bundle))
    return offline_verify("acknowledgment", str(path), "--vkey", (await charity.vkeys())[0])


async def test_enrol_acknowledge_and_verify_offline(charity, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first, _ = await _books(charity)
    token = await link(charity)
    r = await charity.client.get(f"/v1/enrolments/{token}")
    assert r.status_code == 200 and r.json()["beneficiary"] == "lksa-harapan"
    assert r.json()["used"] is False
    seed = secrets.token_bytes(32)
    r = await charity.client.post(
        f"/v1/enrolments/{token}", json={"public_key": public_key_text(seed)}
    )
    assert r.status_code == 201 and r.json()["kind"] == "beneficiary.key", r.text
    key_index = r.json()["index"]
    assert (await charity.client.get(f"/v1/enrolments/{token}")).json()["used"] is True

    before = await view(charity, first)
    assert before["status"] == "awaiting" and before["key"] == key_index
    assert before["message"]["minor_units"] == 2 and before["awaiting_days"] >= 0
    r = await sign(charity, first, signed_request(before, seed))
    assert r.status_code == 201 and r.json()["kind"] == "disbursement.acknowledged", r.text
    after = await view(charity, first)
    assert after["status"] == "acknowledged" and after["received"] == before["message"]["amount"]
    assert after["entry"] == r.json()["index"]

    # final: neither a second acknowledgment nor a dispute replaces it
    r = await sign(charity, first, signed_request(before, seed, received=0))
    assert_problem(r, 409, "already acknowledged or disputed")

    run = await offline(charity, first, tmp_path)
    assert run.returncode == 0, run.stdout
    assert "ACKNOWLEDGED by beneficiary lksa-harapan" in run.stdout
    assert "Rp 1.500.000" in run.stdout
    await assert_log_verifies(store)


async def test_dispute_is_recorded_and_verifies(charity, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first, second = await _books(charity)
    seed = secrets.token_bytes(32)
    await enrol(charity, seed)
    r = await sign(charity, first, signed_request(await view(charity, first), seed, received=0))
    assert r.status_code == 201 and r.json()["kind"] == "disbursement.disputed", r.text
    r = await sign(
        charity, second, signed_request(await view(charity, second), seed, received=1_000_000_00)
    )
    assert r.status_code == 201, r.text
    v = await view(charity, second)
    assert (v["status"], v["received"]) == ("disputed", 1_000_000_00)
    # a "dispute" of the very amount disbursed is an acknowledgment, not a dispute
    r = await charity.disburse(7_00)
    third = r.json()["index"]
    r = await sign(charity, third, signed_request(await view(charity, third), seed, received=7_00))
    assert_problem(r, 422, "same amount is an acknowledgment")

    r = await charity.client.get(charity.url("/acknowledgments/awaiting"))
    assert [v["disbursement"] for v in r.json()] == [third]
    assert r.json()[0]["status"] == "awaiting"
    run = await offline(charity, second, tmp_path)
    assert run.returncode == 0, run.stdout
    assert "DISPUTED" in run.stdout and "received Rp 1.000.000" in run.stdout
    await assert_log_verifies(store)


async def test_forged_replayed_and_tampered_signatures_are_refused(
    charity, store, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    first, second = await _books(charity)
    seed = secrets.token_bytes(32)
    await enrol(charity, seed)
    other = secrets.token_bytes(32)
    await enrol(charity, other, "lksa-kasih")
    v1, v2 = await view(charity, first), await view(charity, second)

    # an acknowledgment of the first disbursement replayed for the second
    r = await sign(charity, second, signed_request(v1, seed))
    assert_problem(r, 422, "does not verify", "disbursement")
    # a tampered amount: the message says another amount than the log
    tampered = {**v2, "message": {**v2["message"], "amount": v2["message"]["amount"] * 10}}
    r = await sign(charity, second, signed_request(tampered, seed))
    assert_problem(r, 422, "does not verify")
    # a key of another beneficiary (enrolled, but not this recipient's)
    forged = {**v2, "public_key": public_key_text(other)}
    r = await sign(charity, second, signed_request(forged, other))
    assert_problem(r, 422, "does not verify")
    # not a disbursement
    r = await sign(charity, 0, signed_request(v2, seed))
    assert_problem(r, 404)
    # Indonesian problem text, naming the field
    r = await charity.client.post(
        charity.url(f"/disbursements/{second}/acknowledgment"),
        json=signed_request(v1, seed),
        headers={**idem(), "Accept-Language": "id"},
    )
    problem = assert_problem(r, 422)
    assert r.headers["content-language"] == "id" and "tanda tangan" in problem["detail"]
    assert (await view(charity, second))["status"] == "awaiting"
    await assert_log_verifies(store)


async def test_reenrolment_retires_the_old_key_but_keeps_its_signatures(
    charity, store, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    first, second = await _books(charity)
    old = secrets.token_bytes(32)
    token = await link(charity)
    url = f"/v1/enrolments/{token}"
    r = await charity.client.post(url, json={"public_key": public_key_text(old)})
    old_index = r.json()["index"]
    # the same link and key again: the first answer replayed; another key: refused
    again = await charity.client.post(url, json={"public_key": public_key_text(old)})
    assert again.status_code == 201 and again.json() == r.json()
    new = secrets.token_bytes(32)
    r = await charity.client.post(url, json={"public_key": public_key_text(new)})
    assert_problem(r, 409, "already recorded a key")

    assert (
        await sign(charity, first, signed_request(await view(charity, first), old))
    ).status_code == 201
    new_index = await enrol(charity, new)
    async with store.connection() as conn:
        org = await store.organization(charity.slug)
        history = await R.key_history(conn, org.id, "lksa-harapan")
    assert [(k.index, k.replaces) for k in history] == [(old_index, None), (new_index, old_index)]

    v2 = await view(charity, second)
    assert v2["key"] == new_index
    stale = {**v2, "key": old_index, "public_key": public_key_text(old)}
    r = await sign(charity, second, signed_request(stale, old))
    assert_problem(r, 422, f"entry {new_index} replaced it")
    assert (await sign(charity, second, signed_request(v2, new))).status_code == 201

    # the old key's earlier acknowledgment still verifies, with the newer key in the file
    run = await offline(charity, first, tmp_path)
    assert run.returncode == 0, run.stdout
    run = await offline(charity, second, tmp_path)
    assert run.returncode == 0, run.stdout
    await assert_log_verifies(store)


async def test_offline_refuses_a_retired_key_and_a_swapped_proof(
    charity, store, kek, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A dishonest operator that bypasses the rules (writing entries itself) still cannot
    make a verifier accept a retired key or another beneficiary's key."""
    first, second, third = await _books(charity, 3)
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    old_index = await enrol(charity, old)
    good = await sign(charity, first, signed_request(await view(charity, first), old))
    assert good.status_code == 201
    await enrol(charity, new)
    v2 = await view(charity, second)
    facts = F.Disbursed(
        origin=v2["message"]["origin"], org=v2["message"]["org"],
        beneficiary="lksa-harapan", index=second,
        leaf_hash=base64.b64decode(v2["message"]["leaf_hash"]), amount=v2["message"]["amount"],
        currency="IDR", minor_units=2, paid_on=v2["message"]["paid_on"],
    )  # fmt: skip
    signature = F.sign(old, F.message(facts, F.ACKNOWLEDGED, facts.amount))
    org = await store.organization(charity.slug)
    await Appender(store).append(
        org,
        "disbursement.acknowledged",
        {
            "disbursement": second,
            "beneficiary": "lksa-harapan",
            "key": old_index,
            "signature": base64.b64encode(signature).decode(),
        },
    )
    run = await offline(charity, second, tmp_path)
    assert run.returncode == 1, run.stdout
    assert "was retired" in run.stdout and "a retired key signs nothing" in run.stdout

    # a genuine file whose disbursement proof is swapped for another disbursement's
    r = await charity.client.get(charity.url(f"/disbursements/{first}/acknowledgment/proof"))
    bundle = r.json()
    other = await charity.client.get(charity.url(f"/disbursements/{second}/acknowledgment/proof"))
    swapped = {**bundle, "disbursement_proof": other.json()["disbursement_proof"]}
    run = await offline(charity, first, tmp_path, swapped)
    assert run.returncode == 1, run.stdout
    run = await offline(charity, first, tmp_path, {**bundle, "key_proofs": []})
    assert run.returncode == 1 and "does not prove key entry" in run.stdout, run.stdout

    # another beneficiary's key signs for this one's disbursement (written past the rules)
    kasih = secrets.token_bytes(32)
    kasih_index = await enrol(charity, kasih, "lksa-kasih")
    v3 = await view(charity, third)
    facts3 = replace(facts, index=third, amount=v3["message"]["amount"],
                     leaf_hash=base64.b64decode(v3["message"]["leaf_hash"]))  # fmt: skip
    signature = F.sign(kasih, F.message(facts3, F.ACKNOWLEDGED, facts3.amount))
    forged = await Appender(store).append(
        org,
        "disbursement.acknowledged",
        {
            "disbursement": third,
            "beneficiary": "lksa-harapan",
            "key": kasih_index,
            "signature": base64.b64encode(signature).decode(),
        },
    )
    r = await charity.client.get(charity.url(f"/disbursements/{third}/acknowledgment/proof"))
    bundle = r.json()
    async with store.connection() as conn:
        _, kasih_proof, _ = await _tlog_proof(store, org, kek, kasih_index, conn, forged.index + 1)
    bundle["key_proofs"].append(kasih_proof)
    run = await offline(charity, third, tmp_path, bundle)
    assert run.returncode == 1, run.stdout
    assert "belongs to beneficiary 'lksa-kasih', not to 'lksa-harapan'" in run.stdout

    # the stored verifier names the first forged entry: a retired key signed it
    reports = await verify_all(store, charity.slug)
    assert not reports[0].ok and "retired" in str(reports[0]), reports


def test_every_recipient_refusal_has_an_indonesian_translation() -> None:
    from ledger.charity import acknowledgments, rules
    from ledger.messages import catalog

    translated = catalog("id")
    for template in (*rules.RECIPIENT_TEMPLATES, *acknowledgments.LINK_TEMPLATES):
        assert translated.get(template), template
        fields = {part.split("}")[0] for part in template.split("{")[1:]}
        assert {part.split("}")[0] for part in translated[template].split("{")[1:]} == fields


async def test_projections_are_written_by_the_database_only_and_verified(  # type: ignore[no-untyped-def]
    charity, store, owner
) -> None:
    """The service role may only read beneficiary_keys and acknowledgments; the owner is
    refused too unless it disables the triggers, and then ``ledger verify`` names the row."""
    first, second = await _books(charity)
    seed = secrets.token_bytes(32)
    key_index = await enrol(charity, seed)
    ack = await sign(charity, first, signed_request(await view(charity, first), seed))
    ack_index = ack.json()["index"]
    async with store.connection() as conn:
        assert await conn.fetchval("SELECT current_user") == "ledger_writer"
        for sql in (
            "UPDATE acknowledgments SET verdict = 'disputed', received = 0",
            "DELETE FROM acknowledgments",
            "DELETE FROM beneficiary_keys",
            "INSERT INTO enrolment_links (token_hash, org_id, beneficiary, expires_at) "
            "SELECT sha256('x'), id, 'b', now() FROM organizations LIMIT 1",
        ):
            if sql.startswith("INSERT INTO enrolment_links"):
                await conn.execute(sql)  # the one table the service inserts into
                continue
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.execute(sql)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await conn.execute("DELETE FROM enrolment_links")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="derived from the log"):
        await owner.execute("UPDATE acknowledgments SET verdict = 'disputed', received = 0")
    await assert_log_verifies(store)

    # a superuser that disables the triggers can change the row; verify names it
    async with owner.transaction():
        await owner.execute("ALTER TABLE acknowledgments DISABLE TRIGGER USER")
        await owner.execute(
            "UPDATE acknowledgments SET verdict = 'disputed', received = 0 WHERE entry_idx = $1",
            ack_index,
        )
        await owner.execute("ALTER TABLE acknowledgments ENABLE TRIGGER USER")
    reports = await verify_all(store, charity.slug)
    assert not reports[0].ok and reports[0].first_bad_index == ack_index, reports
    assert "acknowledgments: entry" in str(reports[0].reason)
    assert key_index < ack_index and second > first
