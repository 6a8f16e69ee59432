-- 0026: reserved for the append branch's migration (issue 21 brief: this branch has 0027 and
-- 0028). This placeholder keeps the numbering contiguous on the citus branch; at merge the
-- append branch's 0026 replaces it and this file is deleted.
SELECT 1;
