-- Named queries of `ledger citus distribute` (ledger/store/citus.py): turning a migrated
-- database on a Citus coordinator into one sharded by organization (issue 21, README
-- "Scaling out"). Run as a superuser on the coordinator, in one transaction.

-- name: citus_version
-- NULL when the Citus extension is not installed in this database.
SELECT extversion FROM pg_extension WHERE extname = 'citus';

-- name: active_workers
SELECT count(*)::int FROM pg_dist_node WHERE isactive AND noderole = 'primary' AND shouldhaveshards;

-- name: citus_tables
-- Tables Citus manages already: 'reference' or 'distributed' (with their column).
SELECT logicalrelid::regclass::text AS table_name,
       CASE partmethod WHEN 'n' THEN 'reference' ELSE 'distributed' END AS kind
FROM pg_dist_partition WHERE logicalrelid::regclass::text = ANY ($1::text[]);

-- name: schema_tables
-- The ledger's tables (every table of the public schema but the version tables of migration
-- sets, which stay on the coordinator where `ledger migrate` runs), and whether each has an
-- org_id column.
SELECT c.relname AS table_name,
       EXISTS (SELECT 1 FROM pg_attribute a
               WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped) AS has_org_id
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname NOT LIKE '%schema_migrations'
ORDER BY c.relname;

-- name: foreign_keys
-- Every foreign key between the ledger's tables, with its definition to add it back.
SELECT con.conname AS name, src.relname AS table_name, dst.relname AS referenced,
       pg_get_constraintdef(con.oid) AS definition
FROM pg_constraint con
JOIN pg_class src ON src.oid = con.conrelid
JOIN pg_class dst ON dst.oid = con.confrelid
JOIN pg_namespace n ON n.oid = src.relnamespace
WHERE con.contype = 'f' AND n.nspname = 'public'
ORDER BY src.relname, con.conname;

-- name: allow_triggers
-- Citus refuses tables with triggers unless told they are safe. The ledger's triggers touch
-- only the shard they fire on and its co-located shards (migration 0027, org_relation), so
-- they are. Also set for the database, so that later migrations may add such triggers.
-- One connection per node for the whole transaction: the reference tables' foreign keys
-- are re-created in the same transaction as the distributed tables.
SET LOCAL citus.enable_unsafe_triggers = on;
SET LOCAL citus.multi_shard_modify_mode = 'sequential';

-- name: create_reference_table
SELECT create_reference_table($1::regclass);

-- name: create_colocation_table
-- entries first, with the shard count: every other table is co-located with it.
SELECT create_distributed_table($1::regclass, 'org_id', colocate_with => 'none', shard_count => $2);

-- name: create_distributed_table
SELECT create_distributed_table($1::regclass, 'org_id', colocate_with => $2);

-- name: distribute_function
-- A function whose first argument is the organization (ledger.store.citus.DELEGATED_FUNCTIONS;
-- e.g. the writer's reference probe, recorded_references in sql/ingest_queries.sql): a call
-- on its own runs on the worker that holds the organization's shards.
SELECT create_distributed_function($1::regprocedure, '$1', colocate_with => 'entries');

-- name: role_logins
-- Citus opens its connections to the workers as the current role: the service's roles must be
-- able to log in there. ALTER ROLE is propagated to every node. How they authenticate is the
-- deployment's choice (README "Scaling out": passwords in pg_dist_authinfo or client
-- certificates through citus.node_conninfo); without a password or certificate nobody can log
-- in with them under password or certificate authentication.
ALTER ROLE ledger_writer LOGIN;
ALTER ROLE ledger_reader LOGIN;
-- A write to a reference table that references another (api_keys -> organizations,
-- staff_sessions -> staff_accounts, webhook_cursors -> webhook_subscriptions) makes Citus
-- lock the referenced table's shard, which it allows only to a role that may UPDATE, DELETE
-- or TRUNCATE that table; ledger_writer may not (key revocation failed with "permission
-- denied for table organizations"). The locks only order writes; the grants still decide
-- what the role may change.
ALTER ROLE ledger_writer SET citus.skip_advisory_lock_permission_checks = on;

-- name: shard_placements
-- Where each organization's shard group lives (the worker that runs its group commits).
SELECT o.id AS org_id, o.slug, p.nodename, p.nodeport
FROM organizations o
CROSS JOIN LATERAL (SELECT get_shard_id_for_distribution_column('entries', o.id) AS shardid) s
JOIN pg_dist_shard_placement p ON p.shardid = s.shardid
ORDER BY o.id;

-- name: allow_triggers_later
DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET citus.enable_unsafe_triggers = on', current_database());
END $$;
