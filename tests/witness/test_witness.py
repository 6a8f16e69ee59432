"""Witnesses over real HTTP on loopback: cosigning, stale submissions, forged proofs,
rolled-back logs, concurrent submissions (c2sp.org/tlog-witness, tlog-cosignature)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest

from ledger.formats import merkle
from ledger.formats.checkpoint import Checkpoint, sign_checkpoint
from ledger.formats.note import format_vkey, open_note, parse_vkey
from ledger.journal.appender import Appender
from ledger.journal.keys import open_signers
from ledger.journal.organizations import create_organization
from ledger.journal.publisher import publish
from ledger.store.migrate import WITNESS, migrate
from ledger.witness.service import add_log, create_witness_app, init_key
from tests.apikit import serve_on_port
from tests.conftest import scratch_database
from tests.logkit import offline_verify


@asynccontextmanager
async def running_witness(
    admin_url: str, kek: bytes, name: str, logs: dict[str, list[str]]
) -> AsyncIterator[tuple[str, str]]:
    """A witness with its own database, served by uvicorn on a loopback port."""
    async with scratch_database(admin_url, "witness_") as url:
        conn = await asyncpg.connect(url)
        await migrate(conn, WITNESS)
        signer = await init_key(conn, kek, name)
        for origin, vkeys in logs.items():
            await add_log(conn, origin, vkeys)
        await conn.close()
        async with serve_on_port(create_witness_app(url, kek)) as base:
            yield base, signer.vkey()


async def log_with_entries(store, settings, kek, n: int):  # type: ignore[no-untyped-def]
    org = await create_organization(store, settings, kek, "yayasan-senyum", "Yayasan Senyum")
    appender = Appender(store)
    await asyncio.gather(*(appender.append(org, "note", {"text": str(i)}) for i in range(n)))
    cp = await publish(store, org, kek)
    [key] = await store.public_keys(org.id)
    return org, cp, format_vkey(key.name, key.public_key), appender


def body(old: int, proof: list[bytes], note: str) -> bytes:
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


async def consistency(store, org, old: int, new: int) -> list[bytes]:  # type: ignore[no-untyped-def]
    nodes = await store.nodes(org.id, merkle.consistency_nodes(old, new))
    return merkle.consistency_proof(old, new, nodes)


async def test_witness_cosigns_then_refuses_stale_forged_and_rolled_back(
    pg_admin_url, store, settings, kek
):
    org, cp1, log_vkey, appender = await log_with_entries(store, settings, kek, 5)
    async with (
        running_witness(pg_admin_url, kek, "witness.example/akuntan", {org.origin: [log_vkey]}) as (
            url,
            wvkey,
        ),
        httpx.AsyncClient(base_url=url) as http,
    ):
        r = await http.post("/add-checkpoint", content=body(0, [], cp1.note))
        assert r.status_code == 200, r.text
        assert r.text.startswith("— witness.example/akuntan ")
        _, used = open_note(cp1.note + r.text, [parse_vkey(wvkey, 0x04)])
        assert [v.name for v in used] == ["witness.example/akuntan"]

        stale = await http.post("/add-checkpoint", content=body(0, [], cp1.note))
        assert stale.status_code == 409 and stale.text == f"{cp1.size}\n"
        assert stale.headers["content-type"] == "text/x.tlog.size"  # exactly (Tessera)

        await asyncio.gather(*(appender.append(org, "note", {"text": "more"}) for _ in range(7)))
        cp2 = await publish(store, org, kek)
        proof = await consistency(store, org, cp1.size, cp2.size)
        forged = [bytes(32), *proof[1:]] if proof else [bytes(32)]
        bad = await http.post("/add-checkpoint", content=body(cp1.size, forged, cp2.note))
        assert bad.status_code == 422

        good = await http.post("/add-checkpoint", content=body(cp1.size, proof, cp2.note))
        assert good.status_code == 200, good.text

        # A rolled-back or forked log: a properly signed checkpoint of another tree.
        signers = open_signers(kek, org.id, await store.signing_keys(org.id))
        fork_root = merkle.leaf_hash(b"a different history")
        fork = sign_checkpoint(Checkpoint(org.origin, cp2.size + 3, fork_root), signers)
        refused = await http.post("/add-checkpoint", content=body(cp2.size, proof, fork))
        assert refused.status_code == 422
        smaller = sign_checkpoint(Checkpoint(org.origin, cp1.size, cp1.root), signers)
        assert (
            await http.post("/add-checkpoint", content=body(cp2.size, [], smaller))
        ).status_code == 400
        assert (
            await http.post("/add-checkpoint", content=body(cp1.size, [], smaller))
        ).status_code == 409


async def test_witness_rejects_unknown_logs_bad_signatures_and_garbage(
    pg_admin_url, store, settings, kek
):
    org, cp, log_vkey, _ = await log_with_entries(store, settings, kek, 2)
    async with (
        running_witness(pg_admin_url, kek, "witness.example/w", {org.origin: [log_vkey]}) as (
            url,
            _,
        ),
        httpx.AsyncClient(base_url=url) as http,
    ):
        from ledger.formats.note import Signer

        stranger = Signer.from_seed(org.origin, bytes(32))
        other = sign_checkpoint(Checkpoint(org.origin, cp.size, cp.root), [stranger])
        assert (await http.post("/add-checkpoint", content=body(0, [], other))).status_code == 403
        unknown_log = Signer.from_seed("ledger.example/orgs/unknown", bytes(32))
        unknown = sign_checkpoint(Checkpoint(unknown_log.name, cp.size, cp.root), [unknown_log])
        assert (await http.post("/add-checkpoint", content=body(0, [], unknown))).status_code == 404
        for junk in (
            b"",
            b"old 01\n\n" + cp.note.encode(),
            b"old x\n\n",
            b"old 0\nnotbase64\n\n" + cp.note.encode(),
        ):
            assert (await http.post("/add-checkpoint", content=junk)).status_code == 400
        assert (
            await http.post("/add-checkpoint", content=body(0, [bytes(32)], cp.note))
        ).status_code == 422


async def test_concurrent_submissions_cosign_exactly_once(pg_admin_url, store, settings, kek):
    org, cp, log_vkey, _ = await log_with_entries(store, settings, kek, 3)
    async with (
        running_witness(pg_admin_url, kek, "witness.example/w", {org.origin: [log_vkey]}) as (
            url,
            _,
        ),
        httpx.AsyncClient(base_url=url) as http,
    ):
        results = await asyncio.gather(
            *(http.post("/add-checkpoint", content=body(0, [], cp.note)) for _ in range(12))
        )
        codes = sorted(r.status_code for r in results)
        assert codes.count(200) == 1 and codes.count(409) == 11


async def test_log_collects_cosignatures_and_policies_name_the_witnesses(
    pg_admin_url, store, settings, kek
):
    """Two witnesses and one log over loopback HTTP: receipts carry the cosignatures they had,
    and a verifier's policy (log key + k of n witnesses) decides and names who vouched."""
    from ledger.charity.receipts import tlog_proof
    from ledger.errors import VerificationError
    from ledger.formats.policy import parse_policy
    from ledger.journal.witnessing import add_witness, cosigned_note, witness_checkpoint
    from ledger.verify.offline import verify_tlog_proof

    org, cp1, log_vkey, appender = await log_with_entries(store, settings, kek, 4)
    early_proof = await tlog_proof(store, org, kek, 2)  # issued before any witness cosigned
    logs = {org.origin: [log_vkey]}
    async with (
        running_witness(pg_admin_url, kek, "witness.example/akuntan", logs) as (url_a, vkey_a),
        running_witness(pg_admin_url, kek, "witness.example/zakat", logs) as (url_b, vkey_b),
    ):
        await add_witness(store, org, "witness.example/akuntan", url_a, vkey_a)
        await add_witness(store, org, "witness.example/zakat", url_b, vkey_b)
        outcomes = await witness_checkpoint(store, org, cp1)
        assert sorted(o.detail for o in outcomes) == ["cosigned", "cosigned"]
        await asyncio.gather(*(appender.append(org, "note", {"text": "x"}) for _ in range(5)))
        cp2 = await publish(store, org, kek)
        outcomes = await witness_checkpoint(store, org, cp2)  # consistency proofs from cp1
        assert [o.status for o in outcomes] == [200, 200], outcomes
        note = await cosigned_note(store, org.id, cp2)
        assert note.count("\n— witness.example/") == 2
        proof = await tlog_proof(store, org, kek, 7)

    two_of_two = parse_policy(
        f"log {log_vkey}\nwitness A {vkey_a}\nwitness B {vkey_b}\ngroup both all A B\nquorum both\n"
    )
    proven = verify_tlog_proof(proof, [], two_of_two)
    assert proven.witnesses == ("A", "B")
    with pytest.raises(VerificationError, match="quorum"):
        verify_tlog_proof(early_proof, [], two_of_two)  # no cosignatures: refused
    from ledger.formats.note import CosignatureSigner

    stranger = CosignatureSigner.from_seed("witness.example/other", bytes(32)).vkey()
    three = parse_policy(
        f"log {log_vkey}\nwitness A {vkey_a}\nwitness B {vkey_b}\nwitness C {stranger}\n"
        "group g 3 A B C\nquorum g\n"
    )
    with pytest.raises(VerificationError, match="vouched by A, B"):
        verify_tlog_proof(proof, [], three)
    any_one = parse_policy(
        f"log {log_vkey}\nwitness C {stranger}\nwitness A {vkey_a}\ngroup g any A C\nquorum g\n"
    )
    assert verify_tlog_proof(proof, [], any_one).witnesses == ("A",)


