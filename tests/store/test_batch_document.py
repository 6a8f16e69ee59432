"""A group-commit batch as one JSON document (migration 0029): PostgreSQL reads back exactly
the arrays ``append_batch_rows`` took as parameters, and a document that does not match the
head it moves writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import pytest

from ledger.journal.appender import ONE_CALL_PROJECTION_COLUMNS, Appender
from ledger.journal.organizations import create_organization
from ledger.store.log import BATCH_DOCUMENT_KEYS, batch_document
from tests.logkit import assert_log_verifies

JAKARTA = timezone(timedelta(hours=7))

# One value per key, in the order of BATCH_DOCUMENT_KEYS, with what JSON and PostgreSQL's
# text forms could get wrong: every byte value, quotes, backslashes, non-ASCII text, NULL
# elements, the ends of bigint, microseconds and offsets other than UTC.
ODD_TEXT = 'kutip " miring \\ baris\nbaru, rupiah Rp 1.000 — ✓'
COLUMNS: list = [
    [2**63 - 1, 0],  # e_idx
    ["donation", ODD_TEXT],  # e_kind
    [datetime(2026, 12, 4, 21, 0, 0, 123456, UTC), datetime(2026, 1, 1, 7, tzinfo=JAKARTA)],
    [bytes(range(256)), b""],  # e_body
    [b"\x00" * 32, b"\xff" * 32],
    [bytes(range(32)), bytes(range(32, 64))],
    [b"\\x41", b'"'],  # e_leaf_hash: bytes that look like escapes
    [0, 32767],  # n_level
    [-(2**63), 5],
    [b"\x01", b"\x02\x03"],
    41,  # h_size
    b"\x7f" * 32,  # h_hash
    datetime(2026, 12, 4, 21, 0, 1, 999999, UTC),  # h_last_time
    [b"\xaa" * 32],  # h_frontier
    [7],  # m_entry_idx
    ["donation"],
    ["umum"],
    [ODD_TEXT],
    ["IDR"],
    [2**62],
    ["TRX-1"],
    [7, 7],  # p_entry_idx
    [1, 2],
    ["assets:bank", "income:donations"],
    ["IDR", "IDR"],
    [-5, 5],
    ["key-1"],  # k_key
    [b"\x10" * 32],
    [201],
    [b'{"ok":true}'],
    [7, 8],  # d_donation_idx
    [b"\x01" * 32, None],  # d_email_lookup: a donor with no e-mail
    [None, b"\x02" * 32],
    [b"\x03" * 16, b"\x04" * 16],
    ['{"name": "Budi \\"B\\""}', "{}"],  # d_personal
    [],  # g_gateway
    [],
    [],
    [],
    [],
    [],
    [],
    [],
    [],
    [],
    [],
    [],
]


def test_the_columns_match_the_function_and_the_policy():
    assert len(BATCH_DOCUMENT_KEYS) == len(COLUMNS) == 14 + ONE_CALL_PROJECTION_COLUMNS


async def test_postgresql_reads_back_exactly_the_arrays_it_was_sent(owner):
    doc = batch_document(COLUMNS)
    row = await owner.fetchrow(
        "SELECT (json_populate_record(NULL::append_batch_document, $1::json)).*", doc
    )
    assert list(row.keys()) == list(BATCH_DOCUMENT_KEYS)
    for key, sent in zip(BATCH_DOCUMENT_KEYS, COLUMNS, strict=True):
        assert row[key] == sent, key


def test_a_timestamp_without_a_time_zone_is_refused():
    naive = list(COLUMNS)
    naive[2] = [datetime(2026, 12, 4, 21), datetime(2026, 12, 4, 21, tzinfo=UTC)]
    with pytest.raises(ValueError, match="time zone"):
        batch_document(naive)
    naive = list(COLUMNS)
    naive[12] = datetime(2026, 12, 4, 21)
    with pytest.raises(ValueError, match="time zone"):
        batch_document(naive)


async def test_a_document_that_does_not_match_its_head_writes_nothing(store, owner, settings, kek):
    org = await create_organization(store, settings, kek, "yayasan-senyum", "Yayasan Senyum")
    appender = Appender(store)
    first = await appender.append(org, "note", {"text": "first"})
    head = await store.head(org.id)
    entry = [
        [first.index + 1],
        ["note"],
        [first.created_at],
        [b'{"text":"x"}'],
        [head.head_hash],
        [b"\x00" * 32],
        [b"\x00" * 32],
    ]
    good = [*entry, [], [], [], head.size + 1, b"\x00" * 32, head.last_time, [b"\x00" * 32]]
    good += [[] for _ in range(ONE_CALL_PROJECTION_COLUMNS)]
    call = "SELECT append_batch_document_rows($1, $2, $3::json)"
    too_many = list(good)
    too_many[10] = head.size + 2  # the head moves by two, one entry is sent
    with pytest.raises(asyncpg.InvalidParameterValueError, match="do not match"):
        await owner.execute(call, org.id, head.size, batch_document(too_many))
    missing = batch_document(good).replace('"k_key":[],', "")
    assert missing != batch_document(good)
    with pytest.raises(asyncpg.InvalidParameterValueError, match="key is missing"):
        await owner.execute(call, org.id, head.size, missing)
    assert await store.head(org.id) == head
    await assert_log_verifies(store)
