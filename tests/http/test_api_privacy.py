"""Donor privacy: personal data never in public responses nor in the log, a commitment the
auditor can open, anonymity by default, and erasure on request (UU PDP)."""

from __future__ import annotations

import base64
import json
from typing import Any

from ledger.charity.donors import commitment
from tests.apikit import Org, auth, head_size, idem
from tests.logkit import assert_log_verifies

SITI = {
    "name": "Siti Rahmawati Kusumadewi",
    "email": "siti.rahmawati.k@example.org",
    "phone": "+62 812-7788-9911",
    "address": "Jl. Melati Putih No. 17, Coblong, Bandung",
}
BUDI = {
    "name": "Budi Santoso Wiryawan",
    "email": "budi.wiryawan@example.net",
    "address": "Perumahan Griya Asri Blok C-9, Sleman",
}
PERSONAL_STRINGS = [
    *SITI.values(),
    *BUDI.values(),
    "812-7788-9911",
    "6281277889911",
    "siti.rahmawati",
    "Kusumadewi",
    "Wiryawan",
    "Griya Asri",
]


async def donor_record(charity: Org, index: int, role: str = "auditor"):  # type: ignore[no-untyped-def]
    return await charity.client.get(
        charity.url(f"/donations/{index}/donor"), headers=auth(charity.keys[role])
    )


async def entry_document(charity: Org, index: int) -> dict[str, Any]:
    r = await charity.client.get(charity.url(f"/log/entries/{index}"))
    assert r.status_code == 200, r.text
    doc = r.json()["document"]
    assert json.loads(base64.b64decode(r.json()["canonical"])) == doc
    return doc


async def erase(charity: Org, body: dict[str, Any], key: str | None = None, role: str = "admin"):  # type: ignore[no-untyped-def]
    headers = auth(charity.keys[role], **({"Idempotency-Key": key} if key else idem()))
    return await charity.client.post(charity.url("/donors/erase"), json=body, headers=headers)


def _b64_text(token: str) -> str:
    try:
        return base64.b64decode(token, validate=True).decode("utf-8", "replace")
    except ValueError:
        return ""


async def public_texts(charity: Org, size: int) -> list[str]:
    """Every public, keyless response of the organization."""
    paths = [
        "/v1/orgs",
        charity.url(),
        charity.url("/entries?limit=1000"),
        charity.url("/funds"),
        charity.url("/funds/senyum-2026"),
        charity.url("/balances"),
        charity.url(f"/balances?as_of={size - 1}"),
        charity.url("/beneficiaries"),
        charity.url("/beneficiaries/lksa-harapan"),
        charity.url("/log/checkpoint"),
        charity.url("/log/checkpoints/1"),
        charity.url("/log/keys"),
        charity.url("/log/export"),
    ]
    paths += [charity.url(f"/log/entries/{i}") for i in range(size)]
    paths += [charity.url(f"/log/entries/{i}/proof") for i in range(size)]
    texts = []
    for path in paths:
        r = await charity.client.get(path)
        assert r.status_code == 200, (path, r.text)
        texts.append(r.text)
        # Base64 inside the responses (canonical bytes, tlog-proof extra data): decoded too.
        texts += [_b64_text(token) for token in r.text.replace('"', " ").split()]
        if path.endswith("/entries?limit=1000"):
            # The canonical bytes are base64 in the response: look inside them too.
            texts += [base64.b64decode(e["canonical"]).decode() for e in r.json()["items"]]
    return texts


