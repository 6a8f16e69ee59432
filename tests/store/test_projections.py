"""Projections derived by the database and verified from the log (issue 13, part 3).

1. The service role cannot write the running totals (balances, fund_totals, corrected_by);
   the owner is refused by a trigger too; only the derivation triggers write them.
2. Those triggers keep the totals right through donations, disbursements, transfers, fees
   and corrections (checked by ``ledger verify``, which recomputes them from the bytes).
3. A superuser edit of any projection, and a row the service role forges, is reported by
   ``ledger verify`` naming the row, with expected and found values (exit 1).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import pytest

from ledger.verify.stored import verify_all
from tests.logkit import assert_log_verifies, run_verify, tamper

pytestmark = pytest.mark.usefixtures("verify_loop")  # both loops of ledger verify

FUND = "fund:senyum-2026"


async def money_log(charity) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A fund with 5,000.00 raised, 2,000.00 paid out, a transfer, a fee and a correction."""
    await charity.fund()
    await charity.fund("alpha")
    await charity.beneficiary()
    first = await charity.donate(300_000)
    await charity.donate(200_000)
    await charity.donate(999)  # reversed below
    r = await charity.disburse(200_000)
    assert r.status_code == 201, r.text
    assert (await charity.transfer("senyum-2026", "alpha", 50_000)).status_code == 201
    assert (await charity.fee(10_000)).status_code == 201
    wrong = first["index"] + 2
    assert (await charity.correct(wrong, "typed twice")).status_code == 201
    return {"first_donation": first["index"], "reversed": wrong}


async def the_report(store) -> Any:  # type: ignore[no-untyped-def]
    [report] = await verify_all(store)
    assert not report.ok, report
    return report


# --- 1. only the database writes the running totals ---------------------------------------

WRITER_REFUSED = [
    "UPDATE balances SET amount = amount + 100000000000",
    "UPDATE fund_totals SET amount = amount + 100000000000",
    "UPDATE money_entries SET corrected_by = NULL",
    "UPDATE money_entries SET amount = amount * 2",
    "DELETE FROM balances",
    "DELETE FROM fund_totals",
    "DELETE FROM postings",
    "DELETE FROM money_entries",
    "UPDATE postings SET amount = amount * 2",
    "INSERT INTO balances (org_id, account, currency, amount, as_of)"
    " SELECT id, 'fund:new', 'IDR', 1, 0 FROM organizations",
    "INSERT INTO fund_totals (org_id, fund, kind, amount)"
    " SELECT id, 'new', 'donation', 1 FROM organizations",
]


async def test_writer_role_is_refused_on_every_running_total(charity, store, owner):
    await money_log(charity)
    before = await owner.fetch("SELECT * FROM balances ORDER BY account")
    async with store.connection() as conn:
        assert await conn.fetchval("SELECT current_user") == "ledger_writer"
        for sql in WRITER_REFUSED:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.execute(sql)
    assert await owner.fetch("SELECT * FROM balances ORDER BY account") == before
    await assert_log_verifies(store)


OWNER_REFUSED = [
    ("balances", "UPDATE balances SET amount = amount + 100000000000"),
    ("fund_totals", "UPDATE fund_totals SET amount = amount + 100000000000"),
    ("money_entries", "UPDATE money_entries SET corrected_by = NULL"),
    ("balances", "DELETE FROM balances"),
    ("balances", "INSERT INTO balances (org_id, account, currency, amount, as_of)"
                 " SELECT id, 'fund:new', 'IDR', 1, 0 FROM organizations"),
]  # fmt: skip


async def test_owner_is_refused_unless_triggers_are_disabled(charity, store, owner):
    await money_log(charity)
    assert await owner.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    for table, sql in OWNER_REFUSED:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="derived from the log"):
            await owner.execute(sql)
        await assert_log_verifies(store)
        assert table in sql


async def test_totals_follow_every_kind_of_money_entry_and_verify(charity, store, owner):
    await money_log(charity)
    fund = (await charity.client.get(charity.url("/funds/senyum-2026"))).json()
    assert fund["raised"] == 500_000  # 999 reversed
    assert fund["disbursed"] == 200_000
    assert fund["balance"] == 500_000 - 200_000 - 50_000 - 10_000
    totals = {
        (r["fund"], r["kind"]): r["amount"]
        for r in await owner.fetch("SELECT fund, kind, amount FROM fund_totals")
    }
    assert totals == {
        ("senyum-2026", "donation"): 500_000,
        ("senyum-2026", "disbursement"): 200_000,
        ("senyum-2026", "transfer"): 50_000,
        ("senyum-2026", "fee"): 10_000,
        ("alpha", "transfer_in"): 50_000,
    }
    await assert_log_verifies(store)


