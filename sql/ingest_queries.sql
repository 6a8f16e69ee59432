-- Named queries of payment-gateway ingestion (ledger/store/gateways.py; migration 0018).
-- Each block starts with "-- name: <name>" and runs until the next such line.

-- name: insert_gateway_connection
-- A new version of an organization's connection to a gateway (the caller sealed the secret
-- for that version number). Two admins saving the same version at once: one of them gets a
-- primary-key violation and is told to send it again.
INSERT INTO gateway_connections (org_id, gateway, version, sealed_secret, fund_rule)
VALUES ($1, $2, $3, $4, $5::jsonb)
RETURNING created_at;

-- name: gateway_connection
-- The connection in force: the newest version.
SELECT version, sealed_secret, fund_rule::text AS fund_rule, created_at
FROM gateway_connections WHERE org_id = $1 AND gateway = $2
ORDER BY version DESC LIMIT 1;

-- name: gateway_connections
-- Every gateway's connection in force (without secrets' use: the caller shows no secret).
SELECT DISTINCT ON (gateway) gateway, version, fund_rule::text AS fund_rule, created_at
FROM gateway_connections WHERE org_id = $1
ORDER BY gateway, version DESC;

-- name: insert_gateway_notification
-- Keeps a verified notification once; a duplicate delivery (same payment and event) adds
-- nothing. Returns whether the row is new.
INSERT INTO gateway_notifications (org_id, gateway, payment_id, event, kind, fund, currency,
                                   gross, refunded, channel, occurred_at, body_sha256, body)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (org_id, gateway, payment_id, event) DO NOTHING
RETURNING true AS new;

-- name: keep_gateway_settlements
-- Keeps the settlements whose donations the group commit is appending, in its transaction
-- (under the log-head lock, after the entries' insert), once per payment and event like
-- insert_gateway_notification; returns the payments among them of which a refund was kept
-- (their requests then reconcile them). The select's snapshot is taken after the head lock
-- was granted: a refund kept before that is seen here, and one kept after it is reconciled
-- by its own request, which reads under the head lock too, so after this commit.
WITH kept AS (
    INSERT INTO gateway_notifications (org_id, gateway, payment_id, event, kind, fund, currency,
                                       gross, refunded, channel, occurred_at, body_sha256, body)
    SELECT $1, n.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                               $7::text[], $8::bigint[], $9::bigint[], $10::text[],
                               $11::timestamptz[], $12::bytea[], $13::bytea[]) AS n
    ON CONFLICT (org_id, gateway, payment_id, event) DO NOTHING
)
SELECT DISTINCT g.gateway, g.payment_id
FROM gateway_notifications g
JOIN unnest($2::text[], $3::text[]) AS p (gateway, payment_id)
  ON g.gateway = p.gateway AND g.payment_id = p.payment_id
WHERE g.org_id = $1 AND g.kind = 'refunded';

-- name: gateway_payment_has_refunds
-- Whether a refund of the payment was kept (a settlement then goes through reconcile).
SELECT EXISTS (SELECT 1 FROM gateway_notifications
               WHERE org_id = $1 AND gateway = $2 AND payment_id = $3 AND kind = 'refunded');

-- name: lock_gateway_payment
-- Serializes the reconciliation of one payment (every process, until the transaction ends);
-- taken before the log-head lock, always in that order. Class 0x1ED6E5 + 17 keeps these
-- keys apart from the other advisory locks.
SELECT pg_advisory_xact_lock(2021110, hashtext($1::bigint || ':' || $2 || ':' || $3));

-- name: gateway_payment_notifications
-- What the gateway said of one payment, oldest first.
SELECT event, kind, fund, currency, gross, refunded, channel, occurred_at, body_sha256
FROM gateway_notifications WHERE org_id = $1 AND gateway = $2 AND payment_id = $3
ORDER BY received_at, event;

-- name: donations_by_reference
-- Every donation recorded under a reference, reversed or not, in log order
-- (index money_entries_by_reference, migration 0018).
SELECT entry_idx, fund, currency, amount, corrected_by
FROM money_entries
WHERE org_id = $1 AND kind = 'donation' AND reference = $2 AND reference IS NOT NULL
ORDER BY entry_idx;

-- name: recorded_references
-- Which of these references an unreversed donation holds (migration 0013's function).
SELECT r AS reference FROM existing_donation_references($1, $2::text[]) r;

-- name: lock_bank_import
-- Serializes commits of one file (every process, until the transaction ends).
SELECT pg_advisory_xact_lock(2021111, hashtext($1::bigint || ':' || encode($2::bytea, 'hex')));

-- name: bank_import
SELECT layout, fund, lines, recorded, already_recorded, first_index, last_index
FROM bank_imports WHERE org_id = $1 AND sha256 = $2;

-- name: recent_bank_imports
-- The organization's newest imported statement files (the console's dashboard), newest first.
SELECT layout, fund, lines, recorded, already_recorded, first_index, last_index, imported_at
FROM bank_imports WHERE org_id = $1 ORDER BY imported_at DESC LIMIT $2;

