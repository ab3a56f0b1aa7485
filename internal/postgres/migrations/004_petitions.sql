-- Petitions and their lifecycle. Personal data of the petitioner is stored
-- only encrypted (petitioner_enc: AES-256-GCM under a data key wrapped by the
-- Vault Transit key pakn-pii); the lookup secret only as a hash. search_tsv
-- indexes title and body folded to lower case without diacritics, so
-- "thu tuc" finds "thủ tục" and the other way round.
CREATE TABLE petitions (
    id                 uuid PRIMARY KEY,
    tracking_code      text NOT NULL UNIQUE CHECK (tracking_code ~ '^PAKN-[0-9]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$'),
    lookup_hash        bytea NOT NULL CHECK (octet_length(lookup_hash) = 32),
    state              text NOT NULL CHECK (state IN ('received', 'accepted', 'rejected', 'in_progress', 'reply_drafted',
                           'reply_approved', 'reply_signed', 'published', 'closed')),
    agency_code        text NOT NULL REFERENCES agencies (code),
    category           text NOT NULL CHECK (category IN ('official_conduct', 'regulation', 'proposal', 'other')),
    petitioner_kind    text NOT NULL CHECK (petitioner_kind IN ('individual', 'organisation')),
    petitioner_enc     text NOT NULL CHECK (petitioner_enc LIKE 'pakn:env1:%'),
    title              text NOT NULL,
    body               text NOT NULL,
    procedure_ref      text NOT NULL DEFAULT '',
    legal_ref          text NOT NULL DEFAULT '',
    channel            text NOT NULL CHECK (channel IN ('online', 'in_person', 'phone', 'post')),
    entered_by         uuid REFERENCES accounts (id),
    received_at        timestamptz NOT NULL,
    last_public_update timestamptz NOT NULL,
    next_update_due    date NOT NULL,
    closed_at          timestamptz,
    reopen_count       integer NOT NULL DEFAULT 0,
    reject_reason      text,
    duplicate_of       text,
    search_tsv         tsvector NOT NULL,
    updated_at         timestamptz NOT NULL
);
-- Staff lists: an agency's petitions, newest first (state and category are
-- filtered on the way); deadline lists and reports: open ones by due date.
CREATE INDEX petitions_agency_received ON petitions (agency_code, received_at DESC);
CREATE INDEX petitions_agency_due ON petitions (agency_code, next_update_due) WHERE state NOT IN ('rejected', 'closed');
CREATE INDEX petitions_search ON petitions USING gin (search_tsv);

-- The timeline: every transition, transfer and public update (the receipt
-- itself is read from the petition row). Public rows
-- are shown to the petitioner.
CREATE TABLE petition_events (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    petition_id uuid NOT NULL REFERENCES petitions (id),
    at          timestamptz NOT NULL,
    kind        text NOT NULL,
    from_state  text NOT NULL DEFAULT '',
    to_state    text NOT NULL DEFAULT '',
    from_agency text NOT NULL DEFAULT '',
    to_agency   text NOT NULL DEFAULT '',
    actor       text NOT NULL,
    public      boolean NOT NULL,
    note        text NOT NULL DEFAULT '',
    PRIMARY KEY (petition_id, id)
);

CREATE TABLE petition_attachments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    petition_id uuid NOT NULL REFERENCES petitions (id),
    position    integer NOT NULL,
    name        text NOT NULL,
    media_type  text NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png',
                    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
                    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')),
    size        bigint NOT NULL CHECK (size BETWEEN 1 AND 10485760),
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    data        bytea NOT NULL,
    UNIQUE (petition_id, position)
);

-- Idempotency-Key of submissions: a retried request gets the first answer
-- (kept encrypted: it holds the lookup secret) and never a second petition.
CREATE TABLE idempotency_keys (
    key          text PRIMARY KEY CHECK (octet_length(key) BETWEEN 1 AND 300),
    request_hash bytea NOT NULL,
    petition_id  uuid REFERENCES petitions (id),
    response_enc text,
    created_at   timestamptz NOT NULL
);

REVOKE ALL ON petitions, petition_events, petition_attachments, idempotency_keys FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON petitions TO {{.app_role}};
GRANT SELECT, INSERT ON petition_events, petition_attachments TO {{.app_role}};
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO {{.app_role}};
