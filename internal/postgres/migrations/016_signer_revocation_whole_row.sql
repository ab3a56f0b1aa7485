-- A revoked signer's row changes no more at all (not only its status): its
-- key version and certificate cannot be moved to another row and made to
-- sign again, and a repeated revocation does not rewrite its time.
CREATE OR REPLACE FUNCTION signers_revocation_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'revoked' AND NEW IS DISTINCT FROM OLD THEN
        RAISE EXCEPTION 'signer % is revoked: a revocation is final', OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
