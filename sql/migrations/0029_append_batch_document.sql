-- 0029: a group-commit batch sent as one JSON document instead of 45 array parameters
-- (issue 19 item 6: the server's CPU per donation).
--
-- append_batch_rows (0026) takes each column of each table as an array parameter. asyncpg
-- encodes such an array element by element, and for every element asks whether it is itself
-- an array (an isinstance check against collections.abc.Iterable and Sized, a Python frame
-- each): about 40 elements per donation, measured as 6.6% of the server's instructions per
-- donation, and more with the encoding itself. The writer now encodes the same columns as one
-- JSON object (msgspec, in C), and PostgreSQL turns it back into the same typed arrays with
-- json_populate_record (one C pass) and calls append_batch_rows with them: one function
-- still writes every batch, with the same statements, checks, triggers and result.
--
-- The object's keys are append_batch_rows's parameter names after p_org and p_old_size; bytea
-- values are text in PostgreSQL's hex form ('\x0a1b...'), timestamps RFC 3339 with their
-- offset. A document with a key missing, or with entries that do not match the head it
-- moves, is refused before anything is written.

CREATE TYPE append_batch_document AS (
    e_idx bigint[], e_kind text[], e_created_at timestamptz[], e_body bytea[],
    e_prev_hash bytea[], e_entry_hash bytea[], e_leaf_hash bytea[],
    n_level smallint[], n_idx bigint[], n_hash bytea[],
    h_size bigint, h_hash bytea, h_last_time timestamptz, h_frontier bytea[],
    m_entry_idx bigint[], m_kind text[], m_fund text[], m_counterparty text[],
    m_currency text[], m_amount bigint[], m_reference text[],
    p_entry_idx bigint[], p_line smallint[], p_account text[], p_currency text[], p_amount bigint[],
    k_key text[], k_request_hash bytea[], k_status smallint[], k_response bytea[],
    d_donation_idx bigint[], d_email_lookup bytea[], d_phone_lookup bytea[], d_salt bytea[],
    d_personal text[],
    g_gateway text[], g_payment_id text[], g_event text[], g_kind text[], g_fund text[],
    g_currency text[], g_gross bigint[], g_refunded bigint[], g_channel text[],
    g_occurred_at timestamptz[], g_body_sha256 bytea[], g_body bytea[]
);
COMMENT ON TYPE append_batch_document IS
    'The arguments of append_batch_rows after the organization and the old size, as append_batch_document_rows reads them from one JSON object.';

CREATE FUNCTION append_batch_document_rows(p_org bigint, p_old_size bigint, p_doc json)
RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    d append_batch_document := json_populate_record(NULL::append_batch_document, p_doc);
BEGIN
    -- Every key is there (an empty array where a batch has no such rows), and the entries are
    -- as many as the head moves by: anything else is a writer's bug, refused before a write.
    IF num_nulls(
        d.e_idx, d.e_kind, d.e_created_at, d.e_body, d.e_prev_hash, d.e_entry_hash,
        d.e_leaf_hash, d.n_level, d.n_idx, d.n_hash, d.h_size, d.h_hash, d.h_last_time,
        d.h_frontier, d.m_entry_idx, d.m_kind, d.m_fund, d.m_counterparty, d.m_currency,
        d.m_amount, d.m_reference, d.p_entry_idx, d.p_line, d.p_account, d.p_currency,
        d.p_amount, d.k_key, d.k_request_hash, d.k_status, d.k_response, d.d_donation_idx,
        d.d_email_lookup, d.d_phone_lookup, d.d_salt, d.d_personal, d.g_gateway, d.g_payment_id,
        d.g_event, d.g_kind, d.g_fund, d.g_currency, d.g_gross, d.g_refunded, d.g_channel,
        d.g_occurred_at, d.g_body_sha256, d.g_body) > 0
       OR cardinality(d.e_idx) <> d.h_size - p_old_size THEN
        RAISE EXCEPTION 'append_batch_document_rows: a key is missing or the entries do not match the head'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN append_batch_rows(
        p_org, p_old_size,
        d.e_idx, d.e_kind, d.e_created_at, d.e_body, d.e_prev_hash, d.e_entry_hash,
        d.e_leaf_hash, d.n_level, d.n_idx, d.n_hash, d.h_size, d.h_hash, d.h_last_time,
        d.h_frontier, d.m_entry_idx, d.m_kind, d.m_fund, d.m_counterparty, d.m_currency,
        d.m_amount, d.m_reference, d.p_entry_idx, d.p_line, d.p_account, d.p_currency,
        d.p_amount, d.k_key, d.k_request_hash, d.k_status, d.k_response, d.d_donation_idx,
        d.d_email_lookup, d.d_phone_lookup, d.d_salt, d.d_personal, d.g_gateway, d.g_payment_id,
        d.g_event, d.g_kind, d.g_fund, d.g_currency, d.g_gross, d.g_refunded, d.g_channel,
        d.g_occurred_at, d.g_body_sha256, d.g_body);
END $$;
COMMENT ON FUNCTION append_batch_document_rows IS
    'append_batch_rows with its arguments after p_org and p_old_size in one JSON object (the keys of type append_batch_document): the same writes and result.';
