"""Evidence files of disbursements: the log commits to their hash and sniffed type; only
committed files are served, to the organization's own keys."""

from __future__ import annotations

import base64
import hashlib
import zlib

from ledger.http.auth import issue_key
from ledger.journal.organizations import create_organization
from tests.apikit import Org, app_client, assert_problem, auth, head_size, idem
from tests.logkit import assert_log_verifies


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data).to_bytes(4, "big")
        return len(data).to_bytes(4, "big") + kind + data + crc

    ihdr = (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    idat = zlib.compress(b"\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


TINY_JPEG = (
    bytes.fromhex(
        "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f"
    )
    + b"\x00" * 16
    + b"\xff\xd9"
)


GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"  # fmt: skip


async def _disbursement(charity: Org) -> int:
    await charity.fund()
    await charity.beneficiary()
    await charity.donate(1_000_00)
    r = await charity.disburse(500_00)
    assert r.status_code == 201
    return r.json()["index"]


async def upload(  # type: ignore[no-untyped-def]
    client, charity: Org, index: int, content: bytes, content_type: str = "text/plain"
):
    headers = auth(charity.keys["recorder"], **idem(), **{"Content-Type": content_type})
    return await client.post(
        charity.url(f"/disbursements/{index}/evidence"), content=content, headers=headers
    )


async def test_evidence_upload_commits_hash_and_sniffed_type_and_downloads_identically(
    charity, store
):
    index = await _disbursement(charity)
    for content, sniffed in (
        (tiny_png(), "image/png"),
        (TINY_PDF, "application/pdf"),
        (TINY_JPEG, "image/jpeg"),
    ):
        before = await head_size(store, charity)
        r = await upload(charity.client, charity, index, content, "text/plain")
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "evidence.attached" and r.json()["index"] == before
        entry = (await charity.client.get(charity.url(f"/log/entries/{before}"))).json()
        digest = hashlib.sha256(content).hexdigest()
        assert entry["document"]["body"] == {
            "disbursement": index,
            "sha256": digest,
            "content_type": sniffed,
            "size": len(content),
        }
        for role in ("auditor", "recorder", "admin"):
            got = await charity.client.get(
                charity.url(f"/evidence/{digest}"), headers=auth(charity.keys[role])
            )
            assert got.status_code == 200 and got.content == content
            assert got.headers["X-Content-SHA256"] == digest
            assert got.headers["content-type"].startswith(sniffed)
            assert hashlib.sha256(got.content).hexdigest() == digest
        canonical = base64.b64decode(entry["canonical"])
        assert digest.encode() in canonical
    await assert_log_verifies(store)


async def test_evidence_of_another_type_is_415_and_nothing_is_recorded(charity, store):
    index = await _disbursement(charity)
    before = await head_size(store, charity)
    for content, claimed in (
        (GIF, "image/png"),
        (b"just some text", "application/pdf"),
        (b"<html>%PDF-</html>", "application/pdf"),
    ):
        r = await upload(charity.client, charity, index, content, claimed)
        assert_problem(r, 415)
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)


async def test_evidence_over_the_limit_is_413(charity, store, settings):
    index = await _disbursement(charity)
    before = await head_size(store, charity)
    async with app_client(settings, max_evidence_bytes=1000) as small:
        at_limit = TINY_PDF + b"%" * (1000 - len(TINY_PDF))
        too_big = at_limit + b"%"
        assert_problem(await upload(small, charity, index, too_big, "application/pdf"), 413)
        assert await head_size(store, charity) == before
        ok = await upload(small, charity, index, at_limit, "application/pdf")
        assert ok.status_code == 201, ok.text
    await assert_log_verifies(store)


async def test_evidence_for_a_non_disbursement_is_422_and_stores_nothing(charity, store):
    await _disbursement(charity)
    donation_index = (await charity.donate(1))["index"]
    before = await head_size(store, charity)
    content = tiny_png()
    for target in (donation_index, 0, 10_000):
        assert_problem(await upload(charity.client, charity, target, content), 422)
    assert await head_size(store, charity) == before
    digest = hashlib.sha256(content).hexdigest()
    r = await charity.client.get(
        charity.url(f"/evidence/{digest}"), headers=auth(charity.keys["auditor"])
    )
    assert_problem(r, 404)  # no entry commits to this file: it must not be served
    await assert_log_verifies(store)


async def test_evidence_download_rules(charity, store, settings, kek):
    """The parts of evidence that do not need an upload: unknown or malformed hashes."""
    unknown = hashlib.sha256(b"never uploaded").hexdigest()
    r = await charity.client.get(
        charity.url(f"/evidence/{unknown}"), headers=auth(charity.keys["auditor"])
    )
    assert_problem(r, 404)
    r = await charity.client.get(
        charity.url("/evidence/not-hex"), headers=auth(charity.keys["auditor"])
    )
    assert_problem(r, 422, "SHA-256")
    # Another organization's key cannot fetch this organization's files.
    other = await create_organization(store, settings, kek, "other-org", "Other")
    _, other_key = await issue_key(store, other.id, "auditor")
    r = await charity.client.get(charity.url(f"/evidence/{unknown}"), headers=auth(other_key))
    assert_problem(r, 403)
