-- 0019: bank statement imports (ledger/ingest/bankimports.py).
--
-- A charity imports its bank's CSV export (mutasi rekening): credit lines become donations
-- (reference: the bank's, or one derived from the line), debit lines are only offered as
-- disbursement candidates. A commit is all or nothing and idempotent twice over: per line,
-- by reference (a line whose reference an unreversed donation holds is skipped), and per
-- file, by the SHA-256 of its bytes: the row below is written in the same transaction as the
-- file's donations, so a file is imported at most once and a second commit gets the
-- first one's answer. The file itself is not kept (its lines name people).

CREATE TABLE bank_imports (
    org_id            bigint NOT NULL REFERENCES organizations (id),
    sha256            bytea NOT NULL CHECK (length(sha256) = 32),
    layout            text NOT NULL CHECK (length(layout) BETWEEN 1 AND 40),
    fund              text NOT NULL,
    lines             integer NOT NULL CHECK (lines >= 0),
    recorded          integer NOT NULL CHECK (recorded >= 0),
    already_recorded  integer NOT NULL CHECK (already_recorded >= 0),
    first_index       bigint,
    last_index        bigint,
    imported_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, sha256),
    CHECK ((recorded = 0) = (first_index IS NULL AND last_index IS NULL))
);
COMMENT ON TABLE bank_imports IS 'Bank statement files imported, one row per file, written in the same transaction as its donations.';
COMMENT ON COLUMN bank_imports.org_id IS 'The organization that imported it.';
COMMENT ON COLUMN bank_imports.sha256 IS 'SHA-256 of the file''s bytes: a file is imported at most once.';
COMMENT ON COLUMN bank_imports.layout IS 'The layout it was read with (bca, mandiri, bri, or a mapping file''s name).';
COMMENT ON COLUMN bank_imports.fund IS 'The fund its credits went to.';
COMMENT ON COLUMN bank_imports.lines IS 'Transaction lines read (credits and debits, excluded lines left out).';
COMMENT ON COLUMN bank_imports.recorded IS 'Donations this import appended.';
COMMENT ON COLUMN bank_imports.already_recorded IS 'Credit lines skipped because the ledger held their reference already.';
COMMENT ON COLUMN bank_imports.first_index IS 'Index of the first donation appended (NULL when none).';
COMMENT ON COLUMN bank_imports.last_index IS 'Index of the last donation appended (NULL when none).';
COMMENT ON COLUMN bank_imports.imported_at IS 'When the import committed.';

CREATE TRIGGER bank_imports_append_only BEFORE UPDATE OR DELETE ON bank_imports
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER bank_imports_no_truncate BEFORE TRUNCATE ON bank_imports
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

REVOKE ALL ON bank_imports FROM PUBLIC;
GRANT SELECT, INSERT ON bank_imports TO ledger_writer;
