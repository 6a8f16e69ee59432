-- Cluster-wide roles, created before the migrations (idempotent, safe under concurrency).
-- ledger_writer: what the service runs as (SET per connection). ledger_reader: read-only.
DO $$
BEGIN
    CREATE ROLE ledger_writer NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$
BEGIN
    CREATE ROLE ledger_reader NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
