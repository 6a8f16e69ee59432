-- 0030: a group-commit batch's rows as one JSON array per table (issue 19 item 6).
--
-- append_batch_records (0029) takes each table's rows as an array of records. Encoding it,
-- the driver (asyncpg) asks four abstract-base-class questions of every record (Iterable,
-- Sized and Mapping for the array's shape, Mapping again for the record), each a call into
-- Python: 45,000 of the server's ~620,000 instructions per HTTP donation went to the shape
-- alone, 89,000 to the arrays in all. append_batch_json takes the same rows, member for
-- member in the same order, as JSON arrays of arrays that the writer encodes in one call of
-- a C encoder: bytea members in base64, timestamptz members in RFC 3339 with their offset,
-- absent members as null. The function decodes each row with the casts of its column's type
-- and runs append_batch_records's statements unchanged: the advisory lock that
-- read_head_after waits on, the head compare-and-swap first (NULL and nothing written if the
-- head moved), then entries, Merkle nodes, money rows, posting lines, Idempotency-Keys,
-- donor records and kept gateway settlements, each fired through the same triggers and
-- constraints. A row whose member does not cast (a malformed number, date or base64) raises
-- and writes nothing. append_batch_records stays, so a server of the previous release still
-- appends while a new one migrates the database.

CREATE FUNCTION append_batch_json(
    p_org bigint, p_old_size bigint, p_entries jsonb, p_nodes jsonb,
    h_size bigint, h_hash bytea, h_last_time timestamptz, h_frontier bytea[],
    p_money jsonb, p_postings jsonb, p_keys jsonb, p_donors jsonb, p_settlements jsonb
) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_refunded jsonb := '[]';
    v_settlements batch_settlement[];
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
    SELECT p_org, (e->>0)::bigint, e->>1, (e->>2)::timestamptz, decode(e->>3, 'base64'),
           decode(e->>4, 'base64'), decode(e->>5, 'base64'), decode(e->>6, 'base64')
    FROM jsonb_array_elements(p_entries) AS e;
    IF jsonb_array_length(p_nodes) > 0 THEN
        INSERT INTO merkle_nodes (org_id, level, idx, hash)
        SELECT p_org, (n->>0)::smallint, (n->>1)::bigint, decode(n->>2, 'base64')
        FROM jsonb_array_elements(p_nodes) AS n;
    END IF;
    IF jsonb_array_length(p_money) > 0 THEN
        INSERT INTO money_entries (org_id, entry_idx, kind, fund, counterparty, currency, amount,
                                   reference)
        SELECT p_org, (m->>0)::bigint, m->>1, m->>2, m->>3, m->>4, (m->>5)::bigint, m->>6
        FROM jsonb_array_elements(p_money) AS m;
    END IF;
    IF jsonb_array_length(p_postings) > 0 THEN
        INSERT INTO postings (org_id, entry_idx, line, account, currency, amount)
        SELECT p_org, (p->>0)::bigint, (p->>1)::smallint, p->>2, p->>3, (p->>4)::bigint
        FROM jsonb_array_elements(p_postings) AS p;
    END IF;
    IF jsonb_array_length(p_keys) > 0 THEN
        INSERT INTO idempotency_keys (org_id, key, request_hash, status, response)
        SELECT p_org, k->>0, decode(k->>1, 'base64'), (k->>2)::smallint, decode(k->>3, 'base64')
        FROM jsonb_array_elements(p_keys) AS k;
    END IF;
    IF jsonb_array_length(p_donors) > 0 THEN
        INSERT INTO donor_records (org_id, donation_idx, lookups, salt, personal)
        SELECT p_org, (d->>0)::bigint,
               NULLIF(array_remove(ARRAY[decode(d->>1, 'base64'), decode(d->>2, 'base64')],
                                   NULL), '{}'),
               decode(d->>3, 'base64'), (d->>4)::jsonb
        FROM jsonb_array_elements(p_donors) AS d;
    END IF;
    IF jsonb_array_length(p_settlements) > 0 THEN
        -- As records of 0029's type, so that the refunds' lookup below is 0029's join.
        v_settlements := ARRAY(
            SELECT ROW(g->>0, g->>1, g->>2, g->>3, g->>4, g->>5, (g->>6)::bigint,
                       (g->>7)::bigint, g->>8, (g->>9)::timestamptz,
                       decode(g->>10, 'base64'), decode(g->>11, 'base64'))::batch_settlement
            FROM jsonb_array_elements(p_settlements) AS g);
        INSERT INTO gateway_notifications (org_id, gateway, payment_id, event, kind, fund,
                                           currency, gross, refunded, channel, occurred_at,
                                           body_sha256, body)
        SELECT p_org, g.* FROM unnest(v_settlements) AS g
        ON CONFLICT (org_id, gateway, payment_id, event) DO NOTHING;
        SELECT coalesce(jsonb_agg(jsonb_build_array(r.gateway, r.payment_id)), '[]') INTO v_refunded
        FROM (SELECT DISTINCT g.gateway, g.payment_id
              FROM gateway_notifications g
              JOIN unnest(v_settlements) AS p ON g.gateway = p.gateway
                                               AND g.payment_id = p.payment_id
              WHERE g.org_id = p_org AND g.kind = 'refunded') r;
    END IF;
    RETURN v_refunded;
END $$;
COMMENT ON FUNCTION append_batch_json IS
    'append_batch_records with each table''s rows as one JSON array of arrays (members in the records'' order; bytea in base64, timestamptz in RFC 3339): head compare-and-swap from p_old_size (NULL and nothing written if it moved), entries, Merkle nodes, money rows, posting lines, Idempotency-Keys, donor records and kept gateway settlements; returns the settlements'' payments with a refund kept.';
