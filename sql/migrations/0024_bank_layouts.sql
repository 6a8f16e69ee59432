-- 0024: a charity's own bank export layouts, kept per organization (issue 15).
--
-- The built-in layouts (BCA, Mandiri, BRI) live in the code; a bank that exports something
-- else is described by a BankLayout mapping (README, "Bank statement imports"), which the
-- CLI reads from a file and the API keeps here under a name, so later uploads say
-- ?layout=<name>. Configuration, not evidence: an import's row (bank_imports) records the
-- layout name it was read with, and the donations it made are in the log.

CREATE TABLE bank_layouts (
    org_id      bigint NOT NULL REFERENCES organizations (id),
    name        text NOT NULL CHECK (name ~ '^[a-z0-9-]{1,40}$'),
    layout      jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, name)
);
COMMENT ON TABLE bank_layouts IS 'Custom bank export layouts (BankLayout JSON) an admin saved for the organization.';
COMMENT ON COLUMN bank_layouts.org_id IS 'The organization.';
COMMENT ON COLUMN bank_layouts.name IS 'The name uploads give as ?layout= (never bca, mandiri or bri: those are built in).';
COMMENT ON COLUMN bank_layouts.layout IS 'The BankLayout mapping, as validated by the API.';
COMMENT ON COLUMN bank_layouts.updated_at IS 'When it was last saved.';

REVOKE ALL ON bank_layouts FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE (layout, updated_at) ON bank_layouts TO ledger_writer;
