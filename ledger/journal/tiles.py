"""The log as static c2sp.org/tlog-tiles resources, so proofs can be served from a CDN.

A tile at level ``L``, index ``N`` holds the Merkle hashes of tree level ``8 * L`` with
indexes ``N*256 .. N*256 + W - 1`` (``W`` = 256 for a full tile): exactly the stored nodes
(level 0: the entries' leaf hashes). An entry bundle holds the canonical bytes of entries
``N*256 ..``, each prefixed by its length as a big-endian uint16. Full tiles never change;
a partial tile (``.p/W``) is served only when the tree has those ``W`` hashes.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from ledger.errors import MalformedError, NotFoundError
from ledger.store import tiles as T
from ledger.store.log import Organization, Store

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
_INDEX = re.compile(r"^(?:x\d{3}/)*\d{3}$")


@dataclass(frozen=True)
class TilePath:
    """A parsed ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` path."""

    level: int | None
    """Tile level, or None for an entry bundle."""
    index: int
    """Tile index N."""
    width: int
    """Number of hashes or entries (256 for a full tile)."""


def encode_index(n: int) -> str:
    """``1234067`` → ``x001/x234/067`` (zero-padded 3-digit elements, all but the last with x)."""
    parts = []
    while True:
        parts.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    return "/".join(["x" + p for p in reversed(parts[1:])] + [parts[0]])


def tile_path(level: int | None, index: int, width: int = TILE_WIDTH) -> str:
    head = "tile/entries" if level is None else f"tile/{level}"
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"{head}/{encode_index(index)}{suffix}"


def parse_tile_path(kind: str, rest: str) -> TilePath:
    """Parse the part after ``tile/`` (``kind`` is ``entries`` or a level)."""
    if kind == "entries":
        level = None
    elif kind.isdigit() and (kind == "0" or not kind.startswith("0")) and int(kind) <= 63:
        level = int(kind)
    else:
        raise MalformedError(f"expected a tile level 0..63 or 'entries', got {kind!r}")
    width = TILE_WIDTH
    if ".p/" in rest:
        rest, _, w = rest.partition(".p/")
        if not w.isdigit() or w.startswith("0") or not 1 <= int(w) <= 255:
            raise MalformedError(f"expected a partial width 1..255, got {w!r}")
        width = int(w)
    if not _INDEX.match(rest):
        raise MalformedError(f"expected a tile index like x001/x234/067, got {rest!r}")
    parts = rest.split("/")
    index = int("".join(p.lstrip("x") for p in parts))
    if encode_index(index) != rest:
        raise MalformedError(f"expected the canonical encoding {encode_index(index)!r}")
    return TilePath(level, index, width)


async def tile(store: Store, org: Organization, path: TilePath) -> bytes:
    """The bytes of a hash tile or an entry bundle; NotFound if the tree is too small."""
    start = path.index * TILE_WIDTH
    end = start + path.width
    async with store.connection() as conn:
        if path.level is None:
            rows = await T.bodies_range(conn, org.id, start, end)
            data = b"".join(struct.pack(">H", len(body)) + body for body in rows)
        elif path.level == 0:
            rows = await T.leaf_hashes_range(conn, org.id, start, end)
            data = b"".join(rows)
        else:
            level = path.level * TILE_HEIGHT
            rows = await T.node_hashes_range(conn, org.id, level, start, end)
            data = b"".join(rows)
    if len(rows) != path.width:
        raise NotFoundError(
            f"the log has no {'partial ' if path.width < TILE_WIDTH else ''}tile "
            f"{tile_path(path.level, path.index, path.width)} yet"
        )
    return data
