-- 0026: a group-commit batch written in one call, its own transaction (issue 19 item 2).
--
-- Until now a donation batch cost BEGIN, the head lock with the admit reads (0010), the
-- entries + nodes + head statement, the projections statement, for a gateway settlement the
-- inbox statement, and COMMIT: five or six round trips, four of them while the head row was
-- locked, each also waiting for the writer's event loop to resume it (0010 measured ~2 ms
-- each with two workers). The writer now reads the head and the admit lookups without a lock
-- (one statement), admits and hashes in Python, and sends everything the batch writes as this
-- one function call, outside any explicit transaction: the call is its own transaction, and
-- the head row is locked only while it runs and commits.
--
-- The head compare-and-swap comes first and guards everything else: if the head is no longer
-- at p_old_size (another writer appended since the read), the function writes nothing and
-- returns NULL; the writer then redoes the batch the old way, under the head lock. Every
-- batch that commits moves the head, so a batch admitted on what it read is written only if
-- nothing was appended in between. Each statement below takes its own snapshot (a VOLATILE
-- PL/pgSQL function in READ COMMITTED), i.e. after the head row was locked, as the separate
-- statements did before: the gateway inbox's refund read sees every refund kept before the
-- lock was granted (ingest_queries.sql, keep_gateway_settlements). The triggers and
-- constraints that guard the log and the projections fire as before, statement by statement.
--
-- Returns NULL when the head had moved; otherwise the [gateway, payment_id] pairs of the
-- kept settlements whose payment has a refund kept (a JSON array, usually empty).
-- Organization first and only its rows touched (Citus: distributable by org_id, issue 21).

CREATE FUNCTION append_batch_rows(
    p_org bigint, p_old_size bigint,
    -- entries
    e_idx bigint[], e_kind text[], e_created_at timestamptz[], e_body bytea[],
    e_prev_hash bytea[], e_entry_hash bytea[], e_leaf_hash bytea[],
    -- Merkle nodes
    n_level smallint[], n_idx bigint[], n_hash bytea[],
    -- the new head
    h_size bigint, h_hash bytea, h_last_time timestamptz, h_frontier bytea[],
    -- money rows
    m_entry_idx bigint[], m_kind text[], m_fund text[], m_counterparty text[],
    m_currency text[], m_amount bigint[], m_reference text[],
    -- posting lines
    p_entry_idx bigint[], p_line smallint[], p_account text[], p_currency text[], p_amount bigint[],
    -- Idempotency-Keys
    k_key text[], k_request_hash bytea[], k_status smallint[], k_response bytea[],
    -- donor records
    d_donation_idx bigint[], d_email_lookup bytea[], d_phone_lookup bytea[], d_salt bytea[],
    d_personal text[],
    -- gateway settlements kept with their donations
    g_gateway text[], g_payment_id text[], g_event text[], g_kind text[], g_fund text[],
    g_currency text[], g_gross bigint[], g_refunded bigint[], g_channel text[],
    g_occurred_at timestamptz[], g_body_sha256 bytea[], g_body bytea[]
) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_refunded jsonb := '[]';
BEGIN
    -- Tells read_head_after that a call is writing this log (released once it committed).
    PERFORM pg_advisory_xact_lock(2021113, hashtext(p_org::text));
    UPDATE log_heads SET size = h_size, head_hash = h_hash, last_time = h_last_time,
                         frontier = h_frontier
    WHERE org_id = p_org AND size = p_old_size;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    INSERT INTO entries (org_id, idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash)
    SELECT p_org, e.* FROM unnest(e_idx, e_kind, e_created_at, e_body, e_prev_hash,
                                  e_entry_hash, e_leaf_hash) AS e;
    IF cardinality(n_idx) > 0 THEN
        INSERT INTO merkle_nodes (org_id, level, idx, hash)
        SELECT p_org, n.* FROM unnest(n_level, n_idx, n_hash) AS n;
    END IF;
    IF cardinality(m_entry_idx) > 0 THEN
        INSERT INTO money_entries (org_id, entry_idx, kind, fund, counterparty, currency, amount,
                                   reference)
        SELECT p_org, m.* FROM unnest(m_entry_idx, m_kind, m_fund, m_counterparty, m_currency,
                                      m_amount, m_reference) AS m;
    END IF;
    IF cardinality(p_entry_idx) > 0 THEN
        INSERT INTO postings (org_id, entry_idx, line, account, currency, amount)
        SELECT p_org, p.* FROM unnest(p_entry_idx, p_line, p_account, p_currency, p_amount) AS p;
    END IF;
    IF cardinality(k_key) > 0 THEN
        INSERT INTO idempotency_keys (org_id, key, request_hash, status, response)
        SELECT p_org, k.* FROM unnest(k_key, k_request_hash, k_status, k_response) AS k;
    END IF;
    IF cardinality(d_donation_idx) > 0 THEN
        INSERT INTO donor_records (org_id, donation_idx, lookups, salt, personal)
        SELECT p_org, d.donation_idx,
               NULLIF(array_remove(ARRAY[d.email_lookup, d.phone_lookup], NULL), '{}'),
               d.salt, d.personal::jsonb
        FROM unnest(d_donation_idx, d_email_lookup, d_phone_lookup, d_salt, d_personal)
             AS d (donation_idx, email_lookup, phone_lookup, salt, personal);
    END IF;
    IF cardinality(g_payment_id) > 0 THEN
        INSERT INTO gateway_notifications (org_id, gateway, payment_id, event, kind, fund,
                                           currency, gross, refunded, channel, occurred_at,
                                           body_sha256, body)
        SELECT p_org, g.* FROM unnest(g_gateway, g_payment_id, g_event, g_kind, g_fund,
                                      g_currency, g_gross, g_refunded, g_channel, g_occurred_at,
                                      g_body_sha256, g_body) AS g
        ON CONFLICT (org_id, gateway, payment_id, event) DO NOTHING;
        SELECT coalesce(jsonb_agg(jsonb_build_array(r.gateway, r.payment_id)), '[]') INTO v_refunded
        FROM (SELECT DISTINCT g.gateway, g.payment_id
              FROM gateway_notifications g
              JOIN unnest(g_gateway, g_payment_id) AS p (gateway, payment_id)
                ON g.gateway = p.gateway AND g.payment_id = p.payment_id
              WHERE g.org_id = p_org AND g.kind = 'refunded') r;
    END IF;
    RETURN v_refunded;
