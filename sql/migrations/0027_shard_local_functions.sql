-- 0027: every function and trigger can read and write one organization's rows through the
-- relation that holds them on the node where it runs (issue 21: sharding by organization).
--
-- On Citus (`ledger citus distribute`), the per-organization tables are distributed by org_id
-- and co-located, so a trigger fires on a shard of the table on a worker and the admit reads
-- run inside a statement routed to that worker; a query there on the distributed table would
-- be a distributed query from a query on a shard, which Citus refuses ("cannot execute a
-- distributed query from a query on a shard") or, with citus.allow_nested_distributed_execution,
-- may answer wrongly. On a Citus node (ledger_sharded()) each function therefore names, with
-- org_relation(), the organization's co-located shard, which is on the same node:
--   * the link check (0007) joins the transition table to the relation it fired on
--     (TG_RELID: the shard itself on a worker);
--   * the derivation triggers (0012, 0016, 0022) and the webhook outbox (0019) write the
--     co-located shard of balances, fund_totals, money_entries, value_dates, org_settings,
--     beneficiary_keys, acknowledgments and webhook_outbox, and read the local placement of
--     the reference tables organizations and webhook_subscriptions;
--   * admit_lookups (0010, 0011, 0015, 0023) keeps its signature and its result and reads the
--     co-located shards of funds, beneficiary_versions, balances, entries and org_settings;
--   * existing_donation_references / existing_idempotency_keys (0009, 0013) become PL/pgSQL:
--     as parameterized SQL functions Citus inlined them and could not plan them ("could not
--     create distributed plan"). They keep their probes (LATERAL ... LIMIT 1, no sequential
--     or bitmap scans).
-- On plain PostgreSQL every function runs the same static statements as before, with plans
-- cached by the session: building them at run time costs a plan per call (measured on
-- 2026-12-04: admit_lookups 885-1,279 against 444-511 us per call, under the head lock).
-- The two branches of each function say the same thing; a migration that changes one must
-- change both (tests/system/test_citus.py runs the sharded branch on a cluster).
-- A statement's transition table holds rows of one shard on Citus (Citus runs one statement
-- per shard), so any of its rows names the shard group.

CREATE FUNCTION ledger_sharded() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL
$$;
COMMENT ON FUNCTION ledger_sharded() IS
    'True on a node with Citus installed: functions then name shards with org_relation().';

