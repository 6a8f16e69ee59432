"""Per-item idempotency keys in ``POST …/donations/batch`` (issue 15, item 5): a client that
lost the answer to a batch sends it again, under a new batch key, and gets exactly the
entries it did not get before."""

from __future__ import annotations

from tests.logkit import assert_log_verifies


def _item(n: int, amount: int = 10_000, key: str | None = None) -> dict:
    item = {
        "fund": "senyum-2026",
        "amount": amount,
        "currency": "IDR",
        "received_on": "2026-11-01",
        "channel": "bank_transfer",
        "reference": f"ITEM-{n}",
    }
    if key is not None:
        item["key"] = key
    return item


async def test_items_recorded_before_are_answered_not_appended_again(charity, store):
    await charity.fund()
    first = await charity.post(
        "/donations/batch", {"donations": [_item(1, key="k-1"), _item(2, key="k-2")]}, key="b-1"
    )
    assert first.status_code == 201, first.text
    before = (await store.head((await store.organization(charity.slug)).id)).size
    # The answer was lost: the client sends the batch again with one more item, new batch key.
    again = await charity.post(
        "/donations/batch",
        {"donations": [_item(1, key="k-1"), _item(2, key="k-2"), _item(3, key="k-3")]},
        key="b-2",
    )
    assert again.status_code == 201, again.text
    recorded = again.json()["recorded"]
    assert recorded[:2] == first.json()["recorded"]  # the original answers, same indexes
    assert recorded[2]["index"] == before
    after = (await store.head((await store.organization(charity.slug)).id)).size
    assert after == before + 1
    assert (await charity.client.get(charity.url("/funds/senyum-2026"))).json()["raised"] == 30_000
    await assert_log_verifies(store)


async def test_an_item_key_reused_for_another_item_fails_the_whole_batch(charity, store):
    await charity.fund()
    ok = await charity.post("/donations/batch", {"donations": [_item(1, key="k-1")]})
    assert ok.status_code == 201
    org = await store.organization(charity.slug)
    before = (await store.head(org.id)).size
    r = await charity.post(
        "/donations/batch", {"donations": [_item(5), _item(1, amount=99_999, key="k-1")]}
    )
    assert r.status_code == 422, r.text
    assert "item 1" in r.json()["detail"]
    assert (await store.head(org.id)).size == before
    await assert_log_verifies(store)
