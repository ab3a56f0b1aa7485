-- The tamper-evident audit log. Every security-relevant action appends one
-- row in the same transaction as the action. Rows are chained: hash is
-- SHA-256(prev_hash || canonical encoding of the row's fields), see
-- internal/audit. No one may change or remove a row: triggers refuse UPDATE,
-- DELETE and TRUNCATE for every role, and the application role is granted
-- only INSERT and SELECT.
CREATE TABLE audit_events (
    seq          bigint      PRIMARY KEY CHECK (seq > 0),
    occurred_at  timestamptz NOT NULL,
    actor        text        NOT NULL CHECK (octet_length(actor) BETWEEN 1 AND 256),
    role         text        NOT NULL CHECK (octet_length(role) <= 256),
    action       text        NOT NULL CHECK (octet_length(action) BETWEEN 1 AND 256),
    object_type  text        NOT NULL CHECK (octet_length(object_type) <= 256),
    object_id    text        NOT NULL CHECK (octet_length(object_id) <= 256),
    outcome      text        NOT NULL CHECK (outcome IN ('success', 'denied', 'failure')),
    request_id   text        NOT NULL CHECK (octet_length(request_id) <= 256),
    client_hash  text        NOT NULL CHECK (octet_length(client_hash) <= 256),
    -- json (not jsonb) keeps the exact bytes that were hashed.
    details      json        NOT NULL,
    prev_hash    bytea       NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash         bytea       NOT NULL UNIQUE CHECK (octet_length(hash) = 32)
);

CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);
CREATE INDEX audit_events_object ON audit_events (object_type, object_id);

CREATE FUNCTION audit_events_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_immutable();

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_immutable();

REVOKE ALL ON audit_events FROM PUBLIC;
GRANT SELECT, INSERT ON audit_events TO {{.app_role}};
