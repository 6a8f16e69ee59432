-- Reads of the tax receipts and reports (ledger/store/taxes.py; issue 18). Nothing here
-- writes: a tax report holds donors' personal data and is never stored or logged.

-- name: tax_report_donations
-- The donations to funds $4 whose value date is in [$2, $3), among the entries below tree
-- size $5, by value date then index (value_dates_by_date, migration 0014): each with its
-- entry's canonical bytes, its donor record (personal data off the log; NULL when none was
-- given, erased_at set once erased) and the correction below $5 that reversed it, if any.
SELECT v.value_on, e.idx, e.body,
       d.donation_idx IS NOT NULL AS has_record, d.personal::text AS personal, d.erased_at,
       c.entry_idx AS reversed_by, vc.value_on AS reversed_on
FROM value_dates v
JOIN money_entries m ON m.org_id = v.org_id AND m.entry_idx = v.entry_idx
JOIN entries e ON e.org_id = v.org_id AND e.idx = v.entry_idx
LEFT JOIN donor_records d ON d.org_id = v.org_id AND d.donation_idx = v.entry_idx
LEFT JOIN corrections c ON c.org_id = v.org_id AND c.corrected = v.entry_idx AND c.entry_idx < $5
LEFT JOIN value_dates vc ON vc.org_id = c.org_id AND vc.entry_idx = c.entry_idx
WHERE v.org_id = $1 AND v.value_on >= $2 AND v.value_on < $3 AND v.entry_idx < $5
  AND m.kind = 'donation' AND m.fund = ANY($4::text[])
ORDER BY v.value_on, v.entry_idx;
