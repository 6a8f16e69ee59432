-- 0020: staff accounts for the web console (/console), their sessions, and failed logins.
--
-- None of this is in the public log: it holds e-mail addresses and password hashes. What the
-- public may know about staff (an account was added, its role changed, its password was
-- reset) is logged as entries (staff.added, staff.changed) with the account's random id only.
-- Passwords are argon2id hashes (argon2-cffi); session tokens are stored as SHA-256 hashes, so
-- a copy of this database opens no session. Nothing here can be deleted by the service:
-- accounts are disabled, sessions revoked or left to expire.

CREATE TABLE staff_accounts (
    id              uuid PRIMARY KEY,
    org_id          bigint NOT NULL REFERENCES organizations (id),
    email           text NOT NULL CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+$'
                                         AND length(email) <= 254),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role            text NOT NULL CHECK (role IN ('admin', 'recorder', 'auditor')),
    password_hash   text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    must_change     boolean NOT NULL DEFAULT false,
    totp_secret     bytea CHECK (totp_secret IS NULL OR length(totp_secret) BETWEEN 16 AND 200),
    totp_last_step  bigint,
    failed_logins   integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_at       timestamptz,
    disabled_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, email)
);
COMMENT ON TABLE staff_accounts IS 'People of an organization who use the web console. Personal data: never in the log.';
COMMENT ON COLUMN staff_accounts.id IS 'Random public id; the log names staff by this id only.';
COMMENT ON COLUMN staff_accounts.org_id IS 'The only organization this person can see or write.';
COMMENT ON COLUMN staff_accounts.email IS 'Login name, lower-cased; unique within the organization.';
COMMENT ON COLUMN staff_accounts.name IS 'Display name shown in the console.';
COMMENT ON COLUMN staff_accounts.role IS 'admin: staff, keys, funds; recorder: money; auditor: reads everything, writes nothing.';
COMMENT ON COLUMN staff_accounts.password_hash IS 'argon2id hash in PHC string form (parameters included).';
COMMENT ON COLUMN staff_accounts.must_change IS 'The password was set by someone else (admin, recovery): change it at the next login.';
COMMENT ON COLUMN staff_accounts.totp_secret IS 'RFC 6238 TOTP secret, sealed with the key-encryption key (AES-256-GCM); NULL: no second factor.';
COMMENT ON COLUMN staff_accounts.totp_last_step IS 'The last accepted TOTP time step: a code is accepted once.';
COMMENT ON COLUMN staff_accounts.failed_logins IS 'Failed logins since the last success; at the limit the account locks.';
COMMENT ON COLUMN staff_accounts.locked_at IS 'When too many failed logins locked it; an admin (or `ledger staff reset`) unlocks.';
COMMENT ON COLUMN staff_accounts.disabled_at IS 'When an admin disabled it; NULL while it may log in.';
COMMENT ON COLUMN staff_accounts.created_at IS 'When it was created.';

CREATE TABLE staff_sessions (
    token_hash    bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    staff_id      uuid NOT NULL REFERENCES staff_accounts (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
COMMENT ON TABLE staff_sessions IS 'Console sessions. Only the SHA-256 of the cookie''s random token is stored.';
COMMENT ON COLUMN staff_sessions.token_hash IS 'SHA-256 of the session token (256 random bits, sent only in a Secure HttpOnly cookie).';
COMMENT ON COLUMN staff_sessions.staff_id IS 'Whose session it is.';
COMMENT ON COLUMN staff_sessions.created_at IS 'Login time (a new session, a new token, at every login: no fixation).';
COMMENT ON COLUMN staff_sessions.last_seen_at IS 'Last request; idle sessions expire.';
COMMENT ON COLUMN staff_sessions.expires_at IS 'Absolute end of the session.';
COMMENT ON COLUMN staff_sessions.revoked_at IS 'Logout, password reset, role change or disabling; NULL while valid.';

CREATE TABLE staff_login_failures (
    address     text NOT NULL CHECK (length(address) <= 64),
    failed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_login_failures_recent ON staff_login_failures (address, failed_at);
COMMENT ON TABLE staff_login_failures IS 'Failed console logins per client address, to slow down guessing across accounts (rows older than the window are pruned).';
COMMENT ON COLUMN staff_login_failures.address IS 'Client IP address as the server saw it.';
COMMENT ON COLUMN staff_login_failures.failed_at IS 'When the attempt failed.';

REVOKE ALL ON staff_accounts, staff_sessions, staff_login_failures FROM PUBLIC;
-- Least privilege: the service inserts accounts and changes only the columns it must; it never
-- deletes an account or a session. Old login failures are the only rows it may delete.
GRANT SELECT, INSERT ON staff_accounts TO ledger_writer;
GRANT UPDATE (role, password_hash, must_change, totp_secret, totp_last_step, failed_logins,
              locked_at, disabled_at) ON staff_accounts TO ledger_writer;
GRANT SELECT, INSERT ON staff_sessions TO ledger_writer;
GRANT UPDATE (last_seen_at, revoked_at) ON staff_sessions TO ledger_writer;
GRANT SELECT, INSERT, DELETE ON staff_login_failures TO ledger_writer;
