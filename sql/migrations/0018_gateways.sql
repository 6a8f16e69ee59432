-- 0018: payment-gateway ingestion (ledger/ingest/): connections and a notification inbox.
--
-- A charity connects a gateway (Midtrans, Xendit) to its organization: the gateway's secret
-- (Midtrans server key, Xendit callback token) is stored sealed under the key-encryption
-- key, like the signing keys (ledger/ingest/credentials.py), together with the rule that
-- picks the fund of each payment. A change is a new version row; the newest one counts, the
-- older ones stay (who could verify what, when).
--
-- Verified notifications land in gateway_notifications before anything is recorded, so a
-- refund that arrives before its settlement waits there and is never lost. The log learns
-- of a payment only through ledger/ingest/payments.py, which derives what to append from
-- these rows and from the donations already recorded under the payment's reference (one
-- transaction, under a per-payment advisory lock). Nothing here is part of the log: the
-- entries commit to each notification's SHA-256, and this inbox keeps the bodies so that an
-- auditor can check them. Both tables are append-only for everyone.

CREATE TABLE gateway_connections (
    org_id         bigint NOT NULL REFERENCES organizations (id),
    gateway        text NOT NULL CHECK (gateway IN ('midtrans', 'xendit')),
    version        integer NOT NULL CHECK (version >= 1),
    sealed_secret  bytea NOT NULL CHECK (length(sealed_secret) > 28),
    fund_rule      jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, gateway, version)
);
COMMENT ON TABLE gateway_connections IS 'Payment gateways connected to an organization; a change is a new version, the newest one counts.';
COMMENT ON COLUMN gateway_connections.org_id IS 'The organization whose notifications these are.';
COMMENT ON COLUMN gateway_connections.gateway IS 'Which gateway: midtrans or xendit.';
COMMENT ON COLUMN gateway_connections.version IS '1, then +1 per change; the highest is in force.';
COMMENT ON COLUMN gateway_connections.sealed_secret IS 'The Midtrans server key or Xendit callback token, AES-256-GCM under the KEK (nonce || ciphertext || tag), bound to organization, gateway and version; never stored or logged in the clear.';
COMMENT ON COLUMN gateway_connections.fund_rule IS 'How a payment picks its fund (schemas.gateways.FundRule): by order-id prefix or by a custom field.';
COMMENT ON COLUMN gateway_connections.created_at IS 'When this version was stored.';

CREATE TABLE gateway_notifications (
    org_id        bigint NOT NULL REFERENCES organizations (id),
    gateway       text NOT NULL CHECK (gateway IN ('midtrans', 'xendit')),
    payment_id    text NOT NULL CHECK (length(payment_id) BETWEEN 1 AND 100),
    event         text NOT NULL CHECK (length(event) BETWEEN 1 AND 100),
    kind          text NOT NULL CHECK (kind IN ('settled', 'refunded')),
    fund          text NOT NULL,
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    gross         bigint NOT NULL CHECK (gross > 0),
    refunded      bigint NOT NULL CHECK (refunded >= 0 AND refunded <= gross),
    channel       text NOT NULL,
    occurred_at   timestamptz NOT NULL,
    body_sha256   bytea NOT NULL CHECK (length(body_sha256) = 32),
    body          bytea NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, gateway, payment_id, event)
);
COMMENT ON TABLE gateway_notifications IS 'Verified gateway notifications that move money (settlements, refunds), kept before and after they are recorded; a duplicate delivery adds nothing.';
COMMENT ON COLUMN gateway_notifications.org_id IS 'The organization the notification was sent to.';
COMMENT ON COLUMN gateway_notifications.gateway IS 'midtrans or xendit.';
COMMENT ON COLUMN gateway_notifications.payment_id IS 'The gateway''s payment identity: Midtrans order_id, Xendit payment or invoice id; the donation reference is "<gateway>:<payment_id>".';
COMMENT ON COLUMN gateway_notifications.event IS 'What makes a delivery new: "settlement" or "refund:<refunded total>" (Midtrans: the transaction status, and for refunds the refunded total, since partial refunds repeat the status).';
COMMENT ON COLUMN gateway_notifications.kind IS 'settled: the payment is final and becomes a donation; refunded: some or all of it went back.';
COMMENT ON COLUMN gateway_notifications.fund IS 'The fund the connection''s rule chose for the payment.';
COMMENT ON COLUMN gateway_notifications.currency IS 'ISO 4217 currency of the amounts.';
COMMENT ON COLUMN gateway_notifications.gross IS 'The payment''s amount in minor units, parsed exactly with the fund''s recorded exponent.';
COMMENT ON COLUMN gateway_notifications.refunded IS 'The refunded total so far, in minor units (0 for a settlement).';
COMMENT ON COLUMN gateway_notifications.channel IS 'Donation channel derived from the payment type (qris, e_wallet, bank_transfer, card, payment_gateway).';
COMMENT ON COLUMN gateway_notifications.occurred_at IS 'When the money moved, per the gateway (settlement or refund time); its date in the organization''s zone is the value date.';
COMMENT ON COLUMN gateway_notifications.body_sha256 IS 'SHA-256 of the exact body received; the entries it leads to commit to it.';
COMMENT ON COLUMN gateway_notifications.body IS 'The exact body received (evidence for auditors; not public).';
COMMENT ON COLUMN gateway_notifications.received_at IS 'When the ledger received it first.';

CREATE TRIGGER gateway_connections_append_only BEFORE UPDATE OR DELETE ON gateway_connections
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER gateway_connections_no_truncate BEFORE TRUNCATE ON gateway_connections
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER gateway_notifications_append_only BEFORE UPDATE OR DELETE ON gateway_notifications
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER gateway_notifications_no_truncate BEFORE TRUNCATE ON gateway_notifications
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The money entries of a reference, reversed or not (the exclusion constraint's index of
-- migration 0013 holds only unreversed donations): what a gateway payment already recorded,
-- and the entry filter ?reference= (migration 0019).
CREATE INDEX money_entries_by_reference ON money_entries (org_id, reference, entry_idx)
    WHERE reference IS NOT NULL;
COMMENT ON INDEX money_entries_by_reference IS
    'Every money entry of a reference, reversed or not (gateway payments, entry filters).';

-- Least privilege: the service adds rows and reads them; it never changes or deletes one.
REVOKE ALL ON gateway_connections, gateway_notifications FROM PUBLIC;
GRANT SELECT, INSERT ON gateway_connections, gateway_notifications TO ledger_writer;