async def test_fund_totals_cache_equals_the_sum_over_money_entries(charity, store, owner):
    await charity.fund()
    await charity.fund("alpha")
    await charity.beneficiary()
    d1 = await charity.donate(1_000_00)
    await charity.donate(2_000_00)
    await charity.donate(500_00, fund="alpha")
    t = await charity.transfer("senyum-2026", "alpha", 300_00)
    assert t.status_code == 201, t.text
    assert (await charity.disburse(400_00)).status_code == 201
    assert (await charity.fee(100_00)).status_code == 201
    assert (await charity.correct(t.json()["index"], "wrong fund")).status_code == 201
    assert (await charity.correct(d1["index"], "bounced")).status_code == 201
    cached = await owner.fetch("SELECT fund, kind, amount FROM fund_totals WHERE amount <> 0")
    summed = await owner.fetch(
        "SELECT fund, kind, sum(amount)::bigint AS amount FROM money_entries "
        "WHERE corrected_by IS NULL AND kind <> 'correction' GROUP BY fund, kind "
        "UNION ALL SELECT counterparty, 'transfer_in', sum(amount)::bigint FROM money_entries "
        "WHERE kind = 'transfer' AND corrected_by IS NULL GROUP BY counterparty"
    )
    assert sorted(map(tuple, cached)) == sorted(tuple(r) for r in summed if r["amount"])
    fund = await charity.fund_view()
    assert (fund["raised"], fund["transferred_out"], fund["fees"]) == (2_000_00, 0, 100_00)


async def test_unbalanced_posting_lines_are_refused_by_the_database(charity, store, owner):
    await money_log(charity)
    note = 0  # log.created: no posting lines
    async with store.connection() as conn:
        with pytest.raises(asyncpg.CheckViolationError, match="do not balance"):
            await conn.execute(
                "INSERT INTO postings (org_id, entry_idx, line, account, currency, amount)"
                " SELECT id, $1, 0, $2, 'IDR', 100000000000 FROM organizations",
                note,
                FUND,
            )
    await assert_log_verifies(store)


# --- 2. what ledger verify names -----------------------------------------------------------


async def test_superuser_inflated_balance_is_named_by_verify(charity, store, owner, db_url):
    await money_log(charity)
    expected = 500_000 - 200_000 - 50_000 - 10_000
    await tamper(owner, ("UPDATE balances SET amount = amount + 1e11 WHERE account = $1", FUND))
    # The overdraft check reads balances under the head lock: a superuser who switched the
    # triggers off can mislead it. That is what verify is for: it recomputes the balance.
    r = await charity.disburse(50_000_000_00)
    assert r.status_code == 201, r.text
    report = await run_verify(db_url, expect_exit=1)
    [log] = report["logs"]
    assert log["first_bad_index"] is None
    found = expected + 100_000_000_000 - 50_000_000_00
    assert log["reason"] == (
        f"balances: account {FUND} IDR expected {expected - 50_000_000_00} found {found}"
    )


async def test_superuser_inflated_fund_total_is_named_by_verify(charity, store, owner):
    await money_log(charity)
    await tamper(
        owner,
        ("UPDATE fund_totals SET amount = amount + 1e11 WHERE fund = 'senyum-2026'"
         " AND kind = 'donation'",),
    )  # fmt: skip
    fund = (await charity.client.get(charity.url("/funds/senyum-2026"))).json()
    assert fund["raised"] == 500_000 + 100_000_000_000  # what the page shows...
    report = await the_report(store)  # ...and what verify says about it
    assert report.reason == (
        f"fund_totals: fund senyum-2026 donation expected 500000 found {500_000 + 10**11}"
    )


async def test_superuser_edit_of_a_money_row_is_named_at_its_entry(charity, store, owner):
    log = await money_log(charity)
    k = log["first_donation"]
    await tamper(owner, ("UPDATE money_entries SET amount = 3000000 WHERE entry_idx = $1", k))
    report = await the_report(store)
    assert report.first_bad_index == k
    assert report.reason == (
        f"money_entries: entry {k} expected ('donation', 'senyum-2026', NULL, 'IDR', 300000, "
        f"{(await owner.fetchval('SELECT reference FROM money_entries WHERE entry_idx = $1', k))!r}"
        f"), found ('donation', 'senyum-2026', NULL, 'IDR', 3000000, "
        f"{(await owner.fetchval('SELECT reference FROM money_entries WHERE entry_idx = $1', k))!r})"
    )


