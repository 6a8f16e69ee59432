-- 0007: lighter append path (measured: PostgreSQL spent ~320 µs of CPU per recorded donation).
--
-- * The per-row link trigger becomes one statement-level check over the inserted rows
--   (a transition table): the same guarantee — every entry links to entry idx-1 with the
--   right prev_hash, entry 0 to zeros — for one query per INSERT instead of one per row.
-- * Per-row foreign keys on the hot tables go: those rows are written only inside the append
--   transaction, after the log-head row of the organization was locked, for entries that
--   the same transaction inserts, so the database checked the same facts once already.
--   The checks that guard the log itself stay (primary keys, the link check, the hash
--   CHECKs, the append-only triggers and grants).
-- * postings_account served no query.

CREATE FUNCTION entries_link_batch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.org_id, n.idx INTO bad
    FROM new_entries n
    LEFT JOIN entries p ON p.org_id = n.org_id AND p.idx = n.idx - 1
    WHERE CASE WHEN n.idx = 0
               THEN n.prev_hash <> '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
               ELSE p.entry_hash IS DISTINCT FROM n.prev_hash END
    ORDER BY n.idx LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'entry % of log % does not link to entry %: gap or wrong prev_hash',
            bad.idx, bad.org_id, bad.idx - 1 USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
-- Never let a cached plan scan the whole log: look predecessors up by primary key.
ALTER FUNCTION entries_link_batch() SET enable_seqscan = off;
COMMENT ON FUNCTION entries_link_batch() IS 'Refuses gaps and broken chain links, once per INSERT statement.';

CREATE TRIGGER entries_link_batch AFTER INSERT ON entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION entries_link_batch();
DROP TRIGGER entries_link ON entries;
DROP FUNCTION entries_link();

ALTER TABLE entries DROP CONSTRAINT entries_org_id_fkey;
ALTER TABLE merkle_nodes DROP CONSTRAINT merkle_nodes_org_id_fkey;
ALTER TABLE money_entries DROP CONSTRAINT money_entries_org_id_fkey;
ALTER TABLE money_entries DROP CONSTRAINT money_entries_org_id_entry_idx_fkey;
ALTER TABLE postings DROP CONSTRAINT postings_org_id_fkey;
ALTER TABLE postings DROP CONSTRAINT postings_org_id_entry_idx_fkey;
ALTER TABLE donor_records DROP CONSTRAINT donor_records_org_id_fkey;
ALTER TABLE donor_records DROP CONSTRAINT donor_records_org_id_donation_idx_fkey;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_org_id_fkey;
DROP INDEX postings_account;

-- Keep planner statistics fresh on the tables that grow fastest, so plans cached by
-- long-lived connections move from sequential to index scans as a new log grows.
ALTER TABLE entries SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 500);
ALTER TABLE merkle_nodes SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 500);
ALTER TABLE idempotency_keys SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 500);
ALTER TABLE money_entries SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 500);
ALTER TABLE postings SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 500);
