-- 0025: the entry filter ?fund= reads an index (issue 15: no sequential scan on a 1 M-entry log).
--
-- GET …/entries?fund=F lists, in log order, the entries that move money in fund F: their
-- posting lines on the account 'fund:F' (ledger/store/filters.py, sql/filter_queries.sql).
-- 0007 dropped postings' account index because no query used it then; without it the filter
-- read the whole postings table (measured by bench/entry_filters.py: a Seq Scan on postings,
-- two rows per donation). Only fund accounts are indexed (the filter asks for no other, and
-- the queries repeat the index's predicate so that the planner may use it): one index entry
-- per money entry's fund line, inside the append transaction, instead of two per donation.

CREATE INDEX postings_by_account ON postings (org_id, account, entry_idx)
    WHERE account LIKE 'fund:%';
COMMENT ON INDEX postings_by_account IS 'Posting lines of fund accounts (fund:<code>), per account in log order (the entry filter ?fund=).';
