-- 0014: value dates and the organization's calendar.
--
-- Every money entry has two times: its value date (when the money moved, a local date of
-- the organization: received_on, paid_on, transferred_on, charged_on, or a correction's
-- effective_on) and its recording time (the entry's "time"). Statements select by value
-- date, so value dates are projected here; the log order and consistency proofs still
-- follow recording. Both tables are written only by the database, from inserted entries
-- (a trigger on entries): the service role can read them, never write them.

CREATE TABLE org_settings (
    org_id      bigint PRIMARY KEY REFERENCES organizations (id),
    time_zone   text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    books_open  date NOT NULL,
    entry_idx   bigint NOT NULL,
    FOREIGN KEY (org_id, entry_idx) REFERENCES entries (org_id, idx)
);
COMMENT ON TABLE org_settings IS 'The newest org.settings entry of each log (none: time zone Asia/Jakarta, books open 5 years before the log was created).';
COMMENT ON COLUMN org_settings.org_id IS 'The log.';
COMMENT ON COLUMN org_settings.time_zone IS 'IANA time zone whose local dates make the periods and value dates of the organization.';
COMMENT ON COLUMN org_settings.books_open IS 'Earliest value date the organization may record.';
COMMENT ON COLUMN org_settings.entry_idx IS 'The org.settings entry these values come from.';

CREATE TABLE value_dates (
    org_id      bigint NOT NULL REFERENCES organizations (id),
    entry_idx   bigint NOT NULL,
    value_on    date NOT NULL,
    PRIMARY KEY (org_id, entry_idx),
    FOREIGN KEY (org_id, entry_idx) REFERENCES entries (org_id, idx)
);
CREATE INDEX value_dates_by_date ON value_dates (org_id, value_on, entry_idx);
COMMENT ON TABLE value_dates IS 'Value date of every money entry (donation, disbursement, transfer, fee, correction), projected from its body by a trigger.';
COMMENT ON COLUMN value_dates.org_id IS 'The log.';
COMMENT ON COLUMN value_dates.entry_idx IS 'The money entry.';
COMMENT ON COLUMN value_dates.value_on IS 'Its value date, a local date of the organization (docs/FORMAT.md section 6): received_on, paid_on, transferred_on, charged_on, or a correction''s effective_on (for a correction written before 0014 without one: its recording date in Asia/Jakarta).';

CREATE FUNCTION entry_value_date(p_kind text, p_created timestamptz, p_body bytea)
RETURNS date LANGUAGE sql STABLE AS $$
    SELECT CASE p_kind
        WHEN 'donation' THEN (b ->> 'received_on')::date
        WHEN 'disbursement' THEN (b ->> 'paid_on')::date
        WHEN 'transfer' THEN (b ->> 'transferred_on')::date
        WHEN 'fee' THEN (b ->> 'charged_on')::date
        WHEN 'correction' THEN coalesce(
            (b ->> 'effective_on')::date, (p_created AT TIME ZONE 'Asia/Jakarta')::date)
    END
    FROM (SELECT convert_from(p_body, 'UTF8')::jsonb -> 'body' AS b) AS e
$$;
COMMENT ON FUNCTION entry_value_date IS 'The value date of a money entry, from its canonical bytes (docs/FORMAT.md "Value dates"; a correction without effective_on: its recording date in Asia/Jakarta).';

CREATE FUNCTION entries_project_calendar() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    b jsonb;
BEGIN
    IF NEW.kind = 'org.settings' THEN
        b := convert_from(NEW.body, 'UTF8')::jsonb -> 'body';
        INSERT INTO org_settings (org_id, time_zone, books_open, entry_idx)
        VALUES (NEW.org_id, b ->> 'time_zone', (b ->> 'books_open')::date, NEW.idx)
        ON CONFLICT (org_id) DO UPDATE
            SET time_zone = EXCLUDED.time_zone, books_open = EXCLUDED.books_open,
                entry_idx = EXCLUDED.entry_idx
            WHERE org_settings.entry_idx < EXCLUDED.entry_idx;
    ELSE
        INSERT INTO value_dates (org_id, entry_idx, value_on)
        VALUES (NEW.org_id, NEW.idx, entry_value_date(NEW.kind, NEW.created_at, NEW.body));
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION entries_project_calendar IS 'Projects org.settings entries into org_settings and money entries into value_dates, in the inserting transaction.';

CREATE TRIGGER entries_project_calendar AFTER INSERT ON entries FOR EACH ROW
    WHEN (NEW.kind IN ('org.settings', 'donation', 'disbursement', 'transfer', 'fee', 'correction'))
    EXECUTE FUNCTION entries_project_calendar();

INSERT INTO value_dates (org_id, entry_idx, value_on)
SELECT e.org_id, e.idx, entry_value_date(e.kind, e.created_at, e.body) FROM entries e
WHERE e.kind IN ('donation', 'disbursement', 'transfer', 'fee', 'correction');

REVOKE ALL ON org_settings, value_dates FROM PUBLIC;
REVOKE ALL ON FUNCTION entries_project_calendar() FROM PUBLIC;
GRANT SELECT ON org_settings, value_dates TO ledger_writer, ledger_reader;
