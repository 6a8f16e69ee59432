-- 0005: signed public statements for auditors, stored exactly as issued.
--
-- A statement is issued in one transaction with its `statement.issued` log entry, which
-- commits to the SHA-256 of every stored document; asking again later returns the same
-- bytes. Both tables are append-only, like the log.

CREATE TABLE statements (
    org_id           bigint NOT NULL REFERENCES organizations (id),
    id               bigint NOT NULL CHECK (id >= 1),
    entry_idx        bigint NOT NULL,
    previous_id      bigint,
    period_from      date NOT NULL,
    period_to        date NOT NULL,
    fund             text,
    beneficiary      text,
    start_idx        bigint NOT NULL,
    end_idx          bigint NOT NULL,
    checkpoint_size  bigint NOT NULL,
    checkpoint_root  bytea NOT NULL CHECK (length(checkpoint_root) = 32),
    provisional      boolean NOT NULL,
    issued_at        timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, entry_idx),
    FOREIGN KEY (org_id, entry_idx) REFERENCES entries (org_id, idx),
    FOREIGN KEY (org_id, previous_id) REFERENCES statements (org_id, id),
    FOREIGN KEY (org_id, checkpoint_size) REFERENCES checkpoints (org_id, tree_size),
    FOREIGN KEY (org_id, fund) REFERENCES funds (org_id, code),
    CHECK ((id = 1 AND previous_id IS NULL) OR previous_id = id - 1),
    CHECK (period_from < period_to),
    CHECK (0 <= start_idx AND start_idx <= end_idx AND end_idx <= checkpoint_size),
    CHECK (end_idx <= entry_idx),
    CHECK (fund IS NULL OR beneficiary IS NULL)
);
COMMENT ON TABLE statements IS 'Public statements (signed PDF, JSON, CSV) per organization, numbered 1, 2, ... in issue order; each is logged by a statement.issued entry.';
COMMENT ON COLUMN statements.org_id IS 'The organization (and log).';
COMMENT ON COLUMN statements.id IS 'Statement number within the organization; two statements issued at once cannot both take the next number.';
COMMENT ON COLUMN statements.entry_idx IS 'The statement.issued entry, committed in the same transaction.';
COMMENT ON COLUMN statements.previous_id IS 'The statement issued just before (id - 1); NULL for the first. Its checkpoint is linked to this one''s by a consistency proof.';
COMMENT ON COLUMN statements.period_from IS 'First day of the period (UTC).';
COMMENT ON COLUMN statements.period_to IS 'First day after the period (UTC).';
COMMENT ON COLUMN statements.fund IS 'Fund code when the statement covers one fund; NULL otherwise.';
COMMENT ON COLUMN statements.beneficiary IS 'Beneficiary code when the statement covers one beneficiary; NULL otherwise.';
COMMENT ON COLUMN statements.start_idx IS 'First log index of the period: the tree size of the opening balances.';
COMMENT ON COLUMN statements.end_idx IS 'End of the period''s index range, exclusive: the tree size of the closing balances.';
COMMENT ON COLUMN statements.checkpoint_size IS 'The signed checkpoint printed on the statement: the smallest stored one covering end_idx.';
COMMENT ON COLUMN statements.checkpoint_root IS 'Root hash of that checkpoint.';
COMMENT ON COLUMN statements.provisional IS 'Issued before period_to: entries of the period recorded later are not in it.';
COMMENT ON COLUMN statements.issued_at IS 'Issue time printed on the statement and in its JSON.';

CREATE TABLE statement_documents (
    org_id        bigint NOT NULL,
    statement_id  bigint NOT NULL,
    name          text NOT NULL CHECK (name IN ('pdf-id', 'pdf-en', 'json')),
    media_type    text NOT NULL CHECK (media_type IN ('application/pdf', 'application/json')),
    sha256        bytea NOT NULL CHECK (length(sha256) = 32),
    content       bytea NOT NULL,
    PRIMARY KEY (org_id, statement_id, name),
    FOREIGN KEY (org_id, statement_id) REFERENCES statements (org_id, id),
    CHECK (sha256 = sha256(content))
);
COMMENT ON TABLE statement_documents IS 'The exact bytes of each statement document, served again unchanged; their hashes are in the statement.issued entry.';
COMMENT ON COLUMN statement_documents.org_id IS 'The organization.';
COMMENT ON COLUMN statement_documents.statement_id IS 'The statement.';
COMMENT ON COLUMN statement_documents.name IS 'pdf-id (Bahasa Indonesia), pdf-en (English): PAdES-signed PDFs; json: donation-ledger-statement/v1.';
COMMENT ON COLUMN statement_documents.media_type IS 'Content type served.';
COMMENT ON COLUMN statement_documents.sha256 IS 'SHA-256 of content (checked on insert); the hash committed in the log.';
COMMENT ON COLUMN statement_documents.content IS 'The document, byte for byte as issued.';

CREATE TRIGGER statements_append_only BEFORE UPDATE OR DELETE ON statements
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER statements_no_truncate BEFORE TRUNCATE ON statements
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER statement_documents_append_only BEFORE UPDATE OR DELETE ON statement_documents
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER statement_documents_no_truncate BEFORE TRUNCATE ON statement_documents
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

REVOKE ALL ON statements, statement_documents FROM PUBLIC;
GRANT SELECT, INSERT ON statements, statement_documents TO ledger_writer;
GRANT SELECT ON statements, statement_documents TO ledger_reader;
