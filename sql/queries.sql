-- Named queries. Only the modules of ledger/store/ execute SQL (tests/system/test_layers.py checks
-- every other module); they load the blocks below by name (ledger.store.log.load_queries).
-- Each block starts with "-- name: <name>" and runs until the next such line.

-- name: insert_organization
INSERT INTO organizations (slug, name, origin) VALUES ($1, $2, $3)
RETURNING id, slug, name, origin, created_at;

-- name: insert_log_head
INSERT INTO log_heads (org_id) VALUES ($1);

-- name: organization_by_slug
SELECT id, slug, name, origin, created_at FROM organizations WHERE slug = $1;

-- name: organization_by_id
SELECT id, slug, name, origin, created_at FROM organizations WHERE id = $1;

-- name: list_organizations
SELECT id, slug, name, origin, created_at FROM organizations WHERE id > $1 ORDER BY id LIMIT $2;

-- name: lock_head
-- Serializes writers of one log across processes; held for one batch, not one entry.
SELECT size, head_hash, last_time, frontier FROM log_heads WHERE org_id = $1 FOR UPDATE;

-- name: read_head
SELECT size, head_hash, last_time, frontier FROM log_heads WHERE org_id = $1;

-- name: insert_entries
INSERT INTO entries (org_id, idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash)
SELECT $1, e.idx, e.kind, e.created_at, e.body, e.prev_hash, e.entry_hash, e.leaf_hash
FROM unnest($2::bigint[], $3::text[], $4::timestamptz[], $5::bytea[], $6::bytea[], $7::bytea[], $8::bytea[])
     AS e (idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash);

-- name: insert_nodes
INSERT INTO merkle_nodes (org_id, level, idx, hash)
SELECT $1, n.level, n.idx, n.hash
FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]) AS n (level, idx, hash);

-- name: append_rows
-- A small batch in one round trip under the head lock: its entries, its Merkle nodes and the
-- compare-and-swap of the head, as one statement (the link check is a statement trigger, so
-- it runs when the whole statement is done and sees the entries before them). Returns 1 if
-- the head moved from size $2, 0 if somebody moved it (the caller then rolls back).
WITH new_entries AS (
    INSERT INTO entries (org_id, idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash)
    SELECT $1, e.idx, e.kind, e.created_at, e.body, e.prev_hash, e.entry_hash, e.leaf_hash
    FROM unnest($3::bigint[], $4::text[], $5::timestamptz[], $6::bytea[], $7::bytea[], $8::bytea[], $9::bytea[])
         AS e (idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash)
), new_nodes AS (
    INSERT INTO merkle_nodes (org_id, level, idx, hash)
    SELECT $1, n.level, n.idx, n.hash
    FROM unnest($10::smallint[], $11::bigint[], $12::bytea[]) AS n (level, idx, hash)
), moved AS (
    UPDATE log_heads SET size = $13, head_hash = $14, last_time = $15, frontier = $16
    WHERE org_id = $1 AND size = $2
    RETURNING 1
)
SELECT count(*)::int AS moved FROM moved;

-- name: advance_head
-- Compare-and-swap: succeeds only if nobody moved the head since lock_head read it.
UPDATE log_heads SET size = $3, head_hash = $4, last_time = $5, frontier = $6
WHERE org_id = $1 AND size = $2;

-- name: fetch_nodes
-- Level 0 comes from entries.leaf_hash, higher levels from merkle_nodes; every row is one
-- primary-key lookup (LATERAL keeps the planner from scanning the log's nodes).
SELECT 0::smallint AS level, e.idx, e.leaf_hash AS hash
FROM unnest($2::bigint[]) AS want (idx)
JOIN LATERAL (SELECT idx, leaf_hash FROM entries WHERE org_id = $1 AND idx = want.idx) e ON true
UNION ALL
SELECT m.level, m.idx, m.hash
FROM unnest($3::smallint[], $4::bigint[]) AS want (level, idx)
JOIN LATERAL (
    SELECT level, idx, hash FROM merkle_nodes
    WHERE org_id = $1 AND level = want.level AND idx = want.idx
) m ON true;

-- name: entry_by_index
SELECT idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash
FROM entries WHERE org_id = $1 AND idx = $2;

-- name: entries_at
-- Several entries by index, in index order (the entries a donor receipt proves).
SELECT idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash
FROM entries WHERE org_id = $1 AND idx = ANY($2::bigint[]) ORDER BY idx;

-- name: entries_range
SELECT idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash
FROM entries WHERE org_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx;

-- name: stream_entries
SELECT idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash
FROM entries WHERE org_id = $1 ORDER BY idx;

-- name: insert_checkpoint
INSERT INTO checkpoints (org_id, tree_size, root, note) VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id, tree_size) DO NOTHING;

-- name: latest_checkpoint
SELECT tree_size, root, note, created_at FROM checkpoints
WHERE org_id = $1 ORDER BY tree_size DESC LIMIT 1;

-- name: checkpoint_at
SELECT tree_size, root, note, created_at FROM checkpoints WHERE org_id = $1 AND tree_size = $2;

-- name: checkpoint_covering
SELECT tree_size, root, note, created_at FROM checkpoints
WHERE org_id = $1 AND tree_size >= $2 ORDER BY tree_size LIMIT 1;

-- name: list_checkpoints
SELECT tree_size, root, note, created_at FROM checkpoints WHERE org_id = $1 ORDER BY tree_size;

