"""A donor finds their own gift ("Cek donasi saya") with a receipt code only they were given.

The receipt code of a donation is an HMAC-SHA256, keyed by a key derived from the
key-encryption key, over the log's origin and the entry's index, cut to 128 bits and written
in base32 (26 characters, shown in groups). Nothing is stored: the code is recomputed, so it
cannot leak from the database, and without the KEK nobody can make one. The charity hands it
to the donor with their receipt (``GET …/donations/{i}/receipt-link``: the code and a link to
share on WhatsApp or by e-mail).

What it guards (UU PDP 27/2022: donors' data is theirs):
- the lookup needs the payment reference **and** the code; a wrong pair gets the same "not
  found" as an unknown reference, so no one learns which references exist;
- 128 bits cannot be guessed, and the public site's anonymous rate limit bounds tries anyway;
- the page a code opens shows what the public log shows (fund, amount, date, status) and
  nothing personal; only the downloads for the code's holder (the receipt PDF and JSON)
  carry the donor's own opening of the commitment.

Rotating the KEK changes every code: send donors new links after a rotation.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import quote

from ledger.charity.reversals import Reversal, reversal_of
from ledger.errors import NotFoundError
from ledger.store import charity as P
from ledger.store.log import Organization, Store
from schemas import kinds

CODE_DOMAIN = b"donation-ledger receipt code v1\x00"
"""Domain separation of the key that makes receipt codes, derived from the KEK."""
CODE_BITS = 128
NOT_FOUND = "no gift with that reference and receipt code"
"""The one answer to every failed lookup, whatever failed."""


def _code_key(kek: bytes) -> bytes:
    return hashlib.sha256(CODE_DOMAIN + kek).digest()


def receipt_code(kek: bytes, origin: str, index: int) -> str:
    """The receipt code of entry ``index`` of log ``origin``: 26 base32 characters in groups
    of four or five (``ABCD-EFGH-…``), case and dashes ignored when read back."""
    mac = hmac.new(_code_key(kek), f"{origin}\x00{index}".encode(), hashlib.sha256).digest()
    text = base64.b32encode(mac[: CODE_BITS // 8]).decode().rstrip("=")
    return "-".join(text[i : i + 5] for i in range(0, len(text), 5))


def normalize_code(code: str) -> str:
    """A typed code as it is compared: upper case, no spaces or dashes."""
    return "".join(c for c in code.upper() if c.isalnum())


def code_matches(kek: bytes, origin: str, index: int, code: str) -> bool:
    """Whether ``code`` is entry ``index``'s receipt code (compared in constant time)."""
    expected = normalize_code(receipt_code(kek, origin, index))
    return hmac.compare_digest(expected.encode(), normalize_code(code).encode())


def gift_path(slug: str, index: int, code: str) -> str:
    """The site path of a gift's own page, which the code opens."""
    return f"/orgs/{quote(slug)}/my-gift/{index}/{normalize_code(code)}"


@dataclass(frozen=True)
class Gift:
    """What a donor's own page shows: what the public log says of the donation, and its status."""

    index: int
    """The donation entry."""
    fund: str
    """The fund's code."""
    fund_name: str
    amount: int
    """Integer minor units."""
    currency: str
    minor_units: int
    """The exponent the fund recorded."""
    received_on: dt.date
    reference: str
    reversal: Reversal | None
    """The correction that reversed it, if one did: then it no longer counts."""


async def find_gift(store: Store, org: Organization, kek: bytes, reference: str, code: str) -> int:
    """The index of the donation with ``reference`` whose receipt code is ``code``;
    ``NotFoundError`` (always the same message) otherwise."""
    async with store.connection() as conn:
        candidates = await P.donations_with_reference(conn, org.id, reference.strip())
    found = [i for i in candidates if code_matches(kek, org.origin, i, code)]
    if not found:
        raise NotFoundError(NOT_FOUND)
    return found[0]


async def gift(store: Store, org: Organization, kek: bytes, index: int, code: str) -> Gift:
    """The donation ``index`` when ``code`` is its receipt code; ``NotFoundError`` otherwise
    (a wrong code and a missing entry look alike)."""
    if not code_matches(kek, org.origin, index, code):
        raise NotFoundError(NOT_FOUND)
    async with store.connection() as conn:
        try:
            entry = await store.entry(org.id, index, conn)
        except NotFoundError:
            raise NotFoundError(NOT_FOUND) from None
        if entry.kind != kinds.DONATION:
            raise NotFoundError(NOT_FOUND)
        body = json.loads(entry.body)["body"]
        fund = (await P.funds(conn, org.id, [body["fund"]]))[body["fund"]]
        reversal = await reversal_of(store, org.id, index, conn)
    return Gift(
        index=index,
        fund=body["fund"],
        fund_name=fund.name,
        amount=body["amount"],
        currency=body["currency"],
        minor_units=fund.minor_units,
        received_on=dt.date.fromisoformat(body["received_on"]),
        reference=body["reference"],
        reversal=reversal,
    )


async def receipt_link(
    store: Store, org: Organization, kek: bytes, index: int, public_url: str
) -> dict[str, str | int]:
    """What the charity sends a donor: the receipt code, the link that opens the gift's page
    (``gift_path`` under ``public_url``), and a WhatsApp share link with a short message in
    Bahasa Indonesia. Only for donations."""
    async with store.connection() as conn:
        entry = await store.entry(org.id, index, conn)
    if entry.kind != kinds.DONATION:
        raise NotFoundError(f"entry {index} of {org.slug} is a {entry.kind}, not a donation")
    code = receipt_code(kek, org.origin, index)
    url = public_url + gift_path(org.slug, index, code)
    text = f"Tanda terima donasi Anda untuk {org.name}: {url} (kode tanda terima {code})"
    return {
        "index": index,
        "code": code,
        "url": url,
        "whatsapp_url": "https://wa.me/?text=" + quote(text, safe=""),
    }
