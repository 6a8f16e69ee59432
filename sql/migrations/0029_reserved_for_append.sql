-- 0029: reserved for the append branch's migration (issue 15/21 briefs). This placeholder keeps
-- the numbering contiguous on the bank branch, whose migration is 0030; at merge the append
-- branch's 0029 replaces it and this file is deleted (or, if that branch adds none, it stays).
SELECT 1;
