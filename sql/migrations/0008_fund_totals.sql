-- 0008: running totals per fund and kind, so reading a fund no longer re-sums its history.

CREATE TABLE fund_totals (
    org_id   bigint NOT NULL REFERENCES organizations (id),
    fund     text NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('donation', 'disbursement', 'transfer', 'fee', 'transfer_in')),
    amount   bigint NOT NULL,
    PRIMARY KEY (org_id, fund, kind)
);
COMMENT ON TABLE fund_totals IS 'Per fund and kind, the sum of money entries net of corrections (transfer_in: transfers into the fund); updated in the append transaction, a cache of money_entries.';
COMMENT ON COLUMN fund_totals.org_id IS 'Owner.';
COMMENT ON COLUMN fund_totals.fund IS 'Fund code.';
COMMENT ON COLUMN fund_totals.kind IS 'donation, disbursement, transfer (out), fee or transfer_in.';
COMMENT ON COLUMN fund_totals.amount IS 'Minor units.';

INSERT INTO fund_totals (org_id, fund, kind, amount)
SELECT org_id, fund, kind, sum(amount) FROM money_entries
WHERE corrected_by IS NULL AND kind <> 'correction' GROUP BY org_id, fund, kind
UNION ALL
SELECT org_id, counterparty, 'transfer_in', sum(amount) FROM money_entries
WHERE kind = 'transfer' AND corrected_by IS NULL GROUP BY org_id, counterparty;

REVOKE ALL ON fund_totals FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON fund_totals TO ledger_writer;
GRANT SELECT ON fund_totals TO ledger_reader;