async def test_personal_data_is_never_public_nor_in_the_log(charity, store, owner):
    await charity.fund()
    await charity.beneficiary()
    siti = await charity.donate(1_000_00, donor=SITI)
    budi = await charity.donate(2_000_00, donor={**BUDI, "public_name": "Pak Budi"})
    anon = await charity.donate(3_000_00)
    assert (await charity.disburse(500_00)).status_code == 201
    size = await head_size(store, charity)

    for response in (siti, budi, anon):
        assert not any(s in json.dumps(response) for s in PERSONAL_STRINGS)
    texts = await public_texts(charity, size)
    # The scan reaches inside the base64 of the export and the proofs: the consented public
    # name, which is in the donation's canonical bytes, is found there.
    decoded_only = [t for t in texts if "Pak Budi" in t and '"display":"Pak Budi"' in t]
    assert len(decoded_only) >= 4, len(decoded_only)
    for text in texts:
        leaked = [s for s in PERSONAL_STRINGS if s.lower() in text.lower()]
        assert not leaked, (leaked, text[:300])
    bodies = await owner.fetch("SELECT idx, body FROM entries ORDER BY org_id, idx")
    assert len(bodies) >= size
    for row in bodies:
        raw = bytes(row["body"]).lower()
        leaked = [s for s in PERSONAL_STRINGS if s.lower().encode() in raw]
        assert not leaked, (row["idx"], leaked)
    # The public display is what the donor consented to.
    assert (await entry_document(charity, budi["index"]))["body"]["donor"]["display"] == "Pak Budi"
    assert b"Pak Budi" in bytes(bodies[budi["index"]]["body"])
    await assert_log_verifies(store)


async def test_commitment_opens_with_the_auditor_record_and_display_is_anonymous_by_default(
    charity, store
):
    await charity.fund()
    siti = await charity.donate(1_000_00, donor=SITI)
    named = await charity.donate(500_00, donor={**BUDI, "public_name": "Keluarga Santoso"})
    nobody = await charity.donate(100_00)
    only_name = await charity.donate(50_00, donor={"public_name": "Hamba Allah"})

    for recorded, personal, display in (
        (siti, SITI, None),
        (named, BUDI, "Keluarga Santoso"),
    ):
        donor = (await entry_document(charity, recorded["index"]))["body"]["donor"]
        assert donor["display"] == display
        assert set(donor) == {"commitment", "display"}
        r = await donor_record(charity, recorded["index"])
        assert r.status_code == 200, r.text
        record = r.json()
        assert record["donation"] == recorded["index"] and record["erased_at"] is None
        assert record["personal"] == personal  # public_name is not personal data
        salt = base64.b64decode(record["salt"])
        assert len(salt) == 16
        assert donor["commitment"] == commitment(salt, record["personal"])
        # A different salt or different data does not open it.
        assert donor["commitment"] != commitment(bytes(16), record["personal"])
        assert donor["commitment"] != commitment(salt, {**personal, "name": "Someone Else"})
        # Admins may read donor records; recorders may not.
        assert (await donor_record(charity, recorded["index"], "admin")).status_code == 200
        assert (await donor_record(charity, recorded["index"], "recorder")).status_code == 403

    # No personal data: no commitment and no record to open.
    for recorded, display in ((nobody, None), (only_name, "Hamba Allah")):
        donor = (await entry_document(charity, recorded["index"]))["body"]["donor"]
        assert donor == {"commitment": None, "display": display}
        r = await donor_record(charity, recorded["index"])
        assert r.status_code == 404 and r.headers["content-type"].startswith(
            "application/problem+json"
        )
    # Two donations by the same person get different salts, so commitments are unlinkable.
    again = await charity.donate(1_000_00, donor=SITI)
    first = (await entry_document(charity, siti["index"]))["body"]["donor"]["commitment"]
    second = (await entry_document(charity, again["index"]))["body"]["donor"]["commitment"]
    assert first != second
    assert (await donor_record(charity, 0)).status_code == 404
    await assert_log_verifies(store)