-- name: insert_signing_key
INSERT INTO signing_keys (org_id, key_id, name, public_key, sealed_private) VALUES ($1, $2, $3, $4, $5);

-- name: signing_keys
SELECT key_id, name, public_key, sealed_private, created_at, retired_at
FROM signing_keys WHERE org_id = $1 ORDER BY created_at, key_id;

-- name: public_keys
SELECT key_id, name, public_key, created_at, retired_at
FROM signing_keys WHERE org_id = $1 ORDER BY created_at, key_id;

-- name: retire_signing_key
UPDATE signing_keys SET retired_at = now() WHERE org_id = $1 AND key_id = $2 AND retired_at IS NULL;

-- name: checkpoints_after
SELECT tree_size, root, note, created_at FROM checkpoints
WHERE org_id = $1 AND tree_size > $2 ORDER BY tree_size LIMIT $3;


-- ===== charity domain (executed by ledger/store/charity.py) ==========================

-- name: funds_by_code
SELECT code, entry_idx, name, currency, earmark, fee_cap_bps, minor_units FROM funds
WHERE org_id = $1 AND code = ANY($2::text[]);

-- name: list_funds
SELECT code, entry_idx, name, currency, earmark, fee_cap_bps, minor_units FROM funds
WHERE org_id = $1 AND code > $2 ORDER BY code LIMIT $3;

-- name: insert_funds
INSERT INTO funds (org_id, code, entry_idx, name, currency, earmark, fee_cap_bps, minor_units)
SELECT $1, f.code, f.entry_idx, f.name, f.currency, f.earmark::jsonb, f.fee_cap_bps, f.minor_units
FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::int[], $8::smallint[])
     AS f (code, entry_idx, name, currency, earmark, fee_cap_bps, minor_units);

-- name: list_beneficiaries
SELECT DISTINCT ON (code) code, version, entry_idx, name, city, province, registration
FROM beneficiary_versions WHERE org_id = $1 AND code > $2
ORDER BY code, version DESC LIMIT $3;

-- name: beneficiary_history
SELECT code, version, entry_idx, name, city, province, registration
FROM beneficiary_versions WHERE org_id = $1 AND code = $2 ORDER BY version;

-- name: insert_beneficiary_versions
INSERT INTO beneficiary_versions (org_id, code, version, entry_idx, name, city, province, registration)
SELECT $1, b.* FROM unnest($2::text[], $3::int[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[])
     AS b (code, version, entry_idx, name, city, province, registration);

-- name: balances_of
SELECT account, currency, amount FROM balances WHERE org_id = $1 AND account = ANY($2::text[]);

-- name: all_balances
SELECT account, currency, amount FROM balances WHERE org_id = $1 ORDER BY account, currency;

-- name: balances_by_value_date
-- Balances by value date: the postings of the entries below tree size $2 whose value date
-- is before $3 (statements' opening and closing balances).
SELECT p.account, p.currency, sum(p.amount)::bigint AS amount FROM postings p
JOIN value_dates v ON v.org_id = p.org_id AND v.entry_idx = p.entry_idx
WHERE p.org_id = $1 AND p.entry_idx < $2 AND v.value_on < $3
GROUP BY p.account, p.currency ORDER BY p.account, p.currency;

-- name: balances_as_of
SELECT account, currency, sum(amount)::bigint AS amount FROM postings
WHERE org_id = $1 AND entry_idx < $2 GROUP BY account, currency ORDER BY account, currency;

-- name: insert_postings
INSERT INTO postings (org_id, entry_idx, line, account, currency, amount)
SELECT $1, p.* FROM unnest($2::bigint[], $3::smallint[], $4::text[], $5::text[], $6::bigint[])
     AS p (entry_idx, line, account, currency, amount);

-- name: postings_of
SELECT entry_idx, line, account, currency, amount FROM postings
WHERE org_id = $1 AND entry_idx = ANY($2::bigint[]) ORDER BY entry_idx, line;

-- name: insert_money_entries
INSERT INTO money_entries (org_id, entry_idx, kind, fund, counterparty, currency, amount, reference)
SELECT $1, m.* FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])
     AS m (entry_idx, kind, fund, counterparty, currency, amount, reference);

-- name: money_entries_at
SELECT entry_idx, kind, fund, counterparty, currency, amount, reference, corrected_by
FROM money_entries WHERE org_id = $1 AND entry_idx = ANY($2::bigint[]);

-- name: insert_corrections
-- The corrections_apply trigger (migration 0012) marks each corrected money row and takes
-- it out of its fund's totals.
INSERT INTO corrections (org_id, corrected, entry_idx)
SELECT $1, c.* FROM unnest($2::bigint[], $3::bigint[]) AS c (corrected, entry_idx);

-- name: reversals_of
-- The correction entry that reverses each of these entries (at most one each: corrections'
-- primary key), with its document, for the views, receipts and documents that must say so.
SELECT c.corrected, e.idx, e.kind, e.created_at, e.body, e.prev_hash, e.entry_hash, e.leaf_hash
FROM corrections c
JOIN entries e ON e.org_id = c.org_id AND e.idx = c.entry_idx
WHERE c.org_id = $1 AND c.corrected = ANY($2::bigint[]);

-- name: org_settings
-- The organization's calendar (migration 0014): its newest org.settings entry, if any
-- (NULLs if none), and the time of entry 0 (log.created), which the default derives from.
SELECT e.created_at AS log_created, s.time_zone, s.books_open, s.entry_idx FROM entries e
LEFT JOIN org_settings s ON s.org_id = e.org_id
WHERE e.org_id = $1 AND e.idx = 0;

