-- audit_head_is lets a writer that knows the chain's head (this process
-- committed the last event) append after it in the round trip that takes
-- the chain's lock: called under the lock, it raises PKN01 (pakn's own code)
-- unless the last event is (expected_seq, expected_hash), or the log is
-- empty and expected_seq is 0; the transaction is then aborted, nothing of
-- it written, and the writer reads the head and writes again. It only
-- reads: what it guards is a writer's knowledge, not the chain, whose
-- order the primary key and the lock keep whoever writes.
CREATE FUNCTION audit_head_is(expected_seq bigint, expected_hash bytea) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    head_seq  bigint;
    head_hash bytea;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM audit_events ORDER BY seq DESC LIMIT 1;
    IF coalesce(head_seq, 0) <> expected_seq OR head_hash IS DISTINCT FROM expected_hash THEN
        RAISE EXCEPTION 'the audit chain''s head is not the one this writer expected'
            USING ERRCODE = 'PKN01';
    END IF;
END;
$$;

REVOKE ALL ON FUNCTION audit_head_is FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_head_is TO {{.app_role}};