CREATE FUNCTION org_relation(p_table regclass, p_org bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    method "char";
    shard text;
BEGIN
    -- Plain PostgreSQL (no Citus catalog): the table itself.
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN p_table::text;
    END IF;
    SELECT partmethod INTO method FROM pg_catalog.pg_dist_partition WHERE logicalrelid = p_table;
    IF NOT FOUND OR method NOT IN ('h', 'n') THEN
        RETURN p_table::text;
    END IF;
    IF method = 'n' THEN
        shard := shard_name(p_table, get_shard_id_for_distribution_column(p_table));
    ELSE
        shard := shard_name(p_table, get_shard_id_for_distribution_column(p_table, p_org));
    END IF;
    -- Not on this node (e.g. the coordinator): the distributed table, which Citus routes.
    IF to_regclass(shard) IS NULL THEN
        RETURN p_table::text;
    END IF;
    RETURN shard;
END $$;
COMMENT ON FUNCTION org_relation(regclass, bigint) IS
    'The relation holding p_org''s rows of p_table on this node: the table itself on plain PostgreSQL or when no placement is local; on a Citus node, the local shard (distributed table) or placement (reference table).';

-- The link check (0007) over the relation the trigger fired on.
CREATE OR REPLACE FUNCTION entries_link_batch() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
DECLARE
    bad_org bigint;
    bad_idx bigint;
BEGIN
    IF NOT ledger_sharded() THEN
        SELECT n.org_id, n.idx INTO bad_org, bad_idx
        FROM new_entries n
        LEFT JOIN entries p ON p.org_id = n.org_id AND p.idx = n.idx - 1
        WHERE CASE WHEN n.idx = 0
                   THEN n.prev_hash <> '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
                   ELSE p.entry_hash IS DISTINCT FROM n.prev_hash END
        ORDER BY n.idx LIMIT 1;
    ELSE
        EXECUTE format($q$
            SELECT n.org_id, n.idx
            FROM new_entries n
            LEFT JOIN %s p ON p.org_id = n.org_id AND p.idx = n.idx - 1
            WHERE CASE WHEN n.idx = 0
                       THEN n.prev_hash <> '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
                       ELSE p.entry_hash IS DISTINCT FROM n.prev_hash END
            ORDER BY n.idx LIMIT 1$q$, TG_RELID::regclass)
        INTO bad_org, bad_idx;
    END IF;
    IF bad_idx IS NOT NULL THEN
        RAISE EXCEPTION 'entry % of log % does not link to entry %: gap or wrong prev_hash',
            bad_idx, bad_org, bad_idx - 1 USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;

-- balances (0012).
CREATE OR REPLACE FUNCTION balances_from_postings() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    bad record;
    anchor bigint;
BEGIN
    SELECT org_id, entry_idx, currency INTO bad FROM new_postings
    GROUP BY org_id, entry_idx, currency HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'the posting lines of entry % of log % do not balance in %',
            bad.entry_idx, bad.org_id, bad.currency USING ERRCODE = 'check_violation';
    END IF;
    IF NOT ledger_sharded() THEN
        -- Sorted, so concurrent logs never wait on each other's rows in a different order.
        INSERT INTO balances AS b (org_id, account, currency, amount, as_of)
        SELECT org_id, account, currency, sum(amount)::bigint, max(entry_idx)
        FROM new_postings GROUP BY org_id, account, currency ORDER BY org_id, account, currency
        ON CONFLICT (org_id, account, currency)
        DO UPDATE SET amount = b.amount + EXCLUDED.amount, as_of = greatest(b.as_of, EXCLUDED.as_of);
        RETURN NULL;
    END IF;
    SELECT org_id INTO anchor FROM new_postings LIMIT 1;
    IF anchor IS NULL THEN
        RETURN NULL;
    END IF;
    -- Sorted, so concurrent logs never wait on each other's rows in a different order.
    EXECUTE format($q$
        INSERT INTO %s AS b (org_id, account, currency, amount, as_of)
        SELECT org_id, account, currency, sum(amount)::bigint, max(entry_idx)
        FROM new_postings GROUP BY org_id, account, currency ORDER BY org_id, account, currency
        ON CONFLICT (org_id, account, currency)
        DO UPDATE SET amount = b.amount + EXCLUDED.amount, as_of = greatest(b.as_of, EXCLUDED.as_of)$q$,
        org_relation('balances', anchor));
    RETURN NULL;
END $$;

-- fund_totals from money rows (0012).
CREATE OR REPLACE FUNCTION fund_totals_from_money() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    anchor bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM new_money WHERE corrected_by IS NOT NULL) THEN
        RAISE EXCEPTION 'money_entries.corrected_by is set by a corrections row, not on insert'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT ledger_sharded() THEN
        INSERT INTO fund_totals AS t (org_id, fund, kind, amount)
        SELECT org_id, fund, kind, sum(amount)::bigint FROM (
            SELECT org_id, fund, kind, amount FROM new_money WHERE kind <> 'correction'
            UNION ALL
            SELECT org_id, counterparty, 'transfer_in', amount FROM new_money WHERE kind = 'transfer'
        ) m GROUP BY org_id, fund, kind ORDER BY org_id, fund, kind
        ON CONFLICT (org_id, fund, kind) DO UPDATE SET amount = t.amount + EXCLUDED.amount;
        RETURN NULL;
    END IF;
    SELECT org_id INTO anchor FROM new_money LIMIT 1;
    IF anchor IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        INSERT INTO %s AS t (org_id, fund, kind, amount)
        SELECT org_id, fund, kind, sum(amount)::bigint FROM (
            SELECT org_id, fund, kind, amount FROM new_money WHERE kind <> 'correction'
            UNION ALL
            SELECT org_id, counterparty, 'transfer_in', amount FROM new_money WHERE kind = 'transfer'
        ) m GROUP BY org_id, fund, kind ORDER BY org_id, fund, kind
        ON CONFLICT (org_id, fund, kind) DO UPDATE SET amount = t.amount + EXCLUDED.amount$q$,
        org_relation('fund_totals', anchor));
    RETURN NULL;
