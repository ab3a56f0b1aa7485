-- Archive time-stamps (pakn archive-timestamp): a signed document renewed
-- with a new document time-stamp, before the newest one's certificate
-- expires, is a new version of it. Every version is kept (each verifies;
-- the register finds them all by the signature's binding, which a
-- time-stamp does not change), and the newest is served. A version is
-- sealed like the document it renews (internal/sealed). id is the reply's,
-- or for a receipt its petition's.
CREATE TABLE document_versions (
    kind        text NOT NULL CHECK (kind IN ('reply', 'public_reply', 'receipt')),
    document_id uuid NOT NULL,
    version     integer NOT NULL CHECK (version >= 2),
    pdf         bytea NOT NULL,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size        integer NOT NULL,
    stamped_at  timestamptz NOT NULL,
    PRIMARY KEY (kind, document_id, version)
);

CREATE FUNCTION document_versions_immutable() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'document versions are immutable';
END $$;
CREATE TRIGGER document_versions_no_update_delete
    BEFORE UPDATE OR DELETE ON document_versions
    FOR EACH ROW EXECUTE FUNCTION document_versions_immutable();

GRANT SELECT, INSERT ON document_versions TO {{.app_role}};
