"""``ledger verify`` reads a chunk of entries in one of two passes: a column at a time (the
usual case, ``_chunk_at_once``) or entry by entry (``_chunk_entry_by_entry``, taken when
anything in the chunk differs, to name it). Both must establish exactly the same thing: the
chain, the Merkle stack at every checkpoint size, the node digests the stored nodes are
compared with, and the projection rows and sums. Here each range of a real log (notes,
funds, donations, a correction, checkpoints at sizes inside chunks) is verified both ways.
"""

from __future__ import annotations

import pytest

from ledger.charity.rules import CharityPolicy
from ledger.journal.appender import Intent, append_batch
from ledger.journal.organizations import create_organization
from ledger.journal.publisher import publish
from ledger.verify import stored
from ledger.verify.stored import verify_log, verify_range
from tests.logkit import assert_log_verifies

FUND = {"code": "umum", "name": "Dana umum", "currency": "IDR", "fee_cap_bps": 1000,
        "minor_units": 2}  # fmt: skip


def donation(i: int) -> dict:
    return {
        "fund": "umum",
        "amount": 25_000_00 + i,
        "currency": "IDR",
        "received_on": f"2026-11-{1 + i % 28:02d}",
        "channel": "bank_transfer",
        "reference": f"TRX-{i:06d}",
        "donor": {"commitment": None, "display": None},
    }


async def _log(store, settings, kek):
    """A charity's log of 300 entries with checkpoints at sizes 1, 37, 100, 211 and 300."""
    org = await create_organization(store, settings, kek, "yayasan-dua-jalan", "Yayasan")
    policy = CharityPolicy()
    batches = [
        [Intent("fund.created", FUND)] + [Intent("donation", donation(i)) for i in range(35)],
        [Intent("note", {"text": f"catatan {i}"}) for i in range(20)]
        + [Intent("donation", donation(100 + i)) for i in range(43)],
        [Intent("correction", {"corrects": 5, "reason": "salah nominal"})]
        + [Intent("donation", donation(200 + i)) for i in range(110)],
        [Intent("donation", donation(400 + i)) for i in range(89)],
    ]
    for intents in batches:
        async with store.connection() as conn, conn.transaction():
            await append_batch(store, conn, org, intents, policy=policy)
        await publish(store, org, kek)
    return org


def _established(r: stored.RangeResult) -> tuple:
    d = r.derived
    return (
        r.start, r.end, r.first_prev, r.last_hash, r.frontier, r.at_sizes, r.bad,
        None if d is None else (d.balances, d.totals, d.corrected_expected, d.settings),
    )  # fmt: skip


@pytest.mark.parametrize("level", [2, 5, 6, 8, 15])
async def test_both_passes_establish_the_same(store, settings, kek, monkeypatch, level):
    org = await _log(store, settings, kek)
    head = await store.head(org.id)
    assert head.size == 300
    sizes = [1, 37, 100, 211, 300]
    at_once = []
    async with store.connection() as conn:
        for a in range(0, head.size, 1 << level):
            b = min(a + (1 << level), head.size)
            within = [s for s in sizes if a < s <= b]
            at_once.append(await verify_range(conn, org.id, org.origin, a, b, level, within))
        chunks = []
        real = stored._chunk_at_once

        def counted(w, rows):
            found = real(w, rows)
            chunks.append(found is not None)
            return found

        monkeypatch.setattr(stored, "_chunk_at_once", counted)
        for r in at_once:
            within = [s for s in sizes if r.start < s <= r.asked_end]
            again = await verify_range(conn, org.id, org.origin, r.start, r.asked_end, level, within)
            assert _established(again) == _established(r)
        assert all(chunks), "a sound chunk must take the column-at-a-time pass"
        monkeypatch.setattr(stored, "_chunk_at_once", lambda w, rows: None)
        for r in at_once:
            within = [s for s in sizes if r.start < s <= r.asked_end]
            one_by_one = await verify_range(
                conn, org.id, org.origin, r.start, r.asked_end, level, within
            )
            assert _established(one_by_one) == _established(r)
    assert all(r.bad is None for r in at_once)
    assert sorted(s for r in at_once for s in r.at_sizes) == sizes
    report = await verify_log(store, org, range_level=level)
    assert report.ok, report
    assert report.checkpoints == 5
    await assert_log_verifies(store)
