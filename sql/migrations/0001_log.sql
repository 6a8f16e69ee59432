-- 0001: the append-only log, its Merkle nodes, signed checkpoints and signing keys.
--
-- Guarantees enforced here, by PostgreSQL itself:
--   * the service role (ledger_writer) has no UPDATE, DELETE or TRUNCATE on log tables;
--   * triggers refuse UPDATE, DELETE and TRUNCATE on log tables even for their owner;
--   * the primary key (org_id, idx) makes a fork impossible; a trigger makes gaps and
--     broken chain links impossible; CHECK constraints recompute every hash on insert.

CREATE TABLE organizations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    origin      text NOT NULL UNIQUE CHECK (origin ~ '^[!-*,-~]+$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE organizations IS 'A charity. Each organization has exactly one log: the unit of transparency.';
COMMENT ON COLUMN organizations.id IS 'Internal id; also the distribution key of every per-log table.';
COMMENT ON COLUMN organizations.slug IS 'Public, URL-safe name used in paths.';
COMMENT ON COLUMN organizations.name IS 'Display name of the charity.';
COMMENT ON COLUMN organizations.origin IS 'The log''s c2sp.org/tlog-checkpoint origin line; also the signing key name.';
COMMENT ON COLUMN organizations.created_at IS 'When the organization was created.';

CREATE TABLE log_heads (
    org_id      bigint PRIMARY KEY REFERENCES organizations (id),
    size        bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    head_hash   bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
                CHECK (length(head_hash) = 32),
    last_time   timestamptz NOT NULL DEFAULT 'epoch',
    frontier    bytea[] NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE log_heads IS 'The mutable head pointer of each log. Writers lock this row (FOR UPDATE) once per batch; it only ever moves forward.';
COMMENT ON COLUMN log_heads.org_id IS 'The log (one per organization).';
COMMENT ON COLUMN log_heads.size IS 'Number of entries: the next entry''s index.';
COMMENT ON COLUMN log_heads.head_hash IS 'entry_hash of the newest entry; 32 zero bytes for an empty log.';
COMMENT ON COLUMN log_heads.last_time IS 'Timestamp of the newest entry; entry times never go backwards.';
COMMENT ON COLUMN log_heads.frontier IS 'Hashes of the complete subtrees that make up the tree of this size, left to right (RFC 9162 right edge).';

CREATE FUNCTION log_heads_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.org_id <> OLD.org_id OR NEW.size < OLD.size OR NEW.last_time < OLD.last_time THEN
        RAISE EXCEPTION 'log head of organization % may only move forward (size % -> %)',
            OLD.org_id, OLD.size, NEW.size USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER log_heads_forward_only BEFORE UPDATE ON log_heads
    FOR EACH ROW EXECUTE FUNCTION log_heads_forward_only();

CREATE TABLE entries (
    org_id      bigint NOT NULL REFERENCES organizations (id),
    idx         bigint NOT NULL CHECK (idx >= 0),
    kind        text NOT NULL,
    created_at  timestamptz NOT NULL,
    body        bytea NOT NULL,
    prev_hash   bytea NOT NULL CHECK (length(prev_hash) = 32),
    entry_hash  bytea NOT NULL CHECK (entry_hash = sha256('\x02'::bytea || prev_hash || leaf_hash)),
    leaf_hash   bytea NOT NULL CHECK (leaf_hash = sha256('\x00'::bytea || body)),
    PRIMARY KEY (org_id, idx)
);
COMMENT ON TABLE entries IS 'The append-only journal: one row per log entry. Never updated, never deleted.';
COMMENT ON COLUMN entries.org_id IS 'The log this entry belongs to.';
COMMENT ON COLUMN entries.idx IS '0-based position in the log; contiguous (no gaps, no forks).';
COMMENT ON COLUMN entries.kind IS 'Entry kind (copy of the "kind" member of body, for queries).';
COMMENT ON COLUMN entries.created_at IS 'Server timestamp (copy of the "time" member of body).';
COMMENT ON COLUMN entries.body IS 'The exact canonical bytes (RFC 8785 JSON) that were hashed; the Merkle leaf.';
COMMENT ON COLUMN entries.prev_hash IS 'entry_hash of entry idx-1; 32 zero bytes for entry 0.';
COMMENT ON COLUMN entries.entry_hash IS 'Chain hash: SHA-256(0x02 || prev_hash || leaf_hash).';
COMMENT ON COLUMN entries.leaf_hash IS 'RFC 9162 leaf hash: SHA-256(0x00 || body).';

CREATE FUNCTION entries_link() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.idx = 0 THEN
        IF NEW.prev_hash <> '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea THEN
            RAISE EXCEPTION 'entry 0 of log % must have an all-zero prev_hash', NEW.org_id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM entries
                      WHERE org_id = NEW.org_id AND idx = NEW.idx - 1 AND entry_hash = NEW.prev_hash) THEN
        RAISE EXCEPTION 'entry % of log % does not link to entry %: gap or wrong prev_hash',
            NEW.idx, NEW.org_id, NEW.idx - 1 USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER entries_link BEFORE INSERT ON entries
    FOR EACH ROW EXECUTE FUNCTION entries_link();

CREATE TABLE merkle_nodes (
    org_id      bigint NOT NULL REFERENCES organizations (id),
    level       smallint NOT NULL CHECK (level BETWEEN 1 AND 63),
    idx         bigint NOT NULL CHECK (idx >= 0),
    hash        bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (org_id, level, idx)
);
COMMENT ON TABLE merkle_nodes IS 'Every complete RFC 9162 subtree of level >= 1 (level 0 is entries.leaf_hash), so any proof needs O(log n) reads.';
COMMENT ON COLUMN merkle_nodes.org_id IS 'The log.';
COMMENT ON COLUMN merkle_nodes.level IS 'Height of the subtree: it covers 2^level leaves.';
COMMENT ON COLUMN merkle_nodes.idx IS 'Position at that level: the subtree covers leaves [idx * 2^level, (idx + 1) * 2^level).';
COMMENT ON COLUMN merkle_nodes.hash IS 'RFC 9162 node hash SHA-256(0x01 || left || right).';

CREATE TABLE signing_keys (
    org_id          bigint NOT NULL REFERENCES organizations (id),
    key_id          bytea NOT NULL CHECK (length(key_id) = 4),
    name            text NOT NULL,
    public_key      bytea NOT NULL CHECK (length(public_key) = 32),
    sealed_private  bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    retired_at      timestamptz,
    PRIMARY KEY (org_id, key_id)
);
COMMENT ON TABLE signing_keys IS 'Ed25519 checkpoint keys per organization. Retired keys stay here so old checkpoints still verify.';
COMMENT ON COLUMN signing_keys.org_id IS 'Owner of the key.';
COMMENT ON COLUMN signing_keys.key_id IS 'c2sp.org/signed-note key ID: SHA-256(name || 0x0A || 0x01 || public_key)[:4].';
COMMENT ON COLUMN signing_keys.name IS 'Signed-note key name (the log origin).';
COMMENT ON COLUMN signing_keys.public_key IS 'Raw 32-byte Ed25519 public key.';
COMMENT ON COLUMN signing_keys.sealed_private IS 'Ed25519 seed sealed with AES-256-GCM under the key-encryption key (never plaintext).';
COMMENT ON COLUMN signing_keys.created_at IS 'When the key was generated.';
COMMENT ON COLUMN signing_keys.retired_at IS 'When the key stopped signing; NULL while it signs.';

CREATE TABLE checkpoints (
    org_id      bigint NOT NULL REFERENCES organizations (id),
    tree_size   bigint NOT NULL CHECK (tree_size >= 0),
    root        bytea NOT NULL CHECK (length(root) = 32),
    note        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, tree_size)
);
COMMENT ON TABLE checkpoints IS 'Every signed checkpoint the log ever published. Append-only; verify checks the log extends each.';
COMMENT ON COLUMN checkpoints.org_id IS 'The log.';
COMMENT ON COLUMN checkpoints.tree_size IS 'Tree size the checkpoint commits to.';
COMMENT ON COLUMN checkpoints.root IS 'RFC 9162 root hash at that size.';
COMMENT ON COLUMN checkpoints.note IS 'The c2sp.org/signed-note text, exactly as published.';
COMMENT ON COLUMN checkpoints.created_at IS 'When it was signed.';

-- Append-only, for everyone including the owner: a superuser must disable the trigger to
-- change history, and `ledger verify` then reports the first bad index.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Record a correction entry instead.';
END $$;

CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER merkle_nodes_append_only BEFORE UPDATE OR DELETE ON merkle_nodes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER organizations_no_delete BEFORE DELETE ON organizations
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER organizations_no_truncate BEFORE TRUNCATE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER signing_keys_no_delete BEFORE DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Least privilege: the service runs as ledger_writer (set per connection); readers as ledger_reader.
REVOKE ALL ON organizations, log_heads, entries, merkle_nodes, signing_keys, checkpoints FROM PUBLIC;
GRANT SELECT, INSERT ON organizations, entries, merkle_nodes, checkpoints TO ledger_writer;
GRANT SELECT, INSERT, UPDATE ON log_heads TO ledger_writer;
GRANT SELECT, INSERT, UPDATE (retired_at) ON signing_keys TO ledger_writer;
GRANT SELECT ON organizations, log_heads, entries, merkle_nodes, checkpoints TO ledger_reader;
GRANT SELECT (org_id, key_id, name, public_key, created_at, retired_at) ON signing_keys TO ledger_reader;
