-- Attachments are stored in chunks of at most 512 KiB, written as the
-- upload is read from its spool file and read back the same way, so no
-- attachment is ever held whole in paknd's memory or sent to PostgreSQL as
-- one giant value. Existing attachments are split into chunks.
CREATE TABLE petition_attachment_chunks (
    attachment_id uuid NOT NULL REFERENCES petition_attachments (id),
    seq           integer NOT NULL CHECK (seq >= 0),
    data          bytea NOT NULL CHECK (octet_length(data) BETWEEN 1 AND 524288),
    PRIMARY KEY (attachment_id, seq)
);

INSERT INTO petition_attachment_chunks (attachment_id, seq, data)
SELECT a.id, s.seq, substring(a.data FROM s.seq * 524288 + 1 FOR 524288)
FROM petition_attachments a,
     generate_series(0, (octet_length(a.data) - 1) / 524288) AS s(seq);

ALTER TABLE petition_attachments DROP COLUMN data;

REVOKE ALL ON petition_attachment_chunks FROM PUBLIC;
GRANT SELECT, INSERT ON petition_attachment_chunks TO {{.app_role}};
