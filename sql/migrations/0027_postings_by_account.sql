-- 0027: the entry filter ?fund= reads an index (issue 15: no sequential scan on a 1 M-entry log).
--
-- GET …/entries?fund=F lists, in log order, the entries that move money in fund F: their
-- posting lines on the account 'fund:F' (ledger/store/filters.py, sql/filter_queries.sql).
-- 0007 dropped postings' account index because no query used it then; without it the filter
-- read the whole postings table (measured by bench/entry_filters.py: a Seq Scan on postings,
-- two rows per donation). Cost: one more index entry per posting line, inside the append
-- transaction (README, "Entry filters", gives the figures before and after).

CREATE INDEX postings_by_account ON postings (org_id, account, entry_idx);
COMMENT ON INDEX postings_by_account IS 'Posting lines of one account in log order (the entry filter ?fund=).';