-- name: fund_totals
-- Totals per fund and kind, net of corrections (a corrected entry and its correction cancel).
SELECT fund, kind, amount FROM fund_totals WHERE org_id = $1 AND fund = ANY($2::text[]);

-- name: admit_lookups
-- What admitting a batch reads (migration 0010), after lock_head in the same transaction.
SELECT admit_lookups($1, $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]);

-- name: lock_head_admitting
-- lock_head and admit_lookups in one round trip: the function runs above the row lock, so
-- its queries see every batch committed before the lock was granted (migration 0010).
SELECT h.size, h.head_hash, h.last_time, h.frontier,
       admit_lookups(h.org_id, $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS lookups
FROM (SELECT org_id, size, head_hash, last_time, frontier FROM log_heads
      WHERE org_id = $1 FOR UPDATE) h;

-- name: read_head_admitting
-- The head and admit_lookups without a lock, for a batch written by append_batch_json, whose
-- compare-and-swap of the head then proves that nothing was appended since (migration 0026).
-- The lookups run after the head was read (a VOLATILE function: a later snapshot), so they
-- see at least the batches the head includes. $2 is admit_lookups's five text arrays as one
-- JSON array of arrays (one text for the driver to send, not five arrays to walk).
SELECT h.size, h.head_hash, h.last_time, h.frontier,
       admit_lookups(h.org_id, ARRAY(SELECT jsonb_array_elements_text($2::jsonb -> 0)),
                     ARRAY(SELECT jsonb_array_elements_text($2::jsonb -> 1)),
                     ARRAY(SELECT jsonb_array_elements_text($2::jsonb -> 2)),
                     ARRAY(SELECT jsonb_array_elements_text($2::jsonb -> 3)),
                     ARRAY(SELECT jsonb_array_elements_text($2::jsonb -> 4))) AS lookups
FROM (SELECT org_id, size, head_hash, last_time, frontier FROM log_heads
      WHERE org_id = $1 OFFSET 0) h;

-- name: append_batch_json
-- The same batch with each table's rows as one JSON array of arrays (migration 0030): NULL if
-- the head was not at $2 (nothing written), else the JSON [gateway, payment_id] pairs of kept
-- settlements with refunds.
SELECT append_batch_json($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)::text
       AS refunded;

-- name: idempotency_record
SELECT key, request_hash, status, response FROM idempotency_keys WHERE org_id = $1 AND key = $2;

-- name: insert_idempotency_keys
INSERT INTO idempotency_keys (org_id, key, request_hash, status, response)
SELECT $1, i.* FROM unnest($2::text[], $3::bytea[], $4::smallint[], $5::bytea[])
     AS i (key, request_hash, status, response);

-- name: write_projections
-- What most batches add besides the log, in one round trip: money rows, posting lines,
-- Idempotency-Keys and donor records (any may be empty; a large batch sends its money rows
-- and lines by COPY and passes empty arrays here). The balances and fund totals they move
-- are written by the database's statement triggers on postings and money_entries
-- (migration 0012), never by this statement.
WITH money AS (
    INSERT INTO money_entries (org_id, entry_idx, kind, fund, counterparty, currency, amount, reference)
    SELECT $1, m.* FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])
         AS m (entry_idx, kind, fund, counterparty, currency, amount, reference)
), lines AS (
    INSERT INTO postings (org_id, entry_idx, line, account, currency, amount)
    SELECT $1, p.* FROM unnest($9::bigint[], $10::smallint[], $11::text[], $12::text[], $13::bigint[])
         AS p (entry_idx, line, account, currency, amount)
), keys AS (
    INSERT INTO idempotency_keys (org_id, key, request_hash, status, response)
    SELECT $1, i.* FROM unnest($14::text[], $15::bytea[], $16::smallint[], $17::bytea[])
         AS i (key, request_hash, status, response)
), donors AS (
    INSERT INTO donor_records (org_id, donation_idx, lookups, salt, personal)
    SELECT $1, d.donation_idx,
           NULLIF(array_remove(ARRAY[d.email_lookup, d.phone_lookup], NULL), '{}'),
           d.salt, d.personal::jsonb
    FROM unnest($18::bigint[], $19::bytea[], $20::bytea[], $21::bytea[], $22::text[])
         AS d (donation_idx, email_lookup, phone_lookup, salt, personal)
)
SELECT 1;

-- name: donor_records_by_lookup
SELECT donation_idx FROM donor_records
WHERE org_id = $1 AND lookups && $2::bytea[] AND erased_at IS NULL
FOR UPDATE;

-- name: erase_donor_records
UPDATE donor_records SET lookups = NULL, salt = NULL, personal = NULL, erased_at = now()
WHERE org_id = $1 AND donation_idx = ANY($2::bigint[]) AND erased_at IS NULL;

-- name: donor_record
SELECT donation_idx, salt, personal::text AS personal, erased_at FROM donor_records
WHERE org_id = $1 AND donation_idx = $2;

-- name: insert_evidence
INSERT INTO evidence_files (org_id, sha256, content_type, size, content)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, sha256) DO NOTHING;

-- name: evidence_file
SELECT sha256, content_type, size, content FROM evidence_files WHERE org_id = $1 AND sha256 = $2;

-- name: evidence_present
SELECT sha256 FROM evidence_files WHERE org_id = $1 AND sha256 = ANY($2::bytea[]);

-- name: insert_api_key
INSERT INTO api_keys (id, org_id, prefix, secret_hash, role, label) VALUES ($1, $2, $3, $4, $5, $6);

