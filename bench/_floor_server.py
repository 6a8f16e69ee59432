"""The server of ``bench.http_instructions --floor``: what a donation costs the server before
the ledger's own work on it.

It is ``ledger serve`` (one process): the same app, uvicorn with the connection's protocol
and the donation door, the same settled heap, JSON access lines and metrics. Only the door's
``DonationFastPath.start``, ``finish`` and ``answer`` are replaced, so every request still
goes through the parser, the door's cycle (started in the parser's callback, answered from a
callback, as a donation is), the request id, the head-cache reset, one write of the whole
response, the latency metric and the access line:

* ``transport``: the answer is a fixed 201 of the real answer's size, with no work at all;
* ``append``: before that answer, one ``note`` entry is appended to the organization's log by
  the service's own appender (group commit, canonical bytes, hashes, Merkle nodes, the one
  ``append_batch_json`` call), with no API key, body decoding, rules or projections.

Never used by the service; it only exists to measure the floor under the real code.
"""

from __future__ import annotations

import os
import sys

import uvicorn

from ledger.charity.recording import Reply
from ledger.http.api.fastpath import LATER, ROUTE, TEMPLATE, DonationFastPath, Recording
from ledger.http.app import create_app
from ledger.http.ratelimit import RateLimit
from ledger.http.server import (
    _configure_logging,
    claim_port,
    prepare_database,
    settle_heap,
    uvicorn_config,
)
from ledger.settings import Settings

ANSWER = (
    b'{"index":100000,"kind":"donation","time":"2026-12-04T21:00:00.000000Z",'
    b'"entry_hash":"' + b"0" * 64 + b'","leaf_hash":"' + b"0" * 64 + b'"}'
)
"""A 201's body of the real answer's size."""
MODES = ("transport", "append")


async def serve(mode: str) -> None:
    settings = Settings.from_env()
    _configure_logging(settings, os.environ)
    sock = claim_port(settings.host, settings.port)
    sock.listen(2048)
    settings = await prepare_database(settings)
    app = create_app(settings, rate_limit=RateLimit.from_env(os.environ))
    reply = Reply(201, ANSWER)

    async def nothing(path, headers, raw, client):  # type: ignore[no-untyped-def]
        return reply, TEMPLATE

    async def append(path, headers, raw, client):  # type: ignore[no-untyped-def]
        services = app.state.services  # set by the app's lifespan
        org = await services.organization(ROUTE.fullmatch(path)[1])  # type: ignore[index]
        await services.appender.append(org, "note", {"text": "floor"})
        return reply, TEMPLATE

    def start_nothing(path, headers, raw):  # type: ignore[no-untyped-def]
        return reply

    def start_append(path, headers, raw):  # type: ignore[no-untyped-def]
        services = app.state["services"]
        org = services.cached_organization(ROUTE.fullmatch(path)[1])  # type: ignore[index]
        if org is None:
            return LATER  # read once, by ``append`` in a task
        future = services.appender.submit(org, "note", {"text": "floor"})
        return Recording(services, org, None, future)  # type: ignore[arg-type]

    fast = app.state.front_door.fast
    # The door starts what it can in the parser's callback (``DonationFastPath.start``) and
    # answers from the future's callback (``finish``); ``answer`` takes the rest in a task.
    fast.answer = nothing if mode == "transport" else append
    fast.start = start_nothing if mode == "transport" else start_append
    DonationFastPath.finish = staticmethod(lambda recording, headers: reply)  # type: ignore[method-assign]
    settle_heap()
    await uvicorn.Server(uvicorn_config(app)).serve(sockets=[sock])


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in MODES:
        sys.exit(f"usage: python -m bench._floor_server {{{','.join(MODES)}}}")
    import uvloop

    uvloop.run(serve(sys.argv[1]))
