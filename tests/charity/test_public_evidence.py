"""Public, redacted copies of evidence (``evidence.published``): an admin uploads a copy
hash-linked to an original already attached to the disbursement; the copy is served to
everyone with short caching (it can be withdrawn), the original stays private. A copy linked to nothing, the
original itself, another type or an oversized file is refused naming the member at fault,
and the log is unchanged."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from tests.apikit import Org, app_client, assert_problem, auth, head_size, idem
from tests.charity.test_evidence import GIF, TINY_JPEG, TINY_PDF, tiny_png, upload
from tests.logkit import assert_log_verifies

REDACTED = TINY_PDF + b"% nomor rekening dan tanda tangan dihitamkan\n"


async def attached_disbursement(charity: Org) -> tuple[int, str]:
    """A disbursement with the original evidence (a JPEG) attached: (index, hex SHA-256)."""
    await charity.fund()
    await charity.beneficiary()
    await charity.donate(1_000_00)
    r = await charity.disburse(500_00)
    assert r.status_code == 201, r.text
    index = r.json()["index"]
    r = await upload(charity.client, charity, index, TINY_JPEG, "image/jpeg")
    assert r.status_code == 201, r.text
    return index, hashlib.sha256(TINY_JPEG).hexdigest()


async def publish(  # type: ignore[no-untyped-def]
    client, charity: Org, index: int, original: str, content: bytes, *,
    redactions: str = "nomor rekening, tanda tangan", role: str = "admin", key: str | None = None,
):  # fmt: skip
    query = urlencode({"original": original, "redactions": redactions})
    headers = auth(
        charity.keys[role],
        **({"Idempotency-Key": key} if key else idem()),
        **{"Content-Type": "application/octet-stream"},
    )
    return await client.post(
        charity.url(f"/disbursements/{index}/public-evidence?{query}"),
        content=content,
        headers=headers,
    )


async def test_a_redacted_copy_is_published_and_served_to_everyone(charity, store):
    index, original = await attached_disbursement(charity)
    r = await publish(charity.client, charity, index, original, REDACTED, key="pub-1")
    assert r.status_code == 201, r.text
    recorded = r.json()
    assert recorded["kind"] == "evidence.published"
    digest = hashlib.sha256(REDACTED).hexdigest()
    entry = (await charity.client.get(charity.url(f"/log/entries/{recorded['index']}"))).json()
    assert entry["document"]["body"] == {
        "disbursement": index,
        "original": original,
        "sha256": digest,
        "content_type": "application/pdf",
        "size": len(REDACTED),
        "redactions": "nomor rekening, tanda tangan",
    }
    again = await publish(charity.client, charity, index, original, REDACTED, key="pub-1")
    assert again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == recorded
    other = await publish(
        charity.client, charity, index, original, REDACTED, key="pub-1", redactions="wajah"
    )
    assert_problem(other, 422)  # the same key for other redactions: another request
    served = await charity.client.get(charity.url(f"/public-evidence/{digest}"))  # no key
    assert served.status_code == 200 and served.content == REDACTED
    assert served.headers["content-type"].startswith("application/pdf")
    assert served.headers["cache-control"] == "public, max-age=300"  # it can be withdrawn
    assert served.headers["etag"] == f'"{digest}"'
    assert "sandbox" in served.headers["content-security-policy"]
    private = await charity.client.get(charity.url(f"/public-evidence/{original}"))
    assert_problem(private, 404)  # the original stays private
    assert (
        await charity.client.get(charity.url(f"/evidence/{original}"))
    ).status_code == 401
    await assert_log_verifies(store)


async def test_refused_copies_name_the_member_and_leave_the_log_unchanged(
    charity, store, settings
):
    index, original = await attached_disbursement(charity)
    await charity.donate(1_000_00)
    r = await charity.disburse(100_00)
    bare = r.json()["index"]  # a disbursement without evidence
    before = await head_size(store, charity)
    client = charity.client

    def pointer(body: dict) -> str:
        return body["errors"][0]["pointer"]

    r = await publish(client, charity, bare, original, REDACTED)
    body = assert_problem(r, 422, original, f"disbursement {bare}")
    assert body["type"] == "/problems/evidence-link" and pointer(body) == "/original"
    unknown = "0" * 64
    r = await publish(client, charity, index, unknown, REDACTED)
    assert pointer(assert_problem(r, 422, unknown)) == "/original"
    r = await publish(client, charity, index, original, TINY_JPEG)  # the original itself
    assert pointer(assert_problem(r, 422, "original file itself")) == "/sha256"
    r = await upload(client, charity, bare, tiny_png(), "image/png")  # private, elsewhere
    assert r.status_code == 201
    before += 1
    r = await publish(client, charity, index, original, tiny_png())
    body = assert_problem(r, 422, "private evidence", f"disbursement {bare}")
    assert pointer(body) == "/sha256"
    r = await publish(client, charity, index, original, GIF)
    body = assert_problem(r, 415, "content_type")
    assert body["type"] == "/problems/unsupported-media-type" and pointer(body) == "/content_type"
    r = await publish(client, charity, index, original, b"")
    assert pointer(assert_problem(r, 415)) == "/size"
    r = await publish(client, charity, index, "ABC", REDACTED)
    body = assert_problem(r, 400)
    assert pointer(body) == "/original"
    r = await publish(client, charity, index, original, REDACTED, redactions="")
    assert pointer(assert_problem(r, 400)) == "/redactions"
    r = await publish(client, charity, 1, original, REDACTED)  # entry 1: the fund
    assert_problem(r, 422, "not a disbursement")
    r = await publish(client, charity, index, original, REDACTED, role="recorder")
    assert r.status_code == 403
    async with app_client(settings, max_evidence_bytes=1000) as small:
        big = TINY_PDF + b"%" * 1000
        body = assert_problem(await publish(small, charity, index, original, big), 413, "size")
        assert body["type"] == "/problems/payload-too-large" and pointer(body) == "/size"
    assert await head_size(store, charity) == before
    digest = hashlib.sha256(REDACTED).hexdigest()
    assert (await client.get(charity.url(f"/public-evidence/{digest}"))).status_code == 404
    await assert_log_verifies(store)
