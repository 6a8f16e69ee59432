-- Named queries of the witness (ledger/witness.py).

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
INSERT INTO witness_cosigned (origin, size, root, checkpoint) VALUES ($1, $2, $3, $4)
ON CONFLICT (origin, size) DO NOTHING;

-- name: record_refusal
INSERT INTO witness_refusals (origin, status, reason, request) VALUES ($1, $2, $3, $4);

-- name: state_of
SELECT size, root FROM witness_state WHERE origin = $1;