async def test_ledger_verify_policy_names_the_witnesses(
    pg_admin_url, store, settings, kek, tmp_path
):

    from ledger.charity.receipts import tlog_proof
    from ledger.journal.witnessing import add_witness, witness_checkpoint

    org, cp, log_vkey, _ = await log_with_entries(store, settings, kek, 3)
    async with running_witness(
        pg_admin_url, kek, "witness.example/akuntan", {org.origin: [log_vkey]}
    ) as (url, vkey):
        await add_witness(store, org, "witness.example/akuntan", url, vkey)
        await witness_checkpoint(store, org, cp)
    (tmp_path / "r.tlog-proof").write_text(await tlog_proof(store, org, kek, 1))
    (tmp_path / "policy").write_text(
        f"# donors' policy\nlog {log_vkey}\nwitness akuntan {vkey}\nquorum akuntan\n"
    )

    def run(policy: str):  # type: ignore[no-untyped-def]
        (tmp_path / "p").write_text(policy)
        return offline_verify(
            "receipt", str(tmp_path / "r.tlog-proof"), "--policy", str(tmp_path / "p")
        )

    ok = run((tmp_path / "policy").read_text())
    assert (
        ok.returncode == 0 and "witnesses that vouched for this checkpoint: akuntan" in ok.stdout
    ), ok.stdout
    from ledger.formats.note import CosignatureSigner

    other = CosignatureSigner.from_seed("witness.example/x", bytes(32)).vkey()
    refused = run(f"log {log_vkey}\nwitness x {other}\nquorum x\n")
    assert refused.returncode == 1 and "quorum" in refused.stdout


