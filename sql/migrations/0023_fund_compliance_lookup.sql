-- 0023: a fund's standing under Indonesian rules, read with the head lock (issue 18).
--
-- fund.classified and fund.permit entries (docs/FORMAT.md section 6) decide whether a
-- donation is admitted (a lapsed fundraising permit refuses it) and whether a transfer to an
-- amil fund stays within the PSAK 109 cap. They are few per fund and are read from the log
-- itself, through entries_by_kind (0019): no projection, so nothing for `ledger verify` to
-- re-derive beyond the entries' own bytes. admit_lookups (0010, 0011, 0015) returns them
-- for the funds a batch touches, so admitting keeps its single round trip.

CREATE OR REPLACE FUNCTION admit_lookups(
    p_org bigint, p_funds text[], p_bens text[], p_accounts text[], p_refs text[], p_keys text[]
) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN jsonb_build_object(
        'funds', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                      f.code, f.entry_idx, f.name, f.currency, f.earmark, f.fee_cap_bps,
                      f.minor_units)), '[]')
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
                  FROM existing_idempotency_keys(p_org, p_keys) k),
        'calendar', (SELECT jsonb_build_array(
                      to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                      s.time_zone, s.books_open)
                  FROM entries e LEFT JOIN org_settings s ON s.org_id = e.org_id
                  WHERE e.org_id = p_org AND e.idx = 0),
        'compliance', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.idx, c.kind, c.b)
                                                 ORDER BY c.idx), '[]')
                  FROM (SELECT e.idx, e.kind, convert_from(e.body, 'UTF8')::jsonb -> 'body' AS b
                        FROM entries e
                        WHERE e.org_id = p_org AND e.kind IN ('fund.classified', 'fund.permit')
                          AND cardinality(p_funds) > 0) c
                  WHERE c.b ->> 'fund' = ANY (p_funds))
    );
END $$;
COMMENT ON FUNCTION admit_lookups(bigint, text[], text[], text[], text[], text[]) IS
    'What admitting a batch reads, as one JSON object: funds, current beneficiary versions, balances, unreversed donation references, Idempotency-Keys, the calendar [log.created time, time_zone, books_open] (0015), and the fund.classified / fund.permit entries [idx, kind, body] of the funds (0023).';
