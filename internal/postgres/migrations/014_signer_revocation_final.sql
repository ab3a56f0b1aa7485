-- A revoked signer stays revoked, whoever asks (the application's role
-- included): its key version must never sign again.
CREATE FUNCTION signers_revocation_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'revoked' AND NEW.status <> 'revoked' THEN
        RAISE EXCEPTION 'signer % is revoked: a revocation is final', OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER signers_revocation_is_final BEFORE UPDATE ON signers
    FOR EACH ROW EXECUTE FUNCTION signers_revocation_is_final();
