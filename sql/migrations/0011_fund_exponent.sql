-- 0011: the exponent of a fund's amounts is data, recorded by its fund.created entry.
--
-- Before this, the exponent came from CLDR display data (Babel) at render time and was
-- recorded nowhere, so a Babel release that gave IDR 0 digits printed every amount 100x
-- too large. A fund.created entry now carries "minor_units" (ISO 4217's exponent when the
-- fund was created); this column projects it. NULL means a v1 entry written before the
-- member existed: docs/FORMAT.md section 6 fixes those to ISO 4217 list one as published
-- on 2026-01-01 (schemas.money.recorded_minor_units), so they need no rewrite.

ALTER TABLE funds ADD COLUMN minor_units smallint CHECK (minor_units BETWEEN 0 AND 4);
COMMENT ON COLUMN funds.minor_units IS 'Decimal exponent of every amount in the fund, as its fund.created entry recorded it (IDR 2); NULL for entries written before 0011, which use ISO 4217 as of 2026-01-01.';

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
                  FROM existing_idempotency_keys(p_org, p_keys) k)
    );
END $$;
