"""The deliverer's HTTP/1.1 client against real sockets on loopback: answers delimited by
Content-Length, chunked or by the end of the connection, a kept connection the receiver
closed while idle, a receiver that never answers, one that is not there, and one that
answers something that is not HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from ledger.journal.webhookhttp import (
    ConnectError,
    DeliveryTimeout,
    InvalidURL,
    RemoteProtocolError,
    Sender,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, list[bytes]], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head + await reader.readexactly(length)


@asynccontextmanager
async def receiver(answer: Handler) -> AsyncIterator[tuple[str, list[bytes], list[int]]]:
    """A server on a free port; yields (url, requests received, connections opened)."""
    got: list[bytes] = []
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await answer(reader, writer, got)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/hooks?x=1", got, connections
    finally:
        server.close()


async def keep_alive(reader, writer, got) -> None:  # type: ignore[no-untyped-def]
    while (request := await read_request(reader)) is not None:
        got.append(request)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()


async def test_keeps_one_connection_and_sends_what_it_is_given():
    async with receiver(keep_alive) as (url, got, connections), Sender(5) as sender:
        for n in range(3):
            assert await sender.post(url, b'{"n":%d}' % n, {"webhook-id": f"msg_1_{n}"}) == 204
    assert len(connections) == 1 and len(got) == 3
    first = got[0].decode()
    assert first.startswith("POST /hooks?x=1 HTTP/1.1\r\n")
    assert "\r\nHost: 127.0.0.1:" in first and "\r\nwebhook-id: msg_1_0\r\n" in first
    assert first.endswith('\r\n\r\n{"n":0}')


async def test_chunked_and_close_delimited_answers():
    async def chunked(reader, writer, got) -> None:  # type: ignore[no-untyped-def]
        while (request := await read_request(reader)) is not None:
            got.append(request)
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
            )

    async def until_close(reader, writer, got) -> None:  # type: ignore[no-untyped-def]
        got.append(await read_request(reader))
        writer.write(b"HTTP/1.1 202 Accepted\r\nConnection: close\r\n\r\nthanks")

    async with receiver(chunked) as (url, got, connections), Sender(5) as sender:
        assert [await sender.post(url, b"{}", {}) for _ in range(2)] == [200, 200]
        assert len(connections) == 1 and len(got) == 2
    async with receiver(until_close) as (url, _, connections), Sender(5) as sender:
        assert [await sender.post(url, b"{}", {}) for _ in range(2)] == [202, 202]
        assert len(connections) == 2  # "Connection: close": a new one each time


async def test_a_kept_connection_closed_by_the_receiver_is_replaced():
    async def one_per_connection(reader, writer, got) -> None:  # type: ignore[no-untyped-def]
        got.append(await read_request(reader))
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")  # says keep-alive, then closes
        await writer.drain()

    async with receiver(one_per_connection) as (url, got, connections), Sender(5) as sender:
        assert await sender.post(url, b"1", {}) == 204
        await asyncio.sleep(0.05)
        assert await sender.post(url, b"2", {}) == 204
    assert len(got) == 2 and len(connections) == 2


async def test_failures_are_delivery_errors():
    async def silent(reader, writer, got) -> None:  # type: ignore[no-untyped-def]
        await read_request(reader)
        await asyncio.sleep(5)

    async def garbage(reader, writer, got) -> None:  # type: ignore[no-untyped-def]
        await read_request(reader)
        writer.write(b"SMTP ready\r\n\r\n")

    async with receiver(silent) as (url, _, _), Sender(0.3) as sender:
        with pytest.raises(DeliveryTimeout, match=r"no answer within 0\.3 s"):
            await sender.post(url, b"{}", {})
    async with receiver(garbage) as (url, _, _), Sender(5) as sender:
        with pytest.raises(RemoteProtocolError):
            await sender.post(url, b"{}", {})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    async with Sender(5) as sender:
        with pytest.raises(ConnectError):
            await sender.post(f"http://127.0.0.1:{port}/", b"{}", {})
        with pytest.raises(InvalidURL):
            await sender.post("ftp://example.org/", b"{}", {})
