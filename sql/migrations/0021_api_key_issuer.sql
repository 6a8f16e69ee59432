-- 0021: which console account issued an API key, so a recorder or an auditor may revoke the
-- keys they issued themselves (an admin may revoke any key of the organization).

ALTER TABLE api_keys ADD COLUMN issued_by uuid REFERENCES staff_accounts (id);
COMMENT ON COLUMN api_keys.issued_by IS 'The console account that issued the key; NULL: the API, the command line or recovery.';