END $$;

-- corrections (0012): mark the corrected row and take it out of its fund's totals.
CREATE OR REPLACE FUNCTION apply_corrections() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    wanted bigint;
    marked bigint;
    anchor bigint;
    money text;
BEGIN
    IF NOT ledger_sharded() THEN
        SELECT count(*) INTO wanted FROM new_corrections;
        UPDATE money_entries m SET corrected_by = c.entry_idx
        FROM new_corrections c
        WHERE m.org_id = c.org_id AND m.entry_idx = c.corrected AND m.corrected_by IS NULL
          AND m.kind <> 'correction' AND c.entry_idx > c.corrected;
        GET DIAGNOSTICS marked = ROW_COUNT;
        IF marked <> wanted THEN
            RAISE EXCEPTION 'a correction names an entry that is not an uncorrected money entry before it'
                USING ERRCODE = 'check_violation';
        END IF;
        INSERT INTO fund_totals AS t (org_id, fund, kind, amount)
        SELECT org_id, fund, kind, -sum(amount)::bigint FROM (
            SELECT m.org_id, m.fund, m.kind, m.amount FROM new_corrections c
            JOIN money_entries m ON m.org_id = c.org_id AND m.entry_idx = c.corrected
            UNION ALL
            SELECT m.org_id, m.counterparty, 'transfer_in', m.amount FROM new_corrections c
            JOIN money_entries m ON m.org_id = c.org_id AND m.entry_idx = c.corrected
            WHERE m.kind = 'transfer'
        ) r GROUP BY org_id, fund, kind ORDER BY org_id, fund, kind
        ON CONFLICT (org_id, fund, kind) DO UPDATE SET amount = t.amount + EXCLUDED.amount;
        RETURN NULL;
    END IF;
    SELECT count(*), min(org_id) INTO wanted, anchor FROM new_corrections;
    IF wanted = 0 THEN
        RETURN NULL;
    END IF;
    money := org_relation('money_entries', anchor);
    EXECUTE format($q$
        UPDATE %s m SET corrected_by = c.entry_idx
        FROM new_corrections c
        WHERE m.org_id = c.org_id AND m.entry_idx = c.corrected AND m.corrected_by IS NULL
          AND m.kind <> 'correction' AND c.entry_idx > c.corrected$q$, money);
    GET DIAGNOSTICS marked = ROW_COUNT;
    IF marked <> wanted THEN
        RAISE EXCEPTION 'a correction names an entry that is not an uncorrected money entry before it'
            USING ERRCODE = 'check_violation';
    END IF;
    EXECUTE format($q$
        INSERT INTO %s AS t (org_id, fund, kind, amount)
        SELECT org_id, fund, kind, -sum(amount)::bigint FROM (
            SELECT m.org_id, m.fund, m.kind, m.amount FROM new_corrections c
            JOIN %s m ON m.org_id = c.org_id AND m.entry_idx = c.corrected
            UNION ALL
            SELECT m.org_id, m.counterparty, 'transfer_in', m.amount FROM new_corrections c
            JOIN %s m ON m.org_id = c.org_id AND m.entry_idx = c.corrected
            WHERE m.kind = 'transfer'
        ) r GROUP BY org_id, fund, kind ORDER BY org_id, fund, kind
        ON CONFLICT (org_id, fund, kind) DO UPDATE SET amount = t.amount + EXCLUDED.amount$q$,
        org_relation('fund_totals', anchor), money, money);
    RETURN NULL;
