"""c2sp.org/tlog-tiles: a client that only fetches tiles computes the same roots and proofs."""

from __future__ import annotations

import asyncio
import base64
import gzip
import struct

from ledger.formats import merkle
from ledger.formats.checkpoint import open_checkpoint
from ledger.formats.note import parse_vkey
from ledger.journal.appender import Appender
from ledger.journal.organizations import create_organization
from ledger.journal.publisher import publish
from ledger.journal.tiles import TILE_WIDTH, tile_path


async def test_tiles_give_the_same_roots_and_proofs(client, store, settings, kek):
    org = await create_organization(store, settings, kek, "yayasan-tiles", "Yayasan Tiles")
    appender = Appender(store)
    for _ in range(3):
        await asyncio.gather(*(appender.append(org, "note", {"text": f"t{i}"}) for i in range(200)))
    await publish(store, org, kek)
    base = f"/v1/orgs/{org.slug}/tlog"
    vkeys = [
        parse_vkey(v) for v in (await client.get(f"/v1/orgs/{org.slug}/log/keys")).text.split()
    ]
    note = (await client.get(f"{base}/checkpoint")).text
    cp = open_checkpoint(note, vkeys, origin=org.origin)
    assert cp.size == 601

    leaves: list[bytes] = []
    full, rest = divmod(cp.size, TILE_WIDTH)
    for n in range(full + (1 if rest else 0)):
        width = TILE_WIDTH if n < full else rest
        r = await client.get(f"{base}/{tile_path(0, n, width)}")
        assert r.status_code == 200 and len(r.content) == 32 * width, r.text
        assert "immutable" in r.headers["cache-control"]
        hashes = [r.content[i : i + 32] for i in range(0, len(r.content), 32)]
        bundle = (await client.get(f"{base}/{tile_path(None, n, width)}")).content
        entries, at = [], 0
        while at < len(bundle):
            (length,) = struct.unpack(">H", bundle[at : at + 2])
            entries.append(bundle[at + 2 : at + 2 + length])
            at += 2 + length
        assert [merkle.leaf_hash(e) for e in entries] == hashes
        leaves.extend(hashes)

    tree = merkle.CompactRange()
    nodes: dict = {}
    for i, leaf in enumerate(leaves):
        nodes[(0, i)] = leaf
        nodes.update(dict(tree.append(leaf)))
    assert tree.root() == cp.root

    level1 = (await client.get(f"{base}/{tile_path(1, 0, full)}")).content
    assert level1 == b"".join(nodes[(8, i)] for i in range(full))

    for index in (0, 255, 256, 600):
        mine = merkle.inclusion_proof(index, cp.size, nodes)
        served = (
            await client.get(
                f"/v1/orgs/{org.slug}/log/proof/inclusion?index={index}&size={cp.size}"
            )
        ).json()
        assert [base64.b64encode(h).decode() for h in mine] == served["proof"]
        merkle.verify_inclusion(leaves[index], index, cp.size, mine, cp.root)

    assert (await client.get(f"{base}/{tile_path(0, full, rest + 1)}")).status_code == 404
    assert (await client.get(f"{base}/{tile_path(0, full + 1)}")).status_code == 404
    for bad in ("tile/0/7", "tile/0/x000/007", "tile/01/000", "tile/0/000.p/0", "tile/64/000"):
        r = await client.get(f"{base}/{bad}")
        assert r.status_code in (400, 404, 422) and r.headers["content-type"].startswith(
            "application/problem+json"
        )


async def test_entry_bundles_are_gzipped_when_the_client_accepts_it(client, store, settings, kek):
    """tlog-tiles: entry bundles SHOULD be compressed; gzip when asked, identity otherwise,
    ``Vary: Accept-Encoding`` either way; hash tiles are never compressed."""
    org = await create_organization(store, settings, kek, "yayasan-gzip", "Yayasan Gzip")
    appender = Appender(store)
    await asyncio.gather(*(appender.append(org, "note", {"text": f"g{i}"}) for i in range(40)))
    await publish(store, org, kek)
    url = f"/v1/orgs/{org.slug}/tlog/{tile_path(None, 0, 40)}"

    plain = await client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    assert plain.headers["content-type"] == "application/octet-stream"
    for accept in ("gzip", "gzip, identity", "br;q=1, gzip;q=0.5", "*"):
        async with client.stream("GET", url, headers={"Accept-Encoding": accept}) as r:
            raw = b"".join([chunk async for chunk in r.aiter_raw()])
        assert r.headers["content-encoding"] == "gzip", accept
        assert r.headers["vary"] == "Accept-Encoding"
        assert gzip.decompress(raw) == plain.content
        assert len(raw) < len(plain.content)
    refused = await client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers and refused.content == plain.content
    hashes = await client.get(
        f"/v1/orgs/{org.slug}/tlog/{tile_path(0, 0, 40)}", headers={"Accept-Encoding": "gzip"}
    )
    assert "content-encoding" not in hashes.headers and len(hashes.content) == 32 * 40
