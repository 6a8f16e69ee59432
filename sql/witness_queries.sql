-- Named queries of the witness (ledger/witness/), executed by ledger/store/witness.py.

-- name: witness_key
SELECT name, public_key, sealed_seed FROM witness_keys WHERE name = $1;

-- name: any_witness_key
SELECT name, public_key, sealed_seed FROM witness_keys ORDER BY created_at LIMIT 1;

-- name: insert_witness_key
INSERT INTO witness_keys (name, public_key, sealed_seed) VALUES ($1, $2, $3);

-- name: add_log
INSERT INTO witness_logs (origin, vkeys) VALUES ($1, $2)
ON CONFLICT (origin) DO UPDATE SET vkeys = EXCLUDED.vkeys;

-- name: add_state
INSERT INTO witness_state (origin) VALUES ($1) ON CONFLICT (origin) DO NOTHING;

-- name: log_keys
SELECT vkeys FROM witness_logs WHERE origin = $1;

-- name: lock_state
-- The compare-and-swap: one submission per log at a time sees and moves the state.
SELECT size, root FROM witness_state WHERE origin = $1 FOR UPDATE;

-- name: advance_state
UPDATE witness_state SET size = $2, root = $3, updated_at = now() WHERE origin = $1;

-- name: record_cosigned
-- cosigned_at is the cosignature's own timestamp ($5, seconds), so the cosignature can be
-- made again, byte for byte (Ed25519 is deterministic), for latest_cosigned.
INSERT INTO witness_cosigned (origin, size, root, checkpoint, cosigned_at)
VALUES ($1, $2, $3, $4, to_timestamp($5))
ON CONFLICT (origin, size) DO NOTHING;

-- name: latest_cosigned
-- The largest checkpoint cosigned for the log whose origin hashes (SHA-256, lowercase hex)
-- to $1: tlog-witness's monitoring endpoint. witness_logs is small; the lateral lookup
-- uses the primary key of witness_cosigned.
SELECT l.origin, c.checkpoint, floor(extract(epoch FROM c.cosigned_at))::bigint AS timestamp
FROM witness_logs l
CROSS JOIN LATERAL (
    SELECT checkpoint, cosigned_at FROM witness_cosigned
    WHERE origin = l.origin ORDER BY size DESC LIMIT 1
) c
WHERE encode(sha256(convert_to(l.origin, 'UTF8')), 'hex') = $1;

-- name: record_refusal
INSERT INTO witness_refusals (origin, status, reason, request) VALUES ($1, $2, $3, $4);

-- name: state_of
SELECT size, root FROM witness_state WHERE origin = $1;
