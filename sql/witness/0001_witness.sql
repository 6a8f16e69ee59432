-- Witness schema (c2sp.org/tlog-witness): a separate, independently versioned schema, so an
-- outside party (an accountant, a donor association) can run a witness without the ledger.

CREATE TABLE witness_keys (
    name          text PRIMARY KEY,
    public_key    bytea NOT NULL CHECK (length(public_key) = 32),
    sealed_seed   bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE witness_keys IS 'The witness''s cosigning key (Ed25519, cosignature/v1); one row per witness name.';
COMMENT ON COLUMN witness_keys.name IS 'Witness name: the key name in its cosignature lines and vkey.';
COMMENT ON COLUMN witness_keys.public_key IS 'Raw Ed25519 public key.';
COMMENT ON COLUMN witness_keys.sealed_seed IS 'Ed25519 seed sealed with AES-256-GCM under the key-encryption key.';
COMMENT ON COLUMN witness_keys.created_at IS 'When the key was generated.';

CREATE TABLE witness_logs (
    origin      text PRIMARY KEY,
    vkeys       text[] NOT NULL CHECK (cardinality(vkeys) >= 1),
    added_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE witness_logs IS 'Logs this witness follows, by origin, with the log keys it trusts.';
COMMENT ON COLUMN witness_logs.origin IS 'The log''s checkpoint origin line.';
COMMENT ON COLUMN witness_logs.vkeys IS 'Trusted log public keys (vkeys); signatures by other keys are ignored.';
COMMENT ON COLUMN witness_logs.added_at IS 'When the log was added.';

CREATE TABLE witness_state (
    origin      text PRIMARY KEY REFERENCES witness_logs (origin),
    size        bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    root        bytea NOT NULL DEFAULT sha256(''::bytea) CHECK (length(root) = 32),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE witness_state IS 'The latest checkpoint cosigned per log; updated by compare-and-swap under a row lock, in the transaction that cosigns.';
COMMENT ON COLUMN witness_state.origin IS 'The log.';
COMMENT ON COLUMN witness_state.size IS 'Tree size of the latest cosigned checkpoint (0 before the first).';
COMMENT ON COLUMN witness_state.root IS 'Its root hash (the empty tree''s before the first).';
COMMENT ON COLUMN witness_state.updated_at IS 'When it was last advanced.';

CREATE FUNCTION witness_state_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.size < OLD.size THEN
        RAISE EXCEPTION 'witness state of % may only grow (% -> %)', OLD.origin, OLD.size, NEW.size
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER witness_state_forward_only BEFORE UPDATE ON witness_state
    FOR EACH ROW EXECUTE FUNCTION witness_state_forward_only();

CREATE TABLE witness_cosigned (
    origin       text NOT NULL REFERENCES witness_logs (origin),
    size         bigint NOT NULL,
    root         bytea NOT NULL,
    checkpoint   text NOT NULL,
    cosigned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (origin, size)
);
COMMENT ON TABLE witness_cosigned IS 'Every checkpoint this witness cosigned (append-only evidence).';
COMMENT ON COLUMN witness_cosigned.origin IS 'The log.';
COMMENT ON COLUMN witness_cosigned.size IS 'Tree size.';
COMMENT ON COLUMN witness_cosigned.root IS 'Root hash.';
COMMENT ON COLUMN witness_cosigned.checkpoint IS 'The signed checkpoint as submitted.';
COMMENT ON COLUMN witness_cosigned.cosigned_at IS 'When it was cosigned.';

CREATE TABLE witness_refusals (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    origin       text NOT NULL,
    status       smallint NOT NULL,
    reason       text NOT NULL,
    request      text NOT NULL,
    refused_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE witness_refusals IS 'Validly signed submissions the witness refused: possible evidence of log misbehaviour.';
COMMENT ON COLUMN witness_refusals.id IS 'Sequence.';
COMMENT ON COLUMN witness_refusals.origin IS 'The log.';
COMMENT ON COLUMN witness_refusals.status IS 'HTTP status answered.';
COMMENT ON COLUMN witness_refusals.reason IS 'Why it was refused.';
COMMENT ON COLUMN witness_refusals.request IS 'The request body.';
COMMENT ON COLUMN witness_refusals.refused_at IS 'When.';

CREATE FUNCTION witness_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER witness_cosigned_append_only BEFORE UPDATE OR DELETE ON witness_cosigned
    FOR EACH ROW EXECUTE FUNCTION witness_refuse_change();
CREATE TRIGGER witness_refusals_append_only BEFORE UPDATE OR DELETE ON witness_refusals
    FOR EACH ROW EXECUTE FUNCTION witness_refuse_change();
