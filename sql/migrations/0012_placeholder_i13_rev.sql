-- PLACEHOLDER, to be deleted at merge: migration 0012 belongs to another slice of issue 13
-- being built in parallel. ledger.migrate requires contiguous numbers, so branch i13-rev
-- carries this empty file to run its own 0013 (0013_reversed_references.sql). When merging,
-- drop this file and keep the other slice's 0012.
SELECT 1;
