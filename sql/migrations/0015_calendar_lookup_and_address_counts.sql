-- 0015: the organization's calendar read with the head lock, and anonymous rate-limit counts
-- shared by every worker process.
--
-- admit_lookups (migrations 0010, 0011) also returns the calendar the value-date rule needs
-- (docs/FORMAT.md "Value dates"): the time of entry 0 (log.created, from which the default
-- calendar derives) and the newest org.settings values (NULLs when the log recorded none).
-- lock_head_admitting calls it, so admitting a batch keeps its single round trip.
--
-- rate_limit_addresses counts requests without a valid API key per client address and
-- one-minute window, as rate_limit_counts (0006) does per key. The address is the only
-- personal datum; rows are kept for the current window and deleted by the service once
-- the window has passed. UNLOGGED: a database crash merely resets the counts.

CREATE OR REPLACE FUNCTION admit_lookups(
    p_org bigint, p_funds text[], p_bens text[], p_accounts text[], p_refs text[], p_keys text[]
) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN jsonb_build_object(
        'funds', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                      f.code, f.entry_idx, f.name, f.currency, f.earmark, f.fee_cap_bps,
                      f.minor_units)), '[]')
                  FROM funds f WHERE f.org_id = p_org AND f.code = ANY (p_funds)),
        'beneficiaries', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                      b.code, b.version, b.entry_idx, b.name, b.city, b.province, b.registration)), '[]')
                  FROM (SELECT DISTINCT ON (code) * FROM beneficiary_versions
                        WHERE org_id = p_org AND code = ANY (p_bens)
                        ORDER BY code, version DESC) b),
        'balances', (SELECT coalesce(jsonb_agg(jsonb_build_array(a.account, a.currency, a.amount)), '[]')
                  FROM balances a WHERE a.org_id = p_org AND a.account = ANY (p_accounts)),
        'refs', (SELECT coalesce(jsonb_agg(r), '[]')
                  FROM existing_donation_references(p_org, p_refs) r),
        'keys', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                      k.key, translate(encode(k.request_hash, 'base64'), E'\n', ''), k.status,
                      translate(encode(k.response, 'base64'), E'\n', ''))), '[]')
                  FROM existing_idempotency_keys(p_org, p_keys) k),
        'calendar', (SELECT jsonb_build_array(
                      to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                      s.time_zone, s.books_open)
                  FROM entries e LEFT JOIN org_settings s ON s.org_id = e.org_id
                  WHERE e.org_id = p_org AND e.idx = 0)
    );
END $$;
COMMENT ON FUNCTION admit_lookups(bigint, text[], text[], text[], text[], text[]) IS
    'What admitting a batch reads, as one JSON object: funds, current beneficiary versions, balances, unreversed donation references, Idempotency-Keys, and the calendar [log.created time, time_zone, books_open] (migration 0015).';

CREATE UNLOGGED TABLE rate_limit_addresses (
    window_start  timestamptz NOT NULL,
    address       text NOT NULL CHECK (length(address) BETWEEN 1 AND 64),
    hits          bigint NOT NULL CHECK (hits >= 0),
    PRIMARY KEY (window_start, address)
);
COMMENT ON TABLE rate_limit_addresses IS 'Requests without a valid API key admitted per client address per one-minute window, summed over all service processes; rows of past windows are deleted by the service.';
COMMENT ON COLUMN rate_limit_addresses.window_start IS 'Start of the window (UTC, a whole minute).';
COMMENT ON COLUMN rate_limit_addresses.address IS 'The client address (TCP peer) counted; kept only while its window is current.';
COMMENT ON COLUMN rate_limit_addresses.hits IS 'Requests admitted in the window by every process together, as flushed so far.';

REVOKE ALL ON rate_limit_addresses FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit_addresses TO ledger_writer;