END $$;

-- The calendar projections (0016).
CREATE OR REPLACE FUNCTION entries_project_calendar_batch() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    anchor bigint;
BEGIN
    IF NOT ledger_sharded() THEN
        INSERT INTO value_dates (org_id, entry_idx, value_on)
        SELECT n.org_id, n.idx, entry_value_date(n.kind, n.created_at, n.body)
        FROM new_entries n
        WHERE n.kind IN ('donation', 'disbursement', 'transfer', 'fee', 'correction');

        INSERT INTO org_settings (org_id, time_zone, books_open, entry_idx)
        SELECT DISTINCT ON (s.org_id) s.org_id, s.b ->> 'time_zone', (s.b ->> 'books_open')::date, s.idx
        FROM (SELECT n.org_id, n.idx, convert_from(n.body, 'UTF8')::jsonb -> 'body' AS b
              FROM new_entries n WHERE n.kind = 'org.settings') s
        ORDER BY s.org_id, s.idx DESC
        ON CONFLICT (org_id) DO UPDATE
            SET time_zone = EXCLUDED.time_zone, books_open = EXCLUDED.books_open,
                entry_idx = EXCLUDED.entry_idx
            WHERE org_settings.entry_idx < EXCLUDED.entry_idx;
        RETURN NULL;
    END IF;
    SELECT org_id INTO anchor FROM new_entries
    WHERE kind IN ('org.settings', 'donation', 'disbursement', 'transfer', 'fee', 'correction')
    LIMIT 1;
    IF anchor IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        INSERT INTO %s (org_id, entry_idx, value_on)
        SELECT n.org_id, n.idx, entry_value_date(n.kind, n.created_at, n.body)
        FROM new_entries n
        WHERE n.kind IN ('donation', 'disbursement', 'transfer', 'fee', 'correction')$q$,
        org_relation('value_dates', anchor));

    EXECUTE format($q$
        INSERT INTO %1$s AS o (org_id, time_zone, books_open, entry_idx)
        SELECT DISTINCT ON (s.org_id) s.org_id, s.b ->> 'time_zone', (s.b ->> 'books_open')::date, s.idx
        FROM (SELECT n.org_id, n.idx, convert_from(n.body, 'UTF8')::jsonb -> 'body' AS b
              FROM new_entries n WHERE n.kind = 'org.settings') s
        ORDER BY s.org_id, s.idx DESC
        ON CONFLICT (org_id) DO UPDATE
            SET time_zone = EXCLUDED.time_zone, books_open = EXCLUDED.books_open,
                entry_idx = EXCLUDED.entry_idx
            WHERE o.entry_idx < EXCLUDED.entry_idx$q$,
        org_relation('org_settings', anchor));
    RETURN NULL;
END $$;