async def test_erasure_removes_personal_data_and_keeps_totals_and_proofs(charity, store, owner):
    await charity.fund()
    await charity.beneficiary()
    s1 = await charity.donate(1_000_00, donor=SITI)
    s2 = await charity.donate(
        2_000_00, donor={"email": "SITI.Rahmawati.K@Example.ORG", "name": "S. Rahmawati"}
    )
    b1 = await charity.donate(4_000_00, donor=BUDI)
    assert (await charity.disburse(1_500_00)).status_code == 201
    funds = (await charity.client.get(charity.url("/funds"))).json()
    balances = (await charity.client.get(charity.url("/balances"))).json()
    bens = (await charity.client.get(charity.url("/beneficiaries"))).json()
    docs = {i: await entry_document(charity, i) for i in (s1["index"], s2["index"], b1["index"])}
    before = await head_size(store, charity)

    r = await erase(charity, {"email": "  Siti.Rahmawati.K@example.org "}, key="erase-siti")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    erased = r.json()
    assert erased["records"] == 2
    assert erased["entry"]["kind"] == "donor.erased" and erased["entry"]["index"] == before
    assert await head_size(store, charity) == before + 1
    entry = await entry_document(charity, before)
    assert entry["kind"] == "donor.erased" and entry["body"] == {"records": 2}

    for index in (s1["index"], s2["index"]):
        record = (await donor_record(charity, index)).json()
        assert record["salt"] is None and record["personal"] is None
        assert record["erased_at"] is not None
    rows = await owner.fetch(
        "SELECT donation_idx, lookups, salt, personal, erased_at FROM donor_records "
        "ORDER BY donation_idx"
    )
    by = {r["donation_idx"]: r for r in rows}
    for index in (s1["index"], s2["index"]):
        assert by[index]["salt"] is None and by[index]["personal"] is None
        assert by[index]["lookups"] is None and by[index]["erased_at"] is not None
    assert by[b1["index"]]["personal"] is not None and by[b1["index"]]["salt"] is not None
    everything = json.dumps([dict(r) for r in rows], default=str).lower()
    assert "siti" not in everything and "melati" not in everything
    # Budi's record is untouched and still opens his commitment.
    budi = (await donor_record(charity, b1["index"])).json()
    assert budi["personal"] == BUDI
    assert docs[b1["index"]]["body"]["donor"]["commitment"] == commitment(
        base64.b64decode(budi["salt"]), BUDI
    )

    # The log, the totals and every public view are unchanged (besides the new entry).
    for index, doc in docs.items():
        assert await entry_document(charity, index) == doc
    assert (await charity.client.get(charity.url("/funds"))).json() == funds
    after = (await charity.client.get(charity.url("/balances"))).json()
    assert after["balances"] == balances["balances"] and after["as_of"] == before + 1
    assert (await charity.client.get(charity.url("/beneficiaries"))).json() == bens
    await assert_log_verifies(store)

    # Replay answers the same; a second erasure finds nothing.
    again = await erase(charity, {"email": "  Siti.Rahmawati.K@example.org "}, key="erase-siti")
    assert again.status_code == 200 and again.json() == erased
    assert again.headers.get("Idempotency-Replayed") == "true"
    second = await erase(charity, {"email": SITI["email"]})
    assert second.status_code == 404
    assert second.headers["content-type"].startswith("application/problem+json")
    assert await head_size(store, charity) == before + 1
    await assert_log_verifies(store)


async def test_erasure_needs_admin_a_key_and_a_contact(charity, store):
    await charity.fund()
    await charity.donate(1_000, donor=SITI)
    before = await head_size(store, charity)
    for role in ("recorder", "auditor"):
        assert (await erase(charity, {"email": SITI["email"]}, role=role)).status_code == 403
    r = await charity.client.post(
        charity.url("/donors/erase"),
        json={"email": SITI["email"]},
        headers=auth(charity.keys["admin"]),
    )
    assert r.status_code == 422 and "Idempotency-Key" in r.json()["detail"]
    assert (await erase(charity, {})).status_code == 422
    assert (await erase(charity, {"email": "nobody@example.org"})).status_code == 404
    assert (await erase(charity, {"email": SITI["email"], "extra": 1})).status_code == 400
    assert await head_size(store, charity) == before
    r = await charity.client.get(charity.url("/donations/1/donor"))
    assert r.status_code == 401
    record = (await donor_record(charity, before - 1)).json()
    assert record["personal"] == SITI
    await assert_log_verifies(store)


async def test_erasure_by_phone_number(charity, store):
    await charity.fund()
    phone_only = await charity.donate(1_000, donor={"name": "Dewi", "phone": "0812 3456 7890"})
    r = await erase(charity, {"phone": "0812-3456-7890"})
    assert r.status_code == 200 and r.json()["records"] == 1, r.text
    assert (await donor_record(charity, phone_only["index"])).json()["personal"] is None
    await assert_log_verifies(store)


async def test_erasure_by_phone_when_the_donor_also_gave_an_email(charity, store):
    await charity.fund()
    d = await charity.donate(1_000, donor=SITI)
    r = await erase(charity, {"phone": SITI["phone"]})
    assert r.status_code == 200, r.text
    assert (await donor_record(charity, d["index"])).json()["personal"] is None
    await assert_log_verifies(store)
