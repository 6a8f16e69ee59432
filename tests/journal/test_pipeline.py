"""``ledger.journal.appender.pipeline``: the next chunk is prepared while the previous one is written,
writes stay in order, and a failure never leaves a write running behind the caller's back."""

from __future__ import annotations

import asyncio

import pytest

from ledger.journal.appender import chunked, pipeline


async def test_prepares_the_next_chunk_while_the_previous_one_is_written():
    events: list[str] = []
    writing = asyncio.Event()

    def prepare(chunk):
        events.append(f"prepare {chunk[0]}" + (" during write" if writing.is_set() else ""))
        return chunk

    async def write(chunk):
        writing.set()
        events.append(f"write {chunk[0]} starts")
        await asyncio.sleep(0.01)  # the database's turn
        events.append(f"write {chunk[0]} ends")
        writing.clear()

    await pipeline(chunked(list(range(10)), 4), prepare, write)
    assert events == [
        "prepare 0",
        "write 0 starts",
        "prepare 4 during write",
        "write 0 ends",
        "write 4 starts",
        "prepare 8 during write",
        "write 4 ends",
        "write 8 starts",
        "write 8 ends",
    ]


async def test_a_write_of_several_statements_moves_on_while_a_coroutine_prepares():
    """A large batch's write is several round trips (four COPYs, two each). A ``prepare``
    that gives the loop a turn now and then lets the write send its next statement in the
    meantime, instead of leaving the database idle until the whole chunk is prepared."""
    events: list[str] = []

    async def prepare(chunk):
        for part in chunk:
            events.append(f"prepare {part}")
            await asyncio.sleep(0)
        return chunk

    async def write(chunk):
        for statement in ("a", "b"):
            events.append(f"write {chunk[0]} {statement}")
            await asyncio.sleep(0)  # the database answers at once

    await pipeline(chunked(list(range(6)), 3), prepare, write)
    assert events.index("write 0 b") < events.index("prepare 5"), events
    assert events[-2:] == ["write 3 a", "write 3 b"]
    assert [e for e in events if e.startswith("prepare")] == [f"prepare {n}" for n in range(6)]


async def test_a_failure_waits_for_the_write_in_flight_and_is_the_one_raised():
    finished: list[int] = []

    async def write(chunk):
        await asyncio.sleep(0.01)
        finished.append(chunk[0])

    def prepare(chunk):
        if chunk[0] == 4:
            raise ValueError("bad chunk")
        return chunk

    with pytest.raises(ValueError, match="bad chunk"):
        await pipeline(chunked(list(range(10)), 4), prepare, write)
    assert finished == [0]  # the write of chunk 0 was in flight and ran to its end

    async def failing_write(chunk):
        await asyncio.sleep(0)
        if chunk[0] == 4:
            raise RuntimeError("refused by the database")

    with pytest.raises(RuntimeError, match="refused"):
        await pipeline(chunked(list(range(12)), 4), lambda c: c, failing_write)


def test_chunks_cover_everything_in_order():
    assert chunked([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert chunked([], 3) == []