-- The recipients' projections (0022).
CREATE OR REPLACE FUNCTION entries_project_recipients() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    anchor bigint;
BEGIN
    IF NOT ledger_sharded() THEN
        INSERT INTO beneficiary_keys (org_id, entry_idx, beneficiary, public_key, replaces)
        SELECT s.org_id, s.idx, s.b ->> 'beneficiary', decode(s.b ->> 'public_key', 'base64'),
               (s.b ->> 'replaces')::bigint
        FROM (SELECT n.org_id, n.idx, convert_from(n.body, 'UTF8')::jsonb -> 'body' AS b
              FROM new_entries n WHERE n.kind = 'beneficiary.key') s;

        INSERT INTO acknowledgments (org_id, entry_idx, disbursement_idx, beneficiary, verdict,
                                     received, key_idx)
        SELECT s.org_id, s.idx, (s.b ->> 'disbursement')::bigint, s.b ->> 'beneficiary',
               CASE s.kind WHEN 'disbursement.acknowledged' THEN 'acknowledged' ELSE 'disputed' END,
               (s.b ->> 'received')::bigint, (s.b ->> 'key')::bigint
        FROM (SELECT n.org_id, n.idx, n.kind, convert_from(n.body, 'UTF8')::jsonb -> 'body' AS b
              FROM new_entries n
              WHERE n.kind IN ('disbursement.acknowledged', 'disbursement.disputed')) s;
        RETURN NULL;
    END IF;
    SELECT org_id INTO anchor FROM new_entries
    WHERE kind IN ('beneficiary.key', 'disbursement.acknowledged', 'disbursement.disputed')
    LIMIT 1;
    IF anchor IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        INSERT INTO %s (org_id, entry_idx, beneficiary, public_key, replaces)
        SELECT s.org_id, s.idx, s.b ->> 'beneficiary', decode(s.b ->> 'public_key', 'base64'),
               (s.b ->> 'replaces')::bigint
        FROM (SELECT n.org_id, n.idx, convert_from(n.body, 'UTF8')::jsonb -> 'body' AS b
              FROM new_entries n WHERE n.kind = 'beneficiary.key') s$q$,
        org_relation('beneficiary_keys', anchor));

    EXECUTE format($q$
        INSERT INTO %s (org_id, entry_idx, disbursement_idx, beneficiary, verdict,
                        received, key_idx)
        SELECT s.org_id, s.idx, (s.b ->> 'disbursement')::bigint, s.b ->> 'beneficiary',
               CASE s.kind WHEN 'disbursement.acknowledged' THEN 'acknowledged' ELSE 'disputed' END,
               (s.b ->> 'received')::bigint, (s.b ->> 'key')::bigint
        FROM (SELECT n.org_id, n.idx, n.kind, convert_from(n.body, 'UTF8')::jsonb -> 'body' AS b
              FROM new_entries n
              WHERE n.kind IN ('disbursement.acknowledged', 'disbursement.disputed')) s$q$,
        org_relation('acknowledgments', anchor));
    RETURN NULL;
END $$;

