-- The public register's search: each signed reply's number, agency and
-- words (summary, answer, legal basis), folded to lower case without
-- diacritics by paknd when it signs (internal/petition.Fold), so a search
-- typed with or without accents finds it. Rows signed before this
-- migration get their words folded to lower case only.
CREATE TABLE register_search (
    reply_id   uuid PRIMARY KEY REFERENCES signed_replies (reply_id),
    search_tsv tsvector NOT NULL
);
CREATE INDEX register_search_tsv ON register_search USING gin (search_tsv);
INSERT INTO register_search (reply_id, search_tsv)
    SELECT d.reply_id, to_tsvector('simple', lower(d.number || ' ' || (r.content->>'summary') || ' ' || (r.content->>'answer')))
    FROM signed_replies d JOIN replies r ON r.id = d.reply_id;
-- Listing newest first.
CREATE INDEX signed_replies_signed_at ON signed_replies (signed_at DESC, reply_id DESC);

REVOKE ALL ON register_search FROM PUBLIC;
GRANT SELECT, INSERT ON register_search TO {{.app_role}};
