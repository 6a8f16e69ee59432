-- 0004: witnesses of each organization's log, and the cosignatures they returned.

CREATE TABLE log_witnesses (
    org_id      bigint NOT NULL REFERENCES organizations (id),
    name        text NOT NULL,
    url         text NOT NULL CHECK (url ~ '^https?://'),
    vkey        text NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, name)
);
COMMENT ON TABLE log_witnesses IS 'Witnesses a log submits its checkpoints to (c2sp.org/tlog-witness).';
COMMENT ON COLUMN log_witnesses.org_id IS 'The log.';
COMMENT ON COLUMN log_witnesses.name IS 'Witness key name (as in its cosignature lines).';
COMMENT ON COLUMN log_witnesses.url IS 'Submission prefix; add-checkpoint is POSTed to <url>/add-checkpoint.';
COMMENT ON COLUMN log_witnesses.vkey IS 'The witness cosignature key (vkey, type 0x04); lines by other keys are ignored.';
COMMENT ON COLUMN log_witnesses.added_at IS 'When it was configured.';

CREATE TABLE checkpoint_cosignatures (
    org_id       bigint NOT NULL REFERENCES organizations (id),
    tree_size    bigint NOT NULL,
    witness      text NOT NULL,
    line         text NOT NULL CHECK (line LIKE '— %' AND right(line, 1) = E'\n'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, tree_size, witness),
    FOREIGN KEY (org_id, tree_size) REFERENCES checkpoints (org_id, tree_size)
);
COMMENT ON TABLE checkpoint_cosignatures IS 'Verified witness cosignature lines, appended to the checkpoint note when it is served.';
COMMENT ON COLUMN checkpoint_cosignatures.org_id IS 'The log.';
COMMENT ON COLUMN checkpoint_cosignatures.tree_size IS 'The checkpoint cosigned.';
COMMENT ON COLUMN checkpoint_cosignatures.witness IS 'Witness name.';
COMMENT ON COLUMN checkpoint_cosignatures.line IS 'The signed-note signature line, as returned and verified.';
COMMENT ON COLUMN checkpoint_cosignatures.created_at IS 'When it was received.';

CREATE TRIGGER checkpoint_cosignatures_append_only BEFORE UPDATE OR DELETE ON checkpoint_cosignatures
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
REVOKE ALL ON log_witnesses, checkpoint_cosignatures FROM PUBLIC;
GRANT SELECT, INSERT ON log_witnesses, checkpoint_cosignatures TO ledger_writer;
GRANT SELECT ON log_witnesses, checkpoint_cosignatures TO ledger_reader;
