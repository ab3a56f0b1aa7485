-- A reply's content (drafts and signed) is stored sealed (internal/sealed:
-- the envelope scheme, bound to the reply) in content_enc, content left
-- NULL; its outcome, a public category of answer, stays in clear for the
-- register's filter. The register's search words become a blind index
-- (keyed hashes) instead of a tsvector, which held them in clear; entries
-- indexed before this version are no longer found by word (development
-- data only: make clean-data starts afresh).
ALTER TABLE replies ADD COLUMN content_enc text;
ALTER TABLE replies ADD COLUMN outcome text;
ALTER TABLE replies ALTER COLUMN content DROP NOT NULL;
ALTER TABLE replies ADD CONSTRAINT replies_content_once CHECK ((content IS NULL) <> (content_enc IS NULL));

ALTER TABLE register_search ADD COLUMN search_tokens bigint[] NOT NULL DEFAULT '{}';
CREATE INDEX register_search_tokens ON register_search USING gin (search_tokens);
DROP INDEX register_search_tsv;
ALTER TABLE register_search DROP COLUMN search_tsv;