-- name: insert_bank_import
INSERT INTO bank_imports (org_id, sha256, layout, fund, lines, recorded, already_recorded,
                          first_index, last_index)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- --- signed outbound webhooks (ledger/store/webhooks.py; migration 0019) -------------------

-- name: insert_webhook_subscription
-- A subscription and its cursor at the organization's newest event: only later events are
-- delivered to it.
WITH sub AS (
    INSERT INTO webhook_subscriptions (id, org_id, url, sealed_secret, events)
    VALUES ($1, $2, $3, $4, $5::text[])
    RETURNING id, created_at
), cur AS (
    INSERT INTO webhook_cursors (subscription_id, delivered_seq)
    SELECT $1, coalesce((SELECT max(seq) FROM webhook_outbox WHERE org_id = $2), 0)
)
SELECT created_at FROM sub;

-- name: webhook_subscriptions
SELECT s.id, s.url, s.events, s.created_at, c.delivered_seq, c.failures, c.next_attempt_at
FROM webhook_subscriptions s JOIN webhook_cursors c ON c.subscription_id = s.id
WHERE s.org_id = $1 AND s.disabled_at IS NULL
ORDER BY s.created_at, s.id;

-- name: disable_webhook_subscription
UPDATE webhook_subscriptions SET disabled_at = now()
WHERE id = $1 AND org_id = $2 AND disabled_at IS NULL
RETURNING id;

-- name: due_webhook_subscriptions
-- Active subscriptions with an undelivered event of their types whose backoff has passed.
-- A join, not a correlated EXISTS: on Citus (README "Scaling out") the outbox is distributed
-- and the subscriptions are a reference table, and Citus plans no correlated subquery over a
-- reference table; the join runs on every worker's shards of the outbox.
SELECT s.id, s.org_id, s.url, s.sealed_secret, s.events
FROM webhook_subscriptions s
JOIN webhook_cursors c ON c.subscription_id = s.id
JOIN webhook_outbox o ON o.org_id = s.org_id AND o.seq > c.delivered_seq AND o.event = ANY (s.events)
WHERE s.disabled_at IS NULL AND c.next_attempt_at <= now()
GROUP BY s.id, s.org_id, s.url, s.sealed_secret, s.events;

-- name: lock_webhook_cursor
-- One deliverer per subscription at a time (every process): skip it if another holds it.
SELECT delivered_seq, failures, next_attempt_at <= now() AS due
FROM webhook_cursors WHERE subscription_id = $1 FOR UPDATE SKIP LOCKED;

-- name: pending_webhook_events
SELECT seq, payload::text AS payload
FROM webhook_outbox
WHERE org_id = $1 AND seq > $2 AND event = ANY ($3::text[])
ORDER BY seq LIMIT $4;

-- name: webhook_delivered
UPDATE webhook_cursors SET delivered_seq = $2, failures = 0, next_attempt_at = now()
WHERE subscription_id = $1;

-- name: webhook_failed
UPDATE webhook_cursors
SET failures = failures + 1, next_attempt_at = now() + make_interval(secs => $2)
WHERE subscription_id = $1;

-- name: insert_webhook_deliveries
-- The attempts of one delivery transaction (ledger/journal/webhooks.py deliver).
INSERT INTO webhook_deliveries (subscription_id, seq, attempt, status, error, duration_ms)
SELECT $1, u.seq, u.attempt, u.status, u.error, u.duration_ms
FROM unnest($2::bigint[], $3::integer[], $4::smallint[], $5::text[], $6::integer[])
    AS u (seq, attempt, status, error, duration_ms);

-- name: webhook_deliveries
SELECT d.seq, d.attempt, d.attempted_at, d.status, d.error, d.duration_ms
FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
WHERE d.subscription_id = $1 AND s.org_id = $2
ORDER BY d.attempted_at DESC, d.seq DESC, d.attempt DESC LIMIT $3;

-- name: save_bank_layout
-- A custom layout (migration 0024), created or replaced.
INSERT INTO bank_layouts (org_id, name, layout) VALUES ($1, $2, $3::jsonb)
ON CONFLICT (org_id, name) DO UPDATE SET layout = EXCLUDED.layout, updated_at = now();

-- name: bank_layout
SELECT layout::text FROM bank_layouts WHERE org_id = $1 AND name = $2;

-- name: bank_layouts
SELECT name, layout::text FROM bank_layouts WHERE org_id = $1 ORDER BY name;
