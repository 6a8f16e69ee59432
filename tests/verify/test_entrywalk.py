"""The C loop of ``ledger verify`` (``ledger.verify._entrywalk``) on binary COPY bytes.

The loop must never accept an entry that the Python loop of ``ledger.verify.stored`` would
refuse: on any doubt it stops at that entry, and the range is verified again in Python. Here
it is fed the exact bytes PostgreSQL's ``COPY ... (FORMAT binary)`` sends (built by hand from
entries the writer's own encoder made), sound and then altered with every hash recomputed,
so that only the check under test can notice. The database-level cases (every tampering of
``tests/verify/test_integrity.py`` and the projections' tests) run through both loops with
the ``verify_loop`` fixture and must get the same reports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
from collections.abc import Callable

import msgspec
import pytest

from ledger.formats import merkle
from ledger.formats.canonical import canonical_json, entry_bytes, format_time
from ledger.formats.chain import GENESIS_PREV_HASH, entry_hash
from ledger.verify import native, stored

ORIGIN = "ledger.example/orgs/walk"
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 11, 20, 3, 4, 5, 123456, tzinfo=dt.UTC)
LEVEL = 4

Row = tuple[int, bytes, bytes, bytes, bytes, str, int]


def _body(i: int) -> tuple[str, bytes]:
    if i == 1:
        return "fund.created", canonical_json(
            {"code": "umum", "name": "Dana Umum", "currency": "IDR", "fee_cap_bps": 0}
        )
    if i % 5 == 4:
        return "note", canonical_json({"text": f"catatan ke-{i}: \u00e9\u20ac \U0001f600"})
    return "donation", canonical_json({
        "amount": 2_500_000 + i, "currency": "IDR", "fund": "umum",
        "received_on": "2026-11-20", "reference": f"QRIS-{i:04d}",
    })  # fmt: skip


def entries(
    count: int,
    *,
    body: Callable[[int, bytes], bytes] = lambda i, b: b,
    row: Callable[[int, list], None] = lambda i, r: None,
) -> list[Row]:
    """``count`` entries as the writer encodes them, chained from genesis; ``body`` may alter
    an entry's bytes and ``row`` its columns before the hashes are computed from them."""
    rows: list[Row] = []
    prev = GENESIS_PREV_HASH
    origin_json = canonical_json(ORIGIN, "$.log")
    for i in range(count):
        kind, body_json = _body(i)
        moment = T0 + dt.timedelta(seconds=i // 3)
        data = entry_bytes(origin_json, i, prev, format_time(moment), kind, body_json)
        cols = [i, body(i, data), prev, b"", b"", kind, (moment - EPOCH) // dt.timedelta(microseconds=1)]
        row(i, cols)
        leaf = merkle.leaf_hash(cols[1])
        cols[3] = entry_hash(cols[2], leaf)
        cols[4] = leaf
        rows.append(tuple(cols))  # type: ignore[arg-type]
        prev = cols[3]
    return rows


def copy_bytes(rows: list[Row]) -> bytes:
    """What ``COPY (SELECT idx, body, prev_hash, entry_hash, leaf_hash, kind, created_at ...)
    TO STDOUT (FORMAT binary)`` sends for these rows."""
    out = [b"PGCOPY\n\xff\r\n\x00", struct.pack(">ii", 0, 0)]
    for idx, body, prev, chained, leaf, kind, us in rows:
        out.append(struct.pack(">h", 7))
        for field in (struct.pack(">q", idx), body, prev, chained, leaf, kind.encode(),
                      struct.pack(">q", us)):  # fmt: skip
            out.append(struct.pack(">i", len(field)) + field)
    out.append(struct.pack(">h", -1))
    return b"".join(out)


def walk(rows: list[Row], wanted: list[int] | None = None):  # type: ignore[no-untyped-def]
    assert native.module is not None, "the C loop was not built by the install"
    w = native.module.Walk(
        0, GENESIS_PREV_HASH, canonical_json(ORIGIN, "$.log"), LEVEL, wanted or [],
        stored._KIND_CODES,
    )  # fmt: skip
    w.feed(copy_bytes(rows))
    return w


def test_sound_entries_are_accepted_with_the_python_results():
    rows = entries(13)
    w = walk(rows, wanted=[1, 8, 13])
    assert w.bad is None and w.complete and w.n == 13
    assert w.prev == rows[-1][3]
    tree = merkle.CompactRange()
    levels: dict[int, list[bytes]] = {}
    for r in rows:
        for (lvl, _), h in tree.append(r[4]):
            levels.setdefault(lvl, []).append(h)
    assert [h for _, h in w.frontier()] == list(tree.hashes)
    for lvl in range(1, LEVEL + 1):
        nodes = levels.get(lvl, [])
        assert w.digests()[lvl] == (len(nodes), hashlib.sha256(b"".join(nodes)).digest())
    assert sorted(w.at_sizes) == [1, 8, 13]
    assert [h for _, h in w.at_sizes[13]] == list(tree.hashes)
    money, indexes, money_kinds, others = w.take()
    assert indexes == [i for i in range(13) if _body(i)[0] == "donation"]
    assert set(money_kinds) == {"donation"}
    assert [b["reference"] for b in msgspec.json.decode(money)] == [
        f"QRIS-{i:04d}" for i in indexes
    ]
    assert [(i, k, msgspec.json.decode(b)["code"]) for i, k, b, _ in others] == [
        (1, "fund.created", "umum")
    ]
    assert others[0][3] == (T0 - EPOCH) // dt.timedelta(microseconds=1)
    assert w.take()[1] == []  # taken once


def test_bytes_fed_in_any_pieces_give_the_same_walk():
    rows = entries(9)
    data = copy_bytes(rows)
    whole = walk(rows)
    for size in (1, 7, 100):
        w = native.module.Walk(
            0, GENESIS_PREV_HASH, canonical_json(ORIGIN, "$.log"), LEVEL, [], stored._KIND_CODES
        )
        for at in range(0, len(data), size):
            w.feed(data[at : at + size])
            if at + size < len(data):
                assert w.n <= 9
        assert (w.bad, w.n, w.prev, w.frontier(), w.digests()) == (
            None, 9, whole.prev, whole.frontier(), whole.digests()
        )  # fmt: skip
        assert w.complete
    # two COPY streams one after the other (one per chunk)
    w = native.module.Walk(
        0, GENESIS_PREV_HASH, canonical_json(ORIGIN, "$.log"), LEVEL, [], stored._KIND_CODES
    )
    w.feed(copy_bytes(rows[:4]))
    w.feed(copy_bytes(rows[4:]))
    assert (w.bad, w.n, w.prev) == (None, 9, whole.prev)


def _replace(old: bytes, new: bytes) -> Callable[[int, bytes], bytes]:
    def change(i: int, data: bytes) -> bytes:
        if i != 6:
            return data
        assert old in data, data
        return data.replace(old, new, 1)

    return change


BODY_CHANGES = {
    # each still hashes and chains correctly: only the envelope or JSON checks can see it
    "space after a colon": _replace(b'"amount":', b'"amount": '),
    "a member after body": _replace(b',"index":6', b',"x":1,"index":6'),
    "trailing comma in body": _replace(b'"umum",', b'"umum",,'),
    "unclosed body": _replace(b'"QRIS-0006"}', b'"QRIS-0006"'),
    "two values as body": _replace(b'"QRIS-0006"}', b'"QRIS-0006"},{"amount":1}'),
    "bad escape": _replace(b'QRIS-0006', b'QRIS\\x0006'),
    "control character": _replace(b'QRIS-0006', b'QRIS\x010006'),
    "invalid UTF-8": _replace(b'QRIS-0006', b'QRIS\xc3\x280006'),
    "overlong UTF-8": _replace(b'QRIS-0006', b'QRIS\xc0\xaf0006'),
    "leading zero": _replace(b'"amount":2500006', b'"amount":02500006'),
    "index spelled differently": _replace(b'"index":6', b'"index":6.0'),
    "other log": _replace(b'orgs/walk', b'orgs/wallk'),
    "time off by a microsecond": _replace(b'.123456Z', b'.123457Z'),
    "version 2": _replace(b'"v":1}', b'"v":2}'),
    "prev of another entry": lambda i, d: d if i != 6 else d.replace(
        d[d.index(b'"prev":"') + 8 : d.index(b'","time"')],
        b"A" * 43 + b"=",
    ),
}


@pytest.mark.parametrize("change", sorted(BODY_CHANGES))
def test_an_entry_the_python_loop_may_refuse_stops_the_walk_there(change):
    w = walk(entries(12, body=BODY_CHANGES[change]))
    assert w.bad == 6 and w.n == 6


def _col(k: int, value: object) -> Callable[[int, list], None]:
    def change(i: int, cols: list) -> None:
        if i == 6:
            cols[k] = value

    return change


ROW_CHANGES = {
    "index gap": _col(0, 7),
    "kind column differs": _col(5, "donation.x"),
    "kind with a quote": _col(5, 'dona"tion'),
    "created_at differs": _col(6, (T0 - EPOCH) // dt.timedelta(microseconds=1) + 10**7),
    "time before the previous entry": _col(6, 0),
    "prev_hash not the previous entry_hash": _col(2, b"\x07" * 32),
}


@pytest.mark.parametrize("change", sorted(ROW_CHANGES))
def test_a_row_that_disagrees_stops_the_walk_there(change):
    w = walk(entries(12, row=ROW_CHANGES[change]))
    assert w.bad == 6 and w.n == 6


def test_stored_hashes_that_do_not_match_stop_the_walk():
    rows = entries(8)
    for k in (3, 4):  # entry_hash, leaf_hash
        bad = list(rows)
        cols = list(bad[5])
        cols[k] = bytes(32)
        bad[5] = tuple(cols)  # type: ignore[assignment]
        w = walk(bad)
        assert w.bad == 5 and w.n == 5
    w = walk(rows[:3] + rows[4:])  # a missing entry
    assert w.bad == 3


def test_a_stream_that_is_not_copy_binary_stops_the_walk():
    w = native.module.Walk(
        0, GENESIS_PREV_HASH, canonical_json(ORIGIN, "$.log"), LEVEL, [], stored._KIND_CODES
    )
    w.feed(b"idx\tbody\n0\t{}\n" + b"\x00" * 32)
    assert w.bad == 0 and w.n == 0
    w = walk(entries(3))
    w.feed(b"\x00\x02")  # a tuple of two fields after the trailer's stream
    assert w.bad is None  # still waiting for a header: not a whole stream yet
    assert not w.complete


def _copy_rows(rows: list[tuple], spec: str) -> bytes:
    """Binary COPY bytes of ``rows`` with column types ``spec`` (q bigint, t text, d date)."""
    out = [b"PGCOPY\n\xff\r\n\x00", struct.pack(">ii", 0, 0)]
    for row in rows:
        out.append(struct.pack(">h", len(row)))
        for t, v in zip(spec, row, strict=True):
            if v is None:
                out.append(struct.pack(">i", -1))
            elif t == "q":
                out.append(struct.pack(">iq", 8, v))
            elif t == "d":
                out.append(struct.pack(">ii", 4, (v - dt.date(2000, 1, 1)).days))
            else:
                data = v.encode()
                out.append(struct.pack(">i", len(data)) + data)
    out.append(struct.pack(">h", -1))
    return b"".join(out)


MONEY = "qttttqt"
MONEY_ROWS = [
    (3, "donation", "umum", None, "IDR", 25_000_000, "QRIS-0003"),
    (4, "disbursement", "umum", "lksa-harapan", "IDR", 1_500_000, None),
    (5, "donation", "dana-\u00e9", None, "IDR", 2**62, "r\u20ac"),
]


def test_stored_rows_equal_to_the_expected_ones_are_recognised():
    same = native.module.same_rows
    assert same(_copy_rows(MONEY_ROWS, MONEY), MONEY_ROWS, MONEY)
    assert same(_copy_rows([], MONEY), [], MONEY)
    dates = [(3, dt.date(2026, 11, 20)), (4, dt.date(1999, 12, 31)), (5, None)]
    assert same(_copy_rows(dates, "qd"), dates, "qd")
    # a chunk's rows may come as several COPY streams one after the other
    assert same(_copy_rows(MONEY_ROWS[:1], MONEY) + _copy_rows(MONEY_ROWS[1:], MONEY),
                MONEY_ROWS, MONEY)  # fmt: skip


@pytest.mark.parametrize(
    ("column", "value"),
    [(0, 7), (1, "donasi"), (2, "umum "), (3, ""), (3, "lksa"), (5, 25_000_001), (5, -1),
     (6, None), (6, "QRIS-0004")],
)
def test_any_difference_in_a_stored_row_sends_it_to_python(column, value):
    stored_rows = list(MONEY_ROWS)
    changed = list(stored_rows[0])
    changed[column] = value
    stored_rows[0] = tuple(changed)
    assert not native.module.same_rows(_copy_rows(stored_rows, MONEY), MONEY_ROWS, MONEY)


def test_missing_extra_or_oddly_typed_rows_send_them_to_python():
    same = native.module.same_rows
    data = _copy_rows(MONEY_ROWS, MONEY)
    assert not same(_copy_rows(MONEY_ROWS[:2], MONEY), MONEY_ROWS, MONEY)
    assert not same(data, MONEY_ROWS[:2], MONEY)
    assert not same(data[:-5], MONEY_ROWS, MONEY)  # cut short
    assert not same(data, [(*MONEY_ROWS[0][:5], 25_000_000.0, "QRIS-0003"), *MONEY_ROWS[1:]],
                    MONEY)  # a float is not surely the stored integer  # fmt: skip
    assert not same(data, [MONEY_ROWS[0][:6], *MONEY_ROWS[1:]], MONEY)  # fewer columns
    dates = [(3, dt.date(2026, 11, 20))]
    assert not same(_copy_rows(dates, "qd"), [(3, dt.date(2026, 11, 21))], "qd")
    assert not same(_copy_rows(dates, "qd"), [(3, dt.datetime(2026, 11, 20))], "qd")
    assert not same(b"3\tdonation\n", MONEY_ROWS, MONEY)  # not binary COPY
