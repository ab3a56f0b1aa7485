-- Signers: one row per Transit key version with the certificate Vault's PKI
-- issued for it. paknd signs only with an active row, and only after the
-- signature Vault returns verifies with this certificate.
CREATE TABLE signers (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id  uuid NOT NULL REFERENCES accounts (id),
    full_name   text NOT NULL CHECK (char_length(full_name) BETWEEN 2 AND 120),
    title       text NOT NULL CHECK (char_length(title) BETWEEN 2 AND 120),
    on_behalf   text NOT NULL DEFAULT '' CHECK (char_length(on_behalf) <= 120),
    key_name    text NOT NULL CHECK (key_name ~ '^pakn-signer-[a-z0-9][a-z0-9-]+$'),
    key_version integer NOT NULL CHECK (key_version >= 1),
    key_type    text NOT NULL CHECK (key_type IN ('ecdsa-p256', 'rsa-2048')),
    certificate bytea NOT NULL,
    chain_pem   text NOT NULL,
    serial      text NOT NULL,
    not_after   timestamptz NOT NULL,
    status      text NOT NULL CHECK (status IN ('active', 'retired', 'revoked')),
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    UNIQUE (key_name, key_version)
);
CREATE UNIQUE INDEX signers_one_active ON signers (account_id) WHERE status = 'active';

-- Replies: structured drafts, reviewed, then signed. A correction is a new
-- reply that supersedes a signed one.
CREATE TABLE replies (
    id             uuid PRIMARY KEY,
    petition_id    uuid NOT NULL REFERENCES petitions (id),
    agency_code    text NOT NULL REFERENCES agencies (code),
    status         text NOT NULL CHECK (status IN ('draft', 'sent_back', 'approved', 'signed')),
    content        jsonb NOT NULL,
    supersedes     uuid REFERENCES replies (id),
    drafted_by     uuid NOT NULL REFERENCES accounts (id),
    drafted_at     timestamptz NOT NULL,
    reviewed_by    uuid REFERENCES accounts (id),
    reviewed_at    timestamptz,
    review_comment text NOT NULL DEFAULT '',
    updated_at     timestamptz NOT NULL
);
CREATE INDEX replies_petition ON replies (petition_id, drafted_at);
-- At most one reply of a petition is being worked on at a time.
CREATE UNIQUE INDEX replies_one_open ON replies (petition_id) WHERE status IN ('draft', 'approved');
-- A signed reply is superseded at most once.
CREATE UNIQUE INDEX replies_supersede_once ON replies (supersedes) WHERE status = 'signed';

-- Document numbers: a yearly sequence per agency, as in a dispatch register.
CREATE TABLE reply_numbers (
    agency_code text NOT NULL REFERENCES agencies (code),
    year        integer NOT NULL,
    last        integer NOT NULL,
    PRIMARY KEY (agency_code, year)
);

-- Signed replies: the exact bytes issued, never changed.
CREATE TABLE signed_replies (
    reply_id    uuid PRIMARY KEY REFERENCES replies (id),
    petition_id uuid NOT NULL REFERENCES petitions (id),
    agency_code text NOT NULL REFERENCES agencies (code),
    number      text NOT NULL,
    year        integer NOT NULL,
    seq         integer NOT NULL,
    pdf         bytea NOT NULL,
    sha256      text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size        integer NOT NULL,
    signer_id   uuid NOT NULL REFERENCES signers (id),
    signed_by   uuid NOT NULL REFERENCES accounts (id),
    key_name    text NOT NULL,
    key_version integer NOT NULL,
    certificate bytea NOT NULL,
    signed_at   timestamptz NOT NULL,
    timestamped boolean NOT NULL,
    UNIQUE (agency_code, year, seq)
);

CREATE FUNCTION signed_replies_immutable() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'signed replies are immutable';
END $$;
CREATE TRIGGER signed_replies_no_update_delete
    BEFORE UPDATE OR DELETE ON signed_replies
    FOR EACH ROW EXECUTE FUNCTION signed_replies_immutable();
CREATE TRIGGER signed_replies_no_truncate
    BEFORE TRUNCATE ON signed_replies
    FOR EACH STATEMENT EXECUTE FUNCTION signed_replies_immutable();

-- A signed reply's row does not change either.
CREATE FUNCTION replies_signed_immutable() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'signed' THEN
        RAISE EXCEPTION 'a signed reply is immutable; draft a correction instead';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER replies_signed_no_update
    BEFORE UPDATE ON replies
    FOR EACH ROW EXECUTE FUNCTION replies_signed_immutable();

REVOKE ALL ON signers, replies, reply_numbers, signed_replies FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON signers, replies, reply_numbers TO {{.app_role}};
GRANT SELECT, INSERT ON signed_replies TO {{.app_role}};
