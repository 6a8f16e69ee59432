-- 0016: the calendar projections (migration 0014) once per INSERT instead of once per row.
--
-- 0014 projected each money entry's value date with a row-level PL/pgSQL trigger: one
-- function call and one single-row INSERT per entry, all inside the log's head lock. Measured
-- on 2026-12-02, PostgreSQL's CPU per HTTP donation had nearly doubled since 0012-0014. Like
-- 0012's derivations, the projection now runs once per INSERT (or COPY) statement over its
-- transition table: one INSERT ... SELECT for the value dates, one for the newest
-- org.settings of each log. Same rows, same rules (entry_value_date is unchanged), still
-- written only by the database.

DROP TRIGGER entries_project_calendar ON entries;

CREATE FUNCTION entries_project_calendar_batch() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO value_dates (org_id, entry_idx, value_on)
    SELECT n.org_id, n.idx, entry_value_date(n.kind, n.created_at, n.body)
    FROM new_entries n
    WHERE n.kind IN ('donation', 'disbursement', 'transfer', 'fee', 'correction');

    INSERT INTO org_settings (org_id, time_zone, books_open, entry_idx)
    SELECT DISTINCT ON (s.org_id) s.org_id, s.b ->> 'time_zone', (s.b ->> 'books_open')::date, s.idx
    FROM (SELECT n.org_id, n.idx, convert_from(n.body, 'UTF8')::jsonb -> 'body' AS b
          FROM new_entries n WHERE n.kind = 'org.settings') s
    ORDER BY s.org_id, s.idx DESC
    ON CONFLICT (org_id) DO UPDATE
        SET time_zone = EXCLUDED.time_zone, books_open = EXCLUDED.books_open,
            entry_idx = EXCLUDED.entry_idx
        WHERE org_settings.entry_idx < EXCLUDED.entry_idx;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION entries_project_calendar_batch IS 'Projects the org.settings entries of one INSERT into org_settings (the newest per log) and its money entries into value_dates, in the inserting transaction.';

CREATE TRIGGER entries_project_calendar AFTER INSERT ON entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION entries_project_calendar_batch();

DROP FUNCTION entries_project_calendar();
REVOKE ALL ON FUNCTION entries_project_calendar_batch() FROM PUBLIC;
