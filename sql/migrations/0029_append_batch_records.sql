-- 0029: a group-commit batch's rows as arrays of records, not of columns (issue 19 item 6).
--
-- append_batch_rows (0026) takes each table's rows as one array per column: 47 arrays, about
-- 34 elements per donation. The driver (asyncpg) checks every element of every array against
-- collections.abc.Iterable and Sized before encoding it, a call into Python each, and the
-- writer first cuts its rows into columns. append_batch_records takes the same rows as one
-- array of records per table: the driver checks each record, not each value, and the
-- writer's row tuples go as they are. Everything else is append_batch_rows's, statement for
-- statement: the advisory lock that read_head_after waits on, the head compare-and-swap
-- first (NULL and nothing written if the head moved), then entries, Merkle nodes, money
-- rows, posting lines, Idempotency-Keys, donor records and kept gateway settlements, each
-- fired through the same triggers and constraints. append_batch_rows stays, so a server of
-- the previous release still appends while a new one migrates the database.

CREATE TYPE batch_entry AS (
    idx bigint, kind text, created_at timestamptz, body bytea, prev_hash bytea,
    entry_hash bytea, leaf_hash bytea
);
CREATE TYPE batch_node AS (level smallint, idx bigint, hash bytea);
CREATE TYPE batch_money AS (
    entry_idx bigint, kind text, fund text, counterparty text, currency text, amount bigint,
    reference text
);
CREATE TYPE batch_posting AS (
    entry_idx bigint, line smallint, account text, currency text, amount bigint
);
CREATE TYPE batch_key AS (key text, request_hash bytea, status smallint, response bytea);
CREATE TYPE batch_donor AS (
    donation_idx bigint, email_lookup bytea, phone_lookup bytea, salt bytea, personal text
);
CREATE TYPE batch_settlement AS (
    gateway text, payment_id text, event text, kind text, fund text, currency text,
    gross bigint, refunded bigint, channel text, occurred_at timestamptz, body_sha256 bytea,
    body bytea
);

CREATE FUNCTION append_batch_records(
    p_org bigint, p_old_size bigint,
    p_entries batch_entry[], p_nodes batch_node[],
    h_size bigint, h_hash bytea, h_last_time timestamptz, h_frontier bytea[],
    p_money batch_money[], p_postings batch_posting[], p_keys batch_key[],
    p_donors batch_donor[], p_settlements batch_settlement[]
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
    SELECT p_org, e.* FROM unnest(p_entries) AS e;
    IF cardinality(p_nodes) > 0 THEN
        INSERT INTO merkle_nodes (org_id, level, idx, hash)
        SELECT p_org, n.* FROM unnest(p_nodes) AS n;
    END IF;
    IF cardinality(p_money) > 0 THEN
        INSERT INTO money_entries (org_id, entry_idx, kind, fund, counterparty, currency, amount,
                                   reference)
        SELECT p_org, m.* FROM unnest(p_money) AS m;
    END IF;
    IF cardinality(p_postings) > 0 THEN
        INSERT INTO postings (org_id, entry_idx, line, account, currency, amount)
        SELECT p_org, p.* FROM unnest(p_postings) AS p;
    END IF;
    IF cardinality(p_keys) > 0 THEN
        INSERT INTO idempotency_keys (org_id, key, request_hash, status, response)
        SELECT p_org, k.* FROM unnest(p_keys) AS k;
    END IF;
    IF cardinality(p_donors) > 0 THEN
        INSERT INTO donor_records (org_id, donation_idx, lookups, salt, personal)
        SELECT p_org, d.donation_idx,
               NULLIF(array_remove(ARRAY[d.email_lookup, d.phone_lookup], NULL), '{}'),
               d.salt, d.personal::jsonb
        FROM unnest(p_donors) AS d;
    END IF;
    IF cardinality(p_settlements) > 0 THEN
        INSERT INTO gateway_notifications (org_id, gateway, payment_id, event, kind, fund,
                                           currency, gross, refunded, channel, occurred_at,
                                           body_sha256, body)
        SELECT p_org, g.* FROM unnest(p_settlements) AS g
        ON CONFLICT (org_id, gateway, payment_id, event) DO NOTHING;
        SELECT coalesce(jsonb_agg(jsonb_build_array(r.gateway, r.payment_id)), '[]') INTO v_refunded
        FROM (SELECT DISTINCT g.gateway, g.payment_id
              FROM gateway_notifications g
              JOIN unnest(p_settlements) AS p ON g.gateway = p.gateway
                                               AND g.payment_id = p.payment_id
              WHERE g.org_id = p_org AND g.kind = 'refunded') r;
    END IF;
    RETURN v_refunded;
END $$;
COMMENT ON FUNCTION append_batch_records IS
    'append_batch_rows with each table''s rows as one array of records: head compare-and-swap from p_old_size (NULL and nothing written if it moved), entries, Merkle nodes, money rows, posting lines, Idempotency-Keys, donor records and kept gateway settlements; returns the settlements'' payments with a refund kept.';
