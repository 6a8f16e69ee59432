-- 0019: bank statement imports (ledger/ingest/bankimports.py), signed outbound webhooks
-- (ledger/journal/webhooks.py), and the index of the entry filter ?kind= (ledger/store/filters.py).
--
-- A charity imports its bank's CSV export (mutasi rekening): credit lines become donations
-- (reference: the bank's, or one derived from the line), debit lines are only offered as
-- disbursement candidates. A commit is all or nothing and idempotent twice over: per line,
-- by reference (a line whose reference an unreversed donation holds is skipped), and per
-- file, by the SHA-256 of its bytes: the row below is written in the same transaction as the
-- file's donations, so a file is imported at most once and a second commit gets the
-- first one's answer. The file itself is not kept (its lines name people).

CREATE TABLE bank_imports (
    org_id            bigint NOT NULL REFERENCES organizations (id),
    sha256            bytea NOT NULL CHECK (length(sha256) = 32),
    layout            text NOT NULL CHECK (length(layout) BETWEEN 1 AND 40),
    fund              text NOT NULL,
    lines             integer NOT NULL CHECK (lines >= 0),
    recorded          integer NOT NULL CHECK (recorded >= 0),
    already_recorded  integer NOT NULL CHECK (already_recorded >= 0),
    first_index       bigint,
    last_index        bigint,
    imported_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, sha256),
    CHECK ((recorded = 0) = (first_index IS NULL AND last_index IS NULL))
);
COMMENT ON TABLE bank_imports IS 'Bank statement files imported, one row per file, written in the same transaction as its donations.';
COMMENT ON COLUMN bank_imports.org_id IS 'The organization that imported it.';
COMMENT ON COLUMN bank_imports.sha256 IS 'SHA-256 of the file''s bytes: a file is imported at most once.';
COMMENT ON COLUMN bank_imports.layout IS 'The layout it was read with (bca, mandiri, bri, or a mapping file''s name).';
COMMENT ON COLUMN bank_imports.fund IS 'The fund its credits went to.';
COMMENT ON COLUMN bank_imports.lines IS 'Transaction lines read (credits and debits, excluded lines left out).';
COMMENT ON COLUMN bank_imports.recorded IS 'Donations this import appended.';
COMMENT ON COLUMN bank_imports.already_recorded IS 'Credit lines skipped because the ledger held their reference already.';
COMMENT ON COLUMN bank_imports.first_index IS 'Index of the first donation appended (NULL when none).';
COMMENT ON COLUMN bank_imports.last_index IS 'Index of the last donation appended (NULL when none).';
COMMENT ON COLUMN bank_imports.imported_at IS 'When the import committed.';

CREATE TRIGGER bank_imports_append_only BEFORE UPDATE OR DELETE ON bank_imports
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER bank_imports_no_truncate BEFORE TRUNCATE ON bank_imports
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

REVOKE ALL ON bank_imports FROM PUBLIC;
GRANT SELECT, INSERT ON bank_imports TO ledger_writer;

-- Signed outbound webhooks (Standard Webhooks: webhook-id, webhook-timestamp,
-- webhook-signature = v1,base64(HMAC-SHA256(secret, id.timestamp.body))).
--
-- An admin subscribes a URL of the organization to events: entry.appended, checkpoint.signed,
-- statement.issued. The outbox is written by the database itself, in the same transaction as
-- what it announces (triggers on entries and checkpoints), so an event exists if and only if
-- its entry or checkpoint committed. Per organization the outbox is numbered 1, 2, 3, ... in
-- commit order: the triggers take a per-organization advisory lock until their transaction
-- ends, so a later number never commits before an earlier one and a deliverer reading "after
-- my cursor" skips nothing. Deliveries are at least once and in order per subscription: the
-- cursor moves past an event only after the receiver answered 2xx; every attempt is logged.

CREATE TABLE webhook_subscriptions (
    id             uuid PRIMARY KEY,
    org_id         bigint NOT NULL REFERENCES organizations (id),
    url            text NOT NULL CHECK (url ~ '^https?://[^[:space:]]+$' AND length(url) <= 2000),
    sealed_secret  bytea NOT NULL CHECK (length(sealed_secret) > 28),
    events         text[] NOT NULL CHECK (cardinality(events) > 0 AND events <@
                       ARRAY['entry.appended', 'checkpoint.signed', 'statement.issued']),
    created_at     timestamptz NOT NULL DEFAULT now(),
    disabled_at    timestamptz
);
CREATE INDEX webhook_subscriptions_org ON webhook_subscriptions (org_id) WHERE disabled_at IS NULL;
COMMENT ON TABLE webhook_subscriptions IS 'Where an organization''s events are delivered, signed per Standard Webhooks.';
COMMENT ON COLUMN webhook_subscriptions.id IS 'Public id of the subscription.';
COMMENT ON COLUMN webhook_subscriptions.org_id IS 'The organization whose events these are.';
COMMENT ON COLUMN webhook_subscriptions.url IS 'The receiver (http or https).';
COMMENT ON COLUMN webhook_subscriptions.sealed_secret IS 'The whsec_ signing secret, AES-256-GCM under the KEK, bound to the subscription id; shown once when created.';
COMMENT ON COLUMN webhook_subscriptions.events IS 'The event types delivered to it.';
COMMENT ON COLUMN webhook_subscriptions.created_at IS 'When it was created: only later events are delivered.';
COMMENT ON COLUMN webhook_subscriptions.disabled_at IS 'When an admin removed it; nothing is delivered after.';

