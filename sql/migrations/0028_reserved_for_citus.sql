-- 0028: reserved for the citus branch's migration (issue 15/21 briefs). This placeholder keeps
-- the numbering contiguous on the bank branch, whose migration is 0030; at merge the citus
-- branch's 0028 replaces it and this file is deleted (or, if that branch adds none, it stays).
SELECT 1;
