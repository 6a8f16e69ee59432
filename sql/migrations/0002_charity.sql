-- 0002: the charity domain around the log: API keys, idempotency, projections of funds and
-- beneficiaries, double-entry postings and balances, donor personal data (outside the log),
-- and evidence files.
--
-- The log (0001) is the source of truth. Every table here except api_keys, idempotency_keys,
-- donor_records and evidence_files is a projection that is written in the same transaction
-- as the entries it derives from, and can be rebuilt from the log.

CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES organizations (id),
    prefix      text NOT NULL UNIQUE CHECK (prefix ~ '^[a-z0-9]{8}$'),
    secret_hash bytea NOT NULL CHECK (length(secret_hash) = 32),
    role        text NOT NULL CHECK (role IN ('admin', 'recorder', 'auditor')),
    label       text NOT NULL DEFAULT '' CHECK (length(label) <= 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
COMMENT ON TABLE api_keys IS 'API keys of organizations. Only a hash of the secret is stored; the key is shown once.';
COMMENT ON COLUMN api_keys.id IS 'Public id of the key (for listing and revocation).';
COMMENT ON COLUMN api_keys.org_id IS 'The only organization this key can read or write.';
COMMENT ON COLUMN api_keys.prefix IS 'Non-secret lookup prefix embedded in the key text.';
COMMENT ON COLUMN api_keys.secret_hash IS 'SHA-256 of the whole key text (256-bit random secret, so no slow hash is needed).';
COMMENT ON COLUMN api_keys.role IS 'admin: keys, beneficiaries, funds; recorder: money; auditor: read-only, including non-public fields.';
COMMENT ON COLUMN api_keys.label IS 'Free text to tell keys apart.';
COMMENT ON COLUMN api_keys.created_at IS 'When the key was issued.';
COMMENT ON COLUMN api_keys.revoked_at IS 'When it was revoked; NULL while valid.';

CREATE TABLE idempotency_keys (
    org_id        bigint NOT NULL REFERENCES organizations (id),
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash  bytea NOT NULL CHECK (length(request_hash) = 32),
    status        smallint NOT NULL,
    response      bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, key)
);
COMMENT ON TABLE idempotency_keys IS 'Idempotency-Key records, written in the same transaction as the entries they produced.';
COMMENT ON COLUMN idempotency_keys.org_id IS 'Keys are scoped per organization.';
COMMENT ON COLUMN idempotency_keys.key IS 'The client''s Idempotency-Key header.';
COMMENT ON COLUMN idempotency_keys.request_hash IS 'SHA-256 of method, path and body: the same key with another request is refused (422).';
COMMENT ON COLUMN idempotency_keys.status IS 'HTTP status of the original response.';
COMMENT ON COLUMN idempotency_keys.response IS 'JSON body of the original response, replayed on retry.';
COMMENT ON COLUMN idempotency_keys.created_at IS 'When the original request committed.';

CREATE TABLE funds (
    org_id       bigint NOT NULL REFERENCES organizations (id),
    code         text NOT NULL,
    entry_idx    bigint NOT NULL,
    name         text NOT NULL,
    currency     char(3) NOT NULL,
    earmark      jsonb,
    fee_cap_bps  integer NOT NULL CHECK (fee_cap_bps BETWEEN 0 AND 10000),
    PRIMARY KEY (org_id, code),
    FOREIGN KEY (org_id, entry_idx) REFERENCES entries (org_id, idx)
);
COMMENT ON TABLE funds IS 'Projection of fund.created entries: funds / campaigns (never updated).';
COMMENT ON COLUMN funds.org_id IS 'Owner.';
COMMENT ON COLUMN funds.code IS 'Public code of the fund, unique per organization.';
COMMENT ON COLUMN funds.entry_idx IS 'The fund.created entry.';
COMMENT ON COLUMN funds.name IS 'Display name (e.g. #SenyumAnak 2026).';
COMMENT ON COLUMN funds.currency IS 'ISO 4217 currency of every amount in the fund.';
COMMENT ON COLUMN funds.earmark IS 'Optional earmark: {"beneficiary": code} or {"purpose": category}.';
COMMENT ON COLUMN funds.fee_cap_bps IS 'Most fees may take, in basis points of donations (1000 = the 10% legal cap; 0 for zakat).';

