-- 0013: a donation reference is free again once the donation that used it is reversed.
--
-- A bank transfer recorded with the wrong amount is reversed by a correction; the charity
-- then records the right amount with the same bank reference. Until now the unique index
-- money_entries_reference refused that forever. The rule is now: at most one donation per
-- (organization, reference) that no correction reverses. A reversed donation stays in the
-- log and in money_entries (corrected_by set), and its reference may be used again.
--
-- The constraint is DEFERRABLE INITIALLY DEFERRED because a batch (or a restore from an
-- export) may insert the new donation before the same batch marks the old one corrected
-- (ledger.projections.write_batch writes money rows, then corrections, whose trigger from
-- migration 0012 sets corrected_by): the check that counts is the one at commit. It is an exclusion constraint because a partial
-- UNIQUE constraint cannot be deferred; with equality operators it is the same rule, and its
-- btree index answers existing_donation_references' probes.

DROP INDEX money_entries_reference;
ALTER TABLE money_entries ADD CONSTRAINT money_entries_reference
    EXCLUDE USING btree (org_id WITH =, reference WITH =)
    WHERE (reference IS NOT NULL AND kind = 'donation' AND corrected_by IS NULL)
    DEFERRABLE INITIALLY DEFERRED;
COMMENT ON CONSTRAINT money_entries_reference ON money_entries IS
    'At most one donation per organization and reference that no correction reverses (checked at commit).';
COMMENT ON COLUMN money_entries.reference IS
    'External reference; per organization, at most one unreversed donation has it.';

CREATE OR REPLACE FUNCTION existing_donation_references(p_org bigint, p_refs text[])
RETURNS SETOF text LANGUAGE sql STABLE
SET enable_seqscan = off SET enable_bitmapscan = off
AS $$
    SELECT m.reference
    FROM unnest(p_refs) AS want (reference)
    CROSS JOIN LATERAL (
        SELECT reference FROM money_entries
        WHERE org_id = p_org AND kind = 'donation' AND reference IS NOT NULL
          AND corrected_by IS NULL AND reference = want.reference
        LIMIT 1
    ) m
$$;
COMMENT ON FUNCTION existing_donation_references(bigint, text[]) IS
    'Which of these donation references a donation that is not reversed holds (index probes only).';
