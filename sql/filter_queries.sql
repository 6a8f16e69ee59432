-- Entry filters (ledger/store/filters.py): GET …/entries?kind=&fund=&from=&to=&reference=.
-- Each query starts from the index of one filter, in log order from the cursor, and checks the
-- others entry by entry through their primary keys; none reads a table sequentially.
-- The checks are scalar subqueries, (SELECT true ... LIMIT 1), not EXISTS: PostgreSQL may
-- turn an EXISTS under OR into a hashed subplan, which reads every row of the other filter
-- before the first entry is returned (a Seq Scan of postings or value_dates on a large log,
-- bench/entry_filters.py); a scalar subquery is always probed per entry, and its NULL when
-- nothing matches leaves the entry out as EXISTS's false did. $5 is always 'fund:<code>';
-- "account LIKE 'fund:%'" repeats the predicate of postings_by_account (0025), which indexes
-- only fund accounts, so that the planner may use it.
-- Parameters, the same in every query: $1 organization, $2 cursor (smallest index), $3 limit,
-- $4 kind, $5 posting account ('fund:<code>'), $6 value date from (inclusive), $7 value date
-- to (exclusive), $8 reference; a NULL filter is not applied.

-- name: filter_by_reference
SELECT x.idx FROM (
    SELECT DISTINCT entry_idx AS idx FROM money_entries
    WHERE org_id = $1 AND reference = $8 AND reference IS NOT NULL AND entry_idx >= $2
) x
WHERE ($4::text IS NULL OR (SELECT true FROM entries e WHERE e.org_id = $1 AND e.idx = x.idx AND e.kind = $4 LIMIT 1))
  AND ($5::text IS NULL OR (SELECT true FROM postings p WHERE p.org_id = $1 AND p.entry_idx = x.idx AND p.account = $5 AND p.account LIKE 'fund:%' LIMIT 1))
  AND ($6::date IS NULL OR (SELECT true FROM value_dates v WHERE v.org_id = $1 AND v.entry_idx = x.idx AND v.value_on >= $6 LIMIT 1))
  AND ($7::date IS NULL OR (SELECT true FROM value_dates v WHERE v.org_id = $1 AND v.entry_idx = x.idx AND v.value_on < $7 LIMIT 1))
ORDER BY x.idx LIMIT $3;

-- name: filter_by_kind
SELECT x.idx FROM (
    SELECT idx FROM entries WHERE org_id = $1 AND kind = $4 AND idx >= $2
) x
WHERE ($5::text IS NULL OR (SELECT true FROM postings p WHERE p.org_id = $1 AND p.entry_idx = x.idx AND p.account = $5 AND p.account LIKE 'fund:%' LIMIT 1))
  AND ($6::date IS NULL OR (SELECT true FROM value_dates v WHERE v.org_id = $1 AND v.entry_idx = x.idx AND v.value_on >= $6 LIMIT 1))
  AND ($7::date IS NULL OR (SELECT true FROM value_dates v WHERE v.org_id = $1 AND v.entry_idx = x.idx AND v.value_on < $7 LIMIT 1))
  AND ($8::text IS NULL OR (SELECT true FROM money_entries m WHERE m.org_id = $1 AND m.entry_idx = x.idx AND m.reference = $8 LIMIT 1))
ORDER BY x.idx LIMIT $3;

-- name: filter_by_fund
SELECT x.idx FROM (
    SELECT DISTINCT entry_idx AS idx FROM postings
    WHERE org_id = $1 AND account = $5 AND account LIKE 'fund:%' AND entry_idx >= $2
) x
WHERE ($4::text IS NULL OR (SELECT true FROM entries e WHERE e.org_id = $1 AND e.idx = x.idx AND e.kind = $4 LIMIT 1))
  AND ($6::date IS NULL OR (SELECT true FROM value_dates v WHERE v.org_id = $1 AND v.entry_idx = x.idx AND v.value_on >= $6 LIMIT 1))
  AND ($7::date IS NULL OR (SELECT true FROM value_dates v WHERE v.org_id = $1 AND v.entry_idx = x.idx AND v.value_on < $7 LIMIT 1))
  AND ($8::text IS NULL OR (SELECT true FROM money_entries m WHERE m.org_id = $1 AND m.entry_idx = x.idx AND m.reference = $8 LIMIT 1))
ORDER BY x.idx LIMIT $3;

-- name: filter_by_value_date
SELECT v.entry_idx AS idx FROM value_dates v
WHERE v.org_id = $1 AND v.entry_idx >= $2
  AND v.value_on >= coalesce($6::date, '-infinity'::date)
  AND v.value_on < coalesce($7::date, 'infinity'::date)
  AND ($4::text IS NULL OR (SELECT true FROM entries e WHERE e.org_id = $1 AND e.idx = v.entry_idx AND e.kind = $4 LIMIT 1))
  AND ($5::text IS NULL OR (SELECT true FROM postings p WHERE p.org_id = $1 AND p.entry_idx = v.entry_idx AND p.account = $5 AND p.account LIKE 'fund:%' LIMIT 1))
  AND ($8::text IS NULL OR (SELECT true FROM money_entries m WHERE m.org_id = $1 AND m.entry_idx = v.entry_idx AND m.reference = $8 LIMIT 1))
ORDER BY v.entry_idx LIMIT $3;

-- name: entries_at
SELECT idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash
FROM entries WHERE org_id = $1 AND idx = ANY ($2::bigint[]) ORDER BY idx;
