-- 0017: a placeholder on the console branch. Migrations 0017-0019 belong to other branches
-- (the runner needs numbers without gaps); delete this file when merging theirs.
SELECT 1;
