-- The public version of a signed reply is stored sealed too until it is
-- published (it holds the reply's words: internal/sealed seals it, bound to
-- the reply, and opens it for the public register once the agency
-- publishes), so sign_reply is given its size as well. Otherwise as in
-- migration 023.
DROP FUNCTION sign_reply(uuid, uuid, text, text, integer, integer, bytea, text, text, uuid, uuid, text, integer, bytea,
    timestamptz, boolean, bytea, text, text, integer);
CREATE FUNCTION sign_reply(
    p_reply uuid, p_petition uuid, p_agency text, p_number text, p_year integer, p_seq integer,
    p_pdf bytea, p_sha256 text, p_binding text, p_signer uuid, p_signed_by uuid, p_key_name text,
    p_key_version integer, p_certificate bytea, p_signed_at timestamptz, p_timestamped boolean,
    p_public_pdf bytea, p_public_sha256 text, p_public_binding text, p_size integer, p_public_size integer
) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    r replies%ROWTYPE;
    g signers%ROWTYPE;
BEGIN
    SELECT * INTO r FROM replies WHERE id = p_reply FOR UPDATE;
    IF NOT FOUND OR r.status <> 'approved' OR r.petition_id <> p_petition OR r.agency_code <> p_agency THEN
        RAISE EXCEPTION 'sign_reply: reply % is not an approved reply of this petition and agency', p_reply
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT * INTO g FROM signers WHERE id = p_signer FOR SHARE;
    IF NOT FOUND OR g.status <> 'active' OR g.account_id <> p_signed_by OR g.key_name <> p_key_name
        OR g.key_version <> p_key_version OR g.certificate <> p_certificate THEN
        RAISE EXCEPTION 'sign_reply: not the active key version and certificate of the signing account'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM accounts a JOIN account_roles ar ON ar.account_id = a.id
            WHERE a.id = p_signed_by AND a.disabled_at IS NULL AND a.agency_code = p_agency AND ar.role = 'signer') THEN
        RAISE EXCEPTION 'sign_reply: the signing account is not an active signer of the agency'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    INSERT INTO signed_replies (reply_id, petition_id, agency_code, number, year, seq, pdf, sha256, binding, size,
        signer_id, signed_by, key_name, key_version, certificate, signed_at, timestamped)
    VALUES (p_reply, p_petition, p_agency, p_number, p_year, p_seq, p_pdf, p_sha256, p_binding, p_size,
        p_signer, p_signed_by, p_key_name, p_key_version, p_certificate, p_signed_at, p_timestamped);
    IF p_public_pdf IS NOT NULL THEN
        INSERT INTO public_replies (reply_id, pdf, sha256, binding, size)
        VALUES (p_reply, p_public_pdf, p_public_sha256, p_public_binding, p_public_size);
    END IF;
    UPDATE replies SET status = 'signed', updated_at = p_signed_at WHERE id = p_reply;
END $$;

REVOKE ALL ON FUNCTION sign_reply FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sign_reply TO {{.app_role}};
