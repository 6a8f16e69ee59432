-- 0012: the running totals that decisions and public pages read are written by the database
-- alone, from the rows the append transaction inserts.
--
-- Before this, the service role (ledger_writer) could UPDATE balances and fund_totals: one
-- statement inflated a fund, the overdraft check then admitted a disbursement larger than
-- everything ever raised, and nothing noticed. Now:
--   * ledger_writer may only INSERT the per-entry rows (money_entries, postings, corrections,
--     funds, beneficiary_versions: append-only, refuse_change), which `ledger verify`
--     re-derives one by one from the entries' canonical bytes;
--   * balances, fund_totals and money_entries.corrected_by are written only by the statement
--     triggers below (SECURITY DEFINER, owned by the schema owner), from the inserted rows'
--     transition tables: one statement per INSERT, whatever the batch size;
--   * a row trigger refuses any other write to those three, even by the owner
--     (pg_trigger_depth() = 1: not from inside a trigger), so a change needs a superuser with
--     triggers disabled, which `ledger verify` reports (it recomputes every one from the log);
--   * every entry's posting lines must balance per currency: no money from nowhere.

-- Owner edits, too: only the derivation triggers below write these tables.
CREATE FUNCTION refuse_direct_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION '% is derived from the log by the database: % is not allowed',
            TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Append an entry; its rows move the totals.';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
COMMENT ON FUNCTION refuse_direct_write() IS
    'Refuses writes that do not come from a derivation trigger (pg_trigger_depth() < 2).';

-- balances: the sum of the postings, per account and currency.
CREATE FUNCTION balances_from_postings() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    bad record;
BEGIN
    SELECT org_id, entry_idx, currency INTO bad FROM new_postings
    GROUP BY org_id, entry_idx, currency HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'the posting lines of entry % of log % do not balance in %',
            bad.entry_idx, bad.org_id, bad.currency USING ERRCODE = 'check_violation';
    END IF;
    -- Sorted, so concurrent logs never wait on each other's rows in a different order.
    INSERT INTO balances AS b (org_id, account, currency, amount, as_of)
    SELECT org_id, account, currency, sum(amount)::bigint, max(entry_idx)
    FROM new_postings GROUP BY org_id, account, currency ORDER BY org_id, account, currency
    ON CONFLICT (org_id, account, currency)
    DO UPDATE SET amount = b.amount + EXCLUDED.amount, as_of = greatest(b.as_of, EXCLUDED.as_of);
    RETURN NULL;
END $$;
COMMENT ON FUNCTION balances_from_postings() IS
    'Moves balances by the inserted posting lines (once per INSERT), after checking each entry''s lines balance.';
CREATE TRIGGER postings_move_balances AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION balances_from_postings();

-- fund_totals: money rows per fund and kind (transfers also count as transfer_in of the
-- destination); a correction's row moves nothing here, its corrections row does.
CREATE FUNCTION fund_totals_from_money() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_money WHERE corrected_by IS NOT NULL) THEN
        RAISE EXCEPTION 'money_entries.corrected_by is set by a corrections row, not on insert'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO fund_totals AS t (org_id, fund, kind, amount)
    SELECT org_id, fund, kind, sum(amount)::bigint FROM (
        SELECT org_id, fund, kind, amount FROM new_money WHERE kind <> 'correction'
        UNION ALL
        SELECT org_id, counterparty, 'transfer_in', amount FROM new_money WHERE kind = 'transfer'
    ) m GROUP BY org_id, fund, kind ORDER BY org_id, fund, kind
    ON CONFLICT (org_id, fund, kind) DO UPDATE SET amount = t.amount + EXCLUDED.amount;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION fund_totals_from_money() IS
    'Moves fund_totals by the inserted money rows (once per INSERT).';
CREATE TRIGGER money_entries_move_totals AFTER INSERT ON money_entries
    REFERENCING NEW TABLE AS new_money
    FOR EACH STATEMENT EXECUTE FUNCTION fund_totals_from_money();