END $$;
COMMENT ON FUNCTION append_batch_rows IS
    'One group-commit batch: head compare-and-swap from p_old_size (NULL and nothing written if it moved), entries, Merkle nodes, money rows, posting lines, Idempotency-Keys, donor records and kept gateway settlements; returns the settlements'' payments with a refund kept.';

-- Commits that overlap (issue 19 item 3): the writer reads the head for batch k+1 while batch
-- k's call is committing, on another connection. read_head_after waits for that call (the
-- advisory lock above, shared here and let go at once: nothing is held while the batch is
-- built), reads the head in a snapshot taken after it committed and, when p_lookup, the
-- admit lookups after that (admit_lookups). A head below p_size (k's call not yet started,
-- or it wrote nothing) is read again up to 50 times, 0.2 ms apart, then returned as it is: the
-- next call's compare-and-swap decides. Reads only; no lock outlives the call.
CREATE FUNCTION read_head_after(
    p_org bigint, p_size bigint, p_lookup boolean,
    p_funds text[], p_bens text[], p_accounts text[], p_refs text[], p_keys text[]
) RETURNS TABLE (o_size bigint, o_head_hash bytea, o_last_time timestamptz,
                 o_frontier bytea[], o_lookups jsonb)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    FOR attempt IN 1..50 LOOP
        PERFORM pg_advisory_lock_shared(2021113, hashtext(p_org::text));
        PERFORM pg_advisory_unlock_shared(2021113, hashtext(p_org::text));
        SELECT h.size, h.head_hash, h.last_time, h.frontier
        INTO o_size, o_head_hash, o_last_time, o_frontier
        FROM log_heads h WHERE h.org_id = p_org;
        EXIT WHEN NOT FOUND OR o_size >= p_size;
        PERFORM pg_sleep(0.0002);
    END LOOP;
    IF o_size IS NULL THEN
        RETURN;
    END IF;
    IF p_lookup THEN
        o_lookups := admit_lookups(p_org, p_funds, p_bens, p_accounts, p_refs, p_keys);
    END IF;
    RETURN NEXT;
END $$;
COMMENT ON FUNCTION read_head_after IS
    'The head (and admit lookups) once the append_batch_rows call in flight for this log has committed and the head reached p_size, or after about 10 ms without it: for the batch built while that call commits.';