-- name: api_key_by_prefix
SELECT id, org_id, secret_hash, role, revoked_at FROM api_keys WHERE prefix = $1;

-- name: list_api_keys
SELECT id, prefix, role, label, created_at, revoked_at FROM api_keys
WHERE org_id = $1 ORDER BY created_at, id;

-- name: document_certificate
SELECT cert_der, sealed_key FROM document_certificates WHERE org_id = $1;

-- name: insert_document_certificate
INSERT INTO document_certificates (org_id, cert_der, sealed_key) VALUES ($1, $2, $3)
ON CONFLICT (org_id) DO NOTHING;

-- name: donations_of_donor
SELECT e.idx, e.body FROM donor_records d
JOIN entries e ON e.org_id = d.org_id AND e.idx = d.donation_idx
WHERE d.org_id = $1 AND d.lookups && $2::bytea[] AND d.erased_at IS NULL
ORDER BY e.idx;


-- ===== public statements (executed by ledger/store/statements.py) =======================

-- name: statement_entry_time
-- One probe of the binary search for the first entry of a period (entry times never go
-- backwards, so a period of server time is a contiguous index range).
SELECT created_at FROM entries WHERE org_id = $1 AND idx = $2;

-- name: statement_entries_by_value
-- The money entries whose value date is in [from, to) among the first $4 entries, by value
-- date then index (migration 0014's value_dates index).
SELECT e.idx, e.kind, e.created_at, e.body FROM value_dates v
JOIN entries e ON e.org_id = v.org_id AND e.idx = v.entry_idx
WHERE v.org_id = $1 AND v.value_on >= $2 AND v.value_on < $3 AND v.entry_idx < $4
ORDER BY v.value_on, v.entry_idx;

-- name: statement_entries_recorded_outside
-- Money entries recorded in [$2, $3) whose value date is outside [$4, $5): candidates for
-- the late entries of a statement.
SELECT e.idx, e.kind, e.created_at, e.body, v.value_on FROM value_dates v
JOIN entries e ON e.org_id = v.org_id AND e.idx = v.entry_idx
WHERE v.org_id = $1 AND v.entry_idx >= $2 AND v.entry_idx < $3
  AND (v.value_on < $4 OR v.value_on >= $5)
ORDER BY v.value_on, v.entry_idx;

-- name: statement_events_range
-- The entries of [$2, $3) that are not money entries (funds, beneficiaries, evidence,
-- statements, settings …): the log events a statement lists.
SELECT idx, kind, created_at, body FROM entries
WHERE org_id = $1 AND idx >= $2 AND idx < $3
  AND kind NOT IN ('donation', 'disbursement', 'transfer', 'fee', 'correction')
ORDER BY idx;

-- name: statements_of_scope
-- The statements of one scope (fund, beneficiary; NULL for none), in issue order.
SELECT period_from, period_to, end_idx FROM statements
WHERE org_id = $1 AND fund IS NOT DISTINCT FROM $2 AND beneficiary IS NOT DISTINCT FROM $3
ORDER BY id;

-- name: statement_entries_at
SELECT idx, kind, created_at, body FROM entries
WHERE org_id = $1 AND idx = ANY($2::bigint[]) ORDER BY idx;

-- name: statement_funds_as_of
SELECT code, entry_idx, name, currency, earmark, fee_cap_bps, minor_units FROM funds
WHERE org_id = $1 AND entry_idx < $2 ORDER BY code;

-- name: statement_beneficiary_versions
SELECT code, version, entry_idx, name, city, province, registration FROM beneficiary_versions
WHERE org_id = $1 AND entry_idx < $2 ORDER BY code, version;

-- name: statement_fund_totals_as_of
-- Donations and fees per fund up to a tree size, net of the corrections made before it
-- (a correction counts against the kind of the entry it reverses).
SELECT m.fund, m.kind, sum(m.amount)::bigint AS amount FROM money_entries m
WHERE m.org_id = $1 AND m.entry_idx < $2 AND m.kind IN ('donation', 'fee')
GROUP BY m.fund, m.kind
UNION ALL
SELECT t.fund, t.kind, -sum(t.amount)::bigint FROM corrections c
JOIN money_entries t ON t.org_id = c.org_id AND t.entry_idx = c.corrected
WHERE c.org_id = $1 AND c.entry_idx < $2 AND t.kind IN ('donation', 'fee')
GROUP BY t.fund, t.kind;

-- name: latest_statement
SELECT s.id, c.tree_size, c.root, c.note FROM statements s
JOIN checkpoints c ON c.org_id = s.org_id AND c.tree_size = s.checkpoint_size
WHERE s.org_id = $1 ORDER BY s.id DESC LIMIT 1;

-- name: insert_statement
-- A concurrent issue that took the same number fails on the primary key: nothing commits.
INSERT INTO statements (org_id, id, entry_idx, previous_id, period_from, period_to, fund,
                        beneficiary, start_idx, end_idx, checkpoint_size, checkpoint_root,
                        provisional, issued_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14);

-- name: insert_statement_documents
INSERT INTO statement_documents (org_id, statement_id, name, media_type, sha256, content)
SELECT $1, $2, d.name, d.media_type, d.sha256, d.content
FROM unnest($3::text[], $4::text[], $5::bytea[], $6::bytea[]) AS d (name, media_type, sha256, content);

-- name: statements_after
-- Statement metadata (never the documents) with the hashes of their documents.
SELECT s.id, s.entry_idx, s.previous_id, s.period_from, s.period_to, s.fund, s.beneficiary,
       s.start_idx, s.end_idx, s.checkpoint_size, s.checkpoint_root, s.provisional, s.issued_at,
       array_agg(d.name ORDER BY d.name) AS names, array_agg(d.sha256 ORDER BY d.name) AS hashes
FROM statements s
JOIN statement_documents d ON d.org_id = s.org_id AND d.statement_id = s.id
WHERE s.org_id = $1 AND s.id > $2 AND s.id <= $3
GROUP BY s.org_id, s.id ORDER BY s.id LIMIT $4;

-- name: statement_document
SELECT media_type, sha256, content FROM statement_documents
WHERE org_id = $1 AND statement_id = $2 AND name = $3;

-- ===== verification (ledger/verify.py) =======================================================

-- name: verify_index_order
-- For the verifier's read-only range transaction: every read is a range of one index, wanted
-- in that index's order, which an index scan gives as it goes. For the literal ranges of a
-- COPY the planner prefers a bitmap scan followed by a sort (measured on 8,192 entries' posting
-- lines: 6.1 ms against 3.3 ms).
SET LOCAL enable_bitmapscan = off;

-- name: verify_entries
SELECT idx, body, prev_hash, entry_hash, leaf_hash, kind, created_at
FROM entries WHERE org_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx;

-- name: entry_hash_at
SELECT entry_hash FROM entries WHERE org_id = $1 AND idx = $2;

-- name: node_digests
-- Per level 1..$4, SHA-256 over the hashes of the stored nodes that lie wholly inside leaves
-- [$2, $3) ($2 aligned to 2^$4), in index order, and their count: compared with the same
-- digest of the recomputed nodes, so a range's nodes cost one index range scan per level.
SELECT l.level, d.n, d.digest
FROM generate_series(1, $4::int) AS l (level)
CROSS JOIN LATERAL (
    SELECT count(*) AS n, sha256(coalesce(string_agg(hash, ''::bytea ORDER BY idx), ''::bytea)) AS digest
    FROM merkle_nodes
    WHERE org_id = $1 AND level = l.level AND idx >= ($2::bigint >> l.level)
      AND idx < ($3::bigint >> l.level)
) d ORDER BY l.level;

-- name: successor_commitment
-- What the log holds about entry $2's entry_hash besides its own row: the prev_hash of the
-- entry after it, or the head's head_hash when it is the newest entry.
SELECT (SELECT prev_hash FROM entries WHERE org_id = $1 AND idx = $2 + 1) AS next_prev,
       (SELECT head_hash FROM log_heads WHERE org_id = $1 AND size = $2 + 1) AS head_hash;

-- name: nodes_mismatching
-- The first recomputed node (by the leaf it completes at) whose stored twin is missing or
-- different: the lowest node over the first rewritten entry (slow path, to locate).
SELECT w.level, w.idx FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]) AS w (level, idx, hash)
LEFT JOIN LATERAL (
    SELECT hash FROM merkle_nodes m WHERE m.org_id = $1 AND m.level = w.level AND m.idx = w.idx
) m ON true
WHERE m.hash IS DISTINCT FROM w.hash
ORDER BY (w.idx + 1) << w.level, w.level LIMIT 1;

