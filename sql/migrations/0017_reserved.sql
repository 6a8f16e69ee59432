-- 0017: reserved for another branch's migration. This file exists only so that the numbers of
-- branch `acks` stay contiguous (ledger.store.migrate.available); when the branches are
-- merged, the other branch's 0017 replaces it and this file is deleted.
SELECT 1;
