-- 0010: the head lock and what admitting a batch reads, in one round trip.
--
-- Measured with two worker processes: every round trip the writer makes while it holds the
-- log-head lock costs not only the database's time but also the wait until its event loop,
-- busy with other requests' HTTP, resumes it (~2 ms each). Locking the head and reading the
-- funds, beneficiaries, balances, references and Idempotency-Keys were two of them.
--
-- The reads must see every batch committed before the lock was granted. One statement has
-- one snapshot, taken before it may wait for the lock, so the reads live in this VOLATILE
-- PL/pgSQL function: in READ COMMITTED each query inside it takes a new snapshot when it
-- runs, and the query "lock_head_admitting" calls it above the FOR UPDATE of the head row
-- (a locking subquery is never flattened), i.e. once the lock is held.

CREATE FUNCTION admit_lookups(
    p_org bigint, p_funds text[], p_bens text[], p_accounts text[], p_refs text[], p_keys text[]
) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN jsonb_build_object(
        'funds', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                      f.code, f.entry_idx, f.name, f.currency, f.earmark, f.fee_cap_bps)), '[]')
                  FROM funds f WHERE f.org_id = p_org AND f.code = ANY (p_funds)),
        'beneficiaries', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                      b.code, b.version, b.entry_idx, b.name, b.city, b.province, b.registration)), '[]')
                  FROM (SELECT DISTINCT ON (code) * FROM beneficiary_versions
                        WHERE org_id = p_org AND code = ANY (p_bens)
                        ORDER BY code, version DESC) b),
        'balances', (SELECT coalesce(jsonb_agg(jsonb_build_array(a.account, a.currency, a.amount)), '[]')
                  FROM balances a WHERE a.org_id = p_org AND a.account = ANY (p_accounts)),
        'refs', (SELECT coalesce(jsonb_agg(r), '[]')
                  FROM existing_donation_references(p_org, p_refs) r),
        'keys', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                      k.key, translate(encode(k.request_hash, 'base64'), E'\n', ''), k.status,
                      translate(encode(k.response, 'base64'), E'\n', ''))), '[]')
                  FROM existing_idempotency_keys(p_org, p_keys) k)
    );
END $$;
COMMENT ON FUNCTION admit_lookups(bigint, text[], text[], text[], text[], text[]) IS
    'Funds, current beneficiary versions, balances, recorded donation references and used Idempotency-Keys among those given, as JSON (fresh snapshot: call it with the head locked).';