CREATE TABLE beneficiary_versions (
    org_id        bigint NOT NULL REFERENCES organizations (id),
    code          text NOT NULL,
    version       integer NOT NULL CHECK (version >= 1),
    entry_idx     bigint NOT NULL,
    name          text NOT NULL,
    city          text NOT NULL,
    province      text NOT NULL,
    registration  text,
    PRIMARY KEY (org_id, code, version),
    FOREIGN KEY (org_id, entry_idx) REFERENCES entries (org_id, idx)
);
COMMENT ON TABLE beneficiary_versions IS 'Projection of beneficiary.registered / beneficiary.updated entries: every version kept.';
COMMENT ON COLUMN beneficiary_versions.org_id IS 'Owner.';
COMMENT ON COLUMN beneficiary_versions.code IS 'Public code of the beneficiary (an orphanage, LKSA).';
COMMENT ON COLUMN beneficiary_versions.version IS '1 for the registration, then +1 per change.';
COMMENT ON COLUMN beneficiary_versions.entry_idx IS 'The entry that made this version.';
COMMENT ON COLUMN beneficiary_versions.name IS 'Name of the orphanage.';
COMMENT ON COLUMN beneficiary_versions.city IS 'City or regency.';
COMMENT ON COLUMN beneficiary_versions.province IS 'Province.';
COMMENT ON COLUMN beneficiary_versions.registration IS 'Official registration number, if any.';

CREATE TABLE money_entries (
    org_id        bigint NOT NULL REFERENCES organizations (id),
    entry_idx     bigint NOT NULL,
    kind          text NOT NULL,
    fund          text NOT NULL,
    counterparty  text,
    currency      char(3) NOT NULL,
    amount        bigint NOT NULL,
    reference     text,
    corrected_by  bigint,
    PRIMARY KEY (org_id, entry_idx),
    FOREIGN KEY (org_id, entry_idx) REFERENCES entries (org_id, idx)
);
CREATE UNIQUE INDEX money_entries_reference ON money_entries (org_id, reference)
    WHERE reference IS NOT NULL AND kind = 'donation';
COMMENT ON TABLE money_entries IS 'Projection of money entries (donation, disbursement, transfer, fee, correction) for lookups.';
COMMENT ON COLUMN money_entries.org_id IS 'Owner.';
COMMENT ON COLUMN money_entries.entry_idx IS 'The entry.';
COMMENT ON COLUMN money_entries.kind IS 'Entry kind.';
COMMENT ON COLUMN money_entries.fund IS 'Fund code the money moved in (the source fund of a transfer).';
COMMENT ON COLUMN money_entries.counterparty IS 'Beneficiary code of a disbursement, destination fund of a transfer; NULL otherwise.';
COMMENT ON COLUMN money_entries.currency IS 'ISO 4217 currency.';
COMMENT ON COLUMN money_entries.amount IS 'Amount in minor units (positive; corrections carry the corrected amount).';
COMMENT ON COLUMN money_entries.reference IS 'External reference; unique per organization for donations.';
COMMENT ON COLUMN money_entries.corrected_by IS 'Index of the correction entry that reverses this one (at most one).';

CREATE TABLE corrections (
    org_id      bigint NOT NULL REFERENCES organizations (id),
    corrected   bigint NOT NULL,
    entry_idx   bigint NOT NULL,
    PRIMARY KEY (org_id, corrected),
    FOREIGN KEY (org_id, entry_idx) REFERENCES entries (org_id, idx),
    FOREIGN KEY (org_id, corrected) REFERENCES entries (org_id, idx)
);
COMMENT ON TABLE corrections IS 'At most one correction per entry (the primary key enforces it).';
COMMENT ON COLUMN corrections.org_id IS 'Owner.';
COMMENT ON COLUMN corrections.corrected IS 'The entry that is reversed.';
COMMENT ON COLUMN corrections.entry_idx IS 'The correction entry.';

CREATE TABLE postings (
    org_id     bigint NOT NULL REFERENCES organizations (id),
    entry_idx  bigint NOT NULL,
    line       smallint NOT NULL,
    account    text NOT NULL,
    currency   char(3) NOT NULL,
    amount     bigint NOT NULL CHECK (amount <> 0),
    PRIMARY KEY (org_id, entry_idx, line),
    FOREIGN KEY (org_id, entry_idx) REFERENCES entries (org_id, idx)
);
CREATE INDEX postings_account ON postings (org_id, account, entry_idx);
COMMENT ON TABLE postings IS 'Double-entry lines derived from money entries; the lines of an entry sum to zero per currency.';
COMMENT ON COLUMN postings.org_id IS 'Owner.';
COMMENT ON COLUMN postings.entry_idx IS 'The entry that posted the line.';
COMMENT ON COLUMN postings.line IS 'Line number within the entry.';
COMMENT ON COLUMN postings.account IS 'fund:<code>, beneficiary:<code>, donors or fees.';
COMMENT ON COLUMN postings.currency IS 'ISO 4217 currency.';
COMMENT ON COLUMN postings.amount IS 'Signed minor units: positive adds to the account.';

