-- Named queries of the log side of witnessing (ledger/journal/witnessing.py), executed by
-- ledger/store/witnessing.py.

-- name: add_witness
INSERT INTO log_witnesses (org_id, name, url, vkey) VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id, name) DO NOTHING;

-- name: witnesses_of
SELECT name, url, vkey FROM log_witnesses WHERE org_id = $1 ORDER BY name;

-- name: last_cosigned
SELECT witness, max(tree_size) AS size FROM checkpoint_cosignatures WHERE org_id = $1 GROUP BY witness;

-- name: add_cosignature
INSERT INTO checkpoint_cosignatures (org_id, tree_size, witness, line) VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id, tree_size, witness) DO NOTHING;

-- name: cosignature_lines
SELECT string_agg(line, '' ORDER BY witness) AS lines FROM checkpoint_cosignatures
WHERE org_id = $1 AND tree_size = $2;
