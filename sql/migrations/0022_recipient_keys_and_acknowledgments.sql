-- 0022: the recipients' own word (issue 20, docs/FORMAT.md section 8).
--
-- A beneficiary (an orphanage) holds an Ed25519 key; its beneficiary.key entries, and the
-- disbursement.acknowledged / disbursement.disputed entries it signs, are projected here.
-- Both tables feed public numbers (the acknowledged share of what was disbursed), so, like
-- the calendar (0014, 0016), they are written only by the database, from the inserted
-- entries' bytes, by a statement-level trigger; the service role may only read them, and
-- `ledger verify` re-derives them (ledger/verify/derivation.py).
--
-- enrolment_links holds the one-time links a charity sends to an orphanage: only the
-- SHA-256 of the token, never a contact detail (the link travels by WhatsApp or e-mail,
-- outside the ledger).

CREATE TABLE beneficiary_keys (
    org_id       bigint NOT NULL REFERENCES organizations (id),
    entry_idx    bigint NOT NULL,
    beneficiary  text NOT NULL,
    public_key   bytea NOT NULL CHECK (length(public_key) = 32),
    replaces     bigint,
    PRIMARY KEY (org_id, entry_idx),
    FOREIGN KEY (org_id, entry_idx) REFERENCES entries (org_id, idx)
);
CREATE INDEX beneficiary_keys_current ON beneficiary_keys (org_id, beneficiary, entry_idx DESC);
COMMENT ON TABLE beneficiary_keys IS 'Every beneficiary.key entry: a beneficiary''s Ed25519 key; the newest per beneficiary is the one that may sign.';
COMMENT ON COLUMN beneficiary_keys.org_id IS 'The log.';
COMMENT ON COLUMN beneficiary_keys.entry_idx IS 'The beneficiary.key entry.';
COMMENT ON COLUMN beneficiary_keys.beneficiary IS 'Beneficiary code.';
COMMENT ON COLUMN beneficiary_keys.public_key IS 'Raw 32-byte Ed25519 public key.';
COMMENT ON COLUMN beneficiary_keys.replaces IS 'The key entry this one replaces (NULL: the first); the old key signs nothing after this entry.';

CREATE TABLE acknowledgments (
    org_id            bigint NOT NULL REFERENCES organizations (id),
    entry_idx         bigint NOT NULL,
    disbursement_idx  bigint NOT NULL,
    beneficiary       text NOT NULL,
    verdict           text NOT NULL CHECK (verdict IN ('acknowledged', 'disputed')),
    received          bigint CHECK (received >= 0),
    key_idx           bigint NOT NULL,
    PRIMARY KEY (org_id, entry_idx),
    UNIQUE (org_id, disbursement_idx),
    FOREIGN KEY (org_id, entry_idx) REFERENCES entries (org_id, idx),
    CHECK ((verdict = 'disputed') = (received IS NOT NULL))
);
COMMENT ON TABLE acknowledgments IS 'What a beneficiary signed about a disbursement: at most one per disbursement, final (a dispute is never removed).';
COMMENT ON COLUMN acknowledgments.org_id IS 'The log.';
COMMENT ON COLUMN acknowledgments.entry_idx IS 'The disbursement.acknowledged or disbursement.disputed entry.';
COMMENT ON COLUMN acknowledgments.disbursement_idx IS 'The disbursement entry it is about.';
COMMENT ON COLUMN acknowledgments.beneficiary IS 'The beneficiary that signed.';
COMMENT ON COLUMN acknowledgments.verdict IS 'acknowledged (all arrived) or disputed.';
COMMENT ON COLUMN acknowledgments.received IS 'Disputed: minor units the beneficiary says arrived (0: nothing); NULL when acknowledged (the whole amount).';
COMMENT ON COLUMN acknowledgments.key_idx IS 'The beneficiary.key entry whose key signed.';

CREATE FUNCTION entries_project_recipients() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO beneficiary_keys (org_id, entry_idx, beneficiary, public_key, replaces)
    SELECT s.org_id, s.idx, s.b ->> 'beneficiary', decode(s.b ->> 'public_key', 'base64'),
           (s.b ->> 'replaces')::bigint
    FROM (SELECT n.org_id, n.idx, convert_from(n.body, 'UTF8')::jsonb -> 'body' AS b
          FROM new_entries n WHERE n.kind = 'beneficiary.key') s;

    INSERT INTO acknowledgments (org_id, entry_idx, disbursement_idx, beneficiary, verdict,
                                 received, key_idx)
    SELECT s.org_id, s.idx, (s.b ->> 'disbursement')::bigint, s.b ->> 'beneficiary',
           CASE s.kind WHEN 'disbursement.acknowledged' THEN 'acknowledged' ELSE 'disputed' END,
           (s.b ->> 'received')::bigint, (s.b ->> 'key')::bigint
    FROM (SELECT n.org_id, n.idx, n.kind, convert_from(n.body, 'UTF8')::jsonb -> 'body' AS b
          FROM new_entries n
          WHERE n.kind IN ('disbursement.acknowledged', 'disbursement.disputed')) s;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION entries_project_recipients IS 'Projects the beneficiary.key, disbursement.acknowledged and disbursement.disputed entries of one INSERT, in the inserting transaction.';

CREATE TRIGGER entries_project_recipients AFTER INSERT ON entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION entries_project_recipients();

CREATE TRIGGER beneficiary_keys_derived_only BEFORE INSERT OR UPDATE OR DELETE ON beneficiary_keys
    FOR EACH ROW EXECUTE FUNCTION refuse_direct_write();
CREATE TRIGGER beneficiary_keys_no_truncate BEFORE TRUNCATE ON beneficiary_keys
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER acknowledgments_derived_only BEFORE INSERT OR UPDATE OR DELETE ON acknowledgments
    FOR EACH ROW EXECUTE FUNCTION refuse_direct_write();
CREATE TRIGGER acknowledgments_no_truncate BEFORE TRUNCATE ON acknowledgments
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

CREATE TABLE enrolment_links (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    org_id       bigint NOT NULL REFERENCES organizations (id),
    beneficiary  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
COMMENT ON TABLE enrolment_links IS 'One-time enrolment links for beneficiaries'' keys (private: not in the log). A link is used once: its token is the Idempotency-Key of the beneficiary.key entry it records.';
COMMENT ON COLUMN enrolment_links.token_hash IS 'SHA-256 of the secret token (the token itself is shown once to the admin).';
COMMENT ON COLUMN enrolment_links.org_id IS 'The organization.';
COMMENT ON COLUMN enrolment_links.beneficiary IS 'The beneficiary that may enrol with it.';
COMMENT ON COLUMN enrolment_links.created_at IS 'When the admin made it.';
COMMENT ON COLUMN enrolment_links.expires_at IS 'After this the link enrols nothing.';
CREATE TRIGGER enrolment_links_append_only BEFORE UPDATE OR DELETE ON enrolment_links
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

REVOKE ALL ON beneficiary_keys, acknowledgments, enrolment_links FROM PUBLIC;
REVOKE ALL ON FUNCTION entries_project_recipients() FROM PUBLIC;
GRANT SELECT ON beneficiary_keys, acknowledgments TO ledger_writer, ledger_reader;
GRANT SELECT, INSERT ON enrolment_links TO ledger_writer;
