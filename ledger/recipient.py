"""``ledger recipient``: the orphanage's side, for those who prefer a command to the phone page.

Runs on the orphanage's own computer and talks to the ledger over HTTPS; the private key
stays in a local file (mode 0600) and is never sent. Needs only the standard library and
``cryptography`` (the formats), like ``ledger-verify``::

    ledger recipient keygen --key panti.key
    ledger recipient enrol https://ledger.example/daftar/<token> --key panti.key
    ledger recipient sign https://ledger.example/v1/orgs/<org>/disbursements/<i>/acknowledgment \
        --key panti.key [--dispute RECEIVED_MINOR_UNITS]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ledger.formats import acknowledgment

KEY_FILE_HEADER = "donation-ledger recipient key v1"


def new_seed() -> bytes:
    return secrets.token_bytes(32)


def write_key(path: Path, seed: bytes) -> None:
    """Write the key file readable by its owner only (never overwrites one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"{KEY_FILE_HEADER}\n{base64.b64encode(seed).decode()}\n")


def read_key(path: Path) -> bytes:
    lines = path.read_text().split()
    if len(lines) < 2 or " ".join(lines[:-1]) != KEY_FILE_HEADER:
        raise ValueError(f"{path} is not a recipient key file ({KEY_FILE_HEADER!r})")
    seed = base64.b64decode(lines[-1], validate=True)
    if len(seed) != 32:
        raise ValueError(f"{path}: expected a 32-byte key")
    return seed


def public_key_text(seed: bytes) -> str:
    return base64.b64encode(acknowledgment.public_key_of(seed)).decode()


def disbursed_of_view(view: dict[str, Any]) -> acknowledgment.Disbursed:
    """The message facts of ``GET …/disbursements/{i}/acknowledgment``'s answer."""
    m = view["message"]
    return acknowledgment.Disbursed(
        origin=m["origin"],
        org=m["org"],
        beneficiary=m["beneficiary"],
        index=m["disbursement"],
        leaf_hash=base64.b64decode(m["leaf_hash"], validate=True),
        amount=m["amount"],
        currency=m["currency"],
        minor_units=m["minor_units"],
        paid_on=m["paid_on"],
    )


def signed_request(
    view: dict[str, Any], seed: bytes, received: int | None = None
) -> dict[str, Any]:
    """The body of ``POST …/acknowledgment``: an acknowledgment (``received`` None) or a
    dispute saying ``received`` minor units arrived, signed with ``seed``'s key."""
    if view.get("key") is None or view.get("public_key") != public_key_text(seed):
        raise ValueError("this key is not the beneficiary's current key in the log: enrol it first")
    facts = disbursed_of_view(view)
    if received is None:
        verdict, amount = acknowledgment.ACKNOWLEDGED, facts.amount
    else:
        verdict, amount = acknowledgment.DISPUTED, received
    signature = acknowledgment.sign(seed, acknowledgment.message(facts, verdict, amount))
    body: dict[str, Any] = {
        "verdict": verdict,
        "key": view["key"],
        "signature": base64.b64encode(signature).decode(),
    }
    if received is not None:
        body["received"] = received
    return body


def _http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        problem = exc.read().decode("utf-8", "replace")
        raise RuntimeError(f"{method} {url}: {exc.code} {problem}") from exc


def enrol_api_url(link: str) -> str:
    """``https://host/daftar/<token>`` → ``https://host/v1/enrolments/<token>``."""
    parts = urlsplit(link)
    token = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return urlunsplit((parts.scheme, parts.netloc, f"/v1/enrolments/{token}", "", ""))


def run(args: argparse.Namespace) -> str:
    path = Path(args.key)
    if args.recipient == "keygen":
        seed = new_seed()
        write_key(path, seed)
        return f"key written to {path}; public key {public_key_text(seed)}"
    seed = read_key(path)
    if args.recipient == "enrol":
        url = enrol_api_url(args.link)
        recorded = _http("POST", url, {"public_key": public_key_text(seed)})
        return f"key recorded as entry {recorded['index']} ({recorded['kind']})"
    view = _http("GET", args.url)
    body = signed_request(view, seed, args.dispute)
    key = "ack-" + body["signature"][:32].replace("/", "_").replace("+", "-")
    recorded = _http("POST", args.url, body, {"Idempotency-Key": key})
    return f"{body['verdict']} recorded as entry {recorded['index']}"


def add_parser(sub: Any) -> None:
    """The ``recipient`` command of ``ledger`` (``ledger.cli``)."""
    p = sub.add_parser("recipient", help="the orphanage's key: enrol, acknowledge, dispute")
    r = p.add_subparsers(dest="recipient", required=True)
    q = r.add_parser("keygen", help="make a new Ed25519 key file (mode 0600)")
    q.add_argument("--key", required=True)
    q = r.add_parser("enrol", help="record the key's public half with a one-time link")
    q.add_argument("link", help="the enrolment link the charity sent (…/daftar/<token>)")
    q.add_argument("--key", required=True)
    q = r.add_parser("sign", help="acknowledge (or --dispute) one disbursement")
    q.add_argument("url", help="…/v1/orgs/<org>/disbursements/<index>/acknowledgment")
    q.add_argument("--key", required=True)
    q.add_argument(
        "--dispute",
        type=int,
        metavar="RECEIVED",
        help="dispute instead: minor units that arrived (0: nothing)",
    )