-- name: count_nodes_within
SELECT count(*) FROM merkle_nodes WHERE org_id = $1 AND ((idx + 1) << level) <= $2;

-- name: verify_money_rows
-- The stored per-entry projection rows of one verification range, in index order
-- (ledger/derivation.py re-derives each from the entries' bytes).
SELECT entry_idx, kind, fund, counterparty, currency::text, amount, reference
FROM money_entries WHERE org_id = $1 AND entry_idx >= $2 AND entry_idx < $3 ORDER BY entry_idx;

-- name: verify_postings
SELECT entry_idx, account, currency::text, amount FROM postings
WHERE org_id = $1 AND entry_idx >= $2 AND entry_idx < $3 ORDER BY entry_idx, line;

-- name: verify_corrected_rows
-- Every money row marked as corrected (a partial index holds only those, migration 0012).
SELECT entry_idx, corrected_by FROM money_entries
WHERE org_id = $1 AND corrected_by IS NOT NULL ORDER BY entry_idx;

-- name: verify_corrections
SELECT corrected, entry_idx FROM corrections
WHERE org_id = $1 AND entry_idx >= $2 AND entry_idx < $3;

-- name: verify_funds
SELECT entry_idx, code, name, currency, earmark::text AS earmark, fee_cap_bps, minor_units
FROM funds WHERE org_id = $1 AND entry_idx >= $2 AND entry_idx < $3;

-- name: verify_beneficiaries
SELECT entry_idx, code, version, name, city, province, registration FROM beneficiary_versions
WHERE org_id = $1 AND entry_idx >= $2 AND entry_idx < $3;

-- name: verify_value_dates
-- The value date of each money entry in [$2, $3) (migration 0014), in index order.
SELECT entry_idx, value_on FROM value_dates
WHERE org_id = $1 AND entry_idx >= $2 AND entry_idx < $3 ORDER BY entry_idx;

-- name: verify_org_settings
SELECT time_zone, books_open, entry_idx FROM org_settings WHERE org_id = $1;

-- name: projection_max_index
-- The newest entry any per-entry projection row names (each a primary-key or index probe).
SELECT greatest(
    (SELECT max(entry_idx) FROM money_entries WHERE org_id = $1),
    (SELECT max(entry_idx) FROM postings WHERE org_id = $1),
    (SELECT max(entry_idx) FROM corrections WHERE org_id = $1),
    (SELECT max(entry_idx) FROM funds WHERE org_id = $1),
    (SELECT max(entry_idx) FROM beneficiary_versions WHERE org_id = $1),
    (SELECT max(entry_idx) FROM value_dates WHERE org_id = $1),
    (SELECT max(entry_idx) FROM org_settings WHERE org_id = $1));

-- name: all_fund_totals
SELECT fund, kind, amount FROM fund_totals WHERE org_id = $1 ORDER BY fund, kind;

-- name: max_index
SELECT max(idx) FROM entries WHERE org_id = $1;

-- name: max_checkpoint
SELECT max(tree_size) FROM checkpoints WHERE org_id = $1;

-- ===== tiles (executed by ledger/store/tiles.py) =============================================

-- name: leaf_hashes_range
SELECT leaf_hash FROM entries WHERE org_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx;

-- name: node_hashes_range
SELECT hash FROM merkle_nodes WHERE org_id = $1 AND level = $2 AND idx >= $3 AND idx < $4
ORDER BY idx;

-- name: bodies_range
SELECT body FROM entries WHERE org_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx;

-- ===== operations: metrics and the publisher (ledger/store/log.py), rate limits (ledger/http/ratelimit.py)

-- name: log_sizes
-- Scraped by GET /metrics: one row per log (a primary-key join, no entry is read).
SELECT o.slug, h.size FROM log_heads h JOIN organizations o ON o.id = h.org_id ORDER BY o.id;

-- name: rate_limit_add
-- Adds one process's unflushed request counts to the shared counters of one window and
-- returns the totals. Keys arrive sorted, so concurrent flushes lock rows in the same order.
INSERT INTO rate_limit_counts AS c (window_start, key_id, hits)
SELECT $1, u.key_id, u.hits FROM unnest($2::uuid[], $3::bigint[]) AS u (key_id, hits)
ORDER BY u.key_id
ON CONFLICT (window_start, key_id) DO UPDATE SET hits = c.hits + EXCLUDED.hits
RETURNING key_id, hits;

-- name: rate_limit_prune
DELETE FROM rate_limit_counts WHERE window_start < $1;

-- name: rate_limit_add_addresses
-- As rate_limit_add, per client address for requests without a valid API key (migration 0015).
INSERT INTO rate_limit_addresses AS c (window_start, address, hits)
SELECT $1, u.address, u.hits FROM unnest($2::text[], $3::bigint[]) AS u (address, hits)
ORDER BY u.address
ON CONFLICT (window_start, address) DO UPDATE SET hits = c.hits + EXCLUDED.hits
RETURNING address, hits;

-- name: rate_limit_prune_addresses
-- Addresses are kept only for the current window: every older row is deleted.
DELETE FROM rate_limit_addresses WHERE window_start < $1;

-- name: try_publisher_lock
-- One worker process at a time signs checkpoints: a session-level advisory lock, held while
-- publishing. Key 0x1ED6E5 + 16 (migrations use 0x1ED6E5 and 0x1ED6E5 + 1).
SELECT pg_try_advisory_lock(2021109);

-- name: publisher_unlock
SELECT pg_advisory_unlock(2021109);

-- name: donations_with_reference
-- The donations, reversed or not, that hold a payment reference (a donor's receipt lookup
-- checks the receipt code against each; unreversed ones are unique per reference, so these
-- are a handful at most). Served by the money_entries_reference index.
SELECT entry_idx FROM money_entries
WHERE org_id = $1 AND kind = 'donation' AND reference = $2
ORDER BY entry_idx
LIMIT 16;

-- name: fund_monthly_flows
-- Per calendar month of value date, what a fund received (donations) and paid out
-- (disbursements), reversed entries left out: the fund page's monthly chart. $3: the kinds.
SELECT date_trunc('month', v.value_on)::date AS month, m.kind,
       sum(m.amount)::bigint AS total, count(*) AS n
FROM money_entries m
JOIN value_dates v ON v.org_id = m.org_id AND v.entry_idx = m.entry_idx
WHERE m.org_id = $1 AND m.fund = $2 AND m.kind = ANY ($3::text[]) AND m.corrected_by IS NULL
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: fund_disbursement_split
-- A fund's unreversed disbursements summed per beneficiary and purpose (the purpose read from
-- the entry's own canonical bytes): the fund page's category and beneficiary charts. $3: the
-- disbursement kind.
SELECT m.counterparty AS beneficiary,
       convert_from(e.body, 'UTF8')::jsonb -> 'body' ->> 'purpose' AS purpose,
       sum(m.amount)::bigint AS total, count(*) AS n
FROM money_entries m
JOIN entries e ON e.org_id = m.org_id AND e.idx = m.entry_idx
WHERE m.org_id = $1 AND m.fund = $2 AND m.kind = $3 AND m.corrected_by IS NULL
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: fund_latest_movements
-- A fund's newest entries of the kinds $3 (newest first, at most $4), with value date and the
-- correction that reversed each, if any.
SELECT m.entry_idx, m.kind, m.counterparty, m.amount, v.value_on, m.corrected_by
FROM money_entries m
JOIN value_dates v ON v.org_id = m.org_id AND v.entry_idx = m.entry_idx
WHERE m.org_id = $1 AND m.fund = $2 AND m.kind = ANY ($3::text[])
ORDER BY m.entry_idx DESC
LIMIT $4;

-- Recipients' keys and acknowledgments (migration 0022; ledger/store/recipients.py).

-- name: disbursements_to_sign
-- What a beneficiary signs about each disbursement (docs/FORMAT.md section 8), and what it
-- signed already: the entry's leaf hash, its money row, its value date, its fund's exponent.
SELECT m.entry_idx, m.kind, m.fund, m.counterparty, m.currency, m.amount, m.corrected_by,
       e.leaf_hash, v.value_on, f.minor_units, e.body,
       a.entry_idx AS ack_idx, a.verdict, a.received, a.key_idx, ae.created_at AS ack_time
-- Driven by the asked indexes (one primary-key probe each), not by the organization's rows.
FROM unnest($2::bigint[]) AS w (idx)
JOIN money_entries m ON m.org_id = $1 AND m.entry_idx = w.idx
JOIN entries e ON e.org_id = m.org_id AND e.idx = m.entry_idx
JOIN value_dates v ON v.org_id = m.org_id AND v.entry_idx = m.entry_idx
JOIN funds f ON f.org_id = m.org_id AND f.code = m.fund
LEFT JOIN acknowledgments a ON a.org_id = m.org_id AND a.disbursement_idx = m.entry_idx
LEFT JOIN entries ae ON ae.org_id = a.org_id AND ae.idx = a.entry_idx;

-- name: current_beneficiary_keys
SELECT DISTINCT ON (beneficiary) beneficiary, entry_idx, public_key
FROM beneficiary_keys WHERE org_id = $1 AND beneficiary = ANY($2::text[])
ORDER BY beneficiary, entry_idx DESC;

-- name: beneficiary_key_history
SELECT entry_idx, beneficiary, public_key, replaces
FROM beneficiary_keys WHERE org_id = $1 AND beneficiary = $2 ORDER BY entry_idx;

-- name: disbursements_of_beneficiary
SELECT m.entry_idx FROM money_entries m
WHERE m.org_id = $1 AND m.kind = 'disbursement' AND m.counterparty = $2
ORDER BY m.entry_idx DESC LIMIT $3;

-- name: acknowledged_share
-- Of the unreversed disbursements (to one beneficiary, or from one fund), how much was
-- disbursed, and how much of it its recipients acknowledged in full or disputed.
SELECT m.currency, sum(m.amount)::bigint AS disbursed,
       coalesce(sum(m.amount) FILTER (WHERE a.verdict = 'acknowledged'), 0)::bigint AS acknowledged,
       coalesce(sum(m.amount) FILTER (WHERE a.verdict = 'disputed'), 0)::bigint AS disputed,
       count(*) AS disbursements,
       count(a.entry_idx) FILTER (WHERE a.verdict = 'acknowledged') AS acknowledged_count,
       count(a.entry_idx) FILTER (WHERE a.verdict = 'disputed') AS disputed_count
FROM money_entries m
LEFT JOIN acknowledgments a ON a.org_id = m.org_id AND a.disbursement_idx = m.entry_idx
WHERE m.org_id = $1 AND m.kind = 'disbursement' AND m.corrected_by IS NULL
  AND ($2::text IS NULL OR m.counterparty = $2) AND ($3::text IS NULL OR m.fund = $3)
GROUP BY m.currency ORDER BY m.currency;

-- name: insert_enrolment_link
INSERT INTO enrolment_links (token_hash, org_id, beneficiary, expires_at) VALUES ($1, $2, $3, $4);

-- name: enrolment_link
SELECT l.org_id, l.beneficiary, l.expires_at, o.slug
FROM enrolment_links l JOIN organizations o ON o.id = l.org_id WHERE l.token_hash = $1;

-- name: verify_beneficiary_keys
SELECT entry_idx, beneficiary, public_key, replaces FROM beneficiary_keys
WHERE org_id = $1 AND entry_idx >= $2 AND entry_idx < $3 ORDER BY entry_idx;

-- name: verify_acknowledgments
SELECT entry_idx, disbursement_idx, beneficiary, verdict, received, key_idx FROM acknowledgments
WHERE org_id = $1 AND entry_idx >= $2 AND entry_idx < $3 ORDER BY entry_idx;

-- name: entries_at
SELECT idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash FROM entries
WHERE org_id = $1 AND idx = ANY($2::bigint[]) ORDER BY idx;

-- name: acknowledged_shares
-- Per fund, beneficiary and currency: unreversed disbursements, and how much of them their
-- recipients acknowledged or disputed (the public site's acknowledged share).
SELECT m.fund, m.counterparty, m.currency, sum(m.amount)::bigint AS disbursed,
       coalesce(sum(m.amount) FILTER (WHERE a.verdict = 'acknowledged'), 0)::bigint AS acknowledged,
       coalesce(sum(m.amount) FILTER (WHERE a.verdict = 'disputed'), 0)::bigint AS disputed,
       count(*) AS disbursements,
       count(a.entry_idx) FILTER (WHERE a.verdict = 'acknowledged') AS acknowledged_count,
       count(a.entry_idx) FILTER (WHERE a.verdict = 'disputed') AS disputed_count
FROM money_entries m
LEFT JOIN acknowledgments a ON a.org_id = m.org_id AND a.disbursement_idx = m.entry_idx
WHERE m.org_id = $1 AND m.kind = 'disbursement' AND m.corrected_by IS NULL
GROUP BY m.fund, m.counterparty, m.currency;

-- name: awaiting_acknowledgment
-- Unreversed disbursements whose recipient has signed nothing yet, oldest value date first
-- (what a charity follows up).
SELECT m.entry_idx FROM money_entries m
JOIN value_dates v ON v.org_id = m.org_id AND v.entry_idx = m.entry_idx
WHERE m.org_id = $1 AND m.kind = 'disbursement' AND m.corrected_by IS NULL
  AND NOT EXISTS (SELECT 1 FROM acknowledgments a
                  WHERE a.org_id = m.org_id AND a.disbursement_idx = m.entry_idx)
ORDER BY v.value_on, m.entry_idx LIMIT $2;

-- name: compliance_entries
-- Every fund.classified, fund.permit and org.profile entry of a log below a tree size, in
-- log order (entries_by_kind, migration 0019): few per organization, read from the log
-- itself (migration 0023).
SELECT idx, kind, created_at, body FROM entries
WHERE org_id = $1 AND kind IN ('fund.classified', 'fund.permit', 'org.profile') AND idx < $2
ORDER BY idx;

-- name: amil_taken
-- What fund $2 transferred to the amil funds $3, net of corrections (migration 0023).
SELECT coalesce(sum(amount), 0)::bigint FROM money_entries
WHERE org_id = $1 AND kind = 'transfer' AND fund = $2 AND counterparty = ANY($3::text[])
  AND corrected_by IS NULL;

-- name: statement_recipient_words
-- What the beneficiaries signed about the disbursements $2 in entries below tree size $3
-- (docs/FORMAT.md section 8): a statement shows each disbursement's status as of its end,
-- so a later acknowledgment never changes what an issued statement says. Driven by the
-- asked indexes (the acknowledgments (org_id, disbursement_idx) unique index).
SELECT a.disbursement_idx, a.entry_idx, a.verdict, a.received, e.created_at
FROM unnest($2::bigint[]) AS w (idx)
JOIN acknowledgments a ON a.org_id = $1 AND a.disbursement_idx = w.idx
JOIN entries e ON e.org_id = a.org_id AND e.idx = a.entry_idx
WHERE a.entry_idx < $3;

-- ===== financial statements: ISAK 35, PSAK 109 (executed by ledger/store/financial.py) ======

-- name: financial_movements
-- The period's movements of every fund account, by what they were paired with: the fund
-- line of each money entry below tree size $2 whose value date is in [$3, $4), summed per
-- fund account, counter account (every beneficiary account as 'beneficiary') and currency.
-- Every money entry posts exactly two lines (ledger/formats/postings.py; a correction the
-- negation of the two it reverses), so the other line of the entry is the counter account.
SELECT f.account,
       CASE WHEN o.account LIKE 'beneficiary:%' THEN 'beneficiary' ELSE o.account END AS counter,
       f.currency, sum(f.amount)::bigint AS amount
FROM postings f
JOIN postings o ON o.org_id = f.org_id AND o.entry_idx = f.entry_idx AND o.line <> f.line
JOIN value_dates v ON v.org_id = f.org_id AND v.entry_idx = f.entry_idx
WHERE f.org_id = $1 AND f.entry_idx < $2 AND v.value_on >= $3 AND v.value_on < $4
  AND f.account LIKE 'fund:%'
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

-- name: awaiting_acknowledgment_before
-- Unreversed disbursements whose recipient has signed nothing yet and whose value date is
-- before $2 (the console's dashboard: today minus LEDGER_ACK_WARNING_DAYS), oldest value
-- date first, at most $3; `waiting` counts them all.
SELECT m.entry_idx, m.fund, m.counterparty, m.currency, m.amount, v.value_on,
       count(*) OVER () AS waiting
FROM money_entries m
JOIN value_dates v ON v.org_id = m.org_id AND v.entry_idx = m.entry_idx
WHERE m.org_id = $1 AND m.kind = 'disbursement' AND m.corrected_by IS NULL
  AND v.value_on < $2
  AND NOT EXISTS (SELECT 1 FROM acknowledgments a
                  WHERE a.org_id = m.org_id AND a.disbursement_idx = m.entry_idx)
ORDER BY v.value_on, m.entry_idx LIMIT $3;

-- name: disputed_disbursements
-- Unreversed disbursements their recipient disputed (newest dispute first, at most $2), with
-- what the recipient says arrived and the dispute entry; `disputed` counts them all.
SELECT m.entry_idx, m.fund, m.counterparty, m.currency, m.amount, v.value_on,
       a.received, a.entry_idx AS dispute_idx, count(*) OVER () AS disputed
FROM acknowledgments a
JOIN money_entries m ON m.org_id = a.org_id AND m.entry_idx = a.disbursement_idx
JOIN value_dates v ON v.org_id = m.org_id AND v.entry_idx = m.entry_idx
WHERE a.org_id = $1 AND a.verdict = 'disputed' AND m.corrected_by IS NULL
ORDER BY a.entry_idx DESC LIMIT $2;

-- name: disbursement_beneficiary
-- Who a disbursement went to (NULL: not a disbursement): what a recipient's request needs
-- before the rules check everything again under the head lock.
SELECT counterparty FROM money_entries
WHERE org_id = $1 AND entry_idx = $2 AND kind = 'disbursement';

-- name: published_document_certificates
-- Every organization's document certificate that exists (created on its first signed PDF),
-- with the log origin it signs for: what the verify page compares a dropped PDF's signer
-- with (the same bytes as GET …/certificate). The sealed keys stay here.
SELECT o.slug, o.name, o.origin, c.cert_der FROM document_certificates c
JOIN organizations o ON o.id = c.org_id ORDER BY o.id LIMIT $1;
