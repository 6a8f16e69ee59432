-- Open data (ledger/store/opendata.py): one fund's money entries over a period of value dates,
-- cut at a signed checkpoint. Every query reads only entries with an index below the
-- checkpoint's tree size ($3 below), so the answer for one checkpoint never changes: entries
-- and their projections (postings, value_dates, corrections) are append-only and written in
-- the transaction that appends the entry.
-- Parameters: $1 organization, $2 the fund's posting account ('fund:<code>'), $3 tree size
-- (opendata_corrected_by: $2 tree size).

-- name: opendata_fund_entries
-- The money entries with a posting line on the fund's account, value date in [$4, $5), by
-- value date then index, with the signed sum of their lines on that account (positive: money
-- into the fund). Driven by value_dates_by_date; postings and entries by primary key.
SELECT e.idx, e.kind, e.created_at, e.body, e.leaf_hash, v.value_on, f.currency, f.amount
FROM value_dates v
JOIN entries e ON e.org_id = v.org_id AND e.idx = v.entry_idx
CROSS JOIN LATERAL (
    SELECT min(p.currency) AS currency, sum(p.amount)::bigint AS amount FROM postings p
    WHERE p.org_id = v.org_id AND p.entry_idx = v.entry_idx AND p.account = $2
) f
WHERE v.org_id = $1 AND v.entry_idx < $3 AND v.value_on >= $4 AND v.value_on < $5
  AND f.amount IS NOT NULL
ORDER BY v.value_on, v.entry_idx;

-- name: opendata_corrected_by
-- For the entries $3, the correction below the tree size $2 that reverses each, if any (the
-- corrections primary key: at most one per entry).
SELECT c.corrected, c.entry_idx FROM corrections c
WHERE c.org_id = $1 AND c.entry_idx < $2 AND c.corrected = ANY($3::bigint[])
ORDER BY c.corrected;

-- name: opendata_fund_balance_before
-- The fund's balance by value date: the sum of its account's lines of the entries below the
-- tree size whose value date is before $4 (a statement's opening and closing balances).
SELECT p.currency, sum(p.amount)::bigint AS amount FROM postings p
JOIN value_dates v ON v.org_id = p.org_id AND v.entry_idx = p.entry_idx
WHERE p.org_id = $1 AND p.account = $2 AND p.entry_idx < $3 AND v.value_on < $4
GROUP BY p.currency ORDER BY p.currency;
