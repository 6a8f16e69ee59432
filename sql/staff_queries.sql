-- Named queries of the web console's staff accounts and sessions (migration 0020), run only
-- by ledger/store/staff.py. Personal data (e-mail, names) stays in these tables, never in the log.

-- name: insert_staff
INSERT INTO staff_accounts (id, org_id, email, name, role, password_hash, must_change)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: staff_by_email
SELECT id, org_id, email, name, role, password_hash, must_change, totp_secret, totp_last_step,
       failed_logins, locked_at, disabled_at, created_at
FROM staff_accounts WHERE org_id = $1 AND email = $2;

-- name: staff_by_id
SELECT id, org_id, email, name, role, password_hash, must_change, totp_secret, totp_last_step,
       failed_logins, locked_at, disabled_at, created_at
FROM staff_accounts WHERE id = $1;

-- name: list_staff
SELECT id, org_id, email, name, role, password_hash, must_change, totp_secret, totp_last_step,
       failed_logins, locked_at, disabled_at, created_at
FROM staff_accounts WHERE org_id = $1 ORDER BY email;

-- name: count_staff
SELECT count(*) FROM staff_accounts WHERE org_id = $1;

-- name: login_failed
-- One more failed login; at $2 failures the account locks (until an admin unlocks it).
UPDATE staff_accounts
SET failed_logins = failed_logins + 1,
    locked_at = CASE WHEN locked_at IS NULL AND failed_logins + 1 >= $2 THEN now() ELSE locked_at END
WHERE id = $1
RETURNING failed_logins, locked_at;

-- name: login_succeeded
UPDATE staff_accounts SET failed_logins = 0 WHERE id = $1 AND failed_logins <> 0;

-- name: set_password
-- A new password also unlocks the account (the reset is what an admin does after a lockout).
UPDATE staff_accounts
SET password_hash = $2, must_change = $3, failed_logins = 0, locked_at = NULL
WHERE id = $1;

-- name: set_role
UPDATE staff_accounts SET role = $2 WHERE id = $1;

-- name: set_disabled
UPDATE staff_accounts SET disabled_at = CASE WHEN $2 THEN now() ELSE NULL END WHERE id = $1;

-- name: unlock_staff
UPDATE staff_accounts SET failed_logins = 0, locked_at = NULL WHERE id = $1;

-- name: set_totp
UPDATE staff_accounts SET totp_secret = $2, totp_last_step = NULL WHERE id = $1;

-- name: use_totp_step
-- Accept a TOTP time step once: a code seen before (or an older one) changes no row.
UPDATE staff_accounts SET totp_last_step = $2
WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)
RETURNING id;

-- name: insert_session
-- A session that ends $3 seconds from now (the database's clock).
INSERT INTO staff_sessions (token_hash, staff_id, expires_at)
VALUES ($1, $2, now() + make_interval(secs => $3));

-- name: session_staff
-- The account behind a session token's hash, if the session is still valid and was last
-- seen less than $2 seconds ago (the idle limit). Every column of the account, then whether
-- it was seen less than $3 seconds ago (then its last_seen_at is not written again), and the
-- organization's slug.
SELECT a.id, a.org_id, a.email, a.name, a.role, a.password_hash, a.must_change, a.totp_secret,
       a.totp_last_step, a.failed_logins, a.locked_at, a.disabled_at, a.created_at,
       s.last_seen_at > now() - make_interval(secs => $3) AS fresh, o.slug
FROM staff_sessions s JOIN staff_accounts a ON a.id = s.staff_id
JOIN organizations o ON o.id = a.org_id
WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
  AND s.last_seen_at > now() - make_interval(secs => $2) AND a.disabled_at IS NULL AND a.locked_at IS NULL;

-- name: touch_session
UPDATE staff_sessions SET last_seen_at = now() WHERE token_hash = $1;

-- name: revoke_session
UPDATE staff_sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL;

-- name: revoke_sessions_of
UPDATE staff_sessions SET revoked_at = now() WHERE staff_id = $1 AND revoked_at IS NULL;

-- name: address_failures
-- Failed logins from one address in the last $2 seconds.
SELECT count(*) FROM staff_login_failures
WHERE address = $1 AND failed_at > now() - make_interval(secs => $2);

-- name: insert_address_failure
INSERT INTO staff_login_failures (address) VALUES ($1);

-- name: prune_address_failures
DELETE FROM staff_login_failures WHERE failed_at < now() - make_interval(secs => $1);

-- name: insert_api_key_by
INSERT INTO api_keys (id, org_id, prefix, secret_hash, role, label, issued_by)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: api_keys_of_org
SELECT id, prefix, role, label, created_at, revoked_at, issued_by FROM api_keys
WHERE org_id = $1 ORDER BY created_at DESC, id;

-- name: revoke_api_key_of
-- Revoke one active key of the organization (and, when $3 is not NULL, only if that account
-- issued it); tell every process to forget its cached lookup at commit.
WITH revoked AS (
    UPDATE api_keys SET revoked_at = now()
    WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL
      AND ($3::uuid IS NULL OR issued_by = $3)
    RETURNING prefix
)
SELECT prefix, pg_notify('ledger_api_key_revoked', prefix) FROM revoked;

-- name: revoke_other_sessions
UPDATE staff_sessions SET revoked_at = now()
WHERE staff_id = $1 AND token_hash <> $2 AND revoked_at IS NULL;

-- name: donation_sums
-- The console's dashboard: donations per fund by value date, today ($2) and from the first of
-- the month ($3) to today, not counting reversed ones (value_dates_by_date index).
SELECT m.fund, m.currency,
       coalesce(sum(m.amount) FILTER (WHERE v.value_on = $2), 0)::bigint AS today,
       count(*) FILTER (WHERE v.value_on = $2) AS today_count,
       coalesce(sum(m.amount), 0)::bigint AS month,
       count(*) AS month_count
FROM value_dates v
JOIN money_entries m ON m.org_id = v.org_id AND m.entry_idx = v.entry_idx
WHERE v.org_id = $1 AND v.value_on BETWEEN $3 AND $2
  AND m.kind = 'donation' AND m.corrected_by IS NULL
GROUP BY m.fund, m.currency
ORDER BY m.fund, m.currency;

-- name: recent_money
-- The newest money entries (for the console's lists), newest first, below index $2.
SELECT m.entry_idx, m.kind, m.fund, m.counterparty, m.currency, m.amount, m.reference,
       m.corrected_by
FROM money_entries m
WHERE m.org_id = $1 AND m.entry_idx < $2
ORDER BY m.entry_idx DESC
LIMIT $3;

-- name: session_owner
-- Whose session a token's hash was, valid or not any more (a form typed in a session that
-- ended comes back after login only to the same person).
SELECT staff_id FROM staff_sessions WHERE token_hash = $1;