CREATE TABLE webhook_outbox (
    org_id      bigint NOT NULL REFERENCES organizations (id),
    seq         bigint NOT NULL CHECK (seq >= 1),
    event       text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, seq)
);
COMMENT ON TABLE webhook_outbox IS 'Events to deliver, written by triggers in the transaction of the entry or checkpoint they announce (only while the organization has a subscription).';
COMMENT ON COLUMN webhook_outbox.org_id IS 'The organization.';
COMMENT ON COLUMN webhook_outbox.seq IS '1, 2, 3, ... per organization, in commit order; the webhook-id is msg_<org>_<seq>.';
COMMENT ON COLUMN webhook_outbox.event IS 'entry.appended, checkpoint.signed or statement.issued.';
COMMENT ON COLUMN webhook_outbox.payload IS 'The JSON body sent: {"type", "timestamp", "data"}; public facts only (no personal data).';
COMMENT ON COLUMN webhook_outbox.created_at IS 'When the event was written.';

CREATE TABLE webhook_cursors (
    subscription_id  uuid PRIMARY KEY REFERENCES webhook_subscriptions (id),
    delivered_seq    bigint NOT NULL CHECK (delivered_seq >= 0),
    failures         integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE webhook_cursors IS 'How far each subscription was delivered, and when to try again after a failure.';
COMMENT ON COLUMN webhook_cursors.subscription_id IS 'The subscription.';
COMMENT ON COLUMN webhook_cursors.delivered_seq IS 'Every event of the organization up to this seq was delivered (or is not of a subscribed type).';
COMMENT ON COLUMN webhook_cursors.failures IS 'Failed attempts in a row at the next event (0 after a success): the backoff grows with it.';
COMMENT ON COLUMN webhook_cursors.next_attempt_at IS 'No attempt before this time (exponential backoff).';

CREATE TABLE webhook_deliveries (
    subscription_id  uuid NOT NULL REFERENCES webhook_subscriptions (id),
    seq              bigint NOT NULL,
    attempt          integer NOT NULL CHECK (attempt >= 1),
    attempted_at     timestamptz NOT NULL DEFAULT now(),
    status           smallint,
    error            text,
    duration_ms      integer NOT NULL CHECK (duration_ms >= 0),
    PRIMARY KEY (subscription_id, seq, attempt)
);
COMMENT ON TABLE webhook_deliveries IS 'The delivery log: every attempt and its outcome.';
COMMENT ON COLUMN webhook_deliveries.subscription_id IS 'The subscription.';
COMMENT ON COLUMN webhook_deliveries.seq IS 'The event (webhook_outbox.seq of the subscription''s organization).';
COMMENT ON COLUMN webhook_deliveries.attempt IS '1 for the first attempt at this event, then +1.';
COMMENT ON COLUMN webhook_deliveries.attempted_at IS 'When it was sent.';
COMMENT ON COLUMN webhook_deliveries.status IS 'The receiver''s HTTP status; NULL when no answer came.';
COMMENT ON COLUMN webhook_deliveries.error IS 'Why it failed, when it did (connection refused, timeout, status).';
COMMENT ON COLUMN webhook_deliveries.duration_ms IS 'How long the attempt took.';

CREATE FUNCTION webhook_outbox_append(p_org bigint, p_events text[], p_payloads jsonb[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    last bigint;
BEGIN
    -- Until this transaction ends, nobody else numbers this organization's events: numbers
    -- are given and committed in the same order.
    PERFORM pg_advisory_xact_lock(2021112, hashtext(p_org::text));
    SELECT coalesce(max(seq), 0) INTO last FROM webhook_outbox WHERE org_id = p_org;
    INSERT INTO webhook_outbox (org_id, seq, event, payload)
    SELECT p_org, last + u.n, u.event, u.payload
    FROM unnest(p_events, p_payloads) WITH ORDINALITY AS u (event, payload, n);
END $$;

CREATE FUNCTION webhook_outbox_entries() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
DECLARE
    o record;
BEGIN
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
END $$;
CREATE TRIGGER entries_webhook_outbox AFTER INSERT ON entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_outbox_entries();

CREATE FUNCTION webhook_outbox_checkpoint() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
BEGIN
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
END $$;
CREATE TRIGGER checkpoints_webhook_outbox AFTER INSERT ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION webhook_outbox_checkpoint();

CREATE TRIGGER webhook_outbox_append_only BEFORE UPDATE OR DELETE ON webhook_outbox
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER webhook_deliveries_append_only BEFORE UPDATE OR DELETE ON webhook_deliveries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Least privilege: the outbox is written only by the triggers (as the schema owner); the
-- service reads it, manages subscriptions (disabling is its only change), moves cursors and
-- appends to the delivery log.
REVOKE ALL ON webhook_subscriptions, webhook_outbox, webhook_cursors, webhook_deliveries
    FROM PUBLIC;
REVOKE ALL ON FUNCTION webhook_outbox_append(bigint, text[], jsonb[]) FROM PUBLIC;
GRANT SELECT, INSERT ON webhook_subscriptions, webhook_deliveries TO ledger_writer;
GRANT UPDATE (disabled_at) ON webhook_subscriptions TO ledger_writer;
GRANT SELECT ON webhook_outbox TO ledger_writer;
GRANT SELECT, INSERT, UPDATE (delivered_seq, failures, next_attempt_at) ON webhook_cursors
    TO ledger_writer;

-- Entry filters (GET …/entries?kind=&fund=&from=&to=&reference=): each filter has an index to
-- start from, in log order: kind (below), fund (postings_account, 0002), value dates
-- (value_dates_by_date, 0014; the primary key of value_dates for log order), reference
-- (money_entries_by_reference, 0018).
CREATE INDEX entries_by_kind ON entries (org_id, kind, idx);
COMMENT ON INDEX entries_by_kind IS 'Entries of one kind in log order (the entry filter ?kind=).';