async def test_removed_correction_mark_is_named(charity, store, owner):
    log = await money_log(charity)
    k = log["reversed"]
    await tamper(owner, ("UPDATE money_entries SET corrected_by = NULL WHERE entry_idx = $1", k))
    report = await the_report(store)
    assert report.first_bad_index == k
    by = await owner.fetchval("SELECT entry_idx FROM corrections WHERE corrected = $1", k)
    assert report.reason == f"money_entries: entry {k} corrected_by expected {by}, found NULL"


async def test_balanced_lines_forged_by_the_writer_are_named_by_verify(charity, store, owner):
    """The service role may insert per-entry rows (never change them): a balanced pair of
    lines pinned on a non-money entry passes the database's checks, moves the balance, and is
    named by verify as rows that entry's bytes do not give."""
    await money_log(charity)
    note = 0  # log.created: no money
    async with store.connection() as conn:
        await conn.execute(
            "INSERT INTO postings (org_id, entry_idx, line, account, currency, amount)"
            " SELECT id, $1, l.line, l.account, 'IDR', l.amount FROM organizations,"
            " unnest(ARRAY[0, 1]::smallint[], ARRAY['donors', $2], ARRAY[-1e11, 1e11]::bigint[])"
            " AS l (line, account, amount)",
            note,
            FUND,
        )
    report = await the_report(store)
    assert report.first_bad_index == note
    assert report.reason == (
        f"postings: entry {note} expected no row, found "
        f"[('donors', 'IDR', -100000000000), ('{FUND}', 'IDR', 100000000000)]"
    )


async def test_rows_are_compared_chunk_by_chunk_across_corrections(
    charity, store, owner, monkeypatch
):
    """verify compares projection rows per chunk of entries read (bounded memory); with
    chunks of 2 entries, a correction and its target fall in different chunks."""
    import ledger.verify.stored

    monkeypatch.setattr(ledger.verify.stored, "FETCH_ROWS", 2)
    log = await money_log(charity)
    await assert_log_verifies(store)
    k = log["reversed"]
    await tamper(owner, ("UPDATE postings SET amount = -amount WHERE entry_idx = $1", k))
    report = await the_report(store)
    assert report.first_bad_index == k
    assert report.reason.startswith(f"postings: entry {k} expected [('donors', 'IDR', -999), ")


# --- the calendar: value_dates and org_settings (migration 0014) --------------------------


async def test_superuser_edit_of_a_value_date_is_named_at_its_entry(charity, store, owner):
    """A value date decides which statement an entry is in: verify re-derives it from the
    entry's bytes and names the entry whose stored value date differs."""
    log = await money_log(charity)
    k = log["first_donation"]
    stored = await owner.fetchval("SELECT value_on FROM value_dates WHERE entry_idx = $1", k)
    await tamper(owner, ("UPDATE value_dates SET value_on = '2026-01-01' WHERE entry_idx = $1", k))
    report = await the_report(store)
    assert report.first_bad_index == k
    assert report.reason == (
        f"value_dates: entry {k} expected ({stored.isoformat()}), found (2026-01-01)"
    )


async def test_missing_value_date_of_a_correction_is_named(charity, store, owner):
    log = await money_log(charity)
    by = await owner.fetchval(
        "SELECT entry_idx FROM corrections WHERE corrected = $1", log["reversed"]
    )
    stored = await owner.fetchval("SELECT value_on FROM value_dates WHERE entry_idx = $1", by)
    await tamper(owner, ("DELETE FROM value_dates WHERE entry_idx = $1", by))
    report = await the_report(store)
    assert report.first_bad_index == by
    assert report.reason == f"value_dates: entry {by} expected ({stored.isoformat()}), found no row"


