-- 0006: shared rate-limit counters (ledger/ratelimit.py), so every worker process of
-- `ledger serve --workers N` counts the requests of an API key against one limit.
--
-- Each process counts locally and adds its counts here every ~100 ms. UNLOGGED: counters
-- are not worth a WAL flush per update, and a database crash merely resets them. Rows older
-- than ten minutes are deleted by the service; nothing here is part of the log.

CREATE UNLOGGED TABLE rate_limit_counts (
    window_start  timestamptz NOT NULL,
    key_id        uuid NOT NULL REFERENCES api_keys (id),
    hits          bigint NOT NULL CHECK (hits >= 0),
    PRIMARY KEY (window_start, key_id)
);
COMMENT ON TABLE rate_limit_counts IS 'Requests admitted per API key per fixed one-minute window, summed over all service processes (approximate: each process flushes every ~100 ms).';
COMMENT ON COLUMN rate_limit_counts.window_start IS 'Start of the window (UTC, a whole minute).';
COMMENT ON COLUMN rate_limit_counts.key_id IS 'The API key counted.';
COMMENT ON COLUMN rate_limit_counts.hits IS 'Requests admitted in the window by every process together, as flushed so far.';

GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit_counts TO ledger_writer;
