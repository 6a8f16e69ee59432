-- 0028: entry_value_date as one expression, so PostgreSQL inlines it (issue 15, bank import).
--
-- The calendar trigger (0016) calls entry_value_date once per money entry. Written as a
-- SELECT ... FROM (subquery) (0014, 0017), the function cannot be inlined: every call runs
-- the SQL-function executor, and the entry is read twice (the cast to json, then ->
-- 'body', then ->> the member). Measured on 95,000 donation entries: 0.71-0.83 s, against
-- 0.32-0.38 s for this form (one CASE over json_extract_path_text, which the planner inlines
-- into the trigger's INSERT ... SELECT). Same value for every kind and body: the same member
-- of the same document (RFC 8785 bytes have no repeated keys), NULL where a member or the
-- body is missing, the same recording date in Asia/Jakarta for a correction without
-- effective_on (docs/FORMAT.md "Value dates").

CREATE OR REPLACE FUNCTION entry_value_date(p_kind text, p_created timestamptz, p_body bytea)
RETURNS date LANGUAGE sql STABLE AS $$
    SELECT CASE p_kind
        WHEN 'donation' THEN
            json_extract_path_text(convert_from(p_body, 'UTF8')::json, 'body', 'received_on')::date
        WHEN 'disbursement' THEN
            json_extract_path_text(convert_from(p_body, 'UTF8')::json, 'body', 'paid_on')::date
        WHEN 'transfer' THEN
            json_extract_path_text(convert_from(p_body, 'UTF8')::json, 'body', 'transferred_on')::date
        WHEN 'fee' THEN
            json_extract_path_text(convert_from(p_body, 'UTF8')::json, 'body', 'charged_on')::date
        WHEN 'correction' THEN coalesce(
            json_extract_path_text(convert_from(p_body, 'UTF8')::json, 'body', 'effective_on')::date,
            (p_created AT TIME ZONE 'Asia/Jakarta')::date)
    END
$$;