-- The webhook outbox (0019).
CREATE OR REPLACE FUNCTION webhook_outbox_append(p_org bigint, p_events text[], p_payloads jsonb[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    outbox text;
    last bigint;
BEGIN
    -- Until this transaction ends, nobody else numbers this organization's events: numbers
    -- are given and committed in the same order.
    PERFORM pg_advisory_xact_lock(2021112, hashtext(p_org::text));
    IF NOT ledger_sharded() THEN
        SELECT coalesce(max(seq), 0) INTO last FROM webhook_outbox WHERE org_id = p_org;
        INSERT INTO webhook_outbox (org_id, seq, event, payload)
        SELECT p_org, last + u.n, u.event, u.payload
        FROM unnest(p_events, p_payloads) WITH ORDINALITY AS u (event, payload, n);
        RETURN;
    END IF;
    outbox := org_relation('webhook_outbox', p_org);
    EXECUTE format('SELECT coalesce(max(seq), 0) FROM %s WHERE org_id = $1', outbox)
    INTO last USING p_org;
    EXECUTE format($q$
        INSERT INTO %s (org_id, seq, event, payload)
        SELECT $1, $2 + u.n, u.event, u.payload
        FROM unnest($3, $4) WITH ORDINALITY AS u (event, payload, n)$q$, outbox)
    USING p_org, last, p_events, p_payloads;
END $$;

CREATE OR REPLACE FUNCTION webhook_outbox_entries() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
DECLARE
    o record;
    subscribed boolean;
    events text[];
    payloads jsonb[];
BEGIN
    IF NOT ledger_sharded() THEN
        FOR o IN
            SELECT DISTINCT n.org_id FROM new_entries n
            WHERE EXISTS (SELECT 1 FROM webhook_subscriptions s
                          WHERE s.org_id = n.org_id AND s.disabled_at IS NULL)
        LOOP
            PERFORM webhook_outbox_append(o.org_id, array_agg(e.event ORDER BY e.idx, e.k),
                                          array_agg(e.payload ORDER BY e.idx, e.k))
            FROM (
                SELECT n.idx, 0 AS k, 'entry.appended' AS event, jsonb_build_object(
                           'type', 'entry.appended',
                           'timestamp', to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                           'data', jsonb_build_object(
                               'org', g.slug, 'index', n.idx, 'kind', n.kind,
                               'entry_hash', translate(encode(n.entry_hash, 'base64'), E'\n', ''),
                               'leaf_hash', translate(encode(n.leaf_hash, 'base64'), E'\n', ''))) AS payload
                FROM new_entries n JOIN organizations g ON g.id = n.org_id
                WHERE n.org_id = o.org_id
                UNION ALL
                SELECT n.idx, 1, 'statement.issued', jsonb_build_object(
                           'type', 'statement.issued',
                           'timestamp', to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                           'data', jsonb_build_object(
                               'org', g.slug, 'index', n.idx,
                               'statement', convert_from(n.body, 'UTF8')::jsonb -> 'body' -> 'statement'))
                FROM new_entries n JOIN organizations g ON g.id = n.org_id
                WHERE n.org_id = o.org_id AND n.kind = 'statement.issued'
            ) e;
        END LOOP;
        RETURN NULL;
    END IF;
    FOR o IN SELECT DISTINCT n.org_id FROM new_entries n LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s s WHERE s.org_id = $1 AND s.disabled_at IS NULL)',
                       org_relation('webhook_subscriptions', o.org_id))
        INTO subscribed USING o.org_id;
        CONTINUE WHEN NOT subscribed;
        EXECUTE format($q$
            SELECT array_agg(e.event ORDER BY e.idx, e.k), array_agg(e.payload ORDER BY e.idx, e.k)
            FROM (
                SELECT n.idx, 0 AS k, 'entry.appended' AS event, jsonb_build_object(
                           'type', 'entry.appended',
                           'timestamp', to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                           'data', jsonb_build_object(
                               'org', g.slug, 'index', n.idx, 'kind', n.kind,
                               'entry_hash', translate(encode(n.entry_hash, 'base64'), E'\n', ''),
                               'leaf_hash', translate(encode(n.leaf_hash, 'base64'), E'\n', ''))) AS payload
                FROM new_entries n JOIN %1$s g ON g.id = n.org_id
                WHERE n.org_id = $1
                UNION ALL
                SELECT n.idx, 1, 'statement.issued', jsonb_build_object(
                           'type', 'statement.issued',
                           'timestamp', to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                           'data', jsonb_build_object(
                               'org', g.slug, 'index', n.idx,
                               'statement', convert_from(n.body, 'UTF8')::jsonb -> 'body' -> 'statement'))
                FROM new_entries n JOIN %1$s g ON g.id = n.org_id
                WHERE n.org_id = $1 AND n.kind = 'statement.issued'
            ) e$q$, org_relation('organizations', o.org_id))
        INTO events, payloads USING o.org_id;
        PERFORM webhook_outbox_append(o.org_id, events, payloads);
    END LOOP;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION webhook_outbox_checkpoint() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
DECLARE
    subscribed boolean;
    org_slug text;
