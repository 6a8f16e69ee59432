-- Named queries. Only ledger/storage.py executes SQL; it loads the blocks below by name.
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

-- name: advance_head
-- Compare-and-swap: succeeds only if nobody moved the head since lock_head read it.
UPDATE log_heads SET size = $3, head_hash = $4, last_time = $5, frontier = $6
WHERE org_id = $1 AND size = $2;

-- name: fetch_nodes
-- Level 0 comes from entries.leaf_hash, higher levels from merkle_nodes.
SELECT 0::smallint AS level, e.idx, e.leaf_hash AS hash
FROM entries e WHERE e.org_id = $1 AND e.idx = ANY($2::bigint[])
UNION ALL
SELECT m.level, m.idx, m.hash
FROM merkle_nodes m
JOIN unnest($3::smallint[], $4::bigint[]) AS want (level, idx) USING (level, idx)
WHERE m.org_id = $1;

-- name: entry_by_index
SELECT idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash
FROM entries WHERE org_id = $1 AND idx = $2;

-- name: entries_range
SELECT idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash
FROM entries WHERE org_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx;

-- name: stream_entries
SELECT idx, kind, created_at, body, prev_hash, entry_hash, leaf_hash
FROM entries WHERE org_id = $1 ORDER BY idx;

-- name: count_nodes
SELECT count(*) FROM merkle_nodes WHERE org_id = $1;

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

