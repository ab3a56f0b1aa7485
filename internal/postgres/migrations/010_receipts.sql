-- Agency service keys: one row per Transit key version of an agency's own
-- key (pakn-agency-<code>), with the certificate Vault's PKI issued for it.
-- paknd signs an agency's receipts only with its active row, after the
-- signature Vault returns verifies with this certificate. Operators add
-- rows (pakn agency-key); paknd only reads them.
CREATE TABLE agency_keys (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agency_code text NOT NULL REFERENCES agencies (code),
    key_name    text NOT NULL CHECK (key_name ~ '^pakn-agency-[a-z0-9][a-z0-9-]+$'),
    key_version integer NOT NULL CHECK (key_version >= 1),
    key_type    text NOT NULL CHECK (key_type IN ('ecdsa-p256', 'rsa-2048')),
    certificate bytea NOT NULL,
    chain_pem   text NOT NULL,
    status      text NOT NULL CHECK (status IN ('active', 'retired', 'revoked')),
    created_at  timestamptz NOT NULL,
    UNIQUE (key_name, key_version)
);
CREATE UNIQUE INDEX agency_keys_one_active ON agency_keys (agency_code) WHERE status = 'active';

-- Signed receipts: one per petition, the exact bytes issued, never changed.
CREATE TABLE signed_receipts (
    id            uuid PRIMARY KEY,
    petition_id   uuid NOT NULL UNIQUE REFERENCES petitions (id),
    agency_code   text NOT NULL REFERENCES agencies (code),
    pdf           bytea NOT NULL,
    sha256        text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size          integer NOT NULL,
    agency_key_id uuid NOT NULL REFERENCES agency_keys (id),
    certificate   bytea NOT NULL,
    signed_at     timestamptz NOT NULL
);

CREATE FUNCTION signed_receipts_immutable() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'signed receipts are immutable';
END $$;
CREATE TRIGGER signed_receipts_no_update_delete
    BEFORE UPDATE OR DELETE ON signed_receipts
    FOR EACH ROW EXECUTE FUNCTION signed_receipts_immutable();
CREATE TRIGGER signed_receipts_no_truncate
    BEFORE TRUNCATE ON signed_receipts
    FOR EACH STATEMENT EXECUTE FUNCTION signed_receipts_immutable();

REVOKE ALL ON agency_keys, signed_receipts FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON agency_keys TO {{.app_role}};
GRANT SELECT, INSERT ON signed_receipts TO {{.app_role}};

-- A receipt's verification code, like a reply's: the last group of its id.
CREATE UNIQUE INDEX signed_receipts_short_code ON signed_receipts ((right(id::text, 12)));