-- corrections: mark the corrected row and take it out of its fund's totals.
CREATE FUNCTION apply_corrections() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    wanted bigint;
    marked bigint;
BEGIN
    SELECT count(*) INTO wanted FROM new_corrections;
    UPDATE money_entries m SET corrected_by = c.entry_idx
    FROM new_corrections c
    WHERE m.org_id = c.org_id AND m.entry_idx = c.corrected AND m.corrected_by IS NULL
      AND m.kind <> 'correction' AND c.entry_idx > c.corrected;
    GET DIAGNOSTICS marked = ROW_COUNT;
    IF marked <> wanted THEN
        RAISE EXCEPTION 'a correction names an entry that is not an uncorrected money entry before it'
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO fund_totals AS t (org_id, fund, kind, amount)
    SELECT org_id, fund, kind, -sum(amount)::bigint FROM (
        SELECT m.org_id, m.fund, m.kind, m.amount FROM new_corrections c
        JOIN money_entries m ON m.org_id = c.org_id AND m.entry_idx = c.corrected
        UNION ALL
        SELECT m.org_id, m.counterparty, 'transfer_in', m.amount FROM new_corrections c
        JOIN money_entries m ON m.org_id = c.org_id AND m.entry_idx = c.corrected
        WHERE m.kind = 'transfer'
    ) r GROUP BY org_id, fund, kind ORDER BY org_id, fund, kind
    ON CONFLICT (org_id, fund, kind) DO UPDATE SET amount = t.amount + EXCLUDED.amount;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION apply_corrections() IS
    'Sets money_entries.corrected_by and takes the corrected amounts out of fund_totals (once per INSERT).';
CREATE TRIGGER corrections_apply AFTER INSERT ON corrections
    REFERENCING NEW TABLE AS new_corrections
    FOR EACH STATEMENT EXECUTE FUNCTION apply_corrections();

CREATE TRIGGER balances_derived_only BEFORE INSERT OR UPDATE OR DELETE ON balances
    FOR EACH ROW EXECUTE FUNCTION refuse_direct_write();
CREATE TRIGGER balances_no_truncate BEFORE TRUNCATE ON balances
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER fund_totals_derived_only BEFORE INSERT OR UPDATE OR DELETE ON fund_totals
    FOR EACH ROW EXECUTE FUNCTION refuse_direct_write();
CREATE TRIGGER fund_totals_no_truncate BEFORE TRUNCATE ON fund_totals
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
-- money_entries: inserted by the writer, never deleted; only corrected_by changes, and only
-- from apply_corrections.
CREATE TRIGGER money_entries_derived_only BEFORE UPDATE OR DELETE ON money_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_direct_write();
CREATE TRIGGER money_entries_no_truncate BEFORE TRUNCATE ON money_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- ledger verify reads every corrected row at once: only those rows are in this index.
CREATE INDEX money_entries_corrected ON money_entries (org_id, entry_idx)
    WHERE corrected_by IS NOT NULL;

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON balances, fund_totals FROM ledger_writer;
REVOKE UPDATE (corrected_by) ON money_entries FROM ledger_writer;
REVOKE UPDATE, DELETE, TRUNCATE ON money_entries, postings, corrections, funds,
    beneficiary_versions FROM ledger_writer;

COMMENT ON TABLE balances IS 'Sum of postings per account and currency; written only by the postings_move_balances trigger; recomputed from the log by ledger verify.';
COMMENT ON COLUMN balances.as_of IS 'Index of the newest entry that posted to this account.';
COMMENT ON TABLE fund_totals IS 'Per fund and kind, the sum of money entries net of corrections (transfer_in: transfers into the fund); written only by the money_entries_move_totals and corrections_apply triggers; recomputed from the log by ledger verify.';
COMMENT ON COLUMN money_entries.corrected_by IS 'Index of the correction that reverses this entry; set only by the corrections_apply trigger.';