BEGIN
    IF NOT ledger_sharded() THEN
        IF EXISTS (SELECT 1 FROM webhook_subscriptions s
                   WHERE s.org_id = NEW.org_id AND s.disabled_at IS NULL) THEN
            PERFORM webhook_outbox_append(NEW.org_id, ARRAY['checkpoint.signed'], ARRAY[
                jsonb_build_object(
                    'type', 'checkpoint.signed',
                    'timestamp', to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                    'data', jsonb_build_object(
                        'org', (SELECT slug FROM organizations WHERE id = NEW.org_id),
                        'size', NEW.tree_size,
                        'root', translate(encode(NEW.root, 'base64'), E'\n', ''),
                        'note', NEW.note))]);
        END IF;
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s s WHERE s.org_id = $1 AND s.disabled_at IS NULL)',
                   org_relation('webhook_subscriptions', NEW.org_id))
    INTO subscribed USING NEW.org_id;
    IF subscribed THEN
        EXECUTE format('SELECT slug FROM %s WHERE id = $1', org_relation('organizations', NEW.org_id))
        INTO org_slug USING NEW.org_id;
        PERFORM webhook_outbox_append(NEW.org_id, ARRAY['checkpoint.signed'], ARRAY[
            jsonb_build_object(
                'type', 'checkpoint.signed',
                'timestamp', to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                'data', jsonb_build_object(
                    'org', org_slug,
                    'size', NEW.tree_size,
                    'root', translate(encode(NEW.root, 'base64'), E'\n', ''),
                    'note', NEW.note))]);
    END IF;
    RETURN NULL;
END $$;

-- The writer's probes (0009, 0013), as PL/pgSQL.
CREATE OR REPLACE FUNCTION existing_donation_references(p_org bigint, p_refs text[])
RETURNS SETOF text LANGUAGE plpgsql STABLE
SET enable_seqscan = off SET enable_bitmapscan = off
AS $$
BEGIN
    IF NOT ledger_sharded() THEN
        RETURN QUERY
        SELECT m.reference
        FROM unnest(p_refs) AS want (reference)
        CROSS JOIN LATERAL (
            SELECT money_entries.reference FROM money_entries
            WHERE org_id = p_org AND kind = 'donation' AND money_entries.reference IS NOT NULL
              AND corrected_by IS NULL AND money_entries.reference = want.reference
            LIMIT 1
        ) m;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format($q$
        SELECT m.reference
        FROM unnest($2) AS want (reference)
        CROSS JOIN LATERAL (
            SELECT reference FROM %s
            WHERE org_id = $1 AND kind = 'donation' AND reference IS NOT NULL
              AND corrected_by IS NULL AND reference = want.reference
            LIMIT 1
        ) m$q$, org_relation('money_entries', p_org))
    USING p_org, p_refs;
END $$;

CREATE OR REPLACE FUNCTION existing_idempotency_keys(p_org bigint, p_keys text[])
RETURNS TABLE (key text, request_hash bytea, status smallint, response bytea)
LANGUAGE plpgsql STABLE
SET enable_seqscan = off SET enable_bitmapscan = off
AS $$
BEGIN
    IF NOT ledger_sharded() THEN
        RETURN QUERY
        SELECT k.key, k.request_hash, k.status, k.response
        FROM unnest(p_keys) AS want (key)
        CROSS JOIN LATERAL (
            SELECT i.key, i.request_hash, i.status, i.response FROM idempotency_keys i
            WHERE i.org_id = p_org AND i.key = want.key
            LIMIT 1
        ) k;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format($q$
        SELECT k.key, k.request_hash, k.status, k.response
        FROM unnest($2) AS want (key)
        CROSS JOIN LATERAL (
            SELECT i.key, i.request_hash, i.status, i.response FROM %s i
            WHERE i.org_id = $1 AND i.key = want.key
            LIMIT 1
        ) k$q$, org_relation('idempotency_keys', p_org))
    USING p_org, p_keys;
END $$;