CREATE TABLE balances (
    org_id    bigint NOT NULL REFERENCES organizations (id),
    account   text NOT NULL,
    currency  char(3) NOT NULL,
    amount    bigint NOT NULL,
    as_of     bigint NOT NULL,
    PRIMARY KEY (org_id, account, currency)
);
COMMENT ON TABLE balances IS 'Running totals of postings per account, updated in the append transaction (a cache of SUM(postings)).';
COMMENT ON COLUMN balances.org_id IS 'Owner.';
COMMENT ON COLUMN balances.account IS 'Account name.';
COMMENT ON COLUMN balances.currency IS 'ISO 4217 currency.';
COMMENT ON COLUMN balances.amount IS 'Sum of the account''s postings.';
COMMENT ON COLUMN balances.as_of IS 'Index of the last entry included.';

CREATE TABLE donor_records (
    org_id         bigint NOT NULL REFERENCES organizations (id),
    donation_idx   bigint NOT NULL,
    lookups        bytea[],
    salt           bytea,
    personal       jsonb,
    erased_at      timestamptz,
    PRIMARY KEY (org_id, donation_idx),
    FOREIGN KEY (org_id, donation_idx) REFERENCES entries (org_id, idx),
    CHECK ((erased_at IS NULL) = (salt IS NOT NULL AND personal IS NOT NULL))
);
CREATE INDEX donor_records_lookups ON donor_records USING gin (lookups) WHERE lookups IS NOT NULL;
COMMENT ON TABLE donor_records IS 'Donor personal data, outside the log. The log holds only a salted commitment to it.';
COMMENT ON COLUMN donor_records.org_id IS 'Owner.';
COMMENT ON COLUMN donor_records.donation_idx IS 'The donation entry whose commitment this opens.';
COMMENT ON COLUMN donor_records.lookups IS 'SHA-256 of the normalized email and of the normalized phone, to find a donor''s records for erasure; NULL once erased.';
COMMENT ON COLUMN donor_records.salt IS 'Random salt of the commitment; NULL once erased (the commitment can no longer be opened).';
COMMENT ON COLUMN donor_records.personal IS 'Name, email, phone, address as given; NULL once erased.';
COMMENT ON COLUMN donor_records.erased_at IS 'When the donor''s erasure request was carried out.';

CREATE TABLE evidence_files (
    org_id        bigint NOT NULL REFERENCES organizations (id),
    sha256        bytea NOT NULL CHECK (length(sha256) = 32),
    content_type  text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size          integer NOT NULL CHECK (size > 0),
    content       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, sha256),
    CHECK (sha256 = sha256(content))
);
COMMENT ON TABLE evidence_files IS 'Content-addressed evidence files (invoices, transfer slips, photos); their hashes are committed in the log.';
COMMENT ON COLUMN evidence_files.org_id IS 'Owner.';
COMMENT ON COLUMN evidence_files.sha256 IS 'SHA-256 of content: the file''s address.';
COMMENT ON COLUMN evidence_files.content_type IS 'Type sniffed from the bytes, never taken from the client.';
COMMENT ON COLUMN evidence_files.size IS 'Size in bytes.';
COMMENT ON COLUMN evidence_files.content IS 'The file.';
COMMENT ON COLUMN evidence_files.created_at IS 'First upload.';

-- Projections and records that must never change once written.
CREATE TRIGGER funds_append_only BEFORE UPDATE OR DELETE ON funds
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER beneficiary_versions_append_only BEFORE UPDATE OR DELETE ON beneficiary_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER corrections_append_only BEFORE UPDATE OR DELETE ON corrections
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER evidence_files_append_only BEFORE UPDATE OR DELETE ON evidence_files
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

REVOKE ALL ON api_keys, idempotency_keys, funds, beneficiary_versions, money_entries, corrections,
    postings, balances, donor_records, evidence_files FROM PUBLIC;
GRANT SELECT, INSERT ON funds, beneficiary_versions, postings, corrections, evidence_files,
    idempotency_keys, money_entries TO ledger_writer;
GRANT UPDATE (corrected_by) ON money_entries TO ledger_writer;
GRANT SELECT, INSERT, UPDATE ON balances TO ledger_writer;
GRANT SELECT, INSERT, UPDATE (revoked_at) ON api_keys TO ledger_writer;
GRANT SELECT, INSERT, UPDATE (lookups, salt, personal, erased_at) ON donor_records TO ledger_writer;
GRANT SELECT ON funds, beneficiary_versions, money_entries, corrections, postings, balances
    TO ledger_reader;
