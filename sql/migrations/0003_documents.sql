-- 0003: per-organization document-signing certificates (ECDSA P-256) for PAdES-signed PDFs.

CREATE TABLE document_certificates (
    org_id        bigint PRIMARY KEY REFERENCES organizations (id),
    cert_der      bytea NOT NULL,
    sealed_key    bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE document_certificates IS 'The self-signed ECDSA P-256 certificate each organization signs receipts and statements with.';
COMMENT ON COLUMN document_certificates.org_id IS 'Owner.';
COMMENT ON COLUMN document_certificates.cert_der IS 'X.509 certificate (DER); public, served so auditors can pin it.';
COMMENT ON COLUMN document_certificates.sealed_key IS 'PKCS#8 private key sealed with AES-256-GCM under the key-encryption key.';
COMMENT ON COLUMN document_certificates.created_at IS 'When it was generated.';

CREATE TRIGGER document_certificates_no_delete BEFORE DELETE ON document_certificates
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
REVOKE ALL ON document_certificates FROM PUBLIC;
GRANT SELECT, INSERT ON document_certificates TO ledger_writer;
GRANT SELECT (org_id, cert_der, created_at) ON document_certificates TO ledger_reader;