async def test_superuser_edit_of_org_settings_is_named(charity, store, owner):
    """The calendar (time zone, books open) is the newest org.settings entry's: an edited
    org_settings row is named with the entry it should come from."""
    await money_log(charity)
    settings = await charity.ok(
        "/settings", {"time_zone": "Asia/Makassar", "books_open": "2024-01-01"}, role="admin"
    )
    k = settings["index"]
    await assert_log_verifies(store)
    await tamper(owner, ("UPDATE org_settings SET time_zone = 'UTC'",))
    report = await the_report(store)
    assert report.first_bad_index == k
    assert report.reason == (
        f"org_settings: expected (time_zone 'Asia/Makassar', books_open 2024-01-01, "
        f"entry_idx {k}), found (time_zone 'UTC', books_open 2024-01-01, entry_idx {k})"
    )
    await tamper(owner, ("DELETE FROM org_settings",))
    report = await the_report(store)
    assert report.first_bad_index == k
    assert report.reason.endswith("found no row"), report.reason


async def test_forged_org_settings_row_is_named(charity, store, owner):
    """A log that recorded no org.settings has no org_settings row (the default calendar)."""
    await money_log(charity)
    await tamper(
        owner,
        ("INSERT INTO org_settings (org_id, time_zone, books_open, entry_idx)"
         " SELECT id, 'UTC', '2000-01-01', 0 FROM organizations",),
    )  # fmt: skip
    report = await the_report(store)
    assert report.first_bad_index == 0
    assert report.reason == (
        "org_settings: expected no row, found (time_zone 'UTC', books_open 2000-01-01, "
        "entry_idx 0)"
    )


# The value date as 0014/0017 read it (a subquery: never inlined), to compare 0028's form with.
VALUE_DATE_0017 = """
    SELECT CASE $1::text
        WHEN 'donation' THEN (b ->> 'received_on')::date
        WHEN 'disbursement' THEN (b ->> 'paid_on')::date
        WHEN 'transfer' THEN (b ->> 'transferred_on')::date
        WHEN 'fee' THEN (b ->> 'charged_on')::date
        WHEN 'correction' THEN coalesce(
            (b ->> 'effective_on')::date, ($2::timestamptz AT TIME ZONE 'Asia/Jakarta')::date)
    END
    FROM (SELECT convert_from($3::bytea, 'UTF8')::json -> 'body' AS b) AS e
"""

VALUE_DATE_CASES = [
    ("donation", '{"body":{"message":"\\"received_on\\":\\"1999-01-01\\"","received_on":"2026-11-03"},"v":1}'),
    ("disbursement", '{"body":{"paid_on":"2026-02-28","reference":"x"},"index":4}'),
    ("transfer", '{"body":{"transferred_on":"2026-12-31"}}'),
    ("fee", '{"body":{"charged_on":"2027-01-01"}}'),
    ("correction", '{"body":{"corrects":3,"effective_on":"2026-10-31"}}'),
    ("correction", '{"body":{"corrects":3}}'),  # no effective_on: the recording date in Jakarta
    ("correction", '{"body":{"corrects":3,"effective_on":null}}'),
    ("donation", '{"body":{"amount":1}}'),  # no member: NULL
    ("donation", '{"body":[1,2]}'),  # not an object: NULL
    ("donation", '{"v":1}'),  # no body: NULL
    ("org.settings", '{"body":{"books_open":"2026-01-01"}}'),  # not a money kind: NULL
]


async def test_value_date_function_is_inlined_and_reads_as_before(store, owner):
    """Migration 0028 writes entry_value_date as one expression, so the calendar trigger's
    INSERT ... SELECT inlines it instead of calling the SQL function once per money entry
    (issue 15: half of that trigger's time on a 100,000-line bank import). Same date as the
    0017 form for every kind, missing member, wrong shape and a message that quotes a key."""
    created = dt.datetime(2026, 11, 30, 18, 30, tzinfo=dt.UTC)  # 2026-12-01 in Asia/Jakarta
    for kind, body in VALUE_DATE_CASES:
        data = body.encode()
        expected = await owner.fetchval(VALUE_DATE_0017, kind, created, data)
        found = await owner.fetchval(
            "SELECT entry_value_date($1, $2::timestamptz, $3)", kind, created, data
        )
        assert found == expected, (kind, body, found, expected)
    jakarta = await owner.fetchval(
        "SELECT entry_value_date('correction', $1, $2)", created, b'{"body":{}}'
    )
    assert jakarta == dt.date(2026, 12, 1)
    plan = "\n".join(
        r[0]
        for r in await owner.fetch(
            "EXPLAIN (VERBOSE) SELECT entry_value_date(kind, created_at, body) FROM entries"
        )
    )
    assert "json_extract_path_text" in plan and "entry_value_date" not in plan, plan
