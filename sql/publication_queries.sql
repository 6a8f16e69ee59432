-- What an organization publishes about its funds beyond the money: a fund's target
-- (fund.target) and redacted copies of evidence (evidence.published), with the private
-- evidence they are linked to (evidence.attached). All read from the log itself through
-- entries_by_kind (migration 0019): no projection, so nothing for `ledger verify` to
-- re-derive beyond the entries' own bytes. (ledger/store/publication.py)

-- name: fund_target
-- The newest fund.target entry of fund $2 among the log's first $3 entries (the index read
-- backwards; a fund has few such entries).
SELECT idx, (convert_from(body, 'UTF8')::jsonb -> 'body')::text AS body FROM entries
WHERE org_id = $1 AND kind = 'fund.target' AND idx < $3
  AND convert_from(body, 'UTF8')::jsonb -> 'body' ->> 'fund' = $2
ORDER BY idx DESC LIMIT 1;

-- name: evidence_links
-- The evidence.attached and evidence.published entries about the disbursements $2, or
-- naming a file among $3 (hex SHA-256, as `sha256` or `original`), in log order.
SELECT e.idx, e.kind, e.b::text AS body
FROM (SELECT idx, kind, convert_from(body, 'UTF8')::jsonb -> 'body' AS b FROM entries
      WHERE org_id = $1 AND kind IN ('evidence.attached', 'evidence.published')) e
WHERE (e.b ->> 'disbursement')::bigint = ANY ($2::bigint[])
   OR e.b ->> 'sha256' = ANY ($3::text[])
   OR e.b ->> 'original' = ANY ($3::text[])
ORDER BY e.idx;

-- name: published_evidence_file
-- An evidence file that an evidence.published entry made public and no evidence.withdrawn
-- entry took down (the type and the bytes); no row for a private original, an unknown hash
-- or a copy whose every publication was withdrawn.
SELECT f.content_type, f.content FROM evidence_files f
WHERE f.org_id = $1 AND f.sha256 = $2
  AND EXISTS (SELECT 1 FROM entries e
              WHERE e.org_id = $1 AND e.kind = 'evidence.published'
                AND convert_from(e.body, 'UTF8')::jsonb -> 'body' ->> 'sha256' = encode($2, 'hex')
                AND NOT EXISTS (
                  SELECT 1 FROM entries w
                  WHERE w.org_id = $1 AND w.kind = 'evidence.withdrawn'
                    AND (convert_from(w.body, 'UTF8')::jsonb -> 'body' ->> 'published')::bigint
                        = e.idx));

-- name: publications_of_file
-- The evidence.published entries that made the file with hex SHA-256 $2 public, in log order.
SELECT idx FROM entries
WHERE org_id = $1 AND kind = 'evidence.published'
  AND convert_from(body, 'UTF8')::jsonb -> 'body' ->> 'sha256' = $2
ORDER BY idx;

-- name: evidence_withdrawals
-- The evidence.withdrawn entries naming one of the published entries $2, with their time.
SELECT idx, created_at, (convert_from(body, 'UTF8')::jsonb -> 'body')::text AS body
FROM entries
WHERE org_id = $1 AND kind = 'evidence.withdrawn'
  AND (convert_from(body, 'UTF8')::jsonb -> 'body' ->> 'published')::bigint = ANY ($2::bigint[])
ORDER BY idx;

-- name: entry_kinds
-- The kind of each of the entries $2 that exists (what a withdrawal names must be a
-- published copy of evidence).
SELECT idx, kind FROM entries WHERE org_id = $1 AND idx = ANY ($2::bigint[]);
