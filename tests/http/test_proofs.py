"""Proof routes: POST /v1/verify pinned and unpinned, cacheable immutable answers, and the
public proof of an entry."""

from __future__ import annotations

import json

from ledger.verify.offline import verify_tlog_proof
from tests.apikit import flip, publish_now, setup_donations


async def test_verify_endpoint_pinned_and_unpinned(charity):
    donations = await setup_donations(charity, n=2)
    receipt = await charity.receipt(donations[0]["index"])
    vkey = (await charity.vkeys())[0]
    ok = (
        await charity.client.post("/v1/verify", json={"receipt": receipt, "vkeys": [vkey]})
    ).json()
    assert ok["ok"] is True and ok["pinned"] is True and ok["donor_opened"] is True
    unpinned = (
        await charity.client.post("/v1/verify", json={"receipt": receipt, "org": charity.slug})
    ).json()
    assert unpinned["ok"] is True and unpinned["pinned"] is False
    proof = json.loads(receipt)["tlog_proof"]
    bad = (
        await charity.client.post("/v1/verify", json={"receipt": flip(proof, 3), "vkeys": [vkey]})
    ).json()
    assert bad["ok"] is False and "root" in bad["detail"]
    junk = await charity.client.post("/v1/verify", json={"receipt": "nonsense", "vkeys": [vkey]})
    assert junk.status_code == 422 and junk.headers["content-type"].startswith(
        "application/problem+json"
    )


async def test_immutable_responses_are_cacheable(charity, store, kek):
    await setup_donations(charity, n=2)
    await publish_now(charity, store, kek)
    size = (await charity.client.get(charity.url("/log/checkpoint"))).text.split("\n")[1]
    r = await charity.client.get(charity.url(f"/log/checkpoints/{size}"))
    assert r.status_code == 200 and "max-age" in r.headers["cache-control"] and r.headers["etag"]
    again = await charity.client.get(
        charity.url(f"/log/checkpoints/{size}"), headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304
    inc = await charity.client.get(charity.url(f"/log/proof/inclusion?index=1&size={size}"))
    assert inc.status_code == 200 and "immutable" in inc.headers["cache-control"]
    assert (
        await charity.client.get(charity.url(f"/log/proof/inclusion?index=5&size={size}"))
    ).status_code == 422


async def test_public_entry_proof_needs_no_key_and_has_no_personal_data(charity):
    donations = await setup_donations(charity, n=1)
    r = await charity.client.get(charity.url(f"/log/entries/{donations[0]['index']}/proof"))
    assert r.status_code == 200 and "Siti Aminah" not in r.text and "siti@" not in r.text
    verify_tlog_proof(r.text, await charity.verifiers())
    denied = await charity.client.get(charity.url(f"/donations/{donations[0]['index']}/receipt"))
    assert denied.status_code == 401