async def test_statements_carry_the_cosignatures_of_their_checkpoint(
    pg_admin_url, charity, store, kek
):
    import datetime as dt

    from ledger.journal.witnessing import add_witness, witness_checkpoint

    await charity.fund()
    await charity.donate(100_000)
    org = await store.organization(charity.slug)
    [key] = await store.public_keys(org.id)
    logs = {org.origin: [format_vkey(key.name, key.public_key)]}
    async with running_witness(pg_admin_url, kek, "witness.example/akuntan", logs) as (url, vkey):
        await add_witness(store, org, "witness.example/akuntan", url, vkey)
        cp = await publish(store, org, kek)
        assert [o.detail for o in await witness_checkpoint(store, org, cp)] == ["cosigned"]
    today = dt.date.today()
    period = {"from": today.isoformat(), "to": (today + dt.timedelta(days=1)).isoformat()}
    number = (await charity.statement(period))["id"]
    doc = json.loads(await charity.statement_file(number, "json"))
    note = doc["checkpoint"]["note"]
    assert "\n— witness.example/akuntan " in note
    open_note(note, [parse_vkey(vkey, 0x04)])


async def test_witness_serves_the_latest_checkpoint_it_cosigned_with_exact_headers(
    pg_admin_url, store, settings, kek
):
    """tlog-witness monitor retrieval: GET <sha256(origin) hex>/checkpoint is the latest
    cosigned checkpoint with the log's signature and the very cosignature add-checkpoint
    returned; 404 before any; every answer has one exact Content-Type."""
    org, cp1, log_vkey, appender = await log_with_entries(store, settings, kek, 3)
    text = "text/plain; charset=utf-8"
    async with (
        running_witness(pg_admin_url, kek, "witness.example/akuntan", {org.origin: [log_vkey]}) as (
            url,
            wvkey,
        ),
        httpx.AsyncClient(base_url=url) as http,
    ):
        path = f"/{hashlib.sha256(org.origin.encode()).hexdigest()}/checkpoint"
        none = await http.get(path)
        assert none.status_code == 404 and none.headers["content-type"] == text
        unknown = await http.get(f"/{hashlib.sha256(b'other.example/log').hexdigest()}/checkpoint")
        assert unknown.status_code == 404
        assert (await http.get("/not-a-hash/checkpoint")).status_code == 404
        info = await http.get("/")
        assert info.status_code == 200 and info.headers["content-type"] == text

        first = await http.post("/add-checkpoint", content=body(0, [], cp1.note))
        assert first.status_code == 200 and first.headers["content-type"] == text
        await asyncio.gather(*(appender.append(org, "note", {"text": "more"}) for _ in range(4)))
        cp2 = await publish(store, org, kek)
        proof = await consistency(store, org, cp1.size, cp2.size)
        second = await http.post("/add-checkpoint", content=body(cp1.size, proof, cp2.note))
        assert second.status_code == 200, second.text
        garbage = await http.post("/add-checkpoint", content=b"old x\n\n")
        assert garbage.status_code == 400 and garbage.headers["content-type"] == text

        latest = await http.get(path)
        assert latest.status_code == 200 and latest.headers["content-type"] == text
        assert latest.text == cp2.note + second.text  # the same cosignature, byte for byte
        _, used = open_note(latest.text, [parse_vkey(log_vkey), parse_vkey(wvkey, 0x04)])
        assert sorted(v.name for v in used) == sorted([org.origin, "witness.example/akuntan"])
        assert latest.text.splitlines()[1] == str(cp2.size)