-- What admitting a batch reads (0023): same signature, same result.
CREATE OR REPLACE FUNCTION admit_lookups(
    p_org bigint, p_funds text[], p_bens text[], p_accounts text[], p_refs text[], p_keys text[]
) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    result jsonb;
BEGIN
    IF NOT ledger_sharded() THEN
        RETURN jsonb_build_object(
            'funds', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                          f.code, f.entry_idx, f.name, f.currency, f.earmark, f.fee_cap_bps,
                          f.minor_units)), '[]')
                      FROM funds f WHERE f.org_id = p_org AND f.code = ANY (p_funds)),
            'beneficiaries', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                          b.code, b.version, b.entry_idx, b.name, b.city, b.province, b.registration)), '[]')
                      FROM (SELECT DISTINCT ON (code) * FROM beneficiary_versions
                            WHERE org_id = p_org AND code = ANY (p_bens)
                            ORDER BY code, version DESC) b),
            'balances', (SELECT coalesce(jsonb_agg(jsonb_build_array(a.account, a.currency, a.amount)), '[]')
                      FROM balances a WHERE a.org_id = p_org AND a.account = ANY (p_accounts)),
            'refs', (SELECT coalesce(jsonb_agg(r), '[]')
                      FROM existing_donation_references(p_org, p_refs) r),
            'keys', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                          k.key, translate(encode(k.request_hash, 'base64'), E'\n', ''), k.status,
                          translate(encode(k.response, 'base64'), E'\n', ''))), '[]')
                      FROM existing_idempotency_keys(p_org, p_keys) k),
            'calendar', (SELECT jsonb_build_array(
                          to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                          s.time_zone, s.books_open)
                      FROM entries e LEFT JOIN org_settings s ON s.org_id = e.org_id
                      WHERE e.org_id = p_org AND e.idx = 0),
            'compliance', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.idx, c.kind, c.b)
                                                     ORDER BY c.idx), '[]')
                      FROM (SELECT e.idx, e.kind, convert_from(e.body, 'UTF8')::jsonb -> 'body' AS b
                            FROM entries e
                            WHERE e.org_id = p_org AND e.kind IN ('fund.classified', 'fund.permit')
                              AND cardinality(p_funds) > 0) c
                      WHERE c.b ->> 'fund' = ANY (p_funds))
        );
    END IF;
    EXECUTE format($q$
    SELECT jsonb_build_object(
        'funds', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                      f.code, f.entry_idx, f.name, f.currency, f.earmark, f.fee_cap_bps,
                      f.minor_units)), '[]')
                  FROM %1$s f WHERE f.org_id = $1 AND f.code = ANY ($2)),
        'beneficiaries', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                      b.code, b.version, b.entry_idx, b.name, b.city, b.province, b.registration)), '[]')
                  FROM (SELECT DISTINCT ON (code) * FROM %2$s
                        WHERE org_id = $1 AND code = ANY ($3)
                        ORDER BY code, version DESC) b),
        'balances', (SELECT coalesce(jsonb_agg(jsonb_build_array(a.account, a.currency, a.amount)), '[]')
                  FROM %3$s a WHERE a.org_id = $1 AND a.account = ANY ($4)),
        'refs', (SELECT coalesce(jsonb_agg(r), '[]')
                  FROM existing_donation_references($1, $5) r),
        'keys', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                      k.key, translate(encode(k.request_hash, 'base64'), E'\n', ''), k.status,
                      translate(encode(k.response, 'base64'), E'\n', ''))), '[]')
                  FROM existing_idempotency_keys($1, $6) k),
        'calendar', (SELECT jsonb_build_array(
                      to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                      s.time_zone, s.books_open)
                  FROM %4$s e LEFT JOIN %5$s s ON s.org_id = e.org_id
                  WHERE e.org_id = $1 AND e.idx = 0),
        'compliance', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.idx, c.kind, c.b)
                                                 ORDER BY c.idx), '[]')
                  FROM (SELECT e.idx, e.kind, convert_from(e.body, 'UTF8')::jsonb -> 'body' AS b
                        FROM %4$s e
                        WHERE e.org_id = $1 AND e.kind IN ('fund.classified', 'fund.permit')
                          AND cardinality($2) > 0) c
                  WHERE c.b ->> 'fund' = ANY ($2))
    )$q$,
        org_relation('funds', p_org), org_relation('beneficiary_versions', p_org),
        org_relation('balances', p_org), org_relation('entries', p_org),
        org_relation('org_settings', p_org))
    INTO result USING p_org, p_funds, p_bens, p_accounts, p_refs, p_keys;
    RETURN result;
END $$;
